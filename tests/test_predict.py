"""The serving level: predict_serving's signature, closed forms, queueing, errors, and its
error on the ledger rows it was never fitted to."""
import inspect

import numpy as np
import pytest

import econ
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
    tokens = 4 * (1 + 1000 / 1000)   # decode tokens plus the prompt share joining each step
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
    assert one["step_s"] == pytest.approx(one["compute_s"] + one["alltoall_s"])
    fill = two["alltoall_s"] / (58 * 2)
    assert two["step_s"] == pytest.approx(max(two["compute_s"], two["alltoall_s"]) + fill)
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
])
def test_bad_deployments_are_clear_errors(kw, match):
    args = dict(isl_tok=1000, osl_tok=1000, concurrency=64)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        predict_serving_with("deepseek-v3", "h200-sxm", "fp8", **args)
