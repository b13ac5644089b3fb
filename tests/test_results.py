"""econ.results: result rows, verdicts, verdict tables, the claims ledger judged, and the
kernel-timings notebook's rows."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import econ

PARAMS = dict(gpu_hardware="h100-sxm", timing_machine="h100-2026-11-22", model="deepseek-v3",
              precision="fp8", context_tok=4989.0, flop_efficiency_frac=0.68,
              bandwidth_efficiency_frac=0.9, fit_time_column="min_s", weight_dim=64)


KNOWN = {"gemm_flop_efficiency_frac", "memory_bandwidth_efficiency_frac",
         "fp8_to_bf16_gemm_rate_ratio", "roofline_median_abs_error_frac", "ridge_batch_count",
         "mla_vs_mha_decode_speedup_ratio", "moe_grouped_vs_naive_speedup_ratio",
         "moe_grouped_to_dense_time_ratio", "decode_cost_usd_per_mtok",
         "prefill_cost_usd_per_mtok", "measured_to_datasheet_cost_ratio",
         "portable_stack_to_cublas_ratio", "peak_flop_per_s", "memory_bandwidth_bytes_per_s",
         "fp32_to_fp64_gemm_rate_ratio"}


@pytest.fixture(scope="module")
def run():
    live = econ.live_kernel_timings([16, 32], [1, 2, 64], 64, [16], [1], 2**20,
                                    time_budget_s=0.05, blas_threads=1)
    gpu = econ.recorded_gpu_timings(PARAMS["timing_machine"], PARAMS["gpu_hardware"])
    hw = econ.data.load("hardware")
    ceilings = econ.ceiling_efficiency(gpu, hw.loc["h100-sxm"], econ.data.load("published"),
                                       hw.loc["h800-sxm"])
    cases = econ.efficiency_cost_cases("deepseek-v3", "h100-sxm", "fp8", 4989.0, 512, 2.0, 0.6,
                                       assumed=(0.68, 0.9),
                                       measured=tuple(ceilings.loc[["fp8", "bandwidth"],
                                                                   "measured_frac"]))
    stacks = econ.portable_stack_comparison(gpu)
    info = dict(n_blas_threads=1, cpu_load_1min=0.5)
    cpu_fit = econ.fit_roofline(live, time_column="min_s")
    results = econ.kernel_timings_results(PARAMS, live, cpu_fit, gpu, econ.fit_roofline(gpu),
                                          ceilings, cases, stacks, info)
    return dict(results=results, ceilings=ceilings, cases=cases, stacks=stacks, live=live)


def _value(results, metric, subject, column="value"):
    return float(econ.result(results, metric, subject, column))


def test_rows_keep_their_metric_names_and_values(run):
    r, e, c = run["results"], run["ceilings"], run["cases"]
    assert KNOWN <= set(r["metric"])
    assert r.duplicated(["metric", "subject"]).sum() == 0
    # DeepGEMM's 1,350 of the H800's 1,979 FP8 TFLOPS is the published share
    assert _value(r, "gemm_flop_efficiency_frac", "h100-sxm:fp8", "published_value") \
        == pytest.approx(1350 / 1979, rel=1e-3)
    assert _value(r, "fp8_to_bf16_gemm_rate_ratio", "h100-sxm") == pytest.approx(
        e.loc["fp8", "measured"] / e.loc["bf16", "measured"])
    assert _value(r, "measured_to_datasheet_cost_ratio", "deepseek-v3:h100-sxm:decode") \
        == pytest.approx(c.loc["measured", "decode_cost_usd_per_mtok"]
                         / c.loc["datasheet", "decode_cost_usd_per_mtok"])
    assert _value(r, "portable_stack_to_cublas_ratio", "h100-sxm:triton") == pytest.approx(
        run["stacks"].query("backend == 'triton'")["share_of_cublas_ratio"].mean())
    best = run["live"].query("kernel == 'gemm'").groupby("dtype")["fit_flop_per_s"].max()
    assert _value(r, "fp32_to_fp64_gemm_rate_ratio", "cpu") == pytest.approx(
        best["float32"] / best["float64"])
    assert np.isfinite(r["value"]).all()


def test_claims_name_rows_that_exist(run):
    r = run["results"]
    claims = econ.kernel_timings_claims(PARAMS, live=True)
    assert len(econ.verdict_table(r, claims=claims)) == len(claims)
    gpu_claims = {k: v for k, v in econ.kernel_timings_claims(PARAMS).items()
                  if not k[1].startswith(("engine:", "predict_serving:"))}
    assert len(econ.verdict_table(r, claims=gpu_claims)) == len(gpu_claims)


def test_side_by_side_formats_the_result_rows(run):
    r = run["results"]
    table = econ.kernel_timings_side_by_side(r, PARAMS)
    row = table[table["question"].str.startswith("Higher over lower")].iloc[0]
    assert row["recorded GPU"] == econ.format_quantity(
        _value(r, "fp8_to_bf16_gemm_rate_ratio", "h100-sxm"), "ratio")
    assert row["live CPU (this machine, now)"] == econ.format_quantity(
        _value(r, "fp32_to_fp64_gemm_rate_ratio", "cpu"), "ratio")
    with pytest.raises(KeyError, match="no single row"):
        econ.kernel_timings_side_by_side(r, dict(PARAMS, gpu_hardware="h200-sxm"))


def test_verdict_summary_counts_by_hand(published_results):
    s = econ.verdict_summary(published_results).set_index("notebook")
    assert s.loc["nb_a", "results_count"] == 3
    assert s.loc["nb_a", "published_count"] == 2
    assert s.loc["nb_a", "reproduced_count"] == 1          # 100 vs 100.2 within 5%; 150 is off
    assert s.loc["nb_a", "reproduced_frac"] == pytest.approx(0.5)
    assert s.loc["nb_b", "reproduced_frac"] == 0.0         # off: published figure is 0


def test_published_comparison_ratios(published_results):
    c = econ.published_comparison(published_results)
    assert list(c["claim"]) == ["serving_cost_usd_per_day (x)", "training_cost_usd (x)",
                                "cost_usd_per_mtok (z)"]
    assert c["computed_to_published_ratio"].iloc[0] == pytest.approx(1.5)
    assert c["computed_to_published_ratio"].iloc[1] == pytest.approx(100 / 100.2)
    assert math.isnan(c["computed_to_published_ratio"].iloc[2])
    assert list(c["reproduced"]) == [False, True, False]
    assert np.isfinite(c["value"]).all()


def test_bad_results_are_rejected():
    with pytest.raises(ValueError):
        econ.verdict_summary({"not": "a table"})


def _ledger(**over):
    """A two-claim ledger in the shape of data/claims.csv, with ``over`` replacing columns."""
    import pandas as pd
    base = pd.DataFrame({
        "claim_id": ["cost", "share"],
        "claim": ["our total training costs amount to only $5.576M, and this sentence is longer "
                  "than fifty characters", "most of the money goes to inference"],
        "claimant": ["lab", "scientist"], "kind": ["reproduction", "judgement"],
        "notebook": ["nb_a", "nb_a"], "metric": ["training_cost_usd", "inference_share_frac"],
        "subject": ["x", "x"], "test": ["within", "at_least"],
        "target_value": [float("nan"), 0.5], "tolerance_frac": [0.01, float("nan")],
        "other_metric": [None, None], "other_subject": [None, None],
        "source_url": ["https://example.org/a", "https://example.org/b"],
    })
    for k, v in over.items():
        base[k] = v
    return base.set_index("claim_id")


def _run(cost, share):
    return econ.results_frame("nb_a", [
        dict(metric="training_cost_usd", subject="x", value=cost, published_value=5.576e6),
        dict(metric="inference_share_frac", subject="x", value=share),
        dict(metric="serving_cost_usd", subject="x", value=1000.0),
    ])


def test_planted_results_make_claims_hold_and_fail():
    held = econ.judge_claims(_run(5.58e6, 0.8), _ledger()).set_index("claim_id")
    assert list(held["verdict"]) == ["holds", "holds"]
    assert held.loc["cost", "target"] == 5.576e6              # the row's published figure
    assert held.loc["cost", "test"] == "within 1% of $5.576M"
    failed = econ.judge_claims(_run(5.576e6 * 2, 0.4), _ledger()).set_index("claim_id")
    assert list(failed["verdict"]) == ["fails", "fails"]
    assert failed.loc["share", "test"] == "at least 50%"
    # 1.5% off fails a 1% tolerance; at_least holds at its bound
    edge = econ.judge_claims(_run(5.576e6 * 1.015, 0.5), _ledger()).set_index("claim_id")
    assert list(edge["verdict"]) == ["fails", "holds"]         # at_least is inclusive


def test_claims_without_their_rows_are_not_settled():
    res = _run(5.58e6, 0.8)
    res = res[res["metric"] != "inference_share_frac"]
    j = econ.judge_claims(res, _ledger()).set_index("claim_id")
    assert j.loc["share", "verdict"] == "not settled by this run"
    assert np.isnan(j.loc["share", "value"])
    # a within test needs a figure: none given and no published figure in the row
    nopub = _run(5.58e6, 0.8).assign(published_value=np.nan)
    assert econ.judge_claims(nopub, _ledger()).set_index("claim_id").loc[
        "cost", "verdict"] == "not settled by this run"
    s = econ.claims_summary(j).set_index("kind")
    assert s.loc["judgement", "unsettled_count"] == 1 and s.loc["reproduction", "holds_count"] == 1


def test_ratio_tests_divide_by_another_row():
    led = _ledger(test=["ratio_at_most", "at_least"], target_value=[0.001, 0.5],
                  other_metric=["serving_cost_usd", None], other_subject=["x", None])
    j = econ.judge_claims(_run(0.5, 0.8), led).set_index("claim_id")      # 0.5 / 1000
    assert j.loc["cost", "compared"] == pytest.approx(5e-4)
    assert j.loc["cost", "verdict"] == "holds"
    assert j.loc["cost", "test"].startswith("over serving_cost_usd (x): at most")
    assert econ.judge_claims(_run(5.0, 0.8), led).set_index("claim_id").loc[
        "cost", "verdict"] == "fails"


def test_bad_ledgers_are_refused():
    with pytest.raises(ValueError, match="test must be one of"):
        econ.judge_claims(_run(1.0, 0.8), _ledger(test=["about", "at_least"]))
    with pytest.raises(ValueError, match="missing column"):
        econ.judge_claims(_run(1.0, 0.8), _ledger().drop(columns=["kind"]))


def test_the_ledger_in_data_loads_and_every_claim_names_a_test_and_a_source():
    claims = econ.data.load_claims()
    assert claims.index.name == "claim_id" and len(claims) >= 14
    assert set(claims["test"]) <= set(econ.CLAIM_TESTS)
    assert claims["source_url"].str.startswith("http").all()
    for must in ("lecun-inference-most-of-cost", "v3-training-5.6m", "v3-45x-more-efficient",
                 "r1-27x-cheaper-than-o1", "groq-cheaper-if-busy", "jevons-paradox"):
        assert must in claims.index


def test_tables_show_claims_in_full():
    long = "x" * 30 + " a claim longer than pandas' fifty-character column width " + "y" * 30
    res = econ.results_frame("nb", [dict(metric="training_cost_usd", subject="s", value=1.0)])
    t = econ.verdict_table(res, claims={"training_cost_usd": long})
    assert long in t._repr_html_() and long in repr(t)
    assert long in econ.judge_claims(_run(1.0, 0.8), _ledger(claim=[long, "c"]))._repr_html_()


def test_claims_table_formats_the_run_value_with_its_unit(published_results):
    j = econ.judge_claims(_run(5.58e6, 0.8), _ledger())
    t = econ.claims_table(j)
    assert list(t["computed"]) == ["$5.58M", "80%"]
    assert list(t["verdict"]) == ["holds", "holds"] and t["source"].iloc[0] == "https://example.org/a"
    with pytest.raises(ValueError, match="judge_claims"):
        econ.claims_table(published_results)


def test_claims_result_rows_count_each_kind():
    j = econ.judge_claims(_run(5.576e6 * 2, 0.8), _ledger())
    rows = econ.results_frame("summary", econ.claims_result_rows(j))
    got = {(r.metric, r.subject): r.value for r in rows.itertuples()}
    assert got[("ledger_claims_count", "reproduction")] == 1
    assert got[("ledger_fails_count", "reproduction")] == 1
    assert got[("ledger_holds_count", "judgement")] == 1
    assert got[("ledger_unsettled_count", "judgement")] == 0
    assert len(got) == 8


def test_a_star_in_the_subject_follows_the_runs_model():
    res = econ.results_frame("nb_a", [
        dict(metric="inference_share_frac", subject="kimi-k2:h200-sxm", value=0.8),
        dict(metric="training_cost_usd", subject="x", value=5.58e6, published_value=5.576e6)])
    led = _ledger(subject=["x", "*:h200-sxm"])
    j = econ.judge_claims(res, led).set_index("claim_id")
    assert j.loc["share", "subject"] == "kimi-k2:h200-sxm" and j.loc["share", "verdict"] == "holds"
    two = econ.validate_results(__import__("pandas").concat([res, econ.results_frame("nb_a", [
        dict(metric="inference_share_frac", subject="deepseek-v3:h200-sxm", value=0.1)])]))
    assert econ.judge_claims(two, led).set_index("claim_id").loc[
        "share", "verdict"] == "not settled by this run"       # ambiguous: no single row


def test_every_claim_of_the_ledger_is_settled_by_the_stored_run():
    """The ledger names result rows the notebooks write: under the stored base run, no claim
    is left unsettled (a renamed metric or subject shows up here)."""
    from pathlib import Path
    stored = Path(__file__).resolve().parent.parent / "notebooks" / "results"
    judged = econ.judge_claims(econ.collect_results(stored), econ.data.load_claims())
    unsettled = judged.loc[judged["verdict"] == "not settled by this run", "claim_id"].tolist()
    assert not unsettled, f"claims whose result rows the stored run lacks: {unsettled}"
    assert set(judged["verdict"]) <= set(econ.CLAIM_VERDICTS)


def _rows():
    return [
        dict(metric="serving_cost_usd_per_day", subject="deepseek-day6", value=87100.0,
             published_value=87072.0, source_url="https://github.com/deepseek-ai/open-infra-index",
             rel_tol=0.01),
        dict(metric="cost_profit_margin_frac", subject="deepseek-day6", value=5.45,
             published_value=5.45),
        dict(metric="mtp_speedup", subject="deepseek-v3", value=1.8),
    ]


def test_results_frame_fills_units_and_verdicts():
    f = econ.results_frame("token-pricing", _rows())
    assert list(f.columns) == econ.RESULT_COLUMNS
    assert f["unit"].tolist() == ["USD/day", "fraction", "ratio"]
    assert f["verdict"].tolist() == ["reproduced within 0.032%", "reproduced exactly",
                                     "no published figure"]
    assert math.isnan(f["published_value"].iloc[2])
    assert (f["notebook"] == "token-pricing").all()


@pytest.mark.parametrize("row, words", [
    (dict(metric="cost", subject="x", value=1.0), "carries no unit suffix"),
    (dict(metric="CostUsd", subject="x", value=1.0), "snake_case"),
    (dict(metric="cost_usd", subject="x", value=float("nan")), "value must be finite"),
    (dict(metric="cost_usd", subject="x", value=float("inf")), "value must be finite"),
    (dict(metric="cost_usd", subject="x", value="12"), "value must be a number"),
    (dict(metric="cost_usd", subject="x", value=True), "value must be a number"),
    (dict(metric="cost_usd", subject="x", value=1.0, unit="EUR"), "unit must be 'USD'"),
    (dict(metric="cost_usd", subject="", value=1.0), "subject must be a non-empty"),
    (dict(metric="cost_usd", subject="x", value=1.0, source_url="www.x"), "source_url"),
    (dict(metric="cost_usd", subject="x", value=1.0, published_value=float("inf")),
     "published_value must be finite"),
    (dict(metric="cost_usd", subject="x"), "missing field 'value'"),
    (dict(metric="cost_usd", subject="x", value=1.0, colour="red"), "unknown field"),
])
def test_results_frame_rejects_bad_rows(row, words):
    with pytest.raises(ValueError, match="results row 0") as exc:
        econ.results_frame("nb", [row])
    assert words in str(exc.value)


def test_results_frame_rejects_duplicates_and_bad_notebook_name():
    with pytest.raises(ValueError, match="duplicate row"):
        econ.results_frame("nb", [dict(metric="a_usd", subject="x", value=1.0)] * 2)
    with pytest.raises(ValueError, match="notebook must be a simple name"):
        econ.results_frame("../nb", [])


def test_write_results_is_a_no_op_without_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = econ.results_frame("nb", _rows())
    assert econ.write_results(f, "") is None
    assert list(tmp_path.iterdir()) == []


def test_write_and_collect_round_trip(tmp_path):
    f = econ.results_frame("nb", _rows())
    g = econ.results_frame("other", [dict(metric="training_cost_usd", subject="deepseek-v3",
                                          value=5.576e6, published_value=5.576e6)])
    econ.write_results(f, tmp_path / "r" / "nb.csv")
    econ.write_results(g, str(tmp_path / "r" / "other.csv"))
    assert not [p for p in (tmp_path / "r").iterdir() if p.suffix != ".csv"]  # no temp files
    both = econ.collect_results(tmp_path / "r")
    assert len(both) == 4 and set(both["notebook"]) == {"nb", "other"}
    pd.testing.assert_frame_equal(both[both.notebook == "nb"].reset_index(drop=True), f,
                                  check_dtype=False)
    assert len(econ.collect_results(tmp_path / "r", exclude=["other"])) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    assert list(econ.collect_results(empty).columns) == econ.RESULT_COLUMNS


@pytest.mark.parametrize("computed, published, tol, words", [
    (1.003, 1.0, 0.05, "reproduced within 0.3%"),
    (1.45, 1.0, 0.05, "off by +45%"),
    (0.2, 1.0, 0.05, "off by -80%"),
    (12.0, 1.0, 0.05, "off by +1,100% (12x the published figure)"),
    (1.0, None, 0.05, "no published figure"),
    (1.0, float("nan"), 0.05, "no published figure"),
    (2.0, 2.0, 0.0, "reproduced exactly"),
    (1.0, 0.0, 0.05, "off by +1 (published figure is 0)"),
])
def test_verdict_wording(computed, published, tol, words):
    assert econ.verdict(computed, published, tol) == words


def test_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="computed must be finite"):
        econ.verdict(float("nan"), 1.0)
    with pytest.raises(ValueError, match="rel_tol must be >= 0"):
        econ.verdict(1.0, 1.0, -0.1)


def test_verdict_table_claims_and_formatting():
    f = econ.results_frame("token-pricing", _rows())
    t = econ.verdict_table(f, claims={"serving_cost_usd_per_day": "DeepSeek serves for "
                                                                  "$87,072 a day",
                                      ("mtp_speedup", "deepseek-v3"): "MTP nearly doubles speed"})
    assert list(t.columns) == ["claim", "computed", "published", "source", "verdict"]
    assert t["computed"].tolist() == ["$87,100/day", "1.8x"]
    assert t["published"].tolist() == ["$87,072/day", "–"]
    with pytest.raises(KeyError, match="no result row"):
        econ.verdict_table(f, claims={"nothing_usd": "?"})
    both = pd.concat([f, econ.results_frame("other", [dict(metric="x_usd", subject="s",
                                                           value=1.0)])])
    assert list(econ.verdict_table(both).columns)[0] == "notebook"


@pytest.mark.parametrize("value, unit, text", [
    (5.576e6, "USD", "$5.576M"), (2.19, "USD/Mtok", "$2.19/Mtok"), (0.545, "fraction", "54.5%"),
    (27.4, "ratio", "27.4x"), (2788000, "GPU-hours", "2.788M GPU-hours"), (3.3e24, "FLOP",
                                                                             "3.30×10²⁴ FLOP"),
    (12, "count", "12"), (-1500.0, "USD", "-$1,500"), (float("nan"), "USD", "–"),
])
def test_format_quantity(value, unit, text):
    assert econ.format_quantity(value, unit) == text


@pytest.mark.parametrize("value, count, text", [
    (7e10, False, "70,000,000,000"), (0.682197, False, "0.682"), (5.0, False, "5"),
    (9142.358, False, "9,140"), (75168000.0, False, "75,200,000"), (324000.0, False, "324,000"),
    (13.743, False, "13.7"), (2784.0, True, "2,784"), (3.3e24, False, "3.30×10²⁴"),
    (-0.5, False, "-0.5"), (float("nan"), False, "–"), (1.2e-5, False, "1.20×10⁻⁵"),
])
def test_format_number(value, count, text):
    assert econ.format_number(value, count) == text


def test_table_rows_one_per_cell_nan_left_out():
    t = pd.DataFrame({"cost": [1.0, np.nan], "devices": [8.0, 16.0]}, index=["a", "b"])
    rows = econ.table_result_rows(t, {"cost_usd_per_mtok": "cost", "serving_devices_count":
                                      "devices"}, subject="m:{index}", verdict="v")
    assert [(r["metric"], r["subject"], r["value"]) for r in rows] == [
        ("cost_usd_per_mtok", "m:a", 1.0), ("serving_devices_count", "m:a", 8.0),
        ("serving_devices_count", "m:b", 16.0)]
    assert all(r["verdict"] == "v" for r in rows)
    s = pd.Series([0.5], index=[("x", "y")], name="n")
    (r,) = econ.table_result_rows(s, {"break_even_utilization_frac": "n"},
                                  subject="{index[1]}:{index[0]}")
    assert r["subject"] == "y:x"
    with pytest.raises(KeyError, match="no column"):
        econ.table_result_rows(t, {"cost_usd_per_mtok": "price"})


def test_result_fields_name_every_row_and_unique_metrics_alone():
    res = econ.results_frame("demo", [
        dict(metric="compute_spend_ratio", subject="cut:elastic", value=1.2),
        dict(metric="compute_spend_ratio", subject="cut:inelastic", value=0.8),
        dict(metric="training_cost_usd", subject="deepseek-v3", value=5.0e6,
             published_value=5.576e6)])
    f = econ.result_fields(res)
    assert f["compute_spend_ratio__cut_elastic"] == 1.2
    assert "compute_spend_ratio" not in f  # two rows: only by subject
    assert f["training_cost_usd"].metric == "training_cost_usd"
    pub = econ.result_fields(res, "published_value")
    assert list(pub) == ["training_cost_usd__deepseek_v3", "training_cost_usd"]
    a = econ.answer("{compute_spend_ratio__cut_elastic:.1f}x", **f)
    assert a.markdown == "1.2x" and econ.answers.check_answer(a.markdown, a.record, res) == []


def test_assumption_triangulars_widen_the_range_to_the_runs_value():
    a = econ.data.load("assumptions")
    lo, hi = a.loc["pue_ratio", "low"], a.loc["pue_ratio", "high"]
    d = econ.assumption_triangulars(a, pue_ratio=float(hi) + 0.5, utilization_frac=0.6)
    s = d["pue_ratio"].sample(2000, np.random.default_rng(0))
    assert s.min() >= lo and s.max() <= hi + 0.5 and s.max() > hi
    with pytest.raises(KeyError, match="no row"):
        econ.assumption_triangulars(a, no_such_assumption=1.0)


def test_moat_result_rows_gather_each_sections_rows_and_claims_word_them():
    params = dict(model="deepseek-v3", node_hardware="h200-sxm", compressed_gross_margin_frac=0.5,
                  demand_elasticity_low=0.5, demand_elasticity_high=1.5,
                  timing_machine=econ.data.load("gpu_machines").index[0],
                  frontier_model="llama-3.1-70b", target_tok_per_s_per_user=50.0)
    node = econ.owned_node("h200-sxm", 0.35, 0.82)
    own = dict(utilization_frac=0.6, server_life_years=5.0, cost_of_capital_frac=0.1,
               pue_ratio=1.25, electricity_usd_per_kwh=0.08, hosting_opex_frac=0.08)
    parts, owned = econ.owned_decode_cost_parts(node, 20_000.0, **own)
    links = econ.scaleup_links(["h100-sxm", "h800-sxm"], 0.5, 5.0e10)
    _, at_op = econ.ep_alltoall_sweep("deepseek-v3", "h800-sxm", "fp8", [64], 4989.0, links,
                                      n_nodes=2, operating_batch_per_node=64)
    stacks = econ.stack_throughput(econ.data.load("gpu_timings"), params["timing_machine"])
    history = econ.price_history(econ.data.load("api_prices"), output_frac=0.25,
                                 models=["gpt-4", "deepseek-v3"])
    at_speed = pd.DataFrame({"output_usd_per_mtok": [0.9, np.nan]},
                            index=pd.Index(["h100-sxm", "b200"], name="hardware"))
    rows = econ.moat_result_rows(params, parts, owned, gross_margin_frac=0.75,
                                 source_url="https://example.org/margin",
                                 tpot_row=econ.isca_tpot_floor_row(), at_operating=at_op,
                                 links=links, stacks=stacks, history=history, at_speed=at_speed)
    results = econ.results_frame("nvidia_moat", rows)
    keys = list(zip(results["metric"], results["subject"]))
    assert keys[0] == ("owned_gpu_usd_per_hour", "h200-sxm")
    assert ("owned_decode_cost_usd_per_mtok", "deepseek-v3:h200-sxm") in keys
    assert ("decode_tpot_floor_s", "deepseek-v3") in keys
    assert ("interconnect_cut_cost_increase_frac", "h800-vs-h100:overlap") in keys
    assert keys[-1] == ("vendor_speed_output_cost_usd_per_mtok", "llama-3.1-70b:h100-sxm")
    row = results.set_index(["metric", "subject"])
    # the GPU-hour is the node-hour over its 8 GPUs; the cut is the closed form of the margins
    assert row.loc[("owned_gpu_usd_per_hour", "h200-sxm"), "value"] == pytest.approx(
        parts["node_usd_per_hour"].sum() / 8)
    token, _ = econ.margin_cut_price_ratios(parts, 0.75, 0.5)
    assert row.loc[("compute_spend_ratio", "compressed-margin:inelastic"), "value"] == (
        pytest.approx(token ** 0.5))
    claims = econ.moat_claims(results, 50.0)
    assert set(claims) <= set(results["metric"])
    assert claims["vendor_speed_output_cost_usd_per_mtok"] == "$/Mtok at 50 tokens/s per user"
    no_speed = results[results["metric"] != "vendor_speed_output_cost_usd_per_mtok"]
    assert "vendor_speed_output_cost_usd_per_mtok" not in econ.moat_claims(no_speed, 50.0)
    econ.verdict_table(results, claims=claims)  # every claim names a row
