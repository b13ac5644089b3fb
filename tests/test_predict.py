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
