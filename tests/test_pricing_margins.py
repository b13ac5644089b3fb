"""econ.pricing additions: a vendor's margin cut passed on to tokens, its revenue under
constant-elasticity demand, and API price history. Closed forms, float/array/Series."""
import numpy as np
import pandas as pd
import pytest

import econ


@pytest.mark.parametrize("kind", [float, np.asarray, pd.Series])
def test_compressed_margin_cost_is_the_vendors_capital_rescaled(kind):
    # 60 % of a $1.00/Mtok cost is capital paid to a vendor at a 75 % margin; at 50 % the price
    # halves: 1 - 0.6 * 0.5 = 0.7
    x = kind([1.0, 2.0]) if kind is not float else 1.0
    out = econ.compressed_margin_cost_usd_per_mtok(x, 0.6, 0.75, 0.5)
    assert isinstance(out, float if kind is float else (np.ndarray if kind is np.asarray
                                                        else pd.Series))
    assert np.allclose(out, 0.7 * np.asarray(x))
    # unchanged margin, unchanged cost; sold at cost, the margin leaves the capital
    assert econ.compressed_margin_cost_usd_per_mtok(1.0, 0.6, 0.75, 0.75) == pytest.approx(1.0)
    assert econ.compressed_margin_cost_usd_per_mtok(1.0, 0.6, 0.75, 0.0) == pytest.approx(
        1 - 0.6 * 0.75)
    with pytest.raises(ValueError, match="vendor_capex_share_frac"):
        econ.compressed_margin_cost_usd_per_mtok(1.0, 1.5, 0.75, 0.5)


def test_vendor_revenue_and_its_break_even_elasticity():
    # inelastic demand (0): revenue falls with the device price; unit elasticity: quantity
    # grows by 1 / token price
    assert econ.vendor_revenue_ratio(0.5, 0.8, 0.0) == pytest.approx(0.5)
    assert econ.vendor_revenue_ratio(0.5, 0.8, 1.0) == pytest.approx(0.5 / 0.8)
    e = econ.breakeven_elasticity_ratio(0.5, 0.8)
    assert e == pytest.approx(np.log(0.5) / np.log(0.8))
    assert econ.vendor_revenue_ratio(0.5, 0.8, e) == pytest.approx(1.0)
    arr = econ.vendor_revenue_ratio(0.5, 0.8, np.array([0.0, 1.0]))
    assert arr.shape == (2,)
    with pytest.raises(ValueError, match="differ from 1"):
        econ.breakeven_elasticity_ratio(0.5, 1.0)


def test_jevons_cases_are_tidy_and_match_the_closed_forms():
    t = econ.jevons_cases([0.0, 1.0, 2.0], {"spend": 0.5, "vendor": (0.5, 0.25)})
    assert list(t.columns) == ["case", "demand_elasticity", "spend_ratio"] and len(t) == 6
    spend = t[t["case"] == "spend"]["spend_ratio"].to_numpy()
    np.testing.assert_allclose(spend, [0.5, 1.0, 2.0])  # 0.5 ** (1 - e)
    vendor = t[t["case"] == "vendor"]["spend_ratio"].to_numpy()
    np.testing.assert_allclose(vendor, [0.25, 0.5, 1.0])  # 0.25 * 0.5 ** -e


def test_price_history_keeps_chosen_models_and_leaves_out_time_of_day_discounts():
    api = econ.data.load("api_prices")
    h = econ.price_history(api, output_frac=0.25)
    assert h["price_date"].is_monotonic_increasing
    assert not h["name"].str.contains("off-peak").any()
    assert len(econ.price_history(api, output_frac=0.25, exclude=())) == len(api)
    # output only, and a single row per model works; its source comes along
    one = econ.price_history(api, output_frac=1.0, models=["o1"])
    assert len(one) == 1 and one["blended_usd_per_mtok"].iloc[0] == pytest.approx(60.0)
    assert one["source_url"].iloc[0].startswith("http")
    with pytest.raises(ValueError, match="no price rows"):
        econ.price_history(api, models=["no-such-model"])
    with pytest.raises(ValueError, match="output_frac"):
        econ.price_history(api, output_frac=-1.0)
