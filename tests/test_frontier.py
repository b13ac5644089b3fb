"""econ.frontier: $/Mtok at a speed per user; the engine level at the notebooks' defaults."""
import math

import numpy as np
import pandas as pd
import pytest

import econ


def test_cost_table_is_the_chain_with_the_notebooks_defaults():
    from econ import serving_cost_table
    t = serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                           concurrency=[1, 64], isl_tok=1000, osl_tok=1000, usd_per_gpu_hour=2.0)
    u = float(econ.data.load("assumptions").loc["utilization_frac", "value"])
    assert (t["utilization_frac"] == u).all()
    r = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                             isl_tok=1000, osl_tok=1000, concurrency=np.array([1.0, 64.0]))
    np.testing.assert_allclose(t["output_usd_per_mtok"],
                               2.0 / u / (r["output_tok_per_s_per_device"] * 3600) * 1e6)
    # the default price is the hardware row's rental price
    d = serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                           concurrency=1, isl_tok=1000, osl_tok=1000)
    assert d["usd_per_gpu_hour"].iloc[0] == econ.data.row("hardware", "h100-sxm")[
        "rental_usd_per_hour"]


def test_each_device_left_out_names_what_it_lacks():
    ex = econ.frontier_exclusions("llama-3.1-70b", "fp8",
                                  ["h100-sxm", "mi300x", "b200", "tpu-v7", "groq-lpu"])
    assert list(ex.index) == ["b200", "tpu-v7", "groq-lpu"]
    assert ex["b200"] == "no purchase_usd in data/hardware.csv"
    assert ex["tpu-v7"] == "no purchase_usd, tdp_w in data/hardware.csv"
    assert "peak_fp8_flop_per_s" in ex["groq-lpu"]
    # a model too big for half of one node's memory
    big = econ.frontier_exclusions("deepseek-v3", "fp8", ["h100-sxm"])
    assert "does not fit on one node" in big["h100-sxm"]
    with pytest.raises(ValueError, match="precision"):
        econ.frontier_exclusions("llama-3.1-70b", "fp3", ["h100-sxm"])


def test_the_frontier_skips_them_and_an_empty_one_keeps_its_columns():
    ex = econ.frontier_exclusions("llama-3.1-70b", "fp8", ["h100-sxm", "b200"])
    setups = econ.frontier_setups("llama-3.1-70b", "fp8", ["h100-sxm", "b200"], exclude=ex.index)
    assert set(setups["hardware"]) == {"h100-sxm"}
    none = econ.frontier_setups("llama-3.1-70b", "fp8", ["b200"], exclude=["b200"])
    assert none.empty and list(none.columns) == ["hardware", "n_devices", "tp",
                                                 "usd_per_gpu_hour", "concurrency"]
    f = econ.interactivity_frontier("llama-3.1-70b", "fp8", none, [1, 2], isl_tok=1000.0,
                                    osl_tok=1000.0)
    assert f.empty and "output_usd_per_mtok" in f.columns
    assert econ.cost_at_speed(f, 50.0).empty


PUB = econ.data.load("published")


API = econ.data.load("api_prices")


CAL = econ.data.load("calibration")


V3 = dict(model="deepseek-v3", hardware="h200-sxm", precision="fp8")


NODE = dict(usd_per_gpu_hour=2.0, utilization_frac=0.6)


def test_day6_reproduces_the_published_cost_revenue_and_margin_at_deepseeks_price():
    day = econ.day6_economics(4.0)
    at = day["deepseek_price_value"]
    # 226.75 nodes x 8 GPUs x 24 h x $2 = $87,072 exactly
    assert at["serving_cost_usd_per_day"] == pytest.approx(226.75 * 8 * 24 * 2.0, rel=1e-12)
    assert at["serving_cost_usd_per_day"] == pytest.approx(
        PUB.loc["deepseek-day6-serving-cost-usd-per-day", "value"], rel=1e-9)
    # revenue and margin within the rounding of the published token counts (to the billion)
    assert at["theoretical_revenue_usd_per_day"] == pytest.approx(
        PUB.loc["deepseek-day6-theoretical-revenue-usd-per-day", "value"], rel=5e-4)
    assert at["cost_profit_margin_frac"] == pytest.approx(
        PUB.loc["deepseek-day6-cost-profit-margin", "value"], rel=5e-3)
    # hand-worked revenue: (608 - 342)B x $0.55 + 342B x $0.14 + 168B x $2.19, per Mtok
    r1 = API.loc["deepseek-r1"]
    hand = (266e3 * r1["input_usd_per_mtok"] + 342e3 * r1["cached_input_usd_per_mtok"]
            + 168e3 * r1["output_usd_per_mtok"])
    assert at["theoretical_revenue_usd_per_day"] == pytest.approx(hand, rel=1e-12)
    assert at["gross_margin_frac"] == pytest.approx(1 - 87_072 / hand, rel=1e-9)


def test_day6_at_the_runs_price_scales_the_cost_and_leaves_the_revenue():
    day = econ.day6_economics(4.0)
    run, ds = day["run_price_value"], day["deepseek_price_value"]
    assert run["usd_per_gpu_hour"] == 4.0 and ds["usd_per_gpu_hour"] == 2.0
    assert run["serving_cost_usd_per_day"] == pytest.approx(2 * ds["serving_cost_usd_per_day"])
    assert run["theoretical_revenue_usd_per_day"] == ds["theoretical_revenue_usd_per_day"]
    # profit / cost: (R - 2C) / 2C
    rev, cost = ds["theoretical_revenue_usd_per_day"], ds["serving_cost_usd_per_day"]
    assert run["cost_profit_margin_frac"] == pytest.approx((rev - 2 * cost) / (2 * cost))
    # 8 GPUs at $4 over DeepSeek's 14,800 output tokens/s per node
    assert run["decode_cost_usd_per_mtok"] == pytest.approx(32.0 / (14_800 * 3600) * 1e6)


def test_day6_result_rows_reproduce_whatever_the_price_and_keep_the_scenario_apart():
    rows = econ.day6_result_rows(4.0)
    res = econ.results_frame("demo", rows)
    ok = res[res["subject"] == "deepseek-day6"].dropna(subset=["published_value"])
    assert len(ok) == 3 and ok["verdict"].str.startswith("reproduced").all()
    scen = res[res["subject"] == "deepseek-day6:scenario"].set_index("metric")["value"]
    assert scen["serving_cost_usd_per_day"] == pytest.approx(2 * 87_072.0)
    assert set(econ.DAY6_CLAIMS) == set(zip(res["metric"], res["subject"]))
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        econ.day6_economics(0.0)


def test_api_price_ratios_are_the_list_prices_over_each_other():
    r = econ.api_price_ratios("openai-o1", "deepseek-r1")
    o1, r1 = API.loc["openai-o1"], API.loc["deepseek-r1"]
    assert r["output_ratio"] == pytest.approx(o1["output_usd_per_mtok"] / r1["output_usd_per_mtok"])
    # blended over 168B output of 776B tokens, 342B of the 608B input from cache
    def blend(a):
        return (608 / 776 * (342 / 608 * a["cached_input_usd_per_mtok"]
                             + 266 / 608 * a["input_usd_per_mtok"])
                + 168 / 776 * a["output_usd_per_mtok"])
    assert r["blended_ratio"] == pytest.approx(blend(o1) / blend(r1), rel=1e-9)
    with pytest.raises(KeyError, match="api_prices"):
        econ.api_price_ratios("gpt-9", "deepseek-r1")


@pytest.mark.parametrize("kind", [float, np.asarray, pd.Series])
def test_price_gap_split_multiplies_back_to_the_price_ratio(kind):
    cost = kind([3.0, 0.5]) if kind is not float else 3.0
    s = econ.price_gap_split(60.0, 60.0 / 27.0, cost, 1.0)
    assert np.allclose(np.asarray(s["cost_ratio"]) * np.asarray(s["markup_ratio"]), 27.0)
    # log-share: log 3 / log 27 = 1/3; a cheaper-to-serve o1 explains a negative share
    share = np.atleast_1d(np.asarray(s["gap_explained_by_cost_frac"], dtype=float))
    assert share[0] == pytest.approx(1 / 3)
    if kind is not float:
        assert share[1] < 0 and isinstance(s["markup_ratio"], type(cost))
    assert np.asarray(s["gross_margin_frac"]).flat[0] == pytest.approx(1 - 3.0 / 60.0)
    assert np.asarray(s["reference_gross_margin_frac"]).flat[0] == pytest.approx(
        1 - 1.0 / (60.0 / 27.0))
    with pytest.raises(ValueError, match="no gap"):
        econ.price_gap_split(2.0, 2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="cost_usd_per_mtok"):
        econ.price_gap_split(60.0, 2.0, -1.0, 1.0)


def test_step_time_ratio_scales_the_cost_in_proportion():
    args = (*V3.values(), 256.0, 4989.0, 2.0, 0.6)
    one = econ.decode_cost_usd_per_mtok(*args, n_devices=8)
    two = econ.decode_cost_usd_per_mtok(*args, n_devices=8, step_time_ratio=np.array([1.0, 1.5]))
    assert np.allclose(two, [one, 1.5 * one])
    with pytest.raises(ValueError, match="step_time_ratio"):
        econ.decode_cost_usd_per_mtok(*args, n_devices=8, step_time_ratio=0.0)


def test_batch_sweep_is_the_calibrated_step_priced_per_useful_hour():
    sweep = econ.batch_cost_sweep(*V3.values(), [1, 64, 512, 4096], 4989.0, **NODE)
    # 4,096 sequences of 4,989 tokens do not fit beside V3's weights on 8 x 141 GB
    assert list(sweep["batch_per_node_count"]) == [1, 64, 512]
    step = econ.decode_step(*V3.values(), np.array([1.0, 64.0, 512.0]), 4989.0, n_devices=8,
                            draft_depth=1, acceptance_frac=PUB.loc["deepseek-v3-mtp-acceptance",
                                                                   "value"])
    # $/Mtok = ($2 / 0.6) / (tok/s per GPU x 3600) x 1e6, tok/s from the default calibration
    want = 2.0 / 0.6 / (step["decode_tok_per_s"] * 3600.0) * 1e6
    assert np.allclose(sweep["decode_cost_usd_per_mtok"], want, rtol=1e-12)
    assert np.allclose(sweep["node_tok_per_s"], 8 * step["decode_tok_per_s"])
    # more sequences share each weight read: cost falls, speed per user falls
    assert sweep["decode_cost_usd_per_mtok"].is_monotonic_decreasing
    assert sweep["decode_tok_per_s_per_user"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="no batch"):
        econ.batch_cost_sweep(*V3.values(), [4096], 4989.0, **NODE)


def test_batch_sweep_cost_halves_at_twice_the_utilization_and_scales_with_nodes():
    one = econ.batch_cost_sweep(*V3.values(), [64], 4989.0, usd_per_gpu_hour=2.0,
                                utilization_frac=0.4)
    busy = econ.batch_cost_sweep(*V3.values(), [64], 4989.0, usd_per_gpu_hour=2.0,
                                 utilization_frac=0.8)
    assert busy["decode_cost_usd_per_mtok"].iloc[0] == pytest.approx(
        one["decode_cost_usd_per_mtok"].iloc[0] / 2)
    two = econ.batch_cost_sweep(*V3.values(), [64], 4989.0, n_nodes=2, **NODE)
    assert two["n_sequences"].iloc[0] == 128 and two["batch_per_node_count"].iloc[0] == 64


def test_decode_cost_inputs_come_from_the_assumptions_and_the_engines_error():
    d = econ.decode_cost_inputs(3.0, 0.6)
    a = econ.data.load("assumptions")
    rent = a.loc["h100_market_rental_usd_per_hour"]
    lo, hi = d["usd_per_device_hour"].interval(1.0)
    assert (lo, hi) == pytest.approx((3.0 * rent["low"] / rent["value"],
                                      3.0 * rent["high"] / rent["value"]))
    # half the steps within the held-out median error: the ratio's central 50 % is [1/(1+e), 1+e]
    e = float(pd.to_numeric(CAL.loc[list(econ.Calibration.fields()), "holdout_error_frac"]).max())
    assert d["step_time_ratio"].interval(0.5) == pytest.approx((1 / (1 + e), 1 + e))
    assert d["acceptance_frac"].interval(1.0) == pytest.approx((0.85, 0.90))
    assert "acceptance_frac" not in econ.decode_cost_inputs(3.0, 0.6, drafting=False)
    # a run busier than the assumptions' high end widens the range to hold it
    assert econ.decode_cost_inputs(3.0, 0.95)["utilization_frac"].interval(1.0)[1] == 0.95


def test_decode_cost_band_brackets_the_point_and_the_tornado_base_is_the_point():
    sweep = econ.batch_cost_sweep(*V3.values(), [8, 512], 4989.0, **NODE)
    band = econ.decode_cost_band(*V3.values(), sweep["batch_per_node_count"], 4989.0,
                                 n_samples=2000, seed=1, **NODE)
    assert list(band["batch_per_node_count"]) == [8, 512]
    assert (band["p5"] < sweep["decode_cost_usd_per_mtok"]).all()
    assert (band["p95"] > sweep["decode_cost_usd_per_mtok"]).all()
    t = econ.decode_cost_tornado(*V3.values(), 512, 4989.0, context_range_tok=[1024, 32768],
                                 **NODE)
    assert t["output_base"].iloc[0] == pytest.approx(sweep["decode_cost_usd_per_mtok"].iloc[1])
    assert set(t["parameter_title"]) == set(econ.DECODE_COST_INPUT_TITLES.values())
    assert t["swing"].is_monotonic_decreasing
    # cost is proportional to the price: its bar spans the price range's p5-p95 in proportion
    row = t.set_index("parameter").loc["usd_per_device_hour"]
    base = row["output_base"]
    assert row["output_high"] / base == pytest.approx(row["high_value"] / 2.0)
    with pytest.raises(ValueError, match="context_range_tok"):
        econ.decode_cost_tornado(*V3.values(), 512, 4989.0, context_range_tok=[4096, 1024],
                                 **NODE)
    with pytest.raises(ValueError, match="does not fit"):
        econ.decode_cost_tornado(*V3.values(), 5000, 4989.0, context_range_tok=[1024, 32768],
                                 **NODE)


def test_operating_cost_table_caps_the_batch_by_memory_and_drops_what_does_not_fit():
    t = econ.operating_cost_table(["llama-3.1-405b", "llama-3.1-70b", "llama-3.1-405b"],
                                  "h200-sxm", "fp8", 512, 4989.0, draft_depth=0, **NODE)
    assert list(t["model"]) == ["llama-3.1-405b", "llama-3.1-70b"]
    most = econ.decode_step("llama-3.1-405b", "h200-sxm", "fp8", 1.0, 4989.0,
                            n_devices=8)["max_concurrent_sequences"]
    assert t["n_sequences"].iloc[0] == min(512, most) and t["n_sequences"].iloc[1] == 512
    assert t["decode_cost_usd_per_mtok"].iloc[0] == pytest.approx(econ.decode_cost_usd_per_mtok(
        "llama-3.1-405b", "h200-sxm", "fp8", min(512, most), 4989.0, 2.0, 0.6, n_devices=8))
    # a 671B model in BF16 (1.34 TB) does not fit on 8 x 80 GB
    with pytest.raises(ValueError, match="none of"):
        econ.operating_cost_table(["deepseek-v3"], "h100-sxm", "bf16", 64, 4989.0, **NODE)


def test_price_gap_rows_and_parts():
    gap = econ.operating_cost_table(["llama-3.1-405b", "llama-3.1-70b"], "h200-sxm", "fp8", 512,
                                    4989.0, draft_depth=0, **NODE)
    r1 = econ.operating_cost_table(["deepseek-r1"], "h200-sxm", "fp8", 512, 4989.0, **NODE)
    o1p, r1p = API.loc["openai-o1", "output_usd_per_mtok"], API.loc["deepseek-r1",
                                                                     "output_usd_per_mtok"]
    gap = gap.assign(**econ.price_gap_split(o1p, r1p, gap["decode_cost_usd_per_mtok"],
                                            r1["decode_cost_usd_per_mtok"].iloc[0]))
    parts = econ.price_gap_parts(gap)
    prod = parts.groupby("model")["factor_ratio"].prod()
    assert np.allclose(prod, o1p / r1p)
    rows = econ.price_gap_result_rows(gap, "llama-3.1-405b",
                                      econ.api_price_ratios("openai-o1", "deepseek-r1"))
    res = econ.results_frame("demo", rows)
    assert set(econ.PRICE_GAP_CLAIMS) == set(zip(res["metric"], res["subject"]))
    got = res.set_index(["metric", "subject"])["value"]
    assert got["modelled_output_cost_ratio", "o1-vs-deepseek-r1"] == pytest.approx(
        gap["decode_cost_usd_per_mtok"].iloc[0] / r1["decode_cost_usd_per_mtok"].iloc[0])
    assert math.isclose(got["output_gross_margin_frac", "deepseek-r1"],
                        1 - r1["decode_cost_usd_per_mtok"].iloc[0] / r1p)
    with pytest.raises(ValueError, match="o1_model"):
        econ.price_gap_result_rows(gap, "deepseek-v3", {})


def test_price_gap_table_prices_r1_on_its_own_setup_and_splits_the_list_prices():
    gap = econ.price_gap_table(["llama-3.1-405b"], "h200-sxm", "fp8", 512, 4989.0,
                               usd_per_gpu_hour=3.0, utilization_frac=0.6, draft_depth=0,
                               reference_hardware="h200-sxm", reference_precision="fp8",
                               reference_usd_per_gpu_hour=2.0)
    r1 = econ.operating_cost_table(["deepseek-r1"], "h200-sxm", "fp8", 512, 4989.0, **NODE)
    row = gap.iloc[0]
    assert row["reference_model"] == "deepseek-r1"
    assert row["reference_cost_usd_per_mtok"] == pytest.approx(
        r1["decode_cost_usd_per_mtok"].iloc[0])
    # o1's stand-in at $3 costs 1.5 times what it costs at $2
    at2 = econ.operating_cost_table(["llama-3.1-405b"], "h200-sxm", "fp8", 512, 4989.0,
                                    draft_depth=0, **NODE)
    assert row["decode_cost_usd_per_mtok"] == pytest.approx(
        1.5 * at2["decode_cost_usd_per_mtok"].iloc[0])
    assert row["cost_ratio"] * row["markup_ratio"] == pytest.approx(
        API.loc["openai-o1", "output_usd_per_mtok"] / API.loc["deepseek-r1", "output_usd_per_mtok"])


def test_frontier_at_speed_keeps_the_cheapest_point_fast_enough_for_every_user():
    frontier, at = econ.frontier_at_speed("llama-3.1-70b", "fp8", ["h100-sxm", "mi300x"], 30.0,
                                          concurrency=[1, 8, 64], isl_tok=1000.0,
                                          osl_tok=1000.0, utilization_frac=0.6)
    assert set(frontier["hardware"]) == {"h100-sxm", "mi300x"}
    assert list(at.index) == ["h100-sxm", "mi300x"]
    for h, row in at.dropna(subset=["output_usd_per_mtok"]).iterrows():
        fast = frontier[(frontier["hardware"] == h) & (frontier["tok_per_s_per_user"] >= 30.0)]
        assert row["tok_per_s_per_user"] >= 30.0
        assert row["output_usd_per_mtok"] == pytest.approx(fast["output_usd_per_mtok"].min())
    # a faster target is never cheaper
    _, faster = econ.frontier_at_speed("llama-3.1-70b", "fp8", ["h100-sxm"], 60.0,
                                       concurrency=[1, 8, 64], isl_tok=1000.0, osl_tok=1000.0,
                                       utilization_frac=0.6)
    if np.isfinite(faster.loc["h100-sxm", "output_usd_per_mtok"]):
        assert (faster.loc["h100-sxm", "output_usd_per_mtok"]
                >= at.loc["h100-sxm", "output_usd_per_mtok"])


def test_vendor_cost_at_speed_names_each_vendor_and_leaves_out_what_it_cannot_price():
    at, excluded = econ.vendor_cost_at_speed("llama-3.1-70b", "fp8", ["h100-sxm", "b200"], 20.0,
                                             utilization_frac=0.6, concurrency=[1, 16])
    assert list(excluded.index) == ["b200"] and "purchase_usd" in excluded["b200"]
    assert list(at.index) == ["h100-sxm"] and at["output_usd_per_mtok"].notna().all()
    slow, _ = econ.vendor_cost_at_speed("llama-3.1-70b", "fp8", ["h100-sxm"], 1e6,
                                        utilization_frac=0.6, concurrency=[1, 16])
    assert slow.empty  # no device reaches a million tokens/s per user
    vendor = econ.data.row("hardware", "h100-sxm")["vendor"]
    assert at.loc["h100-sxm", "vendor"] == vendor
    assert at.loc["h100-sxm", "device"] == f"{vendor}: h100-sxm"


def test_batch_cost_claims_word_the_rows_of_batch_cost_result_rows():
    sweep = pd.DataFrame({"decode_cost_usd_per_mtok": [8.0, 1.0, 0.5]})
    tornado = pd.DataFrame({"output_base": [0.5]})
    rows = econ.batch_cost_result_rows(sweep, tornado, "m:h")
    claims = econ.batch_cost_claims("m:h")
    assert set(claims) == {(r["metric"], r["subject"]) for r in rows}
    assert all(isinstance(v, str) and v for v in claims.values())


#: The CS-3's dense peak and price are not published: the notebooks pass them as overrides.
CS3 = {"cerebras-cs3": dict(peak_bf16_flop_per_s=1.5e16, purchase_usd=2e6)}
SRAM_FRONTIER = ["h100-sxm", "groq-lpu", "cerebras-cs3"]


def test_sram_machines_are_left_out_only_for_a_missing_figure():
    ex = econ.frontier_exclusions("llama-3.1-70b", "bf16", SRAM_FRONTIER)
    assert list(ex.index) == ["cerebras-cs3"]
    assert "peak_bf16_flop_per_s" in ex["cerebras-cs3"] and "purchase_usd" in ex["cerebras-cs3"]
    assert econ.frontier_exclusions("llama-3.1-70b", "bf16", SRAM_FRONTIER,
                                    hardware_overrides=CS3).empty
    # never for size: the 405B model takes more chips, not an exclusion
    assert econ.frontier_exclusions("llama-3.1-405b", "bf16", ["groq-lpu"]).empty
    with pytest.raises(ValueError, match="no column"):
        econ.frontier_exclusions("llama-3.1-70b", "bf16", ["groq-lpu"],
                                 hardware_overrides={"groq-lpu": {"peak_fp3": 1.0}})


def test_sram_setups_buy_the_fewest_chips_for_the_weights_and_the_cache():
    c = [1, 16, 128]
    spec = econ.model_spec("llama-3.1-70b")
    setups = econ.frontier_setups("llama-3.1-70b", "bf16", ["groq-lpu", "cerebras-cs3"],
                                  concurrency=c, isl_tok=1000.0, osl_tok=1000.0,
                                  hardware_overrides=CS3)
    groq = setups[setups["hardware"] == "groq-lpu"]
    assert sorted(set(groq["tp"])) == [1, 2, 4, 8]              # up to a GroqNode
    assert set(setups.loc[setups["hardware"] == "cerebras-cs3", "tp"]) == {1}
    for _, r in setups.iterrows():
        row = econ.data.row("hardware", r["hardware"]).copy()
        want = econ.sram_devices_to_hold("llama-3.1-70b", row, "bf16", tp=int(r["tp"]),
                                         concurrency=r["concurrency"], isl_tok=1000.0,
                                         osl_tok=1000.0)
        assert r["n_devices"] == want and r["n_devices"] % r["tp"] == 0
        # the fewest: one stage fewer would not hold the weights and the cache
        held = econ.engine.held_bytes_per_device(spec, 2.0, tp=1)
        kv = econ.engine.kv_bytes_per_token_per_device(spec, 2.0, tp=int(r["tp"])) * r["tp"]
        need = held + r["concurrency"] * 2000.0 * kv
        assert (r["n_devices"] - r["tp"]) * row["memory_bytes"] < need \
            <= r["n_devices"] * row["memory_bytes"]
    assert groq.groupby("tp")["n_devices"].apply(lambda n: n.is_monotonic_increasing).all()
    # without a load, the weights take at most half of the chips' SRAM, as on a GPU
    plain = econ.frontier_setups("llama-3.1-70b", "bf16", ["groq-lpu"])
    held = econ.engine.held_bytes_per_device(spec, 2.0, tp=1)
    groq_mem = econ.data.row("hardware", "groq-lpu")["memory_bytes"]
    assert (held <= 0.5 * plain["n_devices"] * groq_mem).all()
    assert plain["concurrency"].isna().all()
    with pytest.raises(ValueError, match="isl_tok"):
        econ.frontier_setups("llama-3.1-70b", "bf16", ["groq-lpu"], concurrency=[1])


def test_the_frontier_includes_groq_and_cerebras_for_llama_70b():
    c = [1, 4, 16, 64, 256]
    frontier, at = econ.frontier_at_speed("llama-3.1-70b", "bf16", SRAM_FRONTIER, 50.0,
                                          concurrency=c, isl_tok=1000.0, osl_tok=1000.0,
                                          utilization_frac=0.6, hardware_overrides=CS3)
    assert set(frontier["hardware"]) == set(SRAM_FRONTIER)
    assert at.loc[["groq-lpu", "cerebras-cs3"], "output_usd_per_mtok"].notna().all()
    for h in ("groq-lpu", "cerebras-cs3"):
        part = frontier[frontier["hardware"] == h]
        assert (part["output_usd_per_mtok"] > 0).all()
        assert set(part["concurrency"]) == set(map(float, c))
        # each point is priced on the chips sized for its own load
        for _, r in part.iterrows():
            row = econ.data.row("hardware", h)
            assert r["n_devices"] == econ.sram_devices_to_hold(
                "llama-3.1-70b", row, "bf16", tp=int(r["tp"]), concurrency=r["concurrency"],
                isl_tok=1000.0, osl_tok=1000.0)
    at_vendor, excluded = econ.vendor_cost_at_speed(
        "llama-3.1-70b", "bf16", SRAM_FRONTIER, 50.0, utilization_frac=0.6,
        concurrency=c, hardware_overrides=CS3)
    assert excluded.empty
    assert {"groq: groq-lpu", "cerebras: cerebras-cs3"} <= set(at_vendor["device"])
    # a faster SRAM setup (wider stage) costs more chips per request at one request
    groq1 = frontier[(frontier["hardware"] == "groq-lpu") & (frontier["concurrency"] == 1)]
    assert groq1.set_index("tp")["tok_per_s_per_user"].is_monotonic_increasing


def test_matmul_rate_overrides_multiply_fp8_weights_at_the_16_bit_peak():
    groq = econ.data.row("hardware", "groq-lpu")
    o = econ.matmul_rate_overrides(["groq-lpu", "cerebras-cs3"], "fp8", "bf16", CS3)
    assert o["groq-lpu"] == {"peak_fp8_flop_per_s": groq["peak_bf16_flop_per_s"]}
    assert o["cerebras-cs3"]["peak_fp8_flop_per_s"] == 1.5e16          # the estimate carries
    assert o["cerebras-cs3"]["purchase_usd"] == 2e6
    assert econ.matmul_rate_overrides(["groq-lpu"], "bf16", "bf16") == {}
    assert econ.frontier_exclusions("llama-3.1-70b", "fp8", SRAM_FRONTIER,
                                    hardware_overrides=o).empty
    # FP8 weights halve the bytes a Groq stage streams, at the same matmul rate
    kw = dict(n_devices=616, tp=8, concurrency=1.0, isl_tok=1000.0, osl_tok=1000.0)
    row = groq.copy()
    row["peak_fp8_flop_per_s"] = groq["peak_bf16_flop_per_s"]
    fp8 = econ.predict_serving("llama-3.1-70b", row, "fp8", **kw)
    bf16 = econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", **kw)
    assert fp8["decode_s"] < bf16["decode_s"]
    with pytest.raises(ValueError, match="precision must be one of"):
        econ.matmul_rate_overrides(["groq-lpu"], "fp8", "fp3")


def test_a_spread_of_output_lengths_reaches_the_frontier():
    """Outputs of spread lengths (a reasoning model's, cv about 1.25) put longer requests in
    flight: the frontier's points are the engine's at that spread, slower per user and dearer
    per token where many requests share a step and their caches' reads dominate it."""
    kw = dict(n_devices=8, tp=8, concurrency=[1, 64], isl_tok=1000, osl_tok=4000,
              usd_per_gpu_hour=2.0)
    plain = econ.serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", **kw)
    spread = econ.serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", **kw,
                                     osl_cv_ratio=1.25)
    r = econ.predict.predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8,
                                          tp=8, isl_tok=1000, osl_tok=4000,
                                          concurrency=np.array([1.0, 64.0]), osl_cv_ratio=1.25)
    np.testing.assert_allclose(spread["tok_per_s_per_user"], r["tok_per_s_per_user"])
    assert spread["output_usd_per_mtok"].iloc[1] > 1.1 * plain["output_usd_per_mtok"].iloc[1]
    assert spread["tok_per_s_per_user"].iloc[1] < 0.9 * plain["tok_per_s_per_user"].iloc[1]
    frontier, _ = econ.frontier_at_speed("llama-3.1-70b", "fp8", ["h100-sxm"], 30.0,
                                         concurrency=[64], isl_tok=1000.0, osl_tok=4000.0,
                                         osl_cv_ratio=1.25)
    base, _ = econ.frontier_at_speed("llama-3.1-70b", "fp8", ["h100-sxm"], 30.0,
                                     concurrency=[64], isl_tok=1000.0, osl_tok=4000.0)
    assert (frontier["tok_per_s_per_user"] < base["tok_per_s_per_user"]).all()
    with pytest.raises(ValueError, match="osl_cv_ratio"):
        econ.serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", **kw, osl_cv_ratio=-1.0)
