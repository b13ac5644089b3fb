"""econ.kernels: the harness returns sane, finite, positive numbers quickly; bad input is named.

Timing speed is not asserted here (shared CI machines are noisy); the benchmark
script tests/benchmarks/bench_kernels.py prints rates and the harness overhead.

Merged from test_kernels_threads.py: econ.blas_thread_limit: the BLAS thread count inside the
block, restored after it."""
import numpy as np
import pandas as pd
import pytest

import econ
from econ import kernels as K
from econ import roofline as R

FAST = dict(time_budget_s=0.02, n_repeats_min=2, n_repeats_max=5)
TAIL = ["work_flop", "bytes_moved_bytes", "median_s", "min_s", "spread_ratio", "n_repeats",
        "achieved_flop_per_s", "achieved_bytes_per_s"]


def _sane(df, kernel):
    assert isinstance(df, pd.DataFrame) and len(df) > 0
    assert set(["kernel", "variant", "impl", "backend", "device", "dtype", "shape"] + TAIL) <= set(
        df.columns
    )
    assert (df["kernel"] == kernel).all()
    assert (df["backend"] == "numpy").all() and (df["device"] == "cpu").all()
    for c in ["median_s", "min_s", "bytes_moved_bytes"]:
        assert np.isfinite(df[c]).all() and (df[c] > 0).all(), c
    assert (df["min_s"] <= df["median_s"]).all()
    assert (df["spread_ratio"] >= 0).all() and (df["n_repeats"] >= 2).all()
    np.testing.assert_allclose(df["achieved_flop_per_s"], df["work_flop"] / df["median_s"])
    np.testing.assert_allclose(df["achieved_bytes_per_s"], df["bytes_moved_bytes"] / df["median_s"])
    # every numeric column name carries a unit (the data-layer convention)
    for c in df.columns:
        if pd.api.types.is_numeric_dtype(df[c]):
            assert econ.data.unit_of(c) is not None, c


def test_public_names_exported():
    for name in K.__all__:
        assert getattr(econ, name) is getattr(K, name)


def test_machine_info():
    info = K.machine_info()
    for key in ("cpu_model", "n_cpu_cores", "blas_library", "blas_core_type", "n_blas_threads",
                "numpy_version", "python_version", "measured_date"):
        assert key in info, key
    assert info["numpy_version"] == np.__version__
    assert len(info["measured_date"]) == 10
    assert "numpy" in K.available_backends()


def test_gemm():
    df = K.benchmark_gemm(sizes=(32, 64), dtype=("float64", "float32"), **FAST)
    _sane(df, "gemm")
    assert len(df) == 4 and set(df["dtype"]) == {"float64", "float32"}
    row = df[(df["dtype"] == "float32") & (df["m_dim"] == 64)].iloc[0]
    assert row["work_flop"] == 2 * 64**3
    assert row["bytes_moved_bytes"] == 3 * 64 * 64 * 4


def test_batch_sweep():
    df = K.benchmark_batch_sweep(batch_sizes=(1, 4, 16), d_in_dim=128, d_out_dim=64, **FAST)
    _sane(df, "batch_sweep")
    assert list(df["m_dim"]) == [1, 4, 16]
    assert (df["k_dim"] == 128).all() and (df["n_dim"] == 64).all()
    assert df["work_flop"].tolist() == [2.0 * m * 128 * 64 for m in (1, 4, 16)]
    # the weight matrix dominates the bytes at one row: intensity about 0.5 FLOP/byte in float32
    assert R.arithmetic_intensity(df["work_flop"].iloc[0], df["bytes_moved_bytes"].iloc[0]) < 0.6


def test_attention_decode_mha_reads_more_bytes_than_mla():
    df = K.benchmark_attention_decode(context_tok=(32, 64), n_batch=2, n_heads=4, head_dim=16,
                                      latent_dim=24, **FAST)
    _sane(df, "attention_decode")
    assert list(df["variant"]) == ["mha", "mla", "mha", "mla"]
    mha = df[df["variant"] == "mha"].iloc[1]
    mla = df[df["variant"] == "mla"].iloc[1]
    assert mha["work_flop"] == 4 * 2 * 4 * 64 * 16
    assert mha["bytes_moved_bytes"] > mla["bytes_moved_bytes"]
    assert mla["work_flop"] > mha["work_flop"]


def test_moe_variants_and_equal_flops():
    df = K.benchmark_moe(
        n_tokens=(8, 32), d_model_dim=32, d_ff_dim=16, n_experts=4, top_k=2, **FAST
    )
    _sane(df, "moe")
    assert set(df["variant"]) == {"grouped", "naive", "dense"}
    for n, g in df.groupby("n_tokens"):
        flops = g.set_index("variant")["work_flop"]
        expert = 4.0 * n * 2 * 32 * 16
        assert flops["dense"] == expert
        assert flops["grouped"] == flops["naive"] == expert + 2.0 * n * 32 * 4


def test_moe_implementations_agree():
    be = K._backend("numpy", 3)
    x = be.rand((40, 32), "float64")
    wg, w1, w2 = (
        be.rand((32, 6), "float64"),
        be.rand((6, 32, 8), "float64"),
        be.rand((6, 8, 32), "float64"),
    )
    grouped = K._moe_grouped(be, x, wg, w1, w2, 2)
    naive = K._moe_naive(be, x, wg, w1, w2, 2)
    # reference: every token through its top-2 experts, softmax weights
    logits = x @ wg
    ref = np.zeros_like(x)
    for t in range(40):
        top = np.argsort(logits[t])[-2:]
        g = np.exp(logits[t, top] - logits[t, top].max())
        g /= g.sum()
        for e, w in zip(top, g):
            ref[t] += w * (np.maximum(x[t] @ w1[e], 0) @ w2[e])
    np.testing.assert_allclose(grouped, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(naive, ref, rtol=1e-10, atol=1e-12)


def test_copy():
    df = K.benchmark_copy(sizes_bytes=(2**16,), **FAST)
    _sane(df, "copy")
    assert df["work_flop"].iloc[0] == 0 and df["bytes_moved_bytes"].iloc[0] == 2 * 2**16


def test_time_callable():
    calls = []
    res = K.time_callable(lambda a: calls.append(a) or a * 2, [(1,), (2,), (3,)], sync=lambda: None,
                          time_budget_s=0.01, n_repeats_max=4)
    assert res["median_s"] > 0 and np.isfinite(res["median_s"])
    assert 3 <= res["n_repeats"] <= 4
    assert set(calls) == {1, 2, 3}          # inputs rotated


def test_harness_table_feeds_the_roofline_fit():
    df = pd.concat([K.benchmark_gemm(sizes=(64,), dtype="float32", **FAST),
                    K.benchmark_batch_sweep(batch_sizes=(1, 8), d_in_dim=64, d_out_dim=64, **FAST),
                    K.benchmark_copy(sizes_bytes=(2**16,), **FAST)], ignore_index=True)
    fit = R.fit_roofline(df)
    assert fit.peak_flop_per_s["float32"] > 0 and fit.bandwidth_bytes_per_s > 0
    assert np.isfinite(R.prediction_error(df, fit)["abs_error_ratio"]).all()


@pytest.mark.parametrize("call, name", [
    (lambda: K.benchmark_gemm(sizes=(0,)), "sizes"),
    (lambda: K.benchmark_gemm(sizes=(64.5,)), "sizes"),
    (lambda: K.benchmark_gemm(sizes=(64,), dtype="bfloat16"), "dtype"),
    (lambda: K.benchmark_gemm(sizes=(64,), backend="jax"), "backend"),
    (lambda: K.benchmark_gemm(sizes=(64,), time_budget_s=-1), "time_budget_s"),
    (lambda: K.benchmark_gemm(sizes=(64,), n_repeats_min=5, n_repeats_max=2), "n_repeats_max"),
    (lambda: K.benchmark_batch_sweep(batch_sizes=(1,), d_in_dim=0), "d_in_dim"),
    (lambda: K.benchmark_batch_sweep(batch_sizes=(1,), dtype=("float32", "float64")), "dtype"),
    (lambda: K.benchmark_attention_decode(context_tok=(-4,)), "context_tok"),
    (lambda: K.benchmark_attention_decode(context_tok=(8,), n_heads=float("nan")), "n_heads"),
    (lambda: K.benchmark_moe(n_tokens=(8,), n_experts=2, top_k=3), "top_k"),
    (lambda: K.benchmark_moe(n_tokens=(8,), variants=("fast",)), "variants"),
    (lambda: K.benchmark_copy(sizes_bytes="big"), "sizes_bytes"),
    (lambda: K.benchmark_all(time_budget_s=0), "time_budget_s"),
    (lambda: K.machine_info(backend="tpu"), "backend"),
    (lambda: K.time_callable(3, [(1,)]), "fn"),
])
def test_bad_input_names_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_torch_backend_absent_or_present():
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="torch"):
            K.benchmark_gemm(sizes=(32,), backend="torch", **FAST)
        assert "torch" not in K.available_backends()
    else:
        df = K.benchmark_gemm(sizes=(32,), dtype="float32", backend="torch", **FAST)
        assert (df["backend"] == "torch").all() and (df["median_s"] > 0).all()


def test_attention_implementations_match_the_definition():
    rng = np.random.default_rng(4)
    b, h, t, d, lat = 2, 3, 17, 8, 12
    q, k, v = (
        rng.normal(size=(b, h, d)),
        rng.normal(size=(b, h, t, d)),
        rng.normal(size=(b, h, t, d)),
    )
    ref = np.zeros((b, h, d))
    for i in range(b):
        for j in range(h):
            s = k[i, j] @ q[i, j]
            p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
            ref[i, j] = p @ v[i, j]
    np.testing.assert_allclose(K._mha_numpy(q, k, v), ref, rtol=1e-10)
    # MLA absorbed form: keys are the latent vectors, values their up-projection per head
    ql, c, w_uv = (
        rng.normal(size=(b, h, lat)),
        rng.normal(size=(b, t, lat)),
        rng.normal(size=(h, lat, d)),
    )
    ref = np.zeros((h, b, d))
    for i in range(b):
        for j in range(h):
            s = c[i] @ ql[i, j]
            p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
            ref[j, i] = p @ (c[i] @ w_uv[j])
    np.testing.assert_allclose(K._mla_numpy(ql, c, w_uv), ref, rtol=1e-10)


# --------------------------------------------------------------------------------------------
# econ.blas_thread_limit: the BLAS thread count inside the block, restored after it.
# --------------------------------------------------------------------------------------------

def _threads():
    return K.machine_info()["n_blas_threads"]


def test_limit_applies_inside_and_is_restored():
    before = _threads()
    with econ.blas_thread_limit(1):
        assert _threads() == 1
        df = K.benchmark_gemm(sizes=(32,), dtype="float32", time_budget_s=0.02,
                              n_repeats_min=2, n_repeats_max=3)
        assert (df["n_blas_threads"] == 1).all()
    assert _threads() == before


def test_none_leaves_the_setting():
    before = _threads()
    with econ.blas_thread_limit(None):
        assert _threads() == before
    with econ.blas_thread_limit():
        assert _threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two"])
def test_bad_count_names_the_parameter(bad):
    with pytest.raises(ValueError, match="n_threads"):
        econ.blas_thread_limit(bad)
