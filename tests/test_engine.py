"""The one engine (econ.engine): a tensor-parallel step is a single-device step of its shard."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

import econ
from econ import engine as E
from econ.engine import calibration, forward_step, model_spec

H200 = econ.data.row("hardware", "h200-sxm")


def _shard(spec, k):
    """The model one of ``k`` tensor-parallel devices holds, written as a model of its own:
    every head group, dense matrix, expert slice and the head split ``k`` ways."""
    half = {f: getattr(spec, f) / k for f in (
        "n_heads", "n_kv_heads", "total_params", "active_params", "embedding_params",
        "lm_head_params", "attn_params_per_layer", "params_per_expert", "kv_elems_per_layer",
        "attn_flop_decode", "attn_flop_prefill")}
    return dataclasses.replace(spec, **half)


def _step(spec, tp, phase):
    return forward_step(
        spec, bw=H200["memory_bytes_per_s"], peak_mm=H200["peak_bf16_flop_per_s"],
        peak_attn=H200["peak_bf16_flop_per_s"], weight_bytes_per_param=2.0,
        kv_bytes_per_elem=2.0, n_sequences=np.array([1.0, 16.0, 128.0]),
        context_tok=np.array([4096.0, 2048.0, 1024.0]) if phase == "decode" else 512.5,
        tok_per_seq=1.0 if phase == "decode" else 1024.0, phase=phase, tp=tp,
        load_imbalance=False, cal=calibration())


@pytest.mark.parametrize("model,tp", [("llama-3.1-70b", 2), ("llama-3.1-70b", 8),
                                      ("llama-3.1-8b", 4), ("mixtral-8x7b", 2)])
@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_tensor_parallel_step_is_the_single_device_step_of_its_shard(model, tp, phase):
    """Where they must agree they do: ``tp`` devices running a model take, part for part,
    the time one device takes to run the shard each of them holds (dense, attention over
    the split KV heads, an expert slice per device; communication is the serving level's)."""
    spec = model_spec(model)
    assert spec.n_kv_heads % tp == 0  # KV heads split, none copied
    parallel, single = _step(spec, tp, phase), _step(_shard(spec, tp), 1, phase)
    for part in ("dense_s", "experts_s", "attention_s", "fixed_s", "step_s", "flop",
                 "weight_read_bytes", "kv_bytes"):
        np.testing.assert_allclose(parallel[part], single[part], rtol=1e-12, err_msg=part)


def test_a_shard_is_not_the_whole_model():
    """The check above can fail: the whole model on one device is slower than its shard."""
    spec = model_spec("llama-3.1-70b")
    whole, shard = _step(spec, 1, "decode"), _step(_shard(spec, 8), 1, "decode")
    assert (whole["step_s"] > 2 * shard["step_s"]).all()


def test_kv_heads_are_copied_beyond_their_count():
    """Beyond its KV heads tensor parallelism copies them: at tp=16 the 70B's 8 KV heads
    give each device a whole head, so the cache read per device stops halving."""
    spec = model_spec("llama-3.1-70b")
    kv8, kv16 = _step(spec, 8, "decode")["kv_bytes"], _step(spec, 16, "decode")["kv_bytes"]
    np.testing.assert_allclose(kv16, kv8, rtol=1e-12)


def test_a_name_a_row_a_mapping_and_a_spec_resolve_to_one_spec():
    by_name = E.model_spec("deepseek-v3")
    row = econ.data.load("models").loc["deepseek-v3"]
    assert E.model_spec(row) == by_name
    assert E.model_spec(by_name) is by_name
    with pytest.raises(KeyError, match="llama"):
        E.model_spec("no-such-model")


def test_calibration_reads_the_table_and_takes_overrides_by_name():
    cal = E.calibration()
    table = econ.data.load("calibration")
    for name in E.Calibration.fields():
        if name in table.index:
            assert getattr(cal, name) == pytest.approx(float(table.loc[name, "value"]))
    assert E.calibration(kernel_fixed_s=0.0).kernel_fixed_s == 0.0
    with pytest.raises(ValueError, match="unknown calibration constant"):
        E.calibration(no_such_constant=1.0)


def test_forward_step_is_faster_with_more_bandwidth_and_slower_with_more_sequences():
    spec = E.model_spec("llama-3.1-70b")
    kw = dict(peak_mm=1.9789e15, peak_attn=9.894e14, weight_bytes_per_param=1.0,
              kv_bytes_per_elem=2.0, context_tok=2000.0, cal=E.calibration())
    n = np.array([1.0, 8.0, 64.0])
    slow = E.forward_step(spec, bw=3.35e12, n_sequences=n, **kw)["step_s"]
    fast = E.forward_step(spec, bw=2 * 3.35e12, n_sequences=n, **kw)["step_s"]
    assert (fast < slow).all() and (np.diff(slow) > 0).all()


def test_device_share_scales_are_one_on_the_reference_and_on_unmeasured_devices():
    assert E.device_share_scales("h200-sxm") == (1.0, 1.0)
    assert E.device_share_scales("b200") == (1.0, 1.0)        # no row in the harness
    cal = calibration()
    assert E.device_calibration(cal, "h200-sxm") is cal


def test_device_share_scales_are_the_ratio_of_measured_fractions_in_one_harness():
    bench = econ.data.load("device_microbenchmarks").groupby("hardware").max(numeric_only=True)
    hw = econ.data.load("hardware")
    bw, flop = E.device_share_scales("mi300x")
    want_bw = (bench.loc["mi300x", "copy_bytes_per_s"] / hw.loc["mi300x", "memory_bytes_per_s"]) \
        / (bench.loc["h200-sxm", "copy_bytes_per_s"] / hw.loc["h200-sxm", "memory_bytes_per_s"])
    want_flop = (bench.loc["mi300x", "gemm_fp8_flop_per_s"]
                 / hw.loc["mi300x", "peak_fp8_flop_per_s"]) \
        / (bench.loc["h200-sxm", "gemm_fp8_flop_per_s"] / hw.loc["h200-sxm", "peak_fp8_flop_per_s"])
    assert bw == pytest.approx(want_bw, rel=1e-9) and flop == pytest.approx(want_flop, rel=1e-9)
    # MI300X reaches a smaller share of its datasheet than the H200 does (both measured)
    assert bw < 1.0 and flop < 1.0
    cal = E.device_calibration(calibration(), "mi300x")
    assert cal.gemm_bandwidth_frac == pytest.approx(calibration().gemm_bandwidth_frac * bw)
    assert cal.attention_flop_frac == pytest.approx(calibration().attention_flop_frac * flop)
    # a table gives one pair per device, the same as row by row
    bws, flops = E.device_share_scales(hw)
    i = list(hw.index).index("mi300x")
    assert bws[i] == pytest.approx(bw) and flops[i] == pytest.approx(flop)


def test_a_device_without_fp8_units_is_scaled_by_its_fp16_gemm_in_the_same_harness():
    """The A100 has no FP8 figure: its compute scale is its FP16 GEMM over the dense BF16
    peak against the reference's, both in Azure's harness (the reference's FP16 figure run
    here); a device with FP8 figures keeps the FP8 ratio."""
    bench = econ.data.load("device_microbenchmarks")
    hw = econ.data.load("hardware")
    harness = bench[bench["harness"] == "azure-ai-benchmarking-guide"]

    def frac(dev, col, peak):
        return harness.loc[harness["hardware"] == dev, col].max() / hw.loc[dev, peak]

    want = frac("a100-sxm-80gb", "gemm_fp16_flop_per_s", "peak_bf16_flop_per_s") \
        / frac("h200-sxm", "gemm_fp16_flop_per_s", "peak_bf16_flop_per_s")
    _, flop = E.device_share_scales("a100-sxm-80gb")
    assert np.isfinite(want) and flop == pytest.approx(want, rel=1e-9)
    # the A100 reaches a larger share of its datasheet in FP16 than the H200 does (256.5 of
    # 312 TFLOPS against about 650 of 989)
    assert flop > 1.1
    # the H100 has both devices' FP8 figures: the FP8 ratio, as before the FP16 column
    want_h100 = frac("h100-sxm", "gemm_fp8_flop_per_s", "peak_fp8_flop_per_s") \
        / frac("h200-sxm", "gemm_fp8_flop_per_s", "peak_fp8_flop_per_s")
    assert E.device_share_scales("h100-sxm")[1] == pytest.approx(want_h100, rel=1e-9)


def test_share_scales_prefer_fp8_then_fp16_and_stay_within_one_harness():
    """On a made-up table: a device with both FP8 and FP16 figures is scaled by the FP8
    ratio, one with FP16 only by the FP16 ratio over the BF16 peak, one measured only in
    another harness (or not at all) keeps the reference shares."""
    hw = pd.DataFrame({"memory_bytes_per_s": [4e12, 2e12, 2e12, 2e12],
                       "peak_fp8_flop_per_s": [2e15, 2e15, np.nan, 2e15],
                       "peak_bf16_flop_per_s": [1e15, 1e15, 5e14, 1e15]},
                      index=["ref", "both", "fp16", "elsewhere"])
    bench = pd.DataFrame({
        "hardware": ["ref", "ref", "both", "fp16", "elsewhere"],
        "harness": ["h", "h", "h", "h", "other"],
        "copy_bytes_per_s": [3.6e12, np.nan, 1.6e12, np.nan, 1.9e12],
        "gemm_fp8_flop_per_s": [1.4e15, 1.2e15, 1.05e15, np.nan, 1.8e15],
        "gemm_fp16_flop_per_s": [np.nan, 6.0e14, 9.0e14, 4.5e14, 9.9e14]})
    scales = E._measured_scales
    assert scales(bench, hw, "ref", "ref") == (1.0, 1.0)
    bw, flop = scales(bench, hw, "both", "ref")
    # best per harness: the reference's FP8 figure is its larger row (1.4e15 of 2e15)
    assert bw == pytest.approx((1.6 / 2) / (3.6 / 4))
    assert flop == pytest.approx((1.05 / 2) / (1.4 / 2))          # FP8, not FP16 (1.5)
    assert scales(bench, hw, "fp16", "ref") == (1.0, pytest.approx((4.5 / 5) / (6.0 / 10)))
    assert scales(bench, hw, "elsewhere", "ref") == (1.0, 1.0)
    assert scales(bench, hw, "unknown", "ref") == (1.0, 1.0)


def test_expert_group_smaller_than_tp_splits_each_expert_with_dp_attention_too():
    # engines size MoE groups as moe_tp * moe_ep = tp (SGLang --tp 8 --ep 4 --enable-dp-attention):
    # 8 devices hold the routed experts whatever the split, and read the same share of them
    m = model_spec("deepseek-v3")
    held = [E.held_bytes_per_device(m, 1.0, tp=8, ep=ep, dp_attention=True) for ep in (1, 4, 8)]
    assert held[1] == pytest.approx(held[0]) and held[1] == pytest.approx(held[2])
    kw = dict(bw=4.8e12, peak_mm=1.979e15, peak_attn=0.989e15, weight_bytes_per_param=1.0,
              kv_bytes_per_elem=2.0, n_sequences=16.0, context_tok=2048.0, tp=8,
              dp_attention=True, load_imbalance=False, cal=calibration())
    four, eight = (forward_step(m, ep=ep, **kw) for ep in (4, 8))
    assert four["weight_read_bytes"] == pytest.approx(eight["weight_read_bytes"])
    assert four["matmul_flop"] == pytest.approx(eight["matmul_flop"])


def test_a_named_spec_is_built_once_and_equals_a_fresh_build():
    from econ.engine import _model_spec
    a, b = econ.model_spec("deepseek-v3"), econ.model_spec("deepseek-v3")
    assert a is b                                   # kept while data/models.csv is unchanged
    assert a == _model_spec("deepseek-v3")          # the same numbers as an uncached build


def test_calibration_values_are_a_copy_the_caller_may_change():
    from econ.engine import calibration_values
    v = calibration_values()
    v["kernel_fixed_s"] = -1.0
    assert econ.calibration().kernel_fixed_s > 0
    assert calibration_values()["kernel_fixed_s"] == econ.calibration().kernel_fixed_s


@pytest.mark.parametrize("model,expected", [
    # Llama-3.1-70B: 80 GQA layers x (2 norms, 4 attention, 3 FFN), head, final norm, sampling
    ("llama-3.1-70b", 80 * (2 + 4 + 3) + 3),
    # Qwen3-30B-A3B: 48 GQA layers x (2 norms, 4 attention, 7 routed-expert kernels), no
    # shared expert: none of its three kernels
    ("qwen3-30b-a3b", 48 * (2 + 4 + 7) + 3),
    # DeepSeek-V3: 61 MLA layers x (2 norms, 9 attention), 3 dense FFNs and 58 shared
    # experts x 3, 58 MoE layers x 7
    ("deepseek-v3", 61 * (2 + 9) + (3 + 58) * 3 + 58 * 7 + 3),
])
def test_kernels_are_counted_from_the_layer_structure(model, expected):
    assert model_spec(model).kernels_per_step == expected


@pytest.mark.parametrize("model,expected", [
    # Llama-3.1-70B: 80 GQA layers x (QKV, output; gate-up, down)
    ("llama-3.1-70b", 80 * (2 + 2)),
    # Qwen3-235B-A22B: 94 GQA layers x (QKV, output; two routed products), no shared expert
    ("qwen3-235b-a22b-2507", 94 * (2 + 2)),
    # DeepSeek-V3: 61 MLA layers x 4 projections, 3 dense FFNs and 58 shared experts x 2,
    # 58 MoE layers x 2 routed products
    ("deepseek-v3", 61 * 4 + (3 + 58) * 2 + 58 * 2),
])
def test_quantized_matmuls_are_counted_from_the_layer_structure(model, expected):
    spec = model_spec(model)
    assert spec.quantized_matmuls_per_step == expected
    # engines fuse the rest: the attention output per layer, the routed tokens per MoE layer
    assert spec.unfused_quantizations_per_step == spec.n_layers + spec.moe_layers


def _quant_step(spec, n, **kw):
    cal = dataclasses.replace(calibration(), act_quant_kernel_s=2e-6)
    return forward_step(spec, bw=H200["memory_bytes_per_s"], peak_mm=H200["peak_fp8_flop_per_s"],
                        peak_attn=H200["peak_bf16_flop_per_s"], weight_bytes_per_param=1.0,
                        kv_bytes_per_elem=2.0, n_sequences=n, context_tok=2048.0, cal=cal,
                        **kw)


def test_quantization_is_a_kernel_each_plus_bytes_linear_in_the_tokens():
    """Quantized matmuls add, and only add, ``act_quant_s``: a fixed time per quantization
    kernel plus bytes proportional to the tokens. Fused (serving engines): the attention
    output's bytes, split over tp (Llama-3.1-70B at tp=2: 80 layers x 64 heads x 128 / 2
    elements a token). Unfused (the step harness): every matmul's input, more bytes and
    more kernels. BF16 matmuls (no bytes) pay nothing."""
    spec = model_spec("llama-3.1-70b")
    n = np.array([1.0, 64.0, 1024.0])
    plain = _quant_step(spec, n, tp=2)
    fused = _quant_step(spec, n, tp=2, act_quant_bytes_per_elem=3.0)
    unfused = _quant_step(spec, n, tp=2, act_quant_bytes_per_elem=3.0, act_quant_fused=False)
    np.testing.assert_array_equal(plain["act_quant_s"], 0.0)
    np.testing.assert_allclose(fused["step_s"] - plain["step_s"], fused["act_quant_s"],
                               rtol=1e-9)
    for part in ("dense_s", "experts_s", "attention_s", "fixed_s"):
        np.testing.assert_array_equal(fused[part], plain[part])
    bw = H200["memory_bytes_per_s"] * calibration().gemm_bandwidth_frac
    per_tok = 80 * 64 * 128 / 2 * 3.0 / bw
    np.testing.assert_allclose(fused["act_quant_memory_s"], n * per_tok, rtol=1e-9)
    np.testing.assert_allclose(fused["act_quant_s"] - fused["act_quant_memory_s"],
                               spec.unfused_quantizations_per_step * 2e-6, rtol=1e-9)
    np.testing.assert_allclose(unfused["act_quant_s"] - unfused["act_quant_memory_s"],
                               spec.quantized_matmuls_per_step * 2e-6, rtol=1e-9)
    slope = np.diff(unfused["act_quant_memory_s"]) / np.diff(n)
    np.testing.assert_allclose(slope[0], slope[1], rtol=1e-9)        # linear in the tokens
    assert (unfused["act_quant_memory_s"] > 2 * fused["act_quant_memory_s"]).all()
    with pytest.raises(ValueError, match="act_quant_bytes_per_elem"):
        _quant_step(spec, n, act_quant_bytes_per_elem=-1.0)


def test_unfused_ffn_inputs_are_the_groups_tokens_with_data_parallel_attention():
    """With data-parallel attention a device runs its own sequences' attention whole and its
    group's tokens through the tensor-parallel FFN: against plain tensor parallelism at the
    same sequences per device (tp=2), the harness's unfused quantization moves the attention
    output unsplit (twice the elements) and the FFN inputs of twice the rows."""
    spec = model_spec("llama-3.1-70b")
    n = np.array([4.0, 32.0])
    kw = dict(tp=2, act_quant_bytes_per_elem=3.0, act_quant_fused=False)
    tp = _quant_step(spec, n, **kw)["act_quant_memory_s"]
    dp = _quant_step(spec, n, dp_attention=True, **kw)["act_quant_memory_s"]
    bw = H200["memory_bytes_per_s"] * calibration().gemm_bandwidth_frac
    attn_out = spec.n_layers * spec.attn_quant_in_split          # elements a token
    ffn = spec.n_layers * spec.hidden_dim + spec.dense_ffn_params / (3 * spec.hidden_dim) / 2
    np.testing.assert_allclose(dp - tp, n * (attn_out / 2 + ffn) * 3.0 / bw, rtol=1e-9)


def test_mla_without_a_query_down_projection_quantizes_three_attention_inputs():
    row = econ.data.row("models", "deepseek-v3").copy()
    row["q_lora_rank_dim"] = np.nan
    spec = model_spec(row)
    assert spec.attn_quant_matmuls == 3
    assert spec.attn_quant_in_whole == 2 * spec.hidden_dim


def test_routed_tokens_are_quantized_where_the_experts_receive_them():
    """Fused quantization of the routed experts' tokens: with expert parallelism each device
    quantizes its own tokens before the dispatch; with the experts split over a
    data-parallel group (ep=1) each device quantizes the tokens gathered from the group,
    tp times as many. The attention output is the device's own either way."""
    spec = model_spec("deepseek-v3")
    n = np.array([4.0, 32.0])
    kw = dict(tp=8, dp_attention=True, act_quant_bytes_per_elem=3.0)
    ep8 = _quant_step(spec, n, ep=8, **kw)["act_quant_memory_s"]
    ep1 = _quant_step(spec, n, ep=1, **kw)["act_quant_memory_s"]
    bw = H200["memory_bytes_per_s"] * calibration().gemm_bandwidth_frac
    attn = n * spec.n_layers * spec.attn_quant_in_split * 3.0 / bw
    routed = n * spec.moe_layers * spec.hidden_dim * 3.0 / bw
    np.testing.assert_allclose(ep8, attn + routed, rtol=1e-9)
    np.testing.assert_allclose(ep1, attn + 8 * routed, rtol=1e-9)


def _simulated_busiest_touched(n_experts, k, n_tokens, n_devices, draws, rng):
    """Mean over routing draws of the most experts any one device of ``n_devices`` has
    picked (each token picks ``k`` distinct experts uniformly; device d holds a contiguous
    block of ``n_experts / n_devices``)."""
    slots = n_experts // n_devices
    out = []
    for _ in range(draws):
        picks = np.argsort(rng.random((n_tokens, n_experts)), axis=1)[:, :k]
        hit = np.zeros(n_experts, dtype=bool)
        hit[picks.ravel()] = True
        out.append(hit.reshape(n_devices, slots).sum(axis=1).max())
    return float(np.mean(out))


@pytest.mark.parametrize("n_experts,k,n_tokens,n_devices", [
    (16, 1, 8, 4),       # Llama 4 Scout's 16 experts, top-1, on 4 devices
    (128, 8, 8, 8),      # Qwen3-MoE's 128, top-8, on 8
    (128, 8, 32, 2),
    (256, 8, 4, 8),      # DeepSeek-V3's 256, top-8, on 8
    (256, 8, 1, 32),     # few picks per device: a skewed count
    (128, 8, 1, 64),
])
def test_busiest_devices_experts_match_a_simulated_routing(n_experts, k, n_tokens, n_devices):
    rng = np.random.default_rng(7)
    simulated = _simulated_busiest_touched(n_experts, k, n_tokens, n_devices, 400, rng)
    slots = n_experts / n_devices
    touched = E.touched_experts(n_experts, k, n_tokens) / n_experts * slots
    predicted = float(E.busiest_touched_experts(touched, slots, n_devices))
    assert simulated > touched            # the busiest device reads more than the mean one
    assert predicted == pytest.approx(simulated, rel=0.03)


def test_busiest_devices_experts_are_the_mean_alone_or_when_every_expert_is_picked():
    assert E.busiest_touched_experts(3.0, 16.0, 1) == pytest.approx(3.0)
    assert E.busiest_touched_experts(16.0, 16.0, 8) == pytest.approx(16.0)
    many = E.busiest_touched_experts(np.array([1.0, 4.0, 12.0]), 16.0, 8)
    assert np.all(many <= 16.0) and np.all(many > [1.0, 4.0, 12.0])
    assert np.all(np.diff([E.busiest_touched_experts(4.0, 16.0, n) for n in (2, 4, 8, 16)]) > 0)
    # whole and fractional slots (redundant copies) agree where they meet
    assert E.busiest_touched_experts(4.0, 16.0 + 1e-9, 8) == pytest.approx(
        E.busiest_touched_experts(4.0, 16.0, 8), rel=1e-6)


def test_an_expert_parallel_decode_step_waits_for_the_busiest_devices_experts():
    spec, dev = model_spec("qwen3-235b-a22b-2507"), econ.data.load("hardware").loc["b200"]
    kw = dict(bw=dev["memory_bytes_per_s"], peak_mm=dev["peak_bf16_flop_per_s"],
              peak_attn=dev["peak_bf16_flop_per_s"], weight_bytes_per_param=2.0,
              kv_bytes_per_elem=2.0, n_sequences=8.0, context_tok=1000.0, tp=8, ep=8,
              cal=calibration())
    busiest, mean = (forward_step(spec, load_imbalance=b, **kw) for b in (True, False))
    assert busiest["experts_s"] > mean["experts_s"]
    assert busiest["dense_s"] == pytest.approx(mean["dense_s"])
    # the experts' bytes grow by the busiest device's picked experts over the mean device's
    slots = spec.n_routed_experts / 8
    touched = float(mean["experts_touched_count"])
    expert_bytes = [f["weight_read_bytes"] - _dense_bytes(spec, kw)
                    for f in (busiest, mean)]
    assert expert_bytes[0] / expert_bytes[1] == pytest.approx(
        float(E.busiest_touched_experts(touched, slots, 8)) / touched, rel=1e-9)
    # redundant copies (more slots per device) and experts split over tp / ep devices
    for extra in (dict(experts_per_device=slots + 1.0), dict(tp=8, ep=4)):
        b, m = (forward_step(spec, load_imbalance=x, **dict(kw, **extra)) for x in (True, False))
        assert b["weight_read_bytes"] > m["weight_read_bytes"]
    # tensor-parallel experts: every device holds a slice of every expert, none is busier
    tp_only = [forward_step(spec, load_imbalance=b, **dict(kw, ep=1)) for b in (True, False)]
    assert tp_only[0]["weight_read_bytes"] == pytest.approx(tp_only[1]["weight_read_bytes"])


def _dense_bytes(spec, kw):
    """Weight bytes of the dense matmuls one device of ``kw``'s layout reads."""
    tp_attn = 1.0 if kw.get("dp_attention") else kw["tp"]
    return (spec.attention_params / tp_attn + spec.dense_ffn_params / kw["tp"]
            + spec.lm_head_params / kw["tp"]) * kw["weight_bytes_per_param"]
