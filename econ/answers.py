"""Answers rendered from a run's results: numbers, comparison words and rankings as computed.

A notebook ends with a cell tagged ``answer`` whose output is Markdown made by :func:`answer`
from the run's own values, so a reader under any scenario reads that scenario's conclusion::

    econ.answer(
        "At {util:.0%} busy the GPU node costs ${gpu:.2f}/Mtok, {word} than Groq's ${groq:.2f}.",
        util=utilization_frac,
        gpu=econ.result(results, "cost_usd_per_mtok", "h100-sxm"),
        groq=econ.result(results, "cost_usd_per_mtok", "groq-lpu"),
        word=econ.compare(gpu_cost, groq_cost, lower="cheaper", higher="dearer"))

Every field of the template is formatted with its format spec (Python's, plus a scale suffix
``k``, ``M``, ``B`` or ``T``: ``{x:.3fM}`` writes 5576000 as ``5.576M``). A bare ``$`` is
escaped so Jupyter does not read a pair of them as mathematics.

The answer records what it formatted (the output's metadata under ``text/markdown``,
``econ_answer``): for each field its text, value and spec; for a number read from the results
table (:func:`result`) its metric and subject; for a comparison word (:func:`compare`) the two
values, the tolerance and the words; for a ranking (:func:`ranking`) the items in order.
:func:`check_answer` uses that record to check the text against the values without parsing
prose.
"""
from __future__ import annotations

import math
import re
import string

import numpy as np

from .calibrate import TARGET_ERROR_FRAC, TARGET_GPU_TYPES_COUNT
from .deployments import DAY6_SUBJECT, LAYOUT_CHECKS, LAYOUT_METRIC, day6_inputs

__all__ = ["Answer", "Figure", "Word", "answer", "result", "result_figures", "result_fields",
           "compare", "ranking", "prediction_fields", "check_answer", "format_value",
           "ANSWER_METADATA_KEY", "notebook_answers", "lead_sentences",
           "kernel_timings_answer_fields", "token_pricing_answer_fields",
           "target_speed_answer_fields", "moat_answer_fields", "layout_check_fields"]

#: Key of the record in the Markdown output's metadata.
ANSWER_METADATA_KEY = "econ_answer"

_SCALES = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
#: A number standing on its own in prose (not a digit inside a name such as H800, V3, 3.1-405b).
_STRAY_NUMBER = re.compile(r"(?<![\w.\-/])[-+]?\d")


class Figure(float):
    """A number read from a results table: a float that remembers its row and column."""

    def __new__(cls, value, metric, subject, column="value"):
        obj = super().__new__(cls, value)
        obj.metric, obj.subject, obj.column = metric, subject, column
        return obj

    def __repr__(self):
        return (f"Figure({float(self)!r}, metric={self.metric!r}, subject={self.subject!r}, "
                f"column={self.column!r})")


class Word(str):
    """A word or phrase chosen by a computation, with the record of how it was chosen."""

    def __new__(cls, text, record):
        obj = super().__new__(cls, text)
        obj.record = record
        return obj


def result(results, metric, subject, column="value"):
    """The value (or published figure) of one row of a results table, as a :class:`Figure`.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`econ.results_frame`).
    metric, subject : str
        The row's keys.
    column : {"value", "published_value"}
        The run's value, or the published figure it is compared with.

    Returns
    -------
    Figure
        The row's ``column``.

    Raises
    ------
    KeyError
        No such row, listing the rows there are.
    """
    if column not in ("value", "published_value"):
        raise ValueError(f"column must be 'value' or 'published_value', got {column!r}")
    hit = results[(results["metric"] == metric) & (results["subject"] == subject)]
    if len(hit) != 1:
        have = sorted(set(zip(results["metric"], results["subject"])))
        raise KeyError(f"result: no single row metric={metric!r}, subject={subject!r}; "
                       f"rows: {have}")
    v = float(hit[column].iloc[0])
    if not math.isfinite(v):
        raise ValueError(f"result: row {metric}/{subject} has no {column}")
    return Figure(v, metric, subject, column)


def result_figures(results, column="value"):
    """Every finite value (or published figure) of a results table, keyed by (metric, subject).

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`econ.results_frame`).
    column : {"value", "published_value"}
        The run's values, or the published figures they are compared with.

    Returns
    -------
    dict
        ``{(metric, subject): Figure}``; rows whose ``column`` is NaN are left out.
    """
    if column not in ("value", "published_value"):
        raise ValueError(f"column must be 'value' or 'published_value', got {column!r}")
    vals = results[column].to_numpy(dtype=float)
    keep = np.isfinite(vals)
    return {(m, s): Figure(v, m, s, column) for m, s, v in zip(
        results["metric"].to_numpy()[keep], results["subject"].to_numpy()[keep], vals[keep])}


def result_fields(results, column="value"):
    """Every row of a results table as a :class:`Figure`, by a field name for :func:`answer`.

    Each row is named ``<metric>__<subject>`` with every character of the subject that is not
    a letter or digit written ``_`` (``compute_spend_ratio__compressed_margin_elastic``); a
    metric with a single row is also named by the metric alone. Pass them on with
    ``econ.answer(template, **econ.result_fields(results), ...)``.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (:func:`econ.results_frame`).
    column : {"value", "published_value"}
        Which figure; rows without it are left out.

    Returns
    -------
    dict
        ``{field name: Figure}``.
    """
    out, count = {}, results["metric"].value_counts()
    for metric, subject in zip(results["metric"], results["subject"]):
        try:
            fig = result(results, metric, subject, column)
        except ValueError:  # no published figure on this row
            continue
        out[f"{metric}__{re.sub(r'[^0-9A-Za-z]', '_', str(subject))}"] = fig
        if count[metric] == 1:
            out[metric] = fig
    return out


def _number(name, x):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v!r}")
    return v


def compare(a, b, lower, higher, same=None, rel_tol=0.0):
    """The word that says how ``a`` stands against ``b``.

    Parameters
    ----------
    a, b : float
        The two values, same unit. [any]
    lower, higher : str
        The word when ``a`` is below ``b`` ("cheaper"), and when above ("dearer").
    same : str, optional
        The word when ``|a / b - 1| <= rel_tol`` ("about as dear as", "within"); required
        when ``rel_tol > 0``.
    rel_tol : float
        Relative difference still counted as the same. [-]

    Returns
    -------
    Word
        One of the three words, with its record (``a``, ``b``, ``rel_tol``, the words).
    """
    a, b = _number("a", a), _number("b", b)
    rel_tol = _number("rel_tol", rel_tol)
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be >= 0, got {rel_tol!r}")
    if rel_tol > 0 and same is None:
        raise ValueError("compare: give the `same` word when rel_tol > 0")
    for name, w in (("lower", lower), ("higher", higher), ("same", same)):
        if w is not None and not isinstance(w, str):
            raise TypeError(f"{name} must be a string, got {w!r}")
    text = _compare_word(a, b, lower, higher, same, rel_tol)
    return Word(text, dict(kind="compare", a=a, b=b, rel_tol=rel_tol, lower=lower,
                           higher=higher, same=same))


def _compare_word(a, b, lower, higher, same, rel_tol):
    close = (abs(a - b) <= rel_tol * abs(b)) if b != 0 else a == 0
    if same is not None and (close or a == b):
        return same
    if a == b:
        raise ValueError(f"compare: a and b are equal ({a!r}); give a `same` word")
    return lower if a < b else higher


def ranking(values, descending=True, sep=" > ", top=None):
    """Labels ordered by their values: ``"batch size > context length > utilization"``.

    Parameters
    ----------
    values : mapping or pandas.Series
        ``{label: value}``.
    descending : bool
        Largest first (default).
    sep : str
        Put between labels.
    top : int, optional
        Keep only the first ``top`` labels.

    Returns
    -------
    Word
        The labels joined in order, with the record of every label and value.
    """
    items = [(str(k), _number(f"value of {k!r}", v)) for k, v in dict(values).items()]
    if not items:
        raise ValueError("ranking needs at least one value")
    items.sort(key=lambda kv: kv[1], reverse=descending)
    if top is not None:
        items = items[:int(top)]
    text = sep.join(k for k, _ in items)
    return Word(text, dict(kind="rank", items=[[k, v] for k, v in items],
                           descending=bool(descending), sep=sep))


def prediction_fields(results, labels, rel_tol):
    """Answer fields saying which predictions of published figures land, closest first.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table whose rows named in ``labels`` carry a published figure.
    labels : dict
        ``{(metric, subject): label}``: the predictions, in words.
    rel_tol : float
        Relative error within which a prediction lands. [fraction]

    Returns
    -------
    dict
        For :func:`answer`: ``n`` (predictions) and ``n_in`` (landing) [count], ``lands`` and
        ``misses`` (:func:`ranking` of the labels by relative error, smallest first, joined by
        "; "; "none" when empty).
    """
    tol = _number("rel_tol", rel_tol)
    off = {}
    for (metric, subject), label in dict(labels).items():
        value = result(results, metric, subject)
        off[str(label)] = abs(value / result(results, metric, subject, "published_value") - 1.0)
    lands = {k: x for k, x in off.items() if x <= tol}
    misses = {k: x for k, x in off.items() if x > tol}
    return dict(n=float(len(off)), n_in=float(len(lands)),
                lands=ranking(lands or {"none": 0.0}, descending=False, sep="; "),
                misses=ranking(misses or {"none": 0.0}, descending=False, sep="; "))


def layout_check_fields(results):
    """Answer fields of the measured DeepSeek-style units (:func:`econ.layout_checks`).

    Parameters
    ----------
    results : pandas.DataFrame
        A results table holding :func:`econ.serving_result_rows`.

    Returns
    -------
    dict
        Per check, its name with ``-`` written ``_`` (``sglang_h100_decode``): the predicted
        rate, ``<name>_pub`` (the measured one) [tokens/s per node] and ``<name>_gap``
        (predicted over measured, minus one) [fraction]; ``duty`` (the published Day-6
        prefill rate's computed tokens over DeepSeek's profiled rate) [fraction].
    """
    out = {}
    for check, *_ in LAYOUT_CHECKS:
        subject = f"deepseek-v3:{check}"
        key = check.replace("-", "_")
        value = result(results, LAYOUT_METRIC, subject)
        measured = result(results, LAYOUT_METRIC, subject, "published_value")
        out.update({key: value, f"{key}_pub": measured, f"{key}_gap": value / measured - 1.0})
    day6 = result(results, "prefill_tok_per_s_per_node_predicted", DAY6_SUBJECT,
                  "published_value")
    out["duty"] = day6 * (1.0 - day6_inputs()["cache_hit_frac"]) / out[
        "deepseek_profile_prefill_pub"]
    return out


def format_value(value, spec=""):
    """Format a number with a Python format spec, or with a scale suffix k, M, B or T."""
    v = float(value)
    if spec and spec[-1] in _SCALES:
        return format(v / _SCALES[spec[-1]], spec[:-1] or "g") + spec[-1]
    return format(v, spec)


def _escape_dollars(text):
    return re.sub(r"(?<!\\)\$", r"\\$", text)


class Answer:
    """A rendered answer: Markdown for the notebook and its report, with the record of values.

    ``markdown`` is the text; ``record`` the list of formatted fields (see the module help).
    In Jupyter it displays as Markdown and stores the record in the output's metadata.
    """

    def __init__(self, markdown, record):
        self.markdown = markdown
        self.record = record

    def _repr_markdown_(self):
        return self.markdown, {ANSWER_METADATA_KEY: self.record}

    def __str__(self):
        return self.markdown

    def __repr__(self):
        return self.markdown


def answer(template, /, **values):
    """Render a Markdown answer from a template and the run's values.

    Parameters
    ----------
    template : str
        Markdown with ``{name:spec}`` fields (Python's format syntax). Numbers take a numeric
        spec, optionally ending in ``k``/``M``/``B``/``T`` (scale); words and labels take none.
        Write dollars as ``$``: they are escaped for Jupyter.
    **values
        A number (float, int, :class:`Figure`), a :class:`Word` (from :func:`compare` or
        :func:`ranking`) or a label (str: a model or hardware key).

    Returns
    -------
    Answer
        Displays as Markdown; ``record`` lists each field's text and value.

    Raises
    ------
    KeyError
        A field with no value.
    ValueError
        A field with a conversion (``!r``), an attribute or an index, or a non-finite number.
    """
    if not isinstance(template, str):
        raise TypeError(f"template must be a string, got {type(template).__name__}")
    out, record, pos = [], [], 0
    for literal, field, spec, conv in string.Formatter().parse(template):
        literal = literal.replace("\\$", "$")  # escaped once, below
        out.append(literal)
        pos += len(literal)
        if field is None:
            continue
        if conv is not None or not field.isidentifier():
            raise ValueError(f"answer: field {{{field}}} must be a plain name (no !conversion, "
                             f"attribute or index)")
        if field not in values:
            raise KeyError(f"answer: no value for field {{{field}}}; given: {sorted(values)}")
        v = values[field]
        entry = dict(field=field, spec=spec)
        if isinstance(v, Word):
            if spec:
                raise ValueError(f"answer: field {{{field}}} is a word; give it no format spec")
            text = str(v)
            entry.update(v.record)
        elif isinstance(v, str):
            if spec:
                raise ValueError(f"answer: field {{{field}}} is a label; give it no format spec")
            text = v
            entry.update(kind="label")
        else:
            num = _number(f"answer field {{{field}}}", v)
            text = format_value(num, spec)
            entry.update(kind="number", value=num)
            if isinstance(v, Figure):
                entry.update(metric=v.metric, subject=v.subject, column=v.column)
        entry["text"] = text
        entry["start"] = pos
        record.append(entry)
        out.append(text)
        pos += len(text)
    return Answer(_escape_dollars("".join(out)), record)


def check_answer(markdown, record, results=None, rel_tol=1e-9):
    """Problems with a rendered answer, checked against its own record (``[]`` when none).

    Checks that every recorded text stands in the Markdown where it was rendered; that each
    number's text is its value at the recorded spec; that a number read from the results table
    equals the row of ``results`` (when given) within ``rel_tol``; that each comparison word is
    the one the two values call for; that each ranking is in order of its values; and that no
    number stands in the Markdown that is not one of the recorded fields (a number typed into
    the template).

    Parameters
    ----------
    markdown : str
        The rendered text (the output's ``text/markdown``).
    record : list of dict
        The output's metadata record (:data:`ANSWER_METADATA_KEY`).
    results : pandas.DataFrame, optional
        The run's results table, to check :class:`Figure` fields against.
    rel_tol : float
        Tolerance of that comparison. [-]

    Returns
    -------
    list of str
    """
    problems = []
    plain = markdown.replace("\\$", "$")
    rest = list(plain)
    for e in record:
        text, kind, name = e["text"], e.get("kind"), e.get("field")
        start = e.get("start", -1)
        if plain[start:start + len(text)] != text:
            problems.append(f"{{{name}}}: {text!r} is not in the answer where it was rendered")
        else:
            rest[start:start + len(text)] = " " * len(text)
        if kind == "number":
            want = format_value(e["value"], e.get("spec", ""))
            if want != text:
                problems.append(f"{{{name}}}: shows {text!r}, its value {e['value']!r} formats "
                                f"as {want!r}")
            if results is not None and "metric" in e:
                hit = results[(results["metric"] == e["metric"])
                              & (results["subject"] == e["subject"])]
                if len(hit) != 1:
                    problems.append(f"{{{name}}}: no result row {e['metric']}/{e['subject']}")
                elif not math.isclose(float(hit[e.get("column", "value")].iloc[0]), e["value"],
                                      rel_tol=rel_tol, abs_tol=1e-300):
                    col = e.get("column", "value")
                    problems.append(f"{{{name}}}: shows {e['value']!r} but the run's "
                                    f"{e['metric']}/{e['subject']} {col} is {hit[col].iloc[0]!r}")
        elif kind == "compare":
            a, b, tol = e["a"], e["b"], e["rel_tol"]
            if e.get("same") is not None and abs(a - b) <= tol * abs(b):
                want = e["same"]
            else:
                want = e["lower"] if a < b else e["higher"]
            if want != text:
                problems.append(f"{{{name}}}: says {text!r} but {a!r} against {b!r} "
                                f"(tolerance {tol}) calls for {want!r}")
        elif kind == "rank":
            vals = [v for _, v in e["items"]]
            ordered = sorted(vals, reverse=e["descending"])
            if vals != ordered:
                problems.append(f"{{{name}}}: ranking {e['items']} is out of order")
            if e["sep"].join(k for k, _ in e["items"]) != text:
                problems.append(f"{{{name}}}: ranking text {text!r} differs from its items")
    rest = "".join(rest)
    stray = _STRAY_NUMBER.findall(rest)
    if stray:
        at = [rest[max(0, m.start() - 30):m.end() + 10] for m in _STRAY_NUMBER.finditer(rest)]
        problems.append(f"numbers typed into the answer, not computed: {at[:5]}")
    return problems


def notebook_answers(nb):
    """The answers of an executed notebook: ``[{"markdown", "record"}]``, in order.

    An answer is a Markdown output of a code cell tagged ``answer``; ``record`` is what
    :func:`answer` formatted (the output's metadata under :data:`ANSWER_METADATA_KEY`; empty
    for Markdown made otherwise). What :func:`check_answer` checks, read back from a notebook.
    """
    return [{"markdown": "".join(o["data"]["text/markdown"]),
             "record": o.get("metadata", {}).get("text/markdown", {}).get(ANSWER_METADATA_KEY,
                                                                          [])}
            for cell in nb.cells if cell.cell_type == "code"
            and "answer" in cell.get("metadata", {}).get("tags", [])
            for o in cell.get("outputs", []) if (o.get("data") or {}).get("text/markdown")]


def lead_sentences(markdown, n=2, max_chars=400):
    """The first ``n`` sentences of a Markdown answer (a bold label like ``**Chips.**`` is
    not a sentence of its own), at most about ``max_chars`` characters."""
    lines = (re.sub(r"^\s*(?:[-+]|\*(?!\*)|\d+\.)\s+", "", ln) for ln in markdown.splitlines())
    text = re.sub(r"\s+", " ", " ".join(lines).strip())  # list items read as sentences
    out, count = [], 0
    for p in re.split(r"(?:(?<=[.!?])|(?<=[.!?]\*\*))\s+(?=(?:\*\*)?[A-Z\"'(\[\\$0-9])", text):
        out.append(p)
        count += not (len(re.sub(r"[*_]", "", p)) < 30 and p.startswith("**"))  # a label
        if count >= n or len(" ".join(out)) >= max_chars:
            break
    lead = " ".join(out)
    return lead + ("**" if lead.count("**") % 2 else "")  # close a bold run left open


def kernel_timings_answer_fields(results, params, steps, info):
    """The values of the kernel-timings answers (:func:`answer`), from the run.

    Parameters
    ----------
    results : pandas.DataFrame
        ``econ.kernel_timings_results``.
    params : mapping
        The notebook's parameters (``gpu_hardware``, ``model``, ``precision``).
    steps : pandas.DataFrame
        ``econ.recorded_step_predictions()`` (counts of BF16 steps fitted to and held out).
    info : mapping
        ``econ.machine_info()`` of the live run.

    Returns
    -------
    dict
        Numbers (results rows as :class:`Figure`), comparison words and a ranking by field name.
        Recorded GPU: ``g``, ``bf16``, ``fp8``, ``bw``, ``dg``, ``fm``, ``w_fp8``, ``w_bw``,
        ``model``, ``prec``, ``dec``, ``dec_usd``, ``dec_ds``, ``pre``, ``err``, ``target``,
        ``w_err``, ``ridge``, ``mla``, ``moe``, ``md``, ``stacks``. Engine: ``n_fit``,
        ``n_hold``, ``fit``, ``hold``, ``w_hold``, ``th``, ``fp8_steps``, ``val``, ``w_val``,
        ``tv``, ``val_plain``, ``w_plain``, ``val_dense``, ``w_dense``, ``val_moe``,
        ``w_moe``, ``n_types`` (GPU types with all four target medians within 20%),
        ``types_needed`` (3, what the target asks), ``w_types`` (against it), ``types`` (each
        type's worst median),
        ``n_peak``, ``peak``, ``peak_avg``, ``w_peak`` (burst runs: error against their
        busiest second and against their average, :func:`econ.ledger_peak_predictions`),
        ``fixed``, ``n_fixed``, ``maxload``, ``n_maxload``, ``burst``, ``n_burst``,
        ``burst_spread``, ``n_burst_spread``, ``closed_rbr``, ``n_closed_rbr`` (validation
        error and measurement count by how the run held its load: a fixed number of
        requests in flight; offline or fixed batches; a burst; the bursts whose lengths'
        spread is stated, served request by request; the closed loops whose lengths and
        request count are stated, served request by request),
        ``wo``, ``n_wo``, ``native``, ``wo_ratio``, ``w_wo_ratio`` (validation error and count
        of the measurements whose quantized weights run through BF16 matmuls, weight-only
        kernels; the error of the rest; their median predicted over measured, and whether
        that is too fast or too slow),
        ``val_shared``, ``val_peer``, ``w_peer``, ``spread`` (the largest TPOT
        spread between engines measuring one setup) and ``spread_floor`` (the error no single
        prediction gets under for it). Live CPU: ``threads``, ``load``,
        ``cpu_err``, ``w_cpu_err``, ``f32``, ``mem``, ``cpu_ridge``, ``cpu_mla``, ``w_mla``.
    """
    g, m = params["gpu_hardware"], params["model"]
    s, e, v = f"{m}:{g}", "engine:recorded-steps", "predict_serving:ledger"
    r = lambda metric, subject, column="value": result(results, metric, subject, column)  # noqa: E731
    fp8, bw = r("gemm_flop_efficiency_frac", f"{g}:fp8"), r("memory_bandwidth_efficiency_frac", g)
    dg = r("gemm_flop_efficiency_frac", f"{g}:fp8", "published_value")
    fm = r("memory_bandwidth_efficiency_frac", g, "published_value")
    err = r("roofline_median_abs_error_frac", g)
    cpu_err = r("roofline_median_abs_error_frac", "cpu")
    hold, val = r("held_out_step_error_frac", e), r("validation_serving_error_frac", v)
    plain = r("validation_serving_error_no_kv_assumption_frac", v)
    dense, moe = r("validation_serving_error_frac", f"{v}:dense"), \
        r("validation_serving_error_frac", f"{v}:moe")
    shared = r("validation_serving_error_frac", f"{v}:shared-with-peer")
    peer = r("peer_validation_serving_error_frac", "aiconfigurator:ledger")
    spread = r("same_workload_tpot_spread_ratio", "ledger:engines")
    peak = r("validation_serving_error_frac", f"{v}:burst-peak-second")
    peak_avg = r("validation_serving_error_frac", f"{v}:burst-average")
    n_peak = r("burst_runs_with_peak_count", v)
    held = {k: (r("validation_serving_error_frac", f"{v}:{k}"),
                r("validation_measurements_count", f"{v}:{k}"))
            for k in ("fixed-concurrency", "offline-or-batch", "burst",
                      "burst-request-by-request", "closed-loop-request-by-request",
                      "weight-only-matmuls", "native-matmuls")}
    wo_ratio = r("validation_predicted_to_measured_ratio", f"{v}:weight-only-matmuls")
    n_types = r("gpu_types_within_target_count", v)
    row = results[(results["metric"] == "gpu_types_within_target_count")
                  & (results["subject"] == v)]
    types_verdict = str(row["verdict"].iloc[0]) if len(row) else ""
    mla = r("mla_vs_mha_decode_speedup_ratio", g)
    cpu_mla = r("mla_vs_mha_decode_speedup_ratio", "cpu")
    stack = {b: r("portable_stack_to_cublas_ratio", f"{g}:{b}") for b in ("triton", "jax", "cupy")}
    bf16 = steps["weight_precision"].eq("bf16")
    target, th, tv = 0.2, 0.15, TARGET_ERROR_FRAC
    types_needed = TARGET_GPU_TYPES_COUNT
    return dict(
        g=g, bf16=r("gemm_flop_efficiency_frac", f"{g}:bf16"), fp8=fp8, bw=bw, dg=dg, fm=fm,
        w_fp8=compare(fp8, dg, "below", "above", "within a twentieth of", rel_tol=0.05),
        w_bw=compare(bw, fm, "below", "above", "within a twentieth of", rel_tol=0.05),
        model=m, prec=str(params["precision"]).upper(),
        dec=r("measured_to_datasheet_cost_ratio", f"{s}:decode"),
        dec_usd=r("decode_cost_usd_per_mtok", f"{s}:measured"),
        dec_ds=r("decode_cost_usd_per_mtok", f"{s}:datasheet"),
        pre=r("measured_to_datasheet_cost_ratio", f"{s}:prefill"),
        err=err, target=target, w_err=compare(err, target, "within", "above", "at"),
        ridge=r("ridge_batch_count", f"{g}:bf16"), mla=mla,
        moe=r("moe_grouped_vs_naive_speedup_ratio", g), md=r("moe_grouped_to_dense_time_ratio", g),
        stacks=ranking({f"{b} {float(x):.0%}": x for b, x in stack.items()}, sep=", "),
        n_fit=float((steps["split"].eq("fit") & bf16).sum()),
        n_hold=float((steps["split"].eq("holdout") & bf16).sum()),
        fit=r("fitted_step_error_frac", e), hold=hold, th=th,
        w_hold=compare(hold, th, "within", "above", "at"),
        fp8_steps=r("fp8_harness_step_error_frac", e), val=val, tv=tv,
        w_val=compare(val, tv, "within", "above", "at"), val_plain=plain,
        w_plain=compare(plain, val, "lower than with them", "higher than with them", "the same"),
        val_dense=dense, w_dense=compare(dense, tv, "within", "above", "at"),
        val_moe=moe, w_moe=compare(moe, tv, "within", "above", "at"),
        val_shared=shared, val_peer=peer, spread=spread, spread_floor=(spread - 1) / (spread + 1),
        n_types=n_types, types_needed=types_needed, n_peak=n_peak, peak=peak, peak_avg=peak_avg,
        w_peak=compare(peak, peak_avg, "closer than", "farther than", "as close as"),
        fixed=held["fixed-concurrency"][0], n_fixed=held["fixed-concurrency"][1],
        maxload=held["offline-or-batch"][0], n_maxload=held["offline-or-batch"][1],
        burst=held["burst"][0], n_burst=held["burst"][1],
        burst_spread=held["burst-request-by-request"][0],
        n_burst_spread=held["burst-request-by-request"][1],
        closed_rbr=held["closed-loop-request-by-request"][0],
        n_closed_rbr=held["closed-loop-request-by-request"][1],
        wo=held["weight-only-matmuls"][0], n_wo=held["weight-only-matmuls"][1],
        native=held["native-matmuls"][0], wo_ratio=wo_ratio,
        w_wo_ratio=compare(wo_ratio, 1.0, "too slow", "too fast", "about right", rel_tol=0.02),
        w_types=compare(n_types, types_needed, "fewer than", "more than", "as many as"),
        types=types_verdict,
        w_peer=compare(shared, peer, "lower than", "higher than", "the same as", rel_tol=0.01),
        threads=float(info["n_blas_threads"]), load=float(info["cpu_load_1min"]),
        cpu_err=cpu_err, w_cpu_err=compare(cpu_err, target, "within", "above", "at"),
        f32=r("peak_flop_per_s", "cpu:float32"), mem=r("memory_bandwidth_bytes_per_s", "cpu"),
        cpu_ridge=r("ridge_batch_count", "cpu:float32"), cpu_mla=cpu_mla,
        w_mla=compare(cpu_mla, mla, "less than", "more than", "as much as"),
    )


def token_pricing_answer_fields(results, params, sweep, tornado_frame, day6, gap,
                                repro_rel_tol=0.005):
    """The values of the token-pricing answer (:func:`answer`), from the run.

    Parameters
    ----------
    results : pandas.DataFrame
        The token-pricing results table (Day-6, batch cost and price-gap rows).
    params : mapping
        The notebook's parameters (``econ.notebook_parameters``): ``n_nodes``,
        ``node_hardware``, ``model``, ``precision``, ``context_tok``, ``batch_per_node``,
        ``usd_per_gpu_hour``, ``utilization_frac``, ``o1_model``, ``o1_hardware``,
        ``o1_precision``, ``o1_usd_per_gpu_hour`` (resolved).
    sweep : pandas.DataFrame
        ``econ.batch_cost_sweep`` (its first batch is the smallest).
    tornado_frame : pandas.DataFrame
        ``econ.decode_cost_tornado`` at the operating batch.
    day6 : pandas.DataFrame
        ``econ.day6_economics``.
    gap : pandas.DataFrame
        ``econ.price_gap_table``.
    repro_rel_tol : float, default 0.005
        Relative gap within which a Day-6 figure counts as reproduced. [fraction]

    Returns
    -------
    dict
        By field name. Cost of a token: ``n_nodes``, ``hw``, ``model``, ``prec``, ``ctx``,
        ``b1``, ``b1n`` (cost [USD/Mtok] and batch of the smallest batch), ``op``, ``batch``,
        ``price``, ``util``, ``red``, ``rank`` (tornado inputs by swing, largest first).
        DeepSeek's day: ``ds_price``, ``cost``, ``rev``, ``margin``, ``gm``, ``err`` (largest
        relative gap to a published figure), ``w_repro``, ``scost``, ``smargin``. R1 vs o1:
        ``pr``, ``o1m``, ``o1hw``, ``o1p``, ``o1price``, ``cr``, ``share``, ``markup``.
    """
    subject = f"{params['model']}:{params['node_hardware']}"
    d6, scen, pair = "deepseek-day6", "deepseek-day6:scenario", "o1-vs-deepseek-r1"
    r = results
    repro = r[(r["subject"] == d6) & r["published_value"].notna()]
    err = (repro["value"] / repro["published_value"] - 1).abs().max()
    return dict(
        n_nodes=params["n_nodes"], hw=params["node_hardware"], model=params["model"],
        prec=str(params["precision"]).upper(), ctx=params["context_tok"],
        b1=sweep["decode_cost_usd_per_mtok"].iloc[0], b1n=sweep["batch_per_node_count"].iloc[0],
        op=result(r, "decode_cost_usd_per_mtok", subject), batch=params["batch_per_node"],
        price=params["usd_per_gpu_hour"], util=params["utilization_frac"],
        red=result(r, "batch_cost_reduction_ratio", subject),
        rank=ranking(tornado_frame.set_index("parameter_title")["swing"], sep=" > "),
        ds_price=day6.loc["usd_per_gpu_hour", "deepseek_price_value"],
        cost=result(r, "serving_cost_usd_per_day", d6),
        rev=result(r, "theoretical_revenue_usd_per_day", d6),
        margin=result(r, "cost_profit_margin_frac", d6), gm=result(r, "gross_margin_frac", d6),
        err=err, w_repro=compare(err, repro_rel_tol, "reproducing", "not reproducing",
                                 "at the limit of"),
        scost=result(r, "serving_cost_usd_per_day", scen),
        smargin=result(r, "cost_profit_margin_frac", scen),
        pr=result(r, "api_output_price_ratio", pair), o1m=params["o1_model"],
        o1hw=params["o1_hardware"], o1p=str(params["o1_precision"]).upper(),
        o1price=params["o1_usd_per_gpu_hour"], cr=result(r, "modelled_output_cost_ratio", pair),
        share=result(r, "price_gap_explained_by_cost_frac", pair),
        markup=gap.set_index("model").loc[params["o1_model"], "markup_ratio"])


def target_speed_answer_fields(results, at_speed, model,
                               metric="target_speed_output_cost_usd_per_mtok"):
    """The devices that reach a speed per user, cheapest first, for :func:`answer`.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table with a ``metric`` row per device that reaches the speed, subject
        ``"<model>:<hardware>"`` (``econ.frontier_result_rows``).
    at_speed : pandas.DataFrame
        ``econ.cost_at_speed`` (index ``hardware``; ``output_usd_per_mtok`` NaN where no setup
        is fast enough).
    model : str
        The model of the subjects.
    metric : str
        The metric of the per-device rows.

    Returns
    -------
    dict
        Empty when no device reaches the speed; otherwise ``rank`` (:func:`ranking` of the
        devices by cost, cheapest first, joined by ", then "), ``best`` (the cheapest device)
        and ``cost`` (its row of ``results``) [USD/Mtok].
    """
    reach = at_speed["output_usd_per_mtok"].dropna()
    if not len(reach):
        return {}
    best = reach.idxmin()
    return dict(rank=ranking(reach, descending=False, sep=", then "), best=best,
                cost=result(results, metric, f"{model}:{best}"))


def moat_answer_fields(results, params, at_speed, gross_margin_frac):
    """The values of the NVIDIA-moat answer (:func:`answer`), from the run.

    Parameters
    ----------
    results : pandas.DataFrame
        The NVIDIA-moat results table (``econ.moat_result_rows``).
    params : mapping
        The notebook's parameters: ``node_hardware``, ``compressed_gross_margin_frac``,
        ``demand_elasticity_low``, ``demand_elasticity_high``, ``timing_machine``,
        ``target_tok_per_s_per_user``, ``frontier_model``.
    at_speed : pandas.DataFrame
        ``econ.vendor_cost_at_speed`` (``output_usd_per_mtok`` NaN where no setup is fast
        enough).
    gross_margin_frac : float
        NVIDIA's gross margin today. [fraction]

    Returns
    -------
    dict
        :func:`result_fields` of ``results``, and ``hw``, ``gm``, ``cm``, ``lo``, ``hi``,
        ``tpot_ms`` and ``tpot_pub_ms`` (the TPOT floor and DeepSeek's figure) [ms],
        ``w_tpot`` (the floor against the figure, within a twentieth), ``machine``, ``speed``
        [tokens/s], ``fm``, ``speed_rank`` (devices that reach the speed, cheapest first;
        empty when none does) and ``hist`` (the subject of the API price history row).
    """
    fast = at_speed["output_usd_per_mtok"].dropna()
    floor = result(results, "decode_tpot_floor_s", "deepseek-v3")
    floor_pub = result(results, "decode_tpot_floor_s", "deepseek-v3", "published_value")
    hist = results.loc[results["metric"] == "api_blended_price_ratio", "subject"]
    return dict(
        **result_fields(results), hw=params["node_hardware"], gm=gross_margin_frac,
        cm=params["compressed_gross_margin_frac"], lo=params["demand_elasticity_low"],
        hi=params["demand_elasticity_high"], tpot_ms=float(floor) * 1e3,
        tpot_pub_ms=float(floor_pub) * 1e3,
        w_tpot=compare(floor, floor_pub, "below", "above", "within a twentieth of", rel_tol=0.05),
        machine=params["timing_machine"], speed=params["target_tok_per_s_per_user"],
        fm=params["frontier_model"],
        speed_rank=ranking(fast, descending=False, sep=", ") if len(fast) else "",
        hist=str(hist.iloc[0]))
