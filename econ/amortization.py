"""What an accelerator, or a whole system, costs per hour to own.

The owned hourly cost of a device is the sum of three parts:

* **capex**: the purchase price spread over the device's life as a level annuity at a
  cost of capital (:func:`capital_recovery_factor`; straight-line when the rate is 0);
* **power**: average draw x PUE x electricity price (:func:`power_usd_per_hour`);
* **opex**: hosting, maintenance, networking share and staff, as a yearly fraction of the
  purchase price (:func:`hosting_opex_usd_per_hour`).

:func:`device_usd_per_hour` adds them; :func:`useful_usd_per_hour` divides by a utilization
to give the cost of an hour of paid work; :func:`owned_usd_per_hour` does all of it from a
row of ``econ.data.load("hardware")`` for one device and for the system (an 8-GPU node, a
Groq server, a Cerebras CS-3) it sits in; :func:`rental_premium_ratio` compares a rental
price with the owned cost.

Every function takes floats, numpy arrays or pandas Series, broadcasts them, and returns the
kind it was given.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from . import data
from ._checks import finite_result as _finite_result
from ._checks import fraction, like, nonnegative, numeric, positive
from .units import cost_usd_per_mtok

__all__ = [
    "HOURS_PER_YEAR",
    "capital_recovery_factor",
    "capex_usd_per_hour",
    "power_usd_per_hour",
    "hosting_opex_usd_per_hour",
    "device_usd_per_hour",
    "useful_usd_per_hour",
    "OwnedCost",
    "owned_usd_per_hour",
    "rental_premium_ratio",
    "owned_usd_per_mtok",
    "break_even_utilization_frac",
]

#: Hours in a (365-day) year: the hours over which a year's capital charge is spread.
HOURS_PER_YEAR = 8760.0
W_PER_KW = 1000.0


@_finite_result
def capital_recovery_factor(cost_of_capital_frac, life_years):
    r"""Yearly payment that repays 1 USD over ``life_years`` at ``cost_of_capital_frac``.

    The level annuity (capital recovery factor)

    .. math:: \mathrm{CRF}(r, n) = \frac{r}{1 - (1 + r)^{-n}}

    which tends to the straight-line :math:`1/n` as :math:`r \to 0` (used exactly at
    :math:`r = 0`). Computed with ``log1p``/``expm1``, and a first-order expansion where
    :math:`r n < 10^{-10}`, so that small rates keep full precision.
    A fractional life (4.5 years) is allowed: the formula is continuous in :math:`n`.

    Parameters
    ----------
    cost_of_capital_frac : numeric
        Yearly cost of capital (discount rate, WACC), e.g. 0.08 for 8 %/year. [fraction/year]
    life_years : numeric
        Economic life over which the purchase is recovered. [years]

    Returns
    -------
    numeric
        Yearly payment per USD of purchase price. [1/year]

    Raises
    ------
    ValueError
        A rate outside [0, 1], a life that is not > 0, or a value that is not a finite number.

    References
    ----------
    .. [1] W. Short, D. J. Packey, T. Holt, "A Manual for the Economic Evaluation of Energy
       Efficiency and Renewable Energy Technologies", NREL/TP-462-5173, 1995, sec. 4.
    """
    r = fraction("cost_of_capital_frac", cost_of_capital_frac)
    n = positive("life_years", life_years)
    return like(_crf(r, n), cost_of_capital_frac, life_years)


def _crf(r, n):
    # r / (1 - (1 + r)^-n), with 1 - (1 + r)^-n = -expm1(-n log1p(r)). Where r n is tiny
    # (r == 0 included) the first-order expansion (1/n)(1 + r (n + 1) / 2) is exact to
    # double precision and avoids dividing subnormals.
    small = r * n < 1e-10
    denom = -np.expm1(-n * np.log1p(r))
    exact = r / np.where(small, 1.0, denom)
    return np.where(small, (1.0 + 0.5 * r * (n + 1.0)) / n, exact)


@_finite_result
def capex_usd_per_hour(purchase_usd, life_years, cost_of_capital_frac):
    """Purchase price recovered per hour of life, as an annuity at a cost of capital.

    ``purchase_usd * capital_recovery_factor(cost_of_capital_frac, life_years) / 8760``:
    the yearly annuity payment spread evenly over every hour of the year (busy or idle; see
    :func:`useful_usd_per_hour` for the cost of a busy hour).

    Parameters
    ----------
    purchase_usd : numeric
        Purchase price of the device or system. [USD]
    life_years : numeric
        Economic life. [years]
    cost_of_capital_frac : numeric
        Yearly cost of capital; 0 gives straight-line depreciation. [fraction/year]

    Returns
    -------
    numeric
        Capital charge per hour. [USD/h]

    References
    ----------
    .. [1] W. Short, D. J. Packey, T. Holt, NREL/TP-462-5173, 1995, sec. 4 (capital recovery).
    .. [2] B. Cottier et al., "The rising costs of training frontier AI models",
       arXiv:2405.21015, 2024 (amortized hardware capex + energy as the cost of compute).
    """
    p = nonnegative("purchase_usd", purchase_usd)
    n = positive("life_years", life_years)
    r = fraction("cost_of_capital_frac", cost_of_capital_frac)
    return like(p * _crf(r, n) / HOURS_PER_YEAR, purchase_usd, life_years, cost_of_capital_frac)


@_finite_result
def power_usd_per_hour(power_w, pue_ratio, electricity_usd_per_kwh):
    """Electricity bill per hour: IT power x PUE x price.

    Parameters
    ----------
    power_w : numeric
        Average IT power drawn by the device or system (TDP is an upper bound). [W]
    pue_ratio : numeric
        Power usage effectiveness, facility power / IT power, >= 1 (about 1.1 hyperscale,
        1.58 industry average in 2023 [2]_). [-]
    electricity_usd_per_kwh : numeric
        Electricity price. [USD/kWh]

    Returns
    -------
    numeric
        Power cost per hour. [USD/h]

    References
    ----------
    .. [1] The Green Grid, "PUE: A Comprehensive Examination of the Metric", White Paper 49,
       2012.
    .. [2] Uptime Institute, "Large data centers are mostly more efficient, analysis confirms",
       Intelligence Update 221, 2023.
    """
    w = nonnegative("power_w", power_w)
    pue = numeric("pue_ratio", pue_ratio, min_value=1.0)
    price = nonnegative("electricity_usd_per_kwh", electricity_usd_per_kwh)
    return like(w / W_PER_KW * pue * price, power_w, pue_ratio, electricity_usd_per_kwh)


@_finite_result
def hosting_opex_usd_per_hour(purchase_usd, hosting_opex_frac):
    """Hosting and other operating cost per hour, as a yearly fraction of the purchase price.

    Parameters
    ----------
    purchase_usd : numeric
        Purchase price of the device or system. [USD]
    hosting_opex_frac : numeric
        Yearly operating cost other than electricity (colocation space, maintenance and
        support contracts, a share of networking and staff) per USD of purchase price,
        e.g. 0.10. [fraction/year]

    Returns
    -------
    numeric
        Operating cost per hour. [USD/h]
    """
    p = nonnegative("purchase_usd", purchase_usd)
    f = fraction("hosting_opex_frac", hosting_opex_frac)
    return like(p * f / HOURS_PER_YEAR, purchase_usd, hosting_opex_frac)


@_finite_result
def device_usd_per_hour(purchase_usd, life_years, cost_of_capital_frac, power_w, pue_ratio,
                        electricity_usd_per_kwh, hosting_opex_frac=0.0):
    """Total hourly cost of owning a device or system: capex + power + opex.

    Parameters
    ----------
    purchase_usd : numeric
        Purchase price. [USD]
    life_years : numeric
        Economic life. [years]
    cost_of_capital_frac : numeric
        Yearly cost of capital; 0 for straight-line. [fraction/year]
    power_w : numeric
        Average IT power drawn. [W]
    pue_ratio : numeric
        Power usage effectiveness, >= 1. [-]
    electricity_usd_per_kwh : numeric
        Electricity price. [USD/kWh]
    hosting_opex_frac : numeric, default 0
        Yearly non-power operating cost per USD of purchase price. [fraction/year]

    Returns
    -------
    numeric
        Owned cost per wall-clock hour, busy or idle. [USD/h]

    See Also
    --------
    capex_usd_per_hour, power_usd_per_hour, hosting_opex_usd_per_hour, useful_usd_per_hour

    References
    ----------
    .. [1] B. Cottier et al., "The rising costs of training frontier AI models",
       arXiv:2405.21015, 2024.
    """
    p = nonnegative("purchase_usd", purchase_usd)
    n = positive("life_years", life_years)
    r = fraction("cost_of_capital_frac", cost_of_capital_frac)
    w = nonnegative("power_w", power_w)
    pue = numeric("pue_ratio", pue_ratio, min_value=1.0)
    price = nonnegative("electricity_usd_per_kwh", electricity_usd_per_kwh)
    f = fraction("hosting_opex_frac", hosting_opex_frac)
    out = _device(p, n, r, w, pue, price, f)
    return like(out, purchase_usd, life_years, cost_of_capital_frac, power_w, pue_ratio,
                electricity_usd_per_kwh, hosting_opex_frac)


def _device(p, n, r, w, pue, price, f):
    return p * (_crf(r, n) + f) / HOURS_PER_YEAR + w / W_PER_KW * pue * price


@_finite_result
def useful_usd_per_hour(usd_per_hour, utilization_frac):
    """Cost of one hour of paid work when only a share of hours are busy.

    ``usd_per_hour / utilization_frac``: idle hours cost the owner as much as busy ones, so
    every busy hour carries the idle ones.

    Parameters
    ----------
    usd_per_hour : numeric
        Cost per wall-clock hour. [USD/h]
    utilization_frac : numeric
        Share of wall-clock hours doing paid work, in (0, 1]. [fraction]

    Returns
    -------
    numeric
        Cost per useful hour. [USD/h]
    """
    c = nonnegative("usd_per_hour", usd_per_hour)
    u = fraction("utilization_frac", utilization_frac, allow_zero=False)
    return like(c / u, usd_per_hour, utilization_frac)


class OwnedCost(NamedTuple):
    """Owned hourly cost of one device and of the system it sits in (see
    :func:`owned_usd_per_hour`). ``pd.DataFrame(cost._asdict())`` makes a table of it."""

    device_usd_per_hour: object
    system_usd_per_hour: object


_HW_COLUMNS = ("purchase_usd", "tdp_w", "n_devices_per_node")


@_finite_result
def owned_usd_per_hour(hardware, life_years, cost_of_capital_frac, pue_ratio,
                       electricity_usd_per_kwh, hosting_opex_frac=0.0, system_overhead_frac=0.0,
                       power_overhead_frac=0.0, power_load_frac=1.0, purchase_usd=None):
    """Owned $/device-hour and $/system-hour of a hardware entry, under assumptions.

    The system is ``n_devices_per_node`` devices (an 8-GPU node, a Groq server; 1 for a
    Cerebras CS-3, counted as one device):

    * system capex = ``purchase_usd * n_devices_per_node * (1 + system_overhead_frac)``;
    * system power = ``tdp_w * power_load_frac * n_devices_per_node * (1 + power_overhead_frac)``;
    * system $/hour = :func:`device_usd_per_hour` of those, with ``hosting_opex_frac`` applied
      to the system capex;
    * device $/hour = system $/hour / ``n_devices_per_node``: one device's share of the
      system, overhead included, which is what a rental price per GPU-hour is compared with.

    Vectorized over the assumptions: pass arrays (a Monte Carlo sample, a grid) and get arrays.
    Pass the whole table (``econ.data.load("hardware")``) with scalar assumptions to get a
    Series per hardware name.

    Parameters
    ----------
    hardware : str, pandas.Series or pandas.DataFrame
        A key of the ``hardware`` table, a row of it (``econ.data.row("hardware", name)``), or
        the table (or a slice of it). Uses the columns ``purchase_usd`` [USD, per device],
        ``tdp_w`` [W, per device] and ``n_devices_per_node`` [count].
    life_years : numeric
        Economic life. [years]
    cost_of_capital_frac : numeric
        Yearly cost of capital; 0 for straight-line. [fraction/year]
    pue_ratio : numeric
        Power usage effectiveness, >= 1. [-]
    electricity_usd_per_kwh : numeric
        Electricity price. [USD/kWh]
    hosting_opex_frac : numeric, default 0
        Yearly non-power operating cost per USD of system purchase price. [fraction/year]
    system_overhead_frac : numeric, default 0
        What the rest of the system (host CPUs, memory, NICs, NVSwitch, chassis, its share of
        the cluster network) adds to the price of its devices, as a fraction of the devices'
        price: 0 counts the devices only; about 0.3-0.6 is typical of an 8-GPU server. [fraction]
    power_overhead_frac : numeric, default 0
        Power drawn by the rest of the system as a fraction of the devices' draw (an 8xH100
        server is quoted at 10.2 kW of IT power against 8 x 700 W of GPU TDP, about 0.8). [fraction]
    power_load_frac : numeric, default 1
        Average device draw as a fraction of its TDP (1 assumes TDP all the time). [fraction]
    purchase_usd : numeric, optional
        Price per device to use instead of the table's ``purchase_usd``: for hardware with no
        published price (H800, Cerebras CS-3; see the ``assumptions`` table) or to sample the
        price in a Monte Carlo. [USD]

    Returns
    -------
    OwnedCost
        ``device_usd_per_hour`` and ``system_usd_per_hour`` [USD/h], each of the kind of
        the inputs (a Series indexed by hardware name when given the table).

    Raises
    ------
    KeyError
        Unknown hardware name (the message lists the valid ones).
    ValueError
        A hardware entry without a purchase price or TDP, or an assumption out of range.

    References
    ----------
    .. [1] B. Cottier et al., "The rising costs of training frontier AI models",
       arXiv:2405.21015, 2024.
    .. [2] D. Patel, SemiAnalysis, on an 8xH100 server's 10,200 W of IT power (secondary).
    """
    hw = _hardware_columns(hardware, with_price=purchase_usd is None)
    if purchase_usd is not None:
        hw["purchase_usd"] = purchase_usd
    n_dev = positive("n_devices_per_node", hw["n_devices_per_node"], integer=True)
    p = nonnegative("purchase_usd", hw["purchase_usd"])
    tdp = nonnegative("tdp_w", hw["tdp_w"])
    over = fraction("system_overhead_frac", system_overhead_frac)
    p_over = fraction("power_overhead_frac", power_overhead_frac)
    load = fraction("power_load_frac", power_load_frac)
    n = positive("life_years", life_years)
    r = fraction("cost_of_capital_frac", cost_of_capital_frac)
    pue = numeric("pue_ratio", pue_ratio, min_value=1.0)
    price = nonnegative("electricity_usd_per_kwh", electricity_usd_per_kwh)
    f = fraction("hosting_opex_frac", hosting_opex_frac)
    system = _device(p * n_dev * (1.0 + over), n, r, tdp * load * n_dev * (1.0 + p_over),
                     pue, price, f)
    inputs = (hw["purchase_usd"], hw["tdp_w"], life_years, cost_of_capital_frac, pue_ratio,
              electricity_usd_per_kwh, hosting_opex_frac, system_overhead_frac,
              power_overhead_frac, power_load_frac)
    return OwnedCost(like(system / n_dev, *inputs), like(system, *inputs))


def _hardware_columns(hardware, with_price=True):
    """The columns owned_usd_per_hour needs, as floats (one row) or Series (the table)."""
    if isinstance(hardware, str):
        hardware = data.row("hardware", hardware)
    if isinstance(hardware, pd.Series):
        frame, one = hardware.to_frame().T, True
    elif isinstance(hardware, pd.DataFrame):
        frame, one = hardware, False
    else:
        raise ValueError("hardware must be a name in the hardware table, a row of "
                         f"econ.data.load('hardware') or the table, got {hardware!r}")
    needed = [c for c in _HW_COLUMNS if with_price or c != "purchase_usd"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"hardware needs the column(s) {missing}; it has {list(frame.columns)}")
    out = {}
    for c in needed:
        vals = pd.to_numeric(frame[c], errors="coerce").astype(float)
        if vals.isna().any():
            who = list(vals.index[vals.isna()])
            hint = ("pass purchase_usd=" if c == "purchase_usd" else
                    "give it a value or use device_usd_per_hour directly")
            raise ValueError(f"hardware {who[0] if one else who!r} has no {c} in the hardware "
                             f"table; {hint}")
        out[c] = float(vals.iloc[0]) if one else vals
    return out


@_finite_result
def rental_premium_ratio(rental_usd_per_hour, owned_usd_per_hour):
    """How many times the owned hourly cost a rental price is.

    ``rental_usd_per_hour / owned_usd_per_hour``. A value of 1.5 means renting costs 50 %
    more per wall-clock hour than owning (at full use). Since a renter pays only for the hours
    used while an owner pays for every hour, owning is cheaper per useful hour only when
    utilization exceeds ``1 / rental_premium_ratio`` (see :func:`useful_usd_per_hour`).

    Parameters
    ----------
    rental_usd_per_hour : numeric
        Rental (cloud, lease) price per device- or system-hour. [USD/h]
    owned_usd_per_hour : numeric
        Owned cost of the same unit per wall-clock hour, > 0. [USD/h]

    Returns
    -------
    numeric
        Rental price / owned cost. [ratio]
    """
    rent = nonnegative("rental_usd_per_hour", rental_usd_per_hour)
    own = positive("owned_usd_per_hour", owned_usd_per_hour)
    return like(rent / own, rental_usd_per_hour, owned_usd_per_hour)


@_finite_result
def owned_usd_per_mtok(hardware, throughput_tok_per_s, utilization_frac, life_years,
                       cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh,
                       hosting_opex_frac=0.0, n_systems=1.0, system_overhead_frac=0.0,
                       power_overhead_frac=0.0, power_load_frac=1.0, purchase_usd=None):
    """Cost of a million tokens made on owned systems that are busy a share of the time.

    ``n_systems`` systems (8-GPU nodes, Groq nodes, CS-3s) together produce
    ``throughput_tok_per_s`` while busy; every wall-clock hour costs
    ``n_systems * system_usd_per_hour`` (:func:`owned_usd_per_hour`), and only
    ``utilization_frac`` of the hours make tokens (:func:`useful_usd_per_hour`)::

        n_systems * system_usd_per_hour / utilization_frac
            / (throughput_tok_per_s * 3600) * 1e6

    Vectorized over every numeric argument, so a Monte Carlo over the purchase price and a
    grid over utilization run in one call (``econ.monte_carlo(owned_usd_per_mtok, ...)``).

    Parameters
    ----------
    hardware : str or pandas.Series
        A key of the ``hardware`` table or one row of it (see :func:`owned_usd_per_hour`).
    throughput_tok_per_s : numeric
        Tokens all ``n_systems`` produce per second while busy, > 0. [tokens/s]
    utilization_frac : numeric
        Share of wall-clock hours doing paid work, in (0, 1]. [fraction]
    life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh, hosting_opex_frac,
    system_overhead_frac, power_overhead_frac, power_load_frac, purchase_usd
        As in :func:`owned_usd_per_hour` (``purchase_usd`` per device).
    n_systems : numeric, default 1
        Systems owned to serve this throughput (nodes, or wafers for a CS-3), > 0. [count]

    Returns
    -------
    numeric
        Owned cost per million tokens. [USD/Mtok]

    See Also
    --------
    owned_usd_per_hour, useful_usd_per_hour, econ.units.cost_usd_per_mtok,
    break_even_utilization_frac
    """
    n_sys = positive("n_systems", n_systems)
    tput = positive("throughput_tok_per_s", throughput_tok_per_s)
    cost = owned_usd_per_hour(hardware, life_years, cost_of_capital_frac, pue_ratio,
                              electricity_usd_per_kwh, hosting_opex_frac=hosting_opex_frac,
                              system_overhead_frac=system_overhead_frac,
                              power_overhead_frac=power_overhead_frac,
                              power_load_frac=power_load_frac, purchase_usd=purchase_usd)
    system = numeric("system_usd_per_hour", cost.system_usd_per_hour)
    useful = useful_usd_per_hour(n_sys * system, utilization_frac)
    out = cost_usd_per_mtok(useful, tput)
    return like(out, throughput_tok_per_s, utilization_frac, life_years, cost_of_capital_frac,
                pue_ratio, electricity_usd_per_kwh, hosting_opex_frac, n_systems,
                system_overhead_frac, power_overhead_frac, power_load_frac,
                *([] if purchase_usd is None else [purchase_usd]))


@_finite_result
def break_even_utilization_frac(full_use_usd_per_mtok, reference_usd_per_mtok):
    """Utilization at which a system's $/Mtok falls to a reference $/Mtok.

    An owned system's cost per token is its cost at full use divided by its utilization
    (idle hours cost as much as busy ones; :func:`useful_usd_per_hour`), so it matches a
    reference cost when

    ``utilization_frac = full_use_usd_per_mtok / reference_usd_per_mtok``.

    A result above 1 means the system never gets as cheap as the reference, however busy it
    is kept; a result of 0.5 means it must be busy at least half the time.

    Parameters
    ----------
    full_use_usd_per_mtok : numeric
        The system's cost per million tokens when busy every hour (utilization 1), >= 0.
        [USD/Mtok]
    reference_usd_per_mtok : numeric
        The cost to beat, e.g. a GPU node's at its own utilization, > 0. [USD/Mtok]

    Returns
    -------
    numeric
        Break-even utilization; values above 1 are not reachable. [fraction]

    Examples
    --------
    A system costing $0.30/Mtok at full use against a GPU node's $0.60/Mtok:

    >>> break_even_utilization_frac(0.30, 0.60)
    0.5
    """
    full = nonnegative("full_use_usd_per_mtok", full_use_usd_per_mtok)
    ref = positive("reference_usd_per_mtok", reference_usd_per_mtok)
    return like(full / ref, full_use_usd_per_mtok, reference_usd_per_mtok)
