"""One load served on every platform: devices needed, owned cost, $/Mtok, break-even, price bands.

The hardware notebook asks which platform (an 8-GPU node of NVIDIA or AMD GPUs, a TPU or
Trainium node, a Groq LPU rack, Cerebras CS-3 wafers) serves the same decode load for the
least money. Each platform gets the fewest whole systems whose memory holds the weights and
the load's KV cache; its decode throughput comes from the roofline
(:func:`econ.decode_step_breakdown`), its owned hourly cost from :func:`econ.owned_usd_per_hour`.

* :func:`serving_platforms`: the hardware rows compared, with the matmul precision each runs
  at, its system overheads, and whether it can be priced (a row without a purchase price or a
  power figure is kept for the chip count and throughput and left out of every $ comparison);
* :func:`unpriced_note`: the sentence that says which rows were left out and why;
* :func:`devices_to_hold_table`: chips (or wafers) to hold each model's weights;
* :func:`node_max_sequences`: the batch one node holds at a context, after its weights;
* :func:`serve_load`: systems, devices and decode throughput per platform (vectorized over
  the batch);
* :func:`owned_serving_cost`: capex, IT power, owned $/hour and $/Mtok per row of a load;
* :func:`purchase_price_range`, :func:`platform_price_band`: a Monte Carlo over the purchase
  prices, every utilization on the same samples;
* :func:`break_even_band`: the utilization at which each platform matches a reference, per
  sample;
* :func:`api_price_to_cost_rows`: an SRAM provider's list price over the modelled cost.

References
----------
.. [1] B. Cottier et al., "The rising costs of training frontier AI models",
   arXiv:2405.21015, 2024 (amortized hardware cost).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import fraction, positive
from .amortization import break_even_utilization_frac, owned_usd_per_hour, owned_usd_per_mtok
from .inference import decode_step_breakdown, model_devices_to_hold, param_bytes
from .kvcache import max_concurrent_sequences, model_kv_cache_bytes_per_token
from .sensitivity import fixed, grid, monte_carlo, triangular
from .units import PEAK_FLOP_COLUMN, cost_usd_per_mtok

__all__ = ["serving_platforms", "unpriced_note", "devices_to_hold_table", "node_max_sequences",
           "serve_load", "owned_serving_cost", "purchase_price_range", "platform_price_band",
           "break_even_band", "api_price_to_cost_rows", "platform_result_rows"]

#: Columns an owned hourly cost needs (per device).
_PRICE_COLUMNS = ("purchase_usd", "tdp_w")


def serving_platforms(names, precision, *, node_overhead_frac=0.0, node_power_overhead_frac=0.0,
                      vendor_compute_precision=None, overrides=None, fallback_precision="bf16"):
    """The hardware rows compared, ready to size, model and price.

    Parameters
    ----------
    names : list of str
        Keys of ``data/hardware.csv``; duplicates are dropped, order kept.
    precision : {"bf16", "fp8", "int8", "fp4"}
        Weight precision, and the matmul precision of every device with a dense peak at it.
    node_overhead_frac, node_power_overhead_frac : float
        Price and power of the rest of a multi-device system (hosts, NICs, switches) as a share
        of its devices'. A wafer system (``device_kind`` ``wafer``: a Cerebras CS-3) is priced
        and powered whole, so it gets 0. [fraction]
    vendor_compute_precision : dict, optional
        ``{vendor: precision}``: matmul precision of that vendor's devices whatever
        ``precision`` is (Groq publishes no FP8 peak: ``{"groq": "bf16"}``).
    overrides : dict, optional
        ``{name: {column: value}}``: cells filled for this run (an estimated peak, an assumed
        price); names not in ``names`` are ignored.
    fallback_precision : str, default "bf16"
        Matmul precision of a device without a peak at ``precision``.

    Returns
    -------
    pandas.DataFrame
        The hardware columns (index: name) plus ``compute_precision``,
        ``system_overhead_frac``, ``power_overhead_frac`` [fraction], ``modelled`` (a peak at
        the compute precision and a memory bandwidth are known), ``priced`` (a purchase price
        and a TDP are known) and ``missing`` (the empty columns that keep a row out, ``""``
        if none).

    Raises
    ------
    KeyError
        An unknown name, listing the valid ones.
    ValueError
        An unknown precision or an override of a column the table does not have.
    """
    if precision not in PEAK_FLOP_COLUMN:
        raise ValueError(f"precision must be one of {sorted(PEAK_FLOP_COLUMN)}, got {precision!r}")
    table = data.load("hardware")
    names = list(dict.fromkeys([names] if isinstance(names, str) else names))
    unknown = [n for n in names if n not in table.index]
    if unknown or not names:
        raise KeyError(f"hardware {unknown or names!r} not in data/hardware.csv; valid: "
                       f"{sorted(table.index)}")
    out = table.loc[names].copy()
    for name, cells in (overrides or {}).items():
        bad = [c for c in cells if c not in out.columns]
        if bad:
            raise ValueError(f"overrides for {name!r}: no column(s) {bad} in data/hardware.csv")
        if name in out.index:
            for col, value in cells.items():
                out.loc[name, col] = value
    peak_known = out[PEAK_FLOP_COLUMN[precision]].notna()
    compute = pd.Series(np.where(peak_known, precision, fallback_precision), index=out.index)
    for vendor, p in (vendor_compute_precision or {}).items():
        compute[out["vendor"] == vendor] = p
    out["compute_precision"] = compute
    wafer = out["device_kind"] == "wafer"
    out["system_overhead_frac"] = np.where(wafer, 0.0, fraction("node_overhead_frac",
                                                                node_overhead_frac))
    out["power_overhead_frac"] = np.where(wafer, 0.0, fraction("node_power_overhead_frac",
                                                               node_power_overhead_frac))
    missing, modelled = [], []
    for n in out.index:
        need = [PEAK_FLOP_COLUMN[compute[n]], "memory_bytes_per_s", *_PRICE_COLUMNS]
        gaps = [c for c in need if pd.isna(out.loc[n, c])]
        modelled.append(not set(gaps) & set(need[:2]))
        missing.append(", ".join(gaps))
    out["modelled"] = modelled
    out["priced"] = [m and not g for m, g in zip(modelled, missing)]
    out["missing"] = missing
    return out


def unpriced_note(platforms):
    """The sentence naming the platforms left out of the $ comparison, and why.

    Parameters
    ----------
    platforms : pandas.DataFrame
        From :func:`serving_platforms`.

    Returns
    -------
    str
        ``"Left out of the $ comparison: tpu-v6e (no purchase_usd, tdp_w), ..."``, or ``""``
        when every platform is priced.
    """
    out = platforms[~platforms["priced"]]
    if out.empty:
        return ""
    parts = [f"{n} (no {m} in data/hardware.csv)" for n, m in out["missing"].items()]
    return "Left out of the $ comparison: " + "; ".join(parts) + "."


def devices_to_hold_table(models, platforms, precision):
    """Chips (or wafers) each platform needs to hold each model's weights, nothing else.

    Parameters
    ----------
    models : list of str
        Keys of ``data/models.csv`` (duplicates dropped).
    platforms : pandas.DataFrame
        Hardware rows (:func:`serving_platforms`); uses ``memory_bytes``.
    precision : str
        Weight precision.

    Returns
    -------
    pandas.DataFrame
        Index ``model``, one column per platform: :func:`econ.model_devices_to_hold`. [count]
    """
    models = list(dict.fromkeys([models] if isinstance(models, str) else models))
    frame = pd.DataFrame({m: model_devices_to_hold(m, platforms, precision) for m in models}).T
    frame.index.name = "model"
    return frame


def node_max_sequences(model, hardware, precision, context_tok, reserve_frac=0.0):
    """Sequences one node holds at a context after its weights (the load every platform serves).

    ``max_concurrent_sequences(memory_bytes * n_devices_per_node, weight bytes,
    KV bytes per token, context_tok, reserve_frac)`` (:func:`econ.max_concurrent_sequences`).

    Parameters
    ----------
    model : str
        Key of ``data/models.csv``.
    hardware : str or pandas.Series
        Key of ``data/hardware.csv`` or its row; uses ``memory_bytes`` and
        ``n_devices_per_node``.
    precision : str
        Weight precision.
    context_tok : float
        KV length of each sequence. [tokens]
    reserve_frac : float
        Share of memory kept for activations and the runtime, in [0, 1). [fraction]

    Returns
    -------
    float
        Whole sequences. [count]

    Raises
    ------
    ValueError
        Not one sequence fits beside the weights (names the model, device and precision).
    """
    row = data.row("hardware", hardware) if isinstance(hardware, str) else hardware
    weights = param_bytes(data.row("models", model)["total_params"], precision)
    n = float(max_concurrent_sequences(row["memory_bytes"] * row["n_devices_per_node"], weights,
                                       model_kv_cache_bytes_per_token(model), context_tok,
                                       reserve_frac))
    if n < 1:
        raise ValueError(f"{model} in {precision} leaves no room for one sequence of "
                         f"{context_tok:,.0f} tokens on one node of {row.name}; pick a smaller "
                         "model, a lower precision or a shorter context")
    return n


def serve_load(model, platforms, precision, n_sequences, context_tok, *, reserve_frac=0.0,
               flop_efficiency_frac=None, bandwidth_efficiency_frac=None):
    """Systems, devices and decode throughput each platform needs to serve a batch.

    Each platform gets the fewest whole systems (``n_devices_per_node`` devices) whose memory,
    less ``reserve_frac``, holds the weights and the batch's KV cache (BF16)
    (:func:`econ.model_devices_to_hold`); those devices decode the batch at the roofline rate
    of :func:`econ.decode_step_breakdown` at the platform's ``compute_precision``.

    Parameters
    ----------
    model : str
        Key of ``data/models.csv``.
    platforms : pandas.DataFrame
        From :func:`serving_platforms`; rows not ``modelled`` are skipped.
    precision : str
        Weight precision.
    n_sequences : float or array-like
        Sequences decoded together (vectorized: a batch sweep). [count]
    context_tok : float
        KV length each sequence attends to. [tokens]
    reserve_frac : float
        Share of each device's memory kept free, in [0, 1). [fraction]
    flop_efficiency_frac, bandwidth_efficiency_frac : float, optional
        Achieved shares of peak FLOP/s and bandwidth on every platform. [fraction]

    Returns
    -------
    pandas.DataFrame
        One row per platform and batch: ``platform``, ``n_sequences``, ``devices_count``,
        ``systems_count`` [count], ``decode_tok_per_s`` (all devices together) [tokens/s],
        ``compute_bound`` (bool).
    """
    reserve = fraction("reserve_frac", reserve_frac)
    if np.any(reserve >= 1.0):
        raise ValueError(f"reserve_frac must be in [0, 1), got {reserve_frac!r}")
    batch = np.atleast_1d(positive("n_sequences", n_sequences)).astype(float)
    frames = []
    for name, row in platforms[platforms["modelled"]].iterrows():
        held = model_devices_to_hold(model, row, precision, context_tok, batch,
                                     usable_frac=1.0 - reserve)
        systems = np.ceil(np.asarray(held, dtype=float) / row["n_devices_per_node"])
        devices = systems * row["n_devices_per_node"]
        step = decode_step_breakdown(model, row, precision, batch, context_tok,
                                     n_devices=devices, compute_precision=row["compute_precision"],
                                     flop_efficiency_frac=flop_efficiency_frac,
                                     bandwidth_efficiency_frac=bandwidth_efficiency_frac)
        frames.append(pd.DataFrame({
            "platform": name, "n_sequences": batch, "devices_count": devices,
            "systems_count": systems,
            "decode_tok_per_s": step["decode_tok_per_s"].to_numpy() * devices,
            "compute_bound": step["compute_bound"].to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def owned_serving_cost(load, platforms, utilization_frac, life_years, cost_of_capital_frac,
                       pue_ratio, electricity_usd_per_kwh, hosting_opex_frac=0.0):
    """Capex, IT power, owned $/hour and $/Mtok of each row of a load, if it can be priced.

    Per platform: capex = devices x price x (1 + system overhead); IT power = devices x TDP x
    (1 + power overhead); owned $/hour = systems x :func:`econ.owned_usd_per_hour`'s system
    cost (annuity on capex, hosting, power x PUE x electricity); $/Mtok at full use = owned
    $/hour over throughput (:func:`econ.cost_usd_per_mtok`), and at ``utilization_frac`` that
    over the utilization (idle hours cost as much as busy ones).

    Parameters
    ----------
    load : pandas.DataFrame
        From :func:`serve_load`.
    platforms : pandas.DataFrame
        From :func:`serving_platforms`.
    utilization_frac : float
        Share of hours busy, the same on every platform, in (0, 1]. [fraction]
    life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh, hosting_opex_frac
        As in :func:`econ.owned_usd_per_hour`.

    Returns
    -------
    pandas.DataFrame
        ``load`` with ``capex_usd`` [USD], ``it_power_w`` [W], ``owned_usd_per_hour`` [USD/h],
        ``full_use_usd_per_mtok`` and ``cost_usd_per_mtok`` [USD/Mtok]; NaN on rows of
        platforms that are not ``priced``.
    """
    u = fraction("utilization_frac", utilization_frac, allow_zero=False)
    priced = platforms[platforms["priced"]]
    out = load.copy()
    for col in ("capex_usd", "it_power_w", "owned_usd_per_hour", "full_use_usd_per_mtok",
                "cost_usd_per_mtok"):
        out[col] = np.nan
    if priced.empty:
        return out
    system = owned_usd_per_hour(priced, life_years, cost_of_capital_frac, pue_ratio,
                                electricity_usd_per_kwh, hosting_opex_frac=hosting_opex_frac,
                                system_overhead_frac=priced["system_overhead_frac"],
                                power_overhead_frac=priced["power_overhead_frac"]
                                ).system_usd_per_hour
    rows = out["platform"].isin(priced.index)
    p = out.loc[rows, "platform"]
    dev = out.loc[rows, "devices_count"]
    out.loc[rows, "capex_usd"] = dev * p.map(priced["purchase_usd"]) \
        * (1.0 + p.map(priced["system_overhead_frac"]))
    out.loc[rows, "it_power_w"] = dev * p.map(priced["tdp_w"]) \
        * (1.0 + p.map(priced["power_overhead_frac"]))
    out.loc[rows, "owned_usd_per_hour"] = out.loc[rows, "systems_count"] * p.map(system)
    out.loc[rows, "full_use_usd_per_mtok"] = cost_usd_per_mtok(
        out.loc[rows, "owned_usd_per_hour"], out.loc[rows, "decode_tok_per_s"])
    out.loc[rows, "cost_usd_per_mtok"] = out.loc[rows, "full_use_usd_per_mtok"] / float(u)
    return out


def purchase_price_range(platforms, low_frac, *, vendor_low_frac=None, ranges=None):
    """Low, mode and high purchase price of each priced platform, for a Monte Carlo.

    The mode is the row's ``purchase_usd`` (the table's, or the run's override); the low end
    is ``low_frac`` of it (``vendor_low_frac[vendor]`` for a vendor listed there) and the high
    end the mode: a list price is the most a buyer pays. ``ranges`` gives a platform its own
    ``(low, high)`` (a price with a published range), widened to include the mode.

    Parameters
    ----------
    platforms : pandas.DataFrame
        From :func:`serving_platforms`.
    low_frac : float
        Low end of the price as a share of the list price, in (0, 1]. [fraction]
    vendor_low_frac : dict, optional
        ``{vendor: fraction}``.
    ranges : dict, optional
        ``{name: (low_usd, high_usd)}``.

    Returns
    -------
    pandas.DataFrame
        Index: the priced platforms; ``low_usd``, ``mode_usd``, ``high_usd``. [USD]
    """
    priced = platforms[platforms["priced"]]
    mode = priced["purchase_usd"].astype(float)
    frac = priced["vendor"].map(vendor_low_frac or {}).fillna(low_frac).astype(float)
    fraction("low_frac", frac.to_numpy(), allow_zero=False)
    out = pd.DataFrame({"low_usd": frac * mode, "mode_usd": mode, "high_usd": mode})
    for name, (lo, hi) in (ranges or {}).items():
        if name in out.index:
            out.loc[name, "low_usd"] = min(float(lo), mode[name])
            out.loc[name, "high_usd"] = max(float(hi), mode[name])
    return out


def platform_price_band(load, platforms, prices, utilization_grid_frac, *, n_samples, seed,
                        life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh,
                        hosting_opex_frac=0.0):
    """$/Mtok of each priced platform over a triangular purchase price, at each utilization.

    :func:`econ.monte_carlo` of :func:`econ.owned_usd_per_mtok` with the purchase price drawn
    from ``triangular(low, mode, high)`` per platform (platform ``i`` on seed ``seed + i``; a
    price whose range is one point is fixed) and every utilization evaluated on the same
    samples.

    Parameters
    ----------
    load : pandas.DataFrame
        From :func:`serve_load` at one batch (one row per platform).
    platforms : pandas.DataFrame
        From :func:`serving_platforms`.
    prices : pandas.DataFrame
        From :func:`purchase_price_range`: the platforms sampled.
    utilization_grid_frac : array-like
        Utilizations, each in (0, 1]. [fraction]
    n_samples, seed : int
        Samples per platform and utilization; the random seed.
    life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh, hosting_opex_frac
        As in :func:`econ.owned_usd_per_hour`.

    Returns
    -------
    pandas.DataFrame
        ``platform``, ``sample``, ``utilization_frac``, ``purchase_usd`` [USD],
        ``cost_usd_per_mtok`` [USD/Mtok].
    """
    over = grid(utilization_frac=np.asarray(utilization_grid_frac, dtype=float))
    at = load.set_index("platform")
    frames = []
    for i, (name, p) in enumerate(prices.iterrows()):
        row = platforms.loc[name]
        price = (triangular(p["low_usd"], p["mode_usd"], p["high_usd"])
                 if p["high_usd"] > p["low_usd"] else fixed(float(p["mode_usd"])))
        s = monte_carlo(
            owned_usd_per_mtok, {"purchase_usd": price},
            n_samples=n_samples, seed=seed + i, over=over, output="cost_usd_per_mtok",
            constants=dict(hardware=row, throughput_tok_per_s=float(at.loc[name,
                                                                            "decode_tok_per_s"]),
                           n_systems=float(at.loc[name, "systems_count"]), life_years=life_years,
                           cost_of_capital_frac=cost_of_capital_frac, pue_ratio=pue_ratio,
                           electricity_usd_per_kwh=electricity_usd_per_kwh,
                           hosting_opex_frac=hosting_opex_frac,
                           system_overhead_frac=float(row["system_overhead_frac"]),
                           power_overhead_frac=float(row["power_overhead_frac"])))
        frames.append(s.assign(platform=name))
    return pd.concat(frames, ignore_index=True)[["platform", "sample", "utilization_frac",
                                                 "purchase_usd", "cost_usd_per_mtok"]]


def break_even_band(samples, reference, utilization_frac, quantiles=(0.05, 0.5, 0.95)):
    """Break-even utilization of each platform against a reference, sample by sample.

    For each sample, a platform's $/Mtok at full use over the reference's at
    ``utilization_frac`` (:func:`econ.break_even_utilization_frac`); independent price draws.

    Parameters
    ----------
    samples : pandas.DataFrame
        From :func:`platform_price_band`; must hold utilization 1.
    reference : str
        The platform matched (the GPU node).
    utilization_frac : float
        The reference's utilization, in (0, 1]. [fraction]
    quantiles : sequence of float
        Probabilities reported (columns ``p5``, ``p50``, ``p95``).

    Returns
    -------
    pandas.DataFrame
        Index: the other platforms; the quantile columns [fraction] and
        ``share_of_samples_reachable_frac`` (break-even at most 1). [fraction]
    """
    u = float(fraction("utilization_frac", utilization_frac, allow_zero=False))
    full = samples[np.isclose(samples["utilization_frac"], 1.0)]
    if full.empty:
        raise ValueError("break_even_band: the samples hold no utilization_frac of 1")
    wide = full.pivot(index="sample", columns="platform", values="cost_usd_per_mtok")
    if reference not in wide.columns:
        raise KeyError(f"break_even_band: no samples of the reference {reference!r}; have "
                       f"{list(wide.columns)}")
    others = wide.drop(columns=reference)
    be = break_even_utilization_frac(others, np.asarray(wide[reference])[:, None] / u)
    be = pd.DataFrame(be, index=others.index, columns=others.columns)
    out = be.quantile(list(quantiles)).T
    out.columns = [f"p{100 * q:g}" for q in quantiles]
    out["share_of_samples_reachable_frac"] = (be <= 1.0).mean()
    out.index.name = "platform"
    return out


def api_price_to_cost_rows(api_prices, platforms, cost_usd_per_mtok_by_platform, model,
                           aliases=None):
    """Result rows: a provider's output list price over the modelled cost on its own hardware.

    A row of ``api_prices`` is used when its ``provider`` is the ``vendor`` of a priced
    platform and its ``model`` (through ``aliases``: a model served under another name with
    the same architecture) is ``model``.

    Parameters
    ----------
    api_prices : pandas.DataFrame
        ``econ.data.load("api_prices")``.
    platforms : pandas.DataFrame
        From :func:`serving_platforms`.
    cost_usd_per_mtok_by_platform : pandas.Series
        Modelled $/Mtok, indexed by platform. [USD/Mtok]
    model : str
        The model served.
    aliases : dict, optional
        ``{api model name: models key}``.

    Returns
    -------
    list of dict
        Rows for :func:`econ.results_frame`: metric ``api_price_to_cost_ratio``, subject the
        platform, the price row's ``source_url`` and a verdict saying which is higher.
    """
    served = api_prices["model"].map(lambda m: (aliases or {}).get(m, m))
    rows = []
    for name in cost_usd_per_mtok_by_platform.dropna().index:
        vendor = platforms.loc[name, "vendor"]
        hit = api_prices[(api_prices["provider"] == vendor) & (served == model)]
        for _, price in hit.iterrows():
            ratio = float(price["output_usd_per_mtok"]) / float(
                cost_usd_per_mtok_by_platform[name])
            rows.append(dict(metric="api_price_to_cost_ratio", subject=name, value=ratio,
                             source_url=price["source_url"].split(" ; ")[0],
                             verdict=("list price above modelled cost" if ratio > 1.0
                                      else "list price below modelled cost")))
    return rows


def platform_result_rows(weights_only, costs, break_even):
    """Result rows of a platform comparison (``econ.results_frame``), NaN cells left out.

    Parameters
    ----------
    weights_only : pandas.DataFrame
        From :func:`devices_to_hold_table`: ``chips_to_hold_weights``, subject
        ``"<platform>:<model>"``.
    costs : pandas.DataFrame
        :func:`owned_serving_cost` indexed by platform, one batch: ``serving_devices_count``,
        ``serving_capex_usd``, ``serving_power_w``, ``decode_tok_per_s`` and
        ``cost_usd_per_mtok``, subject the platform.
    break_even : pandas.Series
        Break-even utilization per platform: ``break_even_utilization_frac``, with a verdict
        saying whether it is reachable (at most 1).

    Returns
    -------
    list of dict
    """
    rows = [dict(metric="chips_to_hold_weights", subject=f"{p}:{m}", value=float(v))
            for (m, p), v in weights_only.stack().items() if np.isfinite(v)]
    names = {"serving_devices_count": "devices_count", "serving_capex_usd": "capex_usd",
             "serving_power_w": "it_power_w", "decode_tok_per_s": "decode_tok_per_s",
             "cost_usd_per_mtok": "cost_usd_per_mtok"}
    for metric, col in names.items():
        rows += [dict(metric=metric, subject=str(p), value=float(v))
                 for p, v in costs[col].items() if np.isfinite(v)]
    rows += [dict(metric="break_even_utilization_frac", subject=str(p), value=float(v),
                  verdict=("cheaper than the GPU node above this utilization" if v <= 1.0
                           else "never cheaper than the GPU node"))
             for p, v in break_even.items() if np.isfinite(v)]
    return rows
