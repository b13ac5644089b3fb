"""econ.charts.bar_chart on a log scale: bars drawn (a log scale has no zero to start them at)."""
import re

import pandas as pd
import pytest
import vl_convert as vlc

from econ.charts import bar_chart

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
