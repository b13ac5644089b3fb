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


_HISTORY_COLUMNS = ("provider", "model", "input_usd_per_mtok", "output_usd_per_mtok",
                    "price_date")


def price_history(prices=None, output_frac=None, cache_hit_input_frac=0.0, min_mmlu_frac=None):
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

    Returns
    -------
    pandas.DataFrame
        Sorted by ``price_date`` then ``name``, a fresh integer index, columns ``price_date``
        (datetime64), ``name``, ``provider``, ``model``, ``input_usd_per_mtok``,
        ``cached_input_usd_per_mtok``, ``output_usd_per_mtok``, ``output_frac``,
        ``cache_hit_input_frac``, ``blended_usd_per_mtok`` [USD/Mtok] and ``mmlu_frac``
        [fraction, NaN where unsourced].

    Raises
    ------
    ValueError
        ``prices`` is not a table with the columns above, a price or date is missing or
        malformed, or a fraction is outside [0, 1].

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
    if min_mmlu_frac is not None:
        floor = float(fraction("min_mmlu_frac", min_mmlu_frac))
        out = out[out["mmlu_frac"] >= floor]
    return out.sort_values(["price_date", "name"], kind="stable").reset_index(drop=True)
