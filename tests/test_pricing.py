"""econ.pricing: $/Mtok, blended prices, DeepSeek's day of cost and revenue, margins.

Merged from test_pricing_moat.py: Additions for the token-pricing and NVIDIA-moat notebooks: the
decode $/Mtok chain (econ.inference), and in econ.pricing a supplier's price at another gross
margin and Jevons spend under constant-elasticity demand.

Merged from test_pricing_question.py: econ.pricing.question_cost_usd: one answered question with
reasoning tokens billed as output."""
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
    in_range,
    scalar_kwargs,
)
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import inference as I
from econ import pricing as P
from econ.pricing import price_history

PUB = econ.data.load("published")["value"]


APIS = econ.data.load("api_prices")


# --- valid scalar arguments of each public numeric function, and the range each allows ---------
CASES = {
    P.cost_usd_per_mtok: dict(price_usd_per_hour=(16.0, "nonneg"),
                              throughput_tok_per_s=(14_800.0, "pos")),
    P.blended_usd_per_mtok: dict(input_usd_per_mtok=(0.55, "nonneg"),
                                 cached_input_usd_per_mtok=(0.14, "nonneg"),
                                 output_usd_per_mtok=(2.19, "nonneg"), output_frac=(0.2, "frac"),
                                 cache_hit_input_frac=(0.56, "frac")),
    P.traffic_revenue_usd: dict(input_tok=(608e9, "nonneg"), cache_hit_input_tok=(342e9, "nonneg"),
                                output_tok=(168e9, "nonneg"), input_usd_per_mtok=(0.55, "nonneg"),
                                cached_input_usd_per_mtok=(0.14, "nonneg"),
                                output_usd_per_mtok=(2.19, "nonneg")),
    P.serving_cost_usd: dict(n_nodes=(226.75, "nonneg"), gpus_per_node=(8.0, "nonneg"),
                             hours=(24.0, "nonneg"), usd_per_gpu_hour=(2.0, "nonneg")),
    P.cost_profit_margin_ratio: dict(revenue_usd=(562_027.0, "nonneg"), cost_usd=(87_072.0, "pos")),
    P.provider_gross_margin_frac: dict(price_usd_per_mtok=(2.19, "pos"),
                                       cost_usd_per_mtok=(0.5, "nonneg")),
    P.provider_markup_ratio: dict(price_usd_per_mtok=(2.19, "nonneg"),
                                  cost_usd_per_mtok=(0.5, "pos")),
    P.api_price_ratio: dict(price_usd_per_mtok=(60.0, "nonneg"),
                            reference_usd_per_mtok=(2.19, "pos")),
}


ARGS = case_args(CASES)


@pytest.mark.parametrize("f", list(CASES), ids=case_id)
def test_kinds_float_array_series(f):
    check_kinds(CASES, f)


@pytest.mark.parametrize("f", list(CASES), ids=case_id)
def test_broadcasting(f):
    check_broadcasting(CASES, f, pair=(-2, -1))


@pytest.mark.parametrize("case", ARGS, ids=case_id)
def test_bad_input_is_a_value_error_naming_the_parameter(case):
    f, name = case
    check_bad_input(CASES, f, name)


@pytest.mark.parametrize("case", ARGS, ids=case_id)
def test_huge_valid_input_is_finite_or_a_clear_overflow_error(case):
    f, name = case
    kw = scalar_kwargs(CASES, f)
    if f is P.traffic_revenue_usd and name == "cache_hit_input_tok":
        kw["input_tok"] = 1e308
    check_huge_valid_input(CASES, f, name, kw)


def test_blended_limits():
    kw = scalar_kwargs(CASES, P.blended_usd_per_mtok)
    assert P.blended_usd_per_mtok(**{**kw, "output_frac": 1.0}) == pytest.approx(2.19)
    assert P.blended_usd_per_mtok(**{**kw, "output_frac": 0.0, "cache_hit_input_frac": 0.0}) == 0.55
    assert P.blended_usd_per_mtok(**{**kw, "output_frac": 0.0, "cache_hit_input_frac": 1.0}) == 0.14


def test_blended_times_tokens_is_revenue():
    kw = scalar_kwargs(CASES, P.traffic_revenue_usd)
    total_tok = kw["input_tok"] + kw["output_tok"]
    blended = P.blended_usd_per_mtok(
        kw["input_usd_per_mtok"], kw["cached_input_usd_per_mtok"], kw["output_usd_per_mtok"],
        kw["output_tok"] / total_tok, kw["cache_hit_input_tok"] / kw["input_tok"])
    assert blended * total_tok / 1e6 == pytest.approx(P.traffic_revenue_usd(**kw), rel=1e-12)


def test_cache_hits_cannot_exceed_input():
    kw = scalar_kwargs(CASES, P.traffic_revenue_usd)
    with pytest.raises(ValueError, match=r"^cache_hit_input_tok must be <= input_tok"):
        P.traffic_revenue_usd(**{**kw, "cache_hit_input_tok": np.array([1.0, 700e9])})
    assert P.traffic_revenue_usd(**{**kw, "cache_hit_input_tok": kw["input_tok"]}) > 0


def test_margins_agree_with_each_other():
    price, cost = 2.19, 0.5
    markup = P.provider_markup_ratio(price, cost)
    assert markup == pytest.approx(4.38)
    assert P.provider_gross_margin_frac(price, cost) == pytest.approx(1 - 1 / markup)
    assert P.cost_profit_margin_ratio(price, cost) == pytest.approx(markup - 1)
    # at cost, and below cost
    assert P.provider_gross_margin_frac(1.0, 1.0) == 0.0
    assert P.provider_gross_margin_frac(1.0, 2.0) == -1.0
    assert P.cost_profit_margin_ratio(0.0, 5.0) == -1.0


def test_api_blended_from_the_price_table():
    mix = dict(output_frac=0.25, cache_hit_input_frac=0.5)
    r1 = APIS.loc["deepseek-r1"]
    expected = P.blended_usd_per_mtok(r1["input_usd_per_mtok"], r1["cached_input_usd_per_mtok"],
                                      r1["output_usd_per_mtok"], **mix)
    assert P.api_blended_usd_per_mtok("deepseek-r1", **mix) == pytest.approx(expected)
    table = P.api_blended_usd_per_mtok(APIS, **mix)
    assert isinstance(table, pd.Series) and table.index.equals(APIS.index)
    assert np.isfinite(table).all()
    # no cache discount listed: hits billed at the input price
    plain = APIS[APIS["cached_input_usd_per_mtok"].isna()]
    if len(plain):
        row = plain.iloc[0]
        assert table[plain.index[0]] == pytest.approx(
            0.75 * row["input_usd_per_mtok"] + 0.25 * row["output_usd_per_mtok"])
    arr = P.api_blended_usd_per_mtok("deepseek-r1", np.array([0.0, 1.0]), 0.5)
    assert arr[1] == pytest.approx(r1["output_usd_per_mtok"])
    with pytest.raises(KeyError, match="valid"):
        P.api_blended_usd_per_mtok("no-such-api", **mix)
    with pytest.raises(ValueError, match="needs the column"):
        P.api_blended_usd_per_mtok(r1.drop("output_usd_per_mtok"), **mix)
    with pytest.raises(ValueError, match=r"^output_frac must be in \[0, 1\]"):
        P.api_blended_usd_per_mtok("deepseek-r1", 1.5, 0.5)


def test_deepseek_day6_serving_cost():
    # "with an average occupancy of 226.75 nodes (each node contains 8 H800 GPUs). Assuming the
    # leasing cost of one H800 GPU is $2 per hour, the total daily cost amounts to $87,072."
    # (DeepSeek, Day 6: DeepSeek-V3/R1 Inference System Overview, 2025-03-01)
    cost = P.serving_cost_usd(PUB["deepseek-day6-average-nodes"],
                              PUB["deepseek-day6-gpus-per-node"], 24.0,
                              PUB["deepseek-day6-rental-usd-per-hour"])
    assert cost == pytest.approx(PUB["deepseek-day6-serving-cost-usd-per-day"], rel=0.005)


def _day6_revenue():
    # "Total input tokens: 608B, of which 342B tokens (56.3%) hit the on-disk KV cache.
    # Total output tokens: 168B." "(*) R1 Pricing: $0.14/M input tokens (cache hit), $0.55/M
    # input tokens (cache miss), $2.19/M output tokens." (same document)
    return P.traffic_revenue_usd(PUB["deepseek-day6-input-tok-per-day"],
                                 PUB["deepseek-day6-cache-hit-input-tok-per-day"],
                                 PUB["deepseek-day6-output-tok-per-day"],
                                 PUB["deepseek-r1-price-cache-miss-input"],
                                 PUB["deepseek-r1-price-cache-hit-input"],
                                 PUB["deepseek-r1-price-output"])


def test_deepseek_day6_theoretical_revenue():
    # "If all tokens were billed at DeepSeek-R1's pricing (*), the total daily revenue would be
    # $562,027" -- the rounded token counts give $562,100, 0.013 % above
    revenue = _day6_revenue()
    assert revenue == pytest.approx(562_100.0, rel=1e-9)
    assert revenue == pytest.approx(PUB["deepseek-day6-theoretical-revenue-usd-per-day"], rel=0.005)


def test_deepseek_day6_cost_profit_margin():
    # "... the total daily revenue would be $562,027, with a cost profit margin of 545%."
    cost = P.serving_cost_usd(PUB["deepseek-day6-average-nodes"],
                              PUB["deepseek-day6-gpus-per-node"], 24.0,
                              PUB["deepseek-day6-rental-usd-per-hour"])
    published = PUB["deepseek-day6-cost-profit-margin"]
    assert published == 5.45
    assert P.cost_profit_margin_ratio(_day6_revenue(), cost) == pytest.approx(published, rel=0.005)
    assert P.cost_profit_margin_ratio(PUB["deepseek-day6-theoretical-revenue-usd-per-day"],
                                      PUB["deepseek-day6-serving-cost-usd-per-day"]
                                      ) == pytest.approx(published, rel=0.005)


def test_r1_prices_in_both_tables_agree():
    r1 = APIS.loc["deepseek-r1"]
    assert r1["input_usd_per_mtok"] == PUB["deepseek-r1-price-cache-miss-input"]
    assert r1["cached_input_usd_per_mtok"] == PUB["deepseek-r1-price-cache-hit-input"]
    assert r1["output_usd_per_mtok"] == PUB["deepseek-r1-price-output"]


def test_o1_is_27x_r1():
    # the "27x cheaper than o1" of the debate: $60 vs $2.19 output, $15 vs $0.55 input per Mtok
    o1, r1 = APIS.loc["openai-o1"], APIS.loc["deepseek-r1"]
    cols = ["input_usd_per_mtok", "output_usd_per_mtok"]
    ratio = P.api_price_ratio(o1[cols].astype(float), r1[cols].astype(float))
    assert isinstance(ratio, pd.Series)
    assert (ratio.round() == 27).all()


usd_h = st.floats(0.0, 1e5)


tps = st.floats(1e-3, 1e8)


price = st.floats(0.0, 1e3)


frac = st.floats(0.0, 1.0)


tok = st.floats(0.0, 1e15)


@given(p=usd_h, t=tps, pi=price, pc=price, po=price, fo=frac, fh=frac)
def test_finite_for_valid_input(p, t, pi, pc, po, fo, fh):
    for v in (P.cost_usd_per_mtok(p, t), P.blended_usd_per_mtok(pi, pc, po, fo, fh)):
        assert math.isfinite(v) and v >= 0


@given(p1=usd_h, p2=usd_h, t1=tps, t2=tps)
def test_cost_rises_with_price_and_falls_with_throughput(p1, p2, t1, t2):
    p_lo, p_hi = sorted((p1, p2))
    t_lo, t_hi = sorted((t1, t2))
    assert P.cost_usd_per_mtok(p_lo, t_hi) <= P.cost_usd_per_mtok(p_hi, t_lo) * (1 + 1e-12)
    assert P.cost_usd_per_mtok(p_hi, t_hi) <= P.cost_usd_per_mtok(p_hi, t_lo) * (1 + 1e-12)


@given(pi=price, pc=price, po=price, fo1=frac, fo2=frac, fh1=frac, fh2=frac)
def test_blended_moves_toward_the_dearer_side(pi, pc, po, fo1, fo2, fh1, fh2):
    lo, hi = sorted((fo1, fo2))
    b_lo = P.blended_usd_per_mtok(pi, pc, po, lo, fh1)
    b_hi = P.blended_usd_per_mtok(pi, pc, po, hi, fh1)
    in_price = fh1 * pc + (1 - fh1) * pi
    # more output share raises the blend when output costs more than input, and lowers it if not
    if po >= in_price:
        assert b_lo <= b_hi + 1e-9
    else:
        assert b_hi <= b_lo + 1e-9
    # the blend stays between the cheapest and dearest price
    assert min(pi, pc, po) - 1e-9 <= b_lo <= max(pi, pc, po) + 1e-9
    # a higher cache-hit share never raises the blend when cached input is the cheaper input
    h_lo, h_hi = sorted((fh1, fh2))
    if pc <= pi:
        assert (P.blended_usd_per_mtok(pi, pc, po, fo1, h_hi)
                <= P.blended_usd_per_mtok(pi, pc, po, fo1, h_lo) + 1e-9)


@given(n_in=tok, hit=frac, n_out=tok, pi=price, pc=price, po=price, k=st.floats(1.0, 10.0))
def test_revenue_rises_with_prices_and_volume(n_in, hit, n_out, pi, pc, po, k):
    base = P.traffic_revenue_usd(n_in, hit * n_in, n_out, pi, pc, po)
    assert math.isfinite(base) and base >= 0
    assert P.traffic_revenue_usd(n_in, hit * n_in, n_out, k * pi, k * pc, k * po) >= base * (
        1 - 1e-12
    )
    assert P.traffic_revenue_usd(n_in, hit * n_in, k * n_out, pi, pc, po) >= base * (1 - 1e-12)


@given(rev=st.floats(0.0, 1e9), c1=st.floats(1e-3, 1e9), c2=st.floats(1e-3, 1e9))
def test_margin_falls_with_cost(rev, c1, c2):
    lo, hi = sorted((c1, c2))
    assert P.cost_profit_margin_ratio(rev, hi) <= P.cost_profit_margin_ratio(rev, lo) + 1e-12
    assert P.cost_profit_margin_ratio(rev, lo) >= -1.0


@given(price=st.floats(1e-6, 1e3), c1=st.floats(0.0, 1e3), c2=st.floats(0.0, 1e3))
def test_provider_margin_falls_with_cost_and_is_at_most_one(price, c1, c2):
    lo, hi = sorted((c1, c2))
    assert (P.provider_gross_margin_frac(price, hi)
            <= P.provider_gross_margin_frac(price, lo) <= 1.0)


@given(n=st.floats(0.0, 1e5), g=st.floats(0.0, 64.0), h=st.floats(0.0, 1e5), p1=usd_h, p2=usd_h)
def test_serving_cost_rises_with_price(n, g, h, p1, p2):
    lo, hi = sorted((p1, p2))
    assert 0 <= P.serving_cost_usd(n, g, h, lo) <= P.serving_cost_usd(n, g, h, hi)


@given(case=st.sampled_from(ARGS),
       bad=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3)))
def test_invalid_input_raises_value_error_never_nan(case, bad):
    f, name = case
    kw = scalar_kwargs(CASES, f)
    kind = CASES[f][name][1]
    if f is P.traffic_revenue_usd and in_range(kind, bad):
        # the cross-check: hits must not exceed input
        if (name == "cache_hit_input_tok" and bad > kw["input_tok"]) or (
                name == "input_tok" and bad < kw["cache_hit_input_tok"]):
            with pytest.raises(ValueError, match="^cache_hit_input_tok must be <= input_tok"):
                f(**{**kw, name: bad})
            return
    check_any_input(CASES, f, name, bad)


DECODE = dict(model="deepseek-v3", hardware="h200-sxm", precision="fp8", context_tok=4989.0,
              n_devices=8)


def test_decode_cost_is_the_chain_of_its_parts():
    tps = econ.decode_tok_per_s(n_sequences=128.0, **DECODE)
    want = econ.cost_usd_per_mtok(2.0 / 0.6, tps)
    got = I.decode_cost_usd_per_mtok(n_sequences=128.0, usd_per_device_hour=2.0,
                                     utilization_frac=0.6, **DECODE)
    assert got == pytest.approx(want, rel=1e-12)
    # by hand: $2/h over a 60 % busy hour, tps tokens per second per device
    assert got == pytest.approx(2.0 / 0.6 / (tps * 3600.0) * 1e6, rel=1e-12)


def test_decode_cost_kinds_and_broadcasting():
    batch = np.array([1.0, 64.0, 128.0])
    arr = I.decode_cost_usd_per_mtok(n_sequences=batch, usd_per_device_hour=2.0, **DECODE)
    assert isinstance(arr, np.ndarray) and arr.shape == (3,)
    ser = I.decode_cost_usd_per_mtok(n_sequences=pd.Series(batch, index=list("abc")),
                                     usd_per_device_hour=2.0, **DECODE)
    assert isinstance(ser, pd.Series) and list(ser.index) == list("abc")
    np.testing.assert_allclose(ser.to_numpy(), arr)
    one = I.decode_cost_usd_per_mtok(n_sequences=64.0, usd_per_device_hour=2.0, **DECODE)
    assert isinstance(one, float) and one == pytest.approx(arr[1])
    # bigger batches share each weight read: cheaper tokens
    assert np.all(np.diff(arr) < 0)


def test_decode_cost_scales_with_price_and_utilization():
    base = I.decode_cost_usd_per_mtok(n_sequences=128.0, usd_per_device_hour=2.0, **DECODE)
    assert I.decode_cost_usd_per_mtok(n_sequences=128.0, usd_per_device_hour=4.0,
                                      **DECODE) == pytest.approx(2 * base)
    assert I.decode_cost_usd_per_mtok(n_sequences=128.0, usd_per_device_hour=2.0,
                                      utilization_frac=0.5, **DECODE) == pytest.approx(2 * base)


def test_decode_cost_works_in_monte_carlo_and_tornado():
    mc = econ.monte_carlo(I.decode_cost_usd_per_mtok,
                          {"usd_per_device_hour": econ.uniform(1.5, 2.5),
                           "bandwidth_efficiency_frac": econ.uniform(0.6, 0.9)},
                          n_samples=200, seed=1,
                          constants=dict(n_sequences=128.0, **DECODE))
    assert mc["decode_cost_usd_per_mtok"].gt(0).all()
    tor = econ.tornado(I.decode_cost_usd_per_mtok,
                       dict(n_sequences=128.0, usd_per_device_hour=2.0, utilization_frac=0.6,
                            **DECODE),
                       {"usd_per_device_hour": (1.0, 4.0), "utilization_frac": (0.4, 0.8)})
    assert list(tor["parameter"]) == ["usd_per_device_hour", "utilization_frac"]


def test_decode_cost_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="utilization_frac"):
        I.decode_cost_usd_per_mtok(n_sequences=8.0, usd_per_device_hour=2.0,
                                   utilization_frac=0.0, **DECODE)
    with pytest.raises(ValueError, match="usd_per_device_hour"):
        I.decode_cost_usd_per_mtok(n_sequences=8.0, usd_per_device_hour=-1.0, **DECODE)


def test_price_at_gross_margin_by_hand():
    # $30,000 at 75 %: unit cost $7,500; at 50 % it sells for $15,000, at cost for $7,500
    assert P.price_at_gross_margin_usd(30_000.0, 0.75, 0.5) == pytest.approx(15_000.0)
    assert P.price_at_gross_margin_usd(30_000.0, 0.75, 0.0) == pytest.approx(7_500.0)
    assert P.price_at_gross_margin_usd(30_000.0, 0.75, 0.75) == pytest.approx(30_000.0)


def test_price_at_gross_margin_with_nvidia_published_margin():
    m = PUB["nvidia-fy2025-gross-margin"]
    assert P.price_at_gross_margin_usd(1.0, m, 0.0) == pytest.approx(0.25)


def test_price_at_gross_margin_kinds():
    new = np.array([0.0, 0.25, 0.5, 0.75])
    arr = P.price_at_gross_margin_usd(30_000.0, 0.75, new)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, 7_500.0 / (1 - new))
    ser = P.price_at_gross_margin_usd(pd.Series([30_000.0, 15_000.0], index=["a", "b"]), 0.75,
                                      0.5)
    assert isinstance(ser, pd.Series) and list(ser.index) == ["a", "b"]
    assert isinstance(P.price_at_gross_margin_usd(30_000.0, 0.75, 0.5), float)


@given(st.floats(0.0, 0.95), st.floats(0.0, 0.95), st.floats(0.0, 0.95))
def test_price_rises_with_the_new_margin(m, lo, hi):
    a, b = sorted((lo, hi))
    assert (P.price_at_gross_margin_usd(100.0, m, a)
            <= P.price_at_gross_margin_usd(100.0, m, b) * (1 + 1e-12))


@pytest.mark.parametrize("kw, name", [
    (dict(price_usd=-1.0, gross_margin_frac=0.5, new_gross_margin_frac=0.5), "price_usd"),
    (dict(price_usd=1.0, gross_margin_frac=1.0, new_gross_margin_frac=0.5), "gross_margin_frac"),
    (dict(price_usd=1.0, gross_margin_frac=0.5, new_gross_margin_frac=1.0),
     "new_gross_margin_frac"),
    (dict(price_usd=1.0, gross_margin_frac=-0.1, new_gross_margin_frac=0.5),
     "gross_margin_frac"),
    (dict(price_usd=float("nan"), gross_margin_frac=0.5, new_gross_margin_frac=0.5),
     "price_usd"),
])
def test_price_at_gross_margin_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        P.price_at_gross_margin_usd(**kw)


def test_jevons_closed_forms():
    # unit elasticity: spend unchanged whatever the price
    assert P.jevons_spend_ratio(0.1, 1.0) == pytest.approx(1.0)
    # perfectly inelastic demand: spend falls with the price
    assert P.jevons_spend_ratio(0.1, 0.0) == pytest.approx(0.1)
    # elasticity 2: ten times cheaper, ten times the spend
    assert P.jevons_spend_ratio(0.1, 2.0) == pytest.approx(10.0)
    # no price change, no spend change
    assert P.jevons_spend_ratio(1.0, 1.7) == pytest.approx(1.0)


def test_jevons_is_price_times_quantity():
    price_ratio, eps = 0.37, 1.4
    quantity_ratio = price_ratio ** -eps
    assert P.jevons_spend_ratio(price_ratio, eps) == pytest.approx(price_ratio * quantity_ratio)


def test_jevons_kinds():
    eps = np.linspace(0.0, 2.0, 5)
    arr = P.jevons_spend_ratio(0.5, eps)
    assert isinstance(arr, np.ndarray) and arr.shape == (5,)
    ser = P.jevons_spend_ratio(pd.Series([0.5, 0.25], index=["x", "y"]), 1.5)
    assert isinstance(ser, pd.Series) and list(ser.index) == ["x", "y"]
    assert isinstance(P.jevons_spend_ratio(0.5, 1.5), float)


@given(st.floats(0.01, 0.99), st.floats(0.0, 3.0))
def test_cheaper_tokens_raise_spend_only_when_elastic(price_ratio, eps):
    spend = P.jevons_spend_ratio(price_ratio, eps)
    assert math.isfinite(spend)
    if eps > 1.0 + 1e-9:
        assert spend >= 1.0
    elif eps < 1.0 - 1e-9:
        assert spend <= 1.0


@pytest.mark.parametrize("kw, name", [
    (dict(price_ratio=0.0, demand_elasticity=1.0), "price_ratio"),
    (dict(price_ratio=-1.0, demand_elasticity=1.0), "price_ratio"),
    (dict(price_ratio=0.5, demand_elasticity=-0.5), "demand_elasticity"),
    (dict(price_ratio="0.5", demand_elasticity=1.0), "price_ratio"),
    (dict(price_ratio=0.5, demand_elasticity=float("inf")), "demand_elasticity"),
])
def test_jevons_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        P.jevons_spend_ratio(**kw)


def test_jevons_overflow_is_a_clear_error():
    with pytest.raises(ValueError, match="overflows"):
        P.jevons_spend_ratio(1e-300, 3.0)


API = econ.data.load("api_prices")


KW = dict(prompt_tok=500.0, answer_tok=500.0, reasoning_tok=4000.0, input_usd_per_mtok=0.55,
          output_usd_per_mtok=2.19)


def test_closed_form_at_r1_and_o1_list_prices():
    r1, o1 = API.loc["deepseek-r1"], API.loc["openai-o1"]
    got = P.question_cost_usd(
        500.0, 500.0, 4000.0, r1["input_usd_per_mtok"], r1["output_usd_per_mtok"]
    )
    assert got == pytest.approx((500 * 0.55 + 4500 * 2.19) / 1e6, rel=1e-12)
    o1_cost = P.question_cost_usd(
        500.0, 500.0, 4000.0, o1["input_usd_per_mtok"], o1["output_usd_per_mtok"]
    )
    assert o1_cost == pytest.approx((500 * 15.0 + 4500 * 60.0) / 1e6, rel=1e-12)
    # as reasoning dominates, the cost ratio tends to the output price ratio (60 / 2.19 = 27.4)
    long = [
        P.question_cost_usd(
            500.0, 500.0, 1e7, api["input_usd_per_mtok"], api["output_usd_per_mtok"]
        )
        for api in (o1, r1)
    ]
    assert long[0] / long[1] == pytest.approx(60.0 / 2.19, rel=1e-3)


def test_agrees_with_traffic_revenue_without_cache_hits():
    a = P.question_cost_usd(700.0, 300.0, 2000.0, 0.55, 2.19)
    b = P.traffic_revenue_usd(700.0, 0.0, 2300.0, 0.55, 0.14, 2.19)
    assert a == pytest.approx(b, rel=1e-12)


def test_zero_tokens_cost_nothing():
    assert P.question_cost_usd(0.0, 0.0, 0.0, 0.55, 2.19) == 0.0


@pytest.mark.parametrize("name", list(KW))
def test_kinds_float_array_series_question(name):
    ref = P.question_cost_usd(**KW)
    assert isinstance(ref, float) and math.isfinite(ref)
    arr = P.question_cost_usd(**{**KW, name: np.full(3, KW[name])})
    assert isinstance(arr, np.ndarray) and arr.shape == (3,)
    np.testing.assert_allclose(arr, ref, rtol=1e-12)
    s = pd.Series(np.full(3, KW[name]), index=["a", "b", "c"])
    out = P.question_cost_usd(**{**KW, name: s})
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c"]
    np.testing.assert_allclose(out.to_numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("name", list(KW))
@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "2", None, True])
def test_bad_values_name_the_parameter(name, bad):
    with pytest.raises(ValueError, match=f"^{name} must"):
        P.question_cost_usd(**{**KW, name: bad})


@given(r1=st.floats(0.0, 1e6), r2=st.floats(0.0, 1e6), p=st.floats(0.0, 100.0))
def test_cost_rises_linearly_with_reasoning(r1, r2, p):
    lo, hi = sorted((r1, r2))
    c_lo = P.question_cost_usd(500.0, 500.0, lo, 0.55, p)
    c_hi = P.question_cost_usd(500.0, 500.0, hi, 0.55, p)
    assert c_hi - c_lo == pytest.approx((hi - lo) * p / 1e6, rel=1e-9, abs=1e-12)


PRICES = econ.data.load("api_prices")


def test_blend_worked_by_hand_at_3_to_1():
    h = price_history(output_frac=0.25)
    gpt4 = h.set_index("name").loc["openai-gpt-4"]
    assert gpt4.blended_usd_per_mtok == pytest.approx(0.75 * 30.0 + 0.25 * 60.0)   # 37.5
    v3 = h.set_index("name").loc["deepseek-v3"]
    assert v3.blended_usd_per_mtok == pytest.approx(0.75 * 0.27 + 0.25 * 1.10)
    # the default mix is data/assumptions.csv's api_blend_output_frac (3:1 -> 0.25)
    assert econ.data.load("assumptions").loc["api_blend_output_frac", "value"] == 0.25
    pd.testing.assert_frame_equal(price_history(), h)


def test_tidy_frame_in_date_order():
    h = price_history(exclude=())
    assert list(h.columns) == ["price_date", "name", "provider", "model", "input_usd_per_mtok",
                               "cached_input_usd_per_mtok", "output_usd_per_mtok", "output_frac",
                               "cache_hit_input_frac", "blended_usd_per_mtok", "mmlu_frac",
                               "source_url"]
    assert len(h) == len(PRICES) and set(h.name) == set(PRICES.index)
    assert pd.api.types.is_datetime64_any_dtype(h.price_date)
    assert h.price_date.is_monotonic_increasing
    assert h.name.iloc[0] == "openai-gpt-4"                    # March 2023, the anchor
    assert (h.blended_usd_per_mtok > 0).all()


def test_cache_hits_billed_at_the_cached_price_or_the_input_price():
    h = price_history(output_frac=0.0, cache_hit_input_frac=1.0).set_index("name")
    assert h.loc["deepseek-v3", "blended_usd_per_mtok"] == pytest.approx(0.07)
    # no cache price listed: a hit costs the input price
    assert np.isnan(PRICES.loc["cerebras-llama-3.1-70b", "cached_input_usd_per_mtok"])
    assert h.loc["cerebras-llama-3.1-70b", "blended_usd_per_mtok"] == pytest.approx(0.60)


def test_cost_of_gpt4_level_capability_fell():
    # models scoring at least GPT-4's 86.4% MMLU (GPT-4 report, Table 2)
    h = price_history(min_mmlu_frac=0.864)
    assert (h.mmlu_frac >= 0.864).all() and "openai-gpt-4o-mini" not in set(h.name)
    first, cheapest = h.iloc[0], h.loc[h.blended_usd_per_mtok.idxmin()]
    assert first["name"] == "openai-gpt-4"
    assert cheapest.price_date > first.price_date
    # DeepSeek-V3 at list price, 3:1: $0.4775 against GPT-4's $37.50
    assert first.blended_usd_per_mtok / h.set_index("name").loc[
        "deepseek-v3", "blended_usd_per_mtok"] == pytest.approx(37.5 / 0.4775)


def test_a_custom_table_without_capability_column():
    t = pd.DataFrame({"provider": ["x", "y"], "model": ["a", "b"],
                      "input_usd_per_mtok": [1.0, 2.0], "output_usd_per_mtok": [3.0, 4.0],
                      "price_date": ["2025-01-02", "2024-01-02"]}, index=["x-a", "y-b"])
    h = price_history(t, output_frac=0.5)
    assert list(h.name) == ["y-b", "x-a"]
    np.testing.assert_allclose(h.blended_usd_per_mtok, [3.0, 2.0])
    assert h.mmlu_frac.isna().all() and h.cached_input_usd_per_mtok.isna().all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(output_frac=1.5), "output_frac"),
    (dict(cache_hit_input_frac=-0.1), "cache_hit_input_frac"),
    (dict(min_mmlu_frac=86.4), "min_mmlu_frac"),
    (dict(prices="openai-gpt-4"), "prices must be a table"),
    (dict(prices=PRICES.drop(columns="price_date")), r"lacks the column\(s\) \['price_date'\]"),
    (dict(prices=PRICES.assign(price_date="March 2023")), "not an ISO date"),
    (dict(prices=PRICES.assign(output_usd_per_mtok=np.nan)), "output_usd_per_mtok of"),
])
def test_bad_inputs_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        price_history(**kwargs)


@pytest.mark.parametrize("kind", [float, np.asarray, pd.Series])
def test_compressed_margin_cost_is_the_vendors_capital_rescaled(kind):
    # 60 % of a $1.00/Mtok cost is capital paid to a vendor at a 75 % margin; at 50 % the price
    # halves: 1 - 0.6 * 0.5 = 0.7
    x = kind([1.0, 2.0]) if kind is not float else 1.0
    out = econ.compressed_margin_cost_usd_per_mtok(x, 0.6, 0.75, 0.5)
    assert isinstance(out, float if kind is float else (np.ndarray if kind is np.asarray
                                                        else pd.Series))
    assert np.allclose(out, 0.7 * np.asarray(x))
    # unchanged margin, unchanged cost; sold at cost, the margin leaves the capital
    assert econ.compressed_margin_cost_usd_per_mtok(1.0, 0.6, 0.75, 0.75) == pytest.approx(1.0)
    assert econ.compressed_margin_cost_usd_per_mtok(1.0, 0.6, 0.75, 0.0) == pytest.approx(
        1 - 0.6 * 0.75)
    with pytest.raises(ValueError, match="vendor_capex_share_frac"):
        econ.compressed_margin_cost_usd_per_mtok(1.0, 1.5, 0.75, 0.5)


def test_vendor_revenue_and_its_break_even_elasticity():
    # inelastic demand (0): revenue falls with the device price; unit elasticity: quantity
    # grows by 1 / token price
    assert econ.vendor_revenue_ratio(0.5, 0.8, 0.0) == pytest.approx(0.5)
    assert econ.vendor_revenue_ratio(0.5, 0.8, 1.0) == pytest.approx(0.5 / 0.8)
    e = econ.breakeven_elasticity_ratio(0.5, 0.8)
    assert e == pytest.approx(np.log(0.5) / np.log(0.8))
    assert econ.vendor_revenue_ratio(0.5, 0.8, e) == pytest.approx(1.0)
    arr = econ.vendor_revenue_ratio(0.5, 0.8, np.array([0.0, 1.0]))
    assert arr.shape == (2,)
    with pytest.raises(ValueError, match="differ from 1"):
        econ.breakeven_elasticity_ratio(0.5, 1.0)


def test_jevons_cases_are_tidy_and_match_the_closed_forms():
    t = econ.jevons_cases([0.0, 1.0, 2.0], {"spend": 0.5, "vendor": (0.5, 0.25)})
    assert list(t.columns) == ["case", "demand_elasticity", "spend_ratio"] and len(t) == 6
    spend = t[t["case"] == "spend"]["spend_ratio"].to_numpy()
    np.testing.assert_allclose(spend, [0.5, 1.0, 2.0])  # 0.5 ** (1 - e)
    vendor = t[t["case"] == "vendor"]["spend_ratio"].to_numpy()
    np.testing.assert_allclose(vendor, [0.25, 0.5, 1.0])  # 0.25 * 0.5 ** -e


def test_price_history_keeps_chosen_models_and_leaves_out_time_of_day_discounts():
    api = econ.data.load("api_prices")
    h = econ.price_history(api, output_frac=0.25)
    assert h["price_date"].is_monotonic_increasing
    assert not h["name"].str.contains("off-peak").any()
    assert len(econ.price_history(api, output_frac=0.25, exclude=())) == len(api)
    # output only, and a single row per model works; its source comes along
    one = econ.price_history(api, output_frac=1.0, models=["o1"])
    assert len(one) == 1 and one["blended_usd_per_mtok"].iloc[0] == pytest.approx(60.0)
    assert one["source_url"].iloc[0].startswith("http")
    with pytest.raises(ValueError, match="no price rows"):
        econ.price_history(api, models=["no-such-model"])
    with pytest.raises(ValueError, match="output_frac"):
        econ.price_history(api, output_frac=-1.0)
