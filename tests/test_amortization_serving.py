"""econ.amortization: $/Mtok of owned systems and the break-even utilization."""
import math

import numpy as np
import pandas as pd
import pytest

import econ
from econ import amortization as A

ASSUME = dict(life_years=5.0, cost_of_capital_frac=0.1, pue_ratio=1.25,
              electricity_usd_per_kwh=0.08, hosting_opex_frac=0.08)


def _by_hand(purchase_usd, n_dev, tdp_w, tput, util, n_systems=1.0, over=0.0, p_over=0.0):
    r, n = ASSUME["cost_of_capital_frac"], ASSUME["life_years"]
    crf = r / (1.0 - (1.0 + r) ** -n)
    capex = purchase_usd * n_dev * (1.0 + over)
    per_hour = (capex * (crf + ASSUME["hosting_opex_frac"]) / 8760.0
                + tdp_w * n_dev * (1.0 + p_over) / 1000.0 * ASSUME["pue_ratio"]
                * ASSUME["electricity_usd_per_kwh"])
    return n_systems * per_hour / util / (tput * 3600.0) * 1e6


def test_owned_usd_per_mtok_matches_a_hand_worked_case():
    got = A.owned_usd_per_mtok("h100-sxm", 12_000.0, 0.6, n_systems=2.0,
                               system_overhead_frac=0.35, power_overhead_frac=0.82, **ASSUME)
    want = _by_hand(30_000.0, 8, 700.0, 12_000.0, 0.6, 2.0, 0.35, 0.82)
    assert got == pytest.approx(want, rel=1e-12)


def test_owned_usd_per_mtok_agrees_with_the_chain_it_stands_for():
    cost = econ.owned_usd_per_hour("groq-lpu", **ASSUME, system_overhead_frac=0.3)
    chain = econ.cost_usd_per_mtok(
        econ.useful_usd_per_hour(3.0 * cost.system_usd_per_hour, 0.7), 5e4)
    got = A.owned_usd_per_mtok("groq-lpu", 5e4, 0.7, n_systems=3.0, system_overhead_frac=0.3,
                               **ASSUME)
    assert got == pytest.approx(chain, rel=1e-12)


def test_purchase_override_prices_unpriced_hardware():
    with pytest.raises(ValueError, match="purchase_usd"):
        A.owned_usd_per_mtok("cerebras-cs3", 1e5, 1.0, **ASSUME)
    got = A.owned_usd_per_mtok("cerebras-cs3", 1e5, 1.0, purchase_usd=2e6, **ASSUME)
    assert got == pytest.approx(_by_hand(2e6, 1, 23_000.0, 1e5, 1.0), rel=1e-12)


def test_kinds_and_broadcasting():
    ref = A.owned_usd_per_mtok("h100-sxm", 1e4, 0.5, **ASSUME)
    assert isinstance(ref, float) and math.isfinite(ref)
    arr = A.owned_usd_per_mtok("h100-sxm", 1e4, np.array([0.5, 1.0]), **ASSUME)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, [ref, ref / 2.0], rtol=1e-12)
    s = A.owned_usd_per_mtok("h100-sxm", pd.Series([1e4, 2e4], index=["a", "b"]), 0.5,
                             **ASSUME)
    assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
    np.testing.assert_allclose(s, [ref, ref / 2.0], rtol=1e-12)
    grid = A.owned_usd_per_mtok("h100-sxm", 1e4, np.array([[0.5], [1.0]]),
                                purchase_usd=np.array([25e3, 30e3, 35e3]), **ASSUME)
    assert grid.shape == (2, 3) and np.all(np.diff(grid, axis=1) > 0)


def test_monotonic_in_the_economic_direction():
    base = dict(hardware="h100-sxm", throughput_tok_per_s=1e4, utilization_frac=0.6, **ASSUME)
    f = A.owned_usd_per_mtok
    assert f(**{**base, "utilization_frac": 0.9}) < f(**base)
    assert f(**{**base, "throughput_tok_per_s": 2e4}) < f(**base)
    assert f(**{**base, "purchase_usd": 40e3}) > f(**base)
    assert f(**{**base, "n_systems": 2.0}) == pytest.approx(2.0 * f(**base))
    assert f(**{**base, "electricity_usd_per_kwh": 0.2}) > f(**base)


@pytest.mark.parametrize("name,bad", [("utilization_frac", 0.0), ("utilization_frac", 1.2),
                                      ("throughput_tok_per_s", 0.0), ("n_systems", -1.0),
                                      ("n_systems", float("nan")), ("purchase_usd", -5.0)])
def test_bad_input_names_the_parameter(name, bad):
    kw = dict(hardware="h100-sxm", throughput_tok_per_s=1e4, utilization_frac=0.6, **ASSUME)
    with pytest.raises(ValueError, match=name):
        A.owned_usd_per_mtok(**{**kw, name: bad})


def test_runs_inside_monte_carlo_over_a_utilization_grid():
    mc = econ.monte_carlo(
        A.owned_usd_per_mtok, {"purchase_usd": econ.uniform(25e3, 30e3)}, n_samples=200,
        seed=1, over=econ.grid(utilization_frac=[0.5, 1.0]), output="cost_usd_per_mtok",
        constants=dict(hardware=econ.data.row("hardware", "h100-sxm"),
                       throughput_tok_per_s=1e4, **ASSUME))
    half = mc.query("utilization_frac == 0.5")["cost_usd_per_mtok"].to_numpy()
    full = mc.query("utilization_frac == 1.0")["cost_usd_per_mtok"].to_numpy()
    np.testing.assert_allclose(half, 2.0 * full, rtol=1e-12)  # common random numbers


def test_break_even_closed_form_and_meaning():
    assert A.break_even_utilization_frac(0.30, 0.60) == pytest.approx(0.5)
    # at the break-even utilization the two costs are equal
    full, ref = 0.37, 0.49
    u = A.break_even_utilization_frac(full, ref)
    assert econ.useful_usd_per_hour(full, u) == pytest.approx(ref)
    # a system dearer than the reference even at full use never breaks even
    assert A.break_even_utilization_frac(0.8, 0.5) > 1.0
    assert A.break_even_utilization_frac(0.0, 0.5) == 0.0


def test_break_even_kinds():
    arr = A.break_even_utilization_frac(np.array([0.1, 0.2]), 0.4)
    np.testing.assert_allclose(arr, [0.25, 0.5])
    s = A.break_even_utilization_frac(pd.Series([0.1, 0.2], index=["x", "y"]),
                                      pd.Series([0.4, 0.4], index=["x", "y"]))
    assert isinstance(s, pd.Series) and list(s.index) == ["x", "y"]


@pytest.mark.parametrize("kw,name", [(dict(full_use_usd_per_mtok=-0.1), "full_use_usd_per_mtok"),
                                     (dict(reference_usd_per_mtok=0.0), "reference_usd_per_mtok"),
                                     (dict(reference_usd_per_mtok=float("inf")),
                                      "reference_usd_per_mtok")])
def test_break_even_bad_input(kw, name):
    args = {"full_use_usd_per_mtok": 0.3, "reference_usd_per_mtok": 0.5, **kw}
    with pytest.raises(ValueError, match=name):
        A.break_even_utilization_frac(**args)
