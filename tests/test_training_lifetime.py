"""econ.training, training against serving: node-hours of a day of traffic, the output share of
the serving bill, serving scaled by traffic and reasoning, the crossover day and the lifetime
inference share. Closed forms and DeepSeek's published figures."""

import pytest
from _kinds import case_args, case_id, check_bad_input, check_kinds
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import training as T

PUB = econ.data.load("published")["value"]
DAY6 = dict(input_tok=PUB["deepseek-day6-input-tok-per-day"],
            output_tok=PUB["deepseek-day6-output-tok-per-day"],
            prefill_tok_per_s=PUB["deepseek-day6-prefill-tok-per-s-per-node"],
            decode_tok_per_s=PUB["deepseek-day6-decode-tok-per-s-per-node"])

CASES = {
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
ARGS = case_args(CASES)


@pytest.mark.parametrize("f", list(CASES), ids=case_id)
def test_kinds_float_array_series(f):
    check_kinds(CASES, f)


@pytest.mark.parametrize("f,name", ARGS, ids=lambda c: getattr(c, "__name__", c))
def test_bad_values_name_the_parameter(f, name):
    check_bad_input(CASES, f, name)


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
