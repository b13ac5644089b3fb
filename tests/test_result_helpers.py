"""Small helpers the notebooks use to turn tables into result rows and answers, and
assumption ranges into distributions."""
import numpy as np
import pandas as pd
import pytest

import econ


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
