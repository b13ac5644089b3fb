"""Sensitivity: grids of parameter values, seeded Monte Carlo and tornado analysis.

The helpers return tidy ``pandas.DataFrame`` s and never loop over samples:

* :func:`grid` and :func:`evaluate`: a Cartesian product of parameter values and a vectorized
  function applied to its columns;
* :func:`monte_carlo` and :func:`summarize`: seeded sampling of uncertain inputs given as
  distributions (:func:`uniform`, :func:`triangular`, :func:`lognormal_from_range`,
  :func:`normal`, :func:`fixed`: numpy ``Generator`` methods with their quantile functions), and
  their p5/p50/p95;
* :func:`tornado`: one-at-a-time sensitivity of one output, sorted by swing.

The parameters themselves (types, ranges, scenario files) are :mod:`econ.params`.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import statistics
import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["grid", "evaluate", "Distribution", "uniform", "triangular", "lognormal_from_range",
           "normal", "fixed", "assumption_triangulars", "monte_carlo", "summarize", "tornado"]

# --------------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------------

def grid(**axes):
    """Every combination of the given parameter values, one row each (tidy).

    Parameters
    ----------
    **axes : scalar or 1-D sequence
        ``name=values``; a scalar is an axis of one value.

    Returns
    -------
    pandas.DataFrame
        One column per axis, in the order given; ``prod(len(values))`` rows, the last axis
        varying fastest.

    Examples
    --------
    >>> grid(batch_size=[1, 8, 64], utilization_frac=[0.4, 0.8]).shape
    (6, 2)
    """
    if not axes:
        raise ValueError("grid needs at least one axis, e.g. grid(batch_size=[1, 8, 64])")
    levels = []
    for name, vals in axes.items():
        if isinstance(vals, (str, bytes)) or np.ndim(vals) == 0:
            vals = [vals]
        vals = list(vals.tolist() if isinstance(vals, (np.ndarray, pd.Series, pd.Index)) else vals)
        if not vals:
            raise ValueError(f"grid axis {name!r} has no values")
        levels.append(vals)
    idx = pd.MultiIndex.from_product(levels, names=list(axes))
    return idx.to_frame(index=False)


def _call_columns(func, frame, constants):
    """Call ``func`` with the frame's columns (and constants) that match its parameters."""
    constants = dict(constants or {})
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        sig = None
    cols = {c: frame[c] for c in frame.columns}
    if sig is None or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        kwargs = {**cols, **constants}
    else:
        names = [n for n, p in sig.parameters.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        kwargs = {n: constants[n] if n in constants else cols[n]
                  for n in names if n in constants or n in cols}
        missing = [n for n, p in sig.parameters.items()
                   if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                   and n not in kwargs]
        if missing:
            raise ValueError(f"{_fname(func)} needs {missing}: give them as columns "
                             f"(have {list(frame.columns)}) or as constants")
    return func(**kwargs)


def _fname(func):
    return getattr(func, "__name__", None) or type(func).__name__


def _outputs(result, n, index, output, func):
    """Normalize a function's result to {column: 1-D array of length n}."""
    if isinstance(result, pd.DataFrame):
        items = {c: result[c] for c in result.columns}
    elif isinstance(result, Mapping):
        items = dict(result)
    else:
        items = {output or _fname(func): result}
    out = {}
    for k, v in items.items():
        arr = v.to_numpy() if isinstance(v, (pd.Series, pd.Index)) else np.asarray(v)
        if arr.ndim == 0:
            arr = np.broadcast_to(arr, (n,)).copy()
        if arr.shape != (n,):
            raise ValueError(f"{_fname(func)} returned {k!r} of shape {arr.shape}; expected {n} "
                             f"values, one per row (is the function vectorized?)")
        out[k] = arr
    if isinstance(output, str) and output not in out:
        if len(out) == 1:
            out = {output: next(iter(out.values()))}
        else:
            raise ValueError(f"output {output!r} is not among {list(out)} returned by "
                             f"{_fname(func)}")
    return out


def evaluate(func, frame, constants=None, output=None):
    """Apply a vectorized function to the columns of a frame (e.g. a :func:`grid`).

    Parameters
    ----------
    func : callable
        Vectorized: called once with each of its parameters bound to the frame column of the
        same name (a pandas Series) or to ``constants[name]``.
    frame : pandas.DataFrame
        One row per case.
    constants : dict, optional
        Values shared by every row (a model name, a hardware key).
    output : str, optional
        Name of the output column; default the function's name (``cost_usd_per_mtok``). A
        function that returns a dict or DataFrame gives one column per key.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the output column(s) added.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    result = _call_columns(func, frame, constants)
    out = frame.copy()
    for k, v in _outputs(result, len(frame), frame.index, output, func).items():
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------
# Distributions and Monte Carlo
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Distribution:
    """An uncertain input: a :class:`numpy.random.Generator` method (``method``) and its
    arguments, or ``"fixed"`` (one value). ``sample(n, rng)`` draws ``n`` values with that
    method; ``ppf(q)`` is the quantile function; ``interval(coverage)`` the central interval.
    Make one with :func:`uniform`, :func:`triangular`, :func:`lognormal_from_range`,
    :func:`normal` or :func:`fixed`."""

    method: str
    args: tuple

    def sample(self, n, rng):
        """``n`` draws from ``rng`` (a :class:`numpy.random.Generator`)."""
        if self.method == "fixed":
            value = self.args[0]
            return np.full(n, value, dtype=float if _is_number(value) else object)
        return getattr(rng, self.method)(*self.args, n)

    def ppf(self, q):
        """The value below which a share ``q`` of the draws falls (numpy-vectorized)."""
        q = np.asarray(q, dtype=float)
        if self.method == "fixed":
            return np.full(np.shape(q), self.args[0])
        if self.method == "uniform":
            lo, hi = self.args
            return lo + q * (hi - lo)
        if self.method == "triangular":  # the inverse of the triangular CDF, by branch
            a, c, b = self.args
            return np.where(q < (c - a) / (b - a), a + np.sqrt(q * (b - a) * (c - a)),
                            b - np.sqrt((1 - q) * (b - a) * (b - c)))
        z = np.vectorize(statistics.NormalDist(*self.args).inv_cdf, otypes=[float])(q)
        return np.exp(z) if self.method == "lognormal" else z

    def interval(self, coverage=0.9):
        """Central interval holding ``coverage`` of the mass, e.g. (p5, p95) for 0.9."""
        a = (1.0 - coverage) / 2.0
        return float(self.ppf(a)), float(self.ppf(1.0 - a))


def _num(name, x):
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) \
            or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def uniform(lo, hi):
    """Uniform on [lo, hi]: every value equally likely (mean (lo+hi)/2)."""
    lo, hi = _num("lo", lo), _num("hi", hi)
    if not lo < hi:
        raise ValueError(f"uniform needs lo < hi, got lo={lo!r}, hi={hi!r}")
    return Distribution("uniform", (lo, hi))


def triangular(lo, mode, hi):
    """Triangular on [lo, hi] peaking at ``mode``: a low, likely and high guess."""
    lo, mode, hi = _num("lo", lo), _num("mode", mode), _num("hi", hi)
    if not (lo <= mode <= hi and lo < hi):
        raise ValueError(f"triangular needs lo <= mode <= hi and lo < hi, got lo={lo!r}, "
                         f"mode={mode!r}, hi={hi!r}")
    return Distribution("triangular", (lo, mode, hi))


def lognormal_from_range(lo, hi, coverage=0.9):
    """Log-normal whose central ``coverage`` interval (default 90%) is [lo, hi].

    For positive quantities known to within a factor (prices, efficiencies): the median is
    sqrt(lo*hi), and ln X ~ N(mu, sigma) with mu = (ln lo + ln hi)/2,
    sigma = (ln hi - ln lo) / (2 z), z the standard-normal quantile at 0.5 + coverage/2
    (1.645 for 90%).
    """
    lo, hi, coverage = _num("lo", lo), _num("hi", hi), _num("coverage", coverage)
    if not 0 < lo < hi:
        raise ValueError(f"lognormal_from_range needs 0 < lo < hi, got lo={lo!r}, hi={hi!r}")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1), got {coverage!r}")
    z = statistics.NormalDist().inv_cdf(0.5 + coverage / 2.0)
    return Distribution("lognormal", ((math.log(lo) + math.log(hi)) / 2.0,
                                      (math.log(hi) - math.log(lo)) / (2.0 * z)))


def normal(mean, sd):
    """Normal with the given mean and standard deviation (not truncated: mind the sign)."""
    mean, sd = _num("mean", mean), _num("sd", sd)
    if not sd > 0:
        raise ValueError(f"normal needs sd > 0, got {sd!r}")
    return Distribution("normal", (mean, sd))


def fixed(value):
    """A known value (a number or a string key), the same in every sample."""
    return Distribution("fixed", (value,))


def _stream_seed(seed, name):
    # Each input draws from its own stream, fixed by (seed, name): adding, removing or
    # reordering other inputs leaves its samples unchanged.
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def assumption_triangulars(assumptions, **values):
    """Triangular distributions of assumptions around the run's values, from their ranges.

    For each ``name=value``: ``triangular(min(low, value), value, max(high, value))`` with
    ``low`` and ``high`` the row ``name`` of ``assumptions``: the run's value is the mode and
    the range is widened to include it.

    Parameters
    ----------
    assumptions : pandas.DataFrame
        ``econ.data.load("assumptions")`` (columns ``low``, ``high``).
    **values : float
        The run's value of each assumption sampled.

    Returns
    -------
    dict
        ``{name: Distribution}`` for :func:`monte_carlo`.
    """
    out = {}
    for name, v in values.items():
        if name not in assumptions.index:
            raise KeyError(f"assumption_triangulars: no row {name!r} in the assumptions table; "
                           f"rows: {sorted(assumptions.index)}")
        lo, hi = float(assumptions.loc[name, "low"]), float(assumptions.loc[name, "high"])
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"assumption_triangulars: row {name!r} has no low/high range")
        out[name] = triangular(min(lo, float(v)), float(v), max(hi, float(v)))
    return out


def monte_carlo(func, inputs, n_samples=10_000, seed=0, *, constants=None, output=None,
                over=None):
    """Sample uncertain inputs and evaluate a vectorized function on all samples at once.

    Parameters
    ----------
    func : callable
        Vectorized function; its parameters are bound by name to the sampled inputs (numpy
        arrays), to ``constants`` and to the columns of ``over``.
    inputs : dict
        ``{name: Distribution}``; a plain number or string counts as :func:`fixed`.
    n_samples : int
        Samples per row of ``over`` (or in all, without ``over``).
    seed : int
        Seed of numpy's ``Generator``: the same seed gives the same samples. Each input has its
        own stream derived from (seed, input name).
    constants : dict, optional
        Extra arguments passed as they are (not included in the result).
    output : str, optional
        Name of the output column; default the function's name.
    over : pandas.DataFrame, optional
        A :func:`grid`: every row is evaluated on the same ``n_samples`` samples (common random
        numbers), so differences between rows are not sampling noise.

    Returns
    -------
    pandas.DataFrame
        One row per sample (times rows of ``over``): a ``sample`` column, the ``over`` columns,
        one column per input and the output column(s).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(inputs, Mapping) or not inputs:
        raise ValueError("inputs must be a non-empty dict of name -> distribution")
    n = int(n_samples)
    reps = 1 if over is None else len(over)
    if over is not None and not isinstance(over, pd.DataFrame):
        raise TypeError(f"over must be a DataFrame (a grid), got {type(over).__name__}")
    frame = {"sample": np.tile(np.arange(n), reps)}
    args = {}
    if over is not None:
        clash = [c for c in over.columns if c in inputs]
        if clash:
            raise ValueError(f"{clash} are both inputs and grid columns")
        for c in over.columns:
            frame[c] = args[c] = np.repeat(over[c].to_numpy(), n)
    for name, dist in inputs.items():
        if not isinstance(dist, Distribution):
            if not (_is_number(dist) or isinstance(dist, str)):
                raise ValueError(f"input {name!r} must be a distribution (uniform, triangular, "
                                 f"lognormal_from_range, normal, fixed) or a value, got {dist!r}")
            dist = fixed(dist)
        if dist.method == "fixed":
            args[name] = dist.args[0]  # scalars stay scalars (string keys included)
            frame[name] = dist.sample(n * reps, None)
            continue
        draws = dist.sample(n, np.random.default_rng(_stream_seed(seed, name)))
        frame[name] = args[name] = np.tile(draws, reps) if reps > 1 else draws
    result = _call_columns(func, _ArgFrame(args), constants)
    for k, v in _outputs(result, n * reps, None, output, func).items():
        if k in frame:
            raise ValueError(f"output {k!r} of {_fname(func)} has the name of an input")
        frame[k] = v
    # the arrays are freshly made here: no copy (saves ~25 ms per million rows x 17 columns)
    return pd.DataFrame(frame, copy=False)


class _ArgFrame:
    """Minimal frame-like view of a dict of arguments (arrays and scalars), for _call_columns."""

    def __init__(self, args):
        self._args = args
        self.columns = list(args)

    def __getitem__(self, k):
        return self._args[k]


def summarize(frame, columns=None, by=None, quantiles=(0.05, 0.5, 0.95)):
    """Mean and p5/p50/p95 of Monte Carlo outputs, tidy.

    Parameters
    ----------
    frame : pandas.DataFrame
        A :func:`monte_carlo` result (or any frame of samples).
    columns : str or list of str, optional
        Columns to summarize; default every numeric column except ``sample`` and ``by``.
    by : str or list of str, optional
        Group columns (the ``over`` grid axes): one summary per group.
    quantiles : sequence of float
        Probabilities; column names are ``p`` + percent (``p5``, ``p50``, ``p95``).

    Returns
    -------
    pandas.DataFrame
        Columns: the ``by`` columns, ``variable``, ``mean``, ``sd``, then one per quantile.
    """
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if columns is None:
        columns = [c for c in frame.columns if c not in by and c != "sample"
                   and pd.api.types.is_numeric_dtype(frame[c])]
    elif isinstance(columns, str):
        columns = [columns]
    missing = [c for c in [*columns, *by] if c not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the frame; have {list(frame.columns)}")
    qs = [float(q) for q in quantiles]
    if any(not 0 <= q <= 1 for q in qs):
        raise ValueError(f"quantiles must be in [0, 1], got {list(quantiles)}")
    names = [f"p{100 * q:g}" for q in qs]
    long = frame[[*by, *columns]].melt(id_vars=by, value_vars=columns, var_name="variable")
    keys = [*by, "variable"]
    g = long.groupby(keys, sort=False, observed=True)["value"]
    out = pd.concat([g.mean().rename("mean"), g.std().rename("sd")]
                    + [g.quantile(q).rename(nm) for q, nm in zip(qs, names)], axis=1)
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# Tornado
# --------------------------------------------------------------------------------------------

def tornado(func, base, ranges, *, output=None, coverage=0.9):
    """One-at-a-time sensitivity of one output: move each input to its low and high value.

    Parameters
    ----------
    func : callable
        Vectorized; called once, on 1 + 2*len(ranges) cases.
    base : dict
        Base value of every argument of ``func`` (strings and other constants included).
    ranges : dict
        ``{name: (low, high)}`` or ``{name: Distribution}`` (its central ``coverage``
        interval, p5-p95 by default); every name must be in ``base``.
    output : str, optional
        Which output, when ``func`` returns several (a dict or DataFrame).
    coverage : float
        Interval of a distribution used as its (low, high).

    Returns
    -------
    pandas.DataFrame
        One row per input, largest ``swing`` first: ``output`` (its name: ``output`` or the
        function's name), ``parameter``, ``low_value``, ``high_value``, ``output_low``,
        ``output_high``, ``output_base``, ``swing`` (``|output_high - output_low|``).
    """
    if not isinstance(base, Mapping) or not isinstance(ranges, Mapping) or not ranges:
        raise ValueError("tornado needs base (a dict of every input) and ranges (a non-empty "
                         "dict of name -> (low, high))")
    unknown = [k for k in ranges if k not in base]
    if unknown:
        raise ValueError(f"ranges names {unknown} have no base value; base has {list(base)}")
    lows, highs = {}, {}
    for k, r in ranges.items():
        if isinstance(r, Distribution):
            lo, hi = r.interval(coverage)
        else:
            try:
                lo, hi = r
            except (TypeError, ValueError):
                raise ValueError(f"range of {k!r} must be (low, high) or a distribution, "
                                 f"got {r!r}") from None
            lo, hi = _num(f"low of {k!r}", lo), _num(f"high of {k!r}", hi)
        lows[k], highs[k] = lo, hi
    names = list(ranges)
    m = 1 + 2 * len(names)
    args = {}
    for k, v in base.items():
        if k in ranges:
            col = np.full(m, _num(f"base value of {k!r}", v))
            i = 1 + 2 * names.index(k)
            col[i], col[i + 1] = lows[k], highs[k]
            args[k] = col
        else:
            args[k] = v
    result = _call_columns(func, _ArgFrame(args), None)
    outs = _outputs(result, m, None, output, func)
    if output is None and len(outs) > 1:
        raise ValueError(f"{_fname(func)} returns several outputs {list(outs)}: pick one with "
                         f"output=")
    out_name = next(iter(outs)) if output is None else output
    y = np.asarray(outs[out_name], dtype=float)
    df = pd.DataFrame({
        "output": out_name,
        "parameter": names,
        "low_value": [lows[k] for k in names],
        "high_value": [highs[k] for k in names],
        "output_low": y[1::2],
        "output_high": y[2::2],
        "output_base": np.full(len(names), y[0]),
    })
    df["swing"] = (df["output_high"] - df["output_low"]).abs()
    return df.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
