"""econ.price_history: API list prices over time, blended at one traffic mix."""
import numpy as np
import pandas as pd
import pytest

import econ
from econ.pricing import price_history

PRICES = econ.data.load("api_prices")


def test_blend_worked_by_hand_at_3_to_1():
    h = price_history(output_frac=0.25)
    gpt4 = h.set_index("name").loc["openai-gpt-4"]
    assert gpt4.blended_usd_per_mtok == pytest.approx(0.75 * 30.0 + 0.25 * 60.0)   # 37.5
    v3 = h.set_index("name").loc["deepseek-v3"]
    assert v3.blended_usd_per_mtok == pytest.approx(0.75 * 0.27 + 0.25 * 1.10)
    # the default mix is data/assumptions.csv's api_blend_output_frac (3:1 -> 0.25)
    assert econ.data.load("assumptions").loc["api_blend_output_frac", "value"] == 0.25
    pd.testing.assert_frame_equal(price_history(), h)


def test_tidy_frame_in_date_order():
    h = price_history(exclude=())
    assert list(h.columns) == ["price_date", "name", "provider", "model", "input_usd_per_mtok",
                               "cached_input_usd_per_mtok", "output_usd_per_mtok", "output_frac",
                               "cache_hit_input_frac", "blended_usd_per_mtok", "mmlu_frac",
                               "source_url"]
    assert len(h) == len(PRICES) and set(h.name) == set(PRICES.index)
    assert pd.api.types.is_datetime64_any_dtype(h.price_date)
    assert h.price_date.is_monotonic_increasing
    assert h.name.iloc[0] == "openai-gpt-4"                    # March 2023, the anchor
    assert (h.blended_usd_per_mtok > 0).all()


def test_cache_hits_billed_at_the_cached_price_or_the_input_price():
    h = price_history(output_frac=0.0, cache_hit_input_frac=1.0).set_index("name")
    assert h.loc["deepseek-v3", "blended_usd_per_mtok"] == pytest.approx(0.07)
    # no cache price listed: a hit costs the input price
    assert np.isnan(PRICES.loc["cerebras-llama-3.1-70b", "cached_input_usd_per_mtok"])
    assert h.loc["cerebras-llama-3.1-70b", "blended_usd_per_mtok"] == pytest.approx(0.60)


def test_cost_of_gpt4_level_capability_fell():
    # models scoring at least GPT-4's 86.4% MMLU (GPT-4 report, Table 2)
    h = price_history(min_mmlu_frac=0.864)
    assert (h.mmlu_frac >= 0.864).all() and "openai-gpt-4o-mini" not in set(h.name)
    first, cheapest = h.iloc[0], h.loc[h.blended_usd_per_mtok.idxmin()]
    assert first["name"] == "openai-gpt-4"
    assert cheapest.price_date > first.price_date
    # DeepSeek-V3 at list price, 3:1: $0.4775 against GPT-4's $37.50
    assert first.blended_usd_per_mtok / h.set_index("name").loc[
        "deepseek-v3", "blended_usd_per_mtok"] == pytest.approx(37.5 / 0.4775)


def test_a_custom_table_without_capability_column():
    t = pd.DataFrame({"provider": ["x", "y"], "model": ["a", "b"],
                      "input_usd_per_mtok": [1.0, 2.0], "output_usd_per_mtok": [3.0, 4.0],
                      "price_date": ["2025-01-02", "2024-01-02"]}, index=["x-a", "y-b"])
    h = price_history(t, output_frac=0.5)
    assert list(h.name) == ["y-b", "x-a"]
    np.testing.assert_allclose(h.blended_usd_per_mtok, [3.0, 2.0])
    assert h.mmlu_frac.isna().all() and h.cached_input_usd_per_mtok.isna().all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(output_frac=1.5), "output_frac"),
    (dict(cache_hit_input_frac=-0.1), "cache_hit_input_frac"),
    (dict(min_mmlu_frac=86.4), "min_mmlu_frac"),
    (dict(prices="openai-gpt-4"), "prices must be a table"),
    (dict(prices=PRICES.drop(columns="price_date")), r"lacks the column\(s\) \['price_date'\]"),
    (dict(prices=PRICES.assign(price_date="March 2023")), "not an ISO date"),
    (dict(prices=PRICES.assign(output_usd_per_mtok=np.nan)), "output_usd_per_mtok of"),
])
def test_bad_inputs_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        price_history(**kwargs)
