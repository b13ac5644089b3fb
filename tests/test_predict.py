"""The serving level: predict_serving's signature, closed forms, queueing, errors, and its
error on the ledger rows it was never fitted to."""
import dataclasses
import inspect

import numpy as np
import pytest

import econ
from econ.calibrate import (
    STEP_CONSTANTS,
    ledger_error_summary,
    ledger_predictions,
    measured_copy_frac,
    recorded_step_predictions,
)
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


def test_error_on_rows_never_fitted_to():
    """The validation rows were never fitted to. Dense models: median error within the
    issue's 20%, on rows of three GPU types, for per-user speed and per-device throughput.
    Mixture-of-experts rows are not there yet (make calibrate prints the level); this guards
    the level reached so that it cannot silently get worse."""
    pred = ledger_predictions()
    summary = ledger_error_summary(pred, ("split",))
    by_arch = ledger_error_summary(pred, ("split", "architecture"))
    assert set(pred["split"]) >= {"fit", "validation"}
    assert summary.loc["validation", "n_rows"] >= 100
    dense = pred[(pred["split"] == "validation") & (pred["architecture"] == "dense")
                 & (pred["metric"] != "error")]
    assert by_arch.loc[("validation", "dense"), "median_error_frac"] <= 0.20
    assert dense["hardware"].nunique() >= 3
    assert set(dense["metric"]) == {"tpot_s", "output_tok_per_s_per_device"}
    assert by_arch.loc[("validation", "moe"), "n_rows"] >= 60
    assert by_arch.loc[("validation", "moe"), "median_error_frac"] < 0.60
    # the stated cache assumptions matter, and dropping them shows it
    plain = ledger_error_summary(ledger_predictions(assume_kv=False),
                                 ("split", "architecture"))
    assert plain.loc[("validation", "dense"), "median_error_frac"] > \
        by_arch.loc[("validation", "dense"), "median_error_frac"]
    # and a wrong constant shows: 20 ms more per step is far off
    srv = econ.serving_calibration()
    wrong = dataclasses.replace(srv, step_overhead_s=10 * srv.step_overhead_s + 20e-3)
    worse = ledger_error_summary(ledger_predictions(serving=wrong), ("split", "architecture"))
    assert worse.loc[("validation", "dense"), "median_error_frac"] > \
        by_arch.loc[("validation", "dense"), "median_error_frac"]


def test_recorded_steps_left_out_of_the_fit_are_predicted_within_15pct():
    """The kernel level at its fitted defaults against whole steps recorded on an H200 that
    the fit never saw: Llama-3.1-70B slices at tp 2, 4 and 8 (dense) and the DeepSeek-V3
    slice at ep=1 (MoE), decode and prefill, BF16: within 15% median overall and in each of
    the four groups (dense/MoE x decode/prefill)."""
    p = recorded_step_predictions()
    bf16 = p[p["weight_precision"] == "bf16"]
    held = bf16[bf16["split"] == "holdout"]
    assert set(held["arch"]) == {"llama-3.1-70b", "deepseek-v3"}
    assert set(held["phase"]) == {"decode", "prefill"}
    assert set(held.loc[held["arch"] == "llama-3.1-70b", "tp"]) == {2.0, 4.0, 8.0}
    assert held["error_frac"].median() <= 0.15
    by_group = held.groupby(["arch", "phase"])["error_frac"].median()
    assert len(by_group) == 4 and (by_group <= 0.15).all(), by_group
    assert bf16.loc[bf16["split"] == "fit", "error_frac"].median() <= 0.10
    # the fitted constants are physical: shares of the datasheet in (0, 1], a positive cost
    cal = econ.calibration()
    for name in STEP_CONSTANTS:
        assert getattr(cal, name) > 0, name
        if name.endswith("_frac"):
            assert getattr(cal, name) <= 1.0, name
    # no bandwidth share above what the recorded device's best copy reached
    assert cal.gemm_bandwidth_frac <= measured_copy_frac() * (1 + 1e-3)  # stored to 4 digits


def test_cost_table_is_the_chain_with_the_notebooks_defaults():
    from econ import serving_cost_table
    t = serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                           concurrency=[1, 64], isl_tok=1000, osl_tok=1000, usd_per_gpu_hour=2.0)
    u = float(econ.data.load("assumptions").loc["utilization_frac", "value"])
    assert (t["utilization_frac"] == u).all()
    r = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                             isl_tok=1000, osl_tok=1000, concurrency=np.array([1.0, 64.0]))
    np.testing.assert_allclose(t["output_usd_per_mtok"],
                               2.0 / u / (r["output_tok_per_s_per_device"] * 3600) * 1e6)
    # the default price is the hardware row's rental price
    d = serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                           concurrency=1, isl_tok=1000, osl_tok=1000)
    assert d["usd_per_gpu_hour"].iloc[0] == econ.data.row("hardware", "h100-sxm")[
        "rental_usd_per_hour"]


def test_command_line_answers_and_refuses_bad_names(capsys):
    from econ.cli import main
    assert main(["cost", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--gpus", "1",
                 "--usd-per-gpu-hour", "2", "--concurrency", "1,8"]) == 0
    out = capsys.readouterr().out
    assert "llama-3.1-8b fp8 on 1 x h100-sxm" in out and "$2 per GPU-hour" in out
    assert main(["cost", "--model", "no-such-model", "--hardware", "h100-sxm",
                 "--gpus", "1"]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_readme_cost_command_runs_as_written():
    import pathlib
    import re
    import shlex
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    cmd = re.search(r"^\.venv/bin/python -m econ cost.*?(?<!\\)\n", text, re.S | re.M).group(0)
    args = shlex.split(cmd.replace("\\\n", " "))
    args[0] = sys.executable
    out = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "output_usd_per_mtok" in out.stdout and "$" in out.stdout
