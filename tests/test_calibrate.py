"""econ.calibrate: the engine fitted to recorded steps and checked on serving rows it never saw.
"""
import dataclasses

import econ
from econ.calibrate import (
    STEP_CONSTANTS,
    ledger_error_summary,
    ledger_predictions,
    recorded_step_predictions,
)


def test_error_on_rows_never_fitted_to():
    """The validation rows were never fitted to: their median error is what the suite states.

    The issue's target is 20%; this guards the level reached (make calibrate prints it)."""
    pred = ledger_predictions()
    summary = ledger_error_summary(pred, ("split",))
    assert set(pred["split"]) >= {"fit", "validation"}
    assert summary.loc["validation", "n_rows"] >= 30
    assert summary.loc["validation", "median_error_frac"] < 0.40
    # and a wrong constant shows: ten times the per-step overhead is far off
    srv = econ.serving_calibration()
    wrong = dataclasses.replace(srv, step_overhead_s=10 * srv.step_overhead_s + 1e-3)
    worse = ledger_error_summary(ledger_predictions(serving=wrong), ("split",))
    assert worse.loc["validation", "median_error_frac"] > summary.loc["validation",
                                                                      "median_error_frac"]


def test_recorded_steps_left_out_of_the_fit_are_predicted_within_15pct():
    """The kernel level at its fitted defaults against whole steps recorded on an H200 that
    the fit never saw: Llama-3.1-70B slices at tp 1-8 (dense) and the DeepSeek-V3 slice at
    ep=1 (MoE), decode and prefill, BF16."""
    p = recorded_step_predictions()
    bf16 = p[p["weight_precision"] == "bf16"]
    held = bf16[bf16["split"] == "holdout"]
    assert set(held["arch"]) == {"llama-3.1-70b", "deepseek-v3"}
    assert set(held["phase"]) == {"decode", "prefill"}
    assert held["error_frac"].median() <= 0.15
    assert bf16.loc[bf16["split"] == "fit", "error_frac"].median() <= 0.10
    # the fitted constants are physical: shares of the datasheet in (0, 1], a positive cost
    cal = econ.calibration()
    for name in STEP_CONSTANTS:
        assert getattr(cal, name) > 0, name
        if name.endswith("_frac"):
            assert getattr(cal, name) <= 1.0, name
