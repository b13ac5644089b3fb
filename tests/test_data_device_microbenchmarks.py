"""The device microbenchmarks (data/device_microbenchmarks.csv) load and make physical sense."""
import numpy as np
import pandas as pd
import pytest

from econ import data as D


@pytest.fixture(scope="module")
def bench():
    return D.load("device_microbenchmarks")


def test_rows_name_known_hardware_and_stay_below_the_datasheet(bench):
    hw = D.load("hardware")
    assert set(bench["hardware"]) <= set(hw.index)
    peak_bw = bench["hardware"].map(hw["memory_bytes_per_s"])
    peak_fp8 = bench["hardware"].map(hw["peak_fp8_flop_per_s"])
    peak_bf16 = bench["hardware"].map(hw["peak_bf16_flop_per_s"])
    bw_frac = (bench["copy_bytes_per_s"] / peak_bw).dropna()
    flop_frac = pd.concat([(bench["gemm_fp8_flop_per_s"] / peak_fp8).dropna(),
                           (bench["gemm_fp16_flop_per_s"] / peak_bf16).dropna()])
    # a copy or a GEMM never beats the datasheet, and a real one reaches well over a third of it
    assert ((bw_frac > 0.4) & (bw_frac <= 1.0)).all(), bw_frac
    assert ((flop_frac > 0.3) & (flop_frac <= 1.0)).all(), flop_frac
    # a figure comes with the shape it was measured at, and a shape with its figure
    for col in ("gemm_fp8", "gemm_fp16"):
        rate, shape = bench[f"{col}_flop_per_s"].notna(), bench[f"{col}_shape"].notna()
        assert (rate == shape).all(), col


def test_the_fp16_figures_measured_here_match_their_run(bench):
    """The H200's FP16 and FP8 figures are the best of the committed run's shapes."""
    run = pd.read_csv(D.DATA_DIR / "gpu_runs" / "h200-2026-12-03-cublaslt" / "cublaslt_gemm.csv")
    row = bench.loc["workplace-h200-2026-12-03"]
    for typ, col in (("fp16", "gemm_fp16"), ("fp8e4m3", "gemm_fp8")):
        best = run[run["type"] == typ].sort_values("harness_tflops").iloc[-1]
        assert row[f"{col}_flop_per_s"] == pytest.approx(best["harness_tflops"] * 1e12, rel=1e-3)
        assert row[f"{col}_shape"] == f"m={best.m_dim} n={best.n_dim} k={best.k_dim}"
        assert (run["warmup_count"] == 10000).all() and (run["iter_count"] == 1000).all()


def test_the_reference_device_is_measured_in_every_harness(bench):
    from econ.engine import REFERENCE_HARDWARE
    for harness, rows in bench.groupby("harness"):
        assert REFERENCE_HARDWARE in set(rows["hardware"]), harness
        assert np.isfinite(rows["copy_bytes_per_s"]).any()
