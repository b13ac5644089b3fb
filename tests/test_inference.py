"""The inference roofline: limits, MoE, speculative decoding, SRAM chip counts, input checks."""
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import (
    attention_flop_per_ctx_tok,
    decode_step,
    decode_step_breakdown,
    decode_tok_per_s,
    decode_tok_per_s_per_user,
    devices_to_hold,
    expected_experts_touched,
    expected_tokens_per_step,
    hardware_peak_flop_per_s,
    model_devices_to_hold,
    param_bytes,
    prefill_step,
    prefill_tok_per_s,
    speculative_speedup,
    step_time_s,
)

# Configs from the official config files; hardware from vendor figures (dense FLOP/s).
LLAMA_70B = dict(name="llama-3.1-70b", attention_kind="gqa", n_layers=80, hidden_dim=8192,
                 n_heads=64, n_kv_heads=8, head_dim=128, n_routed_experts=0,
                 n_active_experts=0, n_dense_layers=80, total_params=70.6e9,
                 active_params=70.6e9)
DEEPSEEK_V3 = dict(name="deepseek-v3", attention_kind="mla", n_layers=61, hidden_dim=7168,
                   n_heads=128, kv_lora_rank_dim=512, qk_rope_head_dim=64,
                   qk_nope_head_dim=128, v_head_dim=128, n_routed_experts=256,
                   n_shared_experts=1, n_active_experts=8, moe_ffn_dim=2048,
                   n_dense_layers=3, total_params=671e9, active_params=37e9)
H100 = dict(name="h100-sxm", peak_bf16_flop_per_s=989.4e12, peak_fp8_flop_per_s=1978.9e12,
            peak_int8_flop_per_s=1978.9e12, peak_fp4_flop_per_s=float("nan"),
            memory_bytes=80e9, memory_bytes_per_s=3.35e12)

# The closed-form limits: datasheet rates, no occupancy or per-layer cost, memory not checked.
ROOF = econ.Calibration(gemm_bandwidth_frac=1.0, gemm_flop_frac=1.0,
                        attention_bandwidth_frac=1.0, attention_flop_frac=1.0,
                        attention_half_occupancy_count=0.0, kernel_fixed_s=0.0,
                        grouped_gemm_frac=1.0)
H100_NOMEM = {k: v for k, v in H100.items() if k != "memory_bytes"}

# A small MoE: 4 layers, 8 experts of 3*64*32 params, 2 active, plus 10,000 shared params.
PER_EXPERT = 3 * 64 * 32
TOY_MOE = dict(name="toy-moe", attention_kind="gqa", n_layers=4, hidden_dim=64, n_heads=4,
               n_kv_heads=2, head_dim=16, n_routed_experts=8, n_active_experts=2,
               moe_ffn_dim=32, n_dense_layers=0, total_params=10_000 + 4 * 8 * PER_EXPERT,
               active_params=10_000 + 4 * 2 * PER_EXPERT)


# --- definitions -----------------------------------------------------------------------------



def test_attention_flops_by_hand():
    # MHA/GQA: QK^T and AV, 2 FLOPs per multiply-add, every query head
    assert attention_flop_per_ctx_tok("gqa", 80, 64, head_dim=128) == 80 * 64 * 4 * 128
    # MLA decode, absorbed: scores over 512 + 64, values over 512
    assert attention_flop_per_ctx_tok("mla", 61, 128, kv_lora_rank_dim=512,
                                      qk_rope_head_dim=64) == 61 * 128 * 2 * (1024 + 64)
    # MLA prefill, materialised heads: q.k over 128 + 64, values of 128
    assert attention_flop_per_ctx_tok("mla", 61, 128, qk_rope_head_dim=64, qk_nope_head_dim=128,
                                      v_head_dim=128, phase="prefill") == 61 * 128 * 2 * 320


# --- roofline limits -------------------------------------------------------------------------

def test_step_time_is_the_larger_of_memory_and_compute():
    assert step_time_s(2e9, 1e9, 1e9, 1e12, 1e12) == 3e-3   # memory-bound
    assert step_time_s(1e6, 0, 5e12, 1e12, 1e12) == 5.0     # compute-bound
    assert step_time_s(2e9, 1e9, 1e9, 1e12, 1e12, bandwidth_efficiency_frac=0.5) == 6e-3
    assert step_time_s(1e6, 0, 5e12, 1e12, 1e12, flop_efficiency_frac=0.5) == 10.0
    assert step_time_s(2e9, 1e9, 1e9, 1e12, 1e12, n_devices=3) == pytest.approx(1e-3)


def test_decode_at_batch_1_is_memory_bound_on_the_weights():
    d = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 1, 1, calibration=ROOF)
    weights_s = 70.6e9 * 2 / 3.35e12   # 42 ms
    # additive roofline: the step is the byte time plus the FLOP time (0.3% here)
    assert d["step_s"] == pytest.approx(d["memory_s"] + d["compute_s"], rel=1e-12)
    assert d["step_s"] == pytest.approx(weights_s, rel=5e-3)
    assert d["weight_read_s"] == pytest.approx(weights_s, rel=1e-12)
    assert d["compute_s"] < d["memory_s"] / 100
    assert d["decode_tok_per_s"] == d["decode_tok_per_s_per_user"] == pytest.approx(1 / weights_s,
                                                                                    rel=5e-3)
    # FP8 halves the bytes and doubles the speed
    assert decode_tok_per_s(LLAMA_70B, H100_NOMEM, "fp8", 1, 1, calibration=ROOF) == \
        pytest.approx(2 * d["decode_tok_per_s"], rel=5e-3)


def test_decode_at_huge_batch_is_compute_bound():
    b, ctx = 1e6, 1
    d = decode_step(LLAMA_70B, H100_NOMEM, "bf16", b, ctx, flop_efficiency_frac=0.5,
                    calibration=ROOF)
    assert d["compute_s"] > 100 * d["weight_read_s"]
    flop_per_tok = 2 * 70.6e9 + 80 * 64 * 4 * 128 * ctx
    assert d["decode_tok_per_s"] == pytest.approx(0.5 * 989.4e12 / flop_per_tok, rel=1e-3)


def test_long_context_makes_the_kv_read_dominate():
    d = decode_step(LLAMA_70B, H100_NOMEM, "fp8", 64, 32_768, calibration=ROOF)
    assert d["kv_read_bytes"] == 64 * 32_768 * 327_680
    assert d["kv_read_s"] > d["weight_read_s"]


def test_devices_split_the_work_evenly():
    one = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 16, 2048, calibration=ROOF)
    eight = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 16 * 8, 2048, n_devices=8,
                        calibration=ROOF)
    # per-device throughput with the batch scaled with the devices: weights read once
    # per step for the whole batch, so 8 devices with 8x the batch beat 8x one device
    assert eight["weight_bytes_per_device"] == pytest.approx(one["weight_bytes_per_device"] / 8)
    assert eight["kv_read_s"] == pytest.approx(one["kv_read_s"])
    assert eight["decode_tok_per_s"] > one["decode_tok_per_s"]
    same = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 16, 2048, n_devices=8, calibration=ROOF)
    assert same["step_s"] == pytest.approx(one["step_s"] / 8)


# --- MoE -------------------------------------------------------------------------------------

def test_expected_experts_touched_closed_forms():
    assert expected_experts_touched(256, 8, 1) == pytest.approx(8)
    assert expected_experts_touched(256, 8, 0) == 0
    assert expected_experts_touched(256, 8, 2) == pytest.approx(2 * 8 - 8 ** 2 / 256)
    assert expected_experts_touched(256, 8, 10_000) == pytest.approx(256)
    assert expected_experts_touched(8, 8, 3) == 8


def test_moe_with_all_experts_active_equals_dense():
    all_active = dict(TOY_MOE, n_active_experts=8, active_params=TOY_MOE["total_params"])
    dense = dict(TOY_MOE, n_routed_experts=0, n_active_experts=0, moe_ffn_dim=None,
                 active_params=TOY_MOE["total_params"])
    batch = np.array([1.0, 3.0, 64.0, 1e5])
    # (no per-kernel cost: an MoE layer launches more kernels than a dense one)
    a = decode_step(all_active, H100_NOMEM, "bf16", batch, 100, calibration=ROOF)
    b = decode_step(dense, H100_NOMEM, "bf16", batch, 100, calibration=ROOF)
    for key in ("weight_read_bytes", "flop", "step_s", "decode_tok_per_s"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12)
    np.testing.assert_allclose(prefill_tok_per_s(all_active, H100, "bf16", 512, calibration=ROOF),
                               prefill_tok_per_s(dense, H100, "bf16", 512, calibration=ROOF),
                               rtol=1e-12)


def test_moe_holds_all_experts_and_reads_the_touched_ones():
    d = decode_step(DEEPSEEK_V3, H100_NOMEM, "fp8", np.array([1.0, 1e5]), 1, n_devices=8)
    # one token reads the active parameters, a huge batch about all of them
    attn = 0.0   # weights split evenly at the kernel level: no copies
    assert d["weight_read_bytes"][0] == pytest.approx(37e9 + 7 * attn, rel=1e-3)
    assert d["weight_read_bytes"][1] == pytest.approx(671e9 + 7 * attn, rel=0.01)
    assert d["weight_bytes_per_device"] == pytest.approx((671e9 + 7 * attn) / 8, rel=1e-3)
    # only active parameters are computed
    assert d["flop"][0] == pytest.approx(2 * 37e9 + 61 * 128 * 2 * 1088)
    toy = decode_step(TOY_MOE, H100, "bf16", 2, 1)
    touched = 8 * (1 - (1 - 2 / 8) ** 2)
    assert toy["experts_touched_count"] == pytest.approx(touched)
    assert toy["weight_read_bytes"] == pytest.approx(2 * (10_000 + 4 * touched * PER_EXPERT))


# --- speculative decoding / MTP --------------------------------------------------------------

def test_expected_tokens_at_acceptance_0_and_1():
    for k in (1, 2, 4):
        assert expected_tokens_per_step(0.0, k) == 1.0
        assert expected_tokens_per_step(1.0, k) == k + 1
    assert expected_tokens_per_step(0.5, 1) == 1.5
    assert expected_tokens_per_step(0.9, 0) == 1.0
    np.testing.assert_allclose(expected_tokens_per_step(np.array([0.0, 0.5, 1.0]), 3),
                               [1.0, 1.875, 4.0])


def test_speedup_net_of_draft_cost_and_deepseek_v3_mtp():
    assert speculative_speedup(1.0, 4, 0.25) == pytest.approx(5 / 2)
    assert speculative_speedup(0.0, 3, 0.1) == pytest.approx(1 / 1.3)
    # V3: one MTP token at 80-90% acceptance brackets the published 1.8x TPS
    lo, hi = speculative_speedup(0.8, 1), speculative_speedup(0.9, 1)
    assert lo <= 1.8 <= hi


def test_decode_step_with_drafting():
    kw = dict(calibration=ROOF)
    base = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 1, 1, **kw)
    spec = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 1, 1, acceptance_frac=1.0, draft_depth=3,
                       **kw)
    # memory-bound: verifying 4 tokens costs one weight read (plus their FLOPs, 1%)
    assert spec["tok_per_step"] == 4.0
    assert spec["decode_tok_per_s"] == pytest.approx(4 * base["decode_tok_per_s"], rel=2e-2)
    costed = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 1, 1, acceptance_frac=0.8, draft_depth=1,
                         draft_cost_ratio=0.05, **kw)
    assert costed["draft_s"] == pytest.approx(0.05 * base["step_s"])
    assert costed["decode_tok_per_s"] == pytest.approx(
        speculative_speedup(0.8, 1, 0.05) * base["decode_tok_per_s"], rel=1e-2)
    # compute-bound: verifying k+1 tokens costs k+1 times the FLOPs, no gain at a = 0
    big = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 1e6, 1, draft_depth=1, **kw)
    plain = decode_step(LLAMA_70B, H100_NOMEM, "bf16", 1e6, 1, **kw)
    assert big["decode_tok_per_s"] == pytest.approx(plain["decode_tok_per_s"] / 2, rel=1e-3)


# --- prefill ---------------------------------------------------------------------------------

def test_prefill_long_prompt_is_compute_bound():
    p = prefill_step(LLAMA_70B, H100, "bf16", 8192, flop_efficiency_frac=0.6, calibration=ROOF)
    assert p["compute_s"] > 20 * p["memory_s"]
    attn = 80 * 64 * 4 * 128 * (8192 + 1) / 2   # causal: average context (P+1)/2
    flop_s = 8192 * (2 * 70.6e9 + attn) / (0.6 * 989.4e12)
    assert p["compute_s"] == pytest.approx(flop_s, rel=1e-9)
    assert p["step_s"] == pytest.approx(p["compute_s"] + p["memory_s"], rel=1e-12)
    # a one-token prompt is a decode step: memory-bound on the weights
    short = prefill_step(LLAMA_70B, H100, "bf16", 1, calibration=ROOF)
    assert short["memory_s"] > short["compute_s"]


def test_prefill_mla_uses_materialised_heads():
    p = prefill_step(DEEPSEEK_V3, H100, "fp8", 1000, 4, n_devices=8)
    attn = 61 * 128 * 2 * 320
    assert p["flop"] == pytest.approx(4000 * 2 * 37e9 + 4 * attn * 1000 * 1001 / 2)
    # the MLA latent is shared by all heads: every tensor-parallel rank writes all of it
    assert p["kv_write_bytes"] == 8 * 4000 * 70_272


# --- SRAM systems ----------------------------------------------------------------------------

def test_groq_chips_to_hold_llama_70b_in_int8():
    assert devices_to_hold(70.6e9, 230e6) == 307.0
    n = model_devices_to_hold("llama-3.1-70b", "groq-lpu", "int8")
    assert 305 <= n <= 310
    # and its KV cache on top: 8 sequences of 4k tokens in FP8
    more = model_devices_to_hold("llama-3.1-70b", "groq-lpu", "int8", 4096, 8,
                                 kv_bytes_per_elem="fp8")
    assert more == np.ceil((70e9 + 8 * 4096 * 163_840) / 230e6 * (1 - 1e-12))


def test_cerebras_wafers_and_exact_fit():
    assert model_devices_to_hold(LLAMA_70B, "cerebras-cs3", "bf16") == 4.0  # 141 GB / 44 GB
    assert devices_to_hold(88e9, 44e9) == 2.0
    assert devices_to_hold(88e9 + 1, 44e9) == 3.0
    assert devices_to_hold(88e9, 44e9, usable_frac=0.5) == 4.0


# --- as many sequences as fit ----------------------------------------------------------------

def test_batch_none_fills_the_memory():
    d = decode_step(LLAMA_70B, H100, "fp8", None, 8192)
    assert d["n_sequences"] == d["max_concurrent_sequences"] == 3.0
    # weights that leave no room for one sequence: a clear error, not a zero throughput
    with pytest.raises(ValueError, match=r"n_sequences=None .*not one sequence .*n_devices"):
        decode_step(LLAMA_70B, H100, "bf16", None, 8192)
    assert decode_step(LLAMA_70B, H100, "bf16", None, 8192, n_devices=2)["n_sequences"] >= 1
    with pytest.raises(ValueError, match="needs the hardware's memory_bytes"):
        decode_step(LLAMA_70B, {k: v for k, v in H100.items() if k != "memory_bytes"},
                    "bf16", None, 100)


# --- data rows, whole tables and tidy output -------------------------------------------------

def test_names_rows_and_the_whole_hardware_table():
    # 671 GB of FP8 weights do not fit on 8 H800s (80 GB each): 16 do
    by_name = decode_tok_per_s("deepseek-v3", "h800-sxm", "fp8", 64, 4989, n_devices=16)
    by_row = decode_tok_per_s(econ.data.row("models", "deepseek-v3"),
                              econ.data.row("hardware", "h800-sxm"), "fp8", 64, 4989,
                              n_devices=16)
    assert by_name == by_row and np.isfinite(by_name)
    hw = econ.data.load("hardware")
    hw = hw[hw["peak_bf16_flop_per_s"].notna() & (hw["memory_bytes"] >= 24e9)]
    out = decode_tok_per_s("llama-3.1-8b", hw, "bf16", 8, 1024)
    assert isinstance(out, pd.Series) and list(out.index) == list(hw.index)
    assert out["h200-sxm"] > out["h100-sxm"]   # same FLOPs, more bandwidth


def test_breakdown_is_tidy():
    df = decode_step_breakdown(DEEPSEEK_V3, H100_NOMEM, "fp8", np.array([1, 8, 1024]), 4989,
                               n_devices=8)
    assert len(df) == 3 and df["precision"].eq("fp8").all()
    for col in ("weight_read_s", "kv_read_s", "compute_s", "step_s", "decode_tok_per_s",
                "compute_bound", "dense_s", "attention_s", "fixed_s"):
        assert col in df.columns
    np.testing.assert_allclose(df["step_s"], df["memory_s"] + df["compute_s"] + df["fixed_s"]
                               + df["act_quant_s"], rtol=1e-12)
    np.testing.assert_allclose(df["step_s"], df["dense_s"] + df["experts_s"]
                               + df["attention_s"] + df["fixed_s"] + df["act_quant_s"],
                               rtol=1e-12)
    assert (df["act_quant_s"] > 0).all()          # FP8 matmuls quantize their inputs
    s = decode_step_breakdown(LLAMA_70B, H100_NOMEM, "bf16",
                              pd.Series([1.0, 2.0], index=["a", "b"]), 100)
    assert list(s.index) == ["a", "b"]
    one = decode_step_breakdown(LLAMA_70B, H100_NOMEM, "bf16", 1, 100)
    assert len(one) == 1 and not one["compute_bound"].iloc[0]


# --- every public function takes float, ndarray and Series -----------------------------------

KINDS = [
    (lambda x: param_bytes(x, "fp8"), 7e10),
    (lambda x: expected_experts_touched(256, 8, x), 4.0),
    (lambda x: attention_flop_per_ctx_tok("gqa", 80, x, head_dim=128), 64.0),
    (lambda x: step_time_s(x, 0, 1e9, 1e12, 1e12), 1e9),
    (lambda x: expected_tokens_per_step(x, 2), 0.7),
    (lambda x: speculative_speedup(x, 2, 0.1), 0.7),
    (lambda x: hardware_peak_flop_per_s(dict(H100, peak_bf16_flop_per_s=x)), 1e15),
    (lambda x: decode_tok_per_s(DEEPSEEK_V3, H100, "fp8", x, 4989, n_devices=16), 32.0),
    (lambda x: decode_tok_per_s(LLAMA_70B, dict(H100, memory_bytes_per_s=x), "bf16", 8, 512,
                                n_devices=2), 3.35e12),
    (lambda x: decode_tok_per_s_per_user(LLAMA_70B, H100, "bf16", 8, x, n_devices=2), 512.0),
    (lambda x: decode_step(LLAMA_70B, H100, "bf16", 8, 512, n_devices=2, acceptance_frac=x,
                           draft_depth=1)["decode_tok_per_s"], 0.8),
    (lambda x: prefill_tok_per_s(LLAMA_70B, H100, "bf16", x), 2048.0),
    (lambda x: prefill_step(DEEPSEEK_V3, H100, "fp8", 2048, x, n_devices=8)["step_s"], 2.0),
    (lambda x: devices_to_hold(x, 230e6), 70e9),
    (lambda x: model_devices_to_hold(LLAMA_70B, H100, "bf16", x, 1), 1e5),
]


@pytest.mark.parametrize("f, x", KINDS)
def test_float_array_series(f, x, float_array_series):
    float_array_series(f, x)


def test_monte_carlo_over_hardware_is_vectorized_and_fast():
    rng = np.random.default_rng(0)
    n = 200_000
    hw = dict(H100_NOMEM, memory_bytes_per_s=rng.uniform(2e12, 5e12, n),
              peak_fp8_flop_per_s=rng.uniform(1e15, 2e15, n))
    t0 = time.perf_counter()
    out = decode_tok_per_s(DEEPSEEK_V3, hw, "fp8", rng.uniform(1, 512, n), rng.uniform(100, 8e3, n),
                           n_devices=8, bandwidth_efficiency_frac=rng.uniform(0.5, 0.9, n),
                           acceptance_frac=rng.uniform(0.8, 0.9, n), draft_depth=1,
                           draft_cost_ratio=0.05)
    elapsed = time.perf_counter() - t0
    assert out.shape == (n,) and np.isfinite(out).all() and (out > 0).all()
    assert elapsed < 1.0, f"{n} samples took {elapsed:.2f} s"


# --- invalid input: a ValueError naming the parameter ----------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: param_bytes(1e9, "fp7"), r"precision must be one of \['bf16', 'fp8'"),
    (lambda: param_bytes(float("nan"), "bf16"), "n_params must be finite"),
    (lambda: decode_step(LLAMA_70B, H100, "fp16", 1, 1), "precision must be one of"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, compute_precision="tf32"),
     "compute_precision must be one of"),
    (lambda: decode_step(LLAMA_70B, H100, "fp4", 1, 1),
     "hardware 'h100-sxm' has no peak_fp4_flop_per_s"),
    (lambda: decode_step(LLAMA_70B, "cerebras-cs3", "bf16", 1, 1),
     "hardware 'cerebras-cs3' has no peak_bf16_flop_per_s"),
    (lambda: decode_step(LLAMA_70B, econ.data.load("hardware"), "fp8", 1, 1),
     "hardware 'a100-sxm-80gb' has no peak_fp8_flop_per_s"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", float("nan"), 1), "n_sequences must be finite"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", -1, 1), "n_sequences must be > 0"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 0, 1), "n_sequences must be > 0"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 0), "context_tok must be > 0"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, float("inf")), "context_tok must be finite"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, acceptance_frac=1.5),
     r"acceptance_frac must be in \[0, 1\], got 1.5"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, draft_depth=1.5),
     "draft_depth must be a whole number"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, flop_efficiency_frac=0),
     r"flop_efficiency_frac must be in \(0, 1\]"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, bandwidth_efficiency_frac=1.2),
     r"bandwidth_efficiency_frac must be in \(0, 1\]"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, n_devices=0), "n_devices must be > 0"),
    (lambda: decode_step(LLAMA_70B, H100, "bf16", 1, 1, kv_bytes_per_elem="fp6"),
     "kv_bytes_per_elem must be one of"),
    (lambda: decode_step(LLAMA_70B, dict(H100, memory_bytes_per_s=-1.0), "bf16", 1, 1),
     "hardware memory_bytes_per_s must be > 0"),
    (lambda: decode_step(LLAMA_70B, "no-such-gpu", "bf16", 1, 1), None),
    (lambda: decode_step(dict(LLAMA_70B, attention_kind="sliding"), H100, "bf16", 1, 1),
     "model 'llama-3.1-70b': attention_kind must be one of"),
    (lambda: decode_step(dict(LLAMA_70B, active_params=None), H100, "bf16", 1, 1),
     "model 'llama-3.1-70b': column 'active_params' must be a number >= 0, got None"),
    (lambda: decode_step(dict(DEEPSEEK_V3, moe_ffn_dim=None), H100, "bf16", 1, 1),
     "column 'moe_ffn_dim' must be a number >= 0, got None \\(needed for an MoE model\\)"),
    (lambda: decode_step(dict(DEEPSEEK_V3, n_active_experts=300), H100, "bf16", 1, 1),
     "n_active_experts \\(300\\) must be <= n_routed_experts"),
    (lambda: decode_step(dict(DEEPSEEK_V3, active_params=1e9), H100, "bf16", 1, 1),
     "active_params .* is smaller than its active routed experts"),
    (lambda: decode_step(econ.data.load("models"), H100, "bf16", 1, 1), "must be one model"),
    (lambda: decode_step(LLAMA_70B, 3.35e12, "bf16", 1, 1), "hardware must be a hardware name"),
    (lambda: expected_experts_touched(8, 9, 1), r"n_active_experts must be <= n_routed_experts"),
    (lambda: expected_tokens_per_step(-0.1, 1), r"acceptance_frac must be in \[0, 1\]"),
    (lambda: speculative_speedup(0.5, 1, -1), "draft_cost_ratio must be >= 0"),
    (lambda: attention_flop_per_ctx_tok("mla", 61, 128, kv_lora_rank_dim=512),
     "qk_rope_head_dim is required"),
    (lambda: attention_flop_per_ctx_tok("gqa", 61, 128, head_dim=128, phase="train"),
     "phase must be one of"),
    (lambda: step_time_s(1, 1, 1, 0, 1), "peak_flop_per_s must be > 0"),
    (lambda: prefill_step(LLAMA_70B, H100, "bf16", 0), "prompt_tok must be > 0"),
    (lambda: devices_to_hold(1e9, 230e6, usable_frac=0), r"usable_frac must be in \(0, 1\]"),
    (lambda: devices_to_hold(-1, 230e6), "n_bytes must be >= 0"),
])
def test_invalid_input_names_the_parameter(call, match):
    if match is None:   # unknown names are KeyErrors listing the valid ones
        with pytest.raises(KeyError, match="valid"):
            call()
        return
    with pytest.raises(ValueError, match=match):
        call()


# --- properties ------------------------------------------------------------------------------

batch_st = st.floats(1, 4096)
ctx_st = st.floats(1, 131_072)
bw_st = st.floats(1e11, 1e14)
model_st = st.sampled_from([LLAMA_70B, DEEPSEEK_V3, TOY_MOE])


@given(model=model_st, batch=batch_st, ctx=ctx_st, more=st.floats(1.0, 100.0),
       precision=st.sampled_from(["bf16", "fp8"]))
def test_throughput_falls_with_context(model, batch, ctx, more, precision):
    a = decode_tok_per_s(model, H100_NOMEM, precision, batch, ctx)
    b = decode_tok_per_s(model, H100_NOMEM, precision, batch, ctx * more)
    assert np.isfinite(a) and a > 0
    assert b <= a * (1 + 1e-12)


@given(model=model_st, batch=batch_st, ctx=ctx_st, bw=bw_st, more=st.floats(1.0, 100.0))
def test_throughput_rises_with_bandwidth(model, batch, ctx, bw, more):
    a = decode_tok_per_s(model, dict(H100_NOMEM, memory_bytes_per_s=bw), "bf16", batch, ctx)
    b = decode_tok_per_s(model, dict(H100_NOMEM, memory_bytes_per_s=bw * more), "bf16", batch, ctx)
    assert b >= a * (1 - 1e-12)


@given(model=model_st, batch=batch_st, ctx=ctx_st, more=st.floats(1.0, 100.0))
def test_batching_raises_device_throughput_and_lowers_user_speed(model, batch, ctx, more):
    small = decode_step(model, H100_NOMEM, "bf16", batch, ctx)
    big = decode_step(model, H100_NOMEM, "bf16", batch * more, ctx)
    assert big["decode_tok_per_s"] >= small["decode_tok_per_s"] * (1 - 1e-12)
    assert big["decode_tok_per_s_per_user"] <= small["decode_tok_per_s_per_user"] * (1 + 1e-12)


@given(a=st.floats(0, 1), k=st.integers(0, 16), c=st.floats(0, 1))
def test_speculative_expectation_is_bounded_and_monotone(a, k, c):
    e = expected_tokens_per_step(a, k)
    assert 1.0 - 1e-12 <= e <= k + 1 + 1e-12
    assert expected_tokens_per_step(min(1.0, a + 0.05), k) >= e - 1e-12
    s = speculative_speedup(a, k, c)
    assert np.isfinite(s) and s <= e + 1e-12


@given(e=st.integers(1, 512), frac=st.floats(0, 1), n=st.floats(0, 1e6))
def test_experts_touched_between_k_and_e(e, frac, n):
    k = round(frac * e)
    t = expected_experts_touched(e, k, n)
    assert -1e-9 <= t <= e + 1e-9
    if n >= 1:
        assert t >= k * (1 - 1e-9)


@given(x=st.one_of(st.just(float("nan")), st.just(float("inf")), st.just(-float("inf")),
                   st.floats(max_value=-1e-9)))
def test_invalid_numbers_raise_value_error_never_nan(x):
    with pytest.raises(ValueError, match="context_tok"):
        decode_tok_per_s(LLAMA_70B, H100, "bf16", 1, x)
    with pytest.raises(ValueError, match="memory_bytes_per_s"):
        decode_tok_per_s(LLAMA_70B, dict(H100, memory_bytes_per_s=x), "bf16", 1, 1)


# --- every model in the table runs -----------------------------------------------------------

def test_every_model_in_the_table_decodes_and_prefills():
    models = econ.data.load("models")
    for name in models.index:
        d = decode_step(name, "h200-sxm", "fp8", 32, 4096, n_devices=8)
        p = prefill_tok_per_s(name, "h200-sxm", "fp8", 4096, n_devices=8)
        assert np.isfinite(d["decode_tok_per_s"]) and d["decode_tok_per_s"] > 0, name
        assert np.isfinite(p) and p > 0, name


def test_the_kernel_level_step_uses_the_devices_measured_share_scales():
    """decode_step reads the weights at the fitted share scaled to the device
    (econ.device_share_scales); a row without a name keeps the reference shares."""
    bw_scale, _ = econ.device_share_scales("mi300x")
    assert 0.5 < bw_scale < 1.0
    named = econ.decode_step("llama-3.1-70b", "mi300x", "fp8", n_sequences=1, context_tok=1000,
                             n_devices=1)
    unnamed = econ.decode_step("llama-3.1-70b", econ.data.load("hardware").loc["mi300x"]
                               .to_dict(), "fp8", n_sequences=1, context_tok=1000, n_devices=1)
    assert named["weight_read_s"] == pytest.approx(unnamed["weight_read_s"] / bw_scale,
                                                   rel=1e-9)
