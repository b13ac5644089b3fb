"""history_chart: a quantity over calendar time, one point per row and a line per group."""
import pandas as pd
import pytest

import econ


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
