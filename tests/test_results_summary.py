"""verdict_summary and published_comparison against hand-counted tables."""
import math

import numpy as np
import pytest

import econ


def _results():
    a = econ.results_frame("nb_a", [
        dict(metric="training_cost_usd", subject="x", value=100.0, published_value=100.2),
        dict(metric="serving_cost_usd_per_day", subject="x", value=150.0, published_value=100.0),
        dict(metric="decode_tok_per_s", subject="y", value=3.0),
    ])
    b = econ.results_frame("nb_b", [
        dict(metric="cost_usd_per_mtok", subject="z", value=1.0, published_value=0.0),
    ])
    return econ.validate_results(__import__("pandas").concat([a, b], ignore_index=True))


def test_verdict_summary_counts_by_hand():
    s = econ.verdict_summary(_results()).set_index("notebook")
    assert s.loc["nb_a", "results_count"] == 3
    assert s.loc["nb_a", "published_count"] == 2
    assert s.loc["nb_a", "reproduced_count"] == 1          # 100 vs 100.2 within 5%; 150 is off
    assert s.loc["nb_a", "reproduced_frac"] == pytest.approx(0.5)
    assert s.loc["nb_b", "reproduced_frac"] == 0.0         # off: published figure is 0


def test_published_comparison_ratios():
    c = econ.published_comparison(_results())
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


def test_ratio_chart_draws_band_rule_and_dots():
    c = econ.published_comparison(_results())
    chart = econ.ratio_chart(c, "computed_to_published_ratio", "claim", color="notebook",
                             band_frac=0.3, title="t", caption="what to see")
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rect", "rule", "point"]
    dots = spec["layer"][2]
    assert dots["encoding"]["x"]["scale"]["type"] == "log"
    assert "[ratio]" in dots["encoding"]["x"]["title"]
    # the NaN ratio (published 0) is left out
    data = spec["datasets"][spec["layer"][2]["data"]["name"]]
    assert len(data) == 2
    with pytest.raises(ValueError, match="band_frac"):
        econ.ratio_chart(c, "computed_to_published_ratio", "claim", band_frac=1.5,
                         title="t", caption="c")


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


def test_claims_table_formats_the_run_value_with_its_unit():
    j = econ.judge_claims(_run(5.58e6, 0.8), _ledger())
    t = econ.claims_table(j)
    assert list(t["computed"]) == ["$5.58M", "80%"]
    assert list(t["verdict"]) == ["holds", "holds"] and t["source"].iloc[0] == "https://example.org/a"
    with pytest.raises(ValueError, match="judge_claims"):
        econ.claims_table(_results())


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
