"""econ.results: result rows and their checks, verdict wording, verdict tables, quantities for
people, verdict_summary and published_comparison against hand-counted tables.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
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
                                                                             "3.300e+24 FLOP"),
    (12, "count", "12"), (-1500.0, "USD", "-$1,500"), (float("nan"), "USD", "–"),
])
def test_format_quantity(value, unit, text):
    assert econ.format_quantity(value, unit) == text
