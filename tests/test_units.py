"""econ.units: precisions and their bytes and peak columns, the $/h at tok/s to $/Mtok conversion.
"""
import pytest

import econ
from econ import (
    BYTES_PER_PARAM,
    PEAK_FLOP_COLUMN,
    PRECISIONS,
    hardware_peak_flop_per_s,
    param_bytes,
)
from econ import pricing as P

H100 = dict(name="h100-sxm", peak_bf16_flop_per_s=989.4e12, peak_fp8_flop_per_s=1978.9e12,
            peak_int8_flop_per_s=1978.9e12, peak_fp4_flop_per_s=float("nan"),
            memory_bytes=80e9, memory_bytes_per_s=3.35e12)


def test_precision_definitions():
    assert BYTES_PER_PARAM == {"bf16": 2, "fp8": 1, "int8": 1, "fp4": 0.5}
    assert set(PEAK_FLOP_COLUMN) == set(BYTES_PER_PARAM) == set(PRECISIONS)
    hw_cols = set(econ.data.load("hardware").columns)
    assert set(PEAK_FLOP_COLUMN.values()) <= hw_cols
    assert param_bytes(70.6e9, "bf16") == 141.2e9
    assert param_bytes(671e9, "fp8") == 671e9
    assert param_bytes(8e9, "fp4") == 4e9
    assert hardware_peak_flop_per_s(H100, "fp8") == 1978.9e12
    assert hardware_peak_flop_per_s("h100-sxm", "bf16") == econ.data.row(
        "hardware", "h100-sxm")["peak_bf16_flop_per_s"]


def test_cost_per_mtok_closed_form():
    # $3.60 an hour at 1,000 tokens/s: 3.6M tokens an hour, so $1 per Mtok
    assert P.cost_usd_per_mtok(3.6, 1000.0) == pytest.approx(1.0)
    # an H800 node at $2/GPU-hour decoding 14.8k tokens/s (Day-6 average): about $0.30/Mtok
    assert P.cost_usd_per_mtok(16.0, 14_800.0) == pytest.approx(16 / 14_800 / 3600 * 1e6)
