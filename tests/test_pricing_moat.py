"""Additions for the token-pricing and NVIDIA-moat notebooks: the decode $/Mtok chain
(econ.inference), and in econ.pricing a supplier's price at another gross margin and Jevons
spend under constant-elasticity demand."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import inference as I
from econ import pricing as P

PUB = econ.data.load("published")["value"]


# --- decode_cost_usd_per_mtok ------------------------------------------------------------------

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


# --- price_at_gross_margin_usd -----------------------------------------------------------------

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


# --- jevons_spend_ratio ------------------------------------------------------------------------

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
