"""econ.amortization: annuity closed forms, limits, kinds, monotonicity, bad input.

Merged from test_amortization_serving.py: econ.amortization: $/Mtok of owned systems and the
break-even utilization."""
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
    scalar_kwargs,
)
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import amortization as A

# --- valid scalar arguments of each public function, and the range each argument allows -----
# kinds: nonneg >= 0, pos > 0, frac [0, 1], frac_pos (0, 1], ge1 >= 1
CASES = {
    A.capital_recovery_factor: dict(cost_of_capital_frac=(0.08, "frac"), life_years=(5.0, "pos")),
    A.capex_usd_per_hour: dict(
        purchase_usd=(25_000.0, "nonneg"),
        life_years=(5.0, "pos"),
        cost_of_capital_frac=(0.08, "frac"),
    ),
    A.power_usd_per_hour: dict(
        power_w=(700.0, "nonneg"), pue_ratio=(1.3, "ge1"), electricity_usd_per_kwh=(0.08, "nonneg")
    ),
    A.hosting_opex_usd_per_hour: dict(
        purchase_usd=(25_000.0, "nonneg"), hosting_opex_frac=(0.1, "frac")
    ),
    A.device_usd_per_hour: dict(
        purchase_usd=(25_000.0, "nonneg"),
        life_years=(5.0, "pos"),
        cost_of_capital_frac=(0.08, "frac"),
        power_w=(700.0, "nonneg"),
        pue_ratio=(1.3, "ge1"),
        electricity_usd_per_kwh=(0.08, "nonneg"),
        hosting_opex_frac=(0.1, "frac"),
    ),
    A.useful_usd_per_hour: dict(usd_per_hour=(2.0, "nonneg"), utilization_frac=(0.6, "frac_pos")),
    A.rental_premium_ratio: dict(
        rental_usd_per_hour=(2.0, "nonneg"), owned_usd_per_hour=(1.2, "pos")
    ),
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


# --- closed forms ---------------------------------------------------------------------------

def test_annuity_hand_worked():
    # 8 %/yr over 5 years: 0.08 * 1.08^5 / (1.08^5 - 1) = 0.08 * 1.4693281 / 0.4693281
    assert A.capital_recovery_factor(0.08, 5) == pytest.approx(0.2504564545, rel=1e-9)
    # 10 %/yr over 3 years: 0.1 * 1.331 / 0.331
    assert A.capital_recovery_factor(0.10, 3) == pytest.approx(0.1331 / 0.331, rel=1e-12)
    # one year: repay principal plus one year's interest
    assert A.capital_recovery_factor(0.07, 1) == pytest.approx(1.07, rel=1e-12)
    # $25,000 at 8 % over 5 years: $6,261.41 a year, /8760 h
    assert A.capex_usd_per_hour(25_000, 5, 0.08) == pytest.approx(6261.411363 / 8760, rel=1e-9)


def test_annuity_present_value_repays_the_purchase():
    r, n = 0.09, 6
    pmt = A.capital_recovery_factor(r, n)
    assert sum(pmt / (1 + r) ** t for t in range(1, n + 1)) == pytest.approx(1.0, rel=1e-12)


def test_straight_line_at_zero_rate_and_limit():
    assert A.capital_recovery_factor(0.0, 4) == 0.25
    assert A.capex_usd_per_hour(35_040, 4, 0.0) == pytest.approx(1.0)
    # continuous at r -> 0 and exact for tiny rates (no cancellation)
    for r in (1e-6, 1e-10, 1e-15, 5e-324):
        assert A.capital_recovery_factor(r, 4) == pytest.approx(0.25, rel=1e-5)
    mixed = A.capital_recovery_factor(np.array([0.0, 0.05]), 4)
    assert mixed[0] == 0.25 and mixed[1] == pytest.approx(0.282011833, rel=1e-8)


def test_long_life_tends_to_the_interest_rate():
    assert A.capital_recovery_factor(0.08, 500) == pytest.approx(0.08, rel=1e-12)


def test_power_and_opex_closed_forms():
    # 700 W x 1.5 PUE = 1.05 kW for an hour at $0.10 = $0.105
    assert A.power_usd_per_hour(700, 1.5, 0.10) == pytest.approx(0.105)
    assert A.hosting_opex_usd_per_hour(87_600, 0.10) == pytest.approx(1.0)


def test_device_is_the_sum_of_its_parts():
    kw = scalar_kwargs(CASES, A.device_usd_per_hour)
    parts = (A.capex_usd_per_hour(kw["purchase_usd"], kw["life_years"], kw["cost_of_capital_frac"])
             + A.power_usd_per_hour(kw["power_w"], kw["pue_ratio"], kw["electricity_usd_per_kwh"])
             + A.hosting_opex_usd_per_hour(kw["purchase_usd"], kw["hosting_opex_frac"]))
    assert A.device_usd_per_hour(**kw) == pytest.approx(parts, rel=1e-12)
    del kw["hosting_opex_frac"]
    assert A.device_usd_per_hour(**kw) == pytest.approx(
        parts - A.hosting_opex_usd_per_hour(25_000, 0.1), rel=1e-12)


def test_useful_hour_limits():
    assert A.useful_usd_per_hour(2.0, 1.0) == 2.0
    assert A.useful_usd_per_hour(2.0, 0.5) == 4.0
    with pytest.raises(ValueError, match=r"utilization_frac must be in \(0, 1\], got 0.0"):
        A.useful_usd_per_hour(2.0, 0.0)


def test_rental_premium_and_breakeven_utilization():
    ratio = A.rental_premium_ratio(2.0, 1.0)
    assert ratio == 2.0
    # at utilization 1/ratio, owning costs the rental price per useful hour
    assert A.useful_usd_per_hour(1.0, 1 / ratio) == pytest.approx(2.0)


# --- owned_usd_per_hour from hardware rows ---------------------------------------------------

HW = pd.DataFrame(
    {"purchase_usd": [25_000.0, 2_500_000.0, 20_000.0], "tdp_w": [700.0, 23_000.0, 375.0],
     "n_devices_per_node": [8.0, 1.0, 8.0], "rental_usd_per_hour": [2.0, np.nan, np.nan],
     "notes": ["gpu", "wafer", "lpu"]},
    index=pd.Index(["GPU-A", "WAFER-B", "LPU-C"], name="name"))
ASSUME = dict(life_years=5.0, cost_of_capital_frac=0.08, pue_ratio=1.3,
              electricity_usd_per_kwh=0.08)


def test_owned_row_matches_device_formula():
    row = HW.loc["GPU-A"]
    cost = A.owned_usd_per_hour(row, **ASSUME, hosting_opex_frac=0.1, system_overhead_frac=0.5,
                                power_overhead_frac=0.8, power_load_frac=0.9)
    system = A.device_usd_per_hour(25_000 * 8 * 1.5, 5, 0.08, 700 * 0.9 * 8 * 1.8, 1.3, 0.08, 0.1)
    assert isinstance(cost, A.OwnedCost)
    assert isinstance(cost.system_usd_per_hour, float)
    assert cost.system_usd_per_hour == pytest.approx(system, rel=1e-12)
    assert cost.device_usd_per_hour == pytest.approx(system / 8, rel=1e-12)
    device, system_ = cost  # unpacks
    assert device < system_


def test_owned_defaults_count_the_devices_only():
    cost = A.owned_usd_per_hour(HW.loc["GPU-A"], **ASSUME)
    assert cost.device_usd_per_hour == pytest.approx(
        A.device_usd_per_hour(25_000, 5, 0.08, 700, 1.3, 0.08), rel=1e-12)


def test_owned_vectorized_over_assumptions():
    life = np.array([3.0, 4.0, 5.0, 6.0])
    cost = A.owned_usd_per_hour(HW.loc["GPU-A"], **{**ASSUME, "life_years": life})
    assert isinstance(cost.device_usd_per_hour, np.ndarray) and cost.device_usd_per_hour.shape == (
        4,
    )
    assert np.all(np.diff(cost.device_usd_per_hour) < 0)
    scen = pd.Series([0.05, 0.10], index=["low", "high"])
    by_rate = A.owned_usd_per_hour(HW.loc["GPU-A"], **{**ASSUME, "cost_of_capital_frac": scen})
    assert isinstance(by_rate.system_usd_per_hour, pd.Series)
    assert by_rate.system_usd_per_hour["high"] > by_rate.system_usd_per_hour["low"]


def test_owned_over_the_table_and_the_rental_premium():
    cost = A.owned_usd_per_hour(HW, **ASSUME)
    assert isinstance(cost.device_usd_per_hour, pd.Series)
    assert cost.device_usd_per_hour.index.equals(HW.index)
    assert cost.device_usd_per_hour["WAFER-B"] == cost.system_usd_per_hour["WAFER-B"]
    table = pd.DataFrame(cost._asdict())
    assert list(table.columns) == ["device_usd_per_hour", "system_usd_per_hour"]
    ratio = A.rental_premium_ratio(HW.loc["GPU-A", "rental_usd_per_hour"],
                                   cost.device_usd_per_hour["GPU-A"])
    assert 0 < ratio < 10


def test_owned_bad_hardware():
    with pytest.raises(ValueError, match=r"hardware 'WAFER-B' has no purchase_usd"):
        A.owned_usd_per_hour(HW.loc["WAFER-B"].replace(2_500_000.0, np.nan), **ASSUME)
    broken = HW.assign(tdp_w=[700.0, np.nan, np.nan])
    with pytest.raises(ValueError, match=r"hardware \['WAFER-B', 'LPU-C'\] has no tdp_w"):
        A.owned_usd_per_hour(broken, **ASSUME)
    with pytest.raises(ValueError, match="needs the column"):
        A.owned_usd_per_hour(HW.drop(columns="tdp_w"), **ASSUME)
    with pytest.raises(ValueError, match="n_devices_per_node must be a whole number"):
        A.owned_usd_per_hour(HW.assign(n_devices_per_node=2.5), **ASSUME)
    with pytest.raises(ValueError, match="hardware must be"):
        A.owned_usd_per_hour(3.0, **ASSUME)
    with pytest.raises(ValueError, match=r"^system_overhead_frac must be in \[0, 1\]"):
        A.owned_usd_per_hour(HW, **ASSUME, system_overhead_frac=-0.1)
    with pytest.raises(ValueError, match=r"^pue_ratio must be >= 1"):
        A.owned_usd_per_hour(HW, **{**ASSUME, "pue_ratio": 0.5})


ASSUMPTIONS = econ.data.load("assumptions")["value"]
DEFAULTS = dict(life_years=ASSUMPTIONS["server_life_years"],
                cost_of_capital_frac=ASSUMPTIONS["cost_of_capital_frac"],
                pue_ratio=ASSUMPTIONS["pue_ratio"],
                electricity_usd_per_kwh=ASSUMPTIONS["electricity_usd_per_kwh"],
                hosting_opex_frac=ASSUMPTIONS["hosting_opex_frac"])


def test_owned_from_the_hardware_table():
    hw = econ.data.load("hardware")
    priced = hw[hw["purchase_usd"].notna() & hw["tdp_w"].notna()]
    assert len(priced) > 0
    cost = A.owned_usd_per_hour(priced, **DEFAULTS)
    assert cost.device_usd_per_hour.index.equals(priced.index)
    assert np.isfinite(cost.device_usd_per_hour).all() and (cost.device_usd_per_hour > 0).all()
    name = priced.index[0]
    by_name = A.owned_usd_per_hour(name, **DEFAULTS)
    assert by_name.device_usd_per_hour == pytest.approx(cost.device_usd_per_hour[name])
    with pytest.raises(KeyError, match="valid"):
        A.owned_usd_per_hour("no-such-chip", **DEFAULTS)


def test_purchase_price_override_for_unpriced_hardware():
    # the CS-3 has no published price: the assumptions table gives one, passed explicitly
    with pytest.raises(ValueError, match=r"hardware 'cerebras-cs3' has no purchase_usd.*"
                                         r"pass purchase_usd="):
        A.owned_usd_per_hour("cerebras-cs3", **DEFAULTS)
    price = ASSUMPTIONS["cerebras_cs3_purchase_usd"]
    cs3 = A.owned_usd_per_hour("cerebras-cs3", **DEFAULTS, purchase_usd=price)
    tdp = econ.data.row("hardware", "cerebras-cs3")["tdp_w"]
    assert cs3.system_usd_per_hour == cs3.device_usd_per_hour == pytest.approx(
        A.device_usd_per_hour(price, **{**DEFAULTS, "power_w": tdp}), rel=1e-12)
    sampled = A.owned_usd_per_hour("cerebras-cs3", **DEFAULTS,
                                   purchase_usd=np.array([1.5e6, 2e6, 3e6]))
    assert isinstance(sampled.device_usd_per_hour, np.ndarray)
    assert np.all(np.diff(sampled.device_usd_per_hour) > 0)
    with pytest.raises(ValueError, match="^purchase_usd must be >= 0"):
        A.owned_usd_per_hour("cerebras-cs3", **DEFAULTS, purchase_usd=-1.0)


def test_owned_h100_node_is_near_the_rental_market():
    # A sanity check against the world, not a reproduction: an H100 in an 8-GPU server
    # (server adds ~50 % to the GPUs' price, 10.2 kW of IT power against 8 x 700 W) under the
    # default assumptions should cost the same order as the $2/GPU-hour lease DeepSeek assumes.
    cost = A.owned_usd_per_hour("h100-sxm", **DEFAULTS, system_overhead_frac=0.5,
                                power_overhead_frac=10_200 / 5_600 - 1)
    premium = A.rental_premium_ratio(ASSUMPTIONS["h800_rental_usd_per_hour"],
                                     cost.device_usd_per_hour)
    assert 0.5 < premium < 3.0


# --- properties -------------------------------------------------------------------------------

rate = st.floats(0.0, 1.0)
life = st.floats(0.05, 50.0)
usd = st.floats(0.0, 1e8)
watts = st.floats(0.0, 1e6)
pue = st.floats(1.0, 3.0)
kwh = st.floats(0.0, 2.0)
frac = st.floats(0.0, 1.0)
util = st.floats(1e-3, 1.0)


@given(r=rate, n=life, p=usd, w=watts, q=pue, e=kwh, f=frac, u=util)
def test_finite_and_nonnegative_for_valid_input(r, n, p, w, q, e, f, u):
    crf = A.capital_recovery_factor(r, n)
    assert math.isfinite(crf) and crf >= 1 / n * (1 - 1e-12) and crf >= r * (1 - 1e-12)
    c = A.device_usd_per_hour(p, n, r, w, q, e, f)
    assert math.isfinite(c) and c >= 0
    cu = A.useful_usd_per_hour(c, u)
    assert math.isfinite(cu) and cu >= c * (1 - 1e-12)


@given(r1=rate, r2=rate, n1=life, n2=life)
def test_crf_rises_with_rate_and_falls_with_life(r1, r2, n1, n2):
    lo, hi = sorted((r1, r2))
    assert A.capital_recovery_factor(lo, n1) <= A.capital_recovery_factor(hi, n1) * (1 + 1e-12)
    short, long_ = sorted((n1, n2))
    assert A.capital_recovery_factor(r1, long_) <= A.capital_recovery_factor(r1, short) * (
        1 + 1e-12
    )


@given(p1=usd, p2=usd, w1=watts, w2=watts, e1=kwh, e2=kwh, q=pue, n=life, r=rate, f=frac)
def test_device_cost_rises_with_each_price(p1, p2, w1, w2, e1, e2, q, n, r, f):
    p_lo, p_hi = sorted((p1, p2))
    w_lo, w_hi = sorted((w1, w2))
    e_lo, e_hi = sorted((e1, e2))
    lo = A.device_usd_per_hour(p_lo, n, r, w_lo, q, e_lo, f)
    hi = A.device_usd_per_hour(p_hi, n, r, w_hi, q, e_hi, f)
    assert lo <= hi * (1 + 1e-12)


@given(c=st.floats(0.0, 1e6), u1=util, u2=util)
def test_useful_cost_falls_with_utilization(c, u1, u2):
    lo, hi = sorted((u1, u2))
    assert A.useful_usd_per_hour(c, hi) <= A.useful_usd_per_hour(c, lo) * (1 + 1e-12)


@given(o1=frac, o2=frac, po=frac, load=frac)
def test_owned_system_cost_rises_with_overheads(o1, o2, po, load):
    lo, hi = sorted((o1, o2))
    a = A.owned_usd_per_hour(HW.loc["GPU-A"], **ASSUME, system_overhead_frac=lo,
                             power_overhead_frac=po, power_load_frac=load)
    b = A.owned_usd_per_hour(HW.loc["GPU-A"], **ASSUME, system_overhead_frac=hi,
                             power_overhead_frac=po, power_load_frac=load)
    assert a.system_usd_per_hour <= b.system_usd_per_hour * (1 + 1e-12)
    assert b.device_usd_per_hour == pytest.approx(b.system_usd_per_hour / 8, rel=1e-12)


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
# econ.amortization: $/Mtok of owned systems and the break-even utilization.
# --------------------------------------------------------------------------------------------

OWNED = dict(life_years=5.0, cost_of_capital_frac=0.1, pue_ratio=1.25,
             electricity_usd_per_kwh=0.08, hosting_opex_frac=0.08)


def _by_hand(purchase_usd, n_dev, tdp_w, tput, util, n_systems=1.0, over=0.0, p_over=0.0):
    r, n = OWNED["cost_of_capital_frac"], OWNED["life_years"]
    crf = r / (1.0 - (1.0 + r) ** -n)
    capex = purchase_usd * n_dev * (1.0 + over)
    per_hour = (capex * (crf + OWNED["hosting_opex_frac"]) / 8760.0
                + tdp_w * n_dev * (1.0 + p_over) / 1000.0 * OWNED["pue_ratio"]
                * OWNED["electricity_usd_per_kwh"])
    return n_systems * per_hour / util / (tput * 3600.0) * 1e6


def test_owned_usd_per_mtok_matches_a_hand_worked_case():
    got = A.owned_usd_per_mtok("h100-sxm", 12_000.0, 0.6, n_systems=2.0,
                               system_overhead_frac=0.35, power_overhead_frac=0.82, **OWNED)
    want = _by_hand(30_000.0, 8, 700.0, 12_000.0, 0.6, 2.0, 0.35, 0.82)
    assert got == pytest.approx(want, rel=1e-12)


def test_owned_usd_per_mtok_agrees_with_the_chain_it_stands_for():
    cost = econ.owned_usd_per_hour("groq-lpu", **OWNED, system_overhead_frac=0.3)
    chain = econ.cost_usd_per_mtok(
        econ.useful_usd_per_hour(3.0 * cost.system_usd_per_hour, 0.7), 5e4)
    got = A.owned_usd_per_mtok("groq-lpu", 5e4, 0.7, n_systems=3.0, system_overhead_frac=0.3,
                               **OWNED)
    assert got == pytest.approx(chain, rel=1e-12)


def test_purchase_override_prices_unpriced_hardware():
    with pytest.raises(ValueError, match="purchase_usd"):
        A.owned_usd_per_mtok("cerebras-cs3", 1e5, 1.0, **OWNED)
    got = A.owned_usd_per_mtok("cerebras-cs3", 1e5, 1.0, purchase_usd=2e6, **OWNED)
    assert got == pytest.approx(_by_hand(2e6, 1, 23_000.0, 1e5, 1.0), rel=1e-12)


def test_kinds_and_broadcasting():
    ref = A.owned_usd_per_mtok("h100-sxm", 1e4, 0.5, **OWNED)
    assert isinstance(ref, float) and math.isfinite(ref)
    arr = A.owned_usd_per_mtok("h100-sxm", 1e4, np.array([0.5, 1.0]), **OWNED)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, [ref, ref / 2.0], rtol=1e-12)
    s = A.owned_usd_per_mtok("h100-sxm", pd.Series([1e4, 2e4], index=["a", "b"]), 0.5,
                             **OWNED)
    assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
    np.testing.assert_allclose(s, [ref, ref / 2.0], rtol=1e-12)
    grid = A.owned_usd_per_mtok("h100-sxm", 1e4, np.array([[0.5], [1.0]]),
                                purchase_usd=np.array([25e3, 30e3, 35e3]), **OWNED)
    assert grid.shape == (2, 3) and np.all(np.diff(grid, axis=1) > 0)


def test_monotonic_in_the_economic_direction():
    base = dict(hardware="h100-sxm", throughput_tok_per_s=1e4, utilization_frac=0.6, **OWNED)
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
    kw = dict(hardware="h100-sxm", throughput_tok_per_s=1e4, utilization_frac=0.6, **OWNED)
    with pytest.raises(ValueError, match=name):
        A.owned_usd_per_mtok(**{**kw, name: bad})


def test_runs_inside_monte_carlo_over_a_utilization_grid():
    mc = econ.monte_carlo(
        A.owned_usd_per_mtok, {"purchase_usd": econ.uniform(25e3, 30e3)}, n_samples=200,
        seed=1, over=econ.grid(utilization_frac=[0.5, 1.0]), output="cost_usd_per_mtok",
        constants=dict(hardware=econ.data.row("hardware", "h100-sxm"),
                       throughput_tok_per_s=1e4, **OWNED))
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
