"""A model's life in dollars: its training run, its serving, and when serving passes training.

The analysis of the ``training_vs_inference`` notebook, from the rows of
``data/published.csv`` it names (DeepSeek-V3's technical report, Llama 3.1 405B's paper and
model card, DeepSeek's Day-6 serving post):

* :func:`published_training_runs`: the published inputs of V3's and Llama 3.1 405B's runs,
  one row per model, with the model config and the device peaks;
* :func:`training_stage_costs`: V3's final run by stage, reproduced at DeepSeek's own price and
  priced at the run's;
* :func:`training_flop_conventions`, :func:`first_principles_training`: training FLOPs under
  an attention-counting convention, the GPU-hours they take at an MFU and the MFU the published
  GPU-hours imply; :func:`gpu_hours_against_mfu`: GPU-hours against the MFU assumed;
* :func:`published_serving_day`: DeepSeek's day of serving, reproduced and re-priced;
* :func:`lifetime_spend`, :func:`lifetime_share_band`: training against serving over a model's
  life (crossover day, inference share) as traffic, reasoning and research overhead change;
* :func:`training_efficiency_ratios`: "how many times more efficient" V3's training was than
  Llama 3.1 405B's, per measure;
* :func:`lifetime_results`, :data:`LIFETIME_CLAIMS`, :func:`lifetime_answer_fields`: the
  notebook's results table, the claims of its verdict table and the values of its answer.

A reproduction uses the published inputs whatever the run's parameters (DeepSeek's $2 per
GPU-hour); the run's own price is a separate ``:scenario`` row.

References
----------
.. [1] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, 2024, Table 1 and sec. 4.2.
.. [2] Llama Team, AI @ Meta, "The Llama 3 Herd of Models", arXiv:2407.21783, 2024, Table 4.
.. [3] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
   github.com/deepseek-ai/open-infra-index, 2025-03-01.
.. [4] A. Chowdhery et al., "PaLM", arXiv:2204.02311, 2022, appendix B (MFU).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import choice, fraction, like, nonnegative, positive
from .answers import compare, ranking, result
from .inference import hardware_peak_flop_per_s
from .pricing import serving_cost_usd
from .results import results_frame, verdict
from .sensitivity import grid, lognormal_from_range, monte_carlo, summarize, triangular, uniform
from .training import (
    DAYS_PER_YEAR,
    implied_mfu_frac,
    lifetime_inference_share_frac,
    model_training_flop,
    scaled_serving_usd_per_day,
    serving_node_hours,
    serving_output_share_frac,
    training_cost_usd,
    training_equivalent_serving_days,
    training_gpu_hours,
)

__all__ = [
    "ATTENTION_CONVENTIONS",
    "LIFETIME_PUBLISHED_KEYS",
    "published_training_runs",
    "training_stage_costs",
    "training_flop_conventions",
    "first_principles_training",
    "gpu_hours_against_mfu",
    "published_serving_day",
    "lifetime_spend",
    "lifetime_share_band",
    "training_efficiency_ratios",
    "lifetime_results",
    "LIFETIME_CLAIMS",
    "lifetime_answer_fields",
]

#: Share of the ``T x T`` attention score matrix each FLOP-counting convention counts:
#: none (plain ``6 N D``), the causal half (what a causal kernel computes; DeepSeek's own
#: FLOPs per token for V3), all of it (PaLM's MFU convention [4]_).
ATTENTION_CONVENTIONS = {"6ND": 0.0, "6ND + causal attention": 0.5,
                         "6ND + full attention (PaLM)": 1.0}

#: The published training runs: the device each ran on and the rows of data/published.csv each
#: input is read from (``None``: not published). ``pretraining_gpu_hours`` is the figure the
#: FLOPs are divided by: V3's pre-training stage; Llama's model card gives only its total.
_RUNS = {
    "deepseek-v3": dict(
        hardware="h800-sxm", training_tok="deepseek-v3-training-tok",
        training_gpu_hours="deepseek-v3-training-gpu-hours",
        pretraining_gpu_hours="deepseek-v3-pretraining-gpu-hours",
        rental_usd_per_hour="deepseek-v3-rental-usd-per-hour",
        published_training_flop=None, published_mfu_frac=None),
    "llama-3.1-405b": dict(
        hardware="h100-sxm", training_tok="llama-3.1-405b-training-tok",
        training_gpu_hours="llama-3.1-405b-training-gpu-hours",
        pretraining_gpu_hours="llama-3.1-405b-training-gpu-hours",
        rental_usd_per_hour=None,
        published_training_flop="llama-3.1-405b-training-flop",
        published_mfu_frac="llama-3.1-405b-mfu"),
}
_V3, _LLAMA, _DAY6 = "deepseek-v3", "llama-3.1-405b", "deepseek-day6"
_VS = f"{_LLAMA}-vs-{_V3}"

#: V3's stages [1]_: label, GPU-hours row, published cost row.
_STAGES = [
    ("pre-training", "deepseek-v3-pretraining-gpu-hours", "deepseek-v3-pretraining-cost-usd"),
    ("context extension", "deepseek-v3-context-extension-gpu-hours",
     "deepseek-v3-context-extension-cost-usd"),
    ("post-training", "deepseek-v3-post-training-gpu-hours", "deepseek-v3-post-training-cost-usd"),
    ("full run", "deepseek-v3-training-gpu-hours", "deepseek-v3-training-cost-usd"),
]

#: DeepSeek's day of 27-28 Feb 2025 [3]_: field -> row of data/published.csv.
_DAY = dict(
    average_nodes="deepseek-day6-average-nodes",
    gpus_per_node_devices="deepseek-day6-gpus-per-node",
    rental_usd_per_hour="deepseek-day6-rental-usd-per-hour",
    published_serving_usd_per_day="deepseek-day6-serving-cost-usd-per-day",
    input_tok="deepseek-day6-input-tok-per-day", output_tok="deepseek-day6-output-tok-per-day",
    prefill_tok_per_s="deepseek-day6-prefill-tok-per-s-per-node",
    decode_tok_per_s="deepseek-day6-decode-tok-per-s-per-node",
)

#: Rows of data/published.csv this analysis reads (the notebook shows them with their sources).
LIFETIME_PUBLISHED_KEYS = sorted({k for r in _RUNS.values() for f, k in r.items()
                         if f != "hardware" and k is not None}
                        | {k for _, h, c in _STAGES for k in (h, c)} | set(_DAY.values())
                        | {"deepseek-v3-rental-usd-per-hour",
                           "deepseek-v3-per-trillion-tok-gpu-hours"})


def _values(published, keys):
    """``{field: value}`` of the named rows of the published table, with a clear error."""
    if not isinstance(published, pd.DataFrame) or "value" not in published.columns:
        raise ValueError("published must be the table econ.data.load('published'), got "
                         f"{type(published).__name__}")
    missing = sorted(k for k in keys.values() if k is not None and k not in published.index)
    if missing:
        raise KeyError(f"published: no row {missing[0]!r} (rows read: {missing})")
    return {f: (np.nan if k is None else float(published.at[k, "value"]))
            for f, k in keys.items()}


def _source(published, key):
    """First (primary) source address of a published row."""
    return str(published.at[key, "source_url"]).split(" ; ")[0]


def published_training_runs(published, context_tok):
    """The published inputs of V3's and Llama 3.1 405B's training runs, one row per model.

    Parameters
    ----------
    published : pandas.DataFrame
        ``econ.data.load("published")``.
    context_tok : mapping or pandas.Series
        Sequence length each model was pre-trained at, by model key (V3 4,096 [1]_, Llama
        3.1 405B 8,192 [2]_: parameters of the notebook). [tokens]

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``hardware``, ``training_tok`` [tokens], ``context_tok`` [tokens],
        ``training_gpu_hours`` (the whole published run), ``pretraining_gpu_hours`` (the figure
        the FLOPs are divided by: V3's pre-training stage, Llama's only published total),
        ``later_stage_gpu_hours`` (the rest of the run; NaN where only a total is published)
        [GPU-hours], ``rental_usd_per_hour`` (the price the run was costed at; NaN where
        none) [USD/h], ``published_training_flop`` [FLOP], ``published_mfu_frac`` and
        ``published_mfu_precision`` (the MFU reported while training, and the peak it is of;
        NaN/None where none), ``active_params``, ``total_params`` [parameters],
        ``peak_bf16_flop_per_s``, ``peak_fp8_flop_per_s`` [FLOP/s].
    """
    ctx = pd.Series(context_tok, dtype=float) if not isinstance(context_tok, pd.Series) \
        else context_tok.astype(float)
    missing = [m for m in _RUNS if m not in ctx.index]
    if missing:
        raise KeyError(f"context_tok: give the pre-training context of {missing}")
    positive("context_tok", ctx.reindex(list(_RUNS)))
    rows = {}
    for model, keys in _RUNS.items():
        v = _values(published, {f: k for f, k in keys.items() if f != "hardware"})
        mfu_key = keys["published_mfu_frac"]
        rows[model] = dict(
            hardware=keys["hardware"], training_tok=v["training_tok"],
            context_tok=float(ctx[model]), training_gpu_hours=v["training_gpu_hours"],
            pretraining_gpu_hours=v["pretraining_gpu_hours"],
            later_stage_gpu_hours=(np.nan if keys["pretraining_gpu_hours"]
                                   == keys["training_gpu_hours"]
                                   else v["training_gpu_hours"] - v["pretraining_gpu_hours"]),
            rental_usd_per_hour=v["rental_usd_per_hour"],
            published_training_flop=v["published_training_flop"],
            published_mfu_frac=v["published_mfu_frac"],
            published_mfu_precision=(None if mfu_key is None
                                     else str(published.at[mfu_key, "metric"]).split("_")[0]))
    runs = pd.DataFrame.from_dict(rows, orient="index")
    runs.index.name = "model"
    models = data.load("models").loc[runs.index]
    runs["active_params"] = models["active_params"].astype(float)
    runs["total_params"] = models["total_params"].astype(float)
    hardware = data.load("hardware").loc[runs["hardware"]]
    for p in ("bf16", "fp8"):
        runs[f"peak_{p}_flop_per_s"] = np.asarray(hardware_peak_flop_per_s(hardware, p),
                                                  dtype=float)
    return runs


def training_stage_costs(published, usd_per_gpu_hour):
    """V3's final run by stage: published GPU-hours and cost, reproduced, and at a price.

    Parameters
    ----------
    published : pandas.DataFrame
        ``econ.data.load("published")``.
    usd_per_gpu_hour : float
        The run's price per GPU-hour. [USD/h]

    Returns
    -------
    pandas.DataFrame
        One row per stage (pre-training, context extension, post-training, full run):
        ``stage``, ``gpu_hours`` [GPU-hours], ``published_cost_usd``, ``training_cost_usd``
        (the GPU-hours at DeepSeek's own rental price: the reproduction, whatever
        ``usd_per_gpu_hour``) and ``scenario_training_cost_usd`` (at ``usd_per_gpu_hour``)
        [USD].

    References
    ----------
    .. [1] DeepSeek-AI, arXiv:2412.19437, 2024, Table 1.
    """
    price = float(nonnegative("usd_per_gpu_hour", usd_per_gpu_hour))
    hours = _values(published, {s: h for s, h, _ in _STAGES})
    costs = _values(published, {s: c for s, _, c in _STAGES})
    deepseek_usd_per_gpu_hour = _values(published, {"p": "deepseek-v3-rental-usd-per-hour"})["p"]
    stages = pd.DataFrame({"stage": list(hours), "gpu_hours": list(hours.values()),
                           "published_cost_usd": list(costs.values())})
    stages["training_cost_usd"] = training_cost_usd(stages["gpu_hours"], deepseek_usd_per_gpu_hour)
    stages["scenario_training_cost_usd"] = training_cost_usd(stages["gpu_hours"], price)
    return stages


def _flop_and_mfu(runs, attention_context_frac):
    """Training FLOPs of each run at a share of its context, and the MFU its hours imply."""
    models = data.load("models").loc[runs.index]
    flop = model_training_flop(models, runs["training_tok"],
                               runs["context_tok"] * attention_context_frac)
    out = pd.DataFrame({"training_flop": flop}, index=runs.index)
    for p in ("bf16", "fp8"):
        out[f"implied_{p}_mfu_frac"] = implied_mfu_frac(flop, runs["pretraining_gpu_hours"],
                                                        runs[f"peak_{p}_flop_per_s"])
    out["full_run_implied_bf16_mfu_frac"] = implied_mfu_frac(
        flop, runs["training_gpu_hours"], runs["peak_bf16_flop_per_s"])
    return out


def training_flop_conventions(runs, conventions=None):
    """Training FLOPs and implied MFU of each run under each attention-counting convention.

    ``6 N D`` (N active parameters, D tokens) leaves out the attention score and value
    matmuls; how much of them to count is a convention (:data:`ATTENTION_CONVENTIONS`). The
    implied MFU divides the FLOPs by the published GPU-hours x 3600 x the device's dense peak
    (:func:`econ.implied_mfu_frac`), against the BF16 and the FP8 peak.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`published_training_runs`.
    conventions : mapping, optional
        ``{label: attention_context_frac}``; default :data:`ATTENTION_CONVENTIONS`. [fraction]

    Returns
    -------
    pandas.DataFrame
        One row per convention and model: ``convention``, ``attention_context_frac``,
        ``model``, ``training_flop`` [FLOP], ``implied_bf16_mfu_frac``,
        ``implied_fp8_mfu_frac`` (of the pre-training GPU-hours) and
        ``full_run_implied_bf16_mfu_frac`` (of the whole run's) [fraction].

    References
    ----------
    .. [1] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B.
    """
    conventions = dict(ATTENTION_CONVENTIONS if conventions is None else conventions)
    if not conventions:
        raise ValueError("conventions must name at least one attention_context_frac")
    frac = np.array(list(conventions.values()), dtype=float)
    fraction("attention_context_frac", frac)
    table = grid(convention=list(conventions), model=list(runs.index))
    table.insert(1, "attention_context_frac", np.repeat(frac, len(runs)))
    reps = runs.loc[table["model"]].reset_index(drop=True)
    reps.index = table["model"].to_numpy()
    got = _flop_and_mfu(reps, table["attention_context_frac"].to_numpy())
    return pd.concat([table, got.reset_index(drop=True)], axis=1)


def first_principles_training(runs, attention_context_frac, mfu_frac, mfu_peak_precision):
    """Each run's GPU-hours from its FLOPs at an MFU, against its published GPU-hours.

    A run with a published MFU (Llama 3.1 405B: 38-43 % of the BF16 peak while training [2]_)
    is estimated at that MFU; the others (V3) at the assumed ``mfu_frac`` of the
    ``mfu_peak_precision`` peak.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`published_training_runs`.
    attention_context_frac : float
        Share of the attention score matrix counted (:data:`ATTENTION_CONVENTIONS`). [fraction]
    mfu_frac : float
        Assumed MFU of runs that publish none, in (0, 1]. [fraction]
    mfu_peak_precision : {"bf16", "fp8"}
        Peak that ``mfu_frac`` is quoted against.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``training_flop``, ``published_training_flop`` [FLOP],
        ``peak_precision``, ``mfu_frac`` [fraction], ``training_gpu_hours_estimated``,
        ``published_gpu_hours`` (the pre-training figure the estimate compares with)
        [GPU-hours], ``implied_bf16_mfu_frac``, ``implied_fp8_mfu_frac`` [fraction],
        ``estimate_over_published_ratio`` [ratio], ``estimated_run_gpu_hours`` (the estimate
        plus the published later stages) [GPU-hours] and ``estimated_run_cost_usd`` (those at
        the run's published rental price; NaN where none) [USD].

    References
    ----------
    .. [1] DeepSeek-AI, arXiv:2412.19437, 2024.
    .. [2] Llama Team, arXiv:2407.21783, 2024, Table 4.
    """
    frac = float(fraction("attention_context_frac", attention_context_frac))
    fraction("mfu_frac", mfu_frac, allow_zero=False)
    choice("mfu_peak_precision", mfu_peak_precision, ("bf16", "fp8"))
    got = _flop_and_mfu(runs, frac)
    has_mfu = runs["published_mfu_frac"].notna()
    precision = runs["published_mfu_precision"].where(has_mfu, mfu_peak_precision)
    mfu = runs["published_mfu_frac"].where(has_mfu, float(mfu_frac))
    peak = np.where(precision == "fp8", runs["peak_fp8_flop_per_s"], runs["peak_bf16_flop_per_s"])
    hours = training_gpu_hours(got["training_flop"], pd.Series(peak, index=runs.index), mfu)
    run_hours = hours + runs["later_stage_gpu_hours"]
    return pd.DataFrame({
        "training_flop": got["training_flop"],
        "published_training_flop": runs["published_training_flop"],
        "peak_precision": precision, "mfu_frac": mfu,
        "training_gpu_hours_estimated": hours,
        "published_gpu_hours": runs["pretraining_gpu_hours"],
        "implied_bf16_mfu_frac": got["implied_bf16_mfu_frac"],
        "implied_fp8_mfu_frac": got["implied_fp8_mfu_frac"],
        "estimate_over_published_ratio": hours / runs["pretraining_gpu_hours"],
        "estimated_run_gpu_hours": run_hours,
        "estimated_run_cost_usd": run_hours * runs["rental_usd_per_hour"],
    })


def gpu_hours_against_mfu(runs, first_principles, mfu_frac, model=_V3):
    """GPU-hours a run takes against the MFU assumed, per peak, beside its published figure.

    ``training_flop / (peak x mfu_frac x 3600)`` (:func:`econ.training_gpu_hours`) for the BF16
    and the FP8 dense peak of the run's device: the published GPU-hours cross each line at the
    MFU they imply of that peak.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`published_training_runs` (the device peaks).
    first_principles : pandas.DataFrame
        :func:`first_principles_training` (the training FLOPs and the published GPU-hours).
    mfu_frac : array-like
        MFU values, each in (0, 1]. [fraction]
    model : str
        The run (a row of both tables).

    Returns
    -------
    pandas.DataFrame
        Tidy, for a line chart: ``mfu_frac`` [fraction], ``peak_precision`` (``None`` on the
        published line), ``training_gpu_hours`` [GPU-hours] and ``line`` (its label, the
        published line's with its figure).
    """
    mfu = np.asarray(fraction("mfu_frac", mfu_frac, allow_zero=False), dtype=float).ravel()
    if model not in runs.index or model not in first_principles.index:
        raise KeyError(f"no run {model!r}; runs: {list(runs.index)}")
    peaks = pd.Series({p: runs.at[model, f"peak_{p}_flop_per_s"] for p in ("bf16", "fp8")})
    sweep = grid(mfu_frac=mfu, peak_precision=list(peaks.index))
    sweep["training_gpu_hours"] = training_gpu_hours(
        float(first_principles.at[model, "training_flop"]), sweep["peak_precision"].map(peaks),
        sweep["mfu_frac"])
    sweep["line"] = "estimate, MFU of the " + sweep["peak_precision"].str.upper() + " peak"
    published = float(first_principles.at[model, "published_gpu_hours"])
    flat = pd.DataFrame({"mfu_frac": [mfu.min(), mfu.max()], "peak_precision": None,
                         "training_gpu_hours": published,
                         "line": f"published ({published / 1e6:.3f}M GPU-hours)"})
    return pd.concat([sweep, flat], ignore_index=True)


def published_serving_day(published, usd_per_gpu_hour):
    """DeepSeek's day of V3/R1 serving: its cost reproduced and re-priced, nodes from throughput.

    Parameters
    ----------
    published : pandas.DataFrame
        ``econ.data.load("published")``.
    usd_per_gpu_hour : float
        The run's price per GPU-hour. [USD/h]

    Returns
    -------
    pandas.Series
        ``serving_usd_per_day`` (the published nodes x 24 h at DeepSeek's own price: the
        reproduction), ``published_serving_usd_per_day``, ``scenario_serving_usd_per_day``
        (at ``usd_per_gpu_hour``) [USD/day]; ``average_nodes`` (published) and
        ``average_serving_nodes`` (the day's tokens at the published per-node throughputs,
        :func:`econ.serving_node_hours` / 24) [nodes]; ``output_share_frac`` (the decode share
        of node-time, :func:`econ.serving_output_share_frac`) [fraction]; and the day's
        inputs (``gpus_per_node_devices``, ``rental_usd_per_hour``, ``input_tok``,
        ``output_tok``, ``prefill_tok_per_s``, ``decode_tok_per_s``).

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    price = float(nonnegative("usd_per_gpu_hour", usd_per_gpu_hour))
    d = _values(published, _DAY)
    traffic = {k: d[k] for k in ("input_tok", "output_tok", "prefill_tok_per_s",
                                 "decode_tok_per_s")}
    return pd.Series({
        **d,
        "serving_usd_per_day": serving_cost_usd(d["average_nodes"], d["gpus_per_node_devices"],
                                                24.0, d["rental_usd_per_hour"]),
        "scenario_serving_usd_per_day": serving_cost_usd(d["average_nodes"],
                                                         d["gpus_per_node_devices"], 24.0, price),
        "average_serving_nodes": serving_node_hours(**traffic) / 24.0,
        "output_share_frac": serving_output_share_frac(**traffic),
    }, dtype=float)


def lifetime_spend(final_run_usd, base_serving_usd_per_day, traffic_ratio=1.0,
                   output_tok_ratio=1.0, output_share_frac=0.0, training_overhead_ratio=1.0,
                   life_years=1.0):
    """Training against serving over a model's life, as traffic and reasoning change.

    Training spend is ``final_run_usd * training_overhead_ratio``; the serving bill per day is
    :func:`econ.scaled_serving_usd_per_day` of ``base_serving_usd_per_day``; the crossover is
    the day cumulative serving passes training (:func:`econ.training_equivalent_serving_days`)
    and the inference share is serving over training + serving across ``life_years``
    (:func:`econ.lifetime_inference_share_frac`).

    Parameters
    ----------
    final_run_usd : numeric
        Cost of the final training run. [USD]
    base_serving_usd_per_day : numeric
        Serving bill of the reference day, > 0. [USD/day]
    traffic_ratio : numeric
        Requests per day relative to that day. [ratio]
    output_tok_ratio : numeric
        Output tokens per request relative to that day. [ratio]
    output_share_frac : numeric
        The reference day's decode share of node-time. [fraction]
    training_overhead_ratio : numeric
        All training compute (research, ablations) over the final run, >= 0. [ratio]
    life_years : numeric
        Years the model is served. [years]

    Returns
    -------
    dict
        ``training_usd`` [USD], ``serving_usd_per_day`` [USD/day], ``crossover_days``
        [days], ``lifetime_serving_usd`` [USD] and ``lifetime_inference_share_frac``
        [fraction], each the kind of the inputs (float, array or Series).
    """
    inputs = (final_run_usd, base_serving_usd_per_day, traffic_ratio, output_tok_ratio,
              output_share_frac, training_overhead_ratio, life_years)
    training_usd = nonnegative("final_run_usd", final_run_usd) \
        * nonnegative("training_overhead_ratio", training_overhead_ratio)
    serving = scaled_serving_usd_per_day(base_serving_usd_per_day, traffic_ratio,
                                         output_tok_ratio, output_share_frac)
    years = nonnegative("life_years", life_years)
    out = {
        "training_usd": training_usd,
        "serving_usd_per_day": serving,
        "crossover_days": training_equivalent_serving_days(training_usd, serving),
        "lifetime_serving_usd": np.asarray(serving, dtype=float) * DAYS_PER_YEAR * years,
        "lifetime_inference_share_frac": lifetime_inference_share_frac(training_usd, serving,
                                                                       years),
    }
    shape = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
    return {k: like(np.broadcast_to(np.asarray(v, dtype=float), shape), *inputs)
            for k, v in out.items()}


def lifetime_share_band(final_run_usd, base_serving_usd_per_day, output_share_frac, *,
                        traffic_ratio, life_years, training_overhead_ratio, spread_ratio,
                        output_tok_ratio, n_samples=10_000, seed=0):
    """Monte Carlo band of the inference share of lifetime spend, per output length.

    Traffic over a model's life, how long it is served and how much research compute its final
    run stands for are not published. Traffic is drawn log-normally with 90 % of its mass
    within a factor ``spread_ratio`` either side of ``traffic_ratio``, the serving life
    triangularly between half and twice ``life_years`` (mode ``life_years``), and the training
    overhead uniformly between ``training_overhead_ratio`` and ``spread_ratio`` times it; every
    output length is evaluated on the same samples (:func:`econ.monte_carlo`).

    Parameters
    ----------
    final_run_usd, base_serving_usd_per_day, output_share_frac
        As in :func:`lifetime_spend`. [USD], [USD/day], [fraction]
    traffic_ratio, life_years, training_overhead_ratio : float
        Centres of the draws. [ratio], [years], [ratio]
    spread_ratio : float
        Factor of uncertainty, > 1. [ratio]
    output_tok_ratio : array-like
        Output lengths to evaluate (duplicates dropped, sorted). [ratio]
    n_samples : int
        Samples per output length.
    seed : int
        Seed of the sampler: the same seed gives the same band.

    Returns
    -------
    pandas.DataFrame
        :func:`econ.summarize` of ``lifetime_inference_share_frac`` by ``output_tok_ratio``:
        ``mean``, ``sd``, ``p5``, ``p50``, ``p95`` [fraction].
    """
    s = float(positive("spread_ratio", spread_ratio))
    if s <= 1.0:
        raise ValueError(f"spread_ratio must be > 1, got {spread_ratio!r}")
    t = float(positive("traffic_ratio", traffic_ratio))
    life = float(positive("life_years", life_years))
    o = float(nonnegative("training_overhead_ratio", training_overhead_ratio))
    out_grid = grid(output_tok_ratio=np.unique(np.asarray(output_tok_ratio, dtype=float)))
    mc = monte_carlo(
        lifetime_spend,
        inputs=dict(traffic_ratio=lognormal_from_range(t / s, t * s),
                    life_years=triangular(life / 2.0, life, life * 2.0),
                    training_overhead_ratio=uniform(o, o * s)),
        constants=dict(final_run_usd=final_run_usd,
                       base_serving_usd_per_day=base_serving_usd_per_day,
                       output_share_frac=output_share_frac),
        over=out_grid, n_samples=n_samples, seed=seed)
    return summarize(mc, "lifetime_inference_share_frac", by="output_tok_ratio")


#: Measures of :func:`training_efficiency_ratios`: metric -> label.
_MEASURES = {
    "training_gpu_hours_ratio": "GPU-hours, whole run",
    "gpu_hours_per_trillion_tok_ratio": "GPU-hours per trillion tokens",
    "gpu_hours_per_active_param_tok_ratio": "GPU-hours per active parameter-token",
    "gpu_hours_per_total_param_tok_ratio": "GPU-hours per total parameter-token",
    "training_flop_ratio": "training FLOPs (this run's convention)",
    "implied_mfu_ratio": "implied BF16 MFU (V3 over Llama)",
}


def training_efficiency_ratios(runs, first_principles, baseline=_LLAMA, candidate=_V3):
    """How many times more efficient one training run was than another, per measure.

    Each measure is the baseline's figure over the candidate's (how many times fewer
    GPU-hours, or FLOPs, the candidate used), except the implied MFU, where more is better:
    candidate over baseline. GPU-hours per token and per parameter-token use the pre-training
    GPU-hours (Llama 3.1 405B publishes only its total, so its figures are slightly high);
    devices of the same dense peak make GPU-hours comparable.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`published_training_runs`.
    first_principles : pandas.DataFrame
        :func:`first_principles_training` (training FLOPs and implied BF16 MFU).
    baseline, candidate : str
        Model keys (rows of both tables).

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure`` (label), ``metric``, the baseline's and the
        candidate's figure (columns named by their keys) and ``advantage_ratio`` [ratio].
    """
    for m in (baseline, candidate):
        if m not in runs.index or m not in first_principles.index:
            raise KeyError(f"no run {m!r}; runs: {list(runs.index)}")
    hours = runs["pretraining_gpu_hours"]
    per_run = pd.DataFrame({
        "training_gpu_hours_ratio": runs["training_gpu_hours"],
        "gpu_hours_per_trillion_tok_ratio": hours / (runs["training_tok"] / 1e12),
        "gpu_hours_per_active_param_tok_ratio": hours / (runs["active_params"]
                                                         * runs["training_tok"]),
        "gpu_hours_per_total_param_tok_ratio": hours / (runs["total_params"]
                                                        * runs["training_tok"]),
        "training_flop_ratio": first_principles["training_flop"],
        "implied_mfu_ratio": first_principles["implied_bf16_mfu_frac"],
    }).T
    table = pd.DataFrame({"measure": list(_MEASURES.values()), "metric": list(_MEASURES)})
    b = per_run.loc[table["metric"], baseline].to_numpy(dtype=float)
    c = per_run.loc[table["metric"], candidate].to_numpy(dtype=float)
    table[baseline], table[candidate] = b, c
    more_is_better = (table["metric"] == "implied_mfu_ratio").to_numpy()
    table["advantage_ratio"] = np.where(more_is_better, c / b, b / c)
    return table


#: Claims of the verdict table, keyed by (metric, subject) of :func:`lifetime_results`.
LIFETIME_CLAIMS = {
    ("training_cost_usd", _V3): "V3's final run cost (published GPU-hours x DeepSeek's price)",
    ("training_gpu_hours_estimated", _V3):
        "V3 pre-training GPU-hours from FLOPs at the assumed MFU",
    ("training_cost_usd", f"{_V3}-first-principles"):
        "V3's final run from first principles (+ published extension and post-training hours)",
    ("training_cost_usd", f"{_V3}:scenario"): "V3's final run at this run's GPU-hour price",
    ("serving_cost_usd_per_day", f"{_DAY6}:scenario"):
        "DeepSeek's day of serving at this run's GPU-hour price",
    ("implied_bf16_mfu_frac", _V3): "MFU V3's pre-training GPU-hours imply, of the H800 BF16 peak",
    ("implied_fp8_mfu_frac", _V3): "... of the H800 FP8 peak",
    ("training_gpu_hours_estimated", _LLAMA):
        "Llama 3.1 405B GPU-hours from FLOPs at its reported MFU",
    ("implied_bf16_mfu_frac", _LLAMA):
        "MFU Llama's model-card GPU-hours imply (against the MFU it reports while running)",
    ("serving_cost_usd_per_day", _DAY6): "DeepSeek's V3/R1 serving cost per day",
    ("average_serving_nodes", _DAY6): "Nodes the day's traffic needs at the published throughputs",
    ("training_equivalent_serving_days", _V3):
        "Days of DeepSeek's serving that equal V3's final run",
    ("serving_crossover_days", _V3):
        "Crossover day, this run's traffic, reasoning and training overhead",
    ("lifetime_inference_share_frac", _V3): "Most of a model's lifetime cost is inference (LeCun)",
    ("gpu_hours_per_trillion_tok_ratio", _VS):
        "V3 is \"45x more efficient\" to train (the claim): GPU-hours per token",
    ("gpu_hours_per_active_param_tok_ratio", _VS): "... per active parameter-token",
    ("gpu_hours_per_total_param_tok_ratio", _VS): "... per total parameter-token",
}


def _even_word(ratio, rel_tol=0.05):
    if abs(ratio - 1.0) <= rel_tol:
        return "about even"
    return "V3 ahead" if ratio > 1.0 else "Llama ahead"


def lifetime_results(published, stages, first_principles, day, life, band, efficiency,
                     usd_per_gpu_hour, output_tok_ratio, notebook="training_vs_inference"):
    """The results table of the training-vs-inference analysis (:func:`econ.results_frame`).

    Reproductions (``training_cost_usd/deepseek-v3``, ``serving_cost_usd_per_day/
    deepseek-day6``) use DeepSeek's own price whatever ``usd_per_gpu_hour``; the run's price
    gives the ``:scenario`` rows.

    Parameters
    ----------
    published : pandas.DataFrame
        ``econ.data.load("published")`` (published figures and their sources).
    stages : pandas.DataFrame
        :func:`training_stage_costs`.
    first_principles : pandas.DataFrame
        :func:`first_principles_training`.
    day : pandas.Series
        :func:`published_serving_day`.
    life : dict
        :func:`lifetime_spend` at the run's parameters.
    band : pandas.DataFrame
        :func:`lifetime_share_band`, holding ``output_tok_ratio``.
    efficiency : pandas.DataFrame
        :func:`training_efficiency_ratios`.
    usd_per_gpu_hour : float
        The run's price. [USD/h]
    output_tok_ratio : float
        The run's output length (its row of ``band``). [ratio]
    notebook : str
        Name written in the ``notebook`` column.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`econ.RESULT_COLUMNS`.
    """
    derived = f"derived:{notebook}"
    full = stages.set_index("stage").iloc[-1]
    v3, llama = first_principles.loc[_V3], first_principles.loc[_LLAMA]
    at = band[band["output_tok_ratio"] == float(output_tok_ratio)]
    if len(at) != 1:
        raise ValueError(f"band has no single row at output_tok_ratio={output_tok_ratio!r}")
    at = at.iloc[0]
    ratio = efficiency.set_index("metric")["advantage_ratio"]
    pub = published["value"]
    s = lambda k: _source(published, k)  # noqa: E731
    llama_hours = float(pub["llama-3.1-405b-training-gpu-hours"])
    active = float(ratio["gpu_hours_per_active_param_tok_ratio"])
    share = float(life["lifetime_inference_share_frac"])
    days = float(training_equivalent_serving_days(full["training_cost_usd"],
                                                  day["serving_usd_per_day"]))
    rows = [
        dict(metric="training_cost_usd", subject=_V3, value=full["training_cost_usd"],
             published_value=pub["deepseek-v3-training-cost-usd"],
             source_url=s("deepseek-v3-training-cost-usd"), rel_tol=0.001),
        dict(metric="training_gpu_hours_estimated", subject=_V3,
             value=v3["training_gpu_hours_estimated"],
             published_value=pub["deepseek-v3-pretraining-gpu-hours"],
             source_url=s("deepseek-v3-pretraining-gpu-hours"), rel_tol=0.1),
        dict(metric="training_cost_usd", subject=f"{_V3}-first-principles",
             value=v3["estimated_run_cost_usd"],
             published_value=pub["deepseek-v3-training-cost-usd"],
             source_url=s("deepseek-v3-training-cost-usd"), rel_tol=0.1),
        dict(metric="training_cost_usd", subject=f"{_V3}:scenario",
             value=full["scenario_training_cost_usd"], source_url=derived,
             verdict=f"scenario: the published GPU-hours at this run's ${usd_per_gpu_hour:.2f} "
                     "per GPU-hour"),
        dict(metric="serving_cost_usd_per_day", subject=f"{_DAY6}:scenario",
             value=day["scenario_serving_usd_per_day"], source_url=derived,
             verdict=f"scenario: the published day at this run's ${usd_per_gpu_hour:.2f} "
                     "per GPU-hour"),
        dict(metric="implied_bf16_mfu_frac", subject=_V3, value=v3["implied_bf16_mfu_frac"],
             source_url=derived),
        dict(metric="implied_fp8_mfu_frac", subject=_V3, value=v3["implied_fp8_mfu_frac"],
             source_url=derived),
        dict(metric="training_gpu_hours_estimated", subject=_LLAMA,
             value=llama["training_gpu_hours_estimated"], published_value=llama_hours,
             source_url=s("llama-3.1-405b-training-gpu-hours"),
             verdict=verdict(llama["training_gpu_hours_estimated"], llama_hours, 0.1)
             + " (pre-training FLOPs only; the card's total also covers long-context and "
               "post-training)"),
        dict(metric="implied_bf16_mfu_frac", subject=_LLAMA, value=llama["implied_bf16_mfu_frac"],
             published_value=pub["llama-3.1-405b-mfu"], source_url=s("llama-3.1-405b-mfu"),
             rel_tol=0.1),
        dict(metric="serving_cost_usd_per_day", subject=_DAY6, value=day["serving_usd_per_day"],
             published_value=day["published_serving_usd_per_day"],
             source_url=s("deepseek-day6-serving-cost-usd-per-day"), rel_tol=0.001),
        dict(metric="average_serving_nodes", subject=_DAY6, value=day["average_serving_nodes"],
             published_value=day["average_nodes"], source_url=s("deepseek-day6-average-nodes"),
             rel_tol=0.01),
        dict(metric="serving_output_share_frac", subject=_DAY6, value=day["output_share_frac"],
             source_url=derived),
        dict(metric="training_equivalent_serving_days", subject=_V3, value=days,
             source_url=derived,
             verdict=f"V3's final run costs {days:.0f} days of DeepSeek's Feb 2025 serving"),
        dict(metric="serving_crossover_days", subject=_V3, value=life["crossover_days"],
             source_url=derived,
             verdict=f"serving passes training after {float(life['crossover_days']):.0f} days "
                     "under this run's traffic, reasoning and overhead"),
        dict(metric="lifetime_inference_share_frac", subject=_V3, value=share, source_url=derived,
             verdict=("most of lifetime spend is inference" if share > 0.5
                      else "most of lifetime spend is training")),
        dict(metric="lifetime_inference_share_p5_frac", subject=_V3, value=at["p5"],
             source_url=derived),
        dict(metric="lifetime_inference_share_p95_frac", subject=_V3, value=at["p95"],
             source_url=derived),
        dict(metric="training_gpu_hours_ratio", subject=_VS,
             value=ratio["training_gpu_hours_ratio"],
             source_url=s("llama-3.1-405b-training-gpu-hours"),
             verdict=f"{ratio['training_gpu_hours_ratio']:.1f}x fewer GPU-hours"),
        dict(metric="gpu_hours_per_trillion_tok_ratio", subject=_VS,
             value=ratio["gpu_hours_per_trillion_tok_ratio"],
             source_url=s("deepseek-v3-per-trillion-tok-gpu-hours"),
             verdict=f"{ratio['gpu_hours_per_trillion_tok_ratio']:.1f}x fewer per token"),
        dict(metric="gpu_hours_per_active_param_tok_ratio", subject=_VS,
             value=ratio["gpu_hours_per_active_param_tok_ratio"], source_url=derived,
             verdict=f"{active:.2f}x per active parameter-token: {_even_word(active)}"),
        dict(metric="gpu_hours_per_total_param_tok_ratio", subject=_VS,
             value=ratio["gpu_hours_per_total_param_tok_ratio"], source_url=derived,
             verdict=f"{ratio['gpu_hours_per_total_param_tok_ratio']:.0f}x per total "
                     "parameter-token: the mixture-of-experts sparsity"),
    ]
    return results_frame(notebook, rows)


def lifetime_answer_fields(results, runs, first_principles, efficiency, params):
    """The values of the training-vs-inference answer (:func:`econ.answer`), from the run.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`lifetime_results`.
    runs : pandas.DataFrame
        :func:`published_training_runs`.
    first_principles : pandas.DataFrame
        :func:`first_principles_training`.
    efficiency : pandas.DataFrame
        :func:`training_efficiency_ratios`.
    params : mapping
        The notebook's parameters (``usd_per_gpu_hour``, ``mfu_frac``,
        ``mfu_peak_precision``, ``traffic_ratio``, ``output_tok_ratio``,
        ``training_overhead_ratio``, ``model_life_years``).

    Returns
    -------
    dict
        Numbers (results rows as :class:`econ.Figure`), comparison words and a ranking, by
        field name: ``hours``, ``ds_price``, ``cost``, ``pub_cost``, ``w_cost``, ``price``,
        ``scost``, ``flop``, ``mfu``, ``peak``, ``est``, ``pub_hours``, ``w_est``, ``bf16``,
        ``fp8``, ``llama``, ``l_est``, ``l_pub``, ``w_llama``, ``days``, ``day``,
        ``traffic``, ``out``, ``over``, ``cross``, ``life``, ``share``, ``p5``, ``p95``,
        ``lecun``, ``rank``, ``active``.
    """
    r = lambda metric, subject, column="value": result(results, metric, subject, column)  # noqa: E731
    cost, pub_cost = r("training_cost_usd", _V3), r("training_cost_usd", _V3, "published_value")
    est = r("training_gpu_hours_estimated", _V3)
    pub_hours = r("training_gpu_hours_estimated", _V3, "published_value")
    l_est = r("training_gpu_hours_estimated", _LLAMA)
    l_pub = r("training_gpu_hours_estimated", _LLAMA, "published_value")
    share = r("lifetime_inference_share_frac", _V3)
    labels = {"training_gpu_hours_ratio": "whole run",
              "gpu_hours_per_trillion_tok_ratio": "per trillion tokens",
              "gpu_hours_per_total_param_tok_ratio": "per total parameter-token",
              "gpu_hours_per_active_param_tok_ratio": "per active parameter-token"}
    ratio = efficiency.set_index("metric")["advantage_ratio"]
    return dict(
        hours=float(runs.at[_V3, "training_gpu_hours"]),
        ds_price=float(runs.at[_V3, "rental_usd_per_hour"]),
        cost=cost, pub_cost=pub_cost,
        w_cost=compare(cost, pub_cost, "below", "above", "reproducing", rel_tol=0.001),
        price=float(params["usd_per_gpu_hour"]),
        scost=r("training_cost_usd", f"{_V3}:scenario"),
        flop=float(first_principles.at[_V3, "training_flop"]),
        mfu=float(params["mfu_frac"]), peak=str(params["mfu_peak_precision"]).upper(),
        est=est, pub_hours=pub_hours,
        w_est=compare(est, pub_hours, "below", "above", "within a tenth of", rel_tol=0.1),
        bf16=r("implied_bf16_mfu_frac", _V3), fp8=r("implied_fp8_mfu_frac", _V3),
        llama=_LLAMA, l_est=l_est, l_pub=l_pub,
        w_llama=compare(l_est, l_pub, "below", "above", "within a tenth of", rel_tol=0.1),
        days=r("training_equivalent_serving_days", _V3),
        day=r("serving_cost_usd_per_day", _DAY6),
        traffic=float(params["traffic_ratio"]), out=float(params["output_tok_ratio"]),
        over=float(params["training_overhead_ratio"]),
        cross=r("serving_crossover_days", _V3), life=float(params["model_life_years"]),
        share=share, p5=r("lifetime_inference_share_p5_frac", _V3),
        p95=r("lifetime_inference_share_p95_frac", _V3),
        lecun=compare(share, 0.5,
                      "most of the lifetime bill is training here: LeCun's claim does not hold "
                      "under these inputs",
                      "most of the lifetime bill is inference: LeCun is right under these inputs",
                      "serving and training cost about the same", rel_tol=0.01),
        rank=ranking({f"{lab} ({ratio[m]:.1f}x)": ratio[m] for m, lab in labels.items()},
                     sep=", "),
        active=r("gpu_hours_per_active_param_tok_ratio", _VS),
    )
