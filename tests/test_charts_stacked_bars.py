"""econ.charts.bar_chart(stack=True): parts of a whole piled into one bar per category."""
import re

import pandas as pd
import pytest
import vl_convert as vlc

from econ.charts import bar_chart

# two cases of a step, three parts each, in a deliberate (not alphabetical) order
FRAME = pd.DataFrame({
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
    d = bar_chart(FRAME, "case", "time_s", **KW).to_dict()
    enc = d["encoding"]
    assert "xOffset" not in enc and enc["y"]["stack"] == "zero"
    assert enc["color"]["sort"] == ["attention", "experts", "communication"]
    assert enc["order"]["field"] == "_stack_order"
    assert enc["y"]["title"] == "Time per step [s]"


@pytest.mark.parametrize("horizontal", [False, True])
def test_stacked_bars_add_up_to_each_case_total(horizontal):
    ch = bar_chart(FRAME, "case", "time_s", horizontal=horizontal, **KW)
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
    totals = FRAME.groupby("case", sort=False)["time_s"].sum().to_numpy()
    drawn = [lengths[p] for p in sorted(lengths)]
    assert max(drawn) / min(drawn) == pytest.approx(max(totals) / min(totals), rel=0.02)


def test_grouped_bars_unchanged_without_stack():
    d = bar_chart(FRAME, "case", "time_s", title="t", caption="c", color="component",
                  y_title="Time per step [s]").to_dict()
    assert "xOffset" in d["encoding"] and "order" not in d["encoding"]


@pytest.mark.parametrize("kw", [dict(color=None), dict(log=True)])
def test_stack_needs_parts_and_a_linear_scale(kw):
    args = {**KW, **kw}
    with pytest.raises(ValueError, match="stack=True"):
        bar_chart(FRAME, "case", "time_s", **args)
