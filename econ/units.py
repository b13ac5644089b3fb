"""Definitions at the bottom of the layers: precisions, their bytes, the peak columns, time units.

No numbers with a source live here, only definitions (STYLE.md rule 6).
"""
from __future__ import annotations

__all__ = ["BYTES_PER_PARAM", "PEAK_FLOP_COLUMN", "PRECISIONS"]

#: Bytes per stored parameter (or cached element) at each precision. [bytes]
BYTES_PER_PARAM = {"bf16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5}
#: The ``hardware`` column holding the dense peak for matrix multiplies at each precision.
PEAK_FLOP_COLUMN = {
    "bf16": "peak_bf16_flop_per_s",
    "fp8": "peak_fp8_flop_per_s",
    "int8": "peak_int8_flop_per_s",
    "fp4": "peak_fp4_flop_per_s",
}
#: Precision names, cheapest last.
PRECISIONS = tuple(BYTES_PER_PARAM)
