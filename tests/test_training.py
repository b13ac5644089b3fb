"""econ.training: 6ND and attention FLOPs, GPU-hours, cost, implied MFU; published figures.

Merged from test_training_lifetime.py: econ.training, training against serving: node-hours of a
day of traffic, the output share of the serving bill, serving scaled by traffic and reasoning,
the crossover day and the lifetime inference share. Closed forms and DeepSeek's published
figures."""
import math

import numpy as np
import pandas as pd
import pytest
from _kinds import (
    case_args,
    case_id,
    check_any_input,
    check_bad_input,
    check_broadcasting,
    check_huge_valid_input,
    check_kinds,
)
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import training as T

PUB = econ.data.load("published")["value"]
# H100/H800 SXM dense BF16 (the H800 cut is interconnect only)
H800_BF16_DENSE_FLOP_PER_S = 989.4e12

# --- valid scalar arguments of each public numeric function, and the range each allows ---------
CASES = {
    T.training_flop: dict(active_params=(37e9, "nonneg"), training_tok=(14.8e12, "nonneg"),
                          attention_flop_per_tok=(3e10, "nonneg")),
    T.attention_flop_per_tok: dict(n_layers=(61.0, "int_pos"), n_heads=(128.0, "int_pos"),
                                   qk_head_dim=(192.0, "pos"), v_head_dim=(128.0, "pos"),
                                   context_tok=(4096.0, "nonneg")),
    T.training_gpu_hours: dict(flop=(3.3e24, "nonneg"), peak_flop_per_s=(989.4e12, "pos"),
                               mfu_frac=(0.4, "frac_pos")),
    T.training_cost_usd: dict(gpu_hours=(2.788e6, "nonneg"), usd_per_gpu_hour=(2.0, "nonneg")),
    T.implied_mfu_frac: dict(flop=(3.3e24, "nonneg"), gpu_hours=(2.664e6, "pos"),
                             peak_flop_per_s=(989.4e12, "pos")),
}
ARGS = case_args(CASES)


@pytest.mark.parametrize("f", list(CASES), ids=case_id)
def test_kinds_float_array_series(f):
    check_kinds(CASES, f)


@pytest.mark.parametrize("f", list(CASES), ids=case_id)
def test_broadcasting(f):
    check_broadcasting(CASES, f)


@pytest.mark.parametrize("case", ARGS, ids=case_id)
def test_bad_input_is_a_value_error_naming_the_parameter(case):
    f, name = case
    check_bad_input(CASES, f, name)


# --- closed forms -------------------------------------------------------------------------------

def test_six_n_d():
    assert T.training_flop(1e9, 1e12) == 6e21
    assert T.training_flop(1e9, 1e12, 2e9) == pytest.approx(8e21)
    assert T.training_flop(0.0, 1e12) == 0.0


def test_attention_term_is_palm_12_l_h_q_t_for_mha():
    L, H, Q, ctx = 32, 32, 128, 2048
    assert T.attention_flop_per_tok(L, H, Q, Q, ctx) == 12 * L * H * Q * ctx
    # Kaplan et al. count QK^T only: 6 * n_layer * n_ctx * d_attn, half of this for MHA
    assert T.attention_flop_per_tok(L, H, Q, Q, ctx) == 2 * (6 * L * ctx * H * Q)
    assert T.attention_flop_per_tok(L, H, Q, Q, 0) == 0.0


def test_gpu_hours_cost_and_mfu_round_trip():
    flop = 1e24
    hours = T.training_gpu_hours(flop, 1e15, 0.5)
    assert hours == pytest.approx(1e24 / (1e15 * 0.5 * 3600))
    assert T.implied_mfu_frac(flop, hours, 1e15) == pytest.approx(0.5, rel=1e-12)
    assert T.training_cost_usd(hours, 2.0) == pytest.approx(2 * hours)
    # perfect utilization is the floor on GPU-hours
    assert T.training_gpu_hours(flop, 1e15, 1.0) < hours


# --- model configs ------------------------------------------------------------------------------

MODELS = econ.data.load("models")


def test_mla_attention_from_config_by_hand():
    # DeepSeek-V3: 61 layers, 128 heads, keys 128 + 64 wide, values 128 wide (training form)
    expected = 6 * 61 * 4096 * 128 * ((128 + 64) + 128)
    assert T.model_attention_flop_per_tok("deepseek-v3", 4096) == expected
    assert T.model_attention_flop_per_tok(MODELS.loc["deepseek-v3"], 4096) == expected


def test_gqa_attention_from_config_by_hand():
    # Llama 3.1 405B: 126 layers, 128 query heads of 128 (8 KV heads do not reduce FLOPs)
    assert T.model_attention_flop_per_tok("llama-3.1-405b", 8192) == 12 * 126 * 128 * 128 * 8192


def test_mha_attention_from_a_config_row():
    row = pd.Series({"attention_kind": "mha", "n_layers": 24, "n_heads": 16, "head_dim": 64,
                     "active_params": 3.5e8}, name="toy-mha")
    assert T.model_attention_flop_per_tok(row, 1024) == 12 * 24 * 16 * 64 * 1024
    assert T.model_training_flop(row, 1e9, 1024) == pytest.approx(
        (6 * 3.5e8 + 12 * 24 * 16 * 64 * 1024) * 1e9)


def test_model_helpers_over_the_table_and_arrays():
    out = T.model_attention_flop_per_tok(MODELS, 4096)
    assert isinstance(out, pd.Series) and out.index.equals(MODELS.index)
    assert (out > 0).all() and np.isfinite(out).all()
    ctx = np.array([1024.0, 4096.0])
    arr = T.model_attention_flop_per_tok("deepseek-v3", ctx)
    assert isinstance(arr, np.ndarray) and arr[1] == pytest.approx(4 * arr[0])
    flop = T.model_training_flop(MODELS, 1e12)
    assert isinstance(flop, pd.Series)
    assert flop["deepseek-v3"] == 6 * 37e9 * 1e12
    with_attn = T.model_training_flop(MODELS, 1e12, 4096)
    assert (with_attn > flop).all()
    tok = pd.Series([1e12, 2e12], index=["a", "b"])
    by_tok = T.model_training_flop("deepseek-v3", tok)
    assert isinstance(by_tok, pd.Series) and list(by_tok.index) == ["a", "b"]


def test_model_helpers_reject_bad_configs():
    v3 = MODELS.loc["deepseek-v3"]
    with pytest.raises(ValueError, match=r"attention_kind must be one of \['mha', 'gqa', 'mla'\]"):
        T.model_attention_flop_per_tok(v3.replace("mla", "sliding"), 4096)
    with pytest.raises(ValueError, match=r"model 'deepseek-v3' has no qk_rope_head_dim"):
        T.model_attention_flop_per_tok(v3.replace(64.0, np.nan), 4096)
    with pytest.raises(ValueError, match="needs the column 'v_head_dim'"):
        T.model_attention_flop_per_tok(v3.drop("v_head_dim"), 4096)
    with pytest.raises(ValueError, match="model must be"):
        T.model_attention_flop_per_tok(42, 4096)
    with pytest.raises(ValueError, match="needs the column 'active_params'"):
        T.model_training_flop(v3.drop("active_params"), 1e12)
    with pytest.raises(KeyError, match="valid"):
        T.model_training_flop("no-such-model", 1e12)
    with pytest.raises(ValueError, match="^context_tok must be finite"):
        T.model_attention_flop_per_tok(v3, float("nan"))


# --- published figures from published inputs (within 0.5 %) ----------------------------------

def test_deepseek_v3_training_cost_usd():
    # "DeepSeek-V3 requires only 2.788M H800 GPU hours for its full training." ... "Assuming the
    # rental price of the H800 GPU is $2 per GPU hour, our total training costs amount to only
    # $5.576M." (DeepSeek-V3 technical report, Table 1 and p.5)
    cost = T.training_cost_usd(PUB["deepseek-v3-training-gpu-hours"],
                               PUB["deepseek-v3-rental-usd-per-hour"])
    assert cost == pytest.approx(PUB["deepseek-v3-training-cost-usd"], rel=0.005)
    # Table 1 by stage: 2664K / 119K / 5K GPU-hours -> $5.328M / $0.238M / $0.01M
    stages = pd.Series([PUB["deepseek-v3-pretraining-gpu-hours"],
                        PUB["deepseek-v3-context-extension-gpu-hours"],
                        PUB["deepseek-v3-post-training-gpu-hours"]])
    by_stage = T.training_cost_usd(stages, PUB["deepseek-v3-rental-usd-per-hour"])
    np.testing.assert_allclose(by_stage, [PUB["deepseek-v3-pretraining-cost-usd"],
                                          PUB["deepseek-v3-context-extension-cost-usd"],
                                          PUB["deepseek-v3-post-training-cost-usd"]], rtol=0.005)


def test_llama_405b_training_flop_is_6nd():
    # "our flagship language model was pre-trained using 3.8 x 10^25 FLOPs ... a flagship model
    # with 405B trainable parameters on 15.6T text tokens." (Llama 3 paper, sec. 1)
    flop = T.training_flop(PUB["llama-3.1-405b-total-params"], PUB["llama-3.1-405b-training-tok"])
    assert flop == pytest.approx(PUB["llama-3.1-405b-training-flop"], rel=0.005)


def test_flop_per_token_against_isca25_table2():
    # "the total computational cost for DeepSeek-V3 is approximately 250 GFLOPS per token, whereas
    # ... the 405B dense model requires 2448 GFLOPS" (Insights into DeepSeek-V3, ISCA '25,
    # Table 2, sequence length 4096). Their count is causal (half the score matrix): our full
    # PaLM-convention attention at half the context; within 1.5 % (37B is a rounded figure).
    for name, key in [("deepseek-v3", "deepseek-v3-training-flop-per-tok"),
                      ("llama-3.1-405b", "llama-3.1-405b-training-flop-per-tok")]:
        per_tok = T.model_training_flop(name, 1.0, 4096 / 2)
        assert per_tok == pytest.approx(PUB[key], rel=0.015)


def test_implied_mfu_of_published_gpu_hours_is_plausible():
    # V3 pre-training: 6 N D plus attention at 4K over 2.664M H800 GPU-hours, against BF16 peak
    flop = T.model_training_flop("deepseek-v3", PUB["deepseek-v3-training-tok"], 4096)
    mfu = T.implied_mfu_frac(flop, PUB["deepseek-v3-pretraining-gpu-hours"],
                             H800_BF16_DENSE_FLOP_PER_S)
    assert 0.30 < mfu < 0.50
    # Llama 3.1 405B: reported 38-43 % BF16 MFU while running; over all 30.84M GPU-hours
    # (restarts and evaluation included) the implied figure must be lower, but not absurdly so
    mfu = T.implied_mfu_frac(PUB["llama-3.1-405b-training-flop"],
                             PUB["llama-3.1-405b-training-gpu-hours"], H800_BF16_DENSE_FLOP_PER_S)
    assert 0.25 < mfu <= 0.43


# --- properties -------------------------------------------------------------------------------

params = st.floats(0.0, 1e13)
tokens = st.floats(0.0, 1e15)
peak = st.floats(1e12, 1e17)
mfu = st.floats(1e-3, 1.0)
price = st.floats(0.0, 100.0)
layers = st.integers(1, 200)
dims = st.integers(1, 1024)


@given(n=params, d=tokens, a=st.floats(0.0, 1e13), pk=peak, u=mfu, p=price)
def test_finite_for_valid_input(n, d, a, pk, u, p):
    flop = T.training_flop(n, d, a)
    hours = T.training_gpu_hours(flop, pk, u)
    cost = T.training_cost_usd(hours, p)
    assert all(math.isfinite(x) and x >= 0 for x in (flop, hours, cost))


@given(n1=params, n2=params, d1=tokens, d2=tokens)
def test_flop_rises_with_params_and_tokens(n1, n2, d1, d2):
    n_lo, n_hi = sorted((n1, n2))
    d_lo, d_hi = sorted((d1, d2))
    assert T.training_flop(n_lo, d_lo) <= T.training_flop(n_hi, d_hi)


@given(flop=st.floats(0.0, 1e27), pk=peak, u1=mfu, u2=mfu, p1=price, p2=price)
def test_hours_fall_with_mfu_and_cost_rises_with_price(flop, pk, u1, u2, p1, p2):
    lo, hi = sorted((u1, u2))
    h_hi_mfu = T.training_gpu_hours(flop, pk, hi)
    assert h_hi_mfu <= T.training_gpu_hours(flop, pk, lo) * (1 + 1e-12)
    c_lo, c_hi = sorted((p1, p2))
    assert T.training_cost_usd(h_hi_mfu, c_lo) <= T.training_cost_usd(h_hi_mfu, c_hi)


@given(L=layers, H=dims, dqk=dims, dv=dims, c1=st.integers(0, 1 << 20), c2=st.integers(0, 1 << 20))
def test_attention_rises_with_context(L, H, dqk, dv, c1, c2):
    lo, hi = sorted((c1, c2))
    a_lo = T.attention_flop_per_tok(L, H, dqk, dv, lo)
    a_hi = T.attention_flop_per_tok(L, H, dqk, dv, hi)
    assert math.isfinite(a_hi) and 0 <= a_lo <= a_hi


@given(flop=st.floats(1e18, 1e27), pk=peak, u=mfu)
def test_implied_mfu_inverts_gpu_hours(flop, pk, u):
    hours = T.training_gpu_hours(flop, pk, u)
    assert T.implied_mfu_frac(flop, hours, pk) == pytest.approx(u, rel=1e-9)


@pytest.mark.parametrize("case", ARGS, ids=case_id)
def test_huge_valid_input_is_finite_or_a_clear_overflow_error(case):
    f, name = case
    check_huge_valid_input(CASES, f, name)


@given(case=st.sampled_from(ARGS),
       bad=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3)))
def test_invalid_input_raises_value_error_never_nan(case, bad):
    f, name = case
    check_any_input(CASES, f, name, bad)


# --------------------------------------------------------------------------------------------
# econ.training, training against serving: node-hours of a day of traffic, the output share
# --------------------------------------------------------------------------------------------

DAY6 = dict(input_tok=PUB["deepseek-day6-input-tok-per-day"],
            output_tok=PUB["deepseek-day6-output-tok-per-day"],
            prefill_tok_per_s=PUB["deepseek-day6-prefill-tok-per-s-per-node"],
            decode_tok_per_s=PUB["deepseek-day6-decode-tok-per-s-per-node"])

CASES_LIFETIME = {
    T.serving_node_hours: dict(input_tok=(6.08e11, "nonneg"), output_tok=(1.68e11, "nonneg"),
                               prefill_tok_per_s=(73.7e3, "pos"), decode_tok_per_s=(14.8e3, "pos")),
    T.serving_output_share_frac: dict(input_tok=(6.08e11, "nonneg"),
                                      output_tok=(1.68e11, "nonneg"),
                                      prefill_tok_per_s=(73.7e3, "pos"),
                                      decode_tok_per_s=(14.8e3, "pos")),
    T.scaled_serving_usd_per_day: dict(serving_usd_per_day=(87072.0, "nonneg"),
                                       traffic_ratio=(2.0, "nonneg"),
                                       output_tok_ratio=(3.0, "nonneg"),
                                       output_share_frac=(0.58, "frac")),
    T.training_equivalent_serving_days: dict(training_usd=(5.576e6, "nonneg"),
                                             serving_usd_per_day=(87072.0, "pos")),
    T.lifetime_inference_share_frac: dict(training_usd=(5.576e6, "nonneg"),
                                          serving_usd_per_day=(87072.0, "nonneg"),
                                          life_years=(1.5, "nonneg")),
}
ARGS_LIFETIME = case_args(CASES_LIFETIME)


@pytest.mark.parametrize("f", list(CASES_LIFETIME), ids=case_id)
def test_kinds_float_array_series_lifetime(f):
    check_kinds(CASES_LIFETIME, f)


@pytest.mark.parametrize("f,name", ARGS_LIFETIME, ids=lambda c: getattr(c, "__name__", c))
def test_bad_values_name_the_parameter(f, name):
    check_bad_input(CASES_LIFETIME, f, name)


def test_day6_node_hours_reproduce_the_published_average_nodes():
    # 608B input tokens at 73.7k tok/s per node and 168B output tokens at 14.8k tok/s per node
    # take as many node-hours as the 226.75 nodes DeepSeek reports for the day (within 0.1 %).
    hours = T.serving_node_hours(**DAY6)
    assert hours / 24.0 == pytest.approx(PUB["deepseek-day6-average-nodes"], rel=1e-3)
    assert hours == pytest.approx((6.08e11 / 73.7e3 + 1.68e11 / 14.8e3) / 3600.0, rel=1e-12)


def test_day6_output_share_closed_form():
    share = T.serving_output_share_frac(**DAY6)
    t_in, t_out = 6.08e11 / 73.7e3, 1.68e11 / 14.8e3
    assert share == pytest.approx(t_out / (t_in + t_out), rel=1e-12)
    assert 0.57 < share < 0.59
    assert T.serving_output_share_frac(0.0, 1.0, 1.0, 1.0) == 1.0
    assert T.serving_output_share_frac(1.0, 0.0, 1.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="both 0"):
        T.serving_output_share_frac(0.0, 0.0, 1.0, 1.0)


def test_scaled_serving_closed_forms():
    c = 87072.0
    assert T.scaled_serving_usd_per_day(c) == c
    assert T.scaled_serving_usd_per_day(c, traffic_ratio=3.0) == pytest.approx(3 * c)
    # only the output share grows with reasoning
    assert T.scaled_serving_usd_per_day(c, 1.0, 4.0, 0.5) == pytest.approx(c * (0.5 + 2.0))
    assert T.scaled_serving_usd_per_day(c, 1.0, 4.0, 0.0) == pytest.approx(c)
    assert T.scaled_serving_usd_per_day(c, 2.0, 4.0, 1.0) == pytest.approx(8 * c)


def test_v3_training_equals_64_days_of_deepseek_serving():
    days = T.training_equivalent_serving_days(PUB["deepseek-v3-training-cost-usd"],
                                              PUB["deepseek-day6-serving-cost-usd-per-day"])
    assert days == pytest.approx(5.576e6 / 87072.0, rel=1e-12)
    assert 64.0 < days < 64.1


def test_lifetime_share_closed_forms_and_crossover():
    t, c = 5.576e6, 87072.0
    assert T.lifetime_inference_share_frac(t, c, 1.0) == pytest.approx(
        c * 365 / (c * 365 + t), rel=1e-12)
    # exactly at the crossover day serving equals training: share 1/2
    years = T.training_equivalent_serving_days(t, c) / T.DAYS_PER_YEAR
    assert T.lifetime_inference_share_frac(t, c, years) == pytest.approx(0.5, rel=1e-12)
    assert T.lifetime_inference_share_frac(0.0, 0.0, 1.0) == 0.0
    assert T.lifetime_inference_share_frac(t, c, 0.0) == 0.0
    assert T.lifetime_inference_share_frac(0.0, c, 1.0) == 1.0


@given(t=st.floats(1.0, 1e12), c=st.floats(1.0, 1e9), y1=st.floats(0.0, 50.0),
       y2=st.floats(0.0, 50.0), r1=st.floats(0.0, 100.0), r2=st.floats(0.0, 100.0),
       s=st.floats(0.0, 1.0))
def test_share_rises_with_life_and_reasoning(t, c, y1, y2, r1, r2, s):
    lo, hi = sorted((y1, y2))
    assert T.lifetime_inference_share_frac(t, c, lo) <= \
        T.lifetime_inference_share_frac(t, c, hi) + 1e-12
    rlo, rhi = sorted((r1, r2))
    assert T.scaled_serving_usd_per_day(c, 1.0, rlo, s) <= \
        T.scaled_serving_usd_per_day(c, 1.0, rhi, s) * (1 + 1e-12)


def test_overflow_is_a_clear_error():
    with pytest.raises(ValueError, match="overflows"):
        T.scaled_serving_usd_per_day(1e308, 1e308)
