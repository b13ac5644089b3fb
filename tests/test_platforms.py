"""econ.platforms: one load served on every hardware row, against closed forms and the data."""
import math

import numpy as np
import pandas as pd
import pytest

import econ

OWNING = dict(life_years=5.0, cost_of_capital_frac=0.1, pue_ratio=1.25,
              electricity_usd_per_kwh=0.08, hosting_opex_frac=0.08)
NAMES = ["h100-sxm", "mi300x", "tpu-v6e", "trainium2", "groq-lpu", "cerebras-cs3"]
CS3 = {"cerebras-cs3": dict(peak_bf16_flop_per_s=1.5e16, purchase_usd=2e6)}


@pytest.fixture(scope="module")
def platforms():
    return econ.serving_platforms(NAMES, "fp8", node_overhead_frac=0.35,
                                  node_power_overhead_frac=0.82,
                                  vendor_compute_precision={"groq": "bf16"}, overrides=CS3)


def test_platform_rows_carry_precision_overheads_and_whether_they_can_be_priced(platforms):
    p = platforms
    assert list(p.index) == NAMES
    # a device with an FP8 peak multiplies in FP8; TPU v6e has none in the table: BF16
    assert p.loc["h100-sxm", "compute_precision"] == "fp8"
    assert np.isnan(econ.data.row("hardware", "tpu-v6e")["peak_fp8_flop_per_s"])
    assert p.loc["tpu-v6e", "compute_precision"] == "bf16"
    assert p.loc["groq-lpu", "compute_precision"] == "bf16"  # the vendor override
    # a wafer is priced and powered whole; a node carries the overheads
    assert p.loc["cerebras-cs3", "system_overhead_frac"] == 0.0
    assert p.loc["mi300x", "system_overhead_frac"] == 0.35
    assert p.loc["cerebras-cs3", "purchase_usd"] == 2e6  # the run's assumption
    assert p["priced"].to_dict() == {"h100-sxm": True, "mi300x": True, "tpu-v6e": False,
                                     "trainium2": False, "groq-lpu": True, "cerebras-cs3": True}
    assert p.loc["trainium2", "missing"] == "purchase_usd, tdp_w"
    assert p["modelled"].all()


def test_the_note_names_every_unpriced_row_and_nothing_when_all_are_priced(platforms):
    note = econ.unpriced_note(platforms)
    assert "tpu-v6e (no purchase_usd, tdp_w" in note and "trainium2" in note
    assert "h100-sxm" not in note
    assert econ.unpriced_note(platforms.loc[["h100-sxm", "mi300x"]]) == ""


def test_without_its_override_the_cs3_is_neither_modelled_nor_priced():
    p = econ.serving_platforms(["cerebras-cs3"], "bf16")
    assert not p.loc["cerebras-cs3", "modelled"] and not p.loc["cerebras-cs3", "priced"]
    assert "peak_bf16_flop_per_s" in p.loc["cerebras-cs3", "missing"]


def test_bad_names_and_overrides_are_refused():
    with pytest.raises(KeyError, match="no-such-chip"):
        econ.serving_platforms(["no-such-chip"], "fp8")
    with pytest.raises(ValueError, match="no column"):
        econ.serving_platforms(["h100-sxm"], "fp8", overrides={"h100-sxm": {"price": 1.0}})
    with pytest.raises(ValueError, match="precision"):
        econ.serving_platforms(["h100-sxm"], "fp3")


def test_chips_to_hold_the_weights_are_bytes_over_memory_rounded_up(platforms):
    t = econ.devices_to_hold_table(["llama-3.1-70b", "mixtral-8x7b"], platforms, "fp8")
    for model in t.index:
        params = econ.data.row("models", model)["total_params"]  # FP8: one byte each
        for name in t.columns:
            want = math.ceil(params / platforms.loc[name, "memory_bytes"])
            assert t.loc[model, name] == want, (model, name)
    assert t.loc["llama-3.1-70b", "groq-lpu"] == math.ceil(70e9 / 230e6)  # 305 LPUs


def test_node_batch_is_the_memory_left_after_the_weights_over_the_kv_of_one_sequence():
    # Llama 3.1 70B in FP8 on 8 x 80 GB, 10 % reserve, 4,989 tokens at 327,680 B/token
    n = econ.node_max_sequences("llama-3.1-70b", "h100-sxm", "fp8", 4989.0, 0.1)
    assert n == math.floor((8 * 80e9 * 0.9 - 70e9) / (327_680 * 4989.0))
    with pytest.raises(ValueError, match="no room for one sequence"):
        econ.node_max_sequences("llama-3.1-405b", "h100-sxm", "bf16", 4989.0)


def test_serve_load_sizes_whole_systems_and_sums_device_throughput(platforms):
    batch = np.array([1.0, 64.0, 1024.0])
    load = econ.serve_load("llama-3.1-70b", platforms, "fp8", batch, 4989.0, reserve_frac=0.1)
    assert set(load["platform"]) == set(NAMES)
    for name, g in load.groupby("platform"):
        row = platforms.loc[name]
        held = econ.model_devices_to_hold("llama-3.1-70b", row, "fp8", 4989.0, batch,
                                          usable_frac=0.9)
        systems = np.ceil(held / row["n_devices_per_node"])
        np.testing.assert_allclose(g["systems_count"], systems)
        np.testing.assert_allclose(g["devices_count"], systems * row["n_devices_per_node"])
        per_device = econ.decode_tok_per_s("llama-3.1-70b", row, "fp8", batch, 4989.0,
                                           n_devices=g["devices_count"].to_numpy(),
                                           compute_precision=row["compute_precision"])
        np.testing.assert_allclose(g["decode_tok_per_s"], per_device * g["devices_count"],
                                   rtol=1e-9)
    with pytest.raises(ValueError, match="reserve_frac"):
        econ.serve_load("llama-3.1-70b", platforms, "fp8", 1.0, 4989.0, reserve_frac=1.0)


def test_owned_cost_against_a_hand_worked_annuity(platforms):
    load = econ.serve_load("llama-3.1-70b", platforms, "fp8", 64.0, 4989.0)
    cost = econ.owned_serving_cost(load, platforms, 0.5, **OWNING).set_index("platform")
    # one 8 x H100 node: capex 8 x 30,000 x 1.35; annuity at 10 % over 5 years
    capex = 8 * 30_000 * 1.35
    crf = 0.1 / (1 - 1.1 ** -5)
    power_w = 8 * 700 * 1.82
    per_hour = capex * crf / 8760 + capex * 0.08 / 8760 + power_w / 1000 * 1.25 * 0.08
    h = cost.loc["h100-sxm"]
    assert h["systems_count"] == 1 and h["capex_usd"] == pytest.approx(capex)
    assert h["it_power_w"] == pytest.approx(power_w)
    assert h["owned_usd_per_hour"] == pytest.approx(per_hour, rel=1e-9)
    full = per_hour / (h["decode_tok_per_s"] * 3600) * 1e6
    assert h["full_use_usd_per_mtok"] == pytest.approx(full, rel=1e-9)
    assert h["cost_usd_per_mtok"] == pytest.approx(full / 0.5, rel=1e-9)
    # a CS-3 is one wafer per system, no overhead
    c = cost.loc["cerebras-cs3"]
    assert c["capex_usd"] == pytest.approx(c["devices_count"] * 2e6)
    assert c["it_power_w"] == pytest.approx(c["devices_count"] * 23_000)
    # rows that cannot be priced carry no $ figure, and nothing fails
    assert cost.loc[["tpu-v6e", "trainium2"], "cost_usd_per_mtok"].isna().all()
    assert cost.loc[["tpu-v6e", "trainium2"], "decode_tok_per_s"].gt(0).all()


def test_price_ranges_go_from_a_share_of_the_list_price_up_to_it(platforms):
    r = econ.purchase_price_range(platforms, 0.8, vendor_low_frac={"groq": 0.5},
                                  ranges={"cerebras-cs3": (1.5e6, 3e6), "not-here": (1, 2)})
    assert list(r.index) == ["h100-sxm", "mi300x", "groq-lpu", "cerebras-cs3"]
    assert r.loc["h100-sxm"].tolist() == pytest.approx([24_000, 30_000, 30_000])
    assert r.loc["groq-lpu"].tolist() == pytest.approx([10_000, 20_000, 20_000])
    assert r.loc["cerebras-cs3"].tolist() == pytest.approx([1.5e6, 2e6, 3e6])
    wide = econ.purchase_price_range(platforms, 0.8, ranges={"cerebras-cs3": (2.5e6, 3e6)})
    assert wide.loc["cerebras-cs3", "low_usd"] == 2e6  # widened to include the run's price


def test_a_price_band_of_one_price_is_the_owned_cost_and_break_even_its_ratio(platforms):
    priced = platforms.loc[["h100-sxm", "mi300x", "groq-lpu"]]
    load = econ.serve_load("llama-3.1-70b", priced, "fp8", 64.0, 4989.0)
    fixed = econ.purchase_price_range(priced, 1.0)
    s = econ.platform_price_band(load, priced, fixed, [0.5, 1.0], n_samples=50, seed=3, **OWNING)
    assert set(s.columns) >= {"platform", "sample", "utilization_frac", "cost_usd_per_mtok"}
    cost = econ.owned_serving_cost(load, priced, 0.5, **OWNING).set_index("platform")
    at = s[s["utilization_frac"] == 0.5].groupby("platform")["cost_usd_per_mtok"]
    np.testing.assert_allclose(at.min().loc[cost.index], cost["cost_usd_per_mtok"], rtol=1e-9)
    np.testing.assert_allclose(at.max().loc[cost.index], cost["cost_usd_per_mtok"], rtol=1e-9)
    be = econ.break_even_band(s, "h100-sxm", 0.5)
    want = cost["full_use_usd_per_mtok"] / cost.loc["h100-sxm", "cost_usd_per_mtok"]
    np.testing.assert_allclose(be["p50"], want.loc[be.index], rtol=1e-9)
    assert be.loc["mi300x", "share_of_samples_reachable_frac"] == float(want["mi300x"] <= 1)
    with pytest.raises(KeyError, match="reference"):
        econ.break_even_band(s, "b200", 0.5)
    with pytest.raises(ValueError, match="utilization_frac of 1"):
        econ.break_even_band(s[s["utilization_frac"] == 0.5], "h100-sxm", 0.5)


def test_a_provider_price_is_compared_with_the_cost_on_its_own_hardware(platforms):
    api = econ.data.load("api_prices")
    cost = pd.Series({"h100-sxm": 1.0, "groq-lpu": 2.0, "cerebras-cs3": 0.3})
    rows = econ.api_price_to_cost_rows(api, platforms, cost, "llama-3.1-70b",
                                       aliases={"llama-3.3-70b": "llama-3.1-70b"})
    got = {r["subject"]: r for r in rows}
    assert set(got) == {"groq-lpu", "cerebras-cs3"}
    groq = api.loc["groq-llama-3.3-70b", "output_usd_per_mtok"]
    assert got["groq-lpu"]["value"] == pytest.approx(groq / 2.0)
    assert got["groq-lpu"]["verdict"] == "list price below modelled cost"
    assert got["cerebras-cs3"]["verdict"] == "list price above modelled cost"  # 0.60 > 0.30
    assert econ.api_price_to_cost_rows(api, platforms, cost, "qwen3-32b") == []


def test_result_rows_leave_out_what_could_not_be_priced(platforms):
    load = econ.serve_load("llama-3.1-70b", platforms, "fp8", 64.0, 4989.0)
    cost = econ.owned_serving_cost(load, platforms, 0.6, **OWNING).set_index("platform")
    weights = econ.devices_to_hold_table(["llama-3.1-70b"], platforms, "fp8")
    be = pd.Series({"mi300x": 0.2, "groq-lpu": 9.0})
    rows = econ.platform_result_rows(weights, cost, be)
    res = econ.results_frame("demo", rows)
    assert len(res[res["metric"] == "chips_to_hold_weights"]) == len(NAMES)
    assert set(res.loc[res["metric"] == "cost_usd_per_mtok", "subject"]) == {
        "h100-sxm", "mi300x", "groq-lpu", "cerebras-cs3"}
    assert set(res.loc[res["metric"] == "decode_tok_per_s", "subject"]) == set(NAMES)
    v = res.set_index("subject").loc[["mi300x", "groq-lpu"]]
    v = v[v["metric"] == "break_even_utilization_frac"]["verdict"]
    assert v["mi300x"].startswith("cheaper") and v["groq-lpu"].startswith("never")


def test_setup_check_asks_for_a_reference_gpu_with_a_price():
    ok = dict(gpu="h100-sxm", served_model="llama-3.1-70b", precision="fp8")
    assert econ.setup_problems("hardware_amortization", ok) == []
    bad = econ.setup_problems("hardware_amortization", {**ok, "gpu": "b200"})
    assert len(bad) == 1 and "gpu b200 has no purchase_usd" in bad[0] and "h100-sxm" in bad[0]
