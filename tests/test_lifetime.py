"""econ.lifetime: the training-vs-inference analysis against closed forms and published figures."""
import numpy as np
import pandas as pd
import pytest

import econ
from econ import lifetime as L

V3, LLAMA = "deepseek-v3", "llama-3.1-405b"
CTX = {V3: 4096.0, LLAMA: 8192.0}


@pytest.fixture(scope="module")
def published():
    return econ.data.load("published")


@pytest.fixture(scope="module")
def pub(published):
    return published["value"]


@pytest.fixture(scope="module")
def runs(published):
    return L.published_training_runs(published, CTX)


@pytest.fixture(scope="module")
def fp(runs):
    return L.first_principles_training(runs, 0.5, 0.4, "bf16")


def _analysis(published, usd_per_gpu_hour=2.0, traffic_ratio=1.0, output_tok_ratio=1.0,
              overhead=1.0, life_years=1.0, n_samples=2000):
    runs = L.published_training_runs(published, CTX)
    stages = L.training_stage_costs(published, usd_per_gpu_hour)
    fp = L.first_principles_training(runs, 0.5, 0.4, "bf16")
    day = L.published_serving_day(published, usd_per_gpu_hour)
    final = stages["scenario_training_cost_usd"].iloc[-1]
    serving = dict(base_serving_usd_per_day=day["scenario_serving_usd_per_day"],
                   output_share_frac=day["output_share_frac"])
    life = L.lifetime_spend(final, traffic_ratio=traffic_ratio, output_tok_ratio=output_tok_ratio,
                            training_overhead_ratio=overhead, life_years=life_years, **serving)
    band = L.lifetime_share_band(final, traffic_ratio=traffic_ratio, life_years=life_years,
                                 training_overhead_ratio=overhead, spread_ratio=3.0,
                                 output_tok_ratio=[1.0, 4.0, output_tok_ratio],
                                 n_samples=n_samples, seed=0, **serving)
    eff = L.training_efficiency_ratios(runs, fp)
    results = L.lifetime_results(published, stages, fp, day, life, band, eff, usd_per_gpu_hour,
                                 output_tok_ratio)
    params = dict(usd_per_gpu_hour=usd_per_gpu_hour, mfu_frac=0.4, mfu_peak_precision="bf16",
                  traffic_ratio=traffic_ratio, output_tok_ratio=output_tok_ratio,
                  training_overhead_ratio=overhead, model_life_years=life_years)
    return results, L.lifetime_answer_fields(results, runs, fp, eff, params)


# --- published runs -------------------------------------------------------------------------

def test_runs_hold_the_published_stage_sums_and_equal_dense_peaks(runs, pub):
    # V3's later stages are the published context extension + post-training (Table 1)
    assert runs.at[V3, "later_stage_gpu_hours"] == pytest.approx(
        pub["deepseek-v3-context-extension-gpu-hours"] + pub["deepseek-v3-post-training-gpu-hours"],
        rel=1e-12)
    # Llama publishes only its total: no later stages to add, and its MFU is of the BF16 peak
    assert np.isnan(runs.at[LLAMA, "later_stage_gpu_hours"])
    assert runs.at[LLAMA, "published_mfu_precision"] == "bf16"
    # H800 and H100 SXM share their dense peaks; Hopper's dense FP8 peak is twice its BF16
    assert runs.at[V3, "peak_bf16_flop_per_s"] == runs.at[LLAMA, "peak_bf16_flop_per_s"]
    ratio = runs["peak_fp8_flop_per_s"] / runs["peak_bf16_flop_per_s"]
    assert np.allclose(ratio, 2.0, rtol=1e-3)
    assert (runs["context_tok"] == pd.Series(CTX)).all()


def test_runs_need_every_context_and_a_positive_one(published):
    with pytest.raises(KeyError, match="llama-3.1-405b"):
        L.published_training_runs(published, {V3: 4096.0})
    with pytest.raises(ValueError, match="context_tok"):
        L.published_training_runs(published, {V3: 4096.0, LLAMA: -1.0})
    with pytest.raises(ValueError, match="published"):
        L.published_training_runs(pd.Series([1.0]), CTX)


# --- V3's stages ----------------------------------------------------------------------------

@pytest.mark.parametrize("price", [2.0, 4.0, 0.5])
def test_stage_costs_reproduce_deepseek_at_any_price(published, pub, price):
    stages = L.training_stage_costs(published, price).set_index("stage")
    # DeepSeek's Table 1: $5.328M + $0.238M + $0.01M = $5.576M, at their own $2
    assert stages["training_cost_usd"].to_numpy() == pytest.approx(
        [5.328e6, 2.38e5, 1.0e4, 5.576e6], rel=1e-12)
    assert np.allclose(stages["training_cost_usd"], stages["published_cost_usd"], rtol=1e-12)
    assert stages.at["full run", "scenario_training_cost_usd"] == pytest.approx(2.788e6 * price)
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        L.training_stage_costs(published, -1.0)


# --- FLOPs and MFU --------------------------------------------------------------------------

def test_flop_conventions_follow_6nd_plus_a_linear_attention_term(runs, pub):
    t = L.training_flop_conventions(runs).set_index(["convention", "model"])
    six_nd = t.loc[("6ND", V3), "training_flop"]
    assert six_nd == pytest.approx(6 * 37e9 * 14.8e12, rel=1e-12)
    causal = t.loc[("6ND + causal attention", V3), "training_flop"]
    full = t.loc[("6ND + full attention (PaLM)", V3), "training_flop"]
    assert full - six_nd == pytest.approx(2 * (causal - six_nd), rel=1e-12)
    # DeepSeek's own causal count for V3: 250 GFLOPs per token
    assert causal / pub["deepseek-v3-training-tok"] == pytest.approx(
        pub["deepseek-v3-training-flop-per-tok"], rel=0.02)
    # Llama 3 paper: 3.8e25 FLOPs for 405B on 15.6T tokens
    assert t.loc[("6ND + causal attention", LLAMA), "training_flop"] == pytest.approx(
        pub["llama-3.1-405b-training-flop"], rel=0.05)
    # implied MFU = FLOPs / (GPU-hours x 3600 x peak)
    want = causal / (pub["deepseek-v3-pretraining-gpu-hours"] * 3600 * 989.4e12)
    assert t.loc[("6ND + causal attention", V3), "implied_bf16_mfu_frac"] == pytest.approx(want)
    with pytest.raises(ValueError, match="attention_context_frac"):
        L.training_flop_conventions(runs, {"too much": 1.5})


def test_first_principles_inverts_the_implied_mfu(runs, pub):
    fp = L.first_principles_training(runs, 0.5, 0.4, "bf16")
    v3 = fp.loc[V3]
    # at the MFU the published hours imply, the estimate is the published figure
    back = L.first_principles_training(runs, 0.5, v3["implied_bf16_mfu_frac"], "bf16").loc[V3]
    assert back["training_gpu_hours_estimated"] == pytest.approx(
        pub["deepseek-v3-pretraining-gpu-hours"], rel=1e-12)
    # GPU-hours scale as 1 / (MFU x peak): 20% of the FP8 peak against 40% of the BF16 peak
    fp8 = L.first_principles_training(runs, 0.5, 0.2, "fp8").loc[V3]
    assert fp8["training_gpu_hours_estimated"] == pytest.approx(
        v3["training_gpu_hours_estimated"] * (0.4 * 989.4) / (0.2 * 1978.9), rel=1e-9)
    # a run that publishes its MFU is estimated at it, whatever mfu_frac says
    assert fp8.name == V3 and L.first_principles_training(runs, 0.5, 0.2, "fp8").loc[
        LLAMA, "training_gpu_hours_estimated"] == pytest.approx(
        fp.loc[LLAMA, "training_gpu_hours_estimated"])
    assert fp.at[LLAMA, "mfu_frac"] == pub["llama-3.1-405b-mfu"]
    # the whole run: estimate + published later stages, at DeepSeek's $2
    assert v3["estimated_run_cost_usd"] == pytest.approx(
        (v3["training_gpu_hours_estimated"] + 124_000) * 2.0, rel=1e-12)
    assert np.isnan(fp.at[LLAMA, "estimated_run_cost_usd"])
    with pytest.raises(ValueError, match="mfu_peak_precision"):
        L.first_principles_training(runs, 0.5, 0.4, "fp16")
    with pytest.raises(ValueError, match="mfu_frac"):
        L.first_principles_training(runs, 0.5, 0.0, "bf16")


def test_gpu_hours_against_mfu_crosses_the_published_figure_at_the_implied_mfu(runs, fp):
    v3 = fp.loc[V3]
    mfu = np.array([0.2, v3["implied_bf16_mfu_frac"], 0.5])
    lines = L.gpu_hours_against_mfu(runs, fp, mfu)
    assert len(lines) == 2 * len(mfu) + 2
    bf16 = lines[lines["peak_precision"] == "bf16"].set_index("mfu_frac")["training_gpu_hours"]
    assert bf16.iloc[1] == pytest.approx(v3["published_gpu_hours"], rel=1e-12)
    # GPU-hours fall as 1 / MFU
    assert bf16.iloc[0] * 0.2 == pytest.approx(bf16.iloc[2] * 0.5, rel=1e-12)
    flat = lines[lines["peak_precision"].isna()]
    assert (flat["training_gpu_hours"] == v3["published_gpu_hours"]).all()
    assert "2.664M" in flat["line"].iloc[0]
    with pytest.raises(KeyError, match="no run"):
        L.gpu_hours_against_mfu(runs, fp, mfu, model="gpt-4")


# --- DeepSeek's day of serving and the lifetime -----------------------------------------------

@pytest.mark.parametrize("price", [2.0, 4.0])
def test_serving_day_reproduces_the_day6_post_at_any_price(published, price):
    day = L.published_serving_day(published, price)
    assert day["serving_usd_per_day"] == pytest.approx(87_072.0, rel=1e-12)  # 226.75 x 8 x 24 x $2
    assert day["scenario_serving_usd_per_day"] == pytest.approx(87_072.0 * price / 2.0)
    assert day["average_serving_nodes"] == pytest.approx(226.75, rel=0.001)
    t_in, t_out = 608e9 / 73_700, 168e9 / 14_800
    assert day["output_share_frac"] == pytest.approx(t_out / (t_in + t_out), rel=1e-12)


def test_lifetime_spend_closed_forms():
    life = L.lifetime_spend(5.576e6, 87_072.0)
    assert life["crossover_days"] == pytest.approx(5.576e6 / 87_072.0)  # 64 days
    half = L.lifetime_spend(5.576e6, 87_072.0, life_years=life["crossover_days"] / 365.0)
    assert half["lifetime_inference_share_frac"] == pytest.approx(0.5, rel=1e-12)
    more = L.lifetime_spend(5.576e6, 87_072.0, traffic_ratio=2.0, training_overhead_ratio=3.0)
    assert more["training_usd"] == pytest.approx(3 * 5.576e6)
    assert more["crossover_days"] == pytest.approx(1.5 * life["crossover_days"])
    # reasoning scales only the output share of node-time
    long = L.lifetime_spend(1.0, 100.0, output_tok_ratio=4.0, output_share_frac=0.25)
    assert long["serving_usd_per_day"] == pytest.approx(100.0 * (0.75 + 0.25 * 4.0))
    assert long["lifetime_serving_usd"] == pytest.approx(long["serving_usd_per_day"] * 365.0)


def test_lifetime_spend_keeps_the_input_kind():
    traffic = pd.Series([0.5, 1.0, 2.0], index=list("abc"))
    s = L.lifetime_spend(5.576e6, 87_072.0, traffic_ratio=traffic)
    assert all(isinstance(v, pd.Series) and list(v.index) == list("abc") for v in s.values())
    a = L.lifetime_spend(5.576e6, 87_072.0, traffic_ratio=traffic.to_numpy())
    assert isinstance(a["crossover_days"], np.ndarray)
    assert np.allclose(a["crossover_days"], s["crossover_days"].to_numpy())
    f = L.lifetime_spend(5.576e6, 87_072.0)
    assert all(isinstance(v, float) for v in f.values())
    with pytest.raises(ValueError, match="training_overhead_ratio"):
        L.lifetime_spend(5.576e6, 87_072.0, training_overhead_ratio=-1.0)


def test_share_band_lies_between_the_life_bounds_when_traffic_is_nearly_known():
    kw = dict(traffic_ratio=1.0, life_years=1.0, training_overhead_ratio=1.0,
              spread_ratio=1.000001, output_tok_ratio=[1.0, 4.0], n_samples=4000, seed=1)
    band = L.lifetime_share_band(5.576e6, 87_072.0, 0.58, **kw).set_index("output_tok_ratio")
    lo = L.lifetime_spend(5.576e6, 87_072.0, output_share_frac=0.58, life_years=0.5)
    hi = L.lifetime_spend(5.576e6, 87_072.0, output_share_frac=0.58, life_years=2.0)
    p = band.loc[1.0]
    assert lo["lifetime_inference_share_frac"] - 1e-6 <= p["p5"] <= p["p50"] <= p["p95"] \
        <= hi["lifetime_inference_share_frac"] + 1e-6
    assert band.loc[4.0, "p50"] > band.loc[1.0, "p50"]  # longer outputs, larger serving share
    again = L.lifetime_share_band(5.576e6, 87_072.0, 0.58, **kw).set_index("output_tok_ratio")
    assert again.equals(band)
    with pytest.raises(ValueError, match="spread_ratio"):
        L.lifetime_share_band(5.576e6, 87_072.0, 0.58, **{**kw, "spread_ratio": 1.0})


# --- "45x more efficient" -------------------------------------------------------------------

def test_efficiency_ratios_from_published_hours(runs, fp, pub):
    eff = L.training_efficiency_ratios(runs, fp).set_index("metric")
    # V3's report: 180K H800 GPU-hours per trillion tokens
    assert eff.at["gpu_hours_per_trillion_tok_ratio", V3] == pytest.approx(
        pub["deepseek-v3-per-trillion-tok-gpu-hours"], rel=1e-9)
    assert eff.at["training_gpu_hours_ratio", "advantage_ratio"] == pytest.approx(30.84 / 2.788)
    want = (30.84e6 / (405e9 * 15.6e12)) / (2.664e6 / (37e9 * 14.8e12))
    assert eff.at["gpu_hours_per_active_param_tok_ratio", "advantage_ratio"] == pytest.approx(want)
    # MFU: more is better, so V3 over Llama
    assert eff.at["implied_mfu_ratio", "advantage_ratio"] == pytest.approx(
        fp.at[V3, "implied_bf16_mfu_frac"] / fp.at[LLAMA, "implied_bf16_mfu_frac"])
    with pytest.raises(KeyError, match="no run"):
        L.training_efficiency_ratios(runs, fp, baseline="gpt-4")


# --- results and answer ---------------------------------------------------------------------

def test_results_keep_reproductions_apart_from_the_scenario(published):
    at2, _ = _analysis(published, 2.0)
    at4, _ = _analysis(published, 4.0)
    key = lambda r: r.set_index(["metric", "subject"])  # noqa: E731
    a, b = key(at2), key(at4)
    assert list(a.index) == list(b.index) and len(a) == 21
    for row in [("training_cost_usd", V3), ("serving_cost_usd_per_day", "deepseek-day6")]:
        assert b.loc[row, "verdict"].startswith("reproduced"), row
        assert b.loc[row, "value"] == a.loc[row, "value"]
    for row in [("training_cost_usd", f"{V3}:scenario"),
                ("serving_cost_usd_per_day", "deepseek-day6:scenario")]:
        assert b.loc[row, "value"] == pytest.approx(2 * a.loc[row, "value"])
    assert set(L.LIFETIME_CLAIMS) <= set(a.index)
    econ.verdict_table(at4, claims=L.LIFETIME_CLAIMS)  # every claim names a row


def test_answer_fields_render_an_answer_that_checks_out(published):
    results, fields = _analysis(published, 4.0, traffic_ratio=0.01, life_years=0.5)
    template = " ".join(f"{{{k}}}" if isinstance(v, str) else f"{{{k}:.6g}}"
                        for k, v in fields.items())
    a = econ.answer(template, **fields)
    assert econ.check_answer(a.markdown, a.record, results) == []
    # at a hundredth of DeepSeek's traffic for half a year, training dominates
    assert fields["share"] < 0.5 and "training" in fields["lecun"]
    _, busy = _analysis(published, 4.0, traffic_ratio=10.0)
    assert busy["share"] > 0.5 and "LeCun is right" in busy["lecun"]
    assert busy["rank"].startswith("per total parameter-token")
