"""Answers rendered from values: formats, comparison words, rankings, and the checker."""
import math

import numpy as np
import pandas as pd
import pytest

import econ
from econ.answers import ANSWER_METADATA_KEY, check_answer


def _results():
    return econ.results_frame("demo", [
        dict(metric="cost_usd_per_mtok", subject="h100-sxm", value=3.1712),
        dict(metric="cost_usd_per_mtok", subject="groq-lpu", value=1.5104),
    ])


def test_numbers_are_formatted_with_their_spec_and_scale():
    a = econ.answer("{a:.2f} {b:,.0f} {c:.3fM} {d:.0%} {e:.1fB}", a=3.14159, b=87072.4,
                    c=5_576_000, d=0.6, e=1.5e9)
    assert a.markdown == "3.14 87,072 5.576M 60% 1.5B"
    assert [e["text"] for e in a.record] == ["3.14", "87,072", "5.576M", "60%", "1.5B"]
    assert a.record[2]["value"] == 5_576_000


def test_dollars_are_escaped_once():
    a = econ.answer("${x:.2f} and \\${y:.2f}", x=1, y=2)
    assert a.markdown == "\\$1.00 and \\$2.00"


def test_figures_remember_their_row_and_are_checked_against_the_results():
    res = _results()
    gpu = econ.result(res, "cost_usd_per_mtok", "h100-sxm")
    assert float(gpu) == 3.1712 and (gpu.metric, gpu.subject) == ("cost_usd_per_mtok", "h100-sxm")
    a = econ.answer("GPU ${g:.2f}", g=gpu)
    assert a.record[0]["metric"] == "cost_usd_per_mtok"
    assert check_answer(a.markdown, a.record, res) == []
    changed = res.assign(value=res["value"] * 2)
    assert any("the run's" in p for p in check_answer(a.markdown, a.record, changed))
    with pytest.raises(KeyError, match="no single row"):
        econ.result(res, "cost_usd_per_mtok", "cerebras-cs3")


@pytest.mark.parametrize("a, b, tol, want", [
    (1.0, 2.0, 0.0, "cheaper"), (3.0, 2.0, 0.0, "dearer"), (2.02, 2.0, 0.03, "about as dear as"),
    (2.1, 2.0, 0.03, "dearer"), (np.float64(1.0), 1.5, 0.0, "cheaper"),
])
def test_compare_picks_the_word_the_values_call_for(a, b, tol, want):
    w = econ.compare(a, b, lower="cheaper", higher="dearer", same="about as dear as", rel_tol=tol)
    assert w == want and w.record["kind"] == "compare"


def test_compare_rejects_equal_values_without_a_same_word_and_bad_input():
    with pytest.raises(ValueError, match="same"):
        econ.compare(1.0, 1.0, "lower", "higher")
    with pytest.raises(ValueError, match="same"):
        econ.compare(1.0, 2.0, "lower", "higher", rel_tol=0.1)
    with pytest.raises(ValueError, match="finite"):
        econ.compare(float("nan"), 1.0, "lower", "higher")
    with pytest.raises(TypeError, match="a must be a number"):
        econ.compare("1", 1.0, "lower", "higher")


def test_ranking_orders_labels_by_value():
    r = econ.ranking(pd.Series({"price": 0.2, "batch": 0.9, "context": 0.5}))
    assert r == "batch > context > price"
    assert econ.ranking({"a": 1, "b": 2}, descending=False, sep=", ") == "a, b"
    assert econ.ranking({"a": 1, "b": 2, "c": 3}, top=2) == "c > b"


def test_the_record_travels_in_the_markdown_output_metadata():
    a = econ.answer("{w} at {x:.1f}", w=econ.compare(1, 2, "below", "above"), x=1.25)
    text, meta = a._repr_markdown_()
    assert text == "below at 1.2" and meta[ANSWER_METADATA_KEY] == a.record


def test_check_answer_finds_each_kind_of_mismatch():
    a = econ.answer("{n:.2f}, {w}, {r}", n=1.234, w=econ.compare(1, 2, "cheaper", "dearer"),
                    r=econ.ranking({"x": 2, "y": 1}))
    assert check_answer(a.markdown, a.record) == []
    rec = [dict(e) for e in a.record]
    rec[0]["value"] = 1.3
    rec[1]["a"] = 3.0
    rec[2]["items"] = [["x", 1.0], ["y", 2.0]]
    problems = check_answer(a.markdown, rec)
    assert len(problems) == 3, problems
    # a number typed into the template is caught, a digit inside a name is not
    typed = econ.answer("V3 on H800 costs {n:.2f}, about 30 times less", n=1.0)
    assert any("typed" in p for p in check_answer(typed.markdown, typed.record))
    names = econ.answer("llama-3.1-405b on H800 (V3, o1): {n:.2f}", n=1.0)
    assert check_answer(names.markdown, names.record) == []
    # text that is not in the markdown
    assert any("not in the answer" in p for p in check_answer("nothing", a.record))
    # a field moved elsewhere is caught too
    assert any("where it was rendered" in p for p in check_answer(" " + a.markdown, a.record))


def test_answer_rejects_missing_fields_specs_on_words_and_non_finite_numbers():
    with pytest.raises(KeyError, match="no value for field"):
        econ.answer("{x}")
    with pytest.raises(ValueError, match="no format spec"):
        econ.answer("{w:.2f}", w=econ.compare(1, 2, "a", "b"))
    with pytest.raises(ValueError, match="finite"):
        econ.answer("{x:.2f}", x=math.inf)
    with pytest.raises(ValueError, match="plain name"):
        econ.answer("{x!r}", x=1.0)


def test_published_figures_come_from_the_published_column():
    res = econ.results_frame("demo", [dict(metric="training_cost_usd", subject="deepseek-v3",
                                           value=5.576e6, published_value=5.576e6)])
    pub = econ.result(res, "training_cost_usd", "deepseek-v3", column="published_value")
    a = econ.answer("${p:.3fM}", p=pub)
    assert (
        a.record[0]["column"] == "published_value" and check_answer(a.markdown, a.record, res) == []
    )
    with pytest.raises(ValueError, match="no published_value"):
        econ.result(_results(), "cost_usd_per_mtok", "h100-sxm", column="published_value")


def test_kernel_timings_answer_fields_are_the_runs_rows_and_words():
    g = "h100-sxm"
    rows = [dict(metric=m, subject=s, value=v, published_value=p) for m, s, v, p in [
        ("gemm_flop_efficiency_frac", f"{g}:bf16", 0.75, np.nan),
        ("gemm_flop_efficiency_frac", f"{g}:fp8", 0.60, 0.682),
        ("memory_bandwidth_efficiency_frac", g, 0.90, 0.895),
        ("measured_to_datasheet_cost_ratio", f"deepseek-v3:{g}:decode", 1.15, np.nan),
        ("measured_to_datasheet_cost_ratio", f"deepseek-v3:{g}:prefill", 1.48, np.nan),
        ("decode_cost_usd_per_mtok", f"deepseek-v3:{g}:measured", 0.73, np.nan),
        ("decode_cost_usd_per_mtok", f"deepseek-v3:{g}:datasheet", 0.63, np.nan),
        ("roofline_median_abs_error_frac", g, 0.04, np.nan),
        ("roofline_median_abs_error_frac", "cpu", 0.4, np.nan),
        ("ridge_batch_count", f"{g}:bf16", 512.0, np.nan),
        ("ridge_batch_count", "cpu:float32", 2.0, np.nan),
        ("mla_vs_mha_decode_speedup_ratio", g, 16.0, np.nan),
        ("mla_vs_mha_decode_speedup_ratio", "cpu", 0.2, np.nan),
        ("moe_grouped_vs_naive_speedup_ratio", g, 1564.0, np.nan),
        ("moe_grouped_to_dense_time_ratio", g, 3.2, np.nan),
        ("portable_stack_to_cublas_ratio", f"{g}:triton", 0.91, np.nan),
        ("portable_stack_to_cublas_ratio", f"{g}:jax", 0.87, np.nan),
        ("portable_stack_to_cublas_ratio", f"{g}:cupy", 0.98, np.nan),
        ("fitted_step_error_frac", "engine:recorded-steps", 0.04, np.nan),
        ("held_out_step_error_frac", "engine:recorded-steps", 0.2, np.nan),
        ("fp8_harness_step_error_frac", "engine:recorded-steps", 0.39, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger", 0.10, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:dense", 0.08, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:moe", 0.45, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:shared-with-peer", 0.2, np.nan),
        ("peer_validation_serving_error_frac", "aiconfigurator:ledger", 0.3, np.nan),
        ("validation_serving_error_no_kv_assumption_frac", "predict_serving:ledger", 0.22,
         np.nan),
        ("peak_flop_per_s", "cpu:float32", 2.5e10, np.nan),
        ("memory_bandwidth_bytes_per_s", "cpu", 2.8e10, np.nan),
        ("same_workload_tpot_spread_ratio", "ledger:engines", 3.0, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:burst-peak-second", 0.3,
         np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:burst-average", 0.5, np.nan),
        ("burst_runs_with_peak_count", "predict_serving:ledger", 150.0, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:fixed-concurrency", 0.29,
         np.nan),
        ("validation_measurements_count", "predict_serving:ledger:fixed-concurrency", 256.0,
         np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:offline-or-batch", 0.15,
         np.nan),
        ("validation_measurements_count", "predict_serving:ledger:offline-or-batch", 203.0,
         np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:burst", 0.5, np.nan),
        ("validation_measurements_count", "predict_serving:ledger:burst", 460.0, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:burst-request-by-request",
         0.32, np.nan),
        ("validation_measurements_count", "predict_serving:ledger:burst-request-by-request",
         180.0, np.nan),
        ("validation_serving_error_frac",
         "predict_serving:ledger:closed-loop-request-by-request", 0.21, np.nan),
        ("validation_measurements_count",
         "predict_serving:ledger:closed-loop-request-by-request", 224.0, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:weight-only-matmuls", 0.21,
         np.nan),
        ("validation_measurements_count", "predict_serving:ledger:weight-only-matmuls", 203.0,
         np.nan),
        ("validation_predicted_to_measured_ratio", "predict_serving:ledger:weight-only-matmuls",
         1.05, np.nan),
        ("validation_serving_error_frac", "predict_serving:ledger:native-matmuls", 0.18, np.nan),
        ("validation_measurements_count", "predict_serving:ledger:native-matmuls", 1512.0,
         np.nan),
        ("gpu_types_within_target_count", "predict_serving:ledger", 1.0, np.nan),
    ]]
    rows[-1]["verdict"] = "b200: 12% at worst; h100-sxm: 31% at worst"
    results = econ.results_frame("kernel_timings", rows)
    steps = pd.DataFrame({"split": ["fit", "fit", "holdout", "holdout"],
                          "weight_precision": ["bf16", "fp8", "bf16", "bf16"]})
    f = econ.kernel_timings_answer_fields(
        results, dict(gpu_hardware=g, model="deepseek-v3", precision="fp8"), steps,
        dict(n_blas_threads=1, cpu_load_1min=0.3))
    assert f["n_fit"] == 1 and f["n_hold"] == 2  # BF16 steps only
    assert f["w_fp8"] == "below" and f["w_bw"] == "within a twentieth of"
    assert f["w_hold"] == "above" and f["w_val"] == "within" and f["w_err"] == "within"
    assert f["w_plain"] == "higher than with them" and f["w_mla"] == "less than"
    assert f["w_dense"] == "within" and f["w_moe"] == "above" and f["w_peer"] == "lower than"
    assert str(f["stacks"]) == "cupy 98%, triton 91%, jax 87%"
    assert f["spread_floor"] == pytest.approx(0.5)  # (3 - 1) / (3 + 1)
    assert f["n_types"] == 1.0 and f["w_types"] == "fewer than"
    assert f["n_peak"] == 150.0 and f["w_peak"] == "closer than"
    assert f["n_fixed"] == 256.0 and f["n_maxload"] == 203.0 and f["n_burst"] == 460.0
    assert f["n_burst_spread"] == 180.0 and f["burst_spread"] == pytest.approx(0.32)
    assert f["n_closed_rbr"] == 224.0 and f["closed_rbr"] == pytest.approx(0.21)
    assert f["n_wo"] == 203.0 and f["native"] == pytest.approx(0.18)
    assert f["wo_ratio"] == pytest.approx(1.05) and f["w_wo_ratio"] == "too fast"
    assert f["burst"] == pytest.approx(0.5) and f["fixed"].subject.endswith(":fixed-concurrency")
    assert f["types"] == "b200: 12% at worst; h100-sxm: 31% at worst"
    assert f["dg"] == pytest.approx(0.682) and f["dg"].column == "published_value"
    a = econ.answer("{g} {fp8:.0%} {w_fp8} {dg:.0%}; {hold:.1%} {w_hold} {th:.0%}; {stacks}; "
                    "{val_plain:.0%} {w_plain}", **f)
    assert check_answer(a.markdown, a.record, results) == []


def test_result_figures_key_every_finite_row_and_remember_it():
    res = econ.results_frame("demo", [
        dict(metric="training_cost_usd", subject="v3", value=5.5e6, published_value=5.576e6),
        dict(metric="cost_usd_per_mtok", subject="h100-sxm", value=3.1712)])
    v = econ.result_figures(res)
    p = econ.result_figures(res, "published_value")
    assert set(v) == {("training_cost_usd", "v3"), ("cost_usd_per_mtok", "h100-sxm")}
    assert set(p) == {("training_cost_usd", "v3")}
    assert float(p["training_cost_usd", "v3"]) == 5.576e6
    a = econ.answer("{x:.3fM} vs {y:.3fM}", x=v["training_cost_usd", "v3"],
                    y=p["training_cost_usd", "v3"])
    assert check_answer(a.markdown, a.record, res) == []
    assert check_answer(a.markdown, a.record, res.assign(value=res["value"] * 2)) != []
    with pytest.raises(ValueError, match="column"):
        econ.result_figures(res, "verdict")


def test_prediction_fields_split_landing_and_missing_predictions():
    res = econ.results_frame("demo", [
        dict(metric="decode_tok_per_s_per_node_predicted", subject="a", value=12000.0,
             published_value=14800.0),
        dict(metric="decode_tok_per_s_per_node_predicted", subject="b", value=29000.0,
             published_value=14800.0),
        dict(metric="prefill_tok_per_s_per_node_predicted", subject="a", value=75000.0,
             published_value=73700.0)])
    f = econ.prediction_fields(res, {("decode_tok_per_s_per_node_predicted", "a"): "decode",
                                     ("decode_tok_per_s_per_node_predicted", "b"): "overlapped",
                                     ("prefill_tok_per_s_per_node_predicted", "a"): "prefill"},
                               0.3)
    assert (f["n"], f["n_in"]) == (3.0, 2.0)
    assert f["lands"] == "prefill; decode" and f["misses"] == "overlapped"
    a = econ.answer("{n_in:.0f} of {n:.0f} land: {lands}. Miss: {misses}.", **f)
    assert check_answer(a.markdown, a.record, res) == []
    assert econ.prediction_fields(res, {("decode_tok_per_s_per_node_predicted", "b"): "x"},
                                  0.3)["lands"] == "none"


def test_token_pricing_answer_fields_are_the_runs_rows_and_words():
    sub, d6, scen, pair = "m:h", "deepseek-day6", "deepseek-day6:scenario", "o1-vs-deepseek-r1"
    rows = [dict(metric=m, subject=s, value=v, published_value=p) for m, s, v, p in [
        ("decode_cost_usd_per_mtok", sub, 0.2, np.nan),
        ("batch_cost_reduction_ratio", sub, 30.0, np.nan),
        ("serving_cost_usd_per_day", d6, 87_072.0, 87_072.0),
        ("theoretical_revenue_usd_per_day", d6, 562_000.0, 562_027.0),
        ("cost_profit_margin_frac", d6, 5.45, 5.45),
        ("gross_margin_frac", d6, 0.845, np.nan),
        ("serving_cost_usd_per_day", scen, 174_144.0, np.nan),
        ("cost_profit_margin_frac", scen, 2.2, np.nan),
        ("api_output_price_ratio", pair, 27.4, np.nan),
        ("modelled_output_cost_ratio", pair, 3.0, np.nan),
        ("price_gap_explained_by_cost_frac", pair, 0.33, np.nan),
    ]]
    results = econ.results_frame("token_pricing", rows)
    params = dict(n_nodes=1, node_hardware="h", model="m", precision="fp8", context_tok=4989.0,
                  batch_per_node=512, usd_per_gpu_hour=4.0, utilization_frac=0.6,
                  o1_model="big", o1_hardware="h", o1_precision="fp8", o1_usd_per_gpu_hour=4.0)
    sweep = pd.DataFrame({"batch_per_node_count": [1.0, 512.0],
                          "decode_cost_usd_per_mtok": [6.0, 0.2]})
    tornado = pd.DataFrame({"parameter_title": ["price", "batch size"], "swing": [0.1, 0.9]})
    day6 = pd.DataFrame({"deepseek_price_value": [2.0]}, index=["usd_per_gpu_hour"])
    gap = pd.DataFrame({"model": ["big", "small"], "markup_ratio": [9.1, 20.0]})
    f = econ.token_pricing_answer_fields(results, params, sweep, tornado, day6, gap)
    assert f["prec"] == "FP8" and f["b1"] == 6.0 and f["b1n"] == 1.0 and f["markup"] == 9.1
    assert str(f["rank"]) == "batch size > price" and f["ds_price"] == 2.0
    # the revenue is off by 27 / 562,027, within half a percent: reproduced
    assert f["err"] == pytest.approx(27 / 562_027) and f["w_repro"] == "reproducing"
    assert (f["op"].metric, f["scost"].subject) == ("decode_cost_usd_per_mtok", scen)
    a = econ.answer("${op:.3f} x{red:.1f} {rank}; ${cost:,.0f} {w_repro} ({err:.2%}); "
                    "${scost:,.0f}; {pr:.1f}x {o1m} {cr:.2f}x {share:.0%} {markup:.1f}x", **f)
    assert check_answer(a.markdown, a.record, results) == []
    off = results.assign(value=np.where(results["metric"] == "cost_profit_margin_frac",
                                        results["value"] * 1.1, results["value"]))
    assert econ.token_pricing_answer_fields(off, params, sweep, tornado, day6,
                                            gap)["w_repro"] == "not reproducing"


def test_target_speed_answer_fields_rank_the_devices_that_reach_the_speed():
    at = pd.DataFrame({"output_usd_per_mtok": [0.9, np.nan, 0.4]},
                      index=pd.Index(["h100-sxm", "b200", "mi300x"], name="hardware"))
    results = econ.results_frame("demo", [
        dict(metric="target_speed_output_cost_usd_per_mtok", subject=f"m:{h}", value=v)
        for h, v in (("h100-sxm", 0.9), ("mi300x", 0.4))])
    f = econ.target_speed_answer_fields(results, at, "m")
    assert str(f["rank"]) == "mi300x, then h100-sxm" and f["best"] == "mi300x"
    assert float(f["cost"]) == 0.4 and f["cost"].subject == "m:mi300x"
    assert econ.target_speed_answer_fields(results, at.iloc[[1]], "m") == {}


def test_moat_answer_fields_add_the_words_to_the_result_fields():
    results = econ.results_frame("nvidia_moat", [
        dict(metric="decode_tpot_floor_s", subject="deepseek-v3", value=0.01475,
             published_value=0.01476),
        dict(metric="api_blended_price_ratio", subject="openai-gpt-4-vs-deepseek-v3", value=80.0),
        dict(metric="compute_spend_ratio", subject="compressed-margin:elastic", value=1.1),
        dict(metric="compute_spend_ratio", subject="compressed-margin:inelastic", value=0.9)])
    params = dict(node_hardware="h200-sxm", compressed_gross_margin_frac=0.5,
                  demand_elasticity_low=0.5, demand_elasticity_high=1.5, timing_machine="t",
                  target_tok_per_s_per_user=50.0, frontier_model="m")
    at = pd.DataFrame({"output_usd_per_mtok": [0.9, 0.4]}, index=["h100-sxm", "mi300x"])
    f = econ.moat_answer_fields(results, params, at, 0.75)
    assert f["w_tpot"] == "within a twentieth of" and f["tpot_ms"] == pytest.approx(14.75)
    assert f["hist"] == "openai-gpt-4-vs-deepseek-v3" and str(f["speed_rank"]) == "mi300x, h100-sxm"
    assert float(f["compute_spend_ratio__compressed_margin_elastic"]) == 1.1
    assert f["gm"] == 0.75 and f["cm"] == 0.5
    a = econ.answer("{tpot_ms:.2f} ms {w_tpot} {tpot_pub_ms:.2f}; {api_blended_price_ratio:.0f}x "
                    "({hist}); {speed_rank}", **f)
    assert check_answer(a.markdown, a.record, results) == []
    assert econ.moat_answer_fields(results, params, at.iloc[:0], 0.75)["speed_rank"] == ""


def test_lead_sentences():
    md = ("**Chips.** Holding it takes **305 LPUs**, against 1 GPU. Serving takes \\$0.70. "
          "A third sentence.")
    assert econ.lead_sentences(md) == ("**Chips.** Holding it takes **305 LPUs**, "
                                               "against 1 GPU. Serving takes \\$0.70.")
    assert econ.lead_sentences("One. Two. Three.", n=1) == "One."


def test_notebook_answers_reads_the_record_back_from_the_output():
    import nbformat

    cell = nbformat.v4.new_code_cell("econ.answer(...)", metadata={"tags": ["answer"]})
    shown = econ.answer("It costs ${c:.2f}.", c=2.0)
    markdown, metadata = shown._repr_markdown_()
    cell.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/markdown": markdown, "text/plain": "x"}, metadata={"text/markdown": metadata})]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), cell])
    [got] = econ.notebook_answers(nb)
    assert got["markdown"] == "It costs \\$2.00."
    assert got["record"][0]["value"] == 2.0 and got["record"][0]["text"] == "2.00"
    assert check_answer(got["markdown"], got["record"]) == []
