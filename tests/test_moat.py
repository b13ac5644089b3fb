"""econ.moat: a GPU vendor's margin in a token's cost and the all-to-all bound, against closed
forms and DeepSeek's published ISCA'25 figure."""
import numpy as np
import pandas as pd
import pytest

import econ

OWNING = dict(life_years=5.0, cost_of_capital_frac=0.1, pue_ratio=1.25,
              electricity_usd_per_kwh=0.0806, hosting_opex_frac=0.08)
NODE = dict(purchase_usd=32_000.0, tdp_w=700.0, n_devices=8, system_overhead_frac=0.35,
            power_overhead_frac=0.82)


def test_cost_parts_add_up_to_the_owned_node_and_split_the_capital():
    parts = econ.vendor_cost_parts(**NODE, **OWNING)
    whole = econ.owned_usd_per_hour("h200-sxm", OWNING["life_years"],
                                    OWNING["cost_of_capital_frac"], OWNING["pue_ratio"],
                                    OWNING["electricity_usd_per_kwh"], OWNING["hosting_opex_frac"],
                                    system_overhead_frac=0.35, power_overhead_frac=0.82)
    assert parts["node_usd_per_hour"].sum() == pytest.approx(whole.system_usd_per_hour, rel=1e-9)
    assert parts["share_frac"].sum() == pytest.approx(1.0)
    # the two capital parts split the node's price 1 : 0.35 when the vendor sells only the GPUs
    cap = parts.set_index("part")["node_usd_per_hour"]
    assert cap.iloc[0] / cap.iloc[1] == pytest.approx(1 / 0.35)
    all_vendor = econ.vendor_cost_parts(**NODE, **OWNING, vendor_overhead_share_frac=1.0)
    assert all_vendor["node_usd_per_hour"].iloc[1] == 0.0
    assert all_vendor["share_frac"].iloc[0] == pytest.approx(cap.iloc[:2].sum() / cap.sum())


def test_margin_band_of_fixed_assumptions_is_the_closed_form():
    dists = {"server_life_years": 5.0, "cost_of_capital_frac": 0.1, "pue_ratio": 1.25,
             "electricity_usd_per_kwh": 0.0806, "hosting_opex_frac": 0.08, "utilization_frac": 0.5}
    band = econ.margin_compression_band(dists, [0.0, 0.5, 0.75], gross_margin_frac=0.75,
                                        node_tok_per_s=10_000.0, n_samples=20, **NODE)
    parts = econ.vendor_cost_parts(**NODE, **OWNING | {"electricity_usd_per_kwh": 0.0806})
    today = parts["node_usd_per_hour"].sum() / 0.5 / (10_000.0 * 3600) * 1e6
    share = parts["share_frac"].iloc[0]
    b = band.set_index("new_gross_margin_frac")
    assert b.loc[0.75, "p50"] == pytest.approx(today, rel=1e-9)  # the margin of today
    # sold at cost: the vendor's capital falls to (1 - 0.75) of itself
    assert b.loc[0.0, "p50"] == pytest.approx(today * (1 - share * 0.75), rel=1e-9)
    assert b.loc[0.5, "p5"] == pytest.approx(b.loc[0.5, "p95"])


def test_margin_band_is_a_band_when_the_assumptions_are_uncertain():
    a = econ.data.load("assumptions")
    dists = econ.assumption_triangulars(a, server_life_years=5.0, cost_of_capital_frac=0.1,
                                        pue_ratio=1.25, electricity_usd_per_kwh=0.0806,
                                        hosting_opex_frac=0.08, utilization_frac=0.6)
    band = econ.margin_compression_band(dists, np.linspace(0, 0.8, 5), gross_margin_frac=0.75,
                                        node_tok_per_s=10_000.0, n_samples=2000, seed=1, **NODE)
    assert (band["p5"] < band["p50"]).all() and (band["p50"] < band["p95"]).all()
    assert band["p50"].is_monotonic_increasing  # a higher margin, a dearer token


def test_links_are_per_direction_and_named_with_their_rate():
    links = econ.scaleup_links(["h100-sxm", "h800-sxm"], 0.5, 50e9)
    rate = links.set_index("hardware")["link_bytes_per_s"]
    assert rate["h100-sxm"] == 450e9 and rate["h800-sxm"] == 200e9 and rate[""] == 50e9
    assert links["scaleup"].tolist() == [True, True, False]
    assert "200 GB/s" in links.index[1]
    with pytest.raises(ValueError, match="interconnect"):
        econ.scaleup_links(["cerebras-cs3"], 0.5, 50e9)


def test_isca_tpot_floor_reproduces_deepseeks_published_figure():
    # ISCA'25 §2.3.2: 32 tokens per GPU, 9 experts, hidden "7K", FP8 out, BF16 back, 50 GB/s IB,
    # 61 layers, compute time equal to communication time
    pub = econ.data.load("published").loc["deepseek-v3-decode-tpot-floor-s", "value"]
    per_tok = econ.dispatch_combine_bytes_per_tok(7000, 9, 1.0, 2.0)
    floor = econ.alltoall_tpot_floor_s(61, 32, per_tok, 50e9)
    assert floor == pytest.approx(pub, rel=0.001)
    arr = econ.alltoall_tpot_floor_s(61, np.array([16.0, 32.0]), per_tok, 50e9)
    assert arr[1] == pytest.approx(2 * arr[0])
    s = econ.alltoall_tpot_floor_s(pd.Series([61.0]), 32, per_tok, 50e9)
    assert isinstance(s, pd.Series)
    with pytest.raises(ValueError, match="link_bytes_per_s"):
        econ.alltoall_tpot_floor_s(61, 32, per_tok, 0.0)


def test_alltoall_bound_moves_the_closed_form_bytes_over_each_link():
    links = econ.scaleup_links(["h100-sxm", "h800-sxm"], 0.5, 50e9)
    b = econ.moe_alltoall_bound("deepseek-v3", "h800-sxm", "fp8", [64.0, 1e6], 4989.0, links,
                                n_devices=16)
    assert set(b["n_sequences"]) == {64.0}  # a batch that does not fit is dropped
    # V3: 7,168 hidden x (8 routed + 1 shared) x (1 + 2) bytes, 58 MoE layers, 4 tokens per GPU
    rate = links["link_bytes_per_s"].to_numpy()
    np.testing.assert_allclose(b["comm_s"], 64 / 16 * 7168 * 9 * 3 * 58 / rate, rtol=1e-12)
    np.testing.assert_allclose(b["cost_increase_overlap_frac"],
                               np.maximum(b["comm_s"] - b["step_s"], 0) / b["step_s"])
    dense = econ.moe_alltoall_bound("llama-3.1-70b", "h800-sxm", "fp8", 8.0, 4989.0, links,
                                    n_devices=8)
    assert (dense["comm_s"] == 0).all() and (dense["cost_increase_no_overlap_frac"] == 0).all()


def test_stacks_are_compared_with_cublas_on_the_same_shape():
    t = econ.data.load("gpu_timings")
    s = econ.stack_throughput(t, "h100-2026-11-22")
    assert set(s["stack"]) == set(econ.moat.STACK_NAMES.values())
    assert (s.loc[s["stack"] == "cuBLAS via PyTorch", "vs_cublas_ratio"] == 1.0).all()
    rows = econ.stack_result_rows(s, "h100-2026-11-22")
    mean = s.groupby("stack")["vs_cublas_ratio"].mean()
    assert rows[0]["value"] == pytest.approx(mean["Triton (portable)"])
    with pytest.raises(ValueError, match="no bfloat16 gemm rows"):
        econ.stack_throughput(t, "no-such-machine")


def test_margin_rows_follow_the_pricing_closed_forms():
    parts = econ.vendor_cost_parts(**NODE, **OWNING)
    rows = {r["metric"]: r for r in econ.margin_result_rows(
        parts, 0.4, gross_margin_frac=0.75, new_gross_margin_frac=0.5, hardware="h200-sxm",
        subject="m:h200-sxm", n_devices=8, source_url="https://example.org/m")}
    share = parts["share_frac"].iloc[0]
    assert rows["nvidia_margin_share_frac"]["value"] == pytest.approx(share * 0.75)
    # halving the price at 75 % -> 50 % margin takes half the vendor's capital off the cost
    assert rows["compressed_margin_cost_change_frac"]["value"] == pytest.approx(-share / 2)
    assert rows["owned_gpu_usd_per_hour"]["value"] == pytest.approx(
        parts["node_usd_per_hour"].sum() / 8)
    econ.results_frame("demo", list(rows.values()))  # valid rows


def test_jevons_rows_and_their_break_even():
    rows = {(r["metric"], r["subject"]): r["value"]
            for r in econ.jevons_result_rows(0.8, 0.5, 0.5, 1.5)}
    assert rows[("compute_spend_ratio", "compressed-margin:inelastic")] == pytest.approx(0.8 ** 0.5)
    e = rows[("nvidia_breakeven_elasticity_ratio", "compressed-margin")]
    assert econ.vendor_revenue_ratio(0.5, 0.8, e) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="elasticity_low < 1 < elasticity_high"):
        econ.jevons_result_rows(0.8, 0.5, 1.2, 1.5)


def test_interconnect_rows_compare_the_cut_link_with_the_reference():
    links = econ.scaleup_links(["h100-sxm", "h800-sxm"], 0.5, 50e9)
    b = econ.moe_alltoall_bound("deepseek-v3", "h800-sxm", "fp8", 256.0, 4989.0, links,
                                n_devices=16)
    rows = {r["subject"]: r["value"]
            for r in econ.interconnect_result_rows(b, links, "h100-sxm", "h800-sxm", "cut")}
    ratio = b.set_index("link")["comm_to_step_ratio"].to_numpy()
    assert rows["h100-sxm:nvlink"] == pytest.approx(ratio[0])
    assert rows["cut:no-overlap"] == pytest.approx((1 + ratio[1]) / (1 + ratio[0]) - 1)


def test_price_history_row_is_the_earliest_over_the_cheapest():
    h = econ.price_history(econ.data.load("api_prices"), output_frac=0.25,
                           models=["gpt-4", "deepseek-v3"])
    (row,) = econ.price_history_rows(h)
    assert row["subject"] == "openai-gpt-4-vs-deepseek-v3"
    assert row["value"] == pytest.approx((3 * 30 + 60) / 4 / ((3 * 0.27 + 1.10) / 4))


def test_setup_check_asks_for_a_node_gpu_with_a_price():
    ok = dict(model="deepseek-v3", node_hardware="h200-sxm", precision="fp8", n_nodes=1,
              batch_per_node=512, context_tok=4989.0, ep_nodes=2)
    assert econ.setup_problems("nvidia_moat", ok) == []
    bad = econ.setup_problems("nvidia_moat", {**ok, "node_hardware": "b200"})
    assert len(bad) == 1 and "node_hardware b200 has no purchase_usd" in bad[0]


def test_isca_row_uses_deepseeks_own_inputs_and_lands_near_the_published_floor():
    row = econ.isca_tpot_floor_row()
    # 61 layers x 2 x 32 tokens x 7,168 x 9 x (1 + 2) bytes / 50 GB/s
    assert row["value"] == pytest.approx(61 * 2 * 32 * 7168 * 9 * 3 / 50e9, rel=1e-12)
    assert row["value"] == pytest.approx(row["published_value"], rel=0.05)  # paper: "7K"
    econ.results_frame("demo", [row])


def test_vendor_gross_margin_is_the_published_row_and_its_first_source():
    gm, url = econ.vendor_gross_margin()
    pub = econ.data.load("published").loc["nvidia-fy2025-gross-margin"]
    assert gm == pytest.approx(float(pub["value"])) and 0.0 < gm < 1.0
    assert url.startswith("http") and " ; " not in url and url in pub["source_url"]
    with pytest.raises(KeyError, match="no row"):
        econ.vendor_gross_margin("no-such-row")


def test_owned_node_is_the_hardware_row_with_the_overheads():
    node = econ.owned_node("h200-sxm", 0.35, 0.82, 0.5)
    row = econ.data.row("hardware", "h200-sxm")
    assert (node["purchase_usd"], node["tdp_w"], node["n_devices"]) == (
        row["purchase_usd"], row["tdp_w"], row["n_devices_per_node"])
    assert (node["system_overhead_frac"], node["power_overhead_frac"],
            node["vendor_overhead_share_frac"]) == (0.35, 0.82, 0.5)
    parts = econ.vendor_cost_parts(**node, **OWNING)  # what it is for
    assert parts["share_frac"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="purchase_usd"):
        econ.owned_node("b200")


def test_node_decode_rate_is_the_per_device_rate_times_the_node():
    kw = dict(flop_efficiency_frac=0.68, bandwidth_efficiency_frac=0.9)
    # a dense model without MTP: the plain roofline rate of 8 devices
    per_device = econ.decode_tok_per_s("llama-3.1-70b", "h200-sxm", "fp8", 64.0, 4096.0,
                                       n_devices=8, **kw)
    got = econ.node_decode_tok_per_s("llama-3.1-70b", "h200-sxm", "fp8", 64, 4096.0, **kw)
    assert got == pytest.approx(per_device * 8, rel=1e-12)
    # V3 drafts with its MTP module at the published acceptance: faster than without
    acc = float(econ.data.load("published").loc["deepseek-v3-mtp-acceptance", "value"])
    v3 = econ.node_decode_tok_per_s("deepseek-v3", "h200-sxm", "fp8", 256, 4096.0, **kw)
    plain = econ.decode_tok_per_s("deepseek-v3", "h200-sxm", "fp8", 256.0, 4096.0, n_devices=8,
                                  draft_depth=0, **kw) * 8
    mtp = econ.decode_tok_per_s("deepseek-v3", "h200-sxm", "fp8", 256.0, 4096.0, n_devices=8,
                                draft_depth=1, acceptance_frac=acc, **kw) * 8
    assert v3 == pytest.approx(mtp, rel=1e-12) and v3 > plain
    with pytest.raises(ValueError, match="n_nodes"):
        econ.node_decode_tok_per_s("llama-3.1-70b", "h200-sxm", "fp8", 64, 4096.0, n_nodes=0)


OWN = dict(utilization_frac=0.5, server_life_years=5.0, cost_of_capital_frac=0.1, pue_ratio=1.25,
           electricity_usd_per_kwh=0.0806, hosting_opex_frac=0.08)


def test_owned_decode_cost_is_the_node_hour_over_its_useful_tokens():
    parts, usd_per_mtok = econ.owned_decode_cost_parts(NODE, 10_000.0, **OWN)
    hour = econ.vendor_cost_parts(**NODE, **OWNING)["node_usd_per_hour"].sum()
    assert usd_per_mtok == pytest.approx(hour / 0.5 / (10_000.0 * 3600.0) * 1e6, rel=1e-12)
    assert parts["usd_per_mtok"].sum() == pytest.approx(usd_per_mtok, rel=1e-12)
    twice, _ = econ.owned_decode_cost_parts(NODE, 20_000.0, **OWN)
    assert np.allclose(twice["usd_per_mtok"], parts["usd_per_mtok"] / 2, rtol=1e-12)


def test_owned_margin_band_falls_with_the_margin_and_holds_todays_cost_at_todays_margin():
    band = econ.owned_margin_band(NODE, 10_000.0, gross_margin_frac=0.75, n_samples=400, seed=1,
                                  new_gross_margin_frac=[0.0, 0.4, 0.75], **OWN)
    b = band.set_index("new_gross_margin_frac")
    assert b["p50"].is_monotonic_increasing
    assert (b["p5"] <= b["p50"]).all() and (b["p50"] <= b["p95"]).all()
    # the run's values are the modes: today's point cost sits inside the band at today's margin
    _, today = econ.owned_decode_cost_parts(NODE, 10_000.0, **OWN)
    assert b.loc[0.75, "p5"] <= today <= b.loc[0.75, "p95"]
    assert list(econ.owned_margin_band(NODE, 10_000.0, gross_margin_frac=0.75, n_samples=50,
                                       **OWN)["new_gross_margin_frac"]) == list(
        econ.MARGIN_GRID_FRAC)


def test_margin_cut_price_ratios_are_the_closed_forms():
    parts = econ.vendor_cost_parts(**NODE, **OWNING)
    token, vendor = econ.margin_cut_price_ratios(parts, 0.75, 0.5)
    assert vendor == pytest.approx(0.25 / 0.5)
    share = parts["share_frac"].iloc[0]
    assert token == pytest.approx(1.0 - share + share * 0.5)
    assert econ.margin_cut_price_ratios(parts, 0.75, 0.75) == pytest.approx((1.0, 1.0))


def test_margin_jevons_cases_and_table():
    parts = econ.vendor_cost_parts(**NODE, **OWNING)
    token, vendor = econ.margin_cut_price_ratios(parts, 0.75, 0.5)
    e = [0.0, 1.0, 2.0]
    cases = econ.margin_jevons_cases(e, parts, 0.75, 0.5)
    api = econ.data.load("api_prices")
    r1 = api.loc["deepseek-r1", "output_usd_per_mtok"] / api.loc["openai-o1", "output_usd_per_mtok"]
    labels = list(pd.unique(cases["case"]))
    assert labels[:2] == ["compute spend, margin 75% to 50%", "NVIDIA revenue, margin 75% to 50%"]
    assert labels[2] == f"token spend, R1 price vs o1 ({1 / r1:.1f}x cheaper)"
    spend = cases.set_index(["case", "demand_elasticity"])["spend_ratio"]
    assert spend[(labels[0], 0.0)] == pytest.approx(token)  # quantity fixed: spend follows price
    assert spend[(labels[0], 1.0)] == pytest.approx(1.0)  # unit elastic: spend unchanged
    assert spend[(labels[2], 2.0)] == pytest.approx(1.0 / r1)
    assert spend[(labels[1], 1.0)] == pytest.approx(econ.vendor_revenue_ratio(vendor, token, 1.0))
    only = econ.margin_jevons_cases(e, parts, 0.75, 0.5, substitute=None)
    assert list(pd.unique(only["case"])) == labels[:2]
    table = econ.margin_jevons_table(parts, 0.75, 0.5, 0.5, 1.5)
    assert list(table.index) == [0.5, 1.0, 1.5]
    assert set(table.columns) == {"compute_spend_ratio", "nvidia_revenue_ratio"}
    assert table.loc[1.0, "compute_spend_ratio"] == 1.0
    assert table.loc[0.5, "compute_spend_ratio"] == round(token ** 0.5, 3)


def test_ep_alltoall_sweep_per_node_batches_and_the_operating_point_capped_by_memory():
    links = econ.scaleup_links(["h100-sxm", "h800-sxm"], 0.5, 5.0e10)
    sweep, op = econ.ep_alltoall_sweep("deepseek-v3", "h800-sxm", "fp8", [8, 64], 4989.0, links,
                                       n_nodes=2, operating_batch_per_node=10_000)
    assert np.allclose(sweep["batch_per_node_count"], sweep["n_sequences"] / 2)
    assert set(sweep["batch_per_node_count"]) <= {8.0, 64.0}
    assert len(op) == len(links)  # one row per link
    fit = econ.decode_step("deepseek-v3", "h800-sxm", "fp8", None, 4989.0, n_devices=16)
    assert op["n_sequences"].iloc[0] == pytest.approx(float(fit["n_sequences"]))  # memory cap
    small, op_small = econ.ep_alltoall_sweep("deepseek-v3", "h800-sxm", "fp8", [8], 4989.0, links,
                                             n_nodes=2, operating_batch_per_node=8)
    assert op_small["n_sequences"].iloc[0] == 16.0
    # the slower link takes longer to move the same bytes
    at = op_small.set_index("link")["comm_s"]
    bw = links["link_bytes_per_s"]
    assert np.allclose(at * bw.reindex(at.index), (at * bw.reindex(at.index)).iloc[0])


def test_stack_machine_note_names_the_gpu_and_the_versions():
    machine = econ.data.load("gpu_machines").index[0]
    row = econ.data.row("gpu_machines", machine)
    note = econ.stack_machine_note(machine)
    assert note.startswith(f"{machine}: {row['gpu_name']}")
    assert f"torch {row['torch_version']}" in note and f"jax {row['jax_version']}" in note


def test_tpot_floor_note_states_the_floor_and_the_published_figure_in_ms():
    note = econ.tpot_floor_note(dict(value=0.01475, published_value=0.01476))
    assert note.startswith("TPOT floor: 14.75 ms vs published 14.76 ms")
