"""econ.roofline: closed forms at both limits, fit recovery on synthetic data, bad input."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import roofline as R

PEAK = 3.0e11      # FLOP/s
BW = 2.5e10        # bytes/s


def test_public_names_exported():
    for name in R.__all__:
        assert getattr(econ, name) is getattr(R, name)


# --- closed forms ------------------------------------------------------------------------

def test_attainable_memory_bound_limit():
    # far below the ridge: attainable = intensity x bandwidth
    assert R.attainable_flop_per_s(0.5, PEAK, BW) == pytest.approx(0.5 * BW)
    assert R.attainable_flop_per_s(0.0, PEAK, BW) == 0.0


def test_attainable_compute_bound_limit():
    # far above the ridge: attainable = peak
    assert R.attainable_flop_per_s(1e6, PEAK, BW) == pytest.approx(PEAK)


def test_ridge_is_where_ceilings_meet():
    ridge = R.ridge_intensity(PEAK, BW)
    assert ridge == pytest.approx(PEAK / BW)
    assert R.attainable_flop_per_s(ridge, PEAK, BW) == pytest.approx(PEAK)
    assert R.attainable_flop_per_s(ridge * 0.5, PEAK, BW) == pytest.approx(PEAK * 0.5)


def test_time_at_both_limits():
    # GEMV-like: 2 FLOP per 4 bytes -> memory time
    f, b = 2.0e9, 4.0e9
    assert R.roofline_time_s(f, b, PEAK, BW) == pytest.approx(b / BW)
    # large GEMM: compute time
    f, b = 1.7e10, 5.0e7
    assert R.roofline_time_s(f, b, PEAK, BW) == pytest.approx(f / PEAK)
    # the "sum" form adds both
    assert R.roofline_time_s(f, b, PEAK, BW, model="sum") == pytest.approx(f / PEAK + b / BW)
    # a copy: no FLOPs
    assert R.roofline_time_s(0.0, b, PEAK, BW) == pytest.approx(b / BW)


def test_arithmetic_intensity_and_efficiency():
    n = 1024
    assert R.arithmetic_intensity(2.0 * n**3, 3 * n * n * 4) == pytest.approx(2 * n / 12)
    assert R.efficiency_frac(7.98e14, 9.89e14) == pytest.approx(7.98 / 9.89)


@pytest.mark.parametrize("kind", ["float", "array", "series"])
def test_input_kinds_give_output_kind(kind):
    vals = [0.1, 1.0, 100.0]
    x = {"float": vals[1], "array": np.array(vals), "series": pd.Series(vals, index=list("abc"))}[
        kind
    ]
    out = R.attainable_flop_per_s(x, PEAK, BW)
    t = R.roofline_time_s(x, 1.0, PEAK, BW)
    i = R.arithmetic_intensity(x, 2.0)
    if kind == "float":
        assert isinstance(out, float) and isinstance(t, float) and isinstance(i, float)
    elif kind == "array":
        assert isinstance(out, np.ndarray) and out.shape == (3,)
        np.testing.assert_allclose(out, np.minimum(PEAK, np.array(vals) * BW))
    else:
        assert isinstance(out, pd.Series) and list(out.index) == list("abc")
        assert isinstance(t, pd.Series) and isinstance(i, pd.Series)


@given(st.floats(0, 1e6), st.floats(1e6, 1e18), st.floats(1e6, 1e15))
def test_attainable_under_both_ceilings(i, p, w):
    a = R.attainable_flop_per_s(i, p, w)
    assert a <= p * (1 + 1e-12)
    assert a <= i * w * (1 + 1e-12) + 1e-300


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: R.attainable_flop_per_s(-1.0, PEAK, BW), "intensity_flop_per_byte"),
    (lambda: R.attainable_flop_per_s(1.0, 0.0, BW), "peak_flop_per_s"),
    (lambda: R.attainable_flop_per_s(1.0, PEAK, float("nan")), "bandwidth_bytes_per_s"),
    (lambda: R.roofline_time_s(1.0, 1.0, PEAK, BW, model="min"), "model"),
    (lambda: R.roofline_time_s("1", 1.0, PEAK, BW), "work_flop"),
    (lambda: R.arithmetic_intensity(1.0, 0.0), "bytes_moved_bytes"),
    (lambda: R.efficiency_frac(1.0, -5.0), "datasheet_flop_per_s"),
    (lambda: R.ridge_intensity(None, BW), "peak_flop_per_s"),
])
def test_bad_input_names_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_fit_rejects_bad_tables():
    with pytest.raises(ValueError, match="median_s"):
        R.fit_roofline(
            pd.DataFrame({"work_flop": [1.0], "bytes_moved_bytes": [1.0], "dtype": ["f"]})
        )
    with pytest.raises(ValueError, match="median_s"):
        R.fit_roofline(pd.DataFrame({"work_flop": [1.0], "bytes_moved_bytes": [1.0],
                                     "median_s": [0.0], "dtype": ["f"]}))
    with pytest.raises(ValueError, match="table"):
        R.fit_roofline([1, 2, 3])
    with pytest.raises(ValueError, match="model"):
        R.fit_roofline(_synthetic(), model="smooth")
    with pytest.raises(ValueError, match="loss"):
        R.fit_roofline(_synthetic(), loss="squares")
    with pytest.raises(ValueError, match="fit"):
        R.prediction_error(_synthetic(), {"peak": 1})


# --- fitting ------------------------------------------------------------------------------

def _synthetic(peaks=None, bw=BW, model="sum", seed=0):
    """GEMM, GEMV-sweep and copy rows timed exactly by a known roofline."""
    peaks = peaks or {"float32": PEAK, "float64": PEAK / 2}
    rows = []
    for dtype, size in (("float32", 4), ("float64", 8)):
        for n in (256, 512, 1024, 2048):                       # GEMM
            rows.append((dtype, 2.0 * n**3, 3.0 * n * n * size))
        for m in (1, 4, 16, 64, 256, 1024):                    # batch sweep, k = n = 4096
            rows.append((dtype, 2.0 * m * 4096**2, (2 * m * 4096 + 4096**2) * size))
    rows.append(("float32", 0.0, 2.0 * 2**28))                # copy
    df = pd.DataFrame(rows, columns=["dtype", "work_flop", "bytes_moved_bytes"])
    p = df["dtype"].map(peaks).to_numpy()
    df["median_s"] = R.roofline_time_s(
        df["work_flop"].to_numpy(), df["bytes_moved_bytes"].to_numpy(), p, bw, model=model
    )
    df["kernel"] = np.where(df["work_flop"] == 0, "copy", "gemm")
    df["variant"] = "x"
    return df


@pytest.mark.parametrize("loss", ["median", "mean"])
@pytest.mark.parametrize("model", ["max", "sum"])
def test_fit_recovers_known_ceilings(model, loss):
    df = _synthetic(model=model)
    fit = R.fit_roofline(df, model=model, loss=loss)
    assert fit.peak_flop_per_s["float32"] == pytest.approx(PEAK, rel=0.01)
    assert fit.peak_flop_per_s["float64"] == pytest.approx(PEAK / 2, rel=0.01)
    assert fit.bandwidth_bytes_per_s == pytest.approx(BW, rel=0.01)
    assert fit.median_abs_error_ratio < 0.01
    assert fit.n_points == len(df)


def test_fit_is_robust_to_an_overhead_bound_kernel():
    df = _synthetic()
    df.loc[3, "median_s"] *= 8.0          # one kernel slowed by overheads
    noise = np.random.default_rng(1).lognormal(0.0, 0.03, len(df))
    df["median_s"] *= noise
    fit = R.fit_roofline(df)
    assert fit.peak_flop_per_s["float32"] == pytest.approx(PEAK, rel=0.08)
    assert fit.bandwidth_bytes_per_s == pytest.approx(BW, rel=0.08)
    assert fit.median_abs_error_ratio < 0.05


def test_prediction_error_and_summary():
    df = _synthetic()
    fit = R.fit_roofline(df)
    err = R.prediction_error(df, fit)
    assert {"predicted_s", "bound", "error_ratio", "abs_error_ratio"} <= set(err.columns)
    assert err["abs_error_ratio"].max() < 0.01
    assert set(err["bound"]) == {"compute", "memory"}
    # large GEMM compute-bound, single-row GEMV memory-bound
    assert err.loc[3, "bound"] == "compute" and err.loc[4, "bound"] == "memory"
    summ = R.prediction_error_summary(df, fit)
    assert summ.iloc[-1]["kernel"] == "all" and summ.iloc[-1]["n_rows"] == len(df)
    np.testing.assert_allclose(fit.predict_time_s(df), df["median_s"], rtol=0.01)
    c = fit.ceilings()
    assert list(c["dtype"]) == ["float32", "float64"]
    assert fit.ridge_intensity()["float32"] == pytest.approx(PEAK / BW, rel=0.02)


def test_predict_unknown_group_lists_fitted_ones():
    fit = R.fit_roofline(_synthetic())
    df = _synthetic().assign(dtype="bfloat16")
    with pytest.raises(KeyError, match="float32"):
        fit.predict_time_s(df)


def test_fit_on_fastest_samples():
    df = _synthetic()
    df["min_s"] = df["median_s"]
    df["median_s"] *= np.random.default_rng(2).uniform(1.0, 3.0, len(df))   # interference
    fit = R.fit_roofline(df, time_column="min_s")
    assert fit.time_column == "min_s"
    assert fit.bandwidth_bytes_per_s == pytest.approx(BW, rel=0.01)
    assert R.prediction_error(df, fit)["abs_error_ratio"].max() < 0.01
    with pytest.raises(ValueError, match="time_column"):
        R.fit_roofline(df, time_column="mean_s")


def test_measured_efficiency_names_match_the_cost_model():
    fit = R.fit_roofline(_synthetic())
    eff = R.measured_efficiency(fit, 2 * PEAK, 1.25 * BW, group="float32")
    assert eff["flop_efficiency_frac"] == pytest.approx(0.5, rel=0.01)
    assert eff["bandwidth_efficiency_frac"] == pytest.approx(0.8, rel=0.01)
    with pytest.raises(KeyError, match="float32"):
        R.measured_efficiency(fit, PEAK, BW, group="bfloat16")
    with pytest.raises(ValueError, match="datasheet_bytes_per_s"):
        R.measured_efficiency(fit, PEAK, 0.0, group="float32")


def test_recorded_gpu_tables_fit_the_roofline():
    """The committed H100/H200 timings: ceilings near the measured bests, small median error.
    Kernels ``act_quant`` and ``sampling`` are left out: they time chains of layers with
    quantization kernels between the matmuls (tests/benchmarks/gpu_quant.py) and a step's
    sampling, a sort among its kernels (tests/benchmarks/gpu_sampling.py), not one kernel
    against a roofline."""
    t = econ.data.load("gpu_timings").reset_index()
    t = t[~t["kernel"].isin(["act_quant", "sampling"])]
    assert t["machine"].nunique() >= 2
    for machine, g in t.groupby("machine"):
        fit = R.fit_roofline(g)
        assert fit.median_abs_error_ratio < 0.2, machine
        best_bf16 = g.loc[g["dtype"] == "bfloat16", "achieved_flop_per_s"].max()
        assert 0.5 * best_bf16 < fit.peak_flop_per_s["bfloat16"] <= 1.05 * best_bf16
        best_copy = g.loc[g["kernel"] == "copy", "achieved_bytes_per_s"].max()
        assert 0.5 * best_copy < fit.bandwidth_bytes_per_s <= 1.3 * best_copy


@pytest.mark.parametrize("func, args", [
    (R.arithmetic_intensity, (1e9, 4e8)),
    (R.attainable_flop_per_s, (2.0, PEAK, BW)),
    (R.ridge_intensity, (PEAK, BW)),
    (R.roofline_time_s, (1e9, 4e8, PEAK, BW)),
    (R.efficiency_frac, (7e14, 9.89e14)),
])
@pytest.mark.parametrize("kind", ["float", "array", "series"])
def test_every_vectorized_function_keeps_the_input_kind(func, args, kind):
    scalar = func(*args)
    first = {"float": args[0], "array": np.full(3, args[0]),
             "series": pd.Series([args[0]] * 3, index=list("xyz"))}[kind]
    out = func(first, *args[1:])
    if kind == "float":
        assert isinstance(out, float) and out == scalar
    elif kind == "array":
        assert isinstance(out, np.ndarray) and np.allclose(out, scalar)
    else:
        assert (
            isinstance(out, pd.Series)
            and list(out.index) == list("xyz")
            and np.allclose(out, scalar)
        )


# --- ridge and ceilings (kernel-timings notebook) --------------------------------------------

def _sweep(ms, n=1024, k=1024, itemsize=4):
    m = np.asarray(ms, dtype=float)
    return pd.DataFrame({"kernel": "batch_sweep", "variant": "x", "dtype": "float32", "m_dim": m,
                         "work_flop": 2 * m * n * k,
                         "bytes_moved_bytes": itemsize * (m * k + n * k + m * n),
                         "median_s": 1.0})


def test_ridge_batch_count_is_the_first_batch_past_the_closed_form_ridge():
    # compute-bound when 2mnk/p >= 4(mk + nk + mn)/bw; with n = k = 1024 and p/bw = 10 FLOP/byte
    # that is m >= 4*10*1024^2 / (2*1024^2 - 8*1024*10) = 20.8, so the first power of two is 32
    bw = 1e10
    fit = R.RooflineFit(peak_flop_per_s={"float32": 10 * bw}, bandwidth_bytes_per_s=bw,
                        model="max")
    table = _sweep([1, 2, 4, 8, 16, 32, 64, 128])
    assert econ.ridge_batch_count(econ.prediction_error(table, fit)) == 32.0
    # ridge beyond the sweep: the largest batch timed
    assert econ.ridge_batch_count(econ.prediction_error(_sweep([1, 2, 4, 8]), fit)) == 8.0
    with pytest.raises(ValueError, match="prediction_error"):
        econ.ridge_batch_count(table)


def test_ceiling_efficiency_is_best_rate_over_datasheet_beside_deepseeks_kernels():
    t = pd.DataFrame({
        "kernel": ["gemm", "gemm", "gemm", "gemm", "copy"],
        "backend": ["torch", "torch", "torch", "jax", "torch"],
        "dtype": ["bfloat16", "bfloat16", "float8_e4m3fn", "bfloat16", "float32"],
        "achieved_flop_per_s": [400.0, 500.0, 900.0, 999.0, np.nan],
        "achieved_bytes_per_s": [np.nan, np.nan, np.nan, np.nan, 3.0],
    })
    sheet = pd.Series({"peak_bf16_flop_per_s": 1000.0, "peak_fp8_flop_per_s": 2000.0,
                       "memory_bytes_per_s": 4.0})
    hw = econ.data.load("hardware")
    e = econ.ceiling_efficiency(t, sheet, econ.data.load("published"), hw.loc["h800-sxm"])
    # the jax row is not cuBLAS through PyTorch: it does not count
    np.testing.assert_allclose(e["measured_frac"], [0.5, 0.45, 0.75])
    # DeepGEMM's 1,350 TFLOPS of the H800's 1,979 FP8 TFLOPS; FlashMLA's 3,000 of 3,350 GB/s
    assert e.loc["fp8", "published_frac"] == pytest.approx(1350 / 1979, rel=1e-3)
    assert e.loc["bandwidth", "published_frac"] == pytest.approx(3000 / 3350, rel=1e-3)
    assert np.isnan(e.loc["bf16", "published_frac"])
    assert e.loc["bandwidth", "published_source_url"].startswith("https://github.com/deepseek-ai/")
    assert np.isnan(econ.ceiling_efficiency(t, sheet)["published_frac"]).all()
    with pytest.raises(ValueError, match="published_hardware"):
        econ.ceiling_efficiency(t, sheet, econ.data.load("published"))
