"""Dollars per million tokens, the revenue and cost of a day of traffic, and margins.

* :func:`cost_usd_per_mtok`: $/hour and tokens/s to $/Mtok (defined in :mod:`econ.units`, the
  layer every model module may use, and re-exported here);
* :func:`blended_usd_per_mtok`, :func:`api_blended_usd_per_mtok`: one price for a traffic mix
  of cache-miss input, cache-hit input and output tokens;
* :func:`traffic_revenue_usd`, :func:`serving_cost_usd`, :func:`cost_profit_margin_ratio`:
  DeepSeek's published cost-profit arithmetic for one day of V3/R1 serving [1]_;
* :func:`provider_gross_margin_frac`, :func:`provider_markup_ratio`: an API price against a
  modelled cost;
* :func:`api_price_ratio`: how many times one API's price another's is;
* :func:`price_at_gross_margin_usd`: a supplier's price if its gross margin changes at the
  same unit cost (NVIDIA's margin compressed);
* :func:`jevons_spend_ratio`: total spend after a price change under constant-elasticity
  demand (Jevons);
* :func:`question_cost_usd`: one answered question, its prompt billed as input and its
  reasoning and answer as output (test-time compute);
* :func:`compressed_margin_cost_usd_per_mtok`, :func:`vendor_revenue_ratio`,
  :func:`breakeven_elasticity_ratio`, :func:`jevons_cases`: a device vendor's margin cut passed
  on to token prices, and what it does to spend and to the vendor's revenue;
* :func:`price_history`: API list prices over time as a tidy frame, blended at one traffic mix,
  with a capability measure (MMLU) where sourced: "the cost of a given capability".

Every function takes floats, numpy arrays or pandas Series, broadcasts them, and returns the
kind it was given.

References
----------
.. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
   github.com/deepseek-ai/open-infra-index, 202502OpenSourceWeek, 2025-03-01.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import finite_result as _finite_result
from ._checks import fraction, like, nonnegative, numeric, positive
from .units import TOK_PER_MTOK, cost_usd_per_mtok

__all__ = [
    "TOK_PER_MTOK",
    "cost_usd_per_mtok",
    "blended_usd_per_mtok",
    "api_blended_usd_per_mtok",
    "traffic_revenue_usd",
    "serving_cost_usd",
    "cost_profit_margin_ratio",
    "provider_gross_margin_frac",
    "provider_markup_ratio",
    "api_price_ratio",
    "price_at_gross_margin_usd",
    "jevons_spend_ratio",
    "question_cost_usd",
    "price_gap_split",
    "day6_economics",
    "day6_result_rows",
    "DAY6_CLAIMS",
    "api_price_ratios",
    "compressed_margin_cost_usd_per_mtok",
    "vendor_revenue_ratio",
    "breakeven_elasticity_ratio",
    "jevons_cases",
    "price_history",
]

@_finite_result
def blended_usd_per_mtok(input_usd_per_mtok, cached_input_usd_per_mtok, output_usd_per_mtok,
                         output_frac, cache_hit_input_frac):
    """Average price of a million tokens of a traffic mix.

    ``(1 - output_frac) * (cache_hit_input_frac * cached + (1 - cache_hit_input_frac) * input)
    + output_frac * output``. DeepSeek's day of 27-28 Feb 2025 [1]_: 608B input tokens of
    which 342B (56.3 %) hit the KV cache, 168B output tokens, so ``output_frac`` = 168 / 776
    and ``cache_hit_input_frac`` = 342 / 608. The price arguments are named as the columns of
    the ``api_prices`` table (:func:`api_blended_usd_per_mtok` reads them from it).

    Parameters
    ----------
    input_usd_per_mtok : numeric
        Price of input tokens that miss the cache and must be prefilled. [USD/Mtok]
    cached_input_usd_per_mtok : numeric
        Price of input tokens served from the context (KV) cache. [USD/Mtok]
    output_usd_per_mtok : numeric
        Price of generated tokens. [USD/Mtok]
    output_frac : numeric
        Output tokens / all tokens (input + output). [fraction]
    cache_hit_input_frac : numeric
        Cache-hit input tokens / input tokens. [fraction]

    Returns
    -------
    numeric
        Blended price per million tokens of the mix. [USD/Mtok]

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    miss = nonnegative("input_usd_per_mtok", input_usd_per_mtok)
    hit = nonnegative("cached_input_usd_per_mtok", cached_input_usd_per_mtok)
    out = nonnegative("output_usd_per_mtok", output_usd_per_mtok)
    fo = fraction("output_frac", output_frac)
    fh = fraction("cache_hit_input_frac", cache_hit_input_frac)
    value = (1.0 - fo) * (fh * hit + (1.0 - fh) * miss) + fo * out
    return like(value, input_usd_per_mtok, cached_input_usd_per_mtok, output_usd_per_mtok,
                output_frac, cache_hit_input_frac)


_API_COLUMNS = ("input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok")


@_finite_result
def api_blended_usd_per_mtok(api, output_frac, cache_hit_input_frac):
    """Blended price of a traffic mix at an API's list prices (a row of ``api_prices``).

    :func:`blended_usd_per_mtok` with the row's ``input_usd_per_mtok``,
    ``cached_input_usd_per_mtok`` and ``output_usd_per_mtok``. An API without a cache
    discount (empty ``cached_input_usd_per_mtok``) bills cache hits at the input price.

    Parameters
    ----------
    api : str, pandas.Series or pandas.DataFrame
        A key of the ``api_prices`` table, a row of it, or the table.
    output_frac : numeric
        Output tokens / all tokens. [fraction]
    cache_hit_input_frac : numeric
        Cache-hit input tokens / input tokens. [fraction]

    Returns
    -------
    numeric
        Blended price [USD/Mtok]; a Series indexed by API name when given the table.
    """
    if isinstance(api, str):
        api = data.row("api_prices", api)
    if isinstance(api, pd.Series):
        frame, one = api.to_frame().T, True
    elif isinstance(api, pd.DataFrame):
        frame, one = api, False
    else:
        raise ValueError("api must be a name in the api_prices table, a row of "
                         f"econ.data.load('api_prices') or the table, got {api!r}")
    missing = [c for c in _API_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"api needs the column(s) {missing}; it has {list(frame.columns)}")
    cols = {c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in _API_COLUMNS}
    cols["cached_input_usd_per_mtok"] = cols["cached_input_usd_per_mtok"].fillna(
        cols["input_usd_per_mtok"])
    for c in ("input_usd_per_mtok", "output_usd_per_mtok"):
        if cols[c].isna().any():
            who = list(cols[c].index[cols[c].isna()])
            raise ValueError(f"api {who[0] if one else who!r} has no {c} in the api_prices table")
    if one:
        cols = {c: float(v.iloc[0]) for c, v in cols.items()}
    return blended_usd_per_mtok(cols["input_usd_per_mtok"], cols["cached_input_usd_per_mtok"],
                                cols["output_usd_per_mtok"], output_frac, cache_hit_input_frac)


@_finite_result
def traffic_revenue_usd(input_tok, cache_hit_input_tok, output_tok, input_usd_per_mtok,
                        cached_input_usd_per_mtok, output_usd_per_mtok):
    """Revenue of a volume of traffic billed at list prices.

    ``((input_tok - cache_hit_input_tok) * input + cache_hit_input_tok * cached
    + output_tok * output) / 1e6``. DeepSeek's "theoretical" daily revenue, every token at R1
    prices ($0.55 input, $0.14 cached input, $2.19 output per Mtok), is $562,027 [1]_; with
    the rounded token counts it publishes (608B input, 342B cache hits, 168B output) this
    gives $562,100.

    Parameters
    ----------
    input_tok : numeric
        Input (prompt) tokens, cache hits included. [tokens]
    cache_hit_input_tok : numeric
        Input tokens served from the context cache, <= ``input_tok``. [tokens]
    output_tok : numeric
        Generated tokens. [tokens]
    input_usd_per_mtok : numeric
        Price of a cache-miss input token. [USD/Mtok]
    cached_input_usd_per_mtok : numeric
        Price of a cache-hit input token. [USD/Mtok]
    output_usd_per_mtok : numeric
        Price of an output token. [USD/Mtok]

    Returns
    -------
    numeric
        Revenue. [USD]

    Raises
    ------
    ValueError
        ``cache_hit_input_tok`` greater than ``input_tok``, or any input invalid.

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    n_in = nonnegative("input_tok", input_tok)
    n_hit = nonnegative("cache_hit_input_tok", cache_hit_input_tok)
    n_out = nonnegative("output_tok", output_tok)
    miss = nonnegative("input_usd_per_mtok", input_usd_per_mtok)
    hit = nonnegative("cached_input_usd_per_mtok", cached_input_usd_per_mtok)
    out = nonnegative("output_usd_per_mtok", output_usd_per_mtok)
    hit_b, in_b = np.broadcast_arrays(n_hit, n_in)
    over = hit_b > in_b
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise ValueError("cache_hit_input_tok must be <= input_tok (cache hits are part of the "
                         f"input), got cache_hit_input_tok={float(hit_b.flat[i])!r} > "
                         f"input_tok={float(in_b.flat[i])!r}")
    value = ((n_in - n_hit) * miss + n_hit * hit + n_out * out) / TOK_PER_MTOK
    return like(value, input_tok, cache_hit_input_tok, output_tok, input_usd_per_mtok,
                cached_input_usd_per_mtok, output_usd_per_mtok)


@_finite_result
def serving_cost_usd(n_nodes, gpus_per_node, hours, usd_per_gpu_hour):
    """Cost of keeping ``n_nodes`` nodes for ``hours`` at a price per GPU-hour.

    ``n_nodes * gpus_per_node * hours * usd_per_gpu_hour``. DeepSeek's day [1]_: an average of
    226.75 nodes of 8 H800 GPUs for 24 h at an assumed $2/GPU-hour is $87,072.

    Parameters
    ----------
    n_nodes : numeric
        Nodes held, on average over the period (may be fractional). [nodes]
    gpus_per_node : numeric
        Accelerators per node. [count]
    hours : numeric
        Length of the period. [hours]
    usd_per_gpu_hour : numeric
        Rental price or owned cost per accelerator-hour. [USD/h]

    Returns
    -------
    numeric
        Cost of the period. [USD]

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    n = nonnegative("n_nodes", n_nodes)
    g = nonnegative("gpus_per_node", gpus_per_node)
    h = nonnegative("hours", hours)
    p = nonnegative("usd_per_gpu_hour", usd_per_gpu_hour)
    return like(n * g * h * p, n_nodes, gpus_per_node, hours, usd_per_gpu_hour)


@_finite_result
def cost_profit_margin_ratio(revenue_usd, cost_usd):
    """Profit over cost: ``(revenue_usd - cost_usd) / cost_usd``.

    The "cost profit margin" DeepSeek quotes [1]_: ($562,027 - $87,072) / $87,072 = 5.45,
    published as 545 %. Not a gross margin on revenue (that is
    :func:`provider_gross_margin_frac`, 0.845 here).

    Parameters
    ----------
    revenue_usd : numeric
        Revenue. [USD]
    cost_usd : numeric
        Cost, > 0. [USD]

    Returns
    -------
    numeric
        Profit per dollar of cost; -1 at zero revenue, 0 at break-even. [ratio]

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    r = nonnegative("revenue_usd", revenue_usd)
    c = positive("cost_usd", cost_usd)
    return like((r - c) / c, revenue_usd, cost_usd)


@_finite_result
def provider_gross_margin_frac(price_usd_per_mtok, cost_usd_per_mtok):
    """Share of an API price left after the modelled cost: ``(price - cost) / price``.

    Parameters
    ----------
    price_usd_per_mtok : numeric
        API list (or blended) price, > 0. [USD/Mtok]
    cost_usd_per_mtok : numeric
        Modelled cost of producing the same tokens (:func:`cost_usd_per_mtok`). [USD/Mtok]

    Returns
    -------
    numeric
        Gross margin on revenue: at most 1, negative when the price is below cost. [fraction]
    """
    p = positive("price_usd_per_mtok", price_usd_per_mtok)
    c = nonnegative("cost_usd_per_mtok", cost_usd_per_mtok)
    return like((p - c) / p, price_usd_per_mtok, cost_usd_per_mtok)


@_finite_result
def provider_markup_ratio(price_usd_per_mtok, cost_usd_per_mtok):
    """How many times the modelled cost an API price is: ``price / cost``.

    1 sells at cost; :func:`cost_profit_margin_ratio` is this minus 1, and
    :func:`provider_gross_margin_frac` is ``1 - 1 / markup``.

    Parameters
    ----------
    price_usd_per_mtok : numeric
        API list (or blended) price. [USD/Mtok]
    cost_usd_per_mtok : numeric
        Modelled cost of producing the same tokens, > 0. [USD/Mtok]

    Returns
    -------
    numeric
        Price / cost. [ratio]
    """
    p = nonnegative("price_usd_per_mtok", price_usd_per_mtok)
    c = positive("cost_usd_per_mtok", cost_usd_per_mtok)
    return like(p / c, price_usd_per_mtok, cost_usd_per_mtok)


@_finite_result
def api_price_ratio(price_usd_per_mtok, reference_usd_per_mtok):
    """How many times a reference API's price one API's price is: ``price / reference``.

    "o1 is 27x the price of R1" is ``api_price_ratio(o1, r1)`` on like-for-like prices
    (output, or one blended mix for both; see :func:`blended_usd_per_mtok`).

    Parameters
    ----------
    price_usd_per_mtok : numeric
        Price of the API compared. [USD/Mtok]
    reference_usd_per_mtok : numeric
        Price of the reference API, > 0. [USD/Mtok]

    Returns
    -------
    numeric
        Price ratio. [ratio]
    """
    p = nonnegative("price_usd_per_mtok", price_usd_per_mtok)
    r = positive("reference_usd_per_mtok", reference_usd_per_mtok)
    return like(p / r, price_usd_per_mtok, reference_usd_per_mtok)


@_finite_result
def price_at_gross_margin_usd(price_usd, gross_margin_frac, new_gross_margin_frac):
    """A supplier's price at another gross margin, its unit cost unchanged.

    Gross margin is ``(price - unit_cost) / price``, so the unit cost is
    ``price_usd * (1 - gross_margin_frac)`` and the price at a new margin is

    ``price_usd * (1 - gross_margin_frac) / (1 - new_gross_margin_frac)``.

    A GPU bought at $30,000 from a vendor earning a 75 % gross margin costs $7,500 to make;
    at a 50 % margin it would sell for $15,000.

    Parameters
    ----------
    price_usd : numeric
        Price paid today. [USD]
    gross_margin_frac : numeric
        Supplier's gross margin at that price, in [0, 1). [fraction]
    new_gross_margin_frac : numeric
        Gross margin of the scenario, in [0, 1) (0: sold at cost). [fraction]

    Returns
    -------
    numeric
        Price at the new margin. [USD]

    References
    ----------
    .. [1] NVIDIA, Q4 and fiscal 2025 results, 2025-02-26 (GAAP gross margin 75.0 %;
       ``data/published.csv`` row ``nvidia-fy2025-gross-margin``).
    """
    p = nonnegative("price_usd", price_usd)
    m = numeric("gross_margin_frac", gross_margin_frac, min_value=0.0, max_value=1.0,
                max_inclusive=False)
    m_new = numeric("new_gross_margin_frac", new_gross_margin_frac, min_value=0.0,
                    max_value=1.0, max_inclusive=False)
    return like(p * (1.0 - m) / (1.0 - m_new), price_usd, gross_margin_frac,
                new_gross_margin_frac)


@_finite_result
def jevons_spend_ratio(price_ratio, demand_elasticity):
    """Total spend after a price change, relative to before, under constant-elasticity demand.

    With demand ``Q ~ P ** -demand_elasticity``, spend ``P * Q ~ P ** (1 - demand_elasticity)``,
    so a price that falls to ``price_ratio`` of its level changes spend by

    ``price_ratio ** (1 - demand_elasticity)``.

    Cheaper tokens raise total spend when demand is elastic (``demand_elasticity > 1``: the
    Jevons paradox), leave it unchanged at 1, and lower it when inelastic (< 1).

    Parameters
    ----------
    price_ratio : numeric
        New price / old price, > 0 (0.1 = ten times cheaper). [ratio]
    demand_elasticity : numeric
        Price elasticity of demand as a positive number, ``-dlnQ/dlnP`` (>= 0). [-]

    Returns
    -------
    numeric
        New spend / old spend. [ratio]

    References
    ----------
    .. [1] W. S. Jevons, *The Coal Question*, 1865, ch. VII.
    .. [2] A. Mas-Colell, M. Whinston, J. Green, *Microeconomic Theory*, 1995, §2.E
       (constant-elasticity demand and expenditure).
    """
    r = positive("price_ratio", price_ratio)
    e = nonnegative("demand_elasticity", demand_elasticity)
    return like(r ** (1.0 - e), price_ratio, demand_elasticity)


@_finite_result
def question_cost_usd(prompt_tok, answer_tok, reasoning_tok, input_usd_per_mtok,
                      output_usd_per_mtok):
    """Cost of one answered question: the prompt as input, reasoning and answer as output.

    ``(prompt_tok * input_usd_per_mtok + (answer_tok + reasoning_tok) * output_usd_per_mtok)
    / 1e6``. Reasoning models bill their chain of thought as output tokens, whether it is shown
    (DeepSeek-R1 [1]_) or hidden (OpenAI o1 [2]_), so test-time compute raises the cost of a
    question linearly in ``reasoning_tok`` at the output price. With list prices this is what
    a user pays; with modelled $/Mtok (:func:`cost_usd_per_mtok`) what it costs to serve.

    Parameters
    ----------
    prompt_tok : numeric
        Input tokens of the question (all cache misses). [tokens]
    answer_tok : numeric
        Tokens of the visible answer. [tokens]
    reasoning_tok : numeric
        Reasoning (chain-of-thought) tokens generated before the answer. [tokens]
    input_usd_per_mtok : numeric
        Price or cost of an input token. [USD/Mtok]
    output_usd_per_mtok : numeric
        Price or cost of an output token. [USD/Mtok]

    Returns
    -------
    numeric
        Cost of the question. [USD]

    References
    ----------
    .. [1] DeepSeek API docs, "Models & Pricing": the output price covers "the total tokens
       of the chain of thought and the final answer".
    .. [2] OpenAI API docs, "Reasoning models": reasoning tokens "are billed as output
       tokens".
    """
    n_in = nonnegative("prompt_tok", prompt_tok)
    n_ans = nonnegative("answer_tok", answer_tok)
    n_cot = nonnegative("reasoning_tok", reasoning_tok)
    p_in = nonnegative("input_usd_per_mtok", input_usd_per_mtok)
    p_out = nonnegative("output_usd_per_mtok", output_usd_per_mtok)
    value = (n_in * p_in + (n_ans + n_cot) * p_out) / TOK_PER_MTOK
    return like(value, prompt_tok, answer_tok, reasoning_tok, input_usd_per_mtok,
                output_usd_per_mtok)


@_finite_result
def price_gap_split(price_usd_per_mtok, reference_price_usd_per_mtok, cost_usd_per_mtok,
                    reference_cost_usd_per_mtok):
    """Split a price gap between two providers into a cost ratio and a markup ratio.

    ``price_ratio = price / reference_price = cost_ratio * markup_ratio`` exactly, with
    ``cost_ratio = cost / reference_cost`` and ``markup_ratio = price_ratio / cost_ratio``;
    the share of the gap that cost explains is measured on a log scale,
    ``log(cost_ratio) / log(price_ratio)`` (1: all cost, 0: all markup, negative: the dearer
    provider is cheaper to serve).

    Parameters
    ----------
    price_usd_per_mtok, reference_price_usd_per_mtok : numeric
        The two prices (e.g. o1's and R1's output price), > 0 and not equal. [USD/Mtok]
    cost_usd_per_mtok, reference_cost_usd_per_mtok : numeric
        What each costs to serve, > 0. [USD/Mtok]

    Returns
    -------
    dict
        ``price_ratio``, ``cost_ratio``, ``markup_ratio`` [ratio],
        ``gap_explained_by_cost_frac`` [fraction], ``gross_margin_frac`` and
        ``reference_gross_margin_frac`` (:func:`provider_gross_margin_frac`) [fraction];
        each the kind of the inputs.

    Examples
    --------
    A 27x price gap of which a 3x cost gap is a third on a log scale:

    >>> s = price_gap_split(60.0, 60.0 / 27.0, 3.0, 1.0)
    >>> round(s["markup_ratio"], 6), round(s["gap_explained_by_cost_frac"], 6)
    (9.0, 0.333333)
    """
    p = positive("price_usd_per_mtok", price_usd_per_mtok)
    p0 = positive("reference_price_usd_per_mtok", reference_price_usd_per_mtok)
    c = positive("cost_usd_per_mtok", cost_usd_per_mtok)
    c0 = positive("reference_cost_usd_per_mtok", reference_cost_usd_per_mtok)
    if np.any(p == p0):
        raise ValueError("price_usd_per_mtok equals reference_price_usd_per_mtok: there is no "
                         "gap to split")
    args = (price_usd_per_mtok, reference_price_usd_per_mtok, cost_usd_per_mtok,
            reference_cost_usd_per_mtok)
    price_ratio, cost_ratio = p / p0, c / c0
    return {
        "price_ratio": like(price_ratio + 0.0 * cost_ratio, *args),
        "cost_ratio": like(cost_ratio + 0.0 * price_ratio, *args),
        "markup_ratio": like(price_ratio / cost_ratio, *args),
        "gap_explained_by_cost_frac": like(np.log(cost_ratio) / np.log(price_ratio), *args),
        "gross_margin_frac": like((p - c) / p, *args),
        "reference_gross_margin_frac": like((p0 - c0) / p0 + 0.0 * p * c, *args),
    }


def _day6():
    pub = data.load("published")
    day = pub[pub["subject"] == "deepseek-day6"].set_index("metric")
    return day["value"].astype(float), day["source_url"].str.split(" ; ")


def day6_economics(usd_per_gpu_hour):
    """DeepSeek's day of V3/R1 serving (27-28 Feb 2025), from its published inputs [1]_.

    Cost: average nodes x GPUs per node x 24 h x a GPU-hour price
    (:func:`serving_cost_usd`); revenue: the day's tokens at R1's list prices
    (``data/api_prices.csv``, :func:`traffic_revenue_usd`); the cost profit margin
    (:func:`cost_profit_margin_ratio`) and the gross margin on revenue. Each at DeepSeek's own
    GPU-hour price (the reproduction, whatever the run's) and at ``usd_per_gpu_hour``.

    Parameters
    ----------
    usd_per_gpu_hour : float
        The run's price of one GPU-hour. [USD/h]

    Returns
    -------
    pandas.DataFrame
        Index: ``usd_per_gpu_hour`` (the price of each column),
        ``serving_cost_usd_per_day``, ``theoretical_revenue_usd_per_day``,
        ``cost_profit_margin_frac`` (profit / cost, 5.45 = 545 %), ``gross_margin_frac``,
        ``cost_usd_per_mtok`` (all tokens), ``output_cost_usd_per_mtok`` (all cost charged to
        output), ``blended_price_usd_per_mtok`` (revenue per Mtok of all tokens),
        ``decode_cost_usd_per_mtok`` (DeepSeek's published output rate per node priced per
        GPU-hour with no idle time); columns
        ``unit``, ``deepseek_price_value`` (at DeepSeek's price), ``run_price_value`` (at
        ``usd_per_gpu_hour``), ``published_value`` (NaN where DeepSeek gives none),
        ``source_url``.

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       github.com/deepseek-ai/open-infra-index, 2025-03-01.
    """
    run = float(positive("usd_per_gpu_hour", usd_per_gpu_hour))
    day, src = _day6()
    r1 = data.load("api_prices").loc["deepseek-r1"]
    price = np.array([day["rental_usd_per_hour"], run])
    cost = serving_cost_usd(day["average_nodes"], day["gpus_per_node_devices"], 24.0, price)
    revenue = traffic_revenue_usd(day["input_tok_per_day"], day["cache_hit_input_tok_per_day"],
                                  day["output_tok_per_day"], r1["input_usd_per_mtok"],
                                  r1["cached_input_usd_per_mtok"], r1["output_usd_per_mtok"])
    all_mtok = (day["input_tok_per_day"] + day["output_tok_per_day"]) / TOK_PER_MTOK
    rows = {
        "usd_per_gpu_hour": ("USD/h", price, day["rental_usd_per_hour"],
                             src["rental_usd_per_hour"][0]),
        "serving_cost_usd_per_day": ("USD/day", cost, day["serving_cost_usd_per_day"],
                                     src["serving_cost_usd_per_day"][0]),
        "theoretical_revenue_usd_per_day": ("USD/day", revenue + 0.0 * cost,
                                            day["theoretical_revenue_usd_per_day"],
                                            src["theoretical_revenue_usd_per_day"][0]),
        "cost_profit_margin_frac": ("ratio", cost_profit_margin_ratio(revenue, cost),
                                    day["cost_profit_margin_ratio"],
                                    src["cost_profit_margin_ratio"][-1]),
        "gross_margin_frac": ("fraction", (revenue - cost) / revenue, np.nan, ""),
        "cost_usd_per_mtok": ("USD/Mtok", cost / all_mtok, np.nan, ""),
        "output_cost_usd_per_mtok": ("USD/Mtok",
                                     cost / (day["output_tok_per_day"] / TOK_PER_MTOK), np.nan,
                                     ""),
        "blended_price_usd_per_mtok": ("USD/Mtok", revenue / all_mtok + 0.0 * cost, np.nan, ""),
        "decode_cost_usd_per_mtok": ("USD/Mtok", cost_usd_per_mtok(
            price * day["gpus_per_node_devices"], day["decode_output_per_node_tok_per_s"]),
            np.nan, src["decode_output_per_node_tok_per_s"][0]),
    }
    return pd.DataFrame(
        [(k, u, float(v[0]), float(v[1]), float(pub), url)
         for k, (u, v, pub, url) in rows.items()],
        columns=["quantity", "unit", "deepseek_price_value", "run_price_value",
                 "published_value", "source_url"]).set_index("quantity")


#: Claim wording of :func:`day6_result_rows`, for ``econ.verdict_table``.
DAY6_CLAIMS = {
    ("serving_cost_usd_per_day", "deepseek-day6"): "DeepSeek's V3/R1 serving cost per day",
    ("theoretical_revenue_usd_per_day", "deepseek-day6"): "Revenue if every token paid R1 prices",
    ("cost_profit_margin_frac", "deepseek-day6"): "Cost profit margin, profit / cost",
    ("gross_margin_frac", "deepseek-day6"): "Same day as a gross margin on revenue",
    ("serving_cost_usd_per_day", "deepseek-day6:scenario"):
        "Same day's cost at this run's GPU-hour price",
    ("cost_profit_margin_frac", "deepseek-day6:scenario"):
        "Same day's cost profit margin at this run's price",
    ("decode_cost_usd_per_mtok", "deepseek-day6"):
        "Decode cost at DeepSeek's published output rate per node",
}


def day6_result_rows(usd_per_gpu_hour, rel_tol=0.005):
    """Result rows (``econ.results_frame``) of :func:`day6_economics`.

    The three published figures (cost, theoretical revenue, cost profit margin) reproduced at
    DeepSeek's own price, subject ``deepseek-day6``, with their published value; the gross
    margin; the cost and the cost profit margin at the run's price, subject
    ``deepseek-day6:scenario``; and the decode cost of DeepSeek's published output rate per
    node at the run's price with no idle time (``decode_cost_usd_per_mtok``).

    Parameters
    ----------
    usd_per_gpu_hour : float
        The run's price of one GPU-hour. [USD/h]
    rel_tol : float, default 0.005
        Tolerance of the reproductions' verdict (the published token counts are rounded to
        the billion). [-]

    Returns
    -------
    list of dict
        Keyed as :data:`DAY6_CLAIMS`.
    """
    e = day6_economics(usd_per_gpu_hour)
    scen = f"scenario: the same day at this run's ${float(usd_per_gpu_hour):.2f} per GPU-hour"
    rows = [dict(metric=m, subject="deepseek-day6", value=e.loc[m, "deepseek_price_value"],
                 published_value=e.loc[m, "published_value"], source_url=e.loc[m, "source_url"],
                 rel_tol=rel_tol)
            for m in ("serving_cost_usd_per_day", "theoretical_revenue_usd_per_day",
                      "cost_profit_margin_frac")]
    rows.append(dict(metric="gross_margin_frac", subject="deepseek-day6",
                     value=e.loc["gross_margin_frac", "deepseek_price_value"]))
    rows += [dict(metric=m, subject="deepseek-day6:scenario", value=e.loc[m, "run_price_value"],
                  verdict=scen) for m in ("serving_cost_usd_per_day", "cost_profit_margin_frac")]
    rows.append(dict(metric="decode_cost_usd_per_mtok", subject="deepseek-day6",
                     value=e.loc["decode_cost_usd_per_mtok", "run_price_value"],
                     source_url=e.loc["decode_cost_usd_per_mtok", "source_url"]))
    return rows


def api_price_ratios(api, reference):
    """How many times one API's prices another's: output tokens, and blended over
    DeepSeek's day-6 traffic mix (168B output of 776B tokens, 56.3% of input from cache).

    Parameters
    ----------
    api, reference : str
        Keys of ``data/api_prices.csv`` (e.g. ``"openai-o1"``, ``"deepseek-r1"``).

    Returns
    -------
    dict
        ``output_ratio`` and ``blended_ratio`` [ratio], ``source_url`` (the reference's
        price list, the first source of its row).
    """
    table = data.load("api_prices")
    for name, key in (("api", api), ("reference", reference)):
        if key not in table.index:
            raise KeyError(f"{name} {key!r} is not in data/api_prices.csv; choose from "
                           f"{list(table.index)}")
    a, b = table.loc[api], table.loc[reference]
    day, _ = _day6()
    out_frac = day["output_tok_per_day"] / (day["input_tok_per_day"] + day["output_tok_per_day"])
    hit_frac = day["cache_hit_input_tok_per_day"] / day["input_tok_per_day"]
    return dict(
        output_ratio=float(api_price_ratio(a["output_usd_per_mtok"], b["output_usd_per_mtok"])),
        blended_ratio=float(api_price_ratio(api_blended_usd_per_mtok(a, out_frac, hit_frac),
                                            api_blended_usd_per_mtok(b, out_frac, hit_frac))),
        source_url=str(b["source_url"]).split(" ; ")[0])


@_finite_result
def compressed_margin_cost_usd_per_mtok(cost_usd_per_mtok, vendor_capex_share_frac,
                                        gross_margin_frac, new_gross_margin_frac):
    """Cost per token if the device vendor earned another gross margin, all else unchanged.

    The capital paid to the vendor is ``vendor_capex_share_frac`` of the hourly cost; at the
    new margin it scales by ``price_ratio = (1 - gross_margin_frac) / (1 - new_gross_margin_frac)``
    (:func:`price_at_gross_margin_usd`), and power, hosting and the rest of the node stay:

    ``cost_usd_per_mtok * (1 - vendor_capex_share_frac * (1 - price_ratio))``.

    Parameters
    ----------
    cost_usd_per_mtok : numeric
        Cost per million tokens today. [USD/Mtok]
    vendor_capex_share_frac : numeric
        Share of the hourly cost that is capital paid to the vendor, in [0, 1]. [fraction]
    gross_margin_frac : numeric
        Vendor's gross margin today, in [0, 1). [fraction]
    new_gross_margin_frac : numeric
        Vendor's gross margin of the scenario, in [0, 1). [fraction]

    Returns
    -------
    numeric
        Cost per million tokens at the new margin. [USD/Mtok]

    Examples
    --------
    Capital paid to the vendor is 60 % of a $1.00/Mtok cost; a 75 % margin cut to 50 % halves
    the device price, so the cost falls by 30 %:

    >>> round(compressed_margin_cost_usd_per_mtok(1.0, 0.6, 0.75, 0.5), 6)
    0.7
    """
    c = nonnegative("cost_usd_per_mtok", cost_usd_per_mtok)
    s = fraction("vendor_capex_share_frac", vendor_capex_share_frac)
    ratio = price_at_gross_margin_usd(1.0, gross_margin_frac, new_gross_margin_frac)
    return like(c * (1.0 - s * (1.0 - np.asarray(ratio, dtype=float))), cost_usd_per_mtok,
                vendor_capex_share_frac, gross_margin_frac, new_gross_margin_frac)


@_finite_result
def vendor_revenue_ratio(vendor_price_ratio, token_price_ratio, demand_elasticity):
    """A device vendor's revenue after a price cut, relative to before.

    Tokens fall to ``token_price_ratio`` of their price; demand for tokens, and so for devices
    (at the same efficiency), grows as ``token_price_ratio ** -demand_elasticity``; each device
    sells at ``vendor_price_ratio`` of its price:

    ``vendor_price_ratio * token_price_ratio ** -demand_elasticity``
    (= ``vendor_price_ratio * jevons_spend_ratio(token_price_ratio, e) / token_price_ratio``).

    Parameters
    ----------
    vendor_price_ratio : numeric
        New device price / old, > 0. [ratio]
    token_price_ratio : numeric
        New token price / old, > 0. [ratio]
    demand_elasticity : numeric
        Price elasticity of demand for tokens, >= 0. [-]

    Returns
    -------
    numeric
        New vendor revenue / old. [ratio]
    """
    v = positive("vendor_price_ratio", vendor_price_ratio)
    t = positive("token_price_ratio", token_price_ratio)
    e = nonnegative("demand_elasticity", demand_elasticity)
    return like(v * t ** (-e), vendor_price_ratio, token_price_ratio, demand_elasticity)


@_finite_result
def breakeven_elasticity_ratio(vendor_price_ratio, token_price_ratio):
    """Demand elasticity at which a vendor's revenue is unchanged by a price cut.

    Solves ``vendor_revenue_ratio(v, t, e) = 1``: ``e = ln(v) / ln(t)``. Above it the vendor's
    revenue grows despite the lower device price.

    Parameters
    ----------
    vendor_price_ratio : numeric
        New device price / old, > 0. [ratio]
    token_price_ratio : numeric
        New token price / old, > 0 and not 1. [ratio]

    Returns
    -------
    numeric
        The break-even elasticity. [-]
    """
    v = positive("vendor_price_ratio", vendor_price_ratio)
    t = positive("token_price_ratio", token_price_ratio)
    if np.any(t == 1.0):
        raise ValueError("token_price_ratio must differ from 1: an unchanged token price "
                         "leaves demand unchanged at every elasticity")
    return like(np.log(v) / np.log(t), vendor_price_ratio, token_price_ratio)


def jevons_cases(demand_elasticity, cases):
    """Spend after / spend before for several price cuts, against the elasticity of demand.

    Parameters
    ----------
    demand_elasticity : array-like
        Elasticities swept, each >= 0. [-]
    cases : dict
        ``{label: token_price_ratio}`` for total spend on tokens
        (:func:`jevons_spend_ratio`), or ``{label: (token_price_ratio, vendor_price_ratio)}``
        for the device vendor's revenue (:func:`vendor_revenue_ratio`).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``case``, ``demand_elasticity`` [-], ``spend_ratio`` [ratio].
    """
    e = np.asarray(demand_elasticity, dtype=float)
    frames = []
    for label, ratios in cases.items():
        if isinstance(ratios, tuple):
            spend = vendor_revenue_ratio(ratios[1], ratios[0], e)
        else:
            spend = jevons_spend_ratio(ratios, e)
        frames.append(pd.DataFrame({"case": label, "demand_elasticity": e,
                                    "spend_ratio": np.asarray(spend, dtype=float)}))
    return pd.concat(frames, ignore_index=True)


_HISTORY_COLUMNS = ("provider", "model", "input_usd_per_mtok", "output_usd_per_mtok",
                    "price_date")


def price_history(prices=None, output_frac=None, cache_hit_input_frac=0.0, min_mmlu_frac=None,
                  models=None, exclude=("off-peak",)):
    """API list prices over time, one row per priced model and date, blended at one mix.

    Each row of the ``api_prices`` table is a price that applied on its ``price_date``; this
    puts them in date order with one blended $/Mtok (:func:`blended_usd_per_mtok`) so that
    prices of models of similar capability can be charted over time ("the cost of a given
    capability keeps falling"). ``mmlu_frac`` comes along where the table has it;
    ``min_mmlu_frac`` keeps only the models at or above a capability level.

    Parameters
    ----------
    prices : pandas.DataFrame, optional
        Rows shaped like ``econ.data.load("api_prices")`` (the default), indexed by name, with
        the columns ``provider``, ``model``, ``input_usd_per_mtok``, ``output_usd_per_mtok``,
        ``price_date`` and optionally ``cached_input_usd_per_mtok`` and ``mmlu_frac``.
    output_frac : float, optional
        Output tokens / all tokens of the mix. Default: ``api_blend_output_frac`` of
        ``data/assumptions.csv`` (0.25, i.e. the 3:1 input:output weighting of Artificial
        Analysis). [fraction]
    cache_hit_input_frac : float, default 0
        Cache-hit input tokens / input tokens; hits are billed at the cached price where the
        row has one, else at the input price. 0 compares plain list prices. [fraction]
    min_mmlu_frac : float, optional
        Keep only rows whose ``mmlu_frac`` is at least this (rows without one are dropped).
        [fraction]
    models : list of str, optional
        Keep only these ``model`` values (default all).
    exclude : tuple of str, default ("off-peak",)
        Leave out rows whose name contains one of these: a time-of-day discount is not the
        model's list price.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``price_date`` then ``name``, a fresh integer index, columns ``price_date``
        (datetime64), ``name``, ``provider``, ``model``, ``input_usd_per_mtok``,
        ``cached_input_usd_per_mtok``, ``output_usd_per_mtok``, ``output_frac``,
        ``cache_hit_input_frac``, ``blended_usd_per_mtok`` [USD/Mtok], ``mmlu_frac``
        [fraction, NaN where unsourced] and ``source_url``. Works with one row per model.

    Raises
    ------
    ValueError
        ``prices`` is not a table with the columns above, a price or date is missing or
        malformed, a fraction is outside [0, 1], or no row is left.

    Examples
    --------
    >>> h = price_history()
    >>> h.loc[h.name == "openai-gpt-4", "blended_usd_per_mtok"].item()   # 0.75*30 + 0.25*60
    37.5

    References
    ----------
    .. [1] Artificial Analysis, methodology: prices blended 3:1 input:output, as used in Epoch
       AI's data insight on LLM API prices.
    """
    if prices is None:
        prices = data.load("api_prices")
    if not isinstance(prices, pd.DataFrame):
        raise ValueError("prices must be a table like econ.data.load('api_prices'), got "
                         f"{type(prices).__name__}")
    missing = [c for c in _HISTORY_COLUMNS if c not in prices.columns]
    if missing:
        raise ValueError(f"prices lacks the column(s) {missing}; it has {list(prices.columns)}")
    if models is not None:
        prices = prices[prices["model"].isin(list(models))]
    for word in exclude:
        prices = prices[~prices.index.astype(str).str.contains(word, regex=False)]
    if prices.empty:
        raise ValueError(f"price_history: no price rows left for models {models!r} "
                         f"(excluding {list(exclude)})")
    if output_frac is None:
        output_frac = float(data.load("assumptions").loc["api_blend_output_frac", "value"])
    fo = float(fraction("output_frac", output_frac))
    fh = float(fraction("cache_hit_input_frac", cache_hit_input_frac))
    out = pd.DataFrame({"name": prices.index.astype(str),
                        "provider": prices["provider"].to_numpy(),
                        "model": prices["model"].to_numpy()})
    dates = pd.to_datetime(prices["price_date"], errors="coerce", format="%Y-%m-%d")
    if dates.isna().any():
        bad = list(prices.index[dates.isna().to_numpy()])
        raise ValueError(f"price_date of {bad} is missing or not an ISO date (YYYY-MM-DD)")
    out.insert(0, "price_date", dates.to_numpy())
    for c in ("input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok"):
        col = prices[c] if c in prices.columns else pd.Series(np.nan, index=prices.index)
        out[c] = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
    for c in ("input_usd_per_mtok", "output_usd_per_mtok"):
        if out[c].isna().any():
            raise ValueError(f"{c} of {list(out.loc[out[c].isna(), 'name'])} is missing or "
                             "not a number")
    hit = out["cached_input_usd_per_mtok"].fillna(out["input_usd_per_mtok"])
    out["output_frac"] = fo
    out["cache_hit_input_frac"] = fh
    out["blended_usd_per_mtok"] = blended_usd_per_mtok(
        out["input_usd_per_mtok"], hit, out["output_usd_per_mtok"], fo, fh)
    mmlu = prices["mmlu_frac"] if "mmlu_frac" in prices.columns else np.nan
    out["mmlu_frac"] = pd.to_numeric(pd.Series(mmlu, index=prices.index),
                                     errors="coerce").astype(float).to_numpy()
    out["source_url"] = (prices["source_url"].astype(str).to_numpy()
                         if "source_url" in prices.columns else "")
    if min_mmlu_frac is not None:
        floor = float(fraction("min_mmlu_frac", min_mmlu_frac))
        out = out[out["mmlu_frac"] >= floor]
    return out.sort_values(["price_date", "name"], kind="stable").reset_index(drop=True)
