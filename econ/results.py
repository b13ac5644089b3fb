"""The results table every notebook writes, and the verdict table it ends with.

Each notebook turns its headline numbers into rows of one tidy table with the
columns :data:`RESULT_COLUMNS`::

    notebook, metric, subject, value, unit, published_value, source_url, verdict

``metric`` is snake_case and carries its unit in its suffix (``training_cost_usd``,
``cost_usd_per_mtok``; :func:`econ.data.unit_of`), ``unit`` is what that suffix
means, ``value`` is finite, ``published_value`` is the figure from the debate
(``NaN`` where none exists) and ``verdict`` says in words how the two compare.

A notebook typically does::

    results = results_frame("token-pricing", [
        dict(metric="serving_cost_usd_per_day", subject="deepseek-day6",
             value=cost_usd_per_day, published_value=87072.0,
             source_url="https://github.com/deepseek-ai/open-infra-index", rel_tol=0.01),
    ])
    write_results(results, results_path)      # no-op when results_path == ""
    verdict_table(results, claims={
        "serving_cost_usd_per_day": "DeepSeek's V3/R1 serving cost $87,072 a day"})

The report run (:mod:`econ.reports`) passes ``results_path`` to every notebook
and collects the files with :func:`collect_results`.
"""
from __future__ import annotations

import fnmatch
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import data as _data
from .data import UNIT_SUFFIXES, unit_of
from .moat import (
    interconnect_result_rows,
    jevons_result_rows,
    margin_cut_price_ratios,
    margin_result_rows,
    price_history_rows,
    stack_result_rows,
)

__all__ = ["RESULT_COLUMNS", "METRIC_UNIT_EXCEPTIONS", "metric_unit", "results_frame",
           "table_result_rows",
           "validate_results", "write_results", "read_results", "collect_results", "verdict",
           "verdict_table", "format_quantity", "format_number", "verdict_summary",
           "published_comparison",
           "kernel_timings_results", "kernel_timings_claims", "kernel_timings_side_by_side",
           "CLAIM_TESTS", "CLAIM_VERDICTS", "judge_claims", "claims_summary", "claims_table",
           "claims_result_rows", "prediction_table", "FullTextTable", "moat_result_rows",
           "moat_claims"]

#: Columns of the results table, in order.
RESULT_COLUMNS = ["notebook", "metric", "subject", "value", "unit", "published_value",
                  "source_url", "verdict"]

#: Metric names fixed by the results-table contract (issue 5) before the unit-suffix
#: rule; their unit cannot be read from the suffix, so it is declared here. Every other
#: metric must carry a suffix that :func:`econ.data.unit_of` resolves.
METRIC_UNIT_EXCEPTIONS = {
    "training_gpu_hours_estimated": "GPU-hours",
    "kv_cache_bytes_per_token": "bytes/token",
    "mtp_speedup": "ratio",
    "chips_to_hold_weights": "count",
    # predictions of DeepSeek's published serving figures (issue 8, econ.serving)
    "prefill_tok_per_s_per_node_predicted": "tokens/s",
    "decode_tok_per_s_per_node_predicted": "tokens/s",
    "max_generation_throughput_ratio_predicted": "ratio",
}

_METRIC_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_SOURCE_RE = re.compile(r"^(https?://\S+|measured:\S+|derived:\S+)$")
_OPTIONAL = {"published_value": np.nan, "source_url": "", "verdict": None, "unit": None}
_ROW_KEYS = set(RESULT_COLUMNS) | {"rel_tol"}
_DEFAULT_REL_TOL = 0.05


def metric_unit(metric):
    """Unit a metric name declares (its suffix), or ``ValueError`` if none.

    Parameters
    ----------
    metric : str
        snake_case metric name, e.g. ``"training_cost_usd"``.

    Returns
    -------
    str
        The unit, e.g. ``"USD"``.
    """
    if not isinstance(metric, str) or not _METRIC_RE.match(metric):
        raise ValueError(f"metric must be snake_case (lower-case letters, digits, '_'), "
                         f"got {metric!r}")
    unit = METRIC_UNIT_EXCEPTIONS.get(metric) or unit_of(metric)
    if unit is None:
        raise ValueError(f"metric {metric!r} carries no unit suffix; end it with one of "
                         f"{sorted(UNIT_SUFFIXES)} (e.g. 'training_cost_usd')")
    return unit


def results_frame(notebook, rows):
    """Build a validated results table from rows.

    Parameters
    ----------
    notebook : str
        Name of the notebook writing the rows (its file stem, e.g. ``"token-pricing"``).
    rows : iterable of dict, or pandas.DataFrame
        Each row needs ``metric``, ``subject`` and ``value``; optional
        ``published_value`` (the figure from the debate), ``source_url`` (its source),
        ``unit`` (must equal the metric's suffix unit; filled in when absent),
        ``verdict`` (words; computed with :func:`verdict` when absent) and
        ``rel_tol`` (tolerance for that verdict, default 0.05; not stored).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`, one row per result.

    Raises
    ------
    ValueError
        A bad metric name, unit, value or source, naming the row and the field.
    """
    if not isinstance(notebook, str) or not _NAME_RE.match(notebook):
        raise ValueError(f"notebook must be a simple name like 'token-pricing', got {notebook!r}")
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"results row {i}: must be a dict, got {type(row).__name__}")
        extra = set(row) - _ROW_KEYS
        if extra:
            raise ValueError(f"results row {i}: unknown field(s) {sorted(extra)}; "
                             f"allowed: {RESULT_COLUMNS + ['rel_tol']}")
        for field in ("metric", "subject", "value"):
            if field not in row:
                raise ValueError(f"results row {i}: missing field {field!r}")
        if "notebook" in row and row["notebook"] != notebook:
            raise ValueError(f"results row {i}: notebook {row['notebook']!r} differs from "
                             f"{notebook!r}")
        r = {**_OPTIONAL, **row, "notebook": notebook}
        rel_tol = r.pop("rel_tol", _DEFAULT_REL_TOL)
        where = f"results row {i} ({r['metric']!r} / {r['subject']!r})"
        try:
            unit = metric_unit(r["metric"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if r["unit"] is None:
            r["unit"] = unit
        r["value"] = _finite(where, "value", r["value"])
        r["published_value"] = _finite(where, "published_value", r["published_value"],
                                       allow_nan=True)
        if r["verdict"] is None:
            r["verdict"] = verdict(r["value"], r["published_value"], rel_tol)
        out.append(r)
    frame = pd.DataFrame(out, columns=RESULT_COLUMNS)
    frame["value"] = frame["value"].astype(float)
    frame["published_value"] = frame["published_value"].astype(float)
    return validate_results(frame)


def table_result_rows(table, metrics, subject="{index}", **fields):
    """Result rows from a table: one per row of ``table`` and metric, NaN values left out.

    Parameters
    ----------
    table : pandas.DataFrame or pandas.Series
        One row per subject (a Series counts as one column named by ``metrics``' value).
    metrics : dict
        ``{metric: column}``: the metric name each column is reported under.
    subject : str, default "{index}"
        Format of the subject; ``{index}`` is the row's index label.
    **fields
        Other row fields (``verdict``, ``source_url``, ...), the same on every row.

    Returns
    -------
    list of dict
        Rows for :func:`results_frame`, metric by metric in the order given, then by row.
    """
    if isinstance(table, pd.Series):
        table = table.to_frame(table.name if table.name is not None else "value")
    rows = []
    for metric, column in metrics.items():
        if column not in table.columns:
            raise KeyError(f"table_result_rows: no column {column!r} for metric {metric!r}; "
                           f"columns: {list(table.columns)}")
        for idx, value in table[column].items():
            if pd.isna(value):
                continue
            rows.append(dict(metric=metric, subject=subject.format(index=idx),
                             value=float(value), **fields))
    return rows


def _finite(where, field, x, allow_nan=False):
    if x is None and allow_nan:
        return float("nan")
    if isinstance(x, (bool, np.bool_, str)):
        raise ValueError(f"{where}: {field} must be a number, got {x!r}")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {field} must be a number, got {x!r}") from None
    if math.isnan(v) and allow_nan:
        return v
    if not math.isfinite(v):
        raise ValueError(f"{where}: {field} must be finite, got {v!r}")
    return v


def validate_results(frame):
    """Check a results table against the contract; return it (columns in order).

    Raises ``ValueError`` naming the row, metric and problem: missing or extra
    columns, a metric without a unit suffix, a unit that is not the suffix's, a
    non-finite value, an empty notebook or subject, a malformed source, a
    duplicated (notebook, metric, subject).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"results must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    if missing or extra:
        raise ValueError(f"results table must have exactly the columns {RESULT_COLUMNS}; "
                         f"missing {missing}, extra {extra}")
    frame = frame[RESULT_COLUMNS].reset_index(drop=True)
    for i, r in enumerate(frame.itertuples(index=False)):
        where = f"results row {i} ({r.metric!r} / {r.subject!r})"
        if not isinstance(r.notebook, str) or not _NAME_RE.match(r.notebook):
            raise ValueError(f"{where}: notebook must be a simple name, got {r.notebook!r}")
        try:
            unit = metric_unit(r.metric)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if r.unit != unit:
            raise ValueError(f"{where}: unit must be {unit!r} (what the metric's suffix means), "
                             f"got {r.unit!r}")
        if not isinstance(r.subject, str) or not r.subject.strip():
            raise ValueError(f"{where}: subject must be a non-empty string (a data key such "
                             f"as 'deepseek-v3'), got {r.subject!r}")
        _finite(where, "value", r.value)
        _finite(where, "published_value", r.published_value, allow_nan=True)
        src = "" if _isnan(r.source_url) else r.source_url
        if not isinstance(src, str):
            raise ValueError(f"{where}: source_url must be a string, got {src!r}")
        for part in (p for p in re.split(r"\s*;\s*", src.strip()) if p):
            if not _SOURCE_RE.match(part):
                raise ValueError(f"{where}: source_url must hold http(s) addresses separated "
                                 f"by ';' (or 'measured:<file>' / 'derived:<how>'), got {src!r}")
        if not isinstance(r.verdict, str):
            raise ValueError(f"{where}: verdict must be a string, got {r.verdict!r}")
    dup = frame.duplicated(["notebook", "metric", "subject"])
    if dup.any():
        r = frame[dup].iloc[0]
        raise ValueError(f"results: duplicate row for notebook {r.notebook!r}, metric "
                         f"{r.metric!r}, subject {r.subject!r}")
    frame = frame.copy()
    frame["source_url"] = frame["source_url"].map(lambda s: "" if _isnan(s) else s)
    return frame


def _isnan(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


def write_results(frame, results_path):
    """Write a results table as CSV, atomically; do nothing when ``results_path`` is ``""``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table from :func:`results_frame` (validated again here).
    results_path : str or Path
        Where to write; ``""`` (a notebook run by hand or by nbval) writes nothing.

    Returns
    -------
    pathlib.Path or None
        The file written, or ``None``.
    """
    if results_path is None or str(results_path) == "":
        return None
    frame = validate_results(frame)
    path = Path(results_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def read_results(path):
    """Read one results CSV and validate it."""
    frame = pd.read_csv(path, dtype={"notebook": str, "metric": str, "subject": str,
                                     "unit": str, "source_url": str, "verdict": str},
                        keep_default_na=False, na_values={"value": [""],
                                                          "published_value": [""]})
    try:
        return validate_results(frame)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def collect_results(results_dir, exclude=()):
    """Concatenate every ``*.csv`` results file in ``results_dir`` (sorted by name).

    Parameters
    ----------
    results_dir : str or Path
        Folder the report run passed the notebooks' ``results_path`` into.
    exclude : iterable of str
        Notebook names (file stems) to leave out, e.g. the summary itself.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; empty when the folder holds no results.
    """
    d = Path(results_dir)
    if not d.is_dir():
        raise ValueError(f"results_dir {str(results_dir)!r} is not a folder")
    frames = [read_results(p) for p in sorted(d.glob("*.csv")) if p.stem not in set(exclude)]
    if not frames:
        return validate_results(pd.DataFrame(columns=RESULT_COLUMNS).astype(
            {"value": float, "published_value": float}))
    return validate_results(pd.concat(frames, ignore_index=True))


def _pct(x):
    """Percentage with two significant figures, no trailing noise: 0.3%, 45%, 1,200%."""
    p = abs(x) * 100.0
    if p >= 100:
        return f"{p:,.0f}%"
    return f"{float(f'{p:.2g}'):g}%"


def verdict(computed, published, rel_tol=0.05):
    """Say in words how a computed value compares with a published one.

    Parameters
    ----------
    computed : float
        Value from this run. [any unit]
    published : float or None
        Figure from the debate, same unit; ``None``/``NaN`` when there is none.
    rel_tol : float
        Relative difference still counted as reproduced. [-]

    Returns
    -------
    str
        ``"reproduced within 0.3%"``, ``"off by +45%"``, ``"off by -80%"``,
        ``"off by +1,100% (12x the published figure)"``, ``"reproduced exactly"``,
        or ``"no published figure"``.
    """
    c = _finite("verdict", "computed", computed)
    p = _finite("verdict", "published", published, allow_nan=True)
    tol = _finite("verdict", "rel_tol", rel_tol)
    if tol < 0:
        raise ValueError(f"rel_tol must be >= 0, got {rel_tol!r}")
    if math.isnan(p):
        return "no published figure"
    if c == p:
        return "reproduced exactly"
    if p == 0:
        return f"off by {c - p:+.3g} (published figure is 0)"
    rel = c / p - 1.0
    if abs(rel) <= tol:
        return f"reproduced within {_pct(rel)}"
    sign = "+" if rel > 0 else "-"
    text = f"off by {sign}{_pct(rel)}"
    if c / p >= 2:
        ratio = c / p
        text += f" ({ratio:,.0f}x the published figure)" if ratio >= 100 else \
            f" ({ratio:.2g}x the published figure)"
    return text


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_USD_UNITS = {"USD": "", "USD/h": "/h", "USD/Mtok": "/Mtok", "USD/kWh": "/kWh",
              "USD/day": "/day", "USD/year": "/year"}


def format_number(value, count=False):
    """A number for a reader: thousands separators, three significant figures.

    Whole numbers below a million (and every count) are shown whole: ``2,784``; others to
    three significant figures: ``0.682``, ``9,140``, ``75,200,000``; beyond 1e15 or below
    1e-4, a power of ten: ``3.30×10²⁴``. NaN gives ``–``. The report pages show the numbers
    of a table this way; :func:`format_quantity` shares its rule (below a hundred, and the
    powers of ten).
    """
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return "–" if math.isnan(v) else "∞" if v > 0 else "-∞"
    if (count and abs(v) < 1e15) or (v.is_integer() and abs(v) < 1e6):
        return f"{v:,.0f}"
    if abs(v) >= 1e15 or abs(v) < 1e-4:
        mant, exp = f"{v:.2e}".split("e")
        return f"{mant}×10{str(int(exp)).translate(_SUP)}"
    digits = 2 - math.floor(math.log10(abs(v)))
    text = f"{round(v, digits):,.{max(digits, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(v):
    """format_number's rule, with a scale word from a million to 1e15 and whole hundreds."""
    a = abs(v)
    for scale, word in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if scale <= a < 1e15:
            return f"{v / scale:.4g}{word}"
    return f"{v:,.0f}" if 100 <= a < 1e15 else format_number(v)


def format_quantity(value, unit):
    """A value with its unit, for people: ``$5.576M``, ``$2.19/Mtok``, ``54.5%``, ``27.4x``.

    ``NaN`` gives ``"–"``.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    if unit in _USD_UNITS:
        return f"{'-' if v < 0 else ''}${_number(abs(v))}{_USD_UNITS[unit]}"
    if unit == "fraction":
        return f"{_number(v * 100)}%"
    if unit == "ratio":
        return f"{_number(v)}x"
    if unit == "count" and v == round(v) and abs(v) < 1e15:
        return f"{v:,.0f}"
    return f"{_number(v)} {unit}"


class FullTextTable(pd.DataFrame):
    """A table that shows every cell in full: no ``...`` at pandas' 50-character column width.

    Claims, verdicts and sources are sentences; cut, they lose their meaning (and a cut source
    address no longer opens). Behaves as a ``pandas.DataFrame`` in every other respect.
    """

    @property
    def _constructor(self):
        return FullTextTable

    def _repr_html_(self):
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()

    def __repr__(self):
        with pd.option_context("display.max_colwidth", None):
            return super().__repr__()


def verdict_table(results, claims=None):
    """The table a notebook ends with: claim, computed, published, source, verdict.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`results_frame` or :func:`collect_results`).
    claims : dict, optional
        Claim wording per row, keyed by ``metric`` or by ``(metric, subject)``;
        when given, only these rows are shown, in this order. Without it every row
        is shown, labelled ``metric (subject)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``claim``, ``computed``, ``published``, ``source``, ``verdict``
        (text, formatted with units); the ``notebook`` column is added when the
        results come from more than one notebook.
    """
    frame = validate_results(results)
    if claims is None:
        picked = [(f"{r.metric} ({r.subject})", i) for i, r in enumerate(frame.itertuples())]
    else:
        if not isinstance(claims, dict):
            raise ValueError(f"claims must be a dict keyed by metric or (metric, subject), "
                             f"got {type(claims).__name__}")
        picked = []
        for key, text in claims.items():
            if isinstance(key, tuple):
                hit = (frame["metric"] == key[0]) & (frame["subject"] == key[1])
            else:
                hit = frame["metric"] == key
            if not hit.any():
                raise KeyError(f"claims: no result row for {key!r}; results hold "
                               f"{sorted(set(zip(frame['metric'], frame['subject'])))}")
            many = int(hit.sum()) > 1
            for i in np.flatnonzero(hit.to_numpy()):
                label = f"{text} ({frame['subject'].iloc[i]})" if many else str(text)
                picked.append((label, int(i)))
    rows = []
    for label, i in picked:
        r = frame.iloc[i]
        rows.append({"notebook": r["notebook"], "claim": label,
                     "computed": format_quantity(r["value"], r["unit"]),
                     "published": format_quantity(r["published_value"], r["unit"]),
                     "source": r["source_url"], "verdict": r["verdict"]})
    cols = ["claim", "computed", "published", "source", "verdict"]
    table = pd.DataFrame(rows, columns=["notebook"] + cols)
    if frame["notebook"].nunique() <= 1:
        table = table[cols]
    return FullTextTable(table)


def _reproduced(verdicts):
    return verdicts.fillna("").str.startswith("reproduced")


def verdict_summary(results):
    """How each notebook's claims fared: rows, rows with a published figure, reproduced.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`collect_results`).

    Returns
    -------
    pandas.DataFrame
        One row per notebook (sorted) with ``results_count``, ``published_count``
        (rows with a published figure), ``reproduced_count`` (of those, the verdict says
        "reproduced": within the row's tolerance) and ``reproduced_frac``
        (``reproduced_count / published_count``; 0 where nothing was published). [-]
    """
    frame = validate_results(results)
    has_pub = frame["published_value"].notna()
    tally = pd.DataFrame({
        "notebook": frame["notebook"],
        "results_count": 1,
        "published_count": has_pub.astype(int),
        "reproduced_count": (has_pub & _reproduced(frame["verdict"])).astype(int),
    }).groupby("notebook", sort=True).sum()
    pub = tally["published_count"].to_numpy(dtype=float)
    tally["reproduced_frac"] = np.divide(tally["reproduced_count"].to_numpy(dtype=float), pub,
                                         out=np.zeros_like(pub), where=pub > 0)
    return tally.reset_index()


def published_comparison(results):
    """Rows with a published figure, with ``computed_to_published_ratio`` and ``reproduced``.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`collect_results`).

    Returns
    -------
    pandas.DataFrame
        ``notebook``, ``claim`` (``metric (subject)``), ``value``, ``published_value``,
        ``unit``, ``computed_to_published_ratio`` [-] (NaN where the published figure is 0),
        ``reproduced`` (bool) and ``verdict``, sorted by notebook and claim.
    """
    frame = validate_results(results)
    pub = frame[frame["published_value"].notna()]
    value = pub["value"].to_numpy(dtype=float)
    published = pub["published_value"].to_numpy(dtype=float)
    ratio = np.full_like(value, np.nan)
    np.divide(value, published, out=ratio, where=published != 0)
    out = pd.DataFrame({
        "notebook": pub["notebook"].to_numpy(),
        "claim": (pub["metric"] + " (" + pub["subject"] + ")").to_numpy(),
        "value": value, "published_value": published, "unit": pub["unit"].to_numpy(),
        "computed_to_published_ratio": ratio,
        "reproduced": _reproduced(pub["verdict"]).to_numpy(),
        "verdict": pub["verdict"].to_numpy(),
    })
    return out.sort_values(["notebook", "claim"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# the kernel-timings notebook: its result rows, verdict claims and CPU-beside-GPU table
# --------------------------------------------------------------------------------------------

#: Source of the live CPU rows (measured by the run itself).
_LIVE_SOURCE = "measured:econ.kernels"
#: Portable stacks reported against cuBLAS via PyTorch.
_STACKS = ("triton", "jax", "cupy")


def _kernel_ratios(table, time_column):
    from .kernels import attention_decode_comparison, moe_comparison
    att = attention_decode_comparison(table, time_column)
    moe = moe_comparison(table, time_column)
    return dict(mla=float(att["mla_speedup_ratio"].iloc[-1]), att_ctx=float(att.index.max()),
                att_bytes=float(att["mha_to_mla_bytes_ratio"].iloc[-1]),
                moe=float(moe["grouped_vs_naive_speedup_ratio"].iloc[-1]),
                moe_tok=float(moe.index.max()),
                moe_dense=float(moe["grouped_to_dense_time_ratio"].iloc[-1]))


def kernel_timings_results(params, live, cpu_fit, gpu, gpu_fit, ceilings, cases, stacks, info,
                           engine_rows=(), notebook="kernel_timings"):
    """The results table of the kernel-timings notebook (:func:`results_frame`).

    Recorded-GPU rows (subjects ``<gpu_hardware>...``) are the same on every run; live-CPU rows
    (subjects ``cpu...``) are measured by the run; cost rows (``<model>:<gpu_hardware>:<case>``)
    price the model at datasheet, assumed and measured efficiency.

    Parameters
    ----------
    params : mapping
        The notebook's parameters (``gpu_hardware``, ``timing_machine``, ``model``,
        ``precision``, ``context_tok``, ``flop_efficiency_frac``,
        ``bandwidth_efficiency_frac``, ``fit_time_column``, ``weight_dim``).
    live : pandas.DataFrame
        :func:`econ.live_kernel_timings`.
    cpu_fit, gpu_fit : econ.RooflineFit
        :func:`econ.fit_roofline` of ``live`` and of ``gpu``.
    gpu : pandas.DataFrame
        :func:`econ.recorded_gpu_timings`.
    ceilings : pandas.DataFrame
        :func:`econ.ceiling_efficiency` of ``gpu``, with the published kernels.
    cases : pandas.DataFrame
        :func:`econ.efficiency_cost_cases`.
    stacks : pandas.DataFrame
        :func:`econ.portable_stack_comparison` of ``gpu``.
    info : mapping
        :func:`econ.machine_info` of the live run (``n_blas_threads``, ``cpu_load_1min``).
    engine_rows : list of dict
        :func:`econ.engine_validation_rows`, appended as they are.
    notebook : str

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`.
    """
    from .roofline import prediction_error, ridge_batch_count

    g, m, prec = params["gpu_hardware"], params["model"], str(params["precision"])
    rec, sub = f"recorded {params['timing_machine']}", f"{m}:{g}"
    src = str(gpu["source_url"].iloc[0])
    gpu_err, cpu_err = prediction_error(gpu, gpu_fit), prediction_error(live, cpu_fit)
    gpu_med = float(gpu_err["abs_error_ratio"].median())
    cpu_med = float(cpu_err["abs_error_ratio"].median())
    gk, ck = _kernel_ratios(gpu, "median_s"), _kernel_ratios(live, params["fit_time_column"])
    e, c = ceilings, cases
    meas = c.loc["measured"]
    eff_note = (f"{rec}: efficiencies {meas['flop_efficiency_frac']:.0%} / "
                f"{meas['bandwidth_efficiency_frac']:.0%}")
    bound = "compute" if bool(meas["decode_compute_bound"]) else "memory"
    ratio = c.loc["measured"] / c.loc["datasheet"]
    sweep_dims = gpu.loc[gpu["kernel"] == "batch_sweep", ["n_dim", "k_dim"]].iloc[0]
    rows = [
        dict(metric="gemm_flop_efficiency_frac", subject=f"{g}:bf16",
             value=e.loc["bf16", "measured_frac"], source_url=src,
             verdict=f"{rec}: best BF16 GEMM over the datasheet"),
        dict(metric="gemm_flop_efficiency_frac", subject=f"{g}:fp8",
             value=e.loc["fp8", "measured_frac"], published_value=e.loc["fp8", "published_frac"],
             source_url=e.loc["fp8", "published_source_url"], rel_tol=0.05),
        dict(metric="memory_bandwidth_efficiency_frac", subject=g,
             value=e.loc["bandwidth", "measured_frac"],
             published_value=e.loc["bandwidth", "published_frac"],
             source_url=e.loc["bandwidth", "published_source_url"], rel_tol=0.05),
        dict(metric="fp8_to_bf16_gemm_rate_ratio", subject=g,
             value=e.loc["fp8", "measured"] / e.loc["bf16", "measured"], source_url=src,
             verdict=f"{rec}; the datasheet says "
                     f"{e.loc['fp8', 'datasheet'] / e.loc['bf16', 'datasheet']:.0f}x"),
        dict(metric="roofline_median_abs_error_frac", subject=g, value=gpu_med, source_url=src,
             verdict=f"{rec}: {'within' if gpu_med <= 0.2 else 'above'} the 20% target"),
        dict(metric="peak_flop_per_s", subject=f"{g}:bf16",
             value=gpu_fit.peak_flop_per_s["bfloat16"], source_url=src, verdict=f"fitted, {rec}"),
        dict(metric="memory_bandwidth_bytes_per_s", subject=g,
             value=gpu_fit.bandwidth_bytes_per_s, source_url=src, verdict=f"fitted, {rec}"),
        dict(metric="ridge_batch_count", subject=f"{g}:bf16", value=ridge_batch_count(gpu_err),
             source_url=src, verdict=f"{rec}: {sweep_dims['n_dim']:.0f} x "
                                     f"{sweep_dims['k_dim']:.0f} BF16 weights"),
        dict(metric="mla_vs_mha_decode_speedup_ratio", subject=g, value=gk["mla"],
             source_url=src, verdict=f"{rec}: {gk['att_ctx']:,.0f}-token context, "
                                     f"{gk['att_bytes']:.0f}x fewer bytes"),
        dict(metric="moe_grouped_vs_naive_speedup_ratio", subject=g, value=gk["moe"],
             source_url=src, verdict=f"{rec}: {gk['moe_tok']:,.0f} tokens"),
        dict(metric="moe_grouped_to_dense_time_ratio", subject=g, value=gk["moe_dense"],
             source_url=src, verdict=f"{rec}: equal expert FLOPs"),
        dict(metric="decode_cost_usd_per_mtok", subject=f"{sub}:datasheet",
             value=c.loc["datasheet", "decode_cost_usd_per_mtok"],
             verdict=f"{prec.upper()}, {c.loc['datasheet', 'batch_per_node_count']:.0f} "
                     "sequences per node, 100% of datasheet"),
        dict(metric="decode_cost_usd_per_mtok", subject=f"{sub}:assumed",
             value=c.loc["assumed", "decode_cost_usd_per_mtok"],
             verdict=f"suite's assumed efficiencies {params['flop_efficiency_frac']:.0%} / "
                     f"{params['bandwidth_efficiency_frac']:.0%}"),
        dict(metric="decode_cost_usd_per_mtok", subject=f"{sub}:measured",
             value=meas["decode_cost_usd_per_mtok"], source_url=src, verdict=eff_note),
        dict(metric="prefill_cost_usd_per_mtok", subject=f"{sub}:datasheet",
             value=c.loc["datasheet", "prefill_cost_usd_per_mtok"],
             verdict=f"{prec.upper()}, {float(params['context_tok']):,.0f}-token prompts, "
                     "100% of datasheet"),
        dict(metric="prefill_cost_usd_per_mtok", subject=f"{sub}:measured",
             value=meas["prefill_cost_usd_per_mtok"], source_url=src, verdict=eff_note),
        dict(metric="measured_to_datasheet_cost_ratio", subject=f"{sub}:decode",
             value=ratio["decode_cost_usd_per_mtok"], source_url=src,
             verdict=f"decode is {bound}-bound: "
                     f"{'the GEMM ceiling' if bound == 'compute' else 'bandwidth'} sets it"),
        dict(metric="measured_to_datasheet_cost_ratio", subject=f"{sub}:prefill",
             value=ratio["prefill_cost_usd_per_mtok"], source_url=src,
             verdict="prefill is compute-bound: the GEMM ceiling sets it"),
    ]
    share = stacks.groupby("backend")["share_of_cublas_ratio"].mean()
    rows += [dict(metric="portable_stack_to_cublas_ratio", subject=f"{g}:{b}",
                  value=float(share[b]), source_url=src,
                  verdict=f"{rec}: BF16 GEMM, mean over {stacks['shape'].nunique()} shapes")
             for b in _STACKS]
    note = (f"live: this machine now, {info['n_blas_threads']} BLAS thread(s), load "
            f"{info['cpu_load_1min']:.1f}")
    best = live[live["kernel"] == "gemm"].groupby("dtype")["fit_flop_per_s"].max()
    rows += [
        dict(metric="roofline_median_abs_error_frac", subject="cpu", value=cpu_med,
             source_url=_LIVE_SOURCE,
             verdict=f"{'within' if cpu_med <= 0.2 else 'above'} the 20% target ({note})"),
        dict(metric="peak_flop_per_s", subject="cpu:float32",
             value=cpu_fit.peak_flop_per_s["float32"], source_url=_LIVE_SOURCE,
             verdict=f"fitted ({note})"),
        dict(metric="peak_flop_per_s", subject="cpu:float64",
             value=cpu_fit.peak_flop_per_s["float64"], source_url=_LIVE_SOURCE,
             verdict=f"fitted ({note})"),
        dict(metric="memory_bandwidth_bytes_per_s", subject="cpu",
             value=cpu_fit.bandwidth_bytes_per_s, source_url=_LIVE_SOURCE,
             verdict=f"fitted ({note})"),
        dict(metric="fp32_to_fp64_gemm_rate_ratio", subject="cpu",
             value=best["float32"] / best["float64"], source_url=_LIVE_SOURCE, verdict=note),
        dict(metric="ridge_batch_count", subject="cpu:float32", value=ridge_batch_count(cpu_err),
             source_url=_LIVE_SOURCE, verdict=f"{params['weight_dim']} x {params['weight_dim']}"
                                              f" float32 weights ({note})"),
        dict(metric="mla_vs_mha_decode_speedup_ratio", subject="cpu", value=ck["mla"],
             source_url=_LIVE_SOURCE, verdict=f"{ck['att_ctx']:,.0f}-token context ({note})"),
        dict(metric="moe_grouped_vs_naive_speedup_ratio", subject="cpu", value=ck["moe"],
             source_url=_LIVE_SOURCE, verdict=f"{ck['moe_tok']:,.0f} tokens ({note})"),
        dict(metric="moe_grouped_to_dense_time_ratio", subject="cpu", value=ck["moe_dense"],
             source_url=_LIVE_SOURCE, verdict=note),
    ]
    return results_frame(notebook, rows + list(engine_rows))


def kernel_timings_claims(params, live=False):
    """Claim wording of the kernel-timings verdict tables (``verdict_table(claims=...)``).

    Parameters
    ----------
    params : mapping
        The notebook's parameters (``gpu_hardware``, ``model``).
    live : bool
        The live-CPU rows (measured in this run) instead of the recorded-GPU, cost and engine
        rows.

    Returns
    -------
    dict
        ``{(metric, subject): claim}``, in the order the table shows them.
    """
    g = params["gpu_hardware"]
    if live:
        return {
            ("roofline_median_abs_error_frac", "cpu"):
                "Roofline median prediction error on this CPU (target 20%)",
            ("peak_flop_per_s", "cpu:float32"): "CPU float32 compute ceiling (fitted)",
            ("peak_flop_per_s", "cpu:float64"): "CPU float64 compute ceiling (fitted)",
            ("memory_bandwidth_bytes_per_s", "cpu"): "CPU memory bandwidth (fitted)",
            ("fp32_to_fp64_gemm_rate_ratio", "cpu"): "float32 vs float64 best GEMM rate",
            ("ridge_batch_count", "cpu:float32"):
                "Batch where a CPU matrix product turns compute-bound",
            ("mla_vs_mha_decode_speedup_ratio", "cpu"):
                "MLA-style latent cache vs MHA, decode speed-up on the CPU",
            ("moe_grouped_vs_naive_speedup_ratio", "cpu"):
                "Grouped vs naive MoE speed-up on the CPU",
            ("moe_grouped_to_dense_time_ratio", "cpu"):
                "Grouped MoE time / dense FFN of equal FLOPs on the CPU",
        }
    s = f"{params['model']}:{g}"
    return {
        ("gemm_flop_efficiency_frac", f"{g}:bf16"): "BF16 GEMM ceiling / datasheet (recorded)",
        ("gemm_flop_efficiency_frac", f"{g}:fp8"):
            "FP8 GEMM ceiling / datasheet vs DeepSeek's DeepGEMM on the H800",
        ("memory_bandwidth_efficiency_frac", g):
            "Copy bandwidth / datasheet vs DeepSeek's FlashMLA on the H800",
        ("fp8_to_bf16_gemm_rate_ratio", g): "FP8 vs BF16 GEMM rate (recorded)",
        ("roofline_median_abs_error_frac", g):
            "Roofline median prediction error on the GPU (recorded)",
        ("ridge_batch_count", f"{g}:bf16"):
            "Batch where BF16 decode turns compute-bound (recorded)",
        ("mla_vs_mha_decode_speedup_ratio", g):
            "MLA-style latent cache vs MHA, decode speed-up (recorded)",
        ("moe_grouped_vs_naive_speedup_ratio", g): "Grouped vs naive MoE speed-up (recorded)",
        ("moe_grouped_to_dense_time_ratio", g):
            "Grouped MoE time / dense FFN of equal FLOPs (recorded)",
        ("decode_cost_usd_per_mtok", f"{s}:datasheet"): "Decode $/Mtok at datasheet efficiency",
        ("decode_cost_usd_per_mtok", f"{s}:assumed"):
            "Decode $/Mtok at the suite's assumed efficiency",
        ("decode_cost_usd_per_mtok", f"{s}:measured"): "Decode $/Mtok at measured efficiency",
        ("measured_to_datasheet_cost_ratio", f"{s}:decode"):
            "Decode cost, measured over datasheet efficiency",
        ("measured_to_datasheet_cost_ratio", f"{s}:prefill"):
            "Prefill cost, measured over datasheet efficiency",
        ("portable_stack_to_cublas_ratio", f"{g}:triton"): "Triton BF16 matmul / cuBLAS (recorded)",
        ("portable_stack_to_cublas_ratio", f"{g}:jax"): "JAX/XLA BF16 matmul / cuBLAS (recorded)",
        ("portable_stack_to_cublas_ratio", f"{g}:cupy"):
            "CuPy (cuBLAS) BF16 matmul / cuBLAS via PyTorch (recorded)",
        ("fitted_step_error_frac", "engine:recorded-steps"):
            "Step engine on the recorded steps it was fitted to",
        ("held_out_step_error_frac", "engine:recorded-steps"):
            "Step engine on recorded steps it never saw (target 15%)",
        ("fp8_harness_step_error_frac", "engine:recorded-steps"):
            "Step engine on the harness's FP8 steps (never fitted)",
        ("fitted_serving_error_frac", "predict_serving:ledger"):
            "predict_serving on the ledger rows it may be fitted to",
        ("validation_serving_error_frac", "predict_serving:ledger"):
            "predict_serving on ledger rows never fitted to (target 20%)",
        ("validation_serving_error_no_kv_assumption_frac", "predict_serving:ledger"):
            "... the same, every unstated cache precision at BF16",
        ("gpu_types_within_target_count", "predict_serving:ledger"):
            "GPU types with dense and MoE, per-user and per-device medians all within 20% "
            "(target 3)",
    }


def kernel_timings_side_by_side(results, params):
    """The same questions on the live CPU and the recorded GPU, formatted with units.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`kernel_timings_results`.
    params : mapping
        The notebook's parameters (``gpu_hardware``).

    Returns
    -------
    pandas.DataFrame
        Columns ``question``, ``live CPU (this machine, now)``, ``recorded GPU``: each cell the
        row's value formatted with its unit (:func:`format_quantity`).
    """
    g = params["gpu_hardware"]
    pairs = [
        ("Roofline median absolute prediction error", "roofline_median_abs_error_frac",
         "cpu", g, None),
        ("Compute ceiling (fitted; float32 on the CPU, BF16 on the GPU)", "peak_flop_per_s",
         "cpu:float32", f"{g}:bf16", None),
        ("Memory bandwidth (fitted)", "memory_bandwidth_bytes_per_s", "cpu", g, None),
        ("Ridge: batch rows where the product turns compute-bound", "ridge_batch_count",
         "cpu:float32", f"{g}:bf16", None),
        ("Higher over lower precision GEMM rate (float32/float64; FP8/BF16)",
         "fp32_to_fp64_gemm_rate_ratio", "cpu", g, "fp8_to_bf16_gemm_rate_ratio"),
        ("MLA-style vs MHA decode speed-up (longest context)",
         "mla_vs_mha_decode_speedup_ratio", "cpu", g, None),
        ("Grouped vs naive MoE speed-up (largest batch)", "moe_grouped_vs_naive_speedup_ratio",
         "cpu", g, None),
        ("Grouped MoE time over a dense FFN of equal FLOPs", "moe_grouped_to_dense_time_ratio",
         "cpu", g, None),
    ]
    frame = validate_results(results)

    def cell(metric, subject):
        hit = frame[(frame["metric"] == metric) & (frame["subject"] == subject)]
        if len(hit) != 1:
            raise KeyError(f"kernel_timings_side_by_side: no single row {metric}/{subject}")
        return format_quantity(float(hit["value"].iloc[0]), hit["unit"].iloc[0])

    return pd.DataFrame({
        "question": [q for q, *_ in pairs],
        "live CPU (this machine, now)": [cell(mt, c) for _, mt, c, _, _ in pairs],
        "recorded GPU": [cell(other or mt, gs) for _, mt, _, gs, other in pairs],
    })


#: The tests a claims-ledger row may name (``data/claims.yaml``, column ``test``).
CLAIM_TESTS = ("within", "at_least", "at_most", "ratio_within", "ratio_at_least",
               "ratio_at_most")
#: The verdicts :func:`judge_claims` gives.
CLAIM_VERDICTS = ("holds", "fails", "not settled by this run")
_CLAIM_COLUMNS = ("claim", "claimant", "kind", "notebook", "metric", "subject", "test",
                  "target_value", "tolerance_frac", "other_metric", "other_subject",
                  "source_url")


def judge_claims(results, claims):
    """Judge every claim of the claims ledger against a run's result rows.

    Parameters
    ----------
    results : pandas.DataFrame
        The run's results table (:func:`collect_results`), any number of notebooks.
    claims : pandas.DataFrame
        The claims ledger (``econ.data.load("claims")``): indexed by ``claim_id`` (or with a
        ``claim_id`` column), with the columns of ``data/claims.yaml``.

    Returns
    -------
    pandas.DataFrame
        One row per claim, in the ledger's order: ``claim_id``, ``claim``, ``claimant``,
        ``kind``, ``notebook``, ``metric``, ``subject`` (the row judged: a ledger subject with
        ``*`` is resolved to the one row of that notebook and metric it matches, so a claim
        about "the model" follows the run's model), ``value`` (the row's value, NaN when
        the run has no such row) [metric's unit], ``other_value`` (the divisor of a ``ratio_``
        test) [its unit], ``compared`` (``value``, or ``value / other_value``) [-],
        ``target`` (the figure compared with: ``target_value``, or the row's published
        figure for a ``within`` test without one) [metric's unit, or ratio], ``test`` (the
        test in words, with units), ``verdict`` (one of :data:`CLAIM_VERDICTS`: "holds",
        "fails", or "not settled by this run" when a row the test needs is absent or a
        ``within`` test has no figure to compare with) and ``source_url``.

    Notes
    -----
    ``within``: ``|v / t - 1| <= tolerance_frac``; ``at_least``: ``v >= t``; ``at_most``:
    ``v <= t``; the ``ratio_`` tests apply the same to ``v / w``, with ``w`` the value of the
    row (``other_metric``, ``other_subject``) from any notebook of the run. A claim holds or
    fails under the run's scenario: a reproduction (``kind``) uses published inputs and so
    gives the same verdict under any scenario; a judgement rests on the run's assumptions.

    Raises
    ------
    ValueError
        A ledger without the needed columns, or with an unknown ``test`` (naming the claim).
    """
    frame = validate_results(results)
    if not isinstance(claims, pd.DataFrame):
        raise ValueError(f"claims must be a pandas DataFrame (econ.data.load('claims')), "
                         f"got {type(claims).__name__}")
    led = claims.reset_index() if "claim_id" not in claims.columns else claims.reset_index(
        drop=True)
    missing = [c for c in ("claim_id",) + _CLAIM_COLUMNS if c not in led.columns]
    if missing:
        raise ValueError(f"claims: missing column(s) {missing}; see data/claims.yaml")
    bad = ~led["test"].isin(CLAIM_TESTS)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"claims: claim {led['claim_id'].iloc[i]!r}: test must be one of "
                         f"{list(CLAIM_TESTS)}, got {led['test'].iloc[i]!r}")
    subject = [_resolve_subject(frame, s, metric=m, notebook=nb)
               for nb, m, s in zip(led["notebook"], led["metric"], led["subject"])]
    rows = frame.set_index(["notebook", "metric", "subject"])
    found = rows.reindex(pd.MultiIndex.from_arrays([led["notebook"], led["metric"], subject]))
    value = found["value"].to_numpy(dtype=float)
    published = found["published_value"].to_numpy(dtype=float)
    anywhere = frame.drop_duplicates(["metric", "subject"]).set_index(["metric", "subject"])
    other_metric = led["other_metric"].fillna("")
    other_subject = [_resolve_subject(frame, s, metric=m) for m, s in zip(
        other_metric, led["other_subject"].fillna(""))]
    other = anywhere["value"].reindex(pd.MultiIndex.from_arrays(
        [other_metric, other_subject])).to_numpy(dtype=float)
    test = led["test"].to_numpy(dtype=object)
    is_ratio = np.char.startswith(test.astype(str), "ratio_")
    compared = np.where(is_ratio, value / np.where(other == 0, np.nan, other), value)
    target_value = pd.to_numeric(led["target_value"], errors="coerce").to_numpy(dtype=float)
    target = np.where(np.isnan(target_value) & (test == "within"), published, target_value)
    tol = pd.to_numeric(led["tolerance_frac"], errors="coerce").to_numpy(dtype=float)
    kind = np.char.replace(test.astype(str), "ratio_", "")
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.select(
            [kind == "within", kind == "at_least", kind == "at_most"],
            [np.abs(compared / target - 1.0) <= tol, compared >= target, compared <= target],
            default=False)
    settled = np.isfinite(compared) & np.isfinite(target) & ~((kind == "within") & np.isnan(tol))
    verdicts = np.where(~settled, CLAIM_VERDICTS[2], np.where(ok, CLAIM_VERDICTS[0],
                                                               CLAIM_VERDICTS[1]))
    units = [_claim_unit(m) for m in led["metric"]]
    words = [_test_words(k, r, t, tl, u, om, os_) for k, r, t, tl, u, om, os_ in zip(
        kind, is_ratio, target, tol, units, led["other_metric"], led["other_subject"])]
    return FullTextTable({
        "claim_id": led["claim_id"].to_numpy(), "claim": led["claim"].to_numpy(),
        "claimant": led["claimant"].to_numpy(), "kind": led["kind"].to_numpy(),
        "notebook": led["notebook"].to_numpy(), "metric": led["metric"].to_numpy(),
        "subject": subject, "value": value, "other_value": other,
        "compared": compared, "target": target, "test": words, "verdict": verdicts,
        "source_url": led["source_url"].to_numpy(),
    })


def _resolve_subject(frame, subject, metric, notebook=None):
    """A ledger subject with ``*`` (the run's model, say) resolved to the one row it matches.

    Left as it is when it has no ``*`` or matches no single row of that notebook and metric.
    """
    if "*" not in subject:
        return subject
    pool = frame[frame["metric"] == metric]
    if notebook is not None:
        pool = pool[pool["notebook"] == notebook]
    hits = sorted({s for s in pool["subject"] if fnmatch.fnmatchcase(s, subject)})
    return hits[0] if len(hits) == 1 else subject


def _claim_unit(metric):
    try:
        return metric_unit(metric)
    except ValueError:
        return None


def _test_words(kind, is_ratio, target, tol, unit, other_metric, other_subject):
    show = (lambda v: format_quantity(v, "ratio")) if is_ratio else (
        lambda v: format_quantity(v, unit))
    t = "the published figure (none in this run)" if not math.isfinite(target) else show(target)
    what = {"within": f"within {_pct(tol) if math.isfinite(tol) else '?'} of {t}",
            "at_least": f"at least {t}", "at_most": f"at most {t}"}[kind]
    if is_ratio:
        return f"over {other_metric} ({other_subject}): {what}"
    return what


def claims_table(judged):
    """The judged claims for people: who said what, the run's value, the test and the verdict.

    Parameters
    ----------
    judged : pandas.DataFrame
        The table from :func:`judge_claims`.

    Returns
    -------
    FullTextTable
        Columns ``claim`` (the quote, in full), ``who``, ``kind``, ``notebook``,
        ``computed`` (the compared value with its unit; "–" when the run has no such row),
        ``test``, ``verdict`` and ``source``, in the ledger's order.
    """
    need = {"claim", "claimant", "kind", "notebook", "metric", "test", "compared", "verdict",
            "source_url"}
    if not isinstance(judged, pd.DataFrame) or not need <= set(judged.columns):
        raise ValueError(f"claims_table needs the table from judge_claims, with {sorted(need)}")
    is_ratio = judged["test"].str.startswith("over ")
    units = [("ratio" if r else _claim_unit(m)) for r, m in zip(is_ratio, judged["metric"])]
    return FullTextTable({
        "claim": judged["claim"].to_numpy(), "who": judged["claimant"].to_numpy(),
        "kind": judged["kind"].to_numpy(), "notebook": judged["notebook"].to_numpy(),
        "computed": [format_quantity(v, u) for v, u in zip(judged["compared"], units)],
        "test": judged["test"].to_numpy(), "verdict": judged["verdict"].to_numpy(),
        "source": judged["source_url"].str.split(r"\s*;\s*").str[0].to_numpy(),
    })


def claims_summary(judged):
    """How the claims fared, by kind: claims, holding, failing, not settled by this run.

    Parameters
    ----------
    judged : pandas.DataFrame
        The table from :func:`judge_claims`.

    Returns
    -------
    pandas.DataFrame
        One row per ``kind`` (sorted) with ``claims_count``, ``holds_count``, ``fails_count``
        and ``unsettled_count``. [count]
    """
    if not isinstance(judged, pd.DataFrame) or not {"kind", "verdict"} <= set(judged.columns):
        raise ValueError("claims_summary needs the table from judge_claims (kind, verdict)")
    v = judged["verdict"]
    tally = pd.DataFrame({
        "kind": judged["kind"].to_numpy(), "claims_count": 1,
        "holds_count": (v == CLAIM_VERDICTS[0]).astype(int).to_numpy(),
        "fails_count": (v == CLAIM_VERDICTS[1]).astype(int).to_numpy(),
        "unsettled_count": (v == CLAIM_VERDICTS[2]).astype(int).to_numpy(),
    }).groupby("kind", sort=True).sum()
    return tally.reset_index()


def claims_result_rows(judged):
    """Result rows counting the judged claims: per kind, ``ledger_claims_count``,
    ``ledger_holds_count``, ``ledger_fails_count`` and ``ledger_unsettled_count``.

    Parameters
    ----------
    judged : pandas.DataFrame
        The table from :func:`judge_claims`.

    Returns
    -------
    list of dict
        Rows for :func:`results_frame` (metric, subject = the kind, value). [count]
    """
    tally = claims_summary(judged).set_index("kind")
    long = tally.stack().rename("value").reset_index()
    return [dict(metric=f"ledger_{col}", subject=kind, value=float(v))
            for kind, col, v in long.itertuples(index=False)]


def prediction_table(results, claims, tolerance_frac):
    """Predictions against published figures: the verdict table with the error and a yes/no.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table whose picked rows all carry a published figure.
    claims : dict
        Wording per ``(metric, subject)`` (as in :func:`verdict_table`).
    tolerance_frac : float
        Relative error within which a prediction counts as landing. [fraction]

    Returns
    -------
    FullTextTable
        ``claim``, ``computed``, ``published`` (formatted), ``error`` (signed percent) and
        ``within <tol>`` ("yes" / "no"), in the order of ``claims``.
    """
    tol = _finite("prediction_table", "tolerance_frac", tolerance_frac)
    if not 0.0 <= tol <= 1.0:
        raise ValueError(f"tolerance_frac must be in [0, 1], got {tolerance_frac!r}")
    frame = validate_results(results)
    keyed = frame.set_index(["metric", "subject"])
    missing = [k for k in claims if k not in keyed.index]
    if missing:
        raise KeyError(f"prediction_table: no result row for {missing}")
    picked = keyed.loc[list(claims)]
    error = picked["value"].to_numpy() / picked["published_value"].to_numpy() - 1.0
    table = verdict_table(frame, claims=claims).drop(columns=["source", "verdict"])
    table["error"] = [f"{100.0 * e:+.0f}%" for e in error]
    table[f"within {_pct(tol)}"] = np.where(np.abs(error) <= tol, "yes", "no")
    return table


def moat_result_rows(params, parts, owned_usd_per_mtok, *, gross_margin_frac, source_url, tpot_row,
                     at_operating, links, stacks, history, at_speed):
    """The result rows of the NVIDIA-moat notebook, in the order its verdict table shows them.

    Parameters
    ----------
    params : mapping
        The notebook's parameters: ``model``, ``node_hardware``,
        ``compressed_gross_margin_frac``, ``demand_elasticity_low``, ``demand_elasticity_high``,
        ``timing_machine``, ``frontier_model``, ``target_tok_per_s_per_user``.
    parts, owned_usd_per_mtok
        :func:`econ.owned_decode_cost_parts` of the node.
    gross_margin_frac : float
        NVIDIA's gross margin today. [fraction]
    source_url : str
        Its source.
    tpot_row : dict
        :func:`econ.isca_tpot_floor_row`.
    at_operating, links : pandas.DataFrame
        The all-to-all bound at the operating batch (:func:`econ.ep_alltoall_sweep`) and the
        links compared (:func:`econ.scaleup_links`: ``h100-sxm`` against ``h800-sxm``).
    stacks : pandas.DataFrame
        :func:`econ.stack_throughput`.
    history : pandas.DataFrame
        :func:`econ.price_history`.
    at_speed : pandas.DataFrame
        :func:`econ.vendor_cost_at_speed`.

    Returns
    -------
    list of dict
        :func:`econ.margin_result_rows`, :func:`econ.jevons_result_rows` (after the margin
        cut, :func:`econ.margin_cut_price_ratios`), the TPOT floor,
        :func:`econ.interconnect_result_rows` (``h800-vs-h100``),
        :func:`econ.stack_result_rows`, :func:`econ.price_history_rows` and
        ``vendor_speed_output_cost_usd_per_mtok`` per device that reaches the speed.
    """
    hw, new_margin = params["node_hardware"], params["compressed_gross_margin_frac"]
    n_devices = _data.row("hardware", hw)["n_devices_per_node"]
    rows = margin_result_rows(parts, owned_usd_per_mtok, gross_margin_frac=gross_margin_frac,
                              new_gross_margin_frac=new_margin, hardware=hw,
                              subject=f"{params['model']}:{hw}", n_devices=n_devices,
                              source_url=source_url)
    token, vendor = margin_cut_price_ratios(parts, gross_margin_frac, new_margin)
    rows += jevons_result_rows(token, vendor, params["demand_elasticity_low"],
                               params["demand_elasticity_high"])
    rows += [tpot_row]
    rows += interconnect_result_rows(at_operating, links, "h100-sxm", "h800-sxm", "h800-vs-h100")
    rows += stack_result_rows(stacks, params["timing_machine"]) + price_history_rows(history)
    speed = params["target_tok_per_s_per_user"]
    rows += table_result_rows(at_speed, {"vendor_speed_output_cost_usd_per_mtok":
                                         "output_usd_per_mtok"},
                              subject=f"{params['frontier_model']}:{{index}}",
                              verdict=f"engine level, at least {speed:g} tokens/s per user")
    return rows


def moat_claims(results, min_tok_per_s_per_user):
    """Claim wording of the NVIDIA-moat verdict table, for the metrics ``results`` has.

    Parameters
    ----------
    results : pandas.DataFrame
        The notebook's results table.
    min_tok_per_s_per_user : float
        The speed per user of the per-vendor rows. [tokens/s]

    Returns
    -------
    dict
        ``{metric: claim}`` (every subject of the metric), in the table's order.
    """
    claims = {
        "owned_gpu_usd_per_hour": "Owned cost of one GPU-hour",
        "nvidia_margin_usd_per_mtok": "NVIDIA's margin per Mtok",
        "nvidia_margin_share_frac": "Share of a token's cost that is NVIDIA's gross margin",
        "compressed_margin_cost_change_frac": "Change in $/Mtok if NVIDIA's margin is compressed",
        "compute_spend_ratio": "Compute spend after the cut",
        "nvidia_revenue_ratio": "NVIDIA revenue after the cut",
        "nvidia_breakeven_elasticity_ratio": "Elasticity NVIDIA needs to keep its revenue",
        "decode_tpot_floor_s": "All-to-all TPOT floor on DeepSeek's H800 cluster (ISCA'25)",
        "interconnect_cut_cost_increase_frac": "H800's cut NVLink: extra $/Mtok",
        "triton_vs_cublas_flop_ratio": "Triton BF16 matmul / cuBLAS",
        "jax_vs_cublas_flop_ratio": "JAX/XLA BF16 matmul / cuBLAS",
        "api_blended_price_ratio": "Earliest charted API price / cheapest (blended)",
        "vendor_speed_output_cost_usd_per_mtok":
            f"$/Mtok at {min_tok_per_s_per_user:g} tokens/s per user"}
    have = set(results["metric"])
    return {k: v for k, v in claims.items() if k in have}
