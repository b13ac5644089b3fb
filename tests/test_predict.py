"""The serving level: predict_serving's signature, closed forms, queueing, errors, and its
error on the ledger rows it was never fitted to."""
import dataclasses
import inspect
import math

import numpy as np
import pytest
import yaml
from _scripts import load_script, quick_table

import econ
from econ.engine import held_bytes_per_device, kv_bytes_per_token_per_device
from econ.predict import predict_serving_with

KW = dict(n_devices=2, tp=2, isl_tok=1000.0, osl_tok=1000.0)


def test_signature_is_the_documented_one():
    sig = inspect.signature(econ.predict_serving)
    assert list(sig.parameters) == ["model", "hardware", "precision", "n_devices", "tp", "ep",
                                    "dp_attention", "isl_tok", "osl_tok", "concurrency",
                                    "kv_precision", "mtp_draft_tok"]
    assert sig.parameters["ep"].default == 1 and sig.parameters["kv_precision"].default == "bf16"


def test_outputs_agree_with_each_other():
    c = np.array([1.0, 8.0, 32.0])
    r = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", concurrency=c, **KW)
    np.testing.assert_allclose(r["tok_per_s_per_user"], 1.0 / r["tpot_s"])
    np.testing.assert_allclose(r["output_tok_per_s_per_device"],
                               c * 1000.0 / (r["ttft_s"] + 1000.0 * r["tpot_s"]) / 2)
    parts = r["decode_s"] + r["prefill_share_s"] + r["allreduce_s"] + r["alltoall_s"] \
        + r["overhead_s"]
    np.testing.assert_allclose(r["step_s"], parts)
    s = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", concurrency=c, **KW,
                             sampler="top_p_sort")
    np.testing.assert_allclose(s["step_s"], parts + s["sampling_s"])
    # more users: each slower, the device busier
    assert np.all(np.diff(r["tpot_s"]) > 0)
    assert np.all(np.diff(r["output_tok_per_s_per_device"]) > 0)


def test_no_communication_on_one_device_and_all_reduce_on_two():
    one = econ.predict_serving("llama-3.1-8b", "h100-sxm", "bf16", n_devices=1, tp=1,
                               isl_tok=1000, osl_tok=1000, concurrency=4)
    assert one["allreduce_s"] == 0 and one["alltoall_s"] == 0
    two = econ.predict_serving("llama-3.1-8b", "h100-sxm", "bf16", n_devices=2, tp=2,
                               isl_tok=1000, osl_tok=1000, concurrency=4)
    srv = econ.serving_calibration()
    # decode tokens plus the prompts of the 3 others' replacements joining each step
    tokens = 4 * (1 + 1000 / 1000 * 3 / 4)
    bytes_ = 2 * (2 - 1) / 2 * tokens * 4096 * 2
    link = 9e11 / 2 * srv.link_bandwidth_frac
    assert two["allreduce_s"] == pytest.approx(2 * 32 * (srv.allreduce_latency_s + bytes_ / link))
    # the same step split over two devices: each reads half the weights
    assert two["decode_s"] < one["decode_s"]


def test_replicas_split_the_concurrency():
    one = econ.predict_serving("llama-3.1-8b", "h200-sxm", "fp8", n_devices=1, tp=1,
                               isl_tok=1000, osl_tok=1000, concurrency=16)
    four = econ.predict_serving("llama-3.1-8b", "h200-sxm", "fp8", n_devices=4, tp=1,
                                isl_tok=1000, osl_tok=1000, concurrency=64)
    assert four["tpot_s"] == pytest.approx(one["tpot_s"])
    assert four["output_tok_per_s_per_device"] == pytest.approx(one["output_tok_per_s_per_device"])


def test_beyond_memory_requests_queue_and_ttft_grows():
    r = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", n_devices=2, tp=2,
                             isl_tok=5000, osl_tok=500, concurrency=np.array([40.0, 200.0]))
    top = r["max_concurrency"][0]
    assert 40 < top < 200
    assert r["tpot_s"][1] == pytest.approx(
        econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", n_devices=2, tp=2,
                             isl_tok=5000, osl_tok=500, concurrency=top)["tpot_s"])
    assert r["ttft_s"][1] > 10 * r["ttft_s"][0]
    best = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", n_devices=2, tp=2,
                                isl_tok=5000, osl_tok=500, concurrency=None)
    assert best["concurrency"] == top


def test_mtp_drafts_raise_per_user_speed_at_low_batch():
    kw = dict(n_devices=8, tp=8, isl_tok=1024, osl_tok=1024, concurrency=4)
    plain = econ.predict_serving("deepseek-r1", "h200-sxm", "fp8", **kw)
    mtp = econ.predict_serving("deepseek-r1", "h200-sxm", "fp8", mtp_draft_tok=1, **kw)
    assert mtp["tok_per_s_per_user"] > plain["tok_per_s_per_user"]
    never = predict_serving_with("deepseek-r1", "h200-sxm", "fp8", mtp_draft_tok=1,
                                 acceptance_frac=0.0, **kw)
    assert never["tok_per_s_per_user"] < plain["tok_per_s_per_user"]


def test_expert_parallel_with_dp_attention_pays_dispatch_and_combine():
    r = econ.predict_serving("deepseek-r1", "h200-sxm", "fp8", n_devices=8, tp=8, ep=8,
                             dp_attention=True, isl_tok=1024, osl_tok=1024, concurrency=64)
    assert r["alltoall_s"] > 0
    assert np.isfinite(r["tpot_s"])


@pytest.mark.parametrize("kw, match", [
    (dict(n_devices=3, tp=2), "n_devices .* must be a multiple of tp"),
    (dict(n_devices=8, tp=8, ep=3), "ep .* must divide tp"),
    (dict(n_devices=1, tp=1), "needs .* bytes per device"),
    (dict(n_devices=2, tp=2, ep=2), "needs an MoE model"),
    (dict(n_devices=2, tp=2, dp_attention="yes"), "dp_attention must be True or False"),
    (dict(n_devices=2, tp=2, kv_precision="fp4"), "kv_precision must be one of"),
    (dict(n_devices=2, tp=2, isl_tok=0), "isl_tok must be > 0"),
])
def test_bad_setups_are_clear_errors(kw, match):
    args = dict(isl_tok=1000, osl_tok=1000, concurrency=4)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        econ.predict_serving("llama-3.1-70b", "h100-sxm", "bf16", **args)


def test_vectorized_monte_carlo_of_concurrency_is_fast():
    c = np.random.default_rng(0).uniform(1, 40, 100_000)
    r = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", concurrency=c, **KW)
    assert r["tpot_s"].shape == c.shape and np.isfinite(r["tpot_s"]).all()


# --- SRAM machines: a pipeline of tensor-parallel stages at the datasheet roofline ---------------

GROQ = econ.data.row("hardware", "groq-lpu")
SHORT = dict(isl_tok=100.0, osl_tok=100.0)


def test_one_stage_sram_pipeline_is_the_gpu_path_at_the_sram_numbers():
    """A pipeline of one stage has no hop: it is the HBM path with the SRAM bandwidth and
    peak, the datasheet constants and the hop latency as the all-reduce latency."""
    sram = GROQ.copy()
    sram["memory_bytes"] = 4e9            # 8 such chips hold Llama-3.1-8B in one stage
    hbm = sram.copy()
    hbm["memory_kind"] = "hbm"
    hop = econ.stage_hop_latency_s("groq-lpu")
    c = np.array([1.0, 4.0, 16.0])
    a = econ.predict_serving("llama-3.1-8b", sram, "bf16", n_devices=8, tp=8, concurrency=c,
                             **SHORT)
    b = predict_serving_with("llama-3.1-8b", hbm, "bf16", n_devices=8, tp=8, concurrency=c,
                             step_calibration=econ.sram_calibration(),
                             serving=econ.ServingCalibration(0.0, hop, hop, 1.0), **SHORT)
    assert (a["pipeline_stages"] == 1).all() and (a["hop_s"] == 0).all()
    for key in ("tpot_s", "ttft_s", "output_tok_per_s_per_device", "max_concurrency"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-9)


def test_sram_per_user_speed_holds_until_every_stage_is_busy():
    n = int(econ.sram_devices_to_hold("llama-3.1-70b", "groq-lpu", "bf16", tp=8,
                                      concurrency=400, **SHORT))
    stages = n / 8
    c = np.array([1.0, 10.0, stages, 4.0 * stages])
    r = econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", n_devices=n, tp=8,
                             concurrency=c, **SHORT)
    assert (r["max_concurrency"] >= 4 * stages).all()           # nobody queues
    speed = r["tok_per_s_per_user"]
    np.testing.assert_allclose(speed[:3], speed[0], rtol=1e-12)
    assert speed[3] < speed[0]                                   # micro-batches of 4
    # throughput per chip follows the stages busy: proportional to concurrency until full
    np.testing.assert_allclose(r["output_tok_per_s_per_device"][:3] / c[:3],
                               r["output_tok_per_s_per_device"][0], rtol=1e-12)
    assert r["output_tok_per_s_per_device"][3] > r["output_tok_per_s_per_device"][2]
    # the cycle is the sum of the stages plus one hop per stage
    np.testing.assert_allclose(r["pipeline_stages"], stages)
    np.testing.assert_allclose(r["hop_s"], stages * econ.stage_hop_latency_s("groq-lpu"))
    np.testing.assert_allclose(r["step_s"], r["decode_s"] + r["prefill_share_s"]
                               + r["allreduce_s"] + r["hop_s"])


def test_sram_speed_closed_form_at_one_request():
    """Memory-bound at one request: the weights over tp chips' SRAM bandwidth, the FLOPs over
    tp chips' peak, plus hops and all-reduces (a hand-worked roofline)."""
    spec = econ.model_spec("llama-3.1-70b")
    n, tp = 616, 8
    r = econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", n_devices=n, tp=tp,
                             concurrency=1.0, **SHORT)
    bw, peak = GROQ["memory_bytes_per_s"], GROQ["peak_bf16_flop_per_s"]
    params = spec.attention_params + spec.dense_ffn_params + spec.lm_head_params
    # additive roofline at shares of 1: 2 bytes per weight read, 2 FLOP per weight per token,
    # spread over the tp chips of a stage (the attention over 150 cached tokens is small)
    roofline_s = params * 2.0 / (tp * bw) + 2.0 * params / (tp * peak)
    assert r["decode_s"] == pytest.approx(roofline_s, rel=0.02)
    hop = econ.stage_hop_latency_s("groq-lpu")
    # two ring all-reduces per layer of the step's rows (one decoded token; alone, no
    # prompt joins its steps) over one direction of the chip-to-chip links
    rows = 1.0
    ar = 2 * spec.n_layers * (hop + 2 * (tp - 1) / tp * rows * spec.hidden_dim * 2.0
                              / (GROQ["interconnect_bytes_per_s"] / 2))
    assert r["allreduce_s"] == pytest.approx(ar, rel=1e-9)
    assert r["hop_s"] == pytest.approx(n / tp * hop)


def test_sram_chip_count_is_the_capacity_rule():
    spec = econ.model_spec("llama-3.1-70b")
    held = held_bytes_per_device(spec, 2.0, tp=1)
    n1 = econ.sram_devices_to_hold("llama-3.1-70b", "groq-lpu", "bf16")
    assert n1 == math.ceil(held / GROQ["memory_bytes"])
    n8 = econ.sram_devices_to_hold("llama-3.1-70b", "groq-lpu", "bf16", tp=8)
    assert n8 % 8 == 0 and n1 <= n8 < n1 + 8
    kv = kv_bytes_per_token_per_device(spec, 2.0) * 2000.0
    c = np.array([1.0, 10.0, 100.0])
    n = econ.sram_devices_to_hold("llama-3.1-70b", "groq-lpu", "bf16", concurrency=c,
                                  isl_tok=1000.0, osl_tok=1000.0)
    np.testing.assert_allclose(n, np.ceil((held + c * kv) / GROQ["memory_bytes"]))
    # the fewest chips fit; one fewer stage does not
    econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", n_devices=int(n[1]), tp=1,
                         concurrency=10, isl_tok=1000.0, osl_tok=1000.0)
    with pytest.raises(ValueError, match=r"not one request|n_devices >="):
        econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", n_devices=int(n1) - 1, tp=1,
                             concurrency=1, isl_tok=1000.0, osl_tok=1000.0)


@pytest.mark.parametrize("hardware, kw, match", [
    ("groq-lpu", dict(n_devices=64, tp=8), r"n_devices >= 616"),
    ("groq-lpu", dict(n_devices=616, tp=8, ep=2), "needs an MoE model"),
    ("groq-lpu", dict(n_devices=616, tp=8, dp_attention=True), "pipeline of tensor-parallel"),
    ("cerebras-cs3", dict(n_devices=4, tp=1), "no peak_bf16_flop_per_s"),
])
def test_infeasible_sram_setups_raise(hardware, kw, match):
    with pytest.raises(ValueError, match=match):
        econ.predict_serving("llama-3.1-70b", hardware, "bf16", concurrency=1.0, isl_tok=1000.0,
                             osl_tok=1000.0, **kw)


def test_sram_machines_take_no_gpu_fitted_constant():
    """The GPU-fitted constants do not reach an SRAM machine; the hop latency is the sourced
    one, and a mapping may override it."""
    kw = dict(n_devices=616, tp=8, concurrency=1.0, isl_tok=1000.0, osl_tok=1000.0)
    a = econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", **kw)
    b = predict_serving_with("llama-3.1-70b", "groq-lpu", "bf16",
                             step_calibration=econ.sram_calibration(), **kw)
    np.testing.assert_allclose(a["tpot_s"], b["tpot_s"])
    assert econ.stage_hop_latency_s("groq-lpu") == pytest.approx(
        econ.data.load("sram_fabric").loc["groq-lpu", "stage_hop_latency_s"])
    assert econ.stage_hop_latency_s("cerebras-cs3") == 0.0      # none published
    slow = GROQ.copy()
    slow["stage_hop_latency_s"] = 1e-4
    c = econ.predict_serving("llama-3.1-70b", slow, "bf16", **kw)
    assert c["hop_s"] == pytest.approx(616 / 8 * 1e-4)
    assert c["tpot_s"] > a["tpot_s"]
    assert econ.is_sram("groq-lpu") and econ.is_sram("cerebras-cs3")
    assert not econ.is_sram("h100-sxm")


# --- the whole deployment: expert parallel across nodes, micro-batches, disaggregation ---------

EP_KW = dict(n_devices=32, tp=1, ep=32, dp_attention=True, isl_tok=4000.0, osl_tok=1000.0,
             scaleout_dispatch_bytes_per_s=40e9, scaleout_combine_bytes_per_s=40e9)


def test_expert_parallel_across_nodes_needs_the_scale_out_rates():
    with pytest.raises(ValueError, match="spans 4 nodes .* scaleout_dispatch_bytes_per_s"):
        econ.predict_serving("deepseek-v3", "h800-sxm", "fp8", n_devices=32, tp=1, ep=32,
                             isl_tok=4000, osl_tok=1000, concurrency=320)


def test_scale_out_all_to_all_by_hand():
    # decode, low-latency kernels: every routed copy crosses the scale-out link
    r = predict_serving_with("deepseek-v3", "h800-sxm", "fp8", concurrency=32 * 16.0,
                             phase="decode", **EP_KW)
    assert r["alltoall_s"] == pytest.approx(58 * 16 * 8 * 7168 * (1 + 2) / 40e9)
    # normal kernels: once per distinct node (at most 4), then NVLink within the node
    n = predict_serving_with("deepseek-v3", "h800-sxm", "fp8", concurrency=32 * 16.0,
                             phase="decode", comm_kernel="normal", max_routed_nodes=4,
                             scaleup_bytes_per_s=1e15, **EP_KW)
    nodes = econ.expected_nodes_touched(8, 4, 4)
    assert n["alltoall_s"] == pytest.approx(58 * 16 * nodes * 7168 * 3 / 40e9)
    assert n["alltoall_s"] < r["alltoall_s"]


def test_two_micro_batches_hide_the_all_to_all_under_compute():
    kw = dict(concurrency=32 * 64.0, phase="decode", **EP_KW)
    one = predict_serving_with("deepseek-v3", "h800-sxm", "fp8", **kw)
    two = predict_serving_with("deepseek-v3", "h800-sxm", "fp8", n_microbatches=2, **kw)
    assert one["step_s"] == pytest.approx(one["compute_s"] + one["alltoall_s"]
                                          + one["overhead_s"])
    fill = two["alltoall_s"] / (58 * 2)
    assert two["step_s"] == pytest.approx(max(two["compute_s"], two["alltoall_s"]) + fill
                                          + two["overhead_s"])
    assert two["compute_s"] > one["compute_s"]   # the weights are read once per micro-batch
    lent = predict_serving_with("deepseek-v3", "h800-sxm", "fp8", n_microbatches=2,
                                comm_sm_frac=0.25, **kw)
    assert lent["compute_s"] == pytest.approx(two["compute_s"] / 0.75)


def test_disaggregated_phases_and_cache_hits():
    dec = predict_serving_with("deepseek-v3", "h800-sxm", "fp8", concurrency=32 * 64.0,
                               phase="decode", **EP_KW)
    assert np.isnan(dec["ttft_s"]) and dec["prefill_share_s"] == 0
    assert dec["output_tok_per_s_per_device"] == pytest.approx(64 / dec["tpot_s"])
    pre = [predict_serving_with("deepseek-v3", "h800-sxm", "fp8", concurrency=64.0,
                                phase="prefill", cache_hit_frac=h, **EP_KW) for h in (0.0, 0.5)]
    for p, h in zip(pre, (0.0, 0.5)):
        assert np.isnan(p["tpot_s"])
        assert p["input_tok_per_s_per_device"] == pytest.approx(64 * 4000 / p["step_s"] / 32)
        assert p["computed_tok_per_s_per_device"] == pytest.approx(
            (1 - h) * p["input_tok_per_s_per_device"])
        assert p["context_tok"] == pytest.approx(h * 4000 + ((1 - h) * 4000 + 1) / 2)
    # half the prompt from the cache: less computed per pass, more served per second
    assert pre[1]["step_s"] < pre[0]["step_s"]
    assert pre[1]["input_tok_per_s_per_device"] > pre[0]["input_tok_per_s_per_device"]


@pytest.mark.parametrize("kw, match", [
    (dict(n_devices=8, tp=4, ep=3), "must divide tp .*, or be a multiple"),
    (dict(n_devices=32, tp=2, ep=32), "data-parallel attention"),
    (dict(n_devices=24, tp=1, ep=16), "divides n_devices"),
    (dict(n_devices=8, tp=1, ep=8, phase="both"), "phase must be one of"),
    (dict(n_devices=8, tp=1, ep=8, n_microbatches=3), "n_microbatches must be 1 or 2"),
    (dict(n_devices=8, tp=1, ep=8, comm_sm_frac=1.0), "comm_sm_frac"),
    (dict(n_devices=8, tp=1, ep=8, cache_hit_frac=1.0), "cache_hit_frac"),
    (dict(n_devices=8, tp=1, ep=8, comm_kernel="magic"), "comm_kernel"),
    (dict(n_devices=8, tp=1, ep=8, osl_cv_ratio=-0.5), r"osl_cv_ratio must be in \[0, 10\]"),
    (dict(n_devices=8, tp=1, ep=8, osl_cv_ratio=float("nan")), "osl_cv_ratio must be finite"),
])
def test_bad_deployments_are_clear_errors(kw, match):
    args = dict(isl_tok=1000, osl_tok=1000, concurrency=64)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        predict_serving_with("deepseek-v3", "h200-sxm", "fp8", **args)


def test_busiest_rank_is_whole_sequences_and_the_expected_longest_contexts():
    busy, ctx = econ.busiest_rank(np.array([0.5, 4.0, 4.2]), 8, 3600.0, 800 / np.sqrt(12))
    np.testing.assert_allclose(busy, [1.0, 4.0, 5.0])
    lift = np.sqrt(2 * np.log(8)) * 800 / np.sqrt(12)
    np.testing.assert_allclose(ctx, 3600.0 + lift / np.sqrt([1.0, 4.0, 5.0]))
    one, same = econ.busiest_rank(0.5, 1, 3600.0, 230.0)      # one rank: the mean itself
    assert one == pytest.approx(0.5) and same == pytest.approx(3600.0)


def test_data_parallel_attention_waits_for_its_busiest_rank():
    kw = dict(n_devices=8, tp=8, isl_tok=3200, osl_tok=800, concurrency=np.array([4.0, 64.0]))
    dp = econ.predict_serving("deepseek-r1", "h200-sxm", "fp8", dp_attention=True, **kw)
    tp = econ.predict_serving("deepseek-r1", "h200-sxm", "fp8", dp_attention=False, **kw)
    assert (dp["attention_imbalance_s"] > 0).all()
    np.testing.assert_allclose(tp["attention_imbalance_s"], 0.0)
    # concurrency 4 on 8 ranks: the busiest rank runs one whole sequence, twice the mean;
    # at 64 (8 a rank) only the contexts differ, and the share shrinks
    share = dp["attention_imbalance_s"] / dp["attention_s"]
    assert share[0] > 0.25 and share[1] < share[0]


def test_spread_output_lengths_lengthen_the_context_of_the_requests_in_flight():
    """Requests in flight are drawn in proportion to their lengths: with output lengths of
    coefficient of variation cv, a decoding request's mean context is
    ``isl + osl (1 + cv^2) / 2`` (exponential lengths, cv 1: ``isl + osl``). cv 0 is the
    default; a spread only lengthens the steps, through attention."""
    kw = dict(n_devices=8, tp=8, ep=8, dp_attention=True, isl_tok=800.0, osl_tok=3700.0,
              concurrency=1200.0, kv_precision="fp8")
    cv = np.array([0.0, 0.5, 1.0, 1.25])
    r = predict_serving_with("deepseek-r1", "b200", "fp4", osl_cv_ratio=cv, **kw)
    np.testing.assert_allclose(r["context_tok"], 800.0 + 3700.0 * (1.0 + cv ** 2) / 2.0)
    np.testing.assert_allclose(r["context_tok"][2], 800.0 + 3700.0)
    plain = predict_serving_with("deepseek-r1", "b200", "fp4", **kw)
    for key, v in plain.items():
        np.testing.assert_allclose(np.broadcast_to(r[key], cv.shape)[0], v, err_msg=key)
    assert np.all(np.diff(r["tpot_s"]) > 0)
    assert np.all(np.diff(r["output_tok_per_s_per_device"]) < 0)
    assert np.all(np.diff(r["attention_s"]) > 0)
    for part in ("dense_s", "experts_s", "allreduce_s", "alltoall_s", "overhead_s"):
        np.testing.assert_allclose(r[part], plain[part], err_msg=part)
    # the busiest data-parallel rank's contexts spread wider too
    assert np.all(np.diff(r["attention_imbalance_s"]) > 0)


def test_the_context_of_requests_in_flight_matches_a_simulation_of_them():
    """:func:`econ.inflight_context_tok` against a simulation: gamma output lengths of mean
    osl and coefficient of variation cv, requests run back to back in slots, the slots
    looked at at random times (the context then: the prompt and the tokens so far). At cv
    0 the closed form is the uniform one."""
    mean, sd = econ.inflight_context_tok(3200.0, 800.0, 0.0)
    assert mean == pytest.approx(3600.0) and sd == pytest.approx(800 / np.sqrt(12))
    rng = np.random.default_rng(7)
    for cv in (0.3, 0.7, 1.0, 1.3):
        shape = 1.0 / cv ** 2
        lengths = rng.gamma(shape, 1000.0 / shape, size=(64, 4000))
        ends = np.cumsum(lengths, axis=1)
        t = rng.uniform(0.0, ends[:, -1].min(), size=(64, 200))
        k = np.array([np.searchsorted(e, tt) for e, tt in zip(ends, t)])
        start = np.take_along_axis(ends, k, axis=1) - np.take_along_axis(lengths, k, axis=1)
        ctx = 200.0 + (t - start)
        m, s = econ.inflight_context_tok(200.0, 1000.0, cv)
        assert ctx.mean() == pytest.approx(m, rel=0.03), cv
        assert ctx.std() == pytest.approx(s, rel=0.05), cv
    np.testing.assert_allclose(econ.inflight_context_tok(0.0, 1000.0, [0.0, 1.0])[0],
                               [500.0, 1000.0])


def test_a_fresh_start_window_sees_younger_requests_as_a_simulation_does():
    """Slots that all start a fresh request at once, averaged over the next T decode steps:
    the mean position of the requests in flight against a simulation of gamma lengths
    (within 5% from one mean output on), 0 as T shrinks, the steady state as it grows.
    Without a spread the lag is the renewal expansion's, osl / 12 / T of an output at
    most: the average over where the window ends within an output."""
    rng = np.random.default_rng(11)
    for cv in (0.5, 1.0, 1.3):
        lengths = rng.gamma(cv ** -2, 1000.0 * cv ** 2, size=(4000, 40))
        ends = np.cumsum(lengths, axis=1)
        starts = ends - lengths
        for per_slot in (1.0, 2.0, 5.0):
            t = per_slot * 1000.0
            inside = np.clip(np.minimum(ends, t) - starts, 0.0, None)
            simulated = (inside ** 2 / 2.0).sum(axis=1).mean() / t
            mean, _ = econ.inflight_context_tok(0.0, 1000.0, cv, t)
            assert mean == pytest.approx(simulated, rel=0.05), (cv, per_slot)
    # lengths in any unit: the window scales with the outputs
    m1, _ = econ.inflight_context_tok(0.0, 1000.0, 0.7, 2500.0)
    m7, _ = econ.inflight_context_tok(0.0, 7000.0, 0.7, 17500.0)
    assert m7 == pytest.approx(7.0 * m1, rel=1e-12)
    # no request in flight is older than the window: a short window's mean is half of it
    tiny = np.array([1.0, 20.0, 100.0])
    for cv in (0.0, 0.5, 1.3):
        short_mean, _ = econ.inflight_context_tok(0.0, 1000.0, cv, tiny)
        assert (short_mean <= tiny / 2.0 + 1e-9).all()
    np.testing.assert_allclose(econ.inflight_context_tok(0.0, 1000.0, 0.5, tiny)[0], tiny / 2)
    steady, sd = econ.inflight_context_tok(100.0, 1000.0, 1.0)
    short, sd_short = econ.inflight_context_tok(100.0, 1000.0, 1.0, [1e-3, 1e9])
    np.testing.assert_allclose(short, [100.0, steady], rtol=1e-5)
    np.testing.assert_allclose(sd_short, sd)
    fixed = econ.inflight_context_tok(100.0, 1000.0, 0.0, np.array([1000.0, 1e5]))[0]
    np.testing.assert_allclose(fixed, 600.0 - 1000.0 ** 2 / 12.0 / np.array([1000.0, 1e5]),
                               rtol=1e-3)
    kw = dict(n_devices=1, tp=1, isl_tok=200.0, osl_tok=2000.0, concurrency=64.0)
    a = predict_serving_with("qwen3-8b", "h100-sxm", "bf16", osl_cv_ratio=1.0, **kw)
    b = predict_serving_with("qwen3-8b", "h100-sxm", "bf16", osl_cv_ratio=1.0,
                             fresh_start_window_tok=2000.0, **kw)
    assert b["context_tok"] < a["context_tok"] and b["tpot_s"] < a["tpot_s"]
    for bad, match in [(0.0, "fresh_start_window_tok must be > 0"),
                       (float("nan"), "fresh_start_window_tok must be finite")]:
        with pytest.raises(ValueError, match=match):
            predict_serving_with("qwen3-8b", "h100-sxm", "bf16", fresh_start_window_tok=bad,
                                 **kw)


def test_a_burst_carries_its_own_lengths_and_refuses_a_spread_around_them():
    kw = dict(n_devices=1, tp=1, isl_tok=[100.0, 200.0], osl_tok=[50.0, 400.0])
    for extra in ({"osl_cv_ratio": 1.0}, {"fresh_start_window_tok": 500.0}):
        with pytest.raises(ValueError, match="its own lengths from the start of the burst"):
            econ.predict_burst("llama-3.1-8b", "h100-sxm", "bf16", **kw, **extra)


def test_a_request_alone_carries_no_prompt_in_its_steps():
    # its own prompt is its TTFT; with others, the prompts of their replacements join its
    # steps: (c - 1) / c of the c isl / osl prompt tokens a step carries
    kw = dict(n_devices=2, tp=2, isl_tok=32000, osl_tok=100)
    alone = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", concurrency=1, **kw)
    assert alone["prefill_share_s"] == 0.0
    assert alone["ttft_s"] > 100 * alone["tpot_s"]      # the prompt is in the TTFT
    busy = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", concurrency=8, **kw)
    assert busy["prefill_share_s"] > busy["decode_s"]   # 7 prompts of 32k per 100 steps


def test_the_cache_gets_what_the_engine_takes_of_memory_less_the_weights():
    spec = econ.model_spec("llama-3.1-70b")
    srv = econ.serving_calibration()
    assert 0 < srv.memory_utilization_frac < 1
    held = held_bytes_per_device(spec, 1.0, tp=2)
    kv = kv_bytes_per_token_per_device(spec, 2.0, tp=2)
    kw = dict(n_devices=2, tp=2, isl_tok=1000, osl_tok=1000, concurrency=None)
    r = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", **kw)
    assert r["max_concurrency"] == math.floor((srv.memory_utilization_frac * 80e9 - held)
                                              / (kv * 2000))
    every = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", serving=dataclasses.replace(
        srv, memory_utilization_frac=1.0), **kw)
    assert every["max_concurrency"] == math.floor((80e9 - held) / (kv * 2000))
    # weights that fit the device but not the engine's share of it: an error that says so
    with pytest.raises(ValueError, match="memory_utilization_frac"):
        predict_serving_with("qwen2.5-72b", "h100-sxm", "fp8", n_devices=1, tp=1,   # 72.7 GB
                             isl_tok=100, osl_tok=100, concurrency=1)


def test_fp4_matmuls_run_at_their_fitted_share_and_other_precisions_do_not():
    srv = econ.serving_calibration()
    assert 0 < srv.fp4_matmul_frac <= 1
    kw = dict(n_devices=1, tp=1, isl_tok=8192, osl_tok=1, concurrency=4, phase="prefill")
    for precision, changes in (("fp4", True), ("fp8", False)):
        half, full = (predict_serving_with(
            "llama-3.1-70b", "b200", precision, **kw,
            serving=dataclasses.replace(srv, fp4_matmul_frac=f)) for f in (0.5, 1.0))
        ratio = half["dense_s"] / full["dense_s"]
        # compute-bound prompt matmuls: half the rate, nearly twice the time
        assert (1.8 < ratio < 2.0) if changes else ratio == pytest.approx(1.0)


def test_weight_only_quantization_stores_fp4_and_multiplies_in_bf16():
    kw = dict(n_devices=1, tp=1, isl_tok=2000, osl_tok=500, concurrency=8)
    with pytest.raises(ValueError, match="peak_fp4_flop_per_s"):
        predict_serving_with("gpt-oss-20b", "h100-sxm", "fp4", **kw)   # no FP4 units
    w4 = predict_serving_with("gpt-oss-20b", "h100-sxm", "fp4", compute_precision="bf16", **kw)
    w16 = predict_serving_with("gpt-oss-20b", "h100-sxm", "bf16", **kw)
    # a quarter of the weight bytes: more room for the cache, a shorter memory-bound step
    assert w4["max_concurrency"] > w16["max_concurrency"]
    assert w4["tpot_s"] < w16["tpot_s"]
    with pytest.raises(ValueError, match="compute_precision"):
        predict_serving_with("gpt-oss-20b", "h100-sxm", "fp4", compute_precision="fp2", **kw)


def test_an_engine_cap_on_running_requests_queues_the_rest():
    kw = dict(n_devices=2, tp=2, isl_tok=1000, osl_tok=1000)
    free = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", concurrency=64, **kw)
    capped = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", concurrency=64,
                                  max_running_requests=16, **kw)
    at16 = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", concurrency=16, **kw)
    # 16 run (one replica of 2 devices): their steps are those of 16, the rest wait in TTFT
    assert capped["tpot_s"] == pytest.approx(at16["tpot_s"])
    assert capped["output_tok_per_s_per_device"] == pytest.approx(
        at16["output_tok_per_s_per_device"])
    assert capped["ttft_s"] > at16["ttft_s"] and capped["tpot_s"] < free["tpot_s"]
    # the cap is per replica: two replicas run twice as many
    two = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", concurrency=64,
                               max_running_requests=16, n_devices=4, tp=2, isl_tok=1000,
                               osl_tok=1000)
    at32 = predict_serving_with("llama-3.1-70b", "h100-sxm", "fp8", concurrency=32,
                                n_devices=4, tp=2, isl_tok=1000, osl_tok=1000)
    assert two["tpot_s"] == pytest.approx(at32["tpot_s"])


def test_a_step_token_budget_bounds_the_requests_decoding_in_steady_state():
    # each decoding request takes 1 token of the step and its replacement's prompt
    # isl / osl = 16 more: 8192 / 17 = 481 decode at once, whatever the concurrency
    kw = dict(n_devices=1, tp=1, isl_tok=2048, osl_tok=128)
    budget = predict_serving_with("qwen3-30b-a3b", "b200", "bf16", concurrency=2000,
                                  prefill_chunk_tok=8192, **kw)
    at481 = predict_serving_with("qwen3-30b-a3b", "b200", "bf16", concurrency=481, **kw)
    assert budget["tpot_s"] == pytest.approx(at481["tpot_s"])
    assert budget["output_tok_per_s_per_device"] == pytest.approx(
        at481["output_tok_per_s_per_device"])
    # a budget larger than the load changes nothing; prefill and decode phases ignore it
    few = predict_serving_with("qwen3-30b-a3b", "b200", "bf16", concurrency=100,
                               prefill_chunk_tok=8192, **kw)
    plain = predict_serving_with("qwen3-30b-a3b", "b200", "bf16", concurrency=100, **kw)
    assert few["tpot_s"] == plain["tpot_s"]
    with pytest.raises(ValueError, match="prefill_chunk_tok"):
        predict_serving_with("qwen3-30b-a3b", "b200", "bf16", concurrency=100,
                             prefill_chunk_tok=0, **kw)
    with pytest.raises(ValueError, match="max_running_requests"):
        predict_serving_with("qwen3-30b-a3b", "b200", "bf16", concurrency=100,
                             max_running_requests=-1, **kw)


@pytest.mark.parametrize("framework, version, hardware, model, dp, row, running, chunk", [
    # vLLM V1 from 0.9: 70 GiB and more and not an A100 -> 1024 and 8192, else 256 and 2048
    ("vllm", "0.11.0", "h100-sxm", "qwen3-32b", False, "vllm-v1-0.9.0-0.12.0-ge70gib",
     1024, 8192),
    ("vllm", "0.11.0", "a100-sxm-80gb", "qwen3-32b", False, "vllm-v1-0.9.0-0.12.0-other",
     256, 2048),
    ("vllm", "0.11.0", "rtx-4090", "llama-3.1-8b", False, "vllm-v1-0.9.0-0.12.0-other",
     256, 2048),
    # vLLM V0: chunked prefill only for a context above 32k
    ("vllm", "0.7.3", "h200-sxm", "deepseek-r1", False, "vllm-v0-0.6.5-0.7.3-chunked",
     256, 2048),
    ("vllm", "0.7.3", "h200-sxm", "llama-3.1-8b", False, "vllm-v0-0.6.5-0.7.3-chunked",
     256, 2048),
    ("vllm", "0.6.3.post1", "h100-sxm", "mixtral-8x7b", False, "vllm-v0-0.6.0-0.7.3-unchunked",
     256, None),
    # SGLang: the chunk by memory class, halved with DP attention in 0.4.1-0.4.4
    ("sglang", "0.5.6", "b200", "deepseek-r1", False, "sglang-0.5.3-0.5.9-ge160gib", None,
     16384),
    ("sglang", "0.4.3.post2", "h200-sxm", "deepseek-r1", True,
     "sglang-0.4.1-0.4.4-ge25000mib-dp-attention", None, 4096),
    ("sglang", "0.4.3.post2", "h200-sxm", "deepseek-r1", False, "sglang-0.4.1-0.4.6-ge25000mib",
     None, 8192),
])
def test_engine_defaults_resolve_by_release_device_layout_and_context(
        framework, version, hardware, model, dp, row, running, chunk):
    d = econ.engine_defaults(framework, version, hardware, model, dp_attention=dp)
    assert d["name"] == row
    assert d["max_running_requests"] == running and d["prefill_chunk_tok"] == chunk


def test_engine_defaults_hold_for_releases_of_known_engines_only():
    for version in ("0.6.3.dev116+g151ef4ef", "1.2.0rc1", "0.9.0.2.dev108+g71faa1880", ""):
        assert econ.engine_defaults("vllm", version, "h100-sxm", "llama-3.1-8b") is None
    assert econ.engine_defaults("nim", "1.8.0", "h100-sxm", "llama-3.1-8b") is None
    with pytest.raises(ValueError, match="framework"):
        econ.engine_defaults(None, "0.11.0", "h100-sxm", "llama-3.1-8b")
    with pytest.raises((ValueError, KeyError), match="h900"):
        econ.engine_defaults("vllm", "0.11.0", "h900", "llama-3.1-8b")


def _tpot_at_quant_kernel(kernel_s, **kw):
    cal = dataclasses.replace(econ.calibration(), act_quant_kernel_s=kernel_s)
    return predict_serving_with(step_calibration=cal, **kw)["tpot_s"]


@pytest.mark.parametrize("phase", ["decode", "mixed"])
def test_quantized_matmuls_pay_one_kernel_per_unfused_quantization(phase):
    """A step with FP8 matmuls charges each quantization kernel an engine leaves (the
    attention output per layer, the routed tokens per MoE layer) the kernel's fixed time:
    TPOT moves by exactly that sum, in decode and with prompts joining the step (their
    quantization rides in the same kernels); BF16 matmuls, FP4 weights run as BF16 matmuls
    and an SRAM machine pay nothing."""
    kw = dict(isl_tok=1000, osl_tok=500, concurrency=np.array([1.0, 32.0]), phase=phase)
    for model, precision, extra, hw, n_dev, tp, charged in (
            ("llama-3.1-70b", "fp8", {}, "h200-sxm", 2, 2, True),
            ("qwen3-30b-a3b", "fp8", {}, "h200-sxm", 1, 1, True),
            ("llama-3.1-70b", "bf16", {}, "h200-sxm", 2, 2, False),
            ("llama-3.1-70b", "fp4", {"compute_precision": "bf16"}, "h200-sxm", 2, 2, False),
            ("llama-3.1-8b", "int8", {}, "groq-lpu", 80, 8, False)):
        args = dict(model=model, hardware=hw, precision=precision, n_devices=n_dev, tp=tp,
                    **extra, **kw)
        spec = econ.model_spec(model)
        expected = spec.unfused_quantizations_per_step * 3e-6 if charged else 0.0
        more = _tpot_at_quant_kernel(3e-6, **args) - _tpot_at_quant_kernel(0.0, **args)
        np.testing.assert_allclose(more, expected, rtol=1e-9, atol=1e-15,
                                   err_msg=f"{model} {precision} {hw}")


def test_median_step_leaves_out_the_prompts_most_steps_do_not_carry():
    """A median inter-token gap is a typical step. Prompts join steps at random (a Poisson
    count with the mean m a step carries): up to ln 2 a step most steps carry none, and the
    median step is the step of the same load without prompts (the decode phase's), their
    compute and their all-reduce rows alike; beyond, it carries m - ln 2 of them (the
    Poisson median's lower bound), so it grows continuously towards the mean step."""
    kw = dict(model="llama-3.1-70b", hardware="h100-sxm", precision="bf16", n_devices=4, tp=4,
              isl_tok=215.0, prefill_chunk_tok=8192, max_running_requests=4096)
    conc = np.array([8.0, 64.0])
    few = predict_serving_with(concurrency=conc, osl_tok=880.0, **kw)
    dec = predict_serving_with(concurrency=conc, osl_tok=880.0, phase="decode", **kw)
    assert (conc * (conc - 1) / conc / 880.0 < np.log(2)).all()
    assert (few["allreduce_s"] > dec["allreduce_s"]).all()     # the prompts' rows count
    np.testing.assert_allclose(few["tpot_median_s"], dec["tpot_s"], rtol=1e-12)
    np.testing.assert_allclose(dec["tpot_median_s"], dec["tpot_s"], rtol=1e-12)
    # short outputs: m = 4 prompts a step, the median step carries 4 - ln 2
    conc = np.array([400.0])
    many = predict_serving_with(concurrency=conc, osl_tok=100.0, **kw)
    base = predict_serving_with(concurrency=conc, osl_tok=100.0, phase="decode", **kw)
    m = 399.0 / 100.0
    np.testing.assert_allclose(many["tpot_median_s"], base["tpot_s"] + (
        many["tpot_s"] - base["tpot_s"]) * (m - np.log(2)) / m, rtol=1e-9)
    # continuous where m crosses ln 2 (69.3 requests at 100 tokens each)
    around = predict_serving_with(concurrency=np.array([69.0, 71.0]), osl_tok=100.0, **kw)
    assert np.diff(around["tpot_median_s"])[0] < 0.02 * around["tpot_median_s"][0]


def test_ranks_of_a_data_parallel_group_wait_for_one_step():
    """With data-parallel attention each rank carries few prompts but the group's step
    waits for all of them: 8 ranks of half a prompt each make a step with about 4, so the
    median step carries prompts (it is above the decode phase's step, below the mean)."""
    kw = dict(model="deepseek-v3", hardware="h200-sxm", precision="fp8", n_devices=8, tp=8,
              ep=8, dp_attention=True, isl_tok=1000.0, osl_tok=1000.0,
              concurrency=np.array([4096.0]))
    mixed = predict_serving_with(**kw)
    dec = predict_serving_with(phase="decode", **kw)
    assert (dec["tpot_s"] < mixed["tpot_median_s"]).all()
    assert (mixed["tpot_median_s"] < mixed["tpot_s"]).all()


@pytest.mark.parametrize("model", ["llama-3.1-70b", "qwen3-235b-a22b-2507"])
def test_the_parts_prompts_add_to_a_step_are_its_prefill_share(model):
    """A step reads the weights once: prompts joining it add their FLOPs and cache writes to
    the reported parts, what ``prefill_share_s`` charges (BF16: no quantization bytes)."""
    kw = dict(n_devices=8, tp=8, isl_tok=1024, osl_tok=1024,
              concurrency=np.array([1.0, 16.0, 256.0]))
    dec, mixed = (predict_serving_with(model, "h200-sxm", "bf16", phase=ph, **kw)
                  for ph in ("decode", "mixed"))
    added = sum(mixed[k] - dec[k] for k in ("dense_s", "experts_s", "attention_s"))
    np.testing.assert_allclose(added, mixed["prefill_share_s"], rtol=1e-9, atol=1e-15)
    assert mixed["prefill_share_s"][-1] > 0


def test_a_sampler_adds_each_sequence_s_row_of_logits_at_the_recorded_rate():
    """A step's sampling: every device of a replica samples its sequences' rows, one
    vocabulary wide, in the recorded time; nothing where no sampler is named."""
    c = np.array([8.0, 64.0, 256.0])
    kw = dict(n_devices=4, tp=4, isl_tok=500.0, osl_tok=500.0, concurrency=c)
    plain = predict_serving_with("llama-3.1-70b", "h100-sxm", "bf16", **kw)
    np.testing.assert_allclose(plain["sampling_s"], 0.0)
    m = econ.model_spec("llama-3.1-70b")
    assert m.n_vocab == 128256
    for sampler in econ.predict.SAMPLERS:
        r = predict_serving_with("llama-3.1-70b", "h100-sxm", "bf16", sampler=sampler, **kw)
        fixed_s, bytes_per_logit, _ = econ.predict.sampling_line(sampler)
        want = fixed_s + c * m.n_vocab * bytes_per_logit / 3.35e12
        np.testing.assert_allclose(r["sampling_s"], want, rtol=1e-12)
        np.testing.assert_allclose(r["step_s"] - plain["step_s"], want, rtol=1e-9)
    # a sort of every row costs far more than an argmax; a faster memory samples faster
    sort = econ.predict.sampling_step_s("top_p_sort", "h100-sxm", 512 * 128256)
    assert econ.predict.sampling_step_s("greedy", "h100-sxm", 512 * 128256) < sort / 20
    assert econ.predict.sampling_step_s("top_p_sort", "b200", 512 * 128256) < sort


def test_with_data_parallel_attention_each_rank_samples_its_own_sequences():
    kw = dict(n_devices=8, tp=8, ep=8, dp_attention=True, isl_tok=1000.0, osl_tok=1000.0,
              concurrency=256.0)
    r = predict_serving_with("deepseek-r1", "h200-sxm", "fp8", sampler="random", **kw)
    want = econ.predict.sampling_step_s("random", "h200-sxm",
                                        256.0 / 8 * econ.model_spec("deepseek-r1").n_vocab)
    np.testing.assert_allclose(r["sampling_s"], want, rtol=1e-12)


def test_the_recorded_sampling_line_reproduces_the_recorded_shapes():
    """The line through each sampler's recordings (least squares of the relative errors)
    predicts every recorded shape, one row to 2,048, within 10% at the median and 50% at
    worst (a sort of few rows departs most from a line)."""
    t = econ.data.load("gpu_timings").query("kernel == 'sampling'")
    assert set(t["variant"]) == set(econ.predict.SAMPLERS)
    for sampler, grp in t.groupby("variant"):
        assert len(grp) >= 40 and grp["m_dim"].min() == 1
        pred = econ.predict.sampling_step_s(sampler, "h200-sxm", grp["m_dim"] * grp["n_dim"])
        err = (pred / grp["median_s"] - 1.0).abs()
        assert err.median() < 0.10 and err.max() < 0.5, (sampler, err.describe())
    # the sort dominates: top-p costs several times temperature sampling per logit, and the
    # penalties add to it
    line = econ.predict.sampling_line
    assert line("top_p_sort")[1] > 5 * line("random")[1]
    assert line("top_p_sort_penalized")[1] > line("top_p_sort")[1]


def test_sampling_runs_in_every_step_and_once_per_prompt_in_a_prefill_pass():
    """The sampling is in the mean and the median step and in TTFT; a decode step samples q
    positions per sequence (MTP), a prefill pass one first token per prompt; an SRAM machine
    is priced at its datasheet (none), and sampling_step_s refuses one."""
    kw = dict(n_devices=8, tp=8, ep=8, dp_attention=True, isl_tok=1000.0, osl_tok=1000.0,
              concurrency=np.array([64.0, 256.0]), mtp_draft_tok=1)
    v = econ.model_spec("deepseek-r1").n_vocab
    b = kw["concurrency"] / 8
    plain = predict_serving_with("deepseek-r1", "h200-sxm", "fp8", **kw)
    for phase, rows in (("mixed", 2.0 * b), ("decode", 2.0 * b), ("prefill", b)):
        r = predict_serving_with("deepseek-r1", "h200-sxm", "fp8", sampler="random",
                                 phase=phase, **kw)
        p = predict_serving_with("deepseek-r1", "h200-sxm", "fp8", phase=phase, **kw)
        want = econ.predict.sampling_step_s("random", "h200-sxm", rows * v)
        np.testing.assert_allclose(r["sampling_s"], want, rtol=1e-12)
        np.testing.assert_allclose(r["step_s"] - p["step_s"], want, rtol=1e-9)
        if phase != "prefill":
            tps = r["step_s"] / r["tpot_s"]
            np.testing.assert_allclose((r["tpot_median_s"] - p["tpot_median_s"]) * tps, want,
                                       rtol=1e-9)
        if phase != "decode":
            assert np.all(r["ttft_s"] > p["ttft_s"])
    assert np.all(plain["sampling_s"] == 0.0)
    n = int(econ.sram_devices_to_hold("llama-3.1-70b", "groq-lpu", "bf16", tp=8,
                                      concurrency=1.0, isl_tok=100.0, osl_tok=100.0))
    g = dict(n_devices=n, tp=8, isl_tok=100.0, osl_tok=100.0, concurrency=1.0)
    sram = predict_serving_with("llama-3.1-70b", "groq-lpu", "bf16", **g)
    sram_sampled = predict_serving_with("llama-3.1-70b", "groq-lpu", "bf16", **g,
                                        sampler="top_p_sort")
    assert sram_sampled["sampling_s"] == 0.0 and sram_sampled["step_s"] == sram["step_s"]
    with pytest.raises(ValueError, match="SRAM"):
        econ.predict.sampling_step_s("greedy", "groq-lpu", 1e6)


def test_an_unknown_sampler_is_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="sampler.*top_p_sort"):
        predict_serving_with("llama-3.1-8b", "h100-sxm", "bf16", n_devices=1, tp=1,
                             isl_tok=100.0, osl_tok=100.0, concurrency=4.0, sampler="top_k")


def test_the_sampling_script_writes_loadable_timings_of_every_sampler(tmp_path):
    """tests/benchmarks/gpu_sampling.py --quick (on the CPU) writes rows in the layout of
    data/gpu_timings.csv, one per sampler and shape (needs torch; skipped without)."""
    pytest.importorskip("torch")
    t = quick_table("gpu_sampling", "gpu_timings", tmp_path)
    assert set(t["variant"]) == set(econ.predict.SAMPLERS)
    assert len(t) == 2 * 2 * len(econ.predict.SAMPLERS) and (t["kernel"] == "sampling").all()
    assert load_script("gpu_sampling").VARIANTS == econ.predict.SAMPLERS


def test_the_ledger_names_only_recorded_samplers():
    meta = yaml.safe_load((econ.data.DATA_DIR / "serving_benchmarks.yaml").read_text())
    assert tuple(meta["columns"]["sampler"]["allowed"]) == econ.predict.SAMPLERS
