"""econ.sensitivity: grids, seeded Monte Carlo, distributions against closed forms, tornado
swings of a linear function."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from econ.sensitivity import (
    Distribution,
    evaluate,
    fixed,
    grid,
    lognormal_from_range,
    monte_carlo,
    normal,
    summarize,
    tornado,
    triangular,
    uniform,
)


def cost_usd_per_mtok(price_usd_per_hour, throughput_tok_per_s):
    return price_usd_per_hour / (throughput_tok_per_s * 3600.0) * 1e6


# --------------------------------------------------------------------------------------------
# grid / evaluate
# --------------------------------------------------------------------------------------------

def test_grid_is_the_cartesian_product_last_axis_fastest():
    g = grid(batch_size=[1, 8, 64], hardware=["h100-sxm", "h800-sxm"], utilization_frac=0.6)
    assert g.shape == (6, 3)
    assert list(g.columns) == ["batch_size", "hardware", "utilization_frac"]
    assert list(g["hardware"][:2]) == ["h100-sxm", "h800-sxm"]
    assert list(g["batch_size"]) == [1, 1, 8, 8, 64, 64]
    assert (g["utilization_frac"] == 0.6).all()
    assert not g.duplicated().any()


@given(st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_grid_size_is_the_product_of_axis_lengths(lengths):
    g = grid(**{f"a{i}": np.arange(n) for i, n in enumerate(lengths)})
    assert len(g) == math.prod(lengths)
    assert not g.duplicated().any()


def test_grid_rejects_an_empty_axis_and_no_axes():
    with pytest.raises(ValueError, match="batch_size"):
        grid(batch_size=[])
    with pytest.raises(ValueError, match="at least one axis"):
        grid()


def test_evaluate_binds_columns_and_constants_by_name():
    g = grid(price_usd_per_hour=[1.0, 2.0], throughput_tok_per_s=[100.0, 1000.0], extra=[0])
    out = evaluate(cost_usd_per_mtok, g)
    assert "cost_usd_per_mtok" in out.columns and "cost_usd_per_mtok" not in g.columns
    np.testing.assert_allclose(out["cost_usd_per_mtok"],
                               g["price_usd_per_hour"] / g["throughput_tok_per_s"] / 3600 * 1e6)
    out2 = evaluate(cost_usd_per_mtok, grid(throughput_tok_per_s=[100.0]),
                    constants={"price_usd_per_hour": 3.6}, output="c")
    assert out2["c"].iloc[0] == pytest.approx(10.0)


def test_evaluate_calls_the_function_once_and_names_missing_arguments():
    calls = []

    def f(a, b):
        calls.append(1)
        return {"s": a + b, "p": a * b}

    out = evaluate(f, grid(a=np.arange(100), b=[1.0, 2.0]))
    assert len(calls) == 1 and list(out.columns) == ["a", "b", "s", "p"]
    with pytest.raises(ValueError, match=r"needs \['b'\]"):
        evaluate(f, grid(a=[1]))


def test_evaluate_rejects_a_function_that_is_not_vectorized():
    with pytest.raises(ValueError, match="vectorized"):
        evaluate(lambda a: np.array([1.0, 2.0, 3.0]), grid(a=[1, 2]), output="y")


# --------------------------------------------------------------------------------------------
# distributions: sample moments against closed forms
# --------------------------------------------------------------------------------------------

N = 200_000


def _draw(dist, seed=7):
    return dist.sample(N, np.random.default_rng(seed))


def _close(sample_value, exact, sd, k=5.0):
    """Within k standard errors of the exact value."""
    assert abs(sample_value - exact) < k * sd / math.sqrt(N), (sample_value, exact)


def test_uniform_moments():
    lo, hi = 2.0, 5.0
    x = _draw(uniform(lo, hi))
    sd = (hi - lo) / math.sqrt(12)
    _close(x.mean(), (lo + hi) / 2, sd)
    assert x.std() == pytest.approx(sd, rel=0.01)
    assert x.min() >= lo and x.max() <= hi
    assert uniform(lo, hi).interval(0.9) == pytest.approx((lo + 0.05 * 3, hi - 0.05 * 3))


def test_triangular_moments_and_quantiles():
    a, c, b = 1.0, 2.0, 6.0
    x = _draw(triangular(a, c, b))
    mean = (a + b + c) / 3
    var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    _close(x.mean(), mean, math.sqrt(var))
    assert x.var() == pytest.approx(var, rel=0.02)
    # CDF at the mode is (c - a) / (b - a)
    assert float(triangular(a, c, b).ppf((c - a) / (b - a))) == pytest.approx(c)
    assert np.mean(x < c) == pytest.approx((c - a) / (b - a), abs=0.005)


def test_lognormal_from_range_puts_90_percent_inside_the_range():
    lo, hi = 1.0, 16.0
    d = lognormal_from_range(lo, hi)
    x = _draw(d)
    assert np.median(x) == pytest.approx(math.sqrt(lo * hi), rel=0.01)
    assert np.mean(x < lo) == pytest.approx(0.05, abs=0.003)
    assert np.mean(x > hi) == pytest.approx(0.05, abs=0.003)
    sigma = math.log(hi / lo) / (2 * 1.6448536269514722)
    mean = math.sqrt(lo * hi) * math.exp(sigma ** 2 / 2)
    assert x.mean() == pytest.approx(mean, rel=0.01)
    assert d.interval(0.9) == pytest.approx((lo, hi))
    d80 = lognormal_from_range(lo, hi, coverage=0.8)
    assert d80.interval(0.8) == pytest.approx((lo, hi))


def test_normal_and_fixed():
    x = _draw(normal(3.0, 0.5))
    _close(x.mean(), 3.0, 0.5)
    assert x.std() == pytest.approx(0.5, rel=0.01)
    assert normal(3.0, 0.5).interval(0.9) == pytest.approx(
        (3.0 - 0.5 * 1.6448536269514722, 3.0 + 0.5 * 1.6448536269514722))
    f = _draw(fixed(2.5))
    assert (f == 2.5).all()


@pytest.mark.parametrize("make, message", [
    (lambda: uniform(2, 1), "lo < hi"),
    (lambda: triangular(1, 5, 3), "mode"),
    (lambda: lognormal_from_range(0, 3), "0 < lo"),
    (lambda: lognormal_from_range(1, 3, coverage=1.2), "coverage"),
    (lambda: normal(1, 0), "sd > 0"),
    (lambda: uniform(float("nan"), 1), "finite"),
    (lambda: uniform("1", 2), "finite number"),
])
def test_distributions_reject_bad_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --------------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------------

INPUTS = {"price_usd_per_hour": lognormal_from_range(1.5, 4.0),
          "throughput_tok_per_s": triangular(500.0, 1000.0, 2000.0)}


def test_monte_carlo_repeats_exactly_with_a_seed_and_differs_with_another():
    a = monte_carlo(cost_usd_per_mtok, INPUTS, 5_000, seed=11)
    b = monte_carlo(cost_usd_per_mtok, INPUTS, 5_000, seed=11)
    c = monte_carlo(cost_usd_per_mtok, INPUTS, 5_000, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["cost_usd_per_mtok"], c["cost_usd_per_mtok"])
    assert list(a.columns) == ["sample", "price_usd_per_hour", "throughput_tok_per_s",
                               "cost_usd_per_mtok"]
    np.testing.assert_allclose(a["cost_usd_per_mtok"],
                               cost_usd_per_mtok(a["price_usd_per_hour"],
                                                 a["throughput_tok_per_s"]))


def test_each_input_has_its_own_stream():
    """Adding or reordering inputs leaves the other inputs' samples unchanged."""
    one = monte_carlo(lambda x: x, {"x": uniform(0, 1)}, 1000, seed=3, output="y")
    two = monte_carlo(lambda x, z: x + z, {"z": normal(0, 1), "x": uniform(0, 1)}, 1000,
                      seed=3, output="y")
    np.testing.assert_array_equal(one["x"], two["x"])


def test_monte_carlo_is_one_vectorized_call_and_keeps_string_constants_scalar():
    calls = []

    def f(price_usd_per_hour, hardware):
        calls.append(hardware)
        assert isinstance(hardware, str)
        return price_usd_per_hour * 2

    out = monte_carlo(f, {"price_usd_per_hour": uniform(1, 2), "hardware": "h100-sxm"},
                      10_000, seed=0)
    assert calls == ["h100-sxm"] and len(out) == 10_000
    assert (out["hardware"] == "h100-sxm").all()


def test_monte_carlo_over_a_grid_uses_common_random_numbers():
    g = grid(throughput_tok_per_s=[500.0, 1000.0])
    out = monte_carlo(cost_usd_per_mtok, {"price_usd_per_hour": uniform(1, 3)}, 2000, seed=5,
                      over=g)
    assert len(out) == 4000
    lo = out[out["throughput_tok_per_s"] == 500.0]["cost_usd_per_mtok"].to_numpy()
    hi = out[out["throughput_tok_per_s"] == 1000.0]["cost_usd_per_mtok"].to_numpy()
    np.testing.assert_allclose(lo, 2 * hi)  # same price samples at both throughputs
    s = summarize(out, "cost_usd_per_mtok", by="throughput_tok_per_s")
    assert list(s.columns) == ["throughput_tok_per_s", "variable", "mean", "sd", "p5", "p50",
                               "p95"]
    assert len(s) == 2


def test_summarize_matches_numpy_quantiles():
    out = monte_carlo(cost_usd_per_mtok, INPUTS, 20_000, seed=1)
    s = summarize(out).set_index("variable")
    x = out["cost_usd_per_mtok"].to_numpy()
    assert list(s.index) == ["price_usd_per_hour", "throughput_tok_per_s", "cost_usd_per_mtok"]
    for q, col in [(0.05, "p5"), (0.5, "p50"), (0.95, "p95")]:
        assert s.loc["cost_usd_per_mtok", col] == pytest.approx(np.quantile(x, q))
    assert s.loc["cost_usd_per_mtok", "mean"] == pytest.approx(x.mean())
    # p5 of the price input is the lognormal's range low end
    assert s.loc["price_usd_per_hour", "p5"] == pytest.approx(1.5, rel=0.03)


@pytest.mark.parametrize("kw, message", [
    (dict(n_samples=0), "n_samples"),
    (dict(n_samples=1.5), "n_samples"),
    (dict(seed=-1), "seed"),
    (dict(seed=None), "seed"),
])
def test_monte_carlo_rejects_bad_arguments(kw, message):
    args = dict(n_samples=10, seed=0) | kw
    with pytest.raises(ValueError, match=message):
        monte_carlo(cost_usd_per_mtok, INPUTS, **args)


def test_monte_carlo_rejects_an_input_that_is_not_a_distribution():
    with pytest.raises(ValueError, match="price_usd_per_hour"):
        monte_carlo(cost_usd_per_mtok, {"price_usd_per_hour": [1, 2],
                                        "throughput_tok_per_s": 5.0}, 10)


# --------------------------------------------------------------------------------------------
# tornado
# --------------------------------------------------------------------------------------------

def linear(a, b, c, label):
    assert isinstance(label, str)
    return 3.0 * a - 2.0 * b + 0.5 * c


def test_tornado_swings_of_a_linear_function_are_its_slopes_times_the_ranges():
    base = {"a": 1.0, "b": 2.0, "c": 3.0, "label": "x"}
    ranges = {"c": (0.0, 10.0), "a": (0.0, 1.0), "b": (1.0, 3.0)}
    t = tornado(linear, base, ranges)
    # |3| * 1 = 3, |-2| * 2 = 4, |0.5| * 10 = 5
    assert list(t["parameter"]) == ["c", "b", "a"]
    assert list(t["swing"]) == pytest.approx([5.0, 4.0, 3.0])
    y0 = linear(1.0, 2.0, 3.0, "x")
    assert t["output_base"].to_numpy() == pytest.approx(np.full(3, y0))
    row = t.set_index("parameter").loc["b"]
    assert row["output_low"] == pytest.approx(y0 + 2.0)   # b down by 1 -> +2
    assert row["output_high"] == pytest.approx(y0 - 2.0)
    assert (row["low_value"], row["high_value"]) == (1.0, 3.0)
    assert set(t["output"]) == {"linear"}
    assert list(t.columns) == ["output", "parameter", "low_value", "high_value", "output_low",
                               "output_high", "output_base", "swing"]


def test_tornado_takes_a_distributions_p5_p95():
    t = tornado(linear, {"a": 1.0, "b": 2.0, "c": 3.0, "label": "x"},
                {"a": uniform(0.0, 10.0)})
    assert (t["low_value"].iloc[0], t["high_value"].iloc[0]) == pytest.approx((0.5, 9.5))
    assert t["swing"].iloc[0] == pytest.approx(3.0 * 9.0)


def test_tornado_names_a_range_without_a_base_value():
    with pytest.raises(ValueError, match=r"\['d'\]"):
        tornado(linear, {"a": 1.0, "b": 2.0, "c": 3.0, "label": "x"}, {"d": (0, 1)})




@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(-5, 5), st.floats(0.01, 5)),
                min_size=1, max_size=5))
def test_tornado_swing_is_slope_times_width_for_any_linear_function(terms):
    names = [f"x{i}" for i in range(len(terms))]
    slopes = np.array([t[0] for t in terms])

    def f(**kw):
        return sum(s * kw[n] for s, n in zip(slopes, names))

    base = {n: t[1] for n, t in zip(names, terms)}
    ranges = {n: (t[1] - t[2], t[1] + t[2]) for n, t in zip(names, terms)}
    t = tornado(f, base, ranges, output="y").set_index("parameter")
    for (s, _, w), n in zip(terms, names):
        assert t.loc[n, "swing"] == pytest.approx(abs(s) * 2 * w, abs=1e-9)
    assert (np.diff(t["swing"].to_numpy()) <= 0).all()


def test_monte_carlo_refuses_an_output_named_like_an_input():
    with pytest.raises(ValueError, match="has the name of an input"):
        monte_carlo(lambda x: x, {"x": uniform(0, 1)}, 10, output="x")


def test_distributions_sample_with_the_numpy_generator_method_they_name():
    """Same seed, same draws as numpy's own method: Monte Carlo streams are numpy's."""
    for d, call in [(uniform(1.0, 2.0), lambda r: r.uniform(1.0, 2.0, 5)),
                    (triangular(1.0, 2.0, 4.0), lambda r: r.triangular(1.0, 2.0, 4.0, 5)),
                    (normal(3.0, 0.5), lambda r: r.normal(3.0, 0.5, 5))]:
        assert isinstance(d, Distribution)
        np.testing.assert_array_equal(d.sample(5, np.random.default_rng(3)),
                                      call(np.random.default_rng(3)))
    d = lognormal_from_range(1.0, 16.0)
    np.testing.assert_allclose(d.sample(5, np.random.default_rng(3)),
                               np.random.default_rng(3).lognormal(math.log(4.0), d.args[1], 5))
