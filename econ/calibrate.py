"""Fit the engine's constants and check them on data they were not fitted to (``make calibrate``).

Two sets of measurements, each split into rows that may be fitted to and rows that never are:

- the serving ledger (``data/serving_benchmarks.csv``): only SemiAnalysis InferenceX and
  MLPerf Inference rows (``split == "fit"``) may be fitted to; every other source is
  validation only. :func:`ledger_predictions` predicts every row the engine can take
  (a single-node GPU deployment with its layout, lengths and concurrency) and
  :func:`ledger_error_summary` reports the error by split, source, hardware and model.
- the whole forward steps recorded on a GPU (``data/gpu_steps.csv``): BF16 steps of
  Llama-3.1-8B, of the Llama-3.1-70B slice on one device (tp=1) and of the DeepSeek-V3 ep=8
  slice are fitted to; the 70B slices at tp 2, 4 and 8 (smaller matrices per device than any
  fitted step), the V3 ep=1 slice and the FP8 steps are held out (:func:`step_split`). Two
  matrix sizes in the fit are what separate the per-kernel time from the bandwidth share.

``python -m econ.calibrate`` fits the step constants to the recorded whole steps
(:func:`fit_step_constants`, held-out steps reported), then the serving constants the
ledger's fit rows identify, in turn: the share of the FP4 rate FP4 matmuls reach
(:func:`fit_fp4_matmul_frac`) and the host costs of a step, fixed and per sequence
(:func:`fit_host_overheads`), each by least squares on log(predicted / measured); it writes
them into ``data/calibration.csv`` with the errors, and prints them.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import sys

import numpy as np
import pandas as pd

from . import data
from ._checks import choice, fraction
from .amortization import useful_usd_per_hour
from .burst import LENGTH_DISTRIBUTIONS, predict_burst, workload_lengths
from .engine import (
    FUSED_ACT_QUANT_BYTES_PER_ELEM,
    calibration,
    device_calibration,
    forward_step,
    model_spec,
    recorded_device_key,
)
from .inference import (
    decode_cost_usd_per_mtok,
    decode_step,
    decode_step_breakdown,
    model_devices_to_hold,
    prefill_tok_per_s,
)
from .predict import (
    engine_defaults,
    predict_serving_with,
    serving_calibration,
    sram_devices_to_hold,
)
from .units import BYTES_PER_PARAM, PEAK_FLOP_COLUMN, cost_usd_per_mtok

__all__ = ["ledger_predictions", "ledger_peak_predictions", "ledger_engine_limits",
           "ledger_error_summary",
           "ledger_target_cells", "TARGET_ERROR_FRAC", "TARGET_GPU_TYPES_COUNT",
           "fit_host_overheads", "HOST_OVERHEAD_RANGES_S", "FIT_SOURCES", "ledger_fit_rows",
           "fit_fp4_matmul_frac", "act_quant_fixed_s", "ACT_QUANT_VARIANTS",
           "harness_launches_per_kernel",
           "EAGER_ACT_QUANT_BYTES_PER_ELEM",
           "ledger_same_setup_spread",
           "SRAM_LEDGER_DEFAULTS", "sram_ledger_predictions", "ledger_isl_tok",
           "ledger_isl_assumption_summary", "ISL_ASSUMPTION_FACTORS", "ledger_stated_summary",
           "STATED_COLUMNS", "ledger_osl_cv_ratio", "ledger_fresh_start_window_tok",
           "engine_validation_rows",
           "recorded_step_predictions", "fit_step_constants", "measured_copy_frac",
           "peer_comparison", "peer_error_summary", "ledger_kv_precision",
           "step_error_summary", "ledger_kv_assumption_summary", "efficiency_cost_cases",
           "efficiency_cost_sweep"]

_NEEDED = ("tp_devices", "n_devices", "isl_tok", "osl_tok", "weight_precision")


def _assumed_isl_tok(ledger):
    """The ledger's stated input-length assumptions as numbers, NaN where a row (or the
    table) states none. [tokens]"""
    if "assumed_isl_tok" not in ledger.columns:
        return pd.Series(np.nan, index=ledger.index)
    return pd.to_numeric(ledger["assumed_isl_tok"], errors="coerce")


def _isl_assumed(ledger):
    """Mask of the ledger rows whose input length is the stated assumption (no published
    ``isl_tok``, an ``assumed_isl_tok``)."""
    return ledger["isl_tok"].isna() & _assumed_isl_tok(ledger).notna()


def ledger_isl_tok(ledger):
    """Input tokens per request each ledger row is predicted at.

    Parameters
    ----------
    ledger : pandas.DataFrame
        Rows of ``econ.data.load("serving_benchmarks")`` (``isl_tok``, and ``assumed_isl_tok``
        where the table has it).

    Returns
    -------
    pandas.Series
        The published ``isl_tok``, else the row's stated assumption (``assumed_isl_tok``, its
        reason in the ledger's notes), else NaN. [tokens]
    """
    return ledger["isl_tok"].fillna(_assumed_isl_tok(ledger))


def _usable(ledger):
    """Rows the engine can predict: a GPU layout on one node with lengths and precision (an
    unpublished input length taken as the row's stated assumption, :func:`ledger_isl_tok`)."""
    hw = data.load("hardware")
    models = data.load("models")
    ledger = ledger.assign(isl_tok=ledger_isl_tok(ledger), isl_assumed=_isl_assumed(ledger))
    ok = ledger[list(_NEEDED)].notna().all(axis=1)
    ok &= ledger["hardware"].isin(hw.index[hw["device_kind"] == "gpu"])
    ok &= ledger["model"].isin(models.index)
    ok &= ledger["phase"].eq("serving")
    per_node = ledger["hardware"].map(hw["n_devices_per_node"])
    ok &= ledger["tp_devices"] <= per_node
    ok &= ledger["tpot_s"].notna() | ledger["output_per_device_tok_per_s"].notna()
    return ledger[ok]


#: What an SRAM ledger row is predicted at when the source does not say (per-user speeds
#: published without a layout, lengths or load): the frontier's request of 1,000 tokens in
#: and out, one request in flight (per-user speed does not depend on it while the pipeline's
#: stages are not all busy), the widest stage of :func:`econ.frontier_setups` (a whole node:
#: the fastest layout a vendor selling speed would run) and 16-bit weights.
SRAM_LEDGER_DEFAULTS = dict(isl_tok=1000.0, osl_tok=1000.0, concurrency=1.0,
                            weight_precision="bf16")


def _usable_sram(ledger):
    """SRAM rows the engine can predict: a known model and a measured per-user speed."""
    hw = data.load("hardware")
    models = data.load("models")
    ok = ledger["hardware"].isin(hw.index[hw["memory_kind"] == "sram"])
    ok &= ledger["model"].isin(models.index)
    ok &= ledger["phase"].eq("serving")
    ok &= ledger["per_user_tok_per_s"].notna()
    return ledger[ok]


def _sram_prediction(r, hardware_overrides=None):
    """(prediction, note) of one SRAM ledger row, at :data:`SRAM_LEDGER_DEFAULTS` where the
    row is silent; the chip count the way :func:`econ.frontier_setups` sizes it."""
    row = data.row("hardware", r["hardware"]).copy()
    for col, value in ((hardware_overrides or {}).get(r["hardware"]) or {}).items():
        row[col] = value
    d = SRAM_LEDGER_DEFAULTS
    said = []

    def pick(col, default, what):
        v = r.get(col)
        if isinstance(v, str) and v:
            return v
        if v is not None and not isinstance(v, str) and np.isfinite(v):
            return float(v)
        said.append(f"{what} {default:g}" if not isinstance(default, str) else
                    f"{what} {default}")
        return default

    precision = pick("weight_precision", d["weight_precision"], "weights")
    isl = pick("isl_tok", d["isl_tok"], "input tokens")
    osl = pick("osl_tok", d["osl_tok"], "output tokens")
    conc = pick("concurrency_count", d["concurrency"], "concurrency")
    tp = int(r["tp_devices"]) if np.isfinite(r.get("tp_devices", np.nan)) \
        else int(row["n_devices_per_node"])
    if np.isfinite(r.get("n_devices", np.nan)):
        n = int(r["n_devices"])
    else:
        n = int(sram_devices_to_hold(r["model"], row, precision, tp=tp, concurrency=conc,
                                     isl_tok=isl, osl_tok=osl))
        said.append(f"{n} devices (the fewest holding the weights and the cache), tp {tp}")
    p = predict_serving_with(r["model"], row, precision, n_devices=n, tp=tp, isl_tok=isl,
                             osl_tok=osl, concurrency=conc)
    note = "assumed (not in the source): " + ", ".join(said) if said else ""
    if "specdec" in str(r.get("model_published", "")).lower():
        note += "; measured with speculative decoding (draft model unstated), predicted without"
    return p, note


def ledger_kv_precision(row, assume_kv=True):
    """The cache precision a ledger row is predicted at: published, else the row's stated
    assumption (``kv_precision_assumed``, unless ``assume_kv`` is false), else BF16."""
    for col in ("kv_precision", "kv_precision_assumed")[:2 if assume_kv else 1]:
        v = row.get(col)
        if isinstance(v, str) and v:
            return v
    return "bf16"


def _per_user_tok_per_s(row):
    """A ledger row's per-user speed: the published one, else ``1 / TPOT`` (the same
    definition: InferenceX's interactivity, :func:`econ.predict_serving`'s
    ``tok_per_s_per_user``). [tok/s]"""
    published = row["per_user_tok_per_s"]
    return float(published) if np.isfinite(published) else 1.0 / float(row["tpot_s"])


def _compared_with_median_step(row):
    """Whether a ledger row's per-user speed is compared with the median step: its latency
    is a median inter-token latency (``statistic`` median, a typical step) and it is
    predicted at its steady state (a request-by-request burst gives a mean)."""
    return row.get("statistic") == "median" and not _request_by_request(row)


def _predicted_per_user_tok_per_s(row, prediction):
    """The per-user speed a ledger row's prediction gives for what the row measured: the
    median step (``tpot_median_s`` of :func:`econ.predict_serving_with`) where
    :func:`_compared_with_median_step`, else the mean. [tok/s]"""
    if _compared_with_median_step(row):
        return 1.0 / float(prediction["tpot_median_s"])
    return float(prediction["tok_per_s_per_user"])


def _matmul_precision(row, hardware):
    """The precision a ledger row's matmuls run at: its weights', or BF16 where the device
    has no units for them (weight-only kernels: FP4 weights on Hopper). An unknown device
    keeps the weights' (the prediction then names it), as does a row without a precision
    (an SRAM row)."""
    weights = row["weight_precision"]
    if weights not in PEAK_FLOP_COLUMN:
        return weights
    peak = hardware[PEAK_FLOP_COLUMN[weights]].get(row["hardware"], 1.0)
    return weights if np.isfinite(peak) else "bf16"


def _fp4_matmul_rows(ledger):
    """Mask of the ledger rows whose matmuls run in FP4."""
    hardware = data.load("hardware")
    return ledger.apply(lambda r: _matmul_precision(r, hardware) == "fp4", axis=1)


#: Ledger scenarios run through an engine's stock server and benchmark client, where the
#: engine's scheduler defaults hold unless the row states its own settings.
STOCK_SERVER_SCENARIOS = ("fixed_concurrency", "burst")


def ledger_engine_limits(row, engine_limits=True):
    """The scheduler limits a ledger row ran under: ``max_running_requests`` and
    ``prefill_chunk_tok`` as the run set them (the row's columns), else, for a run of an
    engine's stock server (:data:`STOCK_SERVER_SCENARIOS`), the engine's defaults
    (:func:`econ.engine_defaults`, where the engine and release resolve); None where neither
    says. ``engine_limits=False``: none (every request that fits runs, prompts join steps
    without a token budget)."""
    out = dict(max_running_requests=None, prefill_chunk_tok=None)
    if not engine_limits:
        return out
    if row["scenario"] in STOCK_SERVER_SCENARIOS:
        d = engine_defaults(str(row["framework"]), str(row["framework_version"]),
                            row["hardware"], row["model"],
                            dp_attention=str(row["dp_attention"]).lower() == "true")
        if d is not None:
            out.update(max_running_requests=d["max_running_requests"],
                       prefill_chunk_tok=d["prefill_chunk_tok"])
    for key, col in (("max_running_requests", "max_running_requests_count"),
                     ("prefill_chunk_tok", "prefill_chunk_tok")):
        if np.isfinite(row[col]):
            out[key] = float(row[col])
    return out


def _stated(row, column):
    """A ledger row's value in a column its source may leave empty (:data:`STATED_COLUMNS`),
    or None where it is empty."""
    v = row.get(column)
    if isinstance(v, str):
        return v or None
    return float(v) if v is not None and np.isfinite(v) else None


def ledger_sampler(row):
    """How a ledger row's engine chose its tokens (column ``sampler``, one of
    :data:`econ.predict.SAMPLERS`), or None where the source does not say (no sampling time
    charged)."""
    return _stated(row, "sampler")


def ledger_osl_cv_ratio(row):
    """How much a ledger row's output lengths spread (column ``osl_cv_ratio``, their standard
    deviation over their mean, from the source's published distribution), or 0 where the
    source does not say: every request at the mean length. [ratio]"""
    v = _stated(row, "osl_cv_ratio")
    return 0.0 if v is None else v


def ledger_fresh_start_window_tok(row):
    """The decode steps a ledger row's measurement averages over from a start where every
    slot began a fresh request (column ``fresh_start_window_tok``, derived from how the
    source measures), or None where the run is measured in a steady state. [tokens]"""
    return _stated(row, "fresh_start_window_tok")


def _row_arguments(r, hardware, assume_kv=True, engine_limits=True):
    """(:func:`econ.predict_serving_with` keyword arguments, note) of a GPU ledger row (one of
    :func:`_usable`'s): its layout, lengths, load, cache and matmul precisions, and the
    scheduler limits it ran under; the note says when its weights run BF16 matmuls and when
    its input length is the stated assumption."""
    conc = r["concurrency_count"]
    matmul = _matmul_precision(r, hardware)
    notes = [] if matmul == r["weight_precision"] else [
        f"{r['weight_precision']} weights, BF16 matmuls: {r['hardware']} has no "
        f"{r['weight_precision']} units"]
    if bool(r.get("isl_assumed", False)):
        notes.append(f"input length assumed ({r['isl_tok']:g} tokens): the source publishes "
                     "none")
    if _compared_with_median_step(r):
        notes.append("a median inter-token latency: per user against the median step")
    note = "; ".join(notes)
    kwargs = dict(
        model=r["model"], hardware=r["hardware"], precision=r["weight_precision"],
        n_devices=int(r["n_devices"]), tp=int(r["tp_devices"]),
        ep=int(r["ep_devices"]) if np.isfinite(r["ep_devices"]) else 1,
        dp_attention=str(r["dp_attention"]).lower() == "true", isl_tok=r["isl_tok"],
        osl_tok=r["osl_tok"], concurrency=None if not np.isfinite(conc) else conc,
        kv_precision=ledger_kv_precision(r, assume_kv), compute_precision=matmul,
        **ledger_engine_limits(r, engine_limits), sampler=ledger_sampler(r),
        osl_cv_ratio=ledger_osl_cv_ratio(r),
        fresh_start_window_tok=ledger_fresh_start_window_tok(r))
    return kwargs, note


def ledger_decode_priority(row):
    """Whether a ledger row's engine runs decodes before waiting prompts (True) or prompts
    first (False), from :func:`econ.engine_defaults`; an engine release the table does not
    resolve takes its framework's rule where every row of the table agrees on it (SGLang:
    prefill first), else decode first."""
    d = engine_defaults(str(row["framework"]), str(row["framework_version"]), row["hardware"],
                        row["model"], dp_attention=str(row["dp_attention"]).lower() == "true")
    if d is not None and isinstance(d["decode_priority"], str):
        return d["decode_priority"] != "prefill_first"
    rules = data.load("engine_defaults")
    rules = set(rules.loc[rules["framework"] == row["framework"], "decode_priority"].dropna())
    return rules != {"prefill_first"}


def _burst_prediction(row, kwargs, step_calibration=None, serving=None):
    """A row served request by request (:func:`_request_by_request`):
    :func:`econ.burst.predict_burst` on :func:`econ.burst.workload_lengths`, a burst's
    ``concurrency_count`` requests all at once, a closed loop's ``requests_count`` with at
    most ``concurrency_count`` in flight (the client's cap, ``client_concurrency``, under
    which the engine's own applies); kept for the process while the tables it reads are
    unchanged (the validation notebook predicts the same runs three times)."""
    n_requests = row["concurrency_count"]
    if row["scenario"] == "fixed_concurrency":
        n_requests = row["requests_count"]
        kwargs = dict(kwargs, client_concurrency=float(row["concurrency_count"]))
    # the lengths are the requests' own: no spread around a mean to account for
    args = tuple(sorted((k, v) for k, v in kwargs.items()
                        if k not in ("concurrency", "osl_cv_ratio", "fresh_start_window_tok")))
    return dict(_burst_prediction_cached(
        row["length_distribution"], int(n_requests), float(row["isl_tok"]),
        float(row["osl_tok"]), args, ledger_decode_priority(row), step_calibration, serving,
        tuple(data.stamp(t) for t in _BURST_TABLES)))


#: The tables a burst prediction reads: their stamps key the cache of burst predictions.
_BURST_TABLES = ("models", "hardware", "calibration", "sharegpt_lengths", "sram_fabric")


@functools.lru_cache(maxsize=512)
def _burst_prediction_cached(distribution, n_requests, isl_tok, osl_tok, args, decode_first,
                             step_calibration, serving, _stamps):
    isl, osl = workload_lengths(distribution, n_requests, isl_tok, osl_tok)
    return predict_burst(**dict(args, isl_tok=isl, osl_tok=osl), decode_priority=decode_first,
                         step_calibration=step_calibration, serving=serving)


def _request_by_request(row):
    """Whether a ledger row is predicted request by request: its client fixes how its
    lengths spread (``length_distribution``) and how many requests it sends, all at once (a
    burst) or ``requests_count`` of them with at most ``concurrency_count`` in flight (a
    closed loop, ``fixed_concurrency``)."""
    if row.get("length_distribution") not in LENGTH_DISTRIBUTIONS:
        return False
    return row["scenario"] == "burst" or (row["scenario"] == "fixed_concurrency"
                                          and _stated(row, "requests_count") is not None)


def _run_prediction(row, kwargs, step_calibration=None, serving=None):
    """What a ledger row's run measured on average, predicted: a burst or a closed loop
    whose client fixes its lengths and request count request by request
    (:func:`_burst_prediction`), any other row at the steady state of its load."""
    if _request_by_request(row):
        return _burst_prediction(row, kwargs, step_calibration, serving)
    return predict_serving_with(**kwargs, step_calibration=step_calibration, serving=serving)


#: The keyword arguments of :func:`econ.predict_serving_with` it is vectorized over, which
#: ledger rows of one setup may differ in.
_VECTOR_ARGUMENTS = ("concurrency", "isl_tok", "osl_tok", "osl_cv_ratio",
                     "fresh_start_window_tok", "max_running_requests", "prefill_chunk_tok")


def _steady_state_predictions(kwargs_by_row, step_calibration=None, serving=None):
    """{row key: :func:`econ.predict_serving_with`'s outputs} of ledger rows predicted at
    their steady state, one call per setup: rows whose arguments differ only in
    :data:`_VECTOR_ARGUMENTS` (None in a row's argument stays apart) share a vectorized
    call. A setup whose call fails is left out: its rows are predicted one by one, each with
    its own error."""
    groups = {}
    for key, kw in kwargs_by_row.items():
        fixed = tuple(sorted((k, v) for k, v in kw.items() if k not in _VECTOR_ARGUMENTS))
        nones = tuple(kw[k] is None for k in _VECTOR_ARGUMENTS)
        groups.setdefault((fixed, nones), []).append(key)
    out = {}
    for (fixed, nones), keys in groups.items():
        vector = {k: None if none else np.array([float(kwargs_by_row[key][k]) for key in keys])
                  for k, none in zip(_VECTOR_ARGUMENTS, nones)}
        try:
            p = predict_serving_with(**dict(fixed), **vector, step_calibration=step_calibration,
                                     serving=serving)
        except ValueError:
            continue
        p = {name: np.broadcast_to(v, (len(keys),)) for name, v in p.items()}
        for i, key in enumerate(keys):
            out[key] = {name: v[i] for name, v in p.items()}
    return out


def ledger_predictions(ledger=None, step_calibration=None, serving=None, assume_kv=True,
                       hardware_overrides=None, engine_limits=True):
    """Predict every usable ledger row; one row per measurement with predicted and measured.

    A row's cache precision is the published one, else the row's stated assumption
    (``kv_precision_assumed``, with its reason in the ledger's notes), else BF16;
    ``assume_kv=False`` drops the assumptions (every unstated cache at BF16), to show how much
    the errors rest on them. A row whose source publishes no input length is predicted at
    its stated assumption (:func:`ledger_isl_tok`; its ``note`` says so, and
    :func:`ledger_isl_assumption_summary` shows how much the errors rest on it).

    SRAM rows (Groq, Cerebras: per-user speeds published without chips, lengths or load) are
    predicted as :func:`econ.predict_serving` prices SRAM machines, at the datasheet (the
    constants ``step_calibration`` and ``serving`` are GPU ones and are not applied to them),
    with :data:`SRAM_LEDGER_DEFAULTS` where the source is silent and the chip count
    :func:`econ.sram_devices_to_hold` gives (what :func:`econ.frontier_setups` buys); the
    row's ``note`` says what was assumed. Each GPU row runs under the scheduler limits it
    ran under (:func:`ledger_engine_limits`; ``engine_limits=False`` drops them).
    A burst row whose client fixes how its lengths spread (``length_distribution``) is served
    request by request (:func:`econ.predict_burst` on :func:`econ.workload_lengths`), the
    tail of long outputs included, and so is a closed-loop row that also states how many
    requests its client sent (``requests_count``: a burst of that many, at most
    ``concurrency_count`` in flight), its ramp-up and drain included; other rows at the
    steady state of their load.
    ``hardware_overrides`` (``{name: {column: value}}``)
    fills cells the hardware table leaves empty (the CS-3's dense peak); a row the engine
    cannot take (no such figure, a model not in the table) becomes an ``error`` row.

    Returns
    -------
    pandas.DataFrame
        Index: the ledger key. Columns: ``split``, ``source``, ``hardware``, ``memory_kind``
        (``hbm``, ``gddr`` or ``sram``), ``model``, ``architecture`` (``dense`` or ``moe``),
        ``scenario`` (how the run held its load: the ledger's column),
        ``request_by_request`` (True where the run was served request by request,
        :func:`econ.predict_burst`: a burst, or a closed loop that states its request count,
        whose client fixes how its lengths spread), ``weight_only_matmuls`` (True where the
        row's quantized weights run through BF16 matmuls, the GPU having no units for their
        format: weight-only kernels, whose dequantizing the engine does not price),
        ``length_distribution`` (that spread, where the client fixes it: the ledger's column),
        ``metric`` (``tok_per_s_per_user``, the published per-user speed or ``1 / TPOT``,
        and ``output_tok_per_s_per_device``: the two figures a buyer compares),
        ``measured``, ``predicted``, ``ratio`` (predicted over
        measured) [ratio], ``error_frac`` (|ratio - 1|) [fraction], ``note``.
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    hardware = data.load("hardware")
    rows = []
    usable = _usable(ledger)
    rbr = {key: _request_by_request(r) for key, r in ledger.iterrows()}
    args = {key: _row_arguments(r, hardware, assume_kv, engine_limits)
            for key, r in usable.iterrows()}
    weight_only = {key: args[key][0]["compute_precision"] != r["weight_precision"]
                   for key, r in usable.iterrows()}
    steady = _steady_state_predictions(
        {key: a[0] for key, a in args.items() if not rbr[key]}, step_calibration, serving)
    for key, r in usable.iterrows():
        kwargs, note = args[key]
        try:
            p = steady[key] if key in steady else _run_prediction(r, kwargs, step_calibration,
                                                                  serving)
        except ValueError as exc:
            rows.append(dict(name=key, split=r["split"], source=r["source"],
                             hardware=r["hardware"], model=r["model"], metric="error",
                             measured=np.nan, predicted=np.nan, note=str(exc)))
            continue
        predicted = dict(tok_per_s_per_user=_predicted_per_user_tok_per_s(r, p),
                         output_tok_per_s_per_device=p["output_tok_per_s_per_device"])
        for metric, measured in (("tok_per_s_per_user", _per_user_tok_per_s(r)),
                                 ("output_tok_per_s_per_device",
                                  r["output_per_device_tok_per_s"])):
            if np.isfinite(measured):
                rows.append(dict(name=key, split=r["split"], source=r["source"],
                                 hardware=r["hardware"], model=r["model"], metric=metric,
                                 measured=float(measured),
                                 predicted=float(predicted[metric]), note=note))
    for key, r in _usable_sram(ledger).iterrows():
        base = dict(name=key, split=r["split"], source=r["source"], hardware=r["hardware"],
                    model=r["model"])
        try:
            p, note = _sram_prediction(r, hardware_overrides)
        except ValueError as exc:
            rows.append(dict(base, metric="error", measured=np.nan, predicted=np.nan,
                             note=str(exc)))
            continue
        rows.append(dict(base, metric="tok_per_s_per_user",
                         measured=float(r["per_user_tok_per_s"]),
                         predicted=float(p["tok_per_s_per_user"]), note=note))
    out = pd.DataFrame(rows).set_index("name")
    out["memory_kind"] = out["hardware"].map(data.load("hardware")["memory_kind"])
    out = _with_errors(out)
    out.insert(out.columns.get_loc("architecture") + 1, "scenario",
               out.index.map(ledger["scenario"]))
    if "length_distribution" in ledger.columns:
        out.insert(out.columns.get_loc("scenario") + 1, "length_distribution",
                   out.index.map(ledger["length_distribution"]).astype(object))
    out.insert(out.columns.get_loc("scenario") + 1, "request_by_request",
               out.index.map(rbr).astype(bool))
    out.insert(out.columns.get_loc("request_by_request") + 1, "weight_only_matmuls",
               [bool(weight_only.get(k, False)) for k in out.index])
    return out


def _with_errors(out):
    """``out`` (rows with ``model``, ``measured`` and ``predicted``) with ``architecture``,
    ``ratio`` (predicted over measured) and ``error_frac`` (|ratio - 1|) added."""
    out["architecture"] = ["moe" if model_spec(m).moe else "dense" for m in out["model"]]
    out["ratio"] = out["predicted"] / out["measured"]
    out["error_frac"] = (out["ratio"] - 1.0).abs()
    return out


def ledger_peak_predictions(ledger=None, step_calibration=None, serving=None):
    """Burst runs' busiest second against the engine's decode rate at the run's load.

    A burst (every request sent at once, scenario ``burst``) has no steady state: prompts are
    computed first while few requests decode, then the batch decodes, then it drains as
    requests finish (with outputs of varied lengths, a long tail at small batches). Its
    average output rate, what the ledger's ``output_per_device_tok_per_s`` holds, depends on
    that shape as much as on the engine. The benchmark clients also print the run's busiest
    second (``peak_output_tok_per_s``: the most output tokens in one whole second), when the
    running requests decode together: :func:`econ.predict_serving_with` in the decode phase
    at the run's concurrency, under the scheduler limits the run had, predicts that rate.

    Returns
    -------
    pandas.DataFrame
        One row per burst run with a printed peak (GPU rows the engine takes): ``split``,
        ``source``, ``hardware``, ``model``, ``architecture``, ``metric``
        (``peak_output_tok_per_s_per_device``), ``measured`` (the peak over the run's
        devices), ``predicted`` (the decode rate) [tokens/s], ``ratio``, ``error_frac``,
        and the same run's average: ``average_measured``, ``average_predicted`` (what
        :func:`ledger_predictions` predicts: the run served request by request where its
        lengths' spread is stated, else the in-flight steady state at its load) [tokens/s] and
        ``average_error_frac`` [fraction].
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    hardware = data.load("hardware")
    runs = _usable(ledger)
    runs = runs[(runs["scenario"] == "burst") & runs["peak_output_tok_per_s"].notna()]
    rows = []
    for key, r in runs.iterrows():
        kwargs, _ = _row_arguments(r, hardware)
        try:
            mixed = _run_prediction(r, kwargs, step_calibration, serving)
            decode = predict_serving_with(**kwargs, step_calibration=step_calibration,
                                          serving=serving, phase="decode")
        except ValueError:
            continue        # ledger_predictions reports the row as an error
        rows.append(dict(name=key, split=r["split"], source=r["source"],
                         hardware=r["hardware"], model=r["model"],
                         metric="peak_output_tok_per_s_per_device",
                         measured=float(r["peak_output_tok_per_s"] / r["n_devices"]),
                         predicted=float(decode["output_tok_per_s_per_device"]),
                         average_measured=float(r["output_per_device_tok_per_s"]),
                         average_predicted=float(mixed["output_tok_per_s_per_device"])))
    cols = ["split", "source", "hardware", "model", "architecture", "metric", "measured",
            "predicted", "ratio", "error_frac", "average_measured", "average_predicted",
            "average_error_frac"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = _with_errors(pd.DataFrame(rows).set_index("name"))
    out["average_error_frac"] = (out["average_predicted"] / out["average_measured"] - 1.0).abs()
    return out[cols]


def sram_ledger_predictions(hardware_overrides=None):
    """:func:`ledger_predictions` of the SRAM machines' rows only (Groq, Cerebras), with
    ``hardware_overrides`` (the CS-3's unpublished dense peak): predicted against measured
    per-user speed, and what was assumed, in ``note``."""
    ledger = data.load("serving_benchmarks")
    hw = data.load("hardware")
    sram = ledger[ledger["hardware"].isin(hw.index[hw["memory_kind"] == "sram"])]
    return ledger_predictions(sram, hardware_overrides=hardware_overrides)


def ledger_error_summary(pred, by=("split",)):
    """Median and count of ``error_frac`` by the given columns (predicted rows only)."""
    ok = pred[pred["metric"] != "error"]
    g = ok.groupby(list(by))["error_frac"]
    return pd.DataFrame({"median_error_frac": g.median(), "n_rows": g.size()})


def ledger_same_setup_spread(pred=None, ledger=None, metric="tok_per_s_per_user",
                             by=("hardware", "model", "tp_devices", "concurrency_count",
                                 "isl_tok", "osl_tok")):
    """Measurements of one setup by different software: how far apart they are.

    Rows of the ledger that share hardware, model, tensor-parallel size, concurrency and
    input and output lengths but come from different engines (source, framework, version)
    measure the same hardware doing the same work. A spread ``s`` (largest over smallest)
    means no single prediction is within ``(s - 1) / (s + 1)`` of all of them: what no model
    of the hardware alone can be closer than.

    Parameters
    ----------
    pred : pandas.DataFrame, optional
        :func:`ledger_predictions` (default: computed).
    ledger : pandas.DataFrame, optional
        ``econ.data.load("serving_benchmarks")`` (default).
    metric : {"tok_per_s_per_user", "output_tok_per_s_per_device"}
    by : sequence of str
        Ledger columns that define one setup.

    Returns
    -------
    pandas.DataFrame
        One row per measurement in a setup measured by more than one engine: the setup
        columns, the layout (``ep_devices``, ``dp_attention``), ``source``, ``framework``,
        ``framework_version``, ``isl_tok``, ``osl_tok``,
        ``measured``, ``predicted``, ``ratio`` and ``spread_ratio`` (largest over smallest
        measured value of the setup) [ratio]; sorted by setup.
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    pred = ledger_predictions(ledger) if pred is None else pred
    by = list(by)
    rows = pred[pred["metric"] == metric][["measured", "predicted", "ratio"]]
    cols = list(dict.fromkeys(by + ["ep_devices", "dp_attention", "source", "framework",
                                    "framework_version", "isl_tok", "osl_tok"]))
    out = ledger.loc[rows.index, cols].join(rows)
    engine = out["source"].astype(str) + "|" + out["framework"].astype(str) + "|" \
        + out["framework_version"].astype(str)
    n_engines = engine.groupby([out[c] for c in by]).transform("nunique")
    out = out[n_engines > 1]
    g = out.groupby(by)["measured"]
    out = out.assign(spread_ratio=g.transform("max") / g.transform("min"))
    return out.sort_values(by + ["measured"])


#: The validation target per GPU type: median |predicted/measured - 1| of each of dense and MoE
#: models, per-user speed and output tokens/s per device.
TARGET_ERROR_FRAC = 0.20
#: GPU types on which all four of those medians must be within it.
TARGET_GPU_TYPES_COUNT = 3.0


def ledger_target_cells(pred, target_frac=TARGET_ERROR_FRAC):
    """Per GPU type, the validation median of each of the four cells the target names
    (dense and mixture-of-experts models, tokens/s per user and output tokens/s per device)
    and whether all four are measured and within ``target_frac``.

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`ledger_predictions` (its validation rows on HBM devices are used).
    target_frac : float
        The target median error. [fraction]

    Returns
    -------
    pandas.DataFrame
        Index ``hardware``; one column per cell (``dense:tok_per_s_per_user``, ...) [fraction],
        ``n_cells`` (cells measured) [-], ``fewest_measurements_count`` (measurements behind
        the thinnest measured cell) [-], ``worst_error_frac`` [fraction], ``within_target``
        (bool); sorted by the worst cell.
    """
    target = fraction("target_frac", target_frac, allow_zero=False)
    ok = pred[(pred["metric"] != "error") & (pred["split"] == "validation")]
    if "memory_kind" in ok.columns:
        ok = ok[ok["memory_kind"] != "sram"]
    cols = [f"{a}:{m}" for a in ("dense", "moe")
            for m in ("tok_per_s_per_user", "output_tok_per_s_per_device")]
    g = ok.groupby(["hardware", "architecture", "metric"])["error_frac"]
    table, counts = (x.unstack(["architecture", "metric"]) for x in (g.median(), g.size()))
    for t in (table, counts):
        t.columns = [f"{a}:{m}" for a, m in t.columns]
    table, counts = table.reindex(columns=cols), counts.reindex(columns=cols)
    out = table.assign(n_cells=table.notna().sum(axis=1).astype(float),
                       fewest_measurements_count=counts.min(axis=1).astype(float),
                       worst_error_frac=table.max(axis=1))
    out["within_target"] = (out["n_cells"] == len(cols)) & (out["worst_error_frac"] <= target)
    return out.sort_values("worst_error_frac")


def engine_validation_rows(steps, serving, serving_no_kv_assumption=None, peers=None,
                           peaks=None):
    """Result rows (``econ.results_frame``) of the engine's errors: recorded steps fitted to
    and held out (BF16; the harness's FP8 steps apart), and ledger rows fitted to and never
    fitted to. ``steps`` from :func:`recorded_step_predictions`, ``serving`` from
    :func:`ledger_predictions`; ``serving_no_kv_assumption``, when given, from
    ``ledger_predictions(assume_kv=False)`` adds the validation error without the ledger's
    stated cache-precision assumptions. Subjects ``engine:recorded-steps`` and
    ``predict_serving:ledger`` (``:dense`` and ``:moe`` for the validation error by
    architecture, on HBM devices; ``:fixed-concurrency``, ``:offline-or-batch``, ``:burst``
    ``:burst-request-by-request`` (the bursts whose lengths' spread is stated) and
    ``:closed-loop-request-by-request`` (the closed loops whose lengths and request count are
    stated) by how the run held its load, with their ``validation_measurements_count``;
    ``:weight-only-matmuls`` and ``:native-matmuls`` (quantized weights through BF16 matmuls,
    or not) with their count and ``validation_predicted_to_measured_ratio`` (the median
    ratio: which way the engine misses);
    ``:sram`` for the SRAM machines' per-user speeds, kept apart); metrics end in
    ``_error_frac`` (median |predicted/measured - 1|).
    ``peers``, when given (:func:`peer_comparison`), adds the peer's and the engine's
    validation error on the rows both predict (subjects ``<peer>:ledger`` and
    ``predict_serving:ledger:shared-with-peer``). ``peaks``, when given
    (:func:`ledger_peak_predictions`), adds the burst runs' busiest-second error and, on the
    same runs, the average-rate error (subjects ``predict_serving:ledger:burst-peak-second``
    and ``predict_serving:ledger:burst-average``).
    """
    bf16 = steps[steps["weight_precision"] == "bf16"]
    ok = serving[serving["metric"] != "error"]
    kind = ok["memory_kind"] if "memory_kind" in ok.columns else pd.Series("", index=ok.index)
    sram, ok = ok[kind == "sram"], ok[kind != "sram"]
    src_steps, src_ledger = "measured:data/gpu_steps.csv", "measured:data/serving_benchmarks.csv"
    rows = [
        dict(metric="fitted_step_error_frac", subject="engine:recorded-steps",
             value=float(bf16.loc[bf16["split"] == "fit", "error_frac"].median()),
             source_url=src_steps, verdict=f"{int((bf16['split'] == 'fit').sum())} BF16 steps "
                                           "fitted to"),
        dict(metric="held_out_step_error_frac", subject="engine:recorded-steps",
             value=float(bf16.loc[bf16["split"] == "holdout", "error_frac"].median()),
             source_url=src_steps, verdict=f"{int((bf16['split'] == 'holdout').sum())} BF16 "
                                           "steps never fitted to"),
        dict(metric="fp8_harness_step_error_frac", subject="engine:recorded-steps",
             value=float(steps.loc[steps["weight_precision"] == "fp8", "error_frac"].median()),
             source_url=src_steps, verdict="FP8 steps of a harness that quantizes in separate "
                                           "kernels; never fitted to"),
        dict(metric="fitted_serving_error_frac", subject="predict_serving:ledger",
             value=float(ok.loc[ok["split"] == "fit", "error_frac"].median()),
             source_url=src_ledger, verdict=f"{int((ok['split'] == 'fit').sum())} measurements "
                                            "fitted to (InferenceX, MLPerf)"),
        dict(metric="validation_serving_error_frac", subject="predict_serving:ledger",
             value=float(ok.loc[ok["split"] == "validation", "error_frac"].median()),
             source_url=src_ledger, verdict=f"{int((ok['split'] == 'validation').sum())} "
                                            "measurements never fitted to"),
    ]
    val = ok[ok["split"] == "validation"]
    for arch, label in (("dense", "dense models"), ("moe", "mixture-of-experts models")):
        part = val[val["architecture"] == arch]
        if len(part):
            rows.append(dict(
                metric="validation_serving_error_frac", subject=f"predict_serving:ledger:{arch}",
                value=float(part["error_frac"].median()), source_url=src_ledger,
                verdict=f"{len(part)} measurements of {label} never fitted to, on "
                        f"{part['hardware'].nunique()} GPU types"))
        # the two figures apart: per-user speed, output tokens/s per device
        for metric, what in (("tok_per_s_per_user", "per-user speeds"),
                             ("output_tok_per_s_per_device", "output rates per device")):
            one = part[part["metric"] == metric]
            if len(one):
                rows.append(dict(
                    metric="validation_serving_error_frac",
                    subject=f"predict_serving:ledger:{arch}:{metric}",
                    value=float(one["error_frac"].median()), source_url=src_ledger,
                    verdict=f"{len(one)} {what} of {label} never fitted to, on "
                            f"{one['hardware'].nunique()} GPU types"))
    if len(val):
        cells = ledger_target_cells(val)
        within = cells.index[cells["within_target"]]
        rows.append(dict(
            metric="gpu_types_within_target_count", subject="predict_serving:ledger",
            value=float(len(within)), source_url=src_ledger,
            verdict="; ".join(
                f"{hw}: {r['worst_error_frac']:.0%} at worst"
                + ("" if r["n_cells"] == 4 else f" ({int(r['n_cells'])} of 4 measured)")
                for hw, r in cells.iterrows())))
    # how the run held its load: a burst (every request at once) has no steady state
    if "scenario" in val.columns:
        held = val["scenario"]
        rbr = val.get("request_by_request", pd.Series(False, val.index)).eq(True)
        for name, part, what in (
                ("fixed-concurrency", val[held == "fixed_concurrency"],
                 "at a fixed number of requests in flight"),
                ("offline-or-batch", val[held.isin(["offline", "batch"])],
                 "offline (the engine's maximum load) or in fixed batches"),
                ("burst", val[held == "burst"], "of burst runs (every request sent at once; "
                                                "the average over ramp and drain)"),
                ("burst-request-by-request", val[(held == "burst") & rbr],
                 "of burst runs whose client fixes how the lengths spread, served request "
                 "by request (econ.predict_burst)"),
                ("closed-loop-request-by-request", val[(held == "fixed_concurrency") & rbr],
                 "of closed loops whose client fixes the lengths and the request count, "
                 "served request by request with their ramp-up and drain (econ.predict_burst)")):
            rows += _subset_rows(name, part, what, src_ledger)
    # quantized weights through BF16 matmuls (weight-only kernels) against the rest
    if "weight_only_matmuls" in val.columns:
        wo = val["weight_only_matmuls"].eq(True)
        for name, part, what in (
                ("weight-only-matmuls", val[wo],
                 "whose quantized weights run through BF16 matmuls on a GPU without units "
                 "for their format (weight-only kernels)"),
                ("native-matmuls", val[~wo], "whose matmuls run at their weights' precision")):
            rows += _subset_rows(name, part, what, src_ledger, with_ratio=True)
    if len(sram):
        rows.append(dict(
            metric="validation_serving_error_frac", subject="predict_serving:ledger:sram",
            value=float(sram["error_frac"].median()), source_url=src_ledger,
            verdict=f"{len(sram)} per-user speeds of SRAM machines "
                    f"({', '.join(sorted(sram['hardware'].unique()))}) never fitted to; "
                    "layouts and loads assumed (SRAM_LEDGER_DEFAULTS)"))
    same = ledger_same_setup_spread(ok) if ok.index.isin(data.keys("serving_benchmarks")).all() \
        else pd.DataFrame()
    if len(same):
        top = same.loc[same["spread_ratio"].idxmax()]
        n_setups = len(same.groupby(["hardware", "model", "tp_devices", "concurrency_count",
                                     "isl_tok", "osl_tok"]))
        rows.append(dict(
            metric="same_workload_tpot_spread_ratio", subject="ledger:engines",
            value=float(top["spread_ratio"]), source_url=src_ledger,
            verdict=f"largest of {n_setups} setups measured by several engines (same hardware, "
                    f"model, tp, concurrency, lengths): {top['model']} on {int(top['tp_devices'])} "
                    f"{top['hardware']} at concurrency {top['concurrency_count']:g}"))
    if peaks is not None and (peaks["split"] == "validation").any():
        pv = peaks[peaks["split"] == "validation"]
        runs = f"{len(pv)} burst runs never fitted to (every request sent at once)"
        rows += [dict(metric="validation_serving_error_frac",
                      subject="predict_serving:ledger:burst-peak-second",
                      value=float(pv["error_frac"].median()), source_url=src_ledger,
                      verdict=f"{runs}: their busiest second's output rate per device against "
                              "the decode rate at the run's load"),
                 dict(metric="validation_serving_error_frac",
                      subject="predict_serving:ledger:burst-average",
                      value=float(pv["average_error_frac"].median()), source_url=src_ledger,
                      verdict=f"{runs}: their average output rate per device against "
                              "ledger_predictions (request by request where the lengths' "
                              "spread is stated, else the steady state at the run's load)"),
                 dict(metric="burst_runs_with_peak_count", subject="predict_serving:ledger",
                      value=float(len(pv)), source_url=src_ledger,
                      verdict="validation burst runs whose benchmark client printed the "
                              "busiest second")]
    if peers is not None and (peers["split"] == "validation").any():
        both = peers[peers["split"] == "validation"]
        peer = str(both["peer"].iloc[0])
        what = f"{len(both)} measurements never fitted to that {peer} also predicts"
        rows += [dict(metric="validation_serving_error_frac",
                      subject="predict_serving:ledger:shared-with-peer",
                      value=float(both["error_frac"].median()), source_url=src_ledger,
                      verdict=what),
                 dict(metric="peer_validation_serving_error_frac", subject=f"{peer}:ledger",
                      value=float(both["peer_error_frac"].median()),
                      source_url="derived:data/peer_predictions.csv", verdict=what)]
    if serving_no_kv_assumption is not None:
        plain = serving_no_kv_assumption[serving_no_kv_assumption["metric"] != "error"]
        if "memory_kind" in plain.columns:
            plain = plain[plain["memory_kind"] != "sram"]
        n = int((plain["split"] == "validation").sum())
        rows.append(dict(
            metric="validation_serving_error_no_kv_assumption_frac",
            subject="predict_serving:ledger",
            value=float(plain.loc[plain["split"] == "validation", "error_frac"].median()),
            source_url=src_ledger, verdict=f"{n} measurements never fitted to, every cache "
                                           "precision the source does not state at BF16"))
    return rows


def _subset_rows(name, part, what, source_url, with_ratio=False):
    """Result rows of a subset of the validation measurements (subject
    ``predict_serving:ledger:<name>``): its median error and count, and with ``with_ratio``
    its median predicted over measured; none for an empty subset."""
    if not len(part):
        return []
    subject = f"predict_serving:ledger:{name}"
    rows = [dict(metric="validation_serving_error_frac", subject=subject,
                 value=float(part["error_frac"].median()), source_url=source_url,
                 verdict=f"{len(part)} measurements never fitted to, {what}"),
            dict(metric="validation_measurements_count", subject=subject,
                 value=float(len(part)), source_url=source_url,
                 verdict=f"measurements never fitted to, {what}")]
    if with_ratio:
        rows.append(dict(metric="validation_predicted_to_measured_ratio", subject=subject,
                         value=float(part["ratio"].median()), source_url=source_url,
                         verdict=f"median predicted over measured, {what}"))
    return rows


# the peer's figure for each ledger metric (its per-user speed is 1 / its TPOT)
_PEER_VALUES = {"tok_per_s_per_user": lambda p: 1.0 / float(p["tpot_s"]),
                "output_tok_per_s_per_device": lambda p: float(p["output_per_device_tok_per_s"])}


def peer_comparison(pred, peers=None):
    """The engine's predictions of the ledger beside a peer's (``data/peer_predictions.csv``).

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`ledger_predictions`.
    peers : pandas.DataFrame, optional
        Rows shaped like ``econ.data.load("peer_predictions")`` (the default): the peer's
        ``tpot_s`` and ``output_per_device_tok_per_s`` by ledger key.

    Returns
    -------
    pandas.DataFrame
        The rows of ``pred`` that both predict (same index), with ``peer``, ``peer_predicted``,
        ``peer_ratio`` and ``peer_error_frac`` (|peer/measured - 1|) beside the engine's
        ``predicted``, ``ratio`` and ``error_frac``.
    """
    peers = data.load("peer_predictions") if peers is None else peers
    ok = pred[pred["metric"].isin(list(_PEER_VALUES))]
    ok = ok[ok.index.isin(peers.index)]
    peer_value = [_PEER_VALUES[m](peers.loc[k]) for k, m in zip(ok.index, ok["metric"])]
    out = ok.assign(peer=[str(peers.loc[k, "peer"]) for k in ok.index],
                    peer_predicted=peer_value)
    out = out[np.isfinite(out["peer_predicted"])]
    out["peer_ratio"] = out["peer_predicted"] / out["measured"]
    out["peer_error_frac"] = (out["peer_ratio"] - 1.0).abs()
    return out


def peer_error_summary(comparison, by=("split", "architecture")):
    """Median error of the engine and of the peer on the same ledger rows, by group."""
    g = comparison.groupby(list(by))
    return pd.DataFrame({"engine_median_error_frac": g["error_frac"].median(),
                         "peer_median_error_frac": g["peer_error_frac"].median(),
                         "n_rows": g.size()})


def ledger_kv_assumption_summary(assumed, plain, by=("split",)):
    """The ledger's errors with the stated cache-precision assumptions and without them.

    Parameters
    ----------
    assumed : pandas.DataFrame
        :func:`ledger_predictions` (each row's cache at its published precision, else its
        ``kv_precision_assumed``).
    plain : pandas.DataFrame
        :func:`ledger_predictions` with ``assume_kv=False`` (every unstated cache at BF16).
    by : sequence of str
        Columns to group by.

    Returns
    -------
    pandas.DataFrame
        By ``by``: ``median_error_frac`` (with the assumptions),
        ``median_error_no_kv_assumption_frac`` (without) [fraction] and ``n_rows``.
    """
    a, p = ledger_error_summary(assumed, by), ledger_error_summary(plain, by)
    return pd.DataFrame({"median_error_frac": a["median_error_frac"],
                         "median_error_no_kv_assumption_frac": p["median_error_frac"],
                         "n_rows": a["n_rows"]})


def _require_columns(pred, by):
    """A ValueError when ``by`` names columns ``pred`` lacks."""
    missing = [c for c in by if c not in pred.columns]
    if missing:
        raise ValueError(f"by names columns pred lacks: {missing}; pred has "
                         f"{list(pred.columns)}")


#: Factors on an assumed input length at which :func:`ledger_isl_assumption_summary` repeats
#: the predictions: half and twice the assumption.
ISL_ASSUMPTION_FACTORS = (0.5, 2.0)


def ledger_isl_assumption_summary(pred, ledger=None, factors=ISL_ASSUMPTION_FACTORS,
                                  by=("split", "source", "metric"), **options):
    """How much the errors of the rows with an assumed input length rest on the assumption.

    The rows whose source publishes no input length (``assumed_isl_tok``, see
    :func:`ledger_isl_tok`) are predicted again with the assumed length times each factor,
    under the same ``options`` as ``pred``.

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`ledger_predictions` at the assumed lengths, made with ``options``.
    ledger : pandas.DataFrame, optional
        ``econ.data.load("serving_benchmarks")`` (default).
    factors : sequence of float
        Multipliers on the assumed length: finite, positive, distinct.
    by : sequence of str
        Columns of ``pred`` to group by.
    **options
        The keyword arguments ``pred`` was made with (``step_calibration``, ``serving``,
        ``assume_kv``, ``hardware_overrides``, ``engine_limits``), passed on to
        :func:`ledger_predictions`.

    Returns
    -------
    pandas.DataFrame
        By ``by``, over those rows only: ``median_error_frac`` at the assumption, then
        ``median_error_isl_x<factor>_frac`` for each factor [fraction], and ``n_rows``; no rows
        when no row assumes its length.

    Raises
    ------
    ValueError
        ``factors`` not a sequence of distinct finite positive numbers; ``by`` naming a column
        ``pred`` lacks.
    """
    try:
        factors = tuple(float(f) for f in factors)
    except (TypeError, ValueError):
        raise ValueError(f"factors must be a sequence of positive numbers, got {factors!r}") \
            from None
    if not factors or not all(np.isfinite(f) and f > 0 for f in factors) \
            or len(set(factors)) != len(factors):
        raise ValueError(f"factors must be distinct finite positive numbers, got {factors!r}")
    _require_columns(pred, by)
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    columns = ["median_error_frac"] + [f"median_error_isl_x{f:g}_frac" for f in factors] \
        + ["n_rows"]
    rows = ledger[_isl_assumed(ledger)]
    rows = rows.loc[rows.index.intersection(pred.index)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = ledger_error_summary(pred.loc[pred.index.isin(rows.index)], by)
    cols = {"median_error_frac": out["median_error_frac"]}
    for f in factors:
        moved = ledger_predictions(rows.assign(assumed_isl_tok=_assumed_isl_tok(rows) * f),
                                   **options)
        cols[f"median_error_isl_x{f:g}_frac"] = ledger_error_summary(moved, by)[
            "median_error_frac"]
    return pd.DataFrame(dict(cols, n_rows=out["n_rows"]))[columns]


#: Ledger columns a row states only where its source says (quoted in its notes); a row that
#: does not is predicted with no sampling time charged, every request at the mean output
#: length and in a steady state.
STATED_COLUMNS = ("sampler", "osl_cv_ratio", "fresh_start_window_tok", "requests_count")


def ledger_stated_summary(pred, column, ledger=None, by=("split", "source", "metric"),
                          **options):
    """How much the errors of the rows that state ``column`` rest on it.

    The rows whose ``column`` (one of :data:`STATED_COLUMNS`: ``sampler``, the GPU time of
    their engine's sampling, :func:`ledger_sampler`; ``osl_cv_ratio``, the spread of their
    output lengths, :func:`ledger_osl_cv_ratio`, and with it what their measurement window
    does to it; ``fresh_start_window_tok``, that window alone,
    :func:`ledger_fresh_start_window_tok`; ``requests_count``, how many requests a closed
    loop sent, which with its ``length_distribution`` has it served request by request,
    ramp-up and drain included) the ledger states are predicted again without it, as every
    row that does not state it, under the same ``options`` as ``pred``.

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`ledger_predictions`, made with ``options``.
    column : str
        One of :data:`STATED_COLUMNS`.
    ledger : pandas.DataFrame, optional
        ``econ.data.load("serving_benchmarks")`` (default).
    by : sequence of str
        Columns of ``pred`` to group by.
    **options
        The keyword arguments ``pred`` was made with, passed on to :func:`ledger_predictions`.

    Returns
    -------
    pandas.DataFrame
        By ``by``, over those rows only: ``median_error_frac`` (as stated),
        ``median_error_unstated_frac`` (without it) [fraction] and ``n_rows``; no rows when
        no row states it.

    Raises
    ------
    ValueError
        ``column`` not one of :data:`STATED_COLUMNS`, or ``by`` naming a column ``pred``
        lacks.
    """
    choice("column", column, STATED_COLUMNS)
    _require_columns(pred, by)
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    columns = ["median_error_frac", "median_error_unstated_frac", "n_rows"]
    stated = ledger[column].notna() & (ledger[column].astype(str) != "") \
        if column in ledger.columns else pd.Series(False, index=ledger.index)
    rows = ledger[stated]
    rows = rows.loc[rows.index.intersection(pred.index)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = ledger_error_summary(pred.loc[pred.index.isin(rows.index)], by)
    plain = ledger_error_summary(ledger_predictions(rows.assign(**{column: None}), **options),
                                 by)
    return pd.DataFrame({"median_error_frac": out["median_error_frac"],
                         "median_error_unstated_frac": plain["median_error_frac"],
                         "n_rows": out["n_rows"]})[columns]


def _golden_min(f, lo, hi, tol):
    """Minimum of a unimodal ``f`` on [lo, hi] by golden-section search, to ``tol``."""
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = f(a), f(b)
    while hi - lo > tol:
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = f(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = f(b)
    return (lo + hi) / 2.0


def _log_sse(rows, step_calibration, srv):
    """Sum of squared ``log(predicted / measured)`` of ledger rows, and the measurements."""
    p = ledger_predictions(rows, step_calibration, srv)
    p = p[p["metric"] != "error"]
    return float((np.log(p["ratio"]) ** 2).sum()), len(p)


#: The only sources whose ledger rows may be fitted to (issue 13): SemiAnalysis InferenceX
#: and MLPerf Inference; every other source is validation only.
FIT_SOURCES = frozenset({"inferencex", "mlperf-inference-v4.1", "mlperf-inference-v5.1"})


def ledger_fit_rows(ledger):
    """The ledger's rows a serving constant is fitted to: ``split == "fit"``, each from one
    of :data:`FIT_SOURCES`. A fit row from any other source is an error, never taken.

    Parameters
    ----------
    ledger : pandas.DataFrame
        Rows of ``data/serving_benchmarks.csv`` (columns ``split`` and ``source``).

    Returns
    -------
    pandas.DataFrame
        The rows whose ``split`` is ``"fit"``.

    Raises
    ------
    ValueError
        Naming the rows whose ``source`` is not in :data:`FIT_SOURCES`, their sources and the
        allowed ones.
    """
    fit = ledger[ledger["split"] == "fit"]
    bad = fit[~fit["source"].isin(FIT_SOURCES)]
    if not bad.empty:
        raise ValueError(f"ledger rows {list(bad.index)} have split 'fit' but source "
                         f"{sorted(set(bad['source']))}; only a source in "
                         f"{sorted(FIT_SOURCES)} may be fitted to (mark the rows split "
                         "'validation')")
    return fit


def fit_fp4_matmul_frac(ledger=None, step_calibration=None, serving=None, tol=1e-3):
    """Least-squares ``fp4_matmul_frac`` on the ledger's FP4 fit rows.

    Minimises the sum of squared ``log(predicted / measured)`` over the fit rows (InferenceX,
    MLPerf) whose matmuls run in FP4, both metrics, by golden-section search on (0, 1] (a
    share of a rate cannot exceed it). Returns ``(x [fraction], rows used)``.
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    fit = ledger_fit_rows(ledger)
    fit = fit[_fp4_matmul_rows(fit)]
    if fit.empty:
        raise ValueError("no fit rows with FP4 weights in the ledger")
    srv = serving_calibration() if serving is None else serving

    def sse(x):
        return _log_sse(fit, step_calibration, dataclasses.replace(srv, fp4_matmul_frac=x))

    x = _golden_min(lambda v: sse(v)[0], 0.05, 1.0, tol)
    return x, sse(x)[1]


#: Search ranges of the host costs: a step's fixed part and its part per sequence. [s]
HOST_OVERHEAD_RANGES_S = {"step_overhead_s": (0.0, 5e-3), "seq_overhead_s": (0.0, 1e-4)}


def fit_host_overheads(ledger=None, step_calibration=None, serving=None, rounds=2):
    """Least-squares host costs of a step on the ledger's fit rows.

    ``step_overhead_s`` (fixed per step) and ``seq_overhead_s`` (per sequence of the step)
    minimise the sum of squared ``log(predicted / measured)`` over every measurement of the
    fit rows (InferenceX, MLPerf), both metrics: per-user speeds at small batches see the
    fixed part, throughputs at batches of hundreds the per-sequence part. Coordinate descent
    from the values in ``serving`` (default the stored constants, which also give the other
    serving constants): ``rounds`` passes of a golden-section search on each within
    :data:`HOST_OVERHEAD_RANGES_S` (a cost cannot be negative). Returns
    ``({name: value [s]}, measurements used)``.
    """
    ledger = data.load("serving_benchmarks") if ledger is None else ledger
    fit = ledger_fit_rows(ledger)
    if fit.empty:
        raise ValueError("no fit rows in the ledger")
    srv = serving_calibration() if serving is None else serving
    x = {name: float(getattr(srv, name)) for name in HOST_OVERHEAD_RANGES_S}
    for _ in range(int(rounds)):
        for name, (lo, hi) in HOST_OVERHEAD_RANGES_S.items():
            def sse(v, name=name):
                return _log_sse(fit, step_calibration,
                                dataclasses.replace(srv, **{**x, name: v}))[0]
            x[name] = _golden_min(sse, lo, hi, (hi - lo) * 2e-3)
            # the boundary itself when it is at least as good (a cost pinned at 0)
            if sse(lo) <= sse(x[name]):
                x[name] = lo
    return x, _log_sse(fit, step_calibration, dataclasses.replace(srv, **x))[1]


def _write_row(table, name, value, fitted_to, fit_err, holdout_err, source_url, notes):
    i = table.index[table["name"] == name][0]
    table.loc[i, "value"] = f"{value:.4g}"
    table.loc[i, "fitted_to"] = fitted_to
    table.loc[i, "fit_error_frac"] = f"{fit_err:.3f}" if np.isfinite(fit_err) else ""
    table.loc[i, "holdout_error_frac"] = f"{holdout_err:.3f}" if np.isfinite(holdout_err) \
        else ""
    table.loc[i, "source_url"] = source_url
    table.loc[i, "source_date"] = dt.date.today().isoformat()
    table.loc[i, "source_kind"] = "measured"
    table.loc[i, "notes"] = notes


def main(argv=None):
    """Fit both levels, write ``data/calibration.csv``, print the errors."""
    argparse.ArgumentParser(
        prog="python -m econ.calibrate",
        description="Refit the step constants (on data/gpu_steps.csv) and the serving "
        "constants (on the ledger's InferenceX and MLPerf rows), and rewrite "
        "data/calibration.csv. Takes no options.").parse_args([] if argv is None else argv)
    path = data.DATA_DIR / "calibration.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    # step level: the recorded whole steps
    cal, steps = fit_step_constants()
    bf16 = steps[steps["weight_precision"] == "bf16"]
    fit_err = float(bf16.loc[bf16["split"] == "fit", "error_frac"].median())
    hold_err = float(bf16.loc[bf16["split"] == "holdout", "error_frac"].median())
    n_fit = int((steps["split"] == "fit").sum())
    launches = harness_launches_per_kernel()["launches_per_kernel_ratio"]
    per_launch = (
        f"; kernel_fixed_s is per kernel the layer's structure names (ModelSpec."
        f"kernels_per_step): the harness launches {launches.min():.1f} to "
        f"{launches.max():.1f} times as many (norms, rotary, residual adds, casts, cache "
        "copies, routing; data/gpu_kernel_counts.csv, counted with torch.profiler), so about "
        f"{cal.kernel_fixed_s / launches.max() * 1e6:.1f} to "
        f"{cal.kernel_fixed_s / launches.min() * 1e6:.1f} us per launch")
    for name in STEP_CONSTANTS:
        _write_row(table, name, float(getattr(cal, name)),
                   f"Levenberg-Marquardt on log(predicted/measured) of the {n_fit} recorded BF16 "
                   "steps of Llama-3.1-8B, the Llama-3.1-70B slice at tp=1 and the DeepSeek-V3 "
                   "ep=8 slice (data/gpu_steps.csv); bandwidth shares capped at the measured "
                   "copy share; refit with make calibrate", fit_err, hold_err,
                   "measured:data/gpu_steps.csv",
                   "held out: Llama-3.1-70B slices at tp 2-8, the V3 slice at ep=1, "
                   "Qwen3-30B-A3B whole and the Qwen3-235B-A22B slices at tp=8 and ep=8 "
                   "(BF16); the harness's FP8 steps, never fitted, are predicted with their "
                   "recorded eager activation quantization (see act_quant_kernel_s)"
                   + (per_launch if name == "kernel_fixed_s" else ""))
    # step level, measured apart: what quantizing a matmul's activations costs
    quant, n_quant = act_quant_fixed_s(step_calibration=cal)
    eager, _ = act_quant_fixed_s("fp8_linear_eager_quant", step_calibration=cal)
    fp8 = steps[steps["weight_precision"] == "fp8"]
    fp8_plain = recorded_step_predictions(cal, act_quant=False)
    fp8_plain = fp8_plain[fp8_plain["weight_precision"] == "fp8"]
    cal = dataclasses.replace(cal, act_quant_kernel_s=quant)
    shapes = data.load("gpu_timings").query("kernel == 'act_quant'")
    _write_row(table, "act_quant_kernel_s", quant,
               f"median over {n_quant} recorded shapes (weights of "
               f"{', '.join(f'{k:g}' for k in sorted(shapes['k_dim'].unique()))} square, "
               f"{shapes['m_dim'].min():g} to {shapes['m_dim'].max():g} rows) of the time one "
               "fused quantization kernel adds to a layer of a chain of linear layers in one "
               "CUDA graph, less its bytes "
               f"({FUSED_ACT_QUANT_BYTES_PER_ELEM:g} per element, counted) at the matmul "
               "bandwidth share (data/gpu_timings.csv, kernel act_quant, "
               "tests/benchmarks/gpu_quant.py); recomputed by make calibrate",
               float("nan"), float("nan"), "measured:data/gpu_timings.csv",
               "not fitted to steps or serving rows: a kernel measured on its own (its bytes "
               "at the fitted gemm_bandwidth_frac). Serving engines quantize most matmul inputs "
               "inside the norm or activation before them; each step is charged this kernel "
               "(and its bytes) for the inputs left over, the attention output and the routed "
               "experts' tokens (ModelSpec.unfused_quantizations_per_step), where the matmuls "
               "run FP8, FP4 or INT8. The step harness quantizes every matmul input with "
               f"eager PyTorch operations: {eager * 1e6:.1f} us fixed by the same recording and "
               f"{EAGER_ACT_QUANT_BYTES_PER_ELEM:g} bytes per element counted from its "
               "operations (the recording's residuals grow with the rows: its bytes are "
               "likely more); with them the recorded FP8 steps, never fitted, are predicted "
               f"at {fp8['error_frac'].median():.3f} median error, against "
               f"{fp8_plain['error_frac'].median():.3f} without")
    # serving level: the ledger's fit rows. The FP4 share and the host costs each move the
    # other's optimum (the FP4 rows run large batches), so they are fitted in turn until
    # neither moves (coordinate descent over the three, from no host cost: the result does
    # not depend on the stored values)
    srv = dataclasses.replace(serving_calibration(), step_overhead_s=0.0, seq_overhead_s=0.0)
    n_rounds = 0
    while n_rounds < 12:
        n_rounds += 1
        before = (srv.fp4_matmul_frac, srv.seq_overhead_s, srv.step_overhead_s)
        f4, n_f4 = fit_fp4_matmul_frac(step_calibration=cal, serving=srv)
        srv = dataclasses.replace(srv, fp4_matmul_frac=f4)
        host, n_host = fit_host_overheads(step_calibration=cal, serving=srv, rounds=1)
        srv = dataclasses.replace(srv, **host)
        after = (srv.fp4_matmul_frac, srv.seq_overhead_s, srv.step_overhead_s)
        if np.allclose(before, after, rtol=2e-3, atol=1e-8):
            break
    pred = ledger_predictions(step_calibration=cal, serving=srv)
    summary = ledger_error_summary(pred)
    ledger = data.load("serving_benchmarks")
    fp4_keys = ledger.index[_fp4_matmul_rows(ledger)]
    fp4 = ledger_error_summary(pred[pred.index.isin(fp4_keys)])
    unit = ledger_predictions(step_calibration=cal,
                              serving=dataclasses.replace(srv, fp4_matmul_frac=1.0))
    unit = ledger_error_summary(unit[unit.index.isin(fp4_keys)])
    _write_row(table, "fp4_matmul_frac", f4,
               f"golden-section least squares on log(predicted/measured) of the {n_f4} "
               "measurements of ledger fit rows with FP4 matmuls (InferenceX, MLPerf: B200, "
               "GB200, GB300); refit with make calibrate",
               float(fp4.loc["fit", "median_error_frac"]),
               float(fp4.loc["validation", "median_error_frac"]),
               "measured:data/serving_benchmarks.csv",
               "errors over rows with FP4 matmuls only (holdout column: those validation rows, "
               "never fitted to); at 1 (the FP4 datasheet peak at the matmul share fitted to "
               "recorded steps) "
               f"they are {unit.loc['fit', 'median_error_frac']:.3f} fitted and "
               f"{unit.loc['validation', 'median_error_frac']:.3f} never fitted. A serving step's "
               "FP4 matmuls apply block scales, work the datasheet peak does not count (the "
               f"activations' quantization is charged apart, act_quant_kernel_s); {f4:.2f} of "
               "a peak twice the FP8 one (Blackwell) "
               f"puts FP4 matmuls at {2 * f4:.2f} of the FP8 rate: FP4 gains by its bytes, not "
               "its FLOPs")
    host_fit = (f"coordinate-descent least squares on log(predicted/measured) of the {n_host} "
                "measurements of the ledger's fit rows (InferenceX, MLPerf), both metrics, "
                "jointly with the other host cost; refit with make calibrate")
    what = {"step_overhead_s": "a fixed host cost per step (scheduling, launching the step)",
            "seq_overhead_s": "host time per sequence of a step (scheduling, input "
                              "preparation, sampling, output processing): work on the CPU, "
                              "which vLLM's profile of Llama 3 8B on one H100 put at 62% of "
                              "a step before v0.6.0 (33% API server, 29% scheduling; "
                              "blog.vllm.ai/2024/09/05/perf-update.html); the recorded "
                              "GPU steps at batch 512-1024, pure GPU time, are predicted "
                              "without it"}
    for name, value in host.items():
        z = ledger_error_summary(ledger_predictions(
            step_calibration=cal, serving=dataclasses.replace(srv, **{name: 0.0})))
        _write_row(table, name, value, host_fit,
                   float(summary.loc["fit", "median_error_frac"]),
                   float(summary.loc["validation", "median_error_frac"]),
                   "measured:data/serving_benchmarks.csv",
                   f"{what[name]}, added to the forward pass; searched from 0 (a cost cannot be "
                   f"negative){', where the fit rows put it' if value == 0 else ''}; at 0 the "
                   f"errors are {z.loc['fit', 'median_error_frac']:.3f} fitted and "
                   f"{z.loc['validation', 'median_error_frac']:.3f} never fitted")
    table.to_csv(path, index=False)
    print("step level (recorded whole steps; median |predicted/measured - 1|):")
    print(steps.groupby(["split", "arch", "phase", "weight_precision"])["error_frac"]
          .median().to_string())
    print(f"BF16 fit {fit_err:.1%}, BF16 held out {hold_err:.1%}")
    print(f"fp4_matmul_frac = {f4:.3f}, fitted to {n_f4} FP4 measurements; FP4 rows' error "
          f"fitted {fp4.loc['fit', 'median_error_frac']:.1%}, never fitted "
          f"{fp4.loc['validation', 'median_error_frac']:.1%} (at 1: "
          f"{unit.loc['fit', 'median_error_frac']:.1%}, "
          f"{unit.loc['validation', 'median_error_frac']:.1%})")
    print(f"step_overhead_s = {host['step_overhead_s'] * 1e6:.1f} us, seq_overhead_s = "
          f"{host['seq_overhead_s'] * 1e6:.2f} us, fitted to {n_host} ledger measurements "
          f"({n_rounds} rounds with fp4_matmul_frac)")
    print(ledger_error_summary(pred, ("split", "source", "metric")).to_string())
    plain = ledger_error_summary(ledger_predictions(step_calibration=cal, serving=srv,
                                                    assume_kv=False))
    print("with every unstated cache at BF16 (no kv_precision_assumed): validation median "
          f"{plain.loc['validation', 'median_error_frac']:.1%}")
    return 0




def step_error_summary(steps, by=("split", "weight_precision", "arch", "phase")):
    """Median error of the engine on recorded whole steps, by group.

    Parameters
    ----------
    steps : pandas.DataFrame
        :func:`recorded_step_predictions`.
    by : sequence of str
        Columns to group by (fit or held out, precision, architecture, phase).

    Returns
    -------
    pandas.DataFrame
        By ``by``: ``median_error_frac`` (median |predicted/measured - 1|) [fraction] and
        ``n_steps``.
    """
    by = list(by)
    missing = [c for c in by + ["error_frac"] if c not in steps.columns]
    if missing:
        raise ValueError(f"steps lacks column(s) {missing}; give recorded_step_predictions()")
    g = steps.groupby(by)["error_frac"]
    return pd.DataFrame({"median_error_frac": g.median(), "n_steps": g.size()})


# --- measured efficiency in the cost model ----------------------------------------------------

def _node_layout(model, hardware, precision, context_tok):
    from . import data as _data
    held = float(model_devices_to_hold(model, hardware, precision))
    per_node = int(_data.row("hardware", hardware)["n_devices_per_node"])
    n_nodes = int(np.ceil(held / per_node))
    n_devices = n_nodes * per_node
    most = float(decode_step(model, hardware, precision, None, context_tok,
                             n_devices=n_devices)["n_sequences"]) / n_nodes
    return held, per_node, n_nodes, n_devices, most


def efficiency_cost_cases(model, hardware, precision, context_tok, batch_per_node,
                          usd_per_gpu_hour, utilization_frac, *, assumed, measured):
    """Decode and prefill $/Mtok at datasheet, assumed and measured efficiency.

    The model is served on as many whole nodes of ``hardware`` as hold it; the batch is
    ``batch_per_node`` sequences per node, or the most the KV cache allows when fewer.

    Parameters
    ----------
    model, hardware, precision : str
        Keys in ``data/models.csv`` and ``data/hardware.csv``; weight precision.
    context_tok : float
        KV length each decoded token attends to, and the prompt length in prefill. [tokens]
    batch_per_node : float
        Sequences per node asked for. [count]
    usd_per_gpu_hour : float
        Rental price. [USD/h]
    utilization_frac : float
        Share of hours doing paid work. [fraction]
    assumed, measured : tuple of float
        ``(flop_efficiency_frac, bandwidth_efficiency_frac)`` of the assumed and the measured
        case; the datasheet case is ``(1, 1)``. [fraction]

    Returns
    -------
    pandas.DataFrame
        Index ``case`` (``datasheet``, ``assumed``, ``measured``): ``flop_efficiency_frac``,
        ``bandwidth_efficiency_frac`` [fraction], ``decode_cost_usd_per_mtok``,
        ``prefill_cost_usd_per_mtok`` [USD/Mtok], ``decode_compute_bound`` (bool), and the
        layout: ``devices_to_hold_count``, ``n_nodes_count``, ``n_devices_count``,
        ``batch_per_node_count`` (the batch used), ``max_batch_per_node_count`` [count].
    """
    for name, pair in (("assumed", assumed), ("measured", measured)):
        if len(pair) != 2:
            raise ValueError(f"{name} must be (flop_efficiency_frac, bandwidth_efficiency_frac), "
                             f"got {pair!r}")
    held, _, n_nodes, n_devices, most = _node_layout(model, hardware, precision, context_tok)
    batch = min(float(batch_per_node), most)
    cases = pd.DataFrame({
        "flop_efficiency_frac": [1.0, float(assumed[0]), float(measured[0])],
        "bandwidth_efficiency_frac": [1.0, float(assumed[1]), float(measured[1])],
    }, index=pd.Index(["datasheet", "assumed", "measured"], name="case"))
    eff = dict(flop_efficiency_frac=cases["flop_efficiency_frac"],
               bandwidth_efficiency_frac=cases["bandwidth_efficiency_frac"])
    cases["decode_cost_usd_per_mtok"] = decode_cost_usd_per_mtok(
        model, hardware, precision, batch * n_nodes, context_tok, usd_per_gpu_hour,
        utilization_frac, n_devices=n_devices, **eff)
    cases["prefill_cost_usd_per_mtok"] = cost_usd_per_mtok(
        useful_usd_per_hour(usd_per_gpu_hour, utilization_frac),
        prefill_tok_per_s(model, hardware, precision, context_tok, batch * n_nodes,
                          n_devices=n_devices, **eff))
    bound = decode_step_breakdown(model, hardware, precision, batch * n_nodes, context_tok,
                                  n_devices=n_devices, **eff)
    cases["decode_compute_bound"] = np.asarray(bound["compute_bound"], dtype=bool)
    cases["devices_to_hold_count"] = held
    cases["n_nodes_count"] = float(n_nodes)
    cases["n_devices_count"] = float(n_devices)
    cases["batch_per_node_count"] = batch
    cases["max_batch_per_node_count"] = most
    return cases


def efficiency_cost_sweep(model, hardware, precision, context_tok, batch_sizes,
                          usd_per_gpu_hour, utilization_frac, cases):
    """Decode $/Mtok against the batch per node for each efficiency case.

    Parameters
    ----------
    model, hardware, precision, context_tok, usd_per_gpu_hour, utilization_frac
        As in :func:`efficiency_cost_cases`.
    batch_sizes : sequence of float
        Sequences per node; those above what the KV cache allows are left out. [count]
    cases : pandas.DataFrame
        :func:`efficiency_cost_cases` (its efficiencies and layout).

    Returns
    -------
    pandas.DataFrame
        One row per batch and case: ``batch_per_node_count``, ``case``,
        ``decode_cost_usd_per_mtok`` [USD/Mtok], ``decode_compute_bound`` (bool).
    """
    most = float(cases["max_batch_per_node_count"].iloc[0])
    n_nodes = float(cases["n_nodes_count"].iloc[0])
    batches = np.asarray([b for b in batch_sizes if b <= most], dtype=float)
    if batches.size == 0:
        raise ValueError(f"batch_sizes: none fits; at most {most:.0f} sequences per node do")
    b = np.repeat(batches, len(cases))
    c = np.tile(cases.index.to_numpy(), batches.size)
    eff = dict(flop_efficiency_frac=np.tile(cases["flop_efficiency_frac"].to_numpy(), batches.size),
               bandwidth_efficiency_frac=np.tile(cases["bandwidth_efficiency_frac"].to_numpy(),
                                                 batches.size))
    n_devices = float(cases["n_devices_count"].iloc[0])
    cost = decode_cost_usd_per_mtok(model, hardware, precision, b * n_nodes, context_tok,
                                    usd_per_gpu_hour, utilization_frac, n_devices=n_devices,
                                    **eff)
    bound = decode_step_breakdown(model, hardware, precision, b * n_nodes, context_tok,
                                  n_devices=n_devices, **eff)
    return pd.DataFrame({"batch_per_node_count": b, "case": c,
                         "decode_cost_usd_per_mtok": np.asarray(cost, dtype=float),
                         "decode_compute_bound": np.asarray(bound["compute_bound"], dtype=bool)})


# --- the step level: whole forward steps recorded on a GPU (data/gpu_steps.csv) ---------------

#: Constants the step fit moves, in this order (the rest of Calibration stays as it is).
STEP_CONSTANTS = ("gemm_bandwidth_frac", "gemm_flop_frac", "attention_bandwidth_frac",
                  "attention_flop_frac", "attention_half_occupancy_count", "kernel_fixed_s",
                  "grouped_gemm_frac")


def slice_spec(arch, n_dense_layers, n_moe_layers, lm_head):
    """The spec of a recorded slice: ``n_dense_layers`` + ``n_moe_layers`` layers of a models
    row, its LM head or none, no embedding (the recordings start from hidden states)."""
    full = model_spec(arch)
    row = data.row("models", arch)
    h = full.hidden_dim
    dense_ffn = 3.0 * h * float(row["dense_ffn_dim"]) if pd.notna(row.get("dense_ffn_dim")) \
        else 0.0
    n_shared = float(row["n_shared_experts"]) if pd.notna(row.get("n_shared_experts")) else 0.0
    layers = n_dense_layers + n_moe_layers
    head = full.lm_head_params if lm_head else 0.0
    active = (layers * full.attn_params_per_layer + n_dense_layers * dense_ffn
              + n_moe_layers * (n_shared + full.n_active_experts) * full.params_per_expert + head)
    total = active + n_moe_layers * (full.n_routed_experts - full.n_active_experts) \
        * full.params_per_expert
    per_layer_attn = full.attn_flop_decode / full.n_layers, full.attn_flop_prefill / full.n_layers
    return dataclasses.replace(
        full, n_layers=float(layers), moe_layers=float(n_moe_layers), total_params=total,
        shared_expert_layers=float(n_moe_layers) if n_shared > 0 else 0.0,
        active_params=active, embedding_params=0.0, lm_head_params=head,
        tied_embeddings=not lm_head, active_params_basis="without_input_embedding",
        attn_flop_decode=per_layer_attn[0] * layers, attn_flop_prefill=per_layer_attn[1] * layers)


#: Bytes the step harness's eager activation quantization moves per element
#: (tests/benchmarks/gpu_steps.py ``fp8_linear``, counted from its operations): ``abs`` reads
#: BF16 and writes BF16 (4), ``amax`` reads it (2), ``float()`` reads BF16 and writes FP32 (6),
#: the division reads and writes FP32 (8), the cast reads FP32 and writes FP8 (5).
EAGER_ACT_QUANT_BYTES_PER_ELEM = 25.0

#: The recorded variants of ``data/gpu_timings.csv`` (kernel ``act_quant``) whose time beyond
#: the matmul alone (``fp8_linear``) is an activation quantization, and the bytes per element
#: each moves.
ACT_QUANT_VARIANTS = {"fp8_linear_fused_quant": FUSED_ACT_QUANT_BYTES_PER_ELEM,
                      "fp8_linear_eager_quant": EAGER_ACT_QUANT_BYTES_PER_ELEM}


def harness_launches_per_kernel(counts=None):
    """What one recorded harness step launches on the GPU against the kernels its structure
    names (:attr:`econ.ModelSpec.kernels_per_step` of its slice, what ``kernel_fixed_s`` is
    charged to).

    Parameters
    ----------
    counts : pandas.DataFrame, optional
        ``data/gpu_kernel_counts.csv`` (default), counted by
        ``tests/benchmarks/gpu_kernel_count.py``.

    Returns
    -------
    pandas.DataFrame
        One row per counted step: ``arch``, ``phase``, ``tp``, ``ep``, ``n_sequences``,
        ``named_count`` (the structure's kernels) [-], ``launched_count`` (kernels, memsets
        and copies the step launched) [-] and ``launches_per_kernel_ratio`` [ratio].
    """
    counts = data.load("gpu_kernel_counts") if counts is None else counts
    named = [slice_spec(r["arch"], r["n_dense_layers_timed"], r["n_moe_layers_timed"],
                        str(r["lm_head_included"]).lower() == "true").kernels_per_step
             for _, r in counts.iterrows()]
    launched = counts["kernels_count"] + counts["memsets_count"] + counts["copies_count"]
    out = counts[["arch", "phase", "tp", "ep", "n_sequences"]].assign(
        named_count=np.asarray(named, dtype=float), launched_count=launched.astype(float))
    out["launches_per_kernel_ratio"] = out["launched_count"] / out["named_count"]
    return out


def act_quant_fixed_s(variant="fp8_linear_fused_quant", timings=None, step_calibration=None):
    """Fixed time of one matmul's activation quantization, from recorded chains of layers.

    ``tests/benchmarks/gpu_quant.py`` times chains of linear layers in one CUDA graph with
    and without the quantization before each matmul (``data/gpu_timings.csv``, kernel
    ``act_quant``). Per recorded shape, the time a quantization adds to a layer (the chain
    with it less the chain of the matmul alone, per layer) less its bytes at the matmul
    bandwidth share of the recorded device (the rows' activations, times
    :data:`ACT_QUANT_VARIANTS`' bytes per element, counted from the operations, not
    measured); the median over the shapes, of every recorded device together. What
    :func:`econ.forward_step` charges each quantization kernel besides those bytes. It
    rests on the fitted bandwidth share (``gemm_bandwidth_frac``) through the bytes it
    subtracts.

    Parameters
    ----------
    variant : {"fp8_linear_fused_quant", "fp8_linear_eager_quant"}
        One fused kernel (what serving engines launch) or the step harness's eager
        operations.
    timings : pandas.DataFrame, optional
        ``data/gpu_timings.csv`` (default: loaded).
    step_calibration : Calibration, optional
        Gives the bandwidth share (default: the stored constants).

    Returns
    -------
    (float, int)
        The fixed time [s] and the number of recorded shapes it is the median of.
    """
    choice("variant", variant, tuple(ACT_QUANT_VARIANTS))
    timings = data.load("gpu_timings") if timings is None else timings
    cal = calibration() if step_calibration is None else step_calibration
    rows = timings[timings["kernel"] == "act_quant"]
    hw = data.load("hardware")
    per_shape = []
    for (machine, m, _n, k), grp in rows.groupby(["machine", "m_dim", "n_dim", "k_dim"]):
        t = grp.set_index("variant")["median_s"]
        if variant not in t or "fp8_linear" not in t:
            continue
        dev = recorded_device_key(machine)
        bw = float(hw.loc[dev, "memory_bytes_per_s"]) * device_calibration(
            cal, dev).gemm_bandwidth_frac
        per_shape.append(t[variant] - t["fp8_linear"]
                         - m * k * ACT_QUANT_VARIANTS[variant] / bw)
    if not per_shape:
        raise ValueError(f"data/gpu_timings.csv has no act_quant rows of {variant!r} beside "
                         "'fp8_linear' (tests/benchmarks/gpu_quant.py records them)")
    return float(np.median(per_shape)), len(per_shape)


def recorded_step_predictions(step_calibration=None, steps=None, act_quant=True):
    """Predict every recorded whole step (phases decode and prefill) with the engine.

    The harness's FP8 steps quantize their activations with eager PyTorch operations before
    each matmul: charged at their recorded cost (:func:`act_quant_fixed_s` of
    ``fp8_linear_eager_quant``, :data:`EAGER_ACT_QUANT_BYTES_PER_ELEM`) unless
    ``act_quant=False``. An expert-parallel slice is one device timed alone on a random
    routing draw: it is predicted at the mean device's load and picked experts
    (``load_imbalance=False``), not the busiest of a group's.

    Returns
    -------
    pandas.DataFrame
        One row per recorded step: ``arch``, ``phase``, ``weight_precision``, ``tp``,
        ``ep``, ``n_sequences``, ``context_tok``, ``split`` (``fit`` or ``holdout``, see
        :func:`step_split`), ``measured_s``, ``predicted_s``, ``ratio``, ``error_frac``.
    """
    cal = calibration() if step_calibration is None else step_calibration
    steps = data.load("gpu_steps") if steps is None else steps
    steps = steps[steps["phase"].isin(["decode", "prefill"])]
    hw = data.load("hardware")
    # the harness's FP8 steps quantize activations with eager operations (measured apart)
    eager_s = act_quant_fixed_s("fp8_linear_eager_quant", step_calibration=cal)[0] \
        if act_quant and (steps["weight_precision"] == "fp8").any() else 0.0
    out = []
    for (arch, nd, nm, head), grp in steps.groupby(
            ["arch", "n_dense_layers_timed", "n_moe_layers_timed", "lm_head_included"]):
        spec = slice_spec(arch, nd, nm, str(head).lower() == "true")
        for key, r in grp.iterrows():
            dev = hw.loc[recorded_device_key(r["machine"])]
            ep = float(r["ep"])
            f = forward_step(
                spec, bw=dev["memory_bytes_per_s"],
                peak_mm=dev[PEAK_FLOP_COLUMN[r["weight_precision"]]],
                peak_attn=dev[PEAK_FLOP_COLUMN["bf16"]],
                weight_bytes_per_param=BYTES_PER_PARAM[r["weight_precision"]],
                kv_bytes_per_elem=BYTES_PER_PARAM[r["kv_precision"]],
                n_sequences=r["n_sequences"],
                tok_per_seq=1.0 if r["phase"] == "decode" else r["context_tok"],
                context_tok=r["context_tok"] if r["phase"] == "decode"
                else (r["context_tok"] + 1.0) / 2.0,
                phase=r["phase"], tp=float(r["tp"]), ep=ep, dp_attention=ep > 1,
                load_imbalance=False,
                act_quant_bytes_per_elem=EAGER_ACT_QUANT_BYTES_PER_ELEM
                if act_quant and r["weight_precision"] == "fp8" else 0.0,
                act_quant_kernel_s=eager_s, act_quant_fused=False, cal=cal)
            out.append(dict(name=key, arch=arch, phase=r["phase"],
                            weight_precision=r["weight_precision"], tp=r["tp"], ep=ep,
                            n_sequences=r["n_sequences"], context_tok=r["context_tok"],
                            split=step_split(arch, r["weight_precision"], float(r["tp"]),
                                             ep),
                            measured_s=r["median_s"], predicted_s=float(f["step_s"])))
    df = pd.DataFrame(out).set_index("name")
    df["ratio"] = df["predicted_s"] / df["measured_s"]
    df["error_frac"] = (df["ratio"] - 1.0).abs()
    return df


def step_split(arch, weight_precision, tp, ep):
    """Which recorded steps the fit may use: BF16 Llama-3.1-8B (whole model), the BF16
    Llama-3.1-70B slice on one device (tp=1) and the BF16 DeepSeek-V3 slice at ep=8. Held
    out: the 70B slices at tp 2, 4 and 8, the V3 slice at ep=1, every Qwen3-MoE step
    (Qwen3-30B-A3B whole, the Qwen3-235B-A22B slices at tp=8 and ep=8: an architecture the
    fit never saw) and every FP8 step."""
    fit = weight_precision == "bf16" and (arch == "llama-3.1-8b"
                                          or (arch == "llama-3.1-70b" and tp == 1)
                                          or (arch == "deepseek-v3" and ep > 1))
    return "fit" if fit else "holdout"


def measured_copy_frac(steps=None):
    """Best recorded copy bandwidth over the datasheet bandwidth, on the devices the steps
    were recorded on (``data/gpu_timings.csv``; reads and writes both counted). The ceiling
    of every fitted bandwidth share. [fraction]"""
    steps = data.load("gpu_steps") if steps is None else steps
    timings = data.load("gpu_timings")
    hw = data.load("hardware")
    keys = {recorded_device_key(m) for m in steps["machine"].unique()}
    fracs = []
    for key in keys:
        word = key.split("-")[0]
        copies = timings[(timings["kernel"] == "copy")
                         & timings["device"].str.lower().str.contains(word)]
        if copies.empty:
            raise ValueError(f"data/gpu_timings.csv has no copy recording on {key!r}: the "
                             "bandwidth shares have no measured ceiling")
        fracs.append(float(copies["achieved_bytes_per_s"].max())
                     / float(hw.loc[key, "memory_bytes_per_s"]))
    return min(fracs)


def fit_step_constants(steps=None, iterations=40):
    """Fit :data:`STEP_CONSTANTS` to the recorded steps of split ``fit``.

    Levenberg-Marquardt (damped Gauss-Newton) on the log of predicted over measured step
    time, the constants in log space (so they stay positive; the bandwidth shares are capped
    at :func:`measured_copy_frac`, the others at 1). Returns the fitted
    :class:`econ.Calibration` and the predictions under it.
    """
    base = calibration()
    x = np.log(np.array([max(getattr(base, n), 1e-7) for n in STEP_CONSTANTS]))

    copy_frac = measured_copy_frac(steps)

    def cal_of(v):
        vals = dict(zip(STEP_CONSTANTS, np.exp(v)))
        for n in STEP_CONSTANTS:
            if n.endswith("_frac"):
                # no kernel streams faster than the device's best measured copy
                vals[n] = min(vals[n], copy_frac if n.endswith("bandwidth_frac") else 1.0)
        return dataclasses.replace(base, **vals)

    def resid(v):
        p = recorded_step_predictions(cal_of(v), steps)
        p = p[p["split"] == "fit"]
        return np.log(p["ratio"].to_numpy())

    r = resid(x)
    lam = 1e-3
    for _ in range(iterations):
        jac = np.empty((len(r), len(x)))
        for j in range(len(x)):
            dx = np.zeros_like(x)
            dx[j] = 1e-4
            jac[:, j] = (resid(x + dx) - r) / 1e-4
        jtj, jtr = jac.T @ jac, jac.T @ r
        while lam < 1e6:
            # Levenberg-Marquardt: a damped Gauss-Newton step, damping raised until it helps
            step = np.linalg.solve(jtj + lam * np.diag(np.diag(jtj) + 1e-12), -jtr)
            new = x + np.clip(step, -1.0, 1.0)
            new_r = resid(new)
            if np.sum(new_r ** 2) < np.sum(r ** 2) - 1e-12:
                break
            lam *= 10.0
        else:
            break
        x, r, lam = new, new_r, max(lam / 10.0, 1e-6)
    cal = cal_of(x)
    return cal, recorded_step_predictions(cal, steps)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
