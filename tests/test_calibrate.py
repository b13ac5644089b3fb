"""The engine's validation helpers and measured efficiency in the cost model (econ.calibrate)."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

import econ
from econ.calibrate import (
    ACT_QUANT_VARIANTS,
    STEP_CONSTANTS,
    TARGET_ERROR_FRAC,
    _fp4_matmul_rows,
    _matmul_precision,
    _usable,
    act_quant_fixed_s,
    ledger_engine_limits,
    ledger_error_summary,
    ledger_predictions,
    measured_copy_frac,
    recorded_step_predictions,
)
from econ.predict import predict_serving_with


def _steps():
    return pd.DataFrame({
        "split": ["fit", "fit", "fit", "holdout", "holdout"],
        "weight_precision": ["bf16"] * 4 + ["fp8"],
        "arch": ["a", "a", "b", "a", "a"], "phase": "decode",
        "error_frac": [0.1, 0.3, 0.05, 0.2, 0.4]})


def test_step_error_summary_is_the_median_by_group():
    s = econ.step_error_summary(_steps())
    assert s.loc[("fit", "bf16", "a", "decode"), "median_error_frac"] == pytest.approx(0.2)
    assert s.loc[("fit", "bf16", "a", "decode"), "n_steps"] == 2
    assert s["n_steps"].sum() == 5
    by_split = econ.step_error_summary(_steps(), ("split",))
    assert by_split.loc["fit", "median_error_frac"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="recorded_step_predictions"):
        econ.step_error_summary(_steps().drop(columns="error_frac"))


def _ledger(errors, split=("fit", "validation", "validation", "validation")):
    return pd.DataFrame({"split": list(split), "metric": ["tpot_s"] * 3 + ["error"],
                         "error_frac": errors, "architecture": ["dense", "dense", "moe", "moe"],
                         "hardware": ["h100-sxm", "h100-sxm", "h200-sxm", "h200-sxm"]})


def test_kv_assumption_summary_sets_both_medians_side_by_side():
    with_kv = _ledger([0.1, 0.05, 0.15, np.nan])
    plain = _ledger([0.1, 0.3, 0.5, np.nan])
    s = econ.ledger_kv_assumption_summary(with_kv, plain)
    assert s.loc["validation", "median_error_frac"] == pytest.approx(0.10)
    assert s.loc["validation", "median_error_no_kv_assumption_frac"] == pytest.approx(0.40)
    assert s.loc["validation", "n_rows"] == 2  # the row the engine could not take is left out


def test_engine_validation_rows_add_the_error_without_kv_assumptions():
    steps = _steps().assign(split=["fit", "fit", "holdout", "holdout", "holdout"])
    rows = econ.engine_validation_rows(steps, _ledger([0.1, 0.05, 0.15, np.nan]),
                                       _ledger([0.1, 0.3, 0.5, np.nan]))
    by = {r["metric"]: r["value"] for r in rows if not r["subject"].endswith(("dense", "moe"))}
    assert by["validation_serving_error_frac"] == pytest.approx(0.10)
    assert by["validation_serving_error_no_kv_assumption_frac"] == pytest.approx(0.40)
    assert by["fitted_step_error_frac"] == pytest.approx(0.2)
    by_subject = {(r["metric"], r["subject"]): r["value"] for r in rows}
    assert by_subject[("validation_serving_error_frac", "predict_serving:ledger:dense")] == \
        pytest.approx(0.05)
    assert by_subject[("validation_serving_error_frac", "predict_serving:ledger:moe")] == \
        pytest.approx(0.15)  # the row the engine could not take is left out
    peers = _ledger([0.1, 0.05, 0.15, np.nan]).assign(peer="aiconfigurator",
                                                      peer_error_frac=[0.2, 0.4, 0.0, np.nan])
    with_peer = {(r["metric"], r["subject"]): r["value"] for r in econ.engine_validation_rows(
        steps, _ledger([0.1, 0.05, 0.15, np.nan]), peers=peers.iloc[:3])}
    assert with_peer[("peer_validation_serving_error_frac", "aiconfigurator:ledger")] == \
        pytest.approx(0.2)  # validation rows only: 0.4 and 0.0
    assert with_peer[("validation_serving_error_frac",
                      "predict_serving:ledger:shared-with-peer")] == pytest.approx(0.10)
    assert "validation_serving_error_no_kv_assumption_frac" not in {
        r["metric"] for r in econ.engine_validation_rows(steps, _ledger([0.1, 0.05, 0.15, 0]))}
    econ.results_frame("kernel_timings", rows)  # names carry their unit
    # by how the run held its load: bursts apart from the runs at a steady load
    held = _ledger([0.1, 0.05, 0.15, np.nan], split=["validation"] * 4).assign(
        scenario=["fixed_concurrency", "offline", "burst", "burst"])
    by_load = {r["subject"]: r["value"] for r in econ.engine_validation_rows(steps, held)
               if r["metric"] == "validation_serving_error_frac"}
    assert by_load["predict_serving:ledger:fixed-concurrency"] == pytest.approx(0.10)
    assert by_load["predict_serving:ledger:offline-or-batch"] == pytest.approx(0.05)
    assert by_load["predict_serving:ledger:burst"] == pytest.approx(0.15)
    assert "predict_serving:ledger:burst" not in {  # no scenario column: no split by load
        r["subject"] for r in econ.engine_validation_rows(steps, _ledger([0.1, 0.05, 0.15, 0]))}
    # served request by request: the rows ledger_predictions marks so, whatever else they
    # state (a closed loop with a length distribution but no request count is steady)
    rbr = pd.DataFrame({
        "split": "validation", "metric": "tpot_s", "architecture": "dense",
        "hardware": "h100-sxm", "error_frac": [0.1, 0.2, 0.3, 0.4, 0.5],
        "scenario": ["fixed_concurrency", "fixed_concurrency", "burst", "burst", "offline"],
        "length_distribution": ["uniform", "uniform", "sharegpt", None, None],
        "request_by_request": [True, False, True, False, False]})
    by_rbr = {r["subject"]: r["value"] for r in econ.engine_validation_rows(steps, rbr)
              if r["metric"] == "validation_serving_error_frac"}
    assert by_rbr["predict_serving:ledger:closed-loop-request-by-request"] == \
        pytest.approx(0.1)
    assert by_rbr["predict_serving:ledger:burst-request-by-request"] == pytest.approx(0.3)
    # weight-only matmuls apart, with the median ratio that says which way they miss
    wo = rbr.assign(weight_only_matmuls=[True, True, False, False, False],
                    ratio=[1.1, 1.2, 0.7, 1.4, 1.5])
    by_wo = {(r["metric"], r["subject"]): r["value"]
             for r in econ.engine_validation_rows(steps, wo)}
    sub = "predict_serving:ledger:weight-only-matmuls"
    assert by_wo[("validation_serving_error_frac", sub)] == pytest.approx(0.15)
    assert by_wo[("validation_measurements_count", sub)] == 2
    assert by_wo[("validation_predicted_to_measured_ratio", sub)] == pytest.approx(1.15)
    assert by_wo[("validation_serving_error_frac", "predict_serving:ledger:native-matmuls")] \
        == pytest.approx(0.4)
    econ.results_frame("kernel_timings", [r for r in econ.engine_validation_rows(steps, wo)
                                           if r["subject"].endswith("matmuls")])


def _cases(**kw):
    args = dict(model="deepseek-v3", hardware="h100-sxm", precision="fp8", context_tok=4989.0,
                batch_per_node=128, usd_per_gpu_hour=2.0, utilization_frac=0.6,
                assumed=(0.68, 0.9), measured=(0.7, 0.85))
    args.update(kw)
    return econ.efficiency_cost_cases(**args)


def test_efficiency_cases_layout_and_price_scaling():
    c = _cases()
    # 671B FP8 parameters are 671 GB: 9 H100s of 80 GB hold them, so two 8-GPU nodes
    assert c["devices_to_hold_count"].iloc[0] == 9 and c["n_nodes_count"].iloc[0] == 2
    assert c["n_devices_count"].iloc[0] == 16
    assert list(c.index) == ["datasheet", "assumed", "measured"]
    assert c.loc["datasheet", "flop_efficiency_frac"] == 1.0
    # a dollar-per-hour cost: twice the price, or half the busy hours, doubles every $/Mtok
    costs = ["decode_cost_usd_per_mtok", "prefill_cost_usd_per_mtok"]
    np.testing.assert_allclose(_cases(usd_per_gpu_hour=4.0)[costs], 2 * c[costs], rtol=1e-9)
    np.testing.assert_allclose(_cases(utilization_frac=0.3)[costs], 2 * c[costs], rtol=1e-9)
    # below the datasheet every cost is higher
    assert (c.loc[["assumed", "measured"], costs] > c.loc["datasheet", costs]).all().all()
    # a batch the cache cannot hold is capped at what it can
    big = _cases(batch_per_node=1e6)
    assert big["batch_per_node_count"].iloc[0] == big["max_batch_per_node_count"].iloc[0] < 1e6
    with pytest.raises(ValueError, match="assumed"):
        _cases(assumed=(0.5,))


def test_efficiency_sweep_agrees_with_the_cases_and_drops_batches_that_do_not_fit():
    c = _cases()
    sweep = econ.efficiency_cost_sweep("deepseek-v3", "h100-sxm", "fp8", 4989.0,
                                       [1, 128, 1e6], 2.0, 0.6, c)
    assert sorted(sweep["batch_per_node_count"].unique()) == [1.0, 128.0]
    at = sweep[sweep["batch_per_node_count"] == 128].set_index("case")
    np.testing.assert_allclose(at.loc[c.index, "decode_cost_usd_per_mtok"],
                               c["decode_cost_usd_per_mtok"], rtol=1e-9)
    one = sweep[sweep["batch_per_node_count"] == 1].set_index("case")
    assert (one["decode_cost_usd_per_mtok"] > at["decode_cost_usd_per_mtok"]).all()
    with pytest.raises(ValueError, match="none fits"):
        econ.efficiency_cost_sweep("deepseek-v3", "h100-sxm", "fp8", 4989.0, [1e6], 2.0, 0.6, c)


def test_peer_comparison_takes_the_rows_both_predict_and_the_matching_metric():
    pred = pd.DataFrame({"split": ["validation"] * 3, "architecture": ["dense", "moe", "moe"],
                         "metric": ["tok_per_s_per_user", "output_tok_per_s_per_device",
                                    "tok_per_s_per_user"],
                         "measured": [50.0, 100.0, 20.0], "predicted": [45.0, 90.0, 25.0],
                         "error_frac": [0.1, 0.1, 0.2]}, index=["a", "b", "c"])
    peers = pd.DataFrame({"peer": "aiconfigurator", "tpot_s": [0.018, np.nan],
                          "output_per_device_tok_per_s": [np.nan, 150.0]}, index=["a", "b"])
    c = econ.peer_comparison(pred, peers)
    assert list(c.index) == ["a", "b"]  # "c" has no peer prediction
    assert c.loc["a", "peer_predicted"] == pytest.approx(1 / 0.018)  # per-user speed: 1 / TPOT
    assert c.loc["b", "peer_predicted"] == pytest.approx(150.0)      # throughput against throughput
    assert c.loc["b", "peer_error_frac"] == pytest.approx(0.5)
    s = econ.peer_error_summary(c)
    assert s.loc[("validation", "moe"), "peer_median_error_frac"] == pytest.approx(0.5)
    assert s.loc[("validation", "dense"), "engine_median_error_frac"] == pytest.approx(0.1)


def _burst_rows(pred):
    """Predictions of the ledger's burst rows (scenario burst)."""
    scenario = econ.load("serving_benchmarks")["scenario"]
    return pred[pred.index.map(scenario).to_series(index=pred.index).eq("burst")]


def test_error_on_rows_never_fitted_to():
    """The validation rows were never fitted to. Dense models: median error within the
    issue's 20%, on rows of three GPU types, for per-user speed and per-device throughput.
    Mixture-of-experts rows are not there yet (make calibrate prints the level); this guards
    the level reached so that it cannot silently get worse."""
    every = ledger_predictions()
    pred = every[every["memory_kind"] != "sram"]     # the SRAM rows have their own test
    # burst rows (a batch sent at once, none replaced) are predicted at a steady concurrency
    # they hold only at the start; their level is guarded on its own below
    burst = _burst_rows(pred)
    pred = pred.drop(burst.index)
    summary = ledger_error_summary(pred, ("split",))
    by_arch = ledger_error_summary(pred, ("split", "architecture"))
    assert set(pred["split"]) >= {"fit", "validation"}
    assert summary.loc["validation", "n_rows"] >= 100
    dense = pred[(pred["split"] == "validation") & (pred["architecture"] == "dense")
                 & (pred["metric"] != "error")]
    assert by_arch.loc[("validation", "dense"), "median_error_frac"] <= 0.20
    assert dense["hardware"].nunique() >= 3
    assert set(dense["metric"]) == {"tok_per_s_per_user", "output_tok_per_s_per_device"}
    assert by_arch.loc[("validation", "moe"), "n_rows"] >= 60
    # per-user speed, not TPOT: a step predicted at half its time is 100% off, not 50%
    assert by_arch.loc[("validation", "moe"), "median_error_frac"] < 0.60
    # the burst rows' own level, so that it cannot silently get worse either
    burst_summary = ledger_error_summary(burst, ("split", "architecture"))
    assert burst_summary.loc[("validation", "dense"), "n_rows"] >= 40
    assert burst_summary.loc[("validation", "dense"), "median_error_frac"] < 1.0
    # the stated cache assumptions matter, and dropping them shows it
    plain = ledger_predictions(assume_kv=False)
    plain = plain[plain["memory_kind"] != "sram"]
    plain = ledger_error_summary(plain.drop(_burst_rows(plain).index), ("split", "architecture"))
    assert plain.loc[("validation", "dense"), "median_error_frac"] > \
        by_arch.loc[("validation", "dense"), "median_error_frac"]
    # and a wrong constant shows: 20 ms more per step is far off
    srv = econ.serving_calibration()
    wrong = dataclasses.replace(srv, step_overhead_s=10 * srv.step_overhead_s + 20e-3)
    worse = ledger_predictions(serving=wrong)
    worse = worse[worse["memory_kind"] != "sram"]
    worse = ledger_error_summary(worse.drop(_burst_rows(worse).index), ("split", "architecture"))
    assert worse.loc[("validation", "dense"), "median_error_frac"] > \
        by_arch.loc[("validation", "dense"), "median_error_frac"]


def test_recorded_steps_left_out_of_the_fit_are_predicted_within_15pct():
    """The kernel level at its fitted defaults against whole steps recorded on an H200 that
    the fit never saw: Llama-3.1-70B slices at tp 2, 4 and 8 (dense) and the DeepSeek-V3
    slice at ep=1 (MoE), decode and prefill, BF16: within 15% median overall and in each of
    the four groups (dense/MoE x decode/prefill)."""
    p = recorded_step_predictions()
    bf16 = p[p["weight_precision"] == "bf16"]
    held = bf16[(bf16["split"] == "holdout") & ~bf16["arch"].str.startswith("qwen3")]
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


def test_qwen3_moe_steps_an_architecture_the_fit_never_saw():
    """Qwen3-MoE (GQA attention, 128 routed experts, no shared expert), recorded on an H200
    and never fitted: Qwen3-30B-A3B whole on one GPU and the Qwen3-235B-A22B slice at ep=8
    within 10% median in decode, 20% in prefill. The slice at tp=8 cuts each expert to 192
    columns; there the harness's grouped matmuls (torch._grouped_mm) run far below the rate
    the engine charges, so its steps take longer than predicted, prefill most: that gap is
    recorded, not fitted away (engines' MoE kernels do not show it in the ledger). Every
    Qwen3 step is predicted short (no layer has a shared expert, so none of its kernels is
    charged; the harness's routed experts cost more than the layer's named kernels)."""
    p = recorded_step_predictions()
    q = p[p["arch"].str.startswith("qwen3")]
    assert (q["split"] == "holdout").all()
    g = q.groupby(["arch", "phase", "tp", "ep"])
    err, ratio = g["error_frac"].median(), g["ratio"].median()
    assert err[("qwen3-30b-a3b", "decode", 1.0, 1.0)] <= 0.10
    assert err[("qwen3-30b-a3b", "prefill", 1.0, 1.0)] <= 0.20
    assert err[("qwen3-235b-a22b-2507", "decode", 1.0, 8.0)] <= 0.10
    assert err[("qwen3-235b-a22b-2507", "prefill", 1.0, 8.0)] <= 0.10
    assert err[("qwen3-235b-a22b-2507", "decode", 8.0, 1.0)] <= 0.20
    assert ratio[("qwen3-235b-a22b-2507", "decode", 8.0, 1.0)] < 0.9
    assert ratio[("qwen3-235b-a22b-2507", "prefill", 8.0, 1.0)] < 0.6
    assert (ratio < 1.0).all()


def test_same_setup_spread_groups_one_setup_measured_by_several_engines():
    ledger = pd.DataFrame({
        "hardware": ["h200-sxm"] * 3 + ["mi300x"], "model": "m", "tp_devices": 8.0,
        "concurrency_count": 4.0, "ep_devices": np.nan, "dp_attention": "false",
        "source": ["a", "b", "b", "a"], "framework": ["x", "y", "y", "x"],
        "framework_version": ["1", "2", "3", "1"], "isl_tok": 1000.0, "osl_tok": 1000.0},
        index=["r1", "r2", "r3", "r4"])
    pred = pd.DataFrame({"metric": "tok_per_s_per_user", "measured": [100.0, 50.0, 20.0, 30.0],
                         "predicted": 50.0}, index=ledger.index)
    pred["ratio"] = pred["predicted"] / pred["measured"]
    out = econ.ledger_same_setup_spread(pred, ledger)
    # the MI300X row is one engine alone: left out; the H200 setup has three engines
    assert sorted(out.index) == ["r1", "r2", "r3"]
    assert out["spread_ratio"].tolist() == pytest.approx([5.0] * 3)
    # the ledger's own: DeepSeek-R1 on 8 H200 at concurrency 4 is measured by several engines
    real = econ.ledger_same_setup_spread()
    h200 = real[(real["hardware"] == "h200-sxm") & (real["concurrency_count"] == 4)]
    assert h200["framework_version"].nunique() >= 3
    assert (h200["spread_ratio"] > 2.0).all()


def test_sram_rows_are_predicted_and_kept_apart():
    """The Groq and Cerebras per-user speeds (validation only) are predicted on the chips the
    frontier would buy, with what was assumed said; the CS-3 needs its unpublished dense
    peak, and without it its rows are errors that say so. A GPU-fitted constant does not
    move them; they stay out of the GPU medians and get their own validation row."""
    pred = ledger_predictions()
    sram = pred[pred["memory_kind"] == "sram"]
    ledger = econ.data.load("serving_benchmarks")
    want = ledger.index[ledger["source"].isin(["groq", "cerebras"])
                        & ledger["model"].isin(econ.data.load("models").index)]
    assert set(sram.index) == set(want)
    assert (sram["split"] == "validation").all()
    groq = sram[sram["hardware"] == "groq-lpu"]
    assert (groq["metric"] == "tok_per_s_per_user").all()
    np.testing.assert_allclose(groq["measured"],
                               ledger.loc[groq.index, "per_user_tok_per_s"])
    assert groq["note"].str.contains("devices").all()
    r = ledger.loc["groq-llama-3.1-70b"]
    n = econ.sram_devices_to_hold("llama-3.1-70b", "groq-lpu", "bf16", tp=8, concurrency=1.0,
                                  isl_tok=1000.0, osl_tok=1000.0)
    p = econ.predict_serving("llama-3.1-70b", "groq-lpu", "bf16", n_devices=int(n), tp=8,
                             concurrency=1.0, isl_tok=1000.0, osl_tok=1000.0)
    assert groq.loc["groq-llama-3.1-70b", "predicted"] == pytest.approx(
        float(p["tok_per_s_per_user"]))
    assert r["per_user_tok_per_s"] == groq.loc["groq-llama-3.1-70b", "measured"]
    assert "speculative" in groq.loc["groq-llama-3.1-70b-specdec", "note"]
    cs3 = sram[sram["hardware"] == "cerebras-cs3"]
    assert (cs3["metric"] == "error").all()
    assert cs3["note"].str.contains("peak_bf16_flop_per_s").all()
    with_peak = ledger_predictions(
        hardware_overrides={"cerebras-cs3": {"peak_bf16_flop_per_s": 1.5e16}})
    cs3 = with_peak[(with_peak["memory_kind"] == "sram")
                    & (with_peak["hardware"] == "cerebras-cs3")]
    assert (cs3["metric"] == "tok_per_s_per_user").all() and (cs3["predicted"] > 0).all()
    # GPU-fitted constants are not applied to SRAM machines
    srv = econ.serving_calibration()
    wrong = ledger_predictions(serving=dataclasses.replace(srv, step_overhead_s=0.1))
    np.testing.assert_allclose(wrong.loc[groq.index, "predicted"], groq["predicted"])
    # kept out of the GPU medians, reported on their own
    steps = _steps().assign(split=["fit", "fit", "holdout", "holdout", "holdout"])
    rows = {(x["metric"], x["subject"]): x["value"]
            for x in econ.engine_validation_rows(steps, with_peak)}
    ok = with_peak[with_peak["metric"] != "error"]
    gpu_val = ok[(ok["memory_kind"] != "sram") & (ok["split"] == "validation")]
    assert rows[("validation_serving_error_frac", "predict_serving:ledger")] == pytest.approx(
        gpu_val["error_frac"].median())
    sram_ok = ok[ok["memory_kind"] == "sram"]
    assert rows[("validation_serving_error_frac", "predict_serving:ledger:sram")] == \
        pytest.approx(sram_ok["error_frac"].median())


def test_sram_ledger_predictions_are_the_sram_rows_of_the_ledger_predictions():
    cs3 = {"cerebras-cs3": {"peak_bf16_flop_per_s": 1.5e16}}
    only = econ.sram_ledger_predictions(cs3)
    every = ledger_predictions(hardware_overrides=cs3)
    pd.testing.assert_frame_equal(only, every.loc[only.index])
    assert set(only["memory_kind"]) == {"sram"}


def test_validation_rows_state_how_far_engines_measuring_one_setup_disagree():
    rows = {(r["metric"], r["subject"]): r for r in econ.engine_validation_rows(
        _steps().assign(split=["fit", "fit", "holdout", "holdout", "holdout"]),
        ledger_predictions())}
    row = rows[("same_workload_tpot_spread_ratio", "ledger:engines")]
    spread = econ.ledger_same_setup_spread()
    assert row["value"] == pytest.approx(spread["spread_ratio"].max())
    top = spread.loc[spread["spread_ratio"].idxmax()]
    # the setup it names: every engine's TPOT of it, largest over smallest
    same = spread[(spread[["hardware", "concurrency_count", "isl_tok", "osl_tok"]]
                   == top[["hardware", "concurrency_count", "isl_tok", "osl_tok"]]).all(axis=1)]
    assert row["value"] == pytest.approx(same["measured"].max() / same["measured"].min())
    assert top["hardware"] in row["verdict"] and row["value"] > 1.5


def test_fp4_share_fitted_on_fit_rows_predicts_the_fp4_rows_never_fitted_to():
    """The FP4 share is the fit rows' optimum (with the stored host costs) and improves
    them; the FP4 rows never fitted to stay within the serving target at it, and the
    datasheet rate does not do markedly better on them (about 20% both, with ML.ENERGY's
    sampling charged): since the host cost per sequence (fitted jointly) prices the large
    batches these rows run, the share no longer stands in for it, and the stored note says
    so. Its gain on the fit rows is smaller since their output lengths' spread is charged
    (9.7% against 12.3% at the datasheet rate; 23% against 30% before): MLPerf's
    DeepSeek-R1 rows had been predicted fast for their short contexts, not their FP4."""
    x, n = econ.fit_fp4_matmul_frac()
    assert 0.05 < x <= 1.0 and n >= 40
    assert x == pytest.approx(econ.serving_calibration().fp4_matmul_frac, abs=0.01)
    ledger = econ.load("serving_benchmarks")
    # the rows whose matmuls run in FP4 (FP4 weights on a GPU without FP4 units run BF16)
    fp4 = ledger.index[_fp4_matmul_rows(ledger)]
    srv = econ.serving_calibration()

    def errors(frac):
        p = ledger_predictions(serving=dataclasses.replace(srv, fp4_matmul_frac=frac))
        return ledger_error_summary(p[p.index.isin(fp4)])["median_error_frac"]

    at_fit, at_datasheet = errors(x), errors(1.0)
    assert at_fit["fit"] < at_datasheet["fit"] - 0.02
    assert at_fit["validation"] <= TARGET_ERROR_FRAC
    assert at_fit["validation"] <= at_datasheet["validation"] + 0.02


def test_host_cost_per_sequence_fitted_on_fit_rows_improves_rows_never_fitted_to():
    """The host costs of a step are the fit rows' least-squares optimum (a fixed point of
    the search from the stored values), nonnegative, and the cost per sequence, fitted to
    InferenceX and MLPerf rows only, improves the validation rows too: at 0 the median over
    all of them, and over MoE throughputs, is worse. (By less since the ML.ENERGY rows'
    sampling is charged on its own: at 0 the per-sequence cost no longer hides it; since
    the spread of the rows' output lengths is: the long contexts of MLPerf's DeepSeek-R1
    rows no longer rest on it, and the fitted cost fell from 19 to 12 us; and since the
    MLPerf rows run under the batch and token caps their configurations state.)"""
    srv = econ.serving_calibration()
    host, n = econ.fit_host_overheads(rounds=1)
    assert n >= 100
    assert host["seq_overhead_s"] == pytest.approx(srv.seq_overhead_s, rel=0.02)
    assert host["step_overhead_s"] == pytest.approx(srv.step_overhead_s, abs=20e-6)
    assert 1e-6 < srv.seq_overhead_s < 1e-4 and srv.step_overhead_s >= 0

    def summary(seq_s):
        p = ledger_predictions(serving=dataclasses.replace(srv, seq_overhead_s=seq_s))
        p = p[p["memory_kind"] != "sram"]
        return (ledger_error_summary(p)["median_error_frac"],
                ledger_error_summary(p, ("split", "architecture", "metric"))["median_error_frac"])

    (fitted, by_fitted), (none, by_none) = summary(srv.seq_overhead_s), summary(0.0)
    assert fitted["fit"] < none["fit"] - 0.02
    assert fitted["validation"] < none["validation"] - 0.005
    moe = ("validation", "moe", "output_tok_per_s_per_device")
    assert by_fitted[moe] < by_none[moe] - 0.01
    # the cost is a step's: its output names it, and it grows with the batch
    r = econ.predict_serving("llama-3.1-8b", "h100-sxm", "bf16", n_devices=1, tp=1,
                             isl_tok=1000, osl_tok=1000, concurrency=np.array([1.0, 64.0]))
    np.testing.assert_allclose(r["overhead_s"],
                               srv.step_overhead_s + srv.seq_overhead_s * np.array([1.0, 64.0]))


def test_ledger_rows_run_under_their_engines_scheduler_limits():
    ledger = econ.load("serving_benchmarks")
    stock = ledger[(ledger["framework"] == "vllm") & (ledger["framework_version"] == "0.11.0")
                   & (ledger["scenario"] == "burst") & ledger["prefill_chunk_tok"].isna()]
    a100 = stock[stock["hardware"] == "a100-sxm-80gb"].iloc[0]
    assert ledger_engine_limits(a100) == dict(max_running_requests=256.0,
                                              prefill_chunk_tok=2048.0)
    h100 = stock[stock["hardware"] == "h100-sxm"].iloc[0]
    assert ledger_engine_limits(h100) == dict(max_running_requests=1024.0,
                                              prefill_chunk_tok=8192.0)
    assert ledger_engine_limits(h100, engine_limits=False) == dict(
        max_running_requests=None, prefill_chunk_tok=None)
    # a run's own setting wins over the default
    own = ledger[ledger["prefill_chunk_tok"].notna() & (ledger["framework"] == "vllm")
                 & (ledger["framework_version"] == "0.11.0")].iloc[0]
    assert ledger_engine_limits(own)["prefill_chunk_tok"] == own["prefill_chunk_tok"]
    # MLPerf harnesses set their own batches: no engine default applies to their rows, and
    # the limits their configurations state are the ones they run under
    mlperf = ledger[ledger["source"].str.startswith("mlperf")]
    stated = mlperf["prefill_chunk_tok"].notna()
    assert stated.sum() >= 50 and (stated == mlperf["max_running_requests_count"].notna()).all()
    assert all(ledger_engine_limits(r) == dict(
        max_running_requests=r["max_running_requests_count"] if ok else None,
        prefill_chunk_tok=r["prefill_chunk_tok"] if ok else None)
        for ok, (_, r) in zip(stated, mlperf.iterrows()))
    # and the limits bring the rows they apply to closer to what was measured
    with_, without = ledger_predictions(), ledger_predictions(engine_limits=False)
    moved = with_.index[(with_["predicted"] != without["predicted"]).to_numpy()]
    assert len(moved) > 50
    assert with_.loc[moved, "error_frac"].median() < \
        without.loc[moved, "error_frac"].median() - 0.05


def test_target_cells_per_gpu_type_by_hand():
    pred = pd.DataFrame({
        "split": "validation", "metric": ["tok_per_s_per_user", "output_tok_per_s_per_device"] * 4
        + ["tok_per_s_per_user"], "memory_kind": "hbm",
        "hardware": ["a"] * 4 + ["b"] * 4 + ["c"],
        "architecture": ["dense", "dense", "moe", "moe"] * 2 + ["dense"],
        "error_frac": [0.1, 0.15, 0.2, 0.05, 0.1, 0.1, 0.3, 0.1, 0.01]})
    cells = econ.ledger_target_cells(pred)
    assert list(cells.index) == ["c", "a", "b"]            # by the worst cell
    assert cells.loc["a", "within_target"] and cells.loc["a", "worst_error_frac"] == 0.2
    assert not cells.loc["b", "within_target"]              # MoE per-user 30%
    assert not cells.loc["c", "within_target"] and cells.loc["c", "n_cells"] == 1
    assert cells.loc["a", "fewest_measurements_count"] == 1.0
    assert cells.loc["a", "moe:tok_per_s_per_user"] == 0.2
    with pytest.raises(ValueError, match="target_frac"):
        econ.ledger_target_cells(pred, target_frac=1.5)


def test_burst_runs_busiest_second_against_the_decode_rate_at_their_load():
    """Burst runs (every request sent at once) whose client printed the busiest second: that
    second is set against the engine's decode rate at the run's load, the run's average
    against the in-flight-batching prediction ledger_predictions makes. The decode rate is
    closer to the busiest second than the in-flight prediction is to the averages, which
    also count the prompts computed first and the drain at the end. Where the run's lengths
    spread as its client fixes them (length_distribution), ledger_predictions serves the run
    request by request, tail included, and predicts its average better than the steady state
    at the run's load does."""
    peaks = econ.ledger_peak_predictions()
    ledger = econ.load("serving_benchmarks")
    assert len(peaks) >= 100 and (peaks["split"] == "validation").all()
    runs = ledger.loc[peaks.index]
    assert (runs["scenario"] == "burst").all() and runs["peak_output_tok_per_s"].notna().all()
    np.testing.assert_allclose(peaks["measured"],
                               runs["peak_output_tok_per_s"] / runs["n_devices"])
    np.testing.assert_allclose(peaks["average_measured"], runs["output_per_device_tok_per_s"])
    # the average side is ledger_predictions' own prediction of those rows
    pred = ledger_predictions(runs)
    pred = pred[pred["metric"] == "output_tok_per_s_per_device"]
    np.testing.assert_allclose(peaks["average_predicted"], pred.loc[peaks.index, "predicted"])
    # the decode rate, by hand for one run: the decode phase at the run's load and limits
    key = peaks.index[0]
    r = runs.loc[key]
    one = predict_serving_with(
        r["model"], r["hardware"], r["weight_precision"], n_devices=int(r["n_devices"]),
        tp=int(r["tp_devices"]), ep=int(r["ep_devices"]) if np.isfinite(r["ep_devices"]) else 1,
        dp_attention=str(r["dp_attention"]).lower() == "true", isl_tok=r["isl_tok"],
        osl_tok=r["osl_tok"], concurrency=r["concurrency_count"],
        kv_precision=econ.ledger_kv_precision(r, True), phase="decode",
        compute_precision=_matmul_precision(r, econ.load("hardware")),
        **ledger_engine_limits(r))
    assert peaks.loc[key, "predicted"] == pytest.approx(float(one["output_tok_per_s_per_device"]))
    # no prompts share a decode-only step: never slower than the in-flight prediction
    assert (peaks["predicted"] >= peaks["average_predicted"] * (1 - 1e-9)).all()
    spread = runs["length_distribution"].notna()
    assert spread.sum() >= 50
    steady = ledger_predictions(runs.assign(length_distribution=np.nan))
    steady = steady[steady["metric"] == "output_tok_per_s_per_device"]
    assert peaks.loc[spread, "average_error_frac"].median() < 0.35
    assert peaks.loc[spread, "average_error_frac"].median() \
        < steady.loc[spread[spread].index, "error_frac"].median() - 0.3


def test_ledger_isl_tok_takes_the_published_length_before_the_assumed_one():
    ledger = pd.DataFrame({"isl_tok": [1000.0, np.nan, np.nan],
                           "assumed_isl_tok": [215.2, 215.2, np.nan]})
    isl = econ.ledger_isl_tok(ledger)
    assert isl.iloc[0] == 1000.0 and isl.iloc[1] == 215.2 and np.isnan(isl.iloc[2])
    assert econ.ledger_isl_tok(ledger.drop(columns="assumed_isl_tok")).isna().sum() == 2


def test_a_row_with_an_assumed_input_length_is_predicted_and_says_so():
    ledger = econ.load("serving_benchmarks")
    key = ledger.index[ledger["assumed_isl_tok"].notna()][0]
    pred = econ.ledger_predictions(ledger.loc[[key]])
    assert (pred["metric"] != "error").all() and len(pred) == 2
    assert pred["note"].str.contains("input length assumed").all()
    # without the assumption the row has no length and is not predicted
    bare = ledger.loc[[key]].assign(assumed_isl_tok=np.nan)
    assert _usable(bare).empty


def test_isl_assumption_summary_at_factor_one_repeats_the_assumed_errors():
    ledger = econ.load("serving_benchmarks")
    keys = ledger.index[ledger["assumed_isl_tok"].notna()][:6]
    pred = econ.ledger_predictions(ledger.loc[keys])
    out = econ.ledger_isl_assumption_summary(pred, ledger.loc[keys], factors=(1.0, 4.0),
                                             by=("split", "metric"))
    assert (out["n_rows"] == 6).all()
    np.testing.assert_allclose(out["median_error_isl_x1_frac"], out["median_error_frac"],
                               rtol=1e-9)
    assert not np.allclose(out["median_error_isl_x4_frac"], out["median_error_frac"])
    for bad in [(0.0,), (2.0, 0.0), (np.nan,), ("two",), 2.0, None, (), (2.0, 2.0)]:
        with pytest.raises(ValueError, match="factors"):
            econ.ledger_isl_assumption_summary(pred, ledger.loc[keys], factors=bad)
    with pytest.raises(ValueError, match="pred lacks"):
        econ.ledger_isl_assumption_summary(pred, ledger.loc[keys], by=("no_such_column",))
    # rows with no assumed length are not part of it: no rows, the same columns
    empty = econ.ledger_isl_assumption_summary(pred, ledger.loc[keys].assign(
        assumed_isl_tok=np.nan), factors=(1.0, 4.0))
    assert empty.empty and list(empty.columns) == list(out.columns)


def test_isl_assumption_summary_predicts_under_the_callers_options():
    ledger = econ.load("serving_benchmarks")
    keys = ledger.index[ledger["assumed_isl_tok"].notna()][:4]
    srv = econ.serving_calibration(step_overhead_s=0.02)
    pred = econ.ledger_predictions(ledger.loc[keys], serving=srv)
    out = econ.ledger_isl_assumption_summary(pred, ledger.loc[keys], factors=(1.0,),
                                             by=("metric",), serving=srv)
    np.testing.assert_allclose(out["median_error_isl_x1_frac"], out["median_error_frac"],
                               rtol=1e-9)


@pytest.mark.parametrize("column, slower", [("sampler", True), ("osl_cv_ratio", True),
                                             ("fresh_start_window_tok", False),
                                             ("requests_count", None)])
def test_stated_summary_sets_the_stated_rows_beside_their_prediction_without(column, slower):
    """The rows that state a sampler, how their output lengths spread, a measurement from
    a fresh start, or a closed loop's request count, predicted as stated and again without:
    the sampling and the longer contexts of a spread each slow every such step (without them
    each prediction is faster); the younger requests of a fresh start speed them up; a
    closed loop served request by request has a ramp-up and a drain, which change both
    figures either way."""
    ledger = econ.load("serving_benchmarks")
    keys = ledger.index[ledger[column].notna()][:6]
    rows = ledger.loc[keys]
    pred = econ.ledger_predictions(rows)
    out = econ.ledger_stated_summary(pred, column, rows, by=("split", "metric"))
    assert out["n_rows"].sum() == len(pred[pred["metric"] != "error"])
    plain = econ.ledger_predictions(rows.assign(**{column: None}))
    if slower is None:
        assert pred["request_by_request"].all() and not plain["request_by_request"].any()
        assert (np.abs(plain["predicted"] / pred["predicted"] - 1.0) > 1e-3).all()
    elif slower:
        assert (plain["predicted"] > pred["predicted"]).all()
    else:
        assert (plain["predicted"] < pred["predicted"]).all()
    want = econ.ledger_error_summary(plain, ("split", "metric"))["median_error_frac"]
    np.testing.assert_allclose(out["median_error_unstated_frac"], want, rtol=1e-12)
    with pytest.raises(ValueError, match="pred lacks"):
        econ.ledger_stated_summary(pred, column, rows, by=("no_such_column",))
    empty = econ.ledger_stated_summary(pred, column, rows.assign(**{column: None}))
    assert empty.empty and list(empty.columns) == list(out.columns)
    with pytest.raises(ValueError, match="column must be one of"):
        econ.ledger_stated_summary(pred, "notes", rows)


def test_rows_of_one_setup_predicted_together_are_each_predicted_as_alone():
    """ledger_predictions groups the rows of one setup into one vectorized call over the
    arguments they differ in (load, lengths, spread, window): each row's prediction is the
    one its own arguments give."""
    from econ.calibrate import _predicted_per_user_tok_per_s, _row_arguments, _usable
    from econ.predict import predict_serving_with
    ledger = econ.load("serving_benchmarks")
    rows = ledger[(ledger["source"] == "ml-energy-leaderboard")
                  & (ledger["model"] == "qwen3-8b") & (ledger["hardware"] == "h100-sxm")]
    assert rows["osl_cv_ratio"].nunique() > 3 and rows["fresh_start_window_tok"].nunique() > 3
    pred = econ.ledger_predictions(rows)
    hardware = econ.load("hardware")
    for key, r in _usable(rows).iterrows():
        kw, _ = _row_arguments(r, hardware)
        alone = predict_serving_with(**kw)
        got = pred.loc[[key]].set_index("metric")["predicted"]
        want = {"output_tok_per_s_per_device": alone["output_tok_per_s_per_device"],
                "tok_per_s_per_user": _predicted_per_user_tok_per_s(r, alone)}
        for metric, v in got.items():
            assert v == pytest.approx(float(want[metric]), rel=1e-9), (key, metric)


def test_a_row_without_a_published_spread_takes_every_request_at_the_mean():
    assert econ.ledger_osl_cv_ratio(pd.Series({"osl_cv_ratio": np.nan})) == 0.0
    assert econ.ledger_osl_cv_ratio(pd.Series({"osl_cv_ratio": None})) == 0.0
    assert econ.ledger_osl_cv_ratio(pd.Series({"other": 1.0})) == 0.0
    assert econ.ledger_osl_cv_ratio(pd.Series({"osl_cv_ratio": 1.253})) == 1.253
    # a burst served request by request carries its own lengths: no spread charged on top
    ledger = econ.load("serving_benchmarks")
    burst = ledger[ledger["length_distribution"].notna()].iloc[:2]
    np.testing.assert_allclose(
        econ.ledger_predictions(burst.assign(osl_cv_ratio=1.0))["predicted"],
        econ.ledger_predictions(burst)["predicted"])


def test_a_published_length_equal_to_an_assumed_one_is_not_called_assumed():
    ledger = econ.load("serving_benchmarks")
    key = ledger.index[ledger["assumed_isl_tok"].notna()][0]
    row = ledger.loc[[key]]
    published = row.assign(isl_tok=row["assumed_isl_tok"])
    pred = econ.ledger_predictions(published)
    assert not pred["note"].str.contains("input length assumed").any()
    np.testing.assert_allclose(pred["predicted"],
                               econ.ledger_predictions(row)["predicted"], rtol=1e-12)


def _act_quant_timings(fixed_s, cal):
    """Chains recorded on the H200 machine whose quantizations add exactly ``fixed_s`` plus
    their bytes at the matmul bandwidth share."""
    machine = econ.data.load("gpu_timings").query("kernel == 'act_quant'")["machine"].iloc[0]
    bw = econ.data.row("hardware", "h200-sxm")["memory_bytes_per_s"] * cal.gemm_bandwidth_frac
    rows = []
    for m, k in ((1, 4096), (256, 8192), (4096, 8192)):
        mm = 1e-5 * (1 + m / 256)
        rows.append(dict(machine=machine, kernel="act_quant", variant="fp8_linear",
                         m_dim=float(m), n_dim=float(k), k_dim=float(k), median_s=mm))
        for variant, nbytes in ACT_QUANT_VARIANTS.items():
            rows.append(dict(machine=machine, kernel="act_quant", variant=variant,
                             m_dim=float(m), n_dim=float(k), k_dim=float(k),
                             median_s=mm + fixed_s[variant] + m * k * nbytes / bw))
    return pd.DataFrame(rows)


def test_act_quant_fixed_time_is_what_a_quantization_adds_beyond_its_bytes():
    cal = econ.calibration()
    fixed = {"fp8_linear_fused_quant": 2e-6, "fp8_linear_eager_quant": 15e-6}
    t = _act_quant_timings(fixed, cal)
    for variant, value in fixed.items():
        got, n = act_quant_fixed_s(variant, timings=t, step_calibration=cal)
        assert n == 3 and got == pytest.approx(value, rel=1e-9)
    with pytest.raises(ValueError, match="variant"):
        act_quant_fixed_s("fp8_linear", timings=t)
    with pytest.raises(ValueError, match="no act_quant rows"):
        act_quant_fixed_s(timings=t[t["variant"] != "fp8_linear"])
    with pytest.raises(ValueError, match="'nowhere'.*gpu_machines"):
        act_quant_fixed_s(timings=t.assign(machine="nowhere"))
    # the bytes count: the same chains at twice the bytes per element leave a fixed time
    # that grows with the rows, so its median moves (the subtraction is not a no-op)
    doubled = t.assign(median_s=t["median_s"] + np.where(
        t["variant"] == "fp8_linear_fused_quant",
        t["m_dim"] * t["k_dim"] * ACT_QUANT_VARIANTS["fp8_linear_fused_quant"]
        / (econ.data.row("hardware", "h200-sxm")["memory_bytes_per_s"]
           * cal.gemm_bandwidth_frac), 0.0))
    assert act_quant_fixed_s(timings=doubled, step_calibration=cal)[0] > 2e-6 * 1.5


def test_stored_act_quant_time_is_the_recorded_one_and_explains_the_harness_fp8_steps():
    """The stored constant is what the recorded kernels give (make calibrate writes it), a
    few microseconds, far below a step's per-kernel time; charging every matmul of the
    harness its own eager quantization at the recorded cost predicts its FP8 decode steps,
    never fitted, within 15% median in each architecture (without it they are 27-41%
    off)."""
    cal = econ.calibration()
    assert cal.act_quant_kernel_s == pytest.approx(act_quant_fixed_s()[0], rel=1e-3)
    assert 0 < cal.act_quant_kernel_s < cal.kernel_fixed_s
    p = recorded_step_predictions()
    fp8 = p[(p["weight_precision"] == "fp8") & (p["phase"] == "decode")]
    assert (fp8["split"] == "holdout").all()
    by_arch = fp8.groupby("arch")["error_frac"].median()
    assert len(by_arch) == 3 and (by_arch <= 0.15).all(), by_arch
    plain = recorded_step_predictions(act_quant=False)
    plain = plain[(plain["weight_precision"] == "fp8") & (plain["phase"] == "decode")]
    assert (plain.groupby("arch")["error_frac"].median() > 0.25).all()


def test_a_median_inter_token_latency_is_predicted_as_the_median_step():
    """A row whose latency statistic is a median (a median inter-token gap) is compared
    with the median step; the same row stated as a mean with the mean step."""
    led = econ.data.load("serving_benchmarks")
    key = "mlenergy-chat-llama-3.1-70b-instruct-h100-n4-mns1024"
    assert led.loc[key, "statistic"] == "median"
    row = led.loc[[key]]
    kwargs, _ = econ.calibrate._row_arguments(_usable(row).iloc[0],
                                              econ.data.load("hardware"))
    p = predict_serving_with(**kwargs)
    assert p["tpot_median_s"] < p["tpot_s"]      # the prompts' share shows here

    def per_user(rows):
        pred = ledger_predictions(rows)
        return float(pred.loc[pred["metric"] == "tok_per_s_per_user", "predicted"].iloc[0])

    assert per_user(row) == pytest.approx(1.0 / float(p["tpot_median_s"]), rel=1e-9)
    assert per_user(row.assign(statistic="mean")) == pytest.approx(1.0 / float(p["tpot_s"]),
                                                                   rel=1e-9)
    note = ledger_predictions(row)["note"].iloc[0]
    assert "median step" in note
    # a median burst predicted request by request keeps the run's mean
    burst = led[(led["statistic"] == "median") & (led["scenario"] == "burst")
                & led["length_distribution"].notna()].iloc[[0]]
    pred = ledger_predictions(burst)
    assert "median step" not in pred["note"].iloc[0]
    kwargs, _ = econ.calibrate._row_arguments(_usable(burst).iloc[0],
                                              econ.data.load("hardware"))
    b = econ.calibrate._run_prediction(_usable(burst).iloc[0], kwargs)
    assert per_user(burst) == pytest.approx(float(b["tok_per_s_per_user"]), rel=1e-9)


def test_rows_of_one_setup_are_predicted_together_and_fail_alone():
    """Rows that differ only in load and lengths share one vectorized call, with the same
    predictions as one by one; a row that cannot be served (its request fits nowhere) gets
    its own error row and leaves the others of its setup predicted."""
    led = econ.data.load("serving_benchmarks")
    keys = [k for k in led.index if k.startswith("mlenergy-chat-llama-3.1-70b-instruct-h100-n4")]
    rows = led.loc[keys[:3]]
    bad = led.loc[[keys[0]]].rename(index={keys[0]: "too-long"}).assign(isl_tok=5e6)
    together = ledger_predictions(pd.concat([rows, bad]))
    one_by_one = pd.concat([ledger_predictions(led.loc[[k]]) for k in keys[:3]])
    pd.testing.assert_frame_equal(together.drop(index="too-long"), one_by_one)
    err = together.loc[["too-long"]]
    assert list(err["metric"]) == ["error"] and "fits" in err["note"].iloc[0]


def test_the_recording_script_counts_the_bytes_econ_subtracts():
    """tests/benchmarks/gpu_quant.py writes each variant's bytes; the quantizing variants'
    bytes beyond the FP8 matmul's are the ones act_quant_fixed_s subtracts."""
    from _scripts import load_script
    counted = load_script("gpu_quant").ACT_BYTES_PER_ELEM
    for variant, nbytes in ACT_QUANT_VARIANTS.items():
        assert counted[variant] - counted["fp8_linear"] == nbytes, variant


def test_ledger_predictions_mark_weight_only_matmuls():
    """A row is marked where its quantized weights run through BF16 matmuls: FP8 weights on
    an A100 (no FP8 units), FP4 weights on an H100; not FP8 on an H100, nor BF16 anywhere."""
    pred = ledger_predictions()
    ledger = econ.load("serving_benchmarks")
    ok = pred[pred["metric"] != "error"]
    prec = ok.index.map(ledger["weight_precision"])
    hw = ok["hardware"]
    for device, weights, marked in (("a100-sxm-80gb", "fp8", True), ("h100-sxm", "fp4", True),
                                    ("h100-sxm", "fp8", False), ("b200", "fp4", False),
                                    ("a100-sxm-80gb", "bf16", False)):
        rows = ok[(hw == device) & (prec == weights)]
        assert len(rows) and (rows["weight_only_matmuls"] == marked).all(), (device, weights)
    assert not pred.loc[pred["memory_kind"] == "sram", "weight_only_matmuls"].any()
