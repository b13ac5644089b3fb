"""econ.pricing.question_cost_usd: one answered question with reasoning tokens billed as output."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import pricing as P

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
def test_kinds_float_array_series(name):
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
