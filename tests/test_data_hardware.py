"""The hardware and assumptions tables load and agree with published vendor figures.

Figures checked here are the dense (no 2:4 sparsity) values printed in the vendors' own
documents, so a row that slips in a sparse or a GiB/GB-confused number fails.
"""
import math

import numpy as np
import pytest

from econ import data as D

KEYS = {"h100-sxm", "h800-sxm", "h200-sxm", "b200", "a100-sxm-80gb", "mi300x", "tpu-v5e",
        "tpu-v5p", "tpu-v6e", "groq-lpu", "cerebras-cs3", "rtx-4090"}

COLUMNS = ["vendor", "device_kind", "memory_kind", "peak_bf16_flop_per_s", "peak_fp8_flop_per_s",
           "peak_int8_flop_per_s", "peak_fp4_flop_per_s", "memory_bytes", "memory_bytes_per_s",
           "tdp_w", "interconnect_bytes_per_s", "n_devices_per_node", "purchase_usd",
           "rental_usd_per_hour", "source_url", "source_date", "source_kind", "notes"]

ASSUMPTIONS = {"pue_ratio", "electricity_usd_per_kwh", "server_life_years", "cost_of_capital_frac",
               "hosting_opex_frac", "utilization_frac", "h100_market_rental_usd_per_hour",
               "h800_rental_usd_per_hour"}


@pytest.fixture(scope="module")
def hw():
    return D.load("hardware")


@pytest.fixture(scope="module")
def asm():
    return D.load("assumptions")


def test_hardware_has_exactly_the_listed_keys_and_columns(hw):
    assert set(hw.index) == KEYS
    assert hw.index.name == "name"
    assert list(hw.columns) == COLUMNS
    assert set(D.keys("hardware")) == KEYS


def test_h100_dense_figures(hw):
    h100 = hw.loc["h100-sxm"]
    # H100 whitepaper: BF16 989.4 TFLOPS dense (1978.9 with sparsity); FP8 dense = 2x BF16.
    assert h100.peak_bf16_flop_per_s == pytest.approx(9.894e14)
    assert h100.peak_fp8_flop_per_s == pytest.approx(2 * h100.peak_bf16_flop_per_s, rel=1e-3)
    assert h100.peak_int8_flop_per_s == pytest.approx(h100.peak_fp8_flop_per_s)
    assert h100.memory_bytes == 8.0e10  # 80 GB, SI
    assert h100.memory_bytes_per_s == pytest.approx(3.35e12)
    assert h100.tdp_w == 700
    assert h100.interconnect_bytes_per_s == pytest.approx(9.0e11)  # NVLink 900 GB/s
    assert h100.n_devices_per_node == 8


def test_h800_is_an_h100_with_cut_nvlink(hw):
    h100, h800 = hw.loc["h100-sxm"], hw.loc["h800-sxm"]
    for col in ("peak_bf16_flop_per_s", "peak_fp8_flop_per_s", "peak_int8_flop_per_s",
                "memory_bytes", "memory_bytes_per_s"):
        assert h800[col] == h100[col], col
    assert h800.interconnect_bytes_per_s == pytest.approx(4.0e11)  # 400 GB/s (ISCA'25)
    assert h800.interconnect_bytes_per_s < h100.interconnect_bytes_per_s
    assert h800.rental_usd_per_hour == 2.0  # DeepSeek-V3 report's assumption


def test_h200_same_compute_more_memory(hw):
    h100, h200 = hw.loc["h100-sxm"], hw.loc["h200-sxm"]
    assert h200.peak_bf16_flop_per_s == h100.peak_bf16_flop_per_s
    assert h200.memory_bytes == pytest.approx(1.41e11)
    assert h200.memory_bytes_per_s == pytest.approx(4.8e12)


@pytest.mark.parametrize("key, bf16", [
    ("a100-sxm-80gb", 3.12e14),   # 312 dense, 624 sparse
    ("b200", 2.25e15),            # HGX B200 at 1,000 W, 4.5 PF sparse
    ("mi300x", 1.3074e15),        # 1307.4 dense, 2614.9 sparse
    ("tpu-v5e", 1.97e14),
    ("tpu-v5p", 4.59e14),
    ("tpu-v6e", 9.18e14),
    ("groq-lpu", 1.88e14),        # FP16
    ("rtx-4090", 1.652e14),       # FP32 accumulate; 330.4 is sparse, 82.6 is non-tensor FP32
])
def test_published_dense_bf16(hw, key, bf16):
    assert hw.loc[key, "peak_bf16_flop_per_s"] == pytest.approx(bf16)


def test_low_precision_doubles_where_vendors_say_so(hw):
    for key in ("h100-sxm", "h200-sxm", "b200", "mi300x"):
        r = hw.loc[key]
        assert r.peak_fp8_flop_per_s == pytest.approx(2 * r.peak_bf16_flop_per_s, rel=1e-3), key
    b200 = hw.loc["b200"]
    assert b200.peak_fp4_flop_per_s == pytest.approx(2 * b200.peak_fp8_flop_per_s)
    assert math.isnan(hw.loc["a100-sxm-80gb", "peak_fp8_flop_per_s"])  # no FP8 on Ampere


def test_sram_devices(hw):
    groq, cs3 = hw.loc["groq-lpu"], hw.loc["cerebras-cs3"]
    assert (groq.memory_kind, cs3.memory_kind) == ("sram", "sram")
    assert groq.memory_bytes == pytest.approx(2.3e8)        # 230 MB
    assert groq.memory_bytes_per_s == pytest.approx(8.0e13)  # 80 TB/s
    assert groq.peak_int8_flop_per_s == pytest.approx(7.5e14)
    assert cs3.memory_bytes == pytest.approx(4.4e10)        # 44 GB
    assert cs3.memory_bytes_per_s == pytest.approx(2.1e16)  # 21 PB/s
    assert cs3.n_devices_per_node == 1 and cs3.tdp_w > 10_000  # whole system
    # Cerebras publishes only a sparse 125 PFLOPS headline: no dense figure is stored.
    assert math.isnan(cs3.peak_bf16_flop_per_s)


def test_memory_kinds_and_node_sizes(hw):
    assert hw.loc["rtx-4090", "memory_kind"] == "gddr"
    assert hw.loc["rtx-4090", "memory_bytes"] == pytest.approx(2.4e10)
    assert hw.loc["rtx-4090", "n_devices_per_node"] == 1
    assert (hw.loc[["h100-sxm", "h800-sxm", "h200-sxm", "b200", "a100-sxm-80gb", "mi300x",
                    "groq-lpu"], "n_devices_per_node"] == 8).all()
    assert hw.loc["tpu-v5p", "n_devices_per_node"] == 4


def test_no_sparse_headlines_slipped_in(hw):
    # Largest dense BF16 per device in the table is B200's 2.25 PFLOPS.
    assert np.nanmax(hw["peak_bf16_flop_per_s"]) <= 2.25e15
    # Every non-TPU, non-wafer row has a power figure; TPUs have none published.
    assert hw.loc[hw.device_kind != "tpu", "tdp_w"].notna().all()


def test_every_row_names_its_sources(hw):
    assert hw["notes"].str.len().min() > 100
    assert hw["source_url"].str.startswith("http").all()


def test_assumptions_have_the_required_rows_and_sane_ranges(asm):
    assert ASSUMPTIONS <= set(asm.index)
    for name, r in asm.iterrows():
        assert D.unit_of(name) == r.unit, name
        if not math.isnan(r.low):
            assert r.low <= r.value, name
        if not math.isnan(r.high):
            assert r.value <= r.high, name
    assert asm.loc["pue_ratio", "low"] >= 1.0
    for name in ("cost_of_capital_frac", "hosting_opex_frac", "utilization_frac"):
        assert 0 < asm.loc[name, "low"] <= asm.loc[name, "high"] <= 1, name
    assert asm.loc["h800_rental_usd_per_hour", "value"] == 2.0
