"""Input checks shared by every public function of ``econ``.

Every public function converts its numeric inputs with :func:`numeric`, which
raises a ``ValueError`` naming the parameter, the offending value and the allowed
range, and returns its result with :func:`like`, which gives back the kind of
input it was handed (float, numpy array or pandas Series).
"""
from __future__ import annotations

import functools
import numbers

import numpy as np
import pandas as pd

__all__: list[str] = []


def _fmt_range(min_value, max_value, min_inclusive, max_inclusive):
    if min_value is not None and max_value is not None:
        lo = "[" if min_inclusive else "("
        hi = "]" if max_inclusive else ")"
        return f"in {lo}{min_value:g}, {max_value:g}{hi}"
    if min_value is not None:
        return f"{'>=' if min_inclusive else '>'} {min_value:g}"
    if max_value is not None:
        return f"{'<=' if max_inclusive else '<'} {max_value:g}"
    return "finite"


def numeric(name, x, *, min_value=None, max_value=None, min_inclusive=True,
            max_inclusive=True, integer=False):
    """Convert ``x`` to a float array and check it, or raise a clear ``ValueError``.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    x : float, array-like or pandas.Series
        The value(s) to check.
    min_value, max_value : float, optional
        Allowed bounds.
    min_inclusive, max_inclusive : bool
        Whether each bound is allowed itself.
    integer : bool
        Require whole numbers.

    Returns
    -------
    numpy.ndarray
        ``float64`` array (0-d for a scalar input).
    """
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number, got {x!r}")
    if x is None:
        raise ValueError(f"{name} must be a number, got None")
    if isinstance(x, str):
        raise ValueError(f"{name} must be a number, got the string {x!r}")
    try:
        arr = np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {x!r}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite, got {_first(arr, bad)}")
    allowed = _fmt_range(min_value, max_value, min_inclusive, max_inclusive)
    if min_value is not None:
        bad = arr < min_value if min_inclusive else arr <= min_value
        if bad.any():
            raise ValueError(f"{name} must be {allowed}, got {_first(arr, bad)}")
    if max_value is not None:
        bad = arr > max_value if max_inclusive else arr >= max_value
        if bad.any():
            raise ValueError(f"{name} must be {allowed}, got {_first(arr, bad)}")
    if integer:
        bad = arr != np.round(arr)
        if bad.any():
            raise ValueError(f"{name} must be a whole number, got {_first(arr, bad)}")
    return arr


def positive(name, x, **kw):
    """:func:`numeric` with ``x > 0``."""
    return numeric(name, x, min_value=0.0, min_inclusive=False, **kw)


def nonnegative(name, x, **kw):
    """:func:`numeric` with ``x >= 0``."""
    return numeric(name, x, min_value=0.0, **kw)


def fraction(name, x, *, allow_zero=True):
    """:func:`numeric` with ``x`` in [0, 1] (or (0, 1] when ``allow_zero`` is False)."""
    return numeric(name, x, min_value=0.0, max_value=1.0, min_inclusive=allow_zero)


def choice(name, value, allowed):
    """Check that ``value`` is one of ``allowed`` (a ``ValueError`` lists them)."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def _first(arr, bad):
    flat_arr, flat_bad = arr.reshape(-1), bad.reshape(-1)
    idx = int(np.flatnonzero(flat_bad)[0])
    value = float(flat_arr[idx])
    return f"{value!r}" if arr.ndim == 0 else f"{value!r} (at position {idx})"


def like(result, *inputs):
    """Return ``result`` as the kind of the inputs: Series, ndarray or float.

    A pandas Series among the inputs wins (its index is kept); otherwise any
    array input gives an ndarray; scalars give a Python float.
    """
    result = np.asarray(result, dtype=float)
    for x in inputs:
        if isinstance(x, pd.Series):
            return pd.Series(np.broadcast_to(result, x.shape).copy(), index=x.index)
    if (
        any(isinstance(x, (np.ndarray, list, tuple)) and np.ndim(x) > 0 for x in inputs)
        or result.ndim > 0
    ):
        return result
    return float(result)


def is_number(x):
    """True for a real number that is not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def finite_result(func):
    """Decorator: raise a ``ValueError`` instead of returning inf or NaN.

    Valid but enormous inputs (1e300) can overflow float64; the caller then gets a
    message naming the function rather than a silent inf. Checks floats, arrays,
    Series, tuples, dicts of those and the numeric columns of a DataFrame.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = func(*args, **kwargs)
        if not _all_finite(out):
            raise ValueError(f"{func.__name__}: the result overflows float64 (not finite); "
                             "the inputs are too large to compute with")
        return out
    return wrapper


def _all_finite(out):
    if isinstance(out, tuple):
        return all(_all_finite(v) for v in out)
    if isinstance(out, dict):
        return all(_all_finite(v) for v in out.values() if not isinstance(v, str))
    if isinstance(out, pd.DataFrame):
        return bool(np.isfinite(out.select_dtypes("number").to_numpy(dtype=float)).all())
    if isinstance(out, (str, type(None))):
        return True
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        return True
    return bool(np.isfinite(arr).all())
