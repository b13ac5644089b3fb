"""The device microbenchmarks (data/device_microbenchmarks.csv) load and make physical sense."""
import numpy as np
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
    bw_frac = (bench["copy_bytes_per_s"] / peak_bw).dropna()
    flop_frac = (bench["gemm_fp8_flop_per_s"] / peak_fp8).dropna()
    # a copy or a GEMM never beats the datasheet, and a real one reaches well over a third of it
    assert ((bw_frac > 0.4) & (bw_frac <= 1.0)).all(), bw_frac
    assert ((flop_frac > 0.3) & (flop_frac <= 1.0)).all(), flop_frac


def test_the_reference_device_is_measured_in_every_harness(bench):
    from econ.engine import REFERENCE_HARDWARE
    for harness, rows in bench.groupby("harness"):
        assert REFERENCE_HARDWARE in set(rows["hardware"]), harness
        assert np.isfinite(rows["copy_bytes_per_s"]).any()
