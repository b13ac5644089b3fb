"""econ.kernels: the harness returns sane, finite, positive numbers quickly; bad input is named.

Timing speed is not asserted here (shared CI machines are noisy); the benchmark
script tests/benchmarks/bench_kernels.py prints rates and the harness overhead."""
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


def _tiny_live(time_column="min_s"):
    return econ.live_kernel_timings([16, 32], [1, 2, 64], 64, [16], [1], 2**20,
                                    time_budget_s=0.05, blas_threads=1, time_column=time_column)


def test_live_kernel_timings_runs_every_case_with_rates_over_the_chosen_time():
    live = _tiny_live("median_s")
    # 2 GEMM sizes x 2 dtypes, 3 batches, MHA + MLA at 1 context, 3 MoE variants, 1 copy
    assert len(live) == 4 + 3 + 2 + 3 + 1
    assert set(live["kernel"]) == {"gemm", "batch_sweep", "attention_decode", "moe", "copy"}
    np.testing.assert_allclose(live["fit_flop_per_s"], live["work_flop"] / live["median_s"])
    np.testing.assert_allclose(live["fit_bytes_per_s"],
                               live["bytes_moved_bytes"] / live["median_s"])
    assert (live["kernel_name"] == live["kernel"] + ":" + live["variant"]).all()
    with pytest.raises(ValueError, match="time_column"):
        econ.live_kernel_timings([16], [1], 64, [16], [1], 2**20, time_column="mean_s")


def test_recorded_gpu_timings_are_one_machine_of_the_named_gpu():
    rows = econ.recorded_gpu_timings("h100-2026-11-22", "h100-sxm")
    assert set(rows["machine"]) == {"h100-2026-11-22"} and len(rows) > 10
    with pytest.raises(ValueError, match="recorded on an .*H100"):
        econ.recorded_gpu_timings("h100-2026-11-22", "h200-sxm")
    with pytest.raises(KeyError, match="gpu_machines"):
        econ.recorded_gpu_timings("no-such-run", "h100-sxm")


def _timing_rows(rows):
    cols = ["kernel", "variant", "impl", "context_tok", "n_tokens", "median_s", "min_s",
            "bytes_moved_bytes", "work_flop"]
    return pd.DataFrame(rows, columns=cols)


def test_attention_comparison_takes_the_fastest_mha_and_divides():
    t = _timing_rows([
        ("attention_decode", "mha", "matmul", 1024.0, np.nan, 4e-3, 3e-3, 8e6, 1e6),
        ("attention_decode", "mha", "sdpa", 1024.0, np.nan, 2e-3, 2e-3, 8e6, 1e6),
        ("attention_decode", "mla", "absorbed", 1024.0, np.nan, 5e-4, 4e-4, 1e6, 4e6),
    ])
    a = econ.attention_decode_comparison(t)
    row = a.loc[1024.0]
    assert row["mha_ms"] == pytest.approx(2.0) and row["mla_ms"] == pytest.approx(0.5)
    assert row["mla_speedup_ratio"] == pytest.approx(4.0)
    assert row["mha_to_mla_bytes_ratio"] == pytest.approx(8.0)
    assert row["mla_to_mha_flop_ratio"] == pytest.approx(4.0)
    assert econ.attention_decode_comparison(t, "min_s").loc[1024.0, "mla_speedup_ratio"] \
        == pytest.approx(2e-3 / 4e-4)
    with pytest.raises(ValueError, match="no 'attention_decode' rows"):
        econ.attention_decode_comparison(t[t["kernel"] == "moe"])


def test_moe_comparison_ratios():
    t = _timing_rows([
        ("moe", "grouped", "x", np.nan, 64.0, 2e-3, 2e-3, 1.0, 1.0),
        ("moe", "naive", "x", np.nan, 64.0, 0.1, 0.1, 1.0, 1.0),
        ("moe", "dense", "x", np.nan, 64.0, 1e-3, 1e-3, 1.0, 1.0),
    ])
    m = econ.moe_comparison(t).loc[64.0]
    assert m["grouped_vs_naive_speedup_ratio"] == pytest.approx(50.0)
    assert m["grouped_to_dense_time_ratio"] == pytest.approx(2.0)
    assert m["naive_ms"] == pytest.approx(100.0)


def _stack_rows(err=1e-3, backends=("torch", "cupy", "triton", "jax")):
    rate = {"torch": 800e12, "cupy": 780e12, "triton": 600e12, "jax": 700e12}
    rows = []
    for shape, f in (("4096x4096", 1.0), ("8192x8192", 0.5)):
        for b in backends:
            rows.append(dict(kernel="gemm", dtype="bfloat16", backend=b, shape=shape,
                             achieved_flop_per_s=rate[b] * f, check_rel_error_ratio=err))
    rows.append(dict(kernel="gemm", dtype="bfloat16", backend="torch", shape="1x1",
                     achieved_flop_per_s=1.0, check_rel_error_ratio=np.nan))  # unchecked: left out
    return pd.DataFrame(rows)


def test_portable_stacks_are_shares_of_cublas_at_the_same_shape():
    s = econ.portable_stack_comparison(_stack_rows())
    assert len(s) == 8
    share = s.groupby("backend")["share_of_cublas_ratio"].mean()
    assert share["torch"] == pytest.approx(1.0) and share["triton"] == pytest.approx(0.75)
    assert share["jax"] == pytest.approx(0.875)
    assert set(s["stack"]) == set(econ.STACK_NAMES.values())
    with pytest.raises(ValueError, match="jax"):
        econ.portable_stack_comparison(_stack_rows(backends=("torch", "cupy", "triton")))
    with pytest.raises(ValueError, match="disagree"):
        econ.portable_stack_comparison(_stack_rows(err=0.05))


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
