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
