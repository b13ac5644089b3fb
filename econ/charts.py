"""Charts: one Altair theme and helpers that turn tidy frames into captioned charts.

Importing this module registers the ``"econ"`` theme and enables it (Altair 6 theme API,
``alt.theme.register`` / ``alt.theme.enable``): readable type, a light grid, and the Okabe-Ito
palette, which stays distinguishable under the common forms of colour blindness. The renderer is
left at Altair's default (``html``), which nbformat, papermill and nbval accept. ``import econ``
does not import this module (nor Altair): the first use of ``econ.charts`` or of one of its names
(``econ.line_chart``, ...) does.

Every helper takes a tidy ``pandas.DataFrame`` and returns an Altair chart whose title carries a
caption (the subtitle: what the reader should see) and whose quantitative axes name their unit.
An axis title is derived from the column name's unit suffix (``cost_usd_per_mtok`` ->
``Cost [USD/Mtok]``, :func:`econ.data.unit_of`); for a column without one, give the title with
the unit in brackets (``x_title="Batch size [sequences]"``), or a ``ValueError`` says so.

:func:`save_static` writes PNG, SVG or PDF with ``vl_convert``: no browser, no network.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from . import data as _data

__all__ = [
    "PALETTE", "THEME_NAME", "axis_title",
    "line_chart", "bar_chart", "band_chart", "tornado_chart", "waterfall_chart",
    "scatter_chart", "ratio_chart", "history_chart", "save_static",
    "measured_predicted_chart", "ridge_chart", "ceiling_share_chart",
]

#: Okabe & Ito (2008) colour-blind-safe qualitative palette, yellow last (low contrast on white).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
           "#F0E442"]
THEME_NAME = "econ"
_GREY = "#8C8C8C"
_CAPTION_WIDTH = 95  # characters per caption line


@alt.theme.register(THEME_NAME, enable=True)
def _econ_theme() -> alt.theme.ThemeConfig:
    axis = {"labelFontSize": 12, "titleFontSize": 13, "titleFontWeight": "normal",
            "titleColor": "#222222", "labelColor": "#333333", "gridColor": "#E8E8E8",
            "domainColor": "#888888", "tickColor": "#888888", "labelLimit": 280,
            "titlePadding": 8}
    return {
        "config": {
            "background": "white",
            "view": {"continuousWidth": 520, "continuousHeight": 300, "stroke": None},
            "title": {"fontSize": 16, "fontWeight": "bold", "anchor": "start", "color": "#111111",
                      "subtitleFontSize": 12.5, "subtitleColor": "#444444",
                      "subtitlePadding": 6, "offset": 12},
            "axis": axis,
            "axisBand": {"grid": False},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": "normal",
                       "symbolSize": 120, "labelLimit": 260},
            "range": {"category": PALETTE},
            "mark": {"color": PALETTE[0]},
            "line": {"strokeWidth": 2.5, "color": PALETTE[0]},
            "point": {"size": 55, "filled": True, "color": PALETTE[0]},
            "bar": {"color": PALETTE[0]},
            "area": {"color": PALETTE[0]},
            "rule": {"color": _GREY},
        }
    }


# --------------------------------------------------------------------------------------------
# Titles and checks
# --------------------------------------------------------------------------------------------

def _suffix_of(column):
    best = None
    for suffix in _data.UNIT_SUFFIXES:
        if column.endswith(suffix) and (best is None or len(suffix) > len(best)):
            best = suffix
    return best


def _tooltips(df, **titles):
    """Tooltips with a title and unit per column (the axis titles where given) and numbers at
    three significant figures with thousands separators."""
    out = []
    for c in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        title = titles.get(c) or axis_title(c, quantitative=False)
        if numeric:
            out.append(alt.Tooltip(c, type="quantitative", title=title, format=",.3~r"))
        else:
            out.append(alt.Tooltip(c, title=title))
    return out


def axis_title(column, title=None, quantitative=True):
    """Axis title for ``column``: ``title`` if given, else words + ``[unit]`` from its suffix.

    ``cost_usd_per_mtok`` -> ``"Cost [USD/Mtok]"``, ``n_layers`` -> ``"Layers [count]"``.
    A quantitative axis must name a unit: a given title needs one in brackets, and a column
    without a unit suffix needs a given title; otherwise ``ValueError``.
    """
    if title is not None:
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"axis title for {column!r} must be a non-empty string, got {title!r}")
        if quantitative and not ("[" in title and "]" in title):
            raise ValueError(f"axis title {title!r} for the quantity {column!r} must name its unit "
                             f"in brackets, e.g. '{title} [USD/Mtok]'")
        return title
    suffix = _suffix_of(column)
    if suffix is not None:
        words = column[: -len(suffix)]
        unit = _data.UNIT_SUFFIXES[suffix]
    elif column.startswith(_data.COUNT_PREFIX):
        words, unit = column[len(_data.COUNT_PREFIX):], "count"
    else:
        if quantitative:
            raise ValueError(f"column {column!r} carries no unit suffix "
                             f"({sorted(_data.UNIT_SUFFIXES)}): give the axis title with its "
                             f"unit, e.g. title='{column.replace('_', ' ').capitalize()} [unit]'")
        return column.replace("_", " ").capitalize()
    words = words.replace("_", " ").strip() or column
    return f"{words[0].upper()}{words[1:]} [{unit}]"


def _title(title, caption):
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"title must be a non-empty string, got {title!r}")
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError("caption must be a sentence saying what the chart shows, got "
                         f"{caption!r}")
    lines = textwrap.wrap(caption.strip(), _CAPTION_WIDTH)
    return alt.TitleParams(text=title, subtitle=lines)


def _frame(frame, columns, who):
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{who} takes a pandas DataFrame, got {type(frame).__name__}")
    cols = [c for c in dict.fromkeys(columns) if c is not None]
    if any(c not in frame.columns for c in cols) and frame.index.name in cols:
        frame = frame.reset_index()
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise KeyError(f"{who}: column(s) {missing} not in the frame; columns: "
                       f"{list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{who}: the frame has no rows")
    out = frame[cols].copy()
    for c in cols:  # Vega-Lite wants plain numbers and strings
        if not pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def _is_q(frame, col):
    s = frame[col]
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _scale(log, zero=None):
    kw = {"type": "log", "nice": False} if log else {}
    if zero is not None and not log:
        kw["zero"] = zero
    return alt.Scale(**kw)


def _color(color, frame, title=None):
    if color is None:
        return []
    return [alt.Color(f"{color}:N", title=title or axis_title(color, quantitative=False))]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def line_chart(frame, x, y, *, title, caption, color=None, x_title=None, y_title=None,
               color_title=None, log_x=False, log_y=False, points=True):
    """Lines of ``y`` against a quantitative ``x``, one per ``color`` group.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy: one row per point.
    x, y : str
        Column names; titles from their unit suffixes unless ``x_title`` / ``y_title``.
    title, caption : str
        Chart title and the sentence under it saying what to see.
    color : str, optional
        Column that splits the lines (nominal).
    log_x, log_y : bool
        Log scales (batch sizes, utilizations spanning decades).
    points : bool
        Mark each data point.

    Returns
    -------
    altair.Chart
    """
    df = _frame(frame, [x, y, color], "line_chart")
    enc = dict(
        x=alt.X(f"{x}:Q", title=axis_title(x, x_title), scale=_scale(log_x)),
        y=alt.Y(f"{y}:Q", title=axis_title(y, y_title), scale=_scale(log_y)),
        tooltip=_tooltips(df, **{x: axis_title(x, x_title), y: axis_title(y, y_title)}),
    )
    if color is not None:
        enc["color"] = _color(color, df, color_title)[0]
    return (alt.Chart(df).mark_line(point=bool(points)).encode(**enc)
            .properties(title=_title(title, caption)))


def bar_chart(frame, x, y, *, title, caption, color=None, horizontal=False, x_title=None,
              y_title=None, color_title=None, sort=None, log=False, stack=False):
    """Bars of a quantity ``y`` for each category ``x`` (grouped side by side by ``color``).

    ``horizontal=True`` lays the categories on the vertical axis (long labels). ``sort``:
    ``None`` keeps the frame's order, ``"ascending"`` / ``"descending"`` sorts by value.
    ``log=True`` (values spanning decades) starts the bars at the power of ten below the
    smallest value, since a log scale has no zero. ``stack=True`` piles the ``color`` groups
    into one bar per category, from the axis outwards and in the legend in the frame's order
    (parts of a whole: where a step's time goes); it needs ``color`` and a linear scale.
    """
    df = _frame(frame, [x, y, color], "bar_chart")
    if sort not in (None, "ascending", "descending"):
        raise ValueError(f"sort must be None, 'ascending' or 'descending', got {sort!r}")
    if stack and (color is None or log):
        raise ValueError("bar_chart: stack=True needs a color column (the parts) and a linear "
                         "scale (log=False)")
    if sort is None:
        cat_sort = list(dict.fromkeys(df[x]))
    else:
        cat_sort = ("-" if sort == "descending" else "") + ("x" if horizontal else "y")
    cat_t = axis_title(x, x_title, quantitative=False)
    val = dict(field=y, type="quantitative", title=axis_title(y, y_title), scale=_scale(log))
    if log:  # a log scale has no zero: bars start at the (rounded-down) smallest value, unstacked
        val.update(scale=alt.Scale(type="log"), stack=None)
    cat = dict(field=x, type="nominal", title=cat_t, sort=cat_sort)
    enc = {"tooltip": _tooltips(df, **{x: cat_t, y: val["title"]})}
    if stack:
        val["stack"] = "zero"
    if horizontal:
        enc.update(y=alt.Y(**cat), x=alt.X(**val))
        if color is not None and not stack:
            enc["yOffset"] = alt.YOffset(f"{color}:N")
    else:
        long_labels = max(len(str(v)) for v in df[x]) > 6
        enc.update(x=alt.X(**cat, axis=alt.Axis(labelAngle=-30 if long_labels else 0)),
                   y=alt.Y(**val))
        if color is not None and not stack:
            enc["xOffset"] = alt.XOffset(f"{color}:N")
    if color is not None:
        enc["color"] = _color(color, df, color_title)[0]
    if stack:
        parts = list(dict.fromkeys(df[color]))
        enc["color"] = alt.Color(f"{color}:N", title=color_title or axis_title(
            color, quantitative=False), sort=parts)
        df = df.assign(_stack_order=df[color].map({p: i for i, p in enumerate(parts)}))
        enc["order"] = alt.Order("_stack_order:Q", sort="ascending")
    return alt.Chart(df).mark_bar().encode(**enc).properties(title=_title(title, caption))


def band_chart(frame, x, *, title, caption, low="p5", mid="p50", high="p95", color=None,
               x_title=None, y_title=None, color_title=None, log_x=False, log_y=False,
               reference=None):
    """An uncertainty band (default p5-p95) with its median line, against ``x``.

    Takes :func:`econ.summarize` output (grouped ``by`` the x column). The y title comes from
    ``y_title``, or from the ``variable`` column when it names one quantity
    (``cost_usd_per_mtok`` -> ``Cost [USD/Mtok]``). ``reference`` (a finite number, same unit
    as y) draws a dashed horizontal rule at that value: a published figure priced the same
    way, say what it is in the caption.
    """
    has_var = isinstance(frame, pd.DataFrame) and "variable" in frame.columns
    df = _frame(frame, [x, low, mid, high, color, "variable" if has_var else None],
                "band_chart")
    if y_title is None:
        names = list(dict.fromkeys(df["variable"])) if has_var else []
        if len(names) != 1:
            raise ValueError("band_chart: give y_title (with its unit in brackets): the frame "
                             + (f"holds several variables {names}; filter it to one"
                                if len(names) > 1 else "has no single 'variable' column"))
        yt = axis_title(names[0])
    else:
        yt = axis_title(mid, y_title)
    xq = _is_q(df, x)
    xenc = alt.X(f"{x}:{'Q' if xq else 'O'}", title=axis_title(x, x_title, quantitative=xq),
                 scale=_scale(log_x) if xq else alt.Undefined)
    base = alt.Chart(df).encode(x=xenc)
    cenc = {"color": _color(color, df, color_title)[0]} if color is not None else {}
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y(f"{low}:Q", title=yt, scale=_scale(log_y)), y2=alt.Y2(f"{high}:Q"), **cenc)
    line = base.mark_line(point=True).encode(
        y=alt.Y(f"{mid}:Q", title=yt), **cenc,
        tooltip=_tooltips(df, **{mid: yt}))
    layers = [band, line]
    if reference is not None:
        ref = float(reference)
        if not np.isfinite(ref) or (log_y and ref <= 0):
            raise ValueError(f"band_chart: reference must be a finite number (> 0 on a log "
                             f"scale), got {reference!r}")
        rule = pd.DataFrame({mid: [ref]})
        layers.append(alt.Chart(rule).mark_rule(strokeDash=[6, 4], color=PALETTE[3]).encode(
            y=alt.Y(f"{mid}:Q", title=yt, scale=_scale(log_y)),
            tooltip=_tooltips(rule, **{mid: yt})))
    return alt.layer(*layers).properties(title=_title(title, caption))


def tornado_chart(frame, *, title, caption, output_title=None, parameter_titles=None):
    """Tornado of a :func:`econ.tornado` frame: output at each input's low and high value.

    Bars run from the base output to the output at the input's low (one colour) and high
    (another) value, largest swing on top; a rule marks the base output.
    ``parameter_titles`` maps parameter names to labels.
    """
    cols = ["parameter", "low_value", "high_value", "output_low", "output_high", "output_base",
            "swing"]
    has_out = isinstance(frame, pd.DataFrame) and "output" in frame.columns
    df = _frame(frame, cols + (["output"] if has_out else []), "tornado_chart")
    if output_title is None:
        if not has_out:
            raise ValueError("tornado_chart: give output_title (with its unit in brackets)")
        xt = axis_title(str(df["output"].iloc[0]))
    else:
        xt = axis_title("output", output_title)
    df = df.sort_values("swing", ascending=False, kind="stable")
    labels = dict(parameter_titles or {})
    df["label"] = [labels.get(p, p) for p in df["parameter"]]
    long = pd.concat([
        pd.DataFrame({"label": df["label"], "side": "input at low value",
                      "input_value": df["low_value"], "output": df["output_low"],
                      "base": df["output_base"]}),
        pd.DataFrame({"label": df["label"], "side": "input at high value",
                      "input_value": df["high_value"], "output": df["output_high"],
                      "base": df["output_base"]}),
    ], ignore_index=True)
    order = list(df["label"])
    y = alt.Y("label:N", sort=order, title=None)
    bars = alt.Chart(long).mark_bar(height={"band": 0.7}).encode(
        y=y,
        x=alt.X("base:Q", title=xt, scale=alt.Scale(zero=False)),
        x2="output:Q",
        color=alt.Color("side:N", title=None,
                        scale=alt.Scale(domain=["input at low value", "input at high value"],
                                        range=[PALETTE[0], PALETTE[1]]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("label:N", title="parameter"), "side:N",
                 alt.Tooltip("input_value:Q", title="input value"),
                 alt.Tooltip("output:Q", title="output")],
    )
    base_val = float(df["output_base"].iloc[0])
    rule = alt.Chart(pd.DataFrame({"base": [base_val]})).mark_rule(
        strokeDash=[4, 3], color="#333333").encode(x="base:Q")
    return alt.layer(bars, rule).properties(title=_title(title, caption))


def waterfall_chart(frame, step, value, *, title, caption, y_title=None, final_label="Result"):
    """Waterfall from a baseline through successive changes (e.g. $/Mtok, dense -> V3-style).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows in order. The first row is the baseline level; each later row is the *level after*
        applying that step (e.g. ``cost_usd_per_mtok`` after adding MoE, then FP8, ...).
    step, value : str
        Columns holding the step label and the level.
    final_label : str or None
        Label of a closing bar at the final level; ``None`` for none.

    Colours: totals (baseline and result) blue, decreases bluish green, increases vermillion.
    Totals are labelled with their level, steps with their signed change.
    """
    df = _frame(frame, [step, value], "waterfall_chart")
    if not _is_q(df, value):
        raise ValueError(f"waterfall_chart: column {value!r} must be numeric")
    levels = df[value].to_numpy(dtype=float)
    labels = list(df[step])
    if len(set(labels)) != len(labels) or (final_label is not None and final_label in labels):
        raise ValueError(f"waterfall_chart: step labels must be unique, got {labels}"
                         + (f" and final_label {final_label!r}" if final_label else ""))
    start = np.concatenate([[0.0], levels[:-1]])
    kind = ["total"] + ["decrease" if d < 0 else "increase" for d in np.diff(levels)]
    bars = pd.DataFrame({"step": labels, "start": start, "end": levels,
                         "change": np.concatenate([[levels[0]], np.diff(levels)]),
                         "kind": kind})
    if final_label is not None:
        bars = pd.concat([bars, pd.DataFrame({"step": [final_label], "start": [0.0],
                                              "end": [levels[-1]], "change": [levels[-1]],
                                              "kind": ["total"]})], ignore_index=True)
    bars["label"] = [f"{e:.3g}" if k == "total" else f"{c:+.3g}"
                     for k, e, c in zip(bars["kind"], bars["end"], bars["change"])]
    yt = axis_title(value, y_title)
    order = list(bars["step"])
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("start:Q", title=yt),
        y2="end:Q",
        color=alt.Color("kind:N", title=None,
                        scale=alt.Scale(domain=["total", "decrease", "increase"],
                                        range=[PALETTE[0], PALETTE[2], PALETTE[3]]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("step:N"), alt.Tooltip("end:Q", title=yt, format=".4g"),
                 alt.Tooltip("change:Q", title="change", format="+.4g")],
    )
    text = alt.Chart(bars).mark_text(dy=-8, fontSize=11, color="#222222").encode(
        x=alt.X("step:N", sort=order), y=alt.Y("top:Q"), text="label:N",
    ).transform_calculate(top="max(datum.start, datum.end)")
    return alt.layer(chart, text).properties(title=_title(title, caption),
                                             width=alt.Step(72))


def scatter_chart(frame, x, y, *, title, caption, color=None, x_title=None, y_title=None,
                  color_title=None, log=False, identity=True):
    """Predicted (``y``) against measured (``x``) with the y = x line: on it means exact.

    Both axes share one domain so the identity line is the diagonal; ``log=True`` for
    values spanning decades (kernel times, FLOP/s).
    """
    df = _frame(frame, [x, y, color], "scatter_chart")
    vals = np.concatenate([df[x].to_numpy(float), df[y].to_numpy(float)])
    if log and (vals <= 0).any():
        raise ValueError("scatter_chart: log=True needs positive values")
    lo, hi = float(vals.min()), float(vals.max())
    if log:
        lo, hi = lo / 1.2, hi * 1.2
    else:
        pad = 0.05 * (hi - lo or abs(hi) or 1.0)
        lo, hi = min(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad
    domain = [lo, hi]
    sc = alt.Scale(domain=domain, type="log" if log else "linear")
    enc = dict(x=alt.X(f"{x}:Q", title=axis_title(x, x_title), scale=sc),
               y=alt.Y(f"{y}:Q", title=axis_title(y, y_title), scale=sc),
               tooltip=_tooltips(df, **{x: axis_title(x, x_title), y: axis_title(y, y_title)}))
    if color is not None:
        enc["color"] = _color(color, df, color_title)[0]
    points = alt.Chart(df).mark_point(size=70, filled=True, opacity=0.85).encode(**enc)
    layers = [points]
    if identity:
        line = alt.Chart(pd.DataFrame({"a": domain, "b": domain})).mark_line(
            color=_GREY, strokeDash=[5, 4], strokeWidth=1.5).encode(
            x=alt.X("a:Q", scale=sc), y=alt.Y("b:Q", scale=sc))
        layers.insert(0, line)
    return alt.layer(*layers).properties(title=_title(title, caption))


def history_chart(frame, date, y, *, title, caption, color=None, detail=None, x_title="Date",
                  y_title=None, color_title=None, log_y=True):
    """A quantity over calendar time: one point per row, a line through each ``color`` group.

    Works with one row per group (points only) as well as many. ``detail`` names a column
    shown in the tooltip (a row's key). ``log_y`` (default) for prices that fall by decades.
    """
    df = _frame(frame, [date, y, color, detail], "history_chart")
    df[date] = pd.to_datetime(df[date]).dt.strftime("%Y-%m-%d")
    if log_y and (df[y].to_numpy(float) <= 0).any():
        raise ValueError("history_chart: log_y=True needs positive values")
    yt = axis_title(y, y_title)
    tips = [alt.Tooltip(f"{date}:T", title=x_title, format="%Y-%m-%d")] + [
        t for t in _tooltips(df.drop(columns=[date]), **{y: yt})]
    enc = dict(x=alt.X(f"{date}:T", title=x_title),
               y=alt.Y(f"{y}:Q", title=yt, scale=_scale(log_y)), tooltip=tips)
    if color is not None:
        enc["color"] = _color(color, df, color_title)[0]
    base = alt.Chart(df).encode(**enc)
    return alt.layer(base.mark_line(strokeWidth=1.5, opacity=0.6),
                     base.mark_point(size=70, filled=True)).properties(
        title=_title(title, caption))


def ratio_chart(frame, ratio, label, *, title, caption, color=None, band_frac=0.3,
                x_title="Computed over published [ratio]", color_title=None):
    """One dot per claim at ``ratio`` (log scale) with agreement (1) and a ±``band_frac`` band.

    For comparing computed values with published figures across claims of different units:
    on the line is exact, inside the band is within the tolerance. Rows with a missing or
    non-positive ratio are left out.
    """
    df = _frame(frame, [ratio, label, color], "ratio_chart")
    tol = float(band_frac)
    if not (0.0 <= tol < 1.0):
        raise ValueError(f"band_frac must be in [0, 1), got {band_frac!r}")
    df = df[np.isfinite(df[ratio].to_numpy(float)) & (df[ratio].to_numpy(float) > 0)]
    if df.empty:
        raise ValueError("ratio_chart: no positive, finite ratios to draw")
    vals = df[ratio].to_numpy(float)
    lo = min(float(vals.min()), 1.0 - tol) / 1.5
    hi = max(float(vals.max()), 1.0 + tol) * 1.5
    sc = alt.Scale(type="log", domain=[lo, hi], nice=False)
    y = alt.Y(f"{label}:N", title=None, sort=list(df[label]))
    band = alt.Chart(pd.DataFrame({"lo": [1.0 - tol], "hi": [1.0 + tol]})).mark_rect(
        color=_GREY, opacity=0.15).encode(x=alt.X("lo:Q", scale=sc), x2="hi:Q")
    rule = alt.Chart(pd.DataFrame({"one": [1.0]})).mark_rule(
        color=_GREY, strokeDash=[5, 4]).encode(x=alt.X("one:Q", scale=sc))
    enc = dict(x=alt.X(f"{ratio}:Q", scale=sc, title=x_title), y=y,
               tooltip=_tooltips(df, **{ratio: x_title}))
    if color is not None:
        enc["color"] = _color(color, df, color_title)[0]
    dots = alt.Chart(df).mark_point(size=70, filled=True).encode(**enc)
    return alt.layer(band, rule, dots).properties(
        title=_title(title, caption), height=alt.Step(16))


# --------------------------------------------------------------------------------------------
# Measured against predicted (kernel timings, recorded steps, the serving ledger)
# --------------------------------------------------------------------------------------------

def measured_predicted_chart(frame, measured, predicted, *, title, caption, color=None,
                             color_title=None, scale=1e3, unit="ms", what="time"):
    """Predicted against measured on log axes with the y = x line, in a chosen unit.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per measurement.
    measured, predicted : str
        Columns of the two values, in the frame's unit (seconds for times).
    title, caption : str
    color : str, optional
        Column that colours the points (nominal).
    scale : float
        Factor from the frame's unit to the axis unit (1e3: seconds to ms). [-]
    unit : str
        The axis unit, shown in brackets.
    what : str
        What is measured ("time", "step", "tokens/s per device").

    Returns
    -------
    altair.LayerChart
        :func:`scatter_chart` of ``measured_<unit>`` against ``predicted_<unit>``.
    """
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    cols = {"measured": "measured_value", "predicted": "predicted_value"}
    df = _frame(frame, [measured, predicted, color], "measured_predicted_chart")
    df = df.assign(**{cols["measured"]: df[measured].to_numpy(float) * scale,
                      cols["predicted"]: df[predicted].to_numpy(float) * scale})
    return scatter_chart(df, cols["measured"], cols["predicted"], color=color,
                         color_title=color_title, log=True, title=title, caption=caption,
                         x_title=f"Measured {what} [{unit}]", y_title=f"Predicted {what} [{unit}]")


def ridge_chart(errors, *, rate_column, title, caption, scale=1e9, unit="GFLOP/s",
                measured_label="measured"):
    """Achieved FLOP/s against the batch of a fixed-weight product, measured and as the fitted
    roofline predicts: where a matrix-vector product turns compute-bound.

    Parameters
    ----------
    errors : pandas.DataFrame
        ``econ.prediction_error`` of a table with ``kernel == "batch_sweep"`` rows
        (``m_dim``, ``work_flop``, ``predicted_s`` and ``rate_column``).
    rate_column : str
        The measured rate [FLOP/s] (``achieved_flop_per_s``, or ``fit_flop_per_s`` of a live
        table).
    scale : float
        FLOP/s per axis unit (1e9: GFLOP/s). [-]
    unit : str
        The axis unit.
    measured_label : str
        Legend entry of the measured line.

    Returns
    -------
    altair.Chart
        Two lines on log axes: ``measured_label`` and ``roofline (fitted)``.
    """
    sweep = errors[errors["kernel"] == "batch_sweep"]
    if sweep.empty:
        raise ValueError("ridge_chart: errors has no batch_sweep rows")
    df = pd.concat([
        pd.DataFrame({"batch_rows": sweep["m_dim"], "rate": sweep[rate_column] / scale,
                      "series": measured_label}),
        pd.DataFrame({"batch_rows": sweep["m_dim"],
                      "rate": sweep["work_flop"] / sweep["predicted_s"] / scale,
                      "series": "roofline (fitted)"}),
    ], ignore_index=True)
    return line_chart(df, "batch_rows", "rate", color="series", log_x=True, log_y=True,
                      x_title="Rows multiplied by the fixed weight matrix (batch) [count]",
                      y_title=f"Achieved throughput [{unit}]", color_title="", title=title,
                      caption=caption)


def ceiling_share_chart(ceilings, *, measured_label, title, caption):
    """Measured ceilings as shares of their datasheet, beside published kernels' shares.

    Parameters
    ----------
    ceilings : pandas.DataFrame
        ``econ.ceiling_efficiency``: ``ceiling``, ``measured_frac``, ``published_kernel`` and
        ``published_frac`` (NaN where no kernel was published).
    measured_label : str
        Legend entry of the measured bars.

    Returns
    -------
    altair.Chart
        Grouped bars of ``share_of_datasheet_frac`` per ceiling.
    """
    pub = ceilings.dropna(subset=["published_frac"])
    df = pd.concat([
        pd.DataFrame({"ceiling": ceilings["ceiling"], "share_of_datasheet_frac":
                      ceilings["measured_frac"], "source": measured_label}),
        pd.DataFrame({"ceiling": pub["ceiling"], "share_of_datasheet_frac": pub["published_frac"],
                      "source": "published: " + pub["published_kernel"]}),
    ], ignore_index=True)
    return bar_chart(df, "ceiling", "share_of_datasheet_frac", color="source", color_title="",
                     x_title="Ceiling", y_title="Achieved share of the datasheet figure [fraction]",
                     title=title, caption=caption)


# --------------------------------------------------------------------------------------------
# Static export
# --------------------------------------------------------------------------------------------

def _vl_version():
    import vl_convert as vlc

    v = alt.SCHEMA_VERSION.lstrip("v").split(".")
    mm = f"{v[0]}.{v[1]}"
    return mm if mm in vlc.get_vegalite_versions() else None


def save_static(chart, path, *, scale=2.0):
    """Write a chart as PNG, SVG or PDF (by the file suffix) with ``vl_convert``, offline.

    Parameters
    ----------
    chart : altair chart
        Any Altair chart; the ``econ`` theme is applied as when displayed.
    path : str or Path
        Ends with ``.png``, ``.svg`` or ``.pdf``; parent folders are created.
    scale : float
        Pixel scale of a PNG (2 = sharp on slides).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import vl_convert as vlc

    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in (".png", ".svg", ".pdf"):
        raise ValueError(f"save_static writes .png, .svg or .pdf, got {path.name!r}")
    if not hasattr(chart, "to_dict"):
        raise TypeError(f"save_static takes an Altair chart, got {type(chart).__name__}")
    spec = chart.to_dict()
    ver = _vl_version()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == ".svg":
        path.write_text(vlc.vegalite_to_svg(spec, vl_version=ver), encoding="utf-8")
    elif fmt == ".png":
        path.write_bytes(vlc.vegalite_to_png(spec, vl_version=ver, scale=scale))
    else:
        path.write_bytes(vlc.vegalite_to_pdf(spec, vl_version=ver))
    return path
