"""econ.reasoning: what a reasoning answer costs, the lifetime share of inference, a distilled
8B against R1, and the distillation bills; checked against closed forms and published figures."""
import numpy as np
import pandas as pd
import pytest

import econ

PUB = econ.data.load("published")["value"]
API = econ.data.load("api_prices")


def test_price_bases_are_list_prices_and_deepseeks_published_rates():
    b = econ.question_price_bases(2.0).set_index("basis")
    assert b.loc["o1 API", "output_usd_per_mtok"] == API.loc["openai-o1", "output_usd_per_mtok"]
    assert b.loc["R1 API", "input_usd_per_mtok"] == API.loc["deepseek-r1", "input_usd_per_mtok"]
    # 8 H800s at $2 an hour over 14,800 output tokens/s per node: $0.30 per Mtok
    assert b.loc["R1 serving cost", "output_usd_per_mtok"] == pytest.approx(
        16.0 / (14_800 * 3600) * 1e6)
    assert b.loc["R1 serving cost", "input_usd_per_mtok"] == pytest.approx(
        16.0 / (73_700 * 3600) * 1e6)


def test_question_cost_is_linear_in_reasoning_at_the_output_price():
    b = econ.question_price_bases(2.0)
    q = econ.question_cost_table(b, 500.0, 500.0, 4000.0).set_index("basis")
    o1 = API.loc["openai-o1"]
    # 500 in at $15 + 4,500 out at $60, per Mtok
    want = (500 * o1["input_usd_per_mtok"] + 4500 * o1["output_usd_per_mtok"]) / 1e6
    assert q.loc["o1 API", "question_cost_usd"] == pytest.approx(want)
    assert q.loc["o1 API", "reasoning_cost_frac"] == pytest.approx(
        4000 * o1["output_usd_per_mtok"] / 1e6 / want)
    zero = econ.question_cost_table(b, 0.0, 0.0, 0.0)
    assert (zero["reasoning_cost_frac"] == 0).all()


def test_question_band_holds_the_point_and_collapses_without_length_uncertainty():
    b = econ.question_price_bases(2.0)
    band = econ.question_cost_band(b, [0.0, 4000.0], 500.0, 500.0, 2.0, n_samples=4000, seed=3)
    point = econ.question_cost_table(b, 500.0, 500.0, 4000.0).set_index("basis")
    at = band[band["reasoning_tok"] == 4000.0].set_index("basis")
    cost = point["question_cost_usd"]
    assert ((at["p5"] < cost) & (cost < at["p95"])).all()
    fixed = econ.question_cost_band(b, [4000.0], 0.0, 0.0, 2.0, n_samples=10).set_index("basis")
    # no prompt, no answer: the cost is the reasoning at the output price, exactly
    assert np.allclose(fixed["p5"], 4000 * b.set_index("basis")["output_usd_per_mtok"] / 1e6)
    with pytest.raises(ValueError, match="length_spread_ratio"):
        econ.question_cost_band(b, [0.0], 500.0, 500.0, 1.0)


def test_lifetime_share_matches_the_hand_worked_day():
    g = econ.lifetime_share_grid(2.0, [1.0, 4.0], [1.0], model_life_years=1.0)
    day = 226.75 * 8 * 24 * 2.0                         # $87,072
    train = PUB["deepseek-v3-training-gpu-hours"] * 2.0  # $5.576M
    one = g[g["output_tok_ratio"] == 1.0].iloc[0]
    assert one["serving_usd_per_day"] == pytest.approx(day)
    assert one["training_usd"] == pytest.approx(5.576e6)
    assert one["lifetime_inference_share_frac"] == pytest.approx(365 * day / (365 * day + train),
                                                                 rel=1e-3)
    # four times the output scales only the output share of node-time
    share = econ.serving_output_share_frac(608e9, 168e9, 73_700, 14_800)
    four = g[g["output_tok_ratio"] == 4.0].iloc[0]
    assert four["serving_usd_per_day"] == pytest.approx(day * (1 - share + 4 * share))
    more = econ.lifetime_share_grid(2.0, [1.0], [1.0], training_overhead_ratio=2.0)
    assert more["training_usd"].iloc[0] == pytest.approx(2 * 5.576e6)


def test_distill_table_prices_each_setup_per_useful_hour():
    s = econ.distill_serving_table(0.2, 2.0, 0.5, "fp8", 4989.0)
    # R1 as DeepSeek measured it: 8 GPUs at $2 over 14,800 tokens/s, no idle time charged
    assert s.loc["r1-measured", "cost_usd_per_mtok"] == pytest.approx(2.0 / (1850 * 3600) * 1e6)
    # the 8B at twice its wall-clock cost per useful hour at 50 % busy
    d = econ.decode_step(econ.DISTILL_MODEL, econ.DISTILL_HARDWARE, "fp8", None, 4989.0)
    assert s.loc["distill", "usd_per_device_hour"] == pytest.approx(0.4)
    assert s.loc["distill", "cost_usd_per_mtok"] == pytest.approx(
        0.4 / (d["decode_tok_per_s"] * 3600) * 1e6)
    # the engine's R1 batch keeps every user at DeepSeek's published low end of speed or more
    low = econ.data.load("published").loc["deepseek-day6-per-user-output-tok-per-s", "low"]
    assert s.loc["r1-engine", "decode_tok_per_s_per_user"] >= low
    with pytest.raises(ValueError, match="batches_per_device"):
        econ.distill_serving_table(0.2, 2.0, 0.5, "fp8", 4989.0, batches_per_device=[4096])
    sweep = econ.distill_batch_sweep(0.2, 2.0, 0.5, "fp8", 4989.0)
    assert {"BF16", "FP8"} <= {x.split(", ")[-1] for x in sweep["setup"]
                               if x.startswith("8B")}
    # BF16 weights (16 GB) leave less of 24 GB for the cache than FP8: fewer batches fit
    n = sweep.groupby("setup").size()
    assert n[f"8B distill on 1 {econ.DISTILL_HARDWARE}, BF16"] < n[
        f"8B distill on 1 {econ.DISTILL_HARDWARE}, FP8"]


def test_distillation_costs_and_ladder():
    t = econ.distillation_cost_table(2.0, 500.0, 4000.0, 0.5, 2.0, 0.4).set_index("price_basis")
    r1 = API.loc["deepseek-r1"]
    # 1.6M samples generated (800k kept at 50 %), each 500 in and 4,000 out at R1's prices
    want = 1.6e6 * (500 * r1["input_usd_per_mtok"] + 4000 * r1["output_usd_per_mtok"]) / 1e6
    assert t.loc["R1 API, standard", "distillation_data_cost_usd"] == pytest.approx(want)
    # fine-tuning: 6 N D (plus attention) over 800k x 4,500 x 2 tokens at 40 % of 989 TFLOP/s
    sft = t.loc["Fine-tuning the 8B", "distillation_sft_cost_usd"]
    n = econ.data.row("models", econ.DISTILL_MODEL)["active_params"]
    dense = 6 * n * 800e3 * 4500 * 2 / (0.4 * econ.hardware_peak_flop_per_s("h800-sxm", "bf16"))
    assert sft >= dense / 3600 * 2.0 and sft == pytest.approx(dense / 3600 * 2.0, rel=0.2)
    lad = econ.reasoning_cost_ladder(2.0, t.reset_index())
    assert lad["training_cost_usd"].iloc[0] == PUB["tinyzero-cost-usd"]
    assert lad["training_cost_usd"].iloc[-1] == pytest.approx(5.576e6)
    assert lad["training_cost_usd"].is_monotonic_increasing


def test_result_rows_carry_every_claim():
    b = econ.question_price_bases(2.0)
    q = econ.question_cost_table(b, 500.0, 500.0, 4000.0)
    band = econ.question_cost_band(b, [4000.0], 500.0, 500.0, 2.0, n_samples=200)
    s = econ.distill_serving_table(0.2, 2.0, 0.5, "fp8", 4989.0)
    d = econ.distillation_cost_table(2.0, 500.0, 4000.0, 0.5, 2.0, 0.4)
    rows = econ.reasoning_result_rows(q, band, 4000.0, 0.8, 0.2, s, d,
                                      econ.reasoning_cost_ladder(2.0, d))
    res = econ.results_frame("demo", rows)
    assert set(econ.REASONING_CLAIMS) <= set(zip(res["metric"], res["subject"]))
    got = res.set_index(["metric", "subject"])["value"]
    assert got["training_cost_ratio", "deepseek-v3-vs-tinyzero"] == pytest.approx(5.576e6 / 30)
    assert got["distill_cost_advantage_ratio", "deepseek-r1-vs-distill-llama-8b"] == \
        pytest.approx(s.loc["r1-measured", "cost_usd_per_mtok"] / s.loc["distill",
                                                                          "cost_usd_per_mtok"])
    assert isinstance(res, pd.DataFrame)
