"""Definitions at the bottom of the layers: precisions, their bytes, the peak columns, time units.

No numbers with a source live here, only definitions (STYLE.md rule 6), and the unit conversions
every model module may use: :func:`cost_usd_per_mtok` ($/hour at tokens/s to $/Mtok) and
:func:`precision_bytes` (a precision name or a number to bytes per element).
"""
from __future__ import annotations

import numpy as np

from ._checks import choice, finite_result, like, nonnegative, positive

__all__ = ["BYTES_PER_PARAM", "PEAK_FLOP_COLUMN", "PRECISIONS", "SECONDS_PER_HOUR",
           "TOK_PER_MTOK", "cost_usd_per_mtok"]

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
#: Seconds in an hour. [s/h]
SECONDS_PER_HOUR = 3600.0
#: Tokens in a million tokens (the unit API prices are quoted in).
TOK_PER_MTOK = 1e6


@finite_result
def cost_usd_per_mtok(price_usd_per_hour, throughput_tok_per_s):
    """Cost of a million tokens produced at a throughput, paying by the hour.

    ``price_usd_per_hour / (throughput_tok_per_s * 3600) * 1e6``. Price and throughput must
    describe the same unit (one GPU, one node, one system). To charge idle time, pass a cost
    per useful hour (:func:`econ.amortization.useful_usd_per_hour`). Defined here, below the
    model modules, so that :mod:`econ.amortization`, :mod:`econ.pricing` and
    :mod:`econ.serving` share one conversion without importing each other.

    Parameters
    ----------
    price_usd_per_hour : numeric
        Price or owned cost of the unit per hour. [USD/h]
    throughput_tok_per_s : numeric
        Tokens the unit produces per second, > 0. [tokens/s]

    Returns
    -------
    numeric
        Cost per million tokens. [USD/Mtok]
    """
    p = nonnegative("price_usd_per_hour", price_usd_per_hour)
    t = positive("throughput_tok_per_s", throughput_tok_per_s)
    return like(p / (t * SECONDS_PER_HOUR) * TOK_PER_MTOK, price_usd_per_hour,
                throughput_tok_per_s)


def precision_bytes(name, value):
    """Bytes per element from a precision name (``"bf16"``, ``"fp8"``, ...) or a number.

    Parameters
    ----------
    name : str
        The caller's parameter name, used in the error message.
    value : str or numeric
        A key of :data:`BYTES_PER_PARAM`, or bytes per element, > 0. [bytes]

    Returns
    -------
    numpy.ndarray
        Bytes per element. [bytes]
    """
    if isinstance(value, str):
        choice(name, value, BYTES_PER_PARAM)
        return np.asarray(float(BYTES_PER_PARAM[value]))
    return positive(name, value)
