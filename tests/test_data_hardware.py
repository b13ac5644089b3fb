"""The hardware and assumptions tables load and agree with published vendor figures.

Figures checked here are the dense (no 2:4 sparsity) values printed in the vendors' own
documents, so a row that slips in a sparse or a GiB/GB-confused number fails.
"""
import math

import numpy as np
import pytest

from econ import data as D

#: Today's parts (issue 16): Blackwell Ultra, the NVL72 racks (one row per GPU), AMD CDNA 3/4,
#: Google Ironwood and AWS Trainium2.
NEW_KEYS = {"b300", "gb200-nvl72", "gb300-nvl72", "mi325x", "mi355x", "tpu-v7", "trainium2"}
KEYS = {"h100-sxm", "h800-sxm", "h200-sxm", "b200", "a100-sxm-80gb", "mi300x", "tpu-v5e",
        "tpu-v5p", "tpu-v6e", "groq-lpu", "cerebras-cs3", "rtx-4090"} | NEW_KEYS

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
    ("b300", 2.25e15),            # HGX B300 at 1,100 W, 4.5 PF sparse
    ("gb200-nvl72", 2.5e15),      # 360 PF sparse per 72-GPU rack = 5 PF sparse per GPU
    ("gb300-nvl72", 2.5e15),      # rack 180 PF dense / 72
    ("mi325x", 1.3074e15),        # same CDNA 3 compute as MI300X
    ("mi355x", 2.5166e15),        # AMD rounds to 2.5 PF; 2400 MHz x 1024 cores x 512 FMA x 2
    ("tpu-v7", 2.307e15),         # Google Cloud TPU7x docs
    ("trainium2", 6.67e14),       # AWS Neuron docs, 667 BF16 TFLOPS
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
    # Largest dense BF16 per device in the table is MI355X's 2,516.6 TFLOPS (GB200/GB300 at
    # 1.2/1.4 kW: 2.5 PF); every sparse BF16 headline of those parts is >= 4.5 PF.
    assert np.nanmax(hw["peak_bf16_flop_per_s"]) <= 2.52e15
    # Every row but the TPUs and Trainium2 has a power figure; Google and AWS publish none.
    assert hw.loc[~hw.device_kind.isin(["tpu", "trainium"]), "tdp_w"].notna().all()
    assert hw.loc[hw.device_kind.isin(["tpu", "trainium"]), "tdp_w"].isna().all()


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


#: Sparse (structured-sparsity) peaks as the vendors publish them, per device [FLOP/s]: the
#: NVL72 rack figures divided by 72, DGX B300 by 8. A stored dense value must be at most half
#: of these; the 1.5% allows for vendors rounding the two figures separately (AWS: FP8 1,299
#: dense vs 2,563 sparse; AMD: BF16 2,516.6 dense vs "5 PFLOPS" sparse).
PUBLISHED_SPARSE = {
    ("b200", "peak_bf16_flop_per_s"): 4.5e15, ("b200", "peak_fp4_flop_per_s"): 1.8e16,
    ("b300", "peak_bf16_flop_per_s"): 4.5e15, ("b300", "peak_fp8_flop_per_s"): 72e15 / 8,
    ("gb200-nvl72", "peak_bf16_flop_per_s"): 360e15 / 72,
    ("gb200-nvl72", "peak_fp8_flop_per_s"): 720e15 / 72,
    ("gb200-nvl72", "peak_int8_flop_per_s"): 720e15 / 72,
    ("gb200-nvl72", "peak_fp4_flop_per_s"): 1440e15 / 72,
    ("gb300-nvl72", "peak_bf16_flop_per_s"): 360e15 / 72,
    ("gb300-nvl72", "peak_fp8_flop_per_s"): 720e15 / 72,
    ("mi325x", "peak_bf16_flop_per_s"): 2.6149e15, ("mi325x", "peak_fp8_flop_per_s"): 5.2298e15,
    ("mi355x", "peak_bf16_flop_per_s"): 5.0e15, ("mi355x", "peak_fp8_flop_per_s"): 10.1e15,
    ("trainium2", "peak_bf16_flop_per_s"): 2.563e15, ("trainium2", "peak_fp8_flop_per_s"): 2.563e15,
}


@pytest.mark.parametrize("key, col", sorted(PUBLISHED_SPARSE))
def test_dense_is_at_most_half_the_published_sparse_peak(hw, key, col):
    dense = hw.loc[key, col]
    assert not math.isnan(dense), (key, col)
    assert dense <= PUBLISHED_SPARSE[key, col] / 2 * 1.015, (key, col, dense)


@pytest.mark.parametrize("key, dense, sparse", [
    ("gb300-nvl72", 1080e15 / 72, 1440e15 / 72),   # NVIDIA: "1,440 PFLOPS | 1,080 PFLOPS"
    # glennklockwood's HGX table; DGX B300 144 PF sparse
    ("b300", 13.125e15, 144e15 / 8),
])
def test_blackwell_ultra_fp4_dense_is_published_not_halved(hw, key, dense, sparse):
    # Blackwell Ultra's FP4 gains less than 2x from sparsity, so NVIDIA states the dense FP4
    # figure itself: the stored value is that figure, above half the sparse one, below the sparse.
    fp4 = hw.loc[key, "peak_fp4_flop_per_s"]
    assert fp4 == pytest.approx(dense)
    assert sparse / 2 < fp4 < sparse


def test_new_parts_published_dense_figures(hw):
    # FP8 doubles BF16 on every new part; FP4 doubles FP8 on GB200 and MI355X (MXFP4), triples
    # it on Blackwell Ultra (GB300: 15 PF vs 5 PF).
    for key in NEW_KEYS:
        r = hw.loc[key]
        assert r.peak_fp8_flop_per_s == pytest.approx(2 * r.peak_bf16_flop_per_s, rel=0.03), key
    assert hw.loc["gb200-nvl72", "peak_fp4_flop_per_s"] == pytest.approx(1.0e16)
    assert hw.loc["gb300-nvl72", "peak_fp4_flop_per_s"] == pytest.approx(1.5e16)
    assert hw.loc["mi355x", "peak_fp4_flop_per_s"] == pytest.approx(1.00664e16)
    assert hw.loc["tpu-v7", "peak_fp8_flop_per_s"] == pytest.approx(4.614e15)
    assert hw.loc["trainium2", "peak_fp8_flop_per_s"] == pytest.approx(1.299e15)
    # no FP4 on CDNA 3, TPU7x or Trainium2; Blackwell Ultra's cut INT8 is left empty
    for key, col in [("mi325x", "peak_fp4_flop_per_s"), ("tpu-v7", "peak_fp4_flop_per_s"),
                     ("trainium2", "peak_fp4_flop_per_s"), ("b300", "peak_int8_flop_per_s"),
                     ("gb300-nvl72", "peak_int8_flop_per_s")]:
        assert math.isnan(hw.loc[key, col]), (key, col)


def test_new_parts_memory_units_and_power(hw):
    # vendor GB = 1e9 bytes (MLPerf filings: 270, 186, 288, 256, 288 GB); GiB where the vendor
    # writes GiB (Google TPU7x 192 GiB, AWS Trainium2 96 GiB)
    assert hw.loc["b300", "memory_bytes"] == 2.70e11
    assert hw.loc["gb200-nvl72", "memory_bytes"] == 1.86e11
    assert hw.loc["gb300-nvl72", "memory_bytes"] == 2.88e11
    assert hw.loc["mi325x", "memory_bytes"] == 2.56e11
    assert hw.loc["mi355x", "memory_bytes"] == 2.88e11
    assert hw.loc["tpu-v7", "memory_bytes"] == 192 * 2**30
    assert hw.loc["trainium2", "memory_bytes"] == 96 * 2**30
    assert hw.loc["trainium2", "memory_bytes_per_s"] == pytest.approx(2.9e12)
    assert hw.loc["tpu-v7", "memory_bytes_per_s"] == pytest.approx(7.37e12)
    tdp = hw["tdp_w"]
    assert (tdp["b300"], tdp["gb200-nvl72"], tdp["gb300-nvl72"]) == (1100, 1200, 1400)
    assert (tdp["mi325x"], tdp["mi355x"]) == (1000, 1400)
    assert hw.loc["trainium2", "vendor"] == "aws"
    assert hw.loc["trainium2", "device_kind"] == "trainium"
    assert hw.loc["trainium2", "n_devices_per_node"] == 16    # trn2.48xlarge
    assert hw.loc["tpu-v7", "n_devices_per_node"] == 4        # 4 chips per TPU7x VM


@pytest.mark.parametrize("key, rack_hbm_bytes",
                         [("gb200-nvl72", 13.4e12), ("gb300-nvl72", 20.7e12)])
def test_nvl72_rack_is_72_gpus_in_one_nvlink_domain(hw, key, rack_hbm_bytes):
    r = hw.loc[key]
    assert r.n_devices_per_node == 72
    # per-GPU rows times 72 give NVIDIA's rack figures: HBM, 576 TB/s, 130 TB/s NVLink
    assert 72 * r.memory_bytes == pytest.approx(rack_hbm_bytes, rel=0.01)
    assert 72 * r.memory_bytes_per_s == pytest.approx(576e12)
    assert 72 * r.interconnect_bytes_per_s == pytest.approx(130e12, rel=0.01)
    # per GPU, the same NVLink 5 as an 8-GPU HGX B200 board: only the domain grew
    assert r.interconnect_bytes_per_s == hw.loc["b200", "interconnect_bytes_per_s"]
    assert r.n_devices_per_node == hw["n_devices_per_node"].max()


def test_rack_amortizes_as_one_system_of_72_gpus(hw):
    from econ import amortization as A
    row = hw.loc["gb300-nvl72"].copy()
    row["purchase_usd"] = 50_000.0   # a test price; the table leaves the rack price empty
    kw = dict(life_years=5.0, cost_of_capital_frac=0.1, pue_ratio=1.2,
              electricity_usd_per_kwh=0.1)
    one = row.copy()
    one["n_devices_per_node"] = 1
    rack = A.owned_usd_per_hour(row, **kw)
    single = A.owned_usd_per_hour(one, **kw)
    assert float(rack.system_usd_per_hour) == pytest.approx(72 * float(single.system_usd_per_hour))
    assert float(rack.device_usd_per_hour) == pytest.approx(float(single.device_usd_per_hour))


@pytest.mark.parametrize("key", sorted(NEW_KEYS))
def test_new_rows_run_through_the_engine(hw, key):
    import econ
    r = econ.predict_serving("llama-3.1-70b", key, "fp8", n_devices=8, tp=8, isl_tok=1000,
                             osl_tok=1000, concurrency=16)
    assert 0 < float(r["tpot_s"]) < 1.0 and 0 < float(r["ttft_s"]) < 10.0
    step = econ.decode_step("llama-3.1-70b", key, "fp8", 8, 4096, n_devices=2)
    assert 0 < float(step["step_s"]) < 1.0


def test_cloud_list_rentals_are_per_gpu(hw):
    # Spheron, 17 Mar 2026: '$9.08/hr per Superchip', a Superchip being 1 Grace CPU + 2 B200s
    assert hw.loc["gb200-nvl72", "rental_usd_per_hour"] == pytest.approx(9.08 / 2)
    assert hw.loc["b200", "rental_usd_per_hour"] == pytest.approx(6.03)
    for key in ("b300", "gb300-nvl72", "mi355x", "tpu-v7", "trainium2"):
        assert np.isnan(hw.loc[key, "rental_usd_per_hour"]), f"{key}: no source was found"
