"""Shared checks for the numeric public functions of ``econ``: the kinds they accept (float,
ndarray, Series), broadcasting, bad input that names the parameter, and huge or arbitrary input
that gives a finite result or a clear error.

Each test module keeps its own ``CASES`` table, ``{function: {parameter: (valid scalar, kind)}}``,
where the kind is one of the keys of :data:`BAD`, and calls these helpers from its tests.
"""
import math
import warnings

import numpy as np
import pandas as pd
import pytest

# values that break each kind of range: nonneg >= 0, pos > 0, frac [0, 1], frac_pos (0, 1],
# ge1 >= 1, int_pos a whole number > 0
BAD = {
    "nonneg": [-1.0],
    "pos": [0.0, -1.0],
    "frac": [-0.1, 1.5],
    "frac_pos": [0.0, 1.5],
    "ge1": [0.9, 0.0],
    "int_pos": [0.0, -1.0, 2.5],
}
# values no numeric parameter accepts
COMMON_BAD = [float("nan"), float("inf"), -float("inf"), "2", None, True]


def case_args(cases):
    """Every ``(function, parameter)`` pair of a ``CASES`` table."""
    return [(f, name) for f, spec in cases.items() for name in spec]


def case_id(case):
    """Test id of a ``(function, parameter)`` pair, or of a function alone."""
    if callable(case):
        return case.__name__
    return f"{case[0].__name__}-{case[1]}"


def scalar_kwargs(cases, f):
    """The valid scalar keyword arguments of ``f`` in a ``CASES`` table."""
    return {k: v for k, (v, _) in cases[f].items()}


def check_kinds(cases, f):
    """With the valid arguments of ``f`` in ``cases``: floats give a finite float; an ndarray
    in any one argument gives an ndarray, a Series a Series on its index; Series in every
    argument give a Series on their shared index."""
    kw = scalar_kwargs(cases, f)
    ref = f(**kw)
    assert isinstance(ref, float) and math.isfinite(ref)
    for name in kw:
        arr = f(**{**kw, name: np.full(3, kw[name])})
        assert isinstance(arr, np.ndarray) and arr.shape == (3,)
        np.testing.assert_allclose(arr, ref, rtol=1e-12)
        s = pd.Series(np.full(3, kw[name]), index=["a", "b", "c"])
        out = f(**{**kw, name: s})
        assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c"]
        np.testing.assert_allclose(out.to_numpy(), ref, rtol=1e-12)
    idx = pd.Index(["x", "y"], name="scenario")
    every = f(**{k: pd.Series([v, v], index=idx) for k, v in kw.items()})
    assert isinstance(every, pd.Series) and every.index.equals(idx)


def check_broadcasting(cases, f, pair=(0, 1)):
    """A (3, 1) array in one argument of ``f`` and a (4,) array in another, at the positions
    ``pair`` of its arguments in ``cases``, broadcast to (3, 4)."""
    kw = scalar_kwargs(cases, f)
    first, second = (list(kw)[i] for i in pair)
    out = f(**{**kw, first: np.full((3, 1), kw[first]), second: np.full(4, kw[second])})
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, f(**kw), rtol=1e-12)


def check_bad_input(cases, f, name):
    """Every bad value of ``name`` (common ones and those of its kind) is a ValueError whose
    message starts with ``"<name> must"``; in an array, the message also gives the position."""
    kw = scalar_kwargs(cases, f)
    for bad in COMMON_BAD + BAD[cases[f][name][1]]:
        with pytest.raises(ValueError, match=rf"^{name} must"):
            f(**{**kw, name: bad})
        if not isinstance(bad, (str, bool)) and bad is not None:
            with pytest.raises(ValueError, match=rf"^{name} must.*at position 1"):
                f(**{**kw, name: np.array([kw[name], bad])})


def in_range(kind, x):
    """Whether ``x`` is a finite float inside the range of ``kind``."""
    if not (isinstance(x, float) and math.isfinite(x)):
        return False
    return {"nonneg": x >= 0, "pos": x > 0, "frac": 0 <= x <= 1, "frac_pos": 0 < x <= 1,
            "ge1": x >= 1, "int_pos": x > 0 and x == round(x)}[kind]


def huge(kind):
    """The largest convenient valid value of ``kind``: 1e308, or 1 for a fraction."""
    return 1.0 if kind in ("frac", "frac_pos") else 1e308


def finite_or_overflow_error(f, kwargs):
    """``f(**kwargs)`` is finite, or a ValueError saying the result overflows; no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks out either
        try:
            out = f(**kwargs)
        except ValueError as exc:
            assert f"{f.__name__}: the result overflows float64" in str(exc)
        else:
            assert math.isfinite(out)


def check_huge_valid_input(cases, f, name, kw=None):
    """A huge valid ``name``, then huge valid values everywhere, are finite or a clear error;
    ``kw``, if given, are the other arguments in place of the valid ones in ``cases``."""
    kw = scalar_kwargs(cases, f) if kw is None else kw
    finite_or_overflow_error(f, {**kw, name: huge(cases[f][name][1])})
    finite_or_overflow_error(f, {k: huge(cases[f][k][1]) for k in kw})


def check_any_input(cases, f, name, x):
    """Any ``x`` for ``name``: in range, a finite result or a clear overflow error; out of range,
    a ValueError naming the parameter (never a nan)."""
    kw = scalar_kwargs(cases, f)
    if in_range(cases[f][name][1], x):
        finite_or_overflow_error(f, {**kw, name: x})
    else:
        with pytest.raises(ValueError, match=rf"^{name} "):
            f(**{**kw, name: x})
