"""Fit the engine's constants and check them on data they were not fitted to (``make calibrate``).

Two sets of measurements, each split into rows that may be fitted to and rows that never are:

- the serving ledger (``data/serving_benchmarks.csv``): only SemiAnalysis InferenceX and
  MLPerf Inference rows (``split == "fit"``) may be fitted to; every other source is
  validation only. :func:`ledger_predictions` predicts every row the engine can take
  (a single-node GPU deployment with its layout, lengths and concurrency) and
  :func:`ledger_error_summary` reports the error by split, source, hardware and model.
- the kernel-level constants are read from ``data/calibration.csv``; rows there say what they
  were fitted to or derived from.

``python -m econ.calibrate`` fits the per-kernel fixed time (the one constant the fit rows
identify: they are all one model on one layout) by least squares on the relative TPOT error
of the ledger's fit rows, writes it into ``data/calibration.csv`` with the fit's error and
the error on the validation rows, and prints both.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import data
from .engine import calibration
from .predict import predict_serving_with, serving_calibration

__all__ = ["ledger_predictions", "ledger_error_summary", "fit_kernel_fixed_s"]

_NEEDED = ("tp_devices", "n_devices", "isl_tok", "osl_tok", "weight_precision")


def _usable(ledger):
    """Rows the engine can predict: a GPU layout on one node with lengths and precision."""
    hw = data.load("hardware")
    models = data.load("models")
    ok = ledger[list(_NEEDED)].notna().all(axis=1)
    ok &= ledger["hardware"].isin(hw.index[hw["device_kind"] == "gpu"])
    ok &= ledger["model"].isin(models.index)
    ok &= ledger["phase"].eq("serving")
    per_node = ledger["hardware"].map(hw["n_devices_per_node"])
    ok &= ledger["tp_devices"] <= per_node
    ok &= ledger["tpot_s"].notna() | ledger["output_per_device_tok_per_s"].notna()
    return ledger[ok]


def ledger_predictions(ledger=None, step_calibration=None, serving=None):
    """Predict every usable ledger row; one row per measurement with predicted and measured.

    Returns
    -------
    pandas.DataFrame
        Index: the ledger key. Columns: ``split``, ``source``, ``hardware``, ``model``,
        ``metric`` (``tpot_s`` or ``output_tok_per_s_per_device``), ``measured``,
        ``predicted``, ``ratio`` (predicted over measured) [ratio], ``error_frac``
        (|ratio - 1|) [fraction].
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    rows = []
    for key, r in _usable(ledger).iterrows():
        conc = r["concurrency_count"]
        ep = r["ep_devices"] if np.isfinite(r["ep_devices"]) else 1.0
        dp = str(r["dp_attention"]).lower() == "true"
        kv = r["kv_precision"] if r["kv_precision"] in ("bf16", "fp8") else "bf16"
        try:
            p = predict_serving_with(
                r["model"], r["hardware"], r["weight_precision"], n_devices=int(r["n_devices"]),
                tp=int(r["tp_devices"]), ep=int(ep), dp_attention=dp, isl_tok=r["isl_tok"],
                osl_tok=r["osl_tok"], concurrency=None if not np.isfinite(conc) else conc,
                kv_precision=kv, step_calibration=step_calibration, serving=serving)
        except ValueError as exc:
            rows.append(dict(name=key, split=r["split"], source=r["source"],
                             hardware=r["hardware"], model=r["model"], metric="error",
                             measured=np.nan, predicted=np.nan, note=str(exc)))
            continue
        for metric, col in (("tpot_s", "tpot_s"),
                            ("output_tok_per_s_per_device", "output_per_device_tok_per_s")):
            if np.isfinite(r[col]):
                rows.append(dict(name=key, split=r["split"], source=r["source"],
                                 hardware=r["hardware"], model=r["model"], metric=metric,
                                 measured=float(r[col]), predicted=float(p[metric]), note=""))
    out = pd.DataFrame(rows).set_index("name")
    out["ratio"] = out["predicted"] / out["measured"]
    out["error_frac"] = (out["ratio"] - 1.0).abs()
    return out


def ledger_error_summary(pred, by=("split",)):
    """Median and count of ``error_frac`` by the given columns (predicted rows only)."""
    ok = pred[pred["metric"] != "error"]
    g = ok.groupby(list(by))["error_frac"]
    return pd.DataFrame({"median_error_frac": g.median(), "n_rows": g.size()})


def fit_kernel_fixed_s(ledger=None):
    """Least-squares per-kernel fixed time on the ledger's fit rows (relative TPOT error).

    TPOT is linear in the constant, ``tpot = a + b * kernel_fixed_s`` for each row, so the
    fit is closed form: ``x = sum(w (m - a) b) / sum(w b^2)`` with ``w = 1 / m^2``, clipped
    at 0. [s]
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    fit = ledger[ledger["split"] == "fit"]
    base = calibration()
    a = ledger_predictions(fit, dataclasses.replace(base, kernel_fixed_s=0.0))
    b1 = ledger_predictions(fit, dataclasses.replace(base, kernel_fixed_s=1e-6))
    a, b1 = a[a["metric"] == "tpot_s"], b1[b1["metric"] == "tpot_s"]
    if a.empty:
        raise ValueError("no usable fit rows with a measured TPOT in the ledger")
    slope = (b1["predicted"] - a["predicted"]) / 1e-6
    w = 1.0 / a["measured"] ** 2
    x = float((w * (a["measured"] - a["predicted"]) * slope).sum() / (w * slope ** 2).sum())
    return max(x, 0.0), len(a)


def main(argv=None):
    path = Path(data.__file__).resolve().parents[1] / "data" / "calibration.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    x, n_fit = fit_kernel_fixed_s()
    cal = dataclasses.replace(calibration(), kernel_fixed_s=x)
    pred = ledger_predictions(step_calibration=cal, serving=serving_calibration())
    summary = ledger_error_summary(pred)
    fit_err = float(summary.loc["fit", "median_error_frac"]) if "fit" in summary.index else np.nan
    val_err = float(summary.loc["validation", "median_error_frac"]) \
        if "validation" in summary.index else np.nan
    i = table.index[table["name"] == "kernel_fixed_s"][0]
    table.loc[i, "value"] = f"{x:.4g}"
    table.loc[i, "fitted_to"] = (f"least squares on the relative TPOT error of the {n_fit} "
                                 "ledger fit rows with a TPOT (InferenceX, MLPerf); refit with "
                                 "make calibrate")
    table.loc[i, "fit_error_frac"] = f"{fit_err:.3f}"
    table.loc[i, "holdout_error_frac"] = f"{val_err:.3f}"
    table.loc[i, "source_url"] = "measured:data/serving_benchmarks.csv"
    table.loc[i, "source_date"] = dt.date.today().isoformat()
    table.loc[i, "source_kind"] = "measured"
    table.loc[i, "notes"] = ("the only step constant the fit rows identify (one model, one "
                             "layout); the others keep their derived values")
    table.to_csv(path, index=False)
    print(f"kernel_fixed_s = {x * 1e6:.2f} us, fitted to {n_fit} rows")
    print(ledger_error_summary(pred, ("split", "source", "metric")).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
