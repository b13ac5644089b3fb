"""econ.charts: the theme, valid Vega-Lite specs with unit-labelled axes and a caption, and
offline static export."""
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

import econ
from econ import charts
from econ.charts import (
    axis_title,
    band_chart,
    bar_chart,
    line_chart,
    save_static,
    scatter_chart,
    tornado_chart,
    waterfall_chart,
)
from econ.sensitivity import grid, lognormal_from_range, monte_carlo, summarize, tornado, uniform


def cost_usd_per_mtok(price_usd_per_hour, throughput_tok_per_s):
    return price_usd_per_hour / (throughput_tok_per_s * 3600.0) * 1e6


SWEEP = pd.DataFrame({"batch_size": [1, 8, 64, 1, 8, 64],
                      "hardware": ["h100-sxm"] * 3 + ["h800-sxm"] * 3,
                      "cost_usd_per_mtok": [40.0, 6.0, 1.1, 42.0, 6.5, 1.3]})


CAPTION = "Cost per million tokens falls roughly as 1/batch until the node turns compute-bound."


def _layers(d):
    """Every unit spec of a (possibly layered) chart dict."""
    return d["layer"] if "layer" in d else [d]


def _data(d, layer):
    """The rows a layer draws (its own dataset, or the chart's shared one)."""
    ref = layer.get("data", d.get("data"))
    return pd.DataFrame(d["datasets"][ref["name"]])


def _quant_titles(d):
    out = []
    for layer in _layers(d):
        for ch in ("x", "y"):
            enc = layer.get("encoding", {}).get(ch)
            if enc and enc.get("type") == "quantitative" and enc.get("title"):
                out.append(enc["title"])
    return out


def _check(chart, caption=CAPTION):
    d = chart.to_dict()  # validates against the Vega-Lite schema
    assert d["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert d["config"]["range"]["category"] == charts.PALETTE  # theme applied
    assert " ".join(d["title"]["subtitle"]) == caption
    titles = _quant_titles(d)
    assert titles, "no quantitative axis title"
    assert all("[" in t and "]" in t for t in titles), titles
    return d


def test_theme_is_registered_enabled_and_renderer_left_alone():
    assert alt.theme.active == charts.THEME_NAME
    assert charts.THEME_NAME in alt.theme.names()
    assert alt.renderers.active not in ("mimetype", "jupyterlab", "png")


def test_palette_is_okabe_ito():
    assert charts.PALETTE[:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert len(set(charts.PALETTE)) == len(charts.PALETTE)


@pytest.mark.parametrize("column, title", [
    ("cost_usd_per_mtok", "Cost [USD/Mtok]"),
    ("throughput_tok_per_s", "Throughput [tokens/s]"),
    ("price_usd_per_hour", "Price [USD/h]"),
    ("utilization_frac", "Utilization [fraction]"),
    ("kv_cache_bytes_per_tok", "Kv cache [bytes/token]"),
    ("n_layers", "Layers [count]"),
])
def test_axis_title_from_the_unit_suffix(column, title):
    assert axis_title(column) == title


def test_axis_title_insists_on_a_unit_for_quantities():
    with pytest.raises(ValueError, match="batch_size.*no unit suffix"):
        axis_title("batch_size")
    with pytest.raises(ValueError, match="must name its unit in brackets"):
        axis_title("batch_size", "Batch size")
    assert axis_title("batch_size", "Batch size [sequences]") == "Batch size [sequences]"
    assert axis_title("hardware", quantitative=False) == "Hardware"


def test_line_chart():
    ch = line_chart(SWEEP, "batch_size", "cost_usd_per_mtok", color="hardware", log_x=True,
                    log_y=True, title="$/Mtok vs batch", caption=CAPTION,
                    x_title="Batch size [sequences]")
    d = _check(ch)
    assert d["encoding"]["x"]["title"] == "Batch size [sequences]"
    assert d["encoding"]["y"]["title"] == "Cost [USD/Mtok]"
    assert d["encoding"]["x"]["scale"]["type"] == "log"
    assert d["encoding"]["color"]["field"] == "hardware"
    assert d["title"]["text"] == "$/Mtok vs batch"


def test_line_chart_without_a_unit_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        line_chart(SWEEP, "batch_size", "cost_usd_per_mtok", title="t", caption="c")


def test_bar_chart_horizontal_and_grouped():
    d = _check(bar_chart(SWEEP, "hardware", "cost_usd_per_mtok", color="batch_size",
                         horizontal=True, title="t", caption=CAPTION))
    assert d["encoding"]["x"]["title"] == "Cost [USD/Mtok]"
    assert d["encoding"]["y"]["type"] == "nominal"
    assert d["encoding"]["y"]["sort"] == ["h100-sxm", "h800-sxm"]
    assert "yOffset" in d["encoding"]
    d = _check(bar_chart(SWEEP, "hardware", "cost_usd_per_mtok", sort="descending", title="t",
                         caption=CAPTION))
    assert d["encoding"]["x"]["sort"] == "-y"


def test_band_chart_from_a_monte_carlo_summary():
    mc = monte_carlo(cost_usd_per_mtok, {"price_usd_per_hour": lognormal_from_range(1.0, 4.0)},
                     500, seed=0, over=grid(throughput_tok_per_s=[250.0, 500.0, 1000.0]))
    s = summarize(mc, "cost_usd_per_mtok", by="throughput_tok_per_s")
    d = _check(band_chart(s, "throughput_tok_per_s", title="t", caption=CAPTION))
    band, line = d["layer"]
    assert band["mark"]["type"] == "area" and line["mark"]["type"] == "line"
    assert band["encoding"]["y"]["field"] == "p5" and band["encoding"]["y2"]["field"] == "p95"
    assert line["encoding"]["y"]["field"] == "p50"
    assert band["encoding"]["y"]["title"] == "Cost [USD/Mtok]"
    with pytest.raises(ValueError, match="y_title"):
        band_chart(s.drop(columns="variable"), "throughput_tok_per_s", title="t", caption="c")


def test_tornado_chart_orders_by_swing():
    t = tornado(cost_usd_per_mtok, {"price_usd_per_hour": 2.0, "throughput_tok_per_s": 1000.0},
                {"throughput_tok_per_s": uniform(900.0, 1100.0),
                 "price_usd_per_hour": (1.0, 4.0)})
    d = _check(tornado_chart(t, title="t", caption=CAPTION,
                             parameter_titles={"price_usd_per_hour": "GPU price"}))
    bars = d["layer"][0]
    assert bars["encoding"]["y"]["sort"] == ["GPU price", "throughput_tok_per_s"]
    assert bars["encoding"]["x"]["title"] == "Cost [USD/Mtok]"
    rule = d["layer"][1]
    assert rule["mark"]["type"] == "rule"


def test_waterfall_chart_steps_from_baseline_to_result():
    steps = pd.DataFrame({"step": ["Dense 405B, BF16", "MoE (37B active)", "FP8", "MTP"],
                          "cost_usd_per_mtok": [10.0, 2.0, 1.2, 1.5]})
    ch = waterfall_chart(steps, "step", "cost_usd_per_mtok", title="t", caption=CAPTION,
                         final_label="V3-style")
    d = _check(ch)
    data = _data(d, d["layer"][0])
    assert list(data["step"]) == [*steps["step"], "V3-style"]
    assert list(data["start"]) == [0.0, 10.0, 2.0, 1.2, 0.0]
    assert list(data["end"]) == [10.0, 2.0, 1.2, 1.5, 1.5]
    assert list(data["kind"]) == ["total", "decrease", "decrease", "increase", "total"]
    assert list(data["label"]) == ["10", "-8", "-0.8", "+0.3", "1.5"]
    with pytest.raises(ValueError, match="unique"):
        waterfall_chart(steps, "step", "cost_usd_per_mtok", title="t", caption="c",
                        final_label="FP8")


def test_scatter_chart_has_the_identity_line_on_a_shared_domain():
    df = pd.DataFrame({"measured_s": [1e-3, 4e-3, 2e-2], "predicted_s": [1.2e-3, 3e-3, 2.5e-2],
                       "kernel": ["gemv", "gemm", "attention"]})
    d = _check(scatter_chart(df, "measured_s", "predicted_s", color="kernel", log=True,
                             title="t", caption=CAPTION, x_title="Measured time [s]",
                             y_title="Predicted time [s]"))
    line, points = d["layer"]
    assert line["mark"]["type"] == "line" and points["mark"]["type"] == "point"
    data = _data(d, line)
    np.testing.assert_allclose(data["a"], data["b"])  # y = x
    assert points["encoding"]["x"]["scale"] == points["encoding"]["y"]["scale"]
    assert data["a"].min() <= 1e-3 and data["a"].max() >= 2.5e-2


@pytest.mark.parametrize("kw, exc, message", [
    (dict(caption=""), ValueError, "caption"),
    (dict(title=None), ValueError, "title"),
    (dict(y="cost"), KeyError, r"\['cost'\] not in the frame"),
])
def test_helpers_explain_bad_arguments(kw, exc, message):
    args = dict(frame=SWEEP, x="hardware", y="cost_usd_per_mtok", title="t", caption="c") | kw
    with pytest.raises(exc, match=message):
        bar_chart(**args)


def test_an_indexed_frame_is_accepted_by_its_index_name():
    df = SWEEP[SWEEP["batch_size"] == 8].set_index("hardware")
    d = _check(bar_chart(df, "hardware", "cost_usd_per_mtok", title="t", caption=CAPTION))
    assert d["encoding"]["x"]["field"] == "hardware"


def test_save_static_svg_and_png(tmp_path):
    ch = line_chart(SWEEP, "batch_size", "cost_usd_per_mtok", color="hardware",
                    title="Cost vs batch", caption=CAPTION, x_title="Batch size [sequences]")
    svg = save_static(ch, tmp_path / "sub" / "chart.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<svg") and "Cost vs batch" in text
    assert "Cost [USD/Mtok]" in text
    png = save_static(ch, tmp_path / "chart.png", scale=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        save_static(ch, tmp_path / "chart.jpg")


def test_tooltips_name_the_quantity_and_unit_and_round():
    df = pd.DataFrame({"batch_count": [1.0, 8.0], "cost_usd_per_mtok": [0.123456789, 1.5],
                       "hardware": ["a", "b"]})
    spec = line_chart(df, "batch_count", "cost_usd_per_mtok", color="hardware", title="t",
                      caption="c", y_title="Decode cost [USD/Mtok]").to_dict()
    tips = {t["field"]: t for t in spec["encoding"]["tooltip"]}
    assert tips["cost_usd_per_mtok"]["title"] == "Decode cost [USD/Mtok]"
    assert tips["cost_usd_per_mtok"]["format"] == ",.3~r"
    assert tips["batch_count"]["title"] == "Batch [count]"
    assert tips["hardware"]["title"] == "Hardware" and "format" not in tips["hardware"]


def test_measured_predicted_chart_scales_to_the_axis_unit_and_draws_the_diagonal():
    frame = pd.DataFrame({"measured_s": [1e-3, 2e-3], "predicted_s": [1.5e-3, 1e-3],
                          "kernel": ["a", "b"]})
    chart = charts.measured_predicted_chart(frame, "measured_s", "predicted_s", color="kernel",
                                            title="t", caption=CAPTION)
    _check(chart)
    d = chart.to_dict()
    points = _data(d, d["layer"][1])
    np.testing.assert_allclose(points["measured_value"], [1.0, 2.0])
    np.testing.assert_allclose(points["predicted_value"], [1.5, 1.0])
    assert "Measured time [ms]" in _quant_titles(d)
    with pytest.raises(ValueError, match="scale"):
        charts.measured_predicted_chart(frame, "measured_s", "predicted_s", scale=0.0, title="t",
                                        caption=CAPTION)


def test_ridge_chart_draws_the_roofline_as_work_over_predicted_time():
    errs = pd.DataFrame({"kernel": "batch_sweep", "m_dim": [1.0, 8.0, 64.0],
                         "work_flop": [2e9, 16e9, 128e9], "predicted_s": [1.0, 1.0, 2.0],
                         "achieved_flop_per_s": [1e9, 8e9, 50e9]})
    chart = charts.ridge_chart(errs, rate_column="achieved_flop_per_s", title="t",
                               caption=CAPTION)
    _check(chart)
    df = _data(chart.to_dict(), chart.to_dict())
    roof = df[df["series"] == "roofline (fitted)"].sort_values("batch_rows")
    np.testing.assert_allclose(roof["rate"], [2.0, 16.0, 64.0])  # GFLOP/s
    with pytest.raises(ValueError, match="batch_sweep"):
        charts.ridge_chart(errs.assign(kernel="gemm"), rate_column="achieved_flop_per_s",
                           title="t", caption=CAPTION)


def test_ceiling_share_chart_sets_published_kernels_only_where_there_are_some():
    ceil = pd.DataFrame({"ceiling": ["BF16", "FP8", "HBM"], "measured_frac": [0.75, 0.68, 0.9],
                         "published_kernel": ["", "DeepGEMM", "FlashMLA"],
                         "published_frac": [np.nan, 0.68, 0.9]})
    chart = charts.ceiling_share_chart(ceil, measured_label="recorded", title="t",
                                       caption=CAPTION)
    _check(chart)
    df = _data(chart.to_dict(), chart.to_dict())
    assert len(df) == 5
    assert set(df.loc[df["source"] != "recorded", "ceiling"]) == {"FP8", "HBM"}


FRAME = pd.DataFrame({"item": ["reproduction", "fine-tuning", "final run"],
                      "training_cost_usd": [30.0, 520.0, 5.576e6]})


def _bar_sizes(chart):
    """(width, height) in pixels of every bar Vega draws; a bar it cannot place has a 0."""
    svg = vlc.vegalite_to_svg(chart.to_dict())
    found = re.findall(
        r'aria-roledescription="bar" d="M[-\d.e]+,[-\d.e]+h([-\d.e]+)v([-\d.e]+)', svg
    )
    return [(abs(float(w)), abs(float(h))) for w, h in found]


@pytest.mark.parametrize("horizontal", [True, False])
def test_log_bars_are_drawn(horizontal):
    ch = bar_chart(FRAME, "item", "training_cost_usd", horizontal=horizontal, log=True,
                   title="Costs", caption="Three costs spanning five decades.")
    d = ch.to_dict()
    axis = d["encoding"]["x" if horizontal else "y"]
    assert axis["scale"]["type"] == "log"
    assert axis["stack"] is None
    sizes = _bar_sizes(ch)
    assert len(sizes) == 3 and all(w > 0 and h > 0 for w, h in sizes)
    lengths = [w if horizontal else h for w, h in sizes]
    assert lengths == sorted(lengths)  # larger value, longer bar


def test_linear_bars_unchanged():
    ch = bar_chart(FRAME, "item", "training_cost_usd", title="Costs", caption="Three costs.")
    d = ch.to_dict()
    assert "stack" not in d["encoding"]["y"]
    sizes = _bar_sizes(ch)
    assert len(sizes) == 3 and all(w > 0 and h > 0 for w, h in sizes)


# two cases of a step, three parts each, in a deliberate (not alphabetical) order
FRAME_STACKED = pd.DataFrame({
    "case": ["overlapped"] * 3 + ["not overlapped"] * 3,
    "component": ["attention", "experts", "communication"] * 2,
    "time_s": [0.048, 0.011, 0.014, 0.029, 0.007, 0.051],
})


KW = dict(title="Where a step's time goes", caption="Stacked by component.",
          color="component", stack=True, y_title="Time per step [s]")


def _bars(chart):
    """(x, y, width, height) of every bar Vega draws, in pixels."""
    svg = vlc.vegalite_to_svg(chart.to_dict())
    found = re.findall(r'aria-roledescription="bar" d="M([-\d.e]+),([-\d.e]+)h([-\d.e]+)'
                       r'v([-\d.e]+)', svg)
    return [tuple(float(v) for v in f) for f in found]


def test_stacked_spec_has_no_offset_and_keeps_the_frame_order():
    d = bar_chart(FRAME_STACKED, "case", "time_s", **KW).to_dict()
    enc = d["encoding"]
    assert "xOffset" not in enc and enc["y"]["stack"] == "zero"
    assert enc["color"]["sort"] == ["attention", "experts", "communication"]
    assert enc["order"]["field"] == "_stack_order"
    assert enc["y"]["title"] == "Time per step [s]"


@pytest.mark.parametrize("horizontal", [False, True])
def test_stacked_bars_add_up_to_each_case_total(horizontal):
    ch = bar_chart(FRAME_STACKED, "case", "time_s", horizontal=horizontal, **KW)
    bars = _bars(ch)
    assert len(bars) == 6 and all(abs(w) > 0 and abs(h) > 0 for _, _, w, h in bars)
    # one bar position per case: the parts share it instead of sitting side by side
    pos = {round(x if not horizontal else y, 3) for x, y, _, _ in bars}
    assert len(pos) == 2
    # the drawn lengths are in proportion to the summed parts of each case
    key = 3 if not horizontal else 2
    lengths = {}
    for b in bars:
        p = round(b[0] if not horizontal else b[1], 3)
        lengths[p] = lengths.get(p, 0.0) + abs(b[key])
    totals = FRAME_STACKED.groupby("case", sort=False)["time_s"].sum().to_numpy()
    drawn = [lengths[p] for p in sorted(lengths)]
    assert max(drawn) / min(drawn) == pytest.approx(max(totals) / min(totals), rel=0.02)


def test_grouped_bars_unchanged_without_stack():
    d = bar_chart(FRAME_STACKED, "case", "time_s", title="t", caption="c", color="component",
                  y_title="Time per step [s]").to_dict()
    assert "xOffset" in d["encoding"] and "order" not in d["encoding"]


@pytest.mark.parametrize("kw", [dict(color=None), dict(log=True)])
def test_stack_needs_parts_and_a_linear_scale(kw):
    args = {**KW, **kw}
    with pytest.raises(ValueError, match="stack=True"):
        bar_chart(FRAME_STACKED, "case", "time_s", **args)


def test_ratio_chart_draws_band_rule_and_dots(published_results):
    c = econ.published_comparison(published_results)
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


def test_history_chart_has_a_time_axis_and_log_prices_with_one_row_per_model():
    h = econ.price_history(econ.data.load("api_prices"), output_frac=0.25)
    spec = econ.history_chart(h, "price_date", "blended_usd_per_mtok", color="model",
                              detail="name", title="t", caption="c").to_dict()
    line, points = spec["layer"]
    enc = points["encoding"] if "encoding" in points else spec["encoding"]
    assert enc["x"]["type"] == "temporal"
    assert enc["y"]["scale"]["type"] == "log" and "[USD/Mtok]" in enc["y"]["title"]
    assert any(t.get("field") == "name" for t in enc["tooltip"])
    one = pd.DataFrame({"price_date": ["2024-01-01"], "blended_usd_per_mtok": [1.0],
                        "model": ["m"]})
    econ.history_chart(one, "price_date", "blended_usd_per_mtok", color="model", title="t",
                       caption="c").to_dict()
    with pytest.raises(ValueError, match="positive"):
        econ.history_chart(one.assign(blended_usd_per_mtok=0.0), "price_date",
                           "blended_usd_per_mtok", title="t", caption="c")
