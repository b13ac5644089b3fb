"""The shared input checks: clear messages, kinds preserved."""
import numpy as np
import pandas as pd
import pytest

from econ import _checks as C


@pytest.mark.parametrize("bad, match", [
    (float("nan"), "must be finite, got nan"),
    (float("inf"), "must be finite, got inf"),
    ("3", "must be a number, got the string '3'"),
    (True, "must be a number, got True"),
    (None, "must be a number, got None"),
    ({"a": 1}, "must be a number or an array"),
    ([1.0, -2.0], r"must be > 0, got -2.0 \(at position 1\)"),
    (0.0, "must be > 0, got 0.0"),
])
def test_positive_rejects_with_name_value_and_range(bad, match):
    with pytest.raises(ValueError, match=rf"^price_usd_per_hour {match}"):
        C.positive("price_usd_per_hour", bad)


def test_fraction_bounds():
    assert C.fraction("utilization_frac", 1.0) == 1.0
    with pytest.raises(ValueError, match=r"utilization_frac must be in \(0, 1\], got 0.0"):
        C.fraction("utilization_frac", 0.0, allow_zero=False)
    with pytest.raises(ValueError, match=r"utilization_frac must be in \[0, 1\], got 1.7"):
        C.fraction("utilization_frac", 1.7)


def test_integer_and_choice():
    with pytest.raises(ValueError, match="n_layers must be a whole number, got 2.5"):
        C.positive("n_layers", 2.5, integer=True)
    assert C.choice("precision", "fp8", ["bf16", "fp8"]) == "fp8"
    with pytest.raises(ValueError, match=r"precision must be one of \['bf16', 'fp8'\], got 'fp7'"):
        C.choice("precision", "fp7", ["bf16", "fp8"])


def test_like_returns_the_input_kind():
    s = pd.Series([1.0, 2.0], index=["a", "b"])
    a = np.array([1.0, 2.0])
    assert isinstance(C.like(np.asarray(3.0), 3.0), float)
    out = C.like(C.numeric("x", s) * 2, s)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"] and out.iloc[1] == 4.0
    assert isinstance(C.like(C.numeric("x", a) * 2, a), np.ndarray)
    # broadcasting a scalar result against a Series
    b = C.like(np.asarray(5.0), 2.0, s)
    assert isinstance(b, pd.Series) and (b == 5.0).all()
