"""Test-time compute and distillation: what a reasoning answer costs, and a distilled model.

Reasoning models bill their chain of thought as output tokens, so test-time compute moves cost
from training to inference, per question. This module prices:

- one answered question at three price bases (:func:`question_price_bases`: o1's and R1's
  list prices, and DeepSeek's own serving cost from its published per-node rates), its share
  that is reasoning (:func:`question_cost_table`) and a Monte Carlo band over prompt and
  answer lengths (:func:`question_cost_band`);
- the inference share of a model's lifetime spend as traffic grows and reasoning multiplies
  the output (:func:`lifetime_share_grid`);
- a distilled 8B model on one owned consumer GPU against the 671B model on rented H800s, in
  $/Mtok, from the calibrated engine and from DeepSeek's measured rate
  (:func:`distill_serving_table`, :func:`distill_batch_sweep`);
- generating the distillation samples and fine-tuning on them, and the ladder of bills from
  TinyZero's reproduction to V3's final run (:func:`distillation_cost_table`,
  :func:`reasoning_cost_ladder`).

References
----------
.. [1] DeepSeek-AI, "DeepSeek-R1", arXiv:2501.12948, §2.3.3 (800k samples), §2.4 (distillation).
.. [2] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
   github.com/deepseek-ai/open-infra-index, 2025-03-01.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import fraction, nonnegative, positive
from .amortization import useful_usd_per_hour
from .inference import decode_step, hardware_peak_flop_per_s
from .pricing import cost_usd_per_mtok, question_cost_usd, serving_cost_usd
from .sensitivity import grid, lognormal_from_range, monte_carlo, summarize
from .training import (
    lifetime_inference_share_frac,
    model_training_flop,
    scaled_serving_usd_per_day,
    serving_output_share_frac,
    training_cost_usd,
    training_gpu_hours,
)

__all__ = ["DISTILL_MODEL", "DISTILL_HARDWARE", "question_price_bases", "question_cost_table",
           "question_cost_band", "lifetime_share_grid", "distill_serving_table",
           "distill_batch_sweep", "distillation_cost_table", "reasoning_cost_ladder",
           "REASONING_CLAIMS", "reasoning_result_rows"]

#: The distilled model and the consumer GPU it runs on (keys of data/models.csv, hardware.csv).
DISTILL_MODEL, DISTILL_HARDWARE = "deepseek-r1-distill-llama-8b", "rtx-4090"
#: Devices of R1's expert-parallel decode unit on H800s (18 nodes of 8, DeepSeek's Day 6).
_R1_DECODE_DEVICES = 144


def _pub():
    pub = data.load("published")
    return pub["value"].astype(float), pub["source_url"].str.split(" ; ").str[0]


def _first_source(table, key):
    return str(data.load(table).loc[key, "source_url"]).split(" ; ")[0]


def question_price_bases(usd_per_gpu_hour):
    """Prices of an input and an output token on three bases.

    ``o1 API`` and ``R1 API``: list prices (``data/api_prices.csv``); ``R1 serving cost``:
    what DeepSeek's H800 nodes cost per token at ``usd_per_gpu_hour``, over the per-node
    prefill and decode rates DeepSeek published for 27-28 Feb 2025 [2]_ (cache hits included
    in prefill, MTP and expert parallelism in decode), with no idle time.

    Parameters
    ----------
    usd_per_gpu_hour : float
        Price of one H800 GPU-hour. [USD/h]

    Returns
    -------
    pandas.DataFrame
        ``basis``, ``input_usd_per_mtok``, ``output_usd_per_mtok`` [USD/Mtok], ``source_url``.
    """
    price = float(positive("usd_per_gpu_hour", usd_per_gpu_hour))
    v, src = _pub()
    api = data.load("api_prices")
    node = price * v["deepseek-day6-gpus-per-node"]
    return pd.DataFrame({
        "basis": ["o1 API", "R1 API", "R1 serving cost"],
        "input_usd_per_mtok": [api.loc["openai-o1", "input_usd_per_mtok"],
                               api.loc["deepseek-r1", "input_usd_per_mtok"],
                               cost_usd_per_mtok(node,
                                                 v["deepseek-day6-prefill-tok-per-s-per-node"])],
        "output_usd_per_mtok": [api.loc["openai-o1", "output_usd_per_mtok"],
                                api.loc["deepseek-r1", "output_usd_per_mtok"],
                                cost_usd_per_mtok(node,
                                                  v["deepseek-day6-decode-tok-per-s-per-node"])],
        "source_url": [_first_source("api_prices", "openai-o1"),
                       _first_source("api_prices", "deepseek-r1"),
                       src["deepseek-day6-decode-tok-per-s-per-node"]],
    })


def question_cost_table(bases, prompt_tok, answer_tok, reasoning_tok):
    """Cost of one answered question on each price basis, and the share that is reasoning.

    Parameters
    ----------
    bases : pandas.DataFrame
        :func:`question_price_bases`.
    prompt_tok, answer_tok, reasoning_tok : float
        Tokens of the prompt, the visible answer and the reasoning. [tokens]

    Returns
    -------
    pandas.DataFrame
        ``bases`` plus ``question_cost_usd``, ``no_reasoning_question_cost_usd`` [USD] and
        ``reasoning_cost_frac`` (1 - without / with reasoning) [fraction].
    """
    q = question_cost_usd(prompt_tok, answer_tok, reasoning_tok, bases["input_usd_per_mtok"],
                          bases["output_usd_per_mtok"])
    q0 = question_cost_usd(prompt_tok, answer_tok, 0.0, bases["input_usd_per_mtok"],
                           bases["output_usd_per_mtok"])
    frac = (1.0 - q0 / q.where(q > 0)).fillna(0.0)
    return bases.assign(question_cost_usd=q, no_reasoning_question_cost_usd=q0,
                        reasoning_cost_frac=frac)


def question_cost_band(bases, reasoning_levels_tok, prompt_tok, answer_tok, length_spread_ratio,
                       *, n_samples=10_000, seed=0):
    """Monte Carlo band of a question's cost per basis and reasoning length.

    Prompt and answer lengths are drawn log-normally, each with its 90% interval a factor
    ``length_spread_ratio`` either side of the given length (a length of 0 stays 0), on the
    same samples for every basis and reasoning length (common random numbers).

    Parameters
    ----------
    bases : pandas.DataFrame
        :func:`question_price_bases`.
    reasoning_levels_tok : array-like
        Reasoning lengths to evaluate. [tokens]
    prompt_tok, answer_tok : float
        Central prompt and answer lengths. [tokens]
    length_spread_ratio : float
        Factor either side of the central length, > 1. [ratio]

    Returns
    -------
    pandas.DataFrame
        :func:`econ.summarize` of ``question_cost_usd`` by ``reasoning_tok`` and ``basis``.
    """
    spread = float(positive("length_spread_ratio", length_spread_ratio))
    if spread <= 1.0:
        raise ValueError(f"length_spread_ratio must be > 1, got {length_spread_ratio!r}")

    def dist(n):
        return lognormal_from_range(n / spread, n * spread) if n > 0 else 0.0

    over = grid(reasoning_tok=np.unique(np.asarray(reasoning_levels_tok, dtype=float)),
                basis=bases["basis"]).merge(
        bases[["basis", "input_usd_per_mtok", "output_usd_per_mtok"]], on="basis")
    mc = monte_carlo(question_cost_usd, dict(prompt_tok=dist(float(prompt_tok)),
                                             answer_tok=dist(float(answer_tok))),
                     over=over, n_samples=n_samples, seed=seed)
    return summarize(mc, "question_cost_usd", by=["reasoning_tok", "basis"])


def lifetime_share_grid(usd_per_gpu_hour, output_tok_ratios, traffic_ratios, *,
                        training_overhead_ratio=1.0, model_life_years=1.0):
    """Inference share of a model's lifetime spend, over traffic and output length.

    DeepSeek's serving bill of 27-28 Feb 2025 (V3 and R1 together, its published nodes at
    ``usd_per_gpu_hour``) scaled by traffic, its output share of node-time
    (:func:`econ.serving_output_share_frac`) multiplied by the output ratio
    (:func:`econ.scaled_serving_usd_per_day`), served ``model_life_years`` against V3's final
    run times ``training_overhead_ratio`` (:func:`econ.lifetime_inference_share_frac`).

    Parameters
    ----------
    usd_per_gpu_hour : float
        Price of one GPU-hour, for serving and training alike. [USD/h]
    output_tok_ratios, traffic_ratios : array-like
        Output tokens per request and requests per day, relative to that day. [ratio]
    training_overhead_ratio : float, default 1
        All training compute over the final run, >= 1. [ratio]
    model_life_years : float, default 1
        Years the model is served. [years]

    Returns
    -------
    pandas.DataFrame
        One row per combination: ``output_tok_ratio``, ``traffic_ratio``,
        ``serving_usd_per_day`` [USD/day], ``training_usd`` [USD],
        ``lifetime_inference_share_frac`` [fraction], ``traffic`` (a label).
    """
    v, _ = _pub()
    over = float(positive("training_overhead_ratio", training_overhead_ratio))
    day = serving_cost_usd(v["deepseek-day6-average-nodes"], v["deepseek-day6-gpus-per-node"],
                           24.0, usd_per_gpu_hour)
    share = serving_output_share_frac(
        v["deepseek-day6-input-tok-per-day"], v["deepseek-day6-output-tok-per-day"],
        v["deepseek-day6-prefill-tok-per-s-per-node"],
        v["deepseek-day6-decode-tok-per-s-per-node"])
    train = training_cost_usd(v["deepseek-v3-training-gpu-hours"], usd_per_gpu_hour) * over
    g = grid(output_tok_ratio=np.unique(np.asarray(output_tok_ratios, dtype=float)),
             traffic_ratio=np.unique(np.asarray(traffic_ratios, dtype=float)))
    g["serving_usd_per_day"] = scaled_serving_usd_per_day(day, g["traffic_ratio"],
                                                          g["output_tok_ratio"], share)
    g["training_usd"] = float(train)
    g["lifetime_inference_share_frac"] = lifetime_inference_share_frac(
        g["training_usd"], g["serving_usd_per_day"], model_life_years)
    g["traffic"] = g["traffic_ratio"].map("{:g}x DeepSeek's Feb 2025".format)
    return g


def _r1_engine(precision, context_tok, n_per_device):
    v, _ = _pub()
    return decode_step("deepseek-r1", "h800-sxm", precision,
                       np.asarray(n_per_device, dtype=float) * _R1_DECODE_DEVICES, context_tok,
                       n_devices=_R1_DECODE_DEVICES, draft_depth=1,
                       acceptance_frac=v["deepseek-v3-mtp-acceptance"])


def distill_serving_table(device_usd_per_hour, usd_per_gpu_hour, utilization_frac, precision,
                          context_tok, batches_per_device=(1, 2, 4, 8, 16, 32, 64, 128, 256)):
    """A distilled 8B on one owned consumer GPU against R1 on rented H800s, per output token.

    - **8B**: :data:`DISTILL_MODEL` on one :data:`DISTILL_HARDWARE`, as many sequences as fit
      at ``context_tok``, the calibrated kernel-level step (:func:`econ.decode_step`), at the
      device's owned cost per useful hour;
    - **R1 measured**: DeepSeek's published decode rate per H800 node over its GPUs, at
      ``usd_per_gpu_hour`` (a rental, so no idle time is charged);
    - **R1 engine**: R1 on an expert-parallel unit of 144 H800s with MTP at V3's published
      acceptance, the calibrated step (no communication), at the busiest batch per device of
      ``batches_per_device`` that still gives each user DeepSeek's published low end of speed.

    Parameters
    ----------
    device_usd_per_hour : float
        Owned cost of the consumer GPU per wall-clock hour. [USD/h]
    usd_per_gpu_hour : float
        Rental price of an H800 GPU-hour. [USD/h]
    utilization_frac : float
        Share of the owned GPU's hours doing paid work, in (0, 1]. [fraction]
    precision : str
        Weight precision of both models.
    context_tok : float
        KV length each decoded token attends to. [tokens]

    Returns
    -------
    pandas.DataFrame
        Index ``distill``, ``r1-measured``, ``r1-engine``; ``setup`` (a label),
        ``usd_per_device_hour`` (per useful hour) [USD/h], ``n_sequences`` (per device) [-],
        ``decode_tok_per_s`` (per device), ``decode_tok_per_s_per_user`` [tokens/s],
        ``cost_usd_per_mtok`` [USD/Mtok].

    Raises
    ------
    ValueError
        No batch of ``batches_per_device`` keeps R1's users at that speed.
    """
    v, _ = _pub()
    own = useful_usd_per_hour(device_usd_per_hour, utilization_frac)
    d = decode_step(DISTILL_MODEL, DISTILL_HARDWARE, precision, None, context_tok)
    b = np.asarray(batches_per_device, dtype=float)
    r1 = _r1_engine(precision, context_tok, b)
    slowest = float(data.load("published").loc["deepseek-day6-per-user-output-tok-per-s",
                                                "low"])
    ok = r1["decode_tok_per_s_per_user"] >= slowest
    if not np.any(ok):
        raise ValueError("batches_per_device: no batch keeps R1's users at DeepSeek's published "
                         f"speed; got {list(b)}")
    i = int(np.flatnonzero(ok)[np.argmax(r1["decode_tok_per_s"][ok])])
    measured = v["deepseek-day6-decode-tok-per-s-per-node"] / v["deepseek-day6-gpus-per-node"]
    per_user = v["deepseek-day6-per-user-output-tok-per-s"]
    out = pd.DataFrame({
        "setup": [f"8B distill, 1 {DISTILL_HARDWARE} (owned, engine)",
                  "R1 671B, H800 (rented, DeepSeek measured)",
                  f"R1 671B, {_R1_DECODE_DEVICES} H800 (rented, engine)"],
        "usd_per_device_hour": [own, usd_per_gpu_hour, usd_per_gpu_hour],
        "n_sequences": [d["n_sequences"], np.nan, b[i]],
        "decode_tok_per_s": [d["decode_tok_per_s"], measured, r1["decode_tok_per_s"][i]],
        "decode_tok_per_s_per_user": [d["decode_tok_per_s_per_user"], per_user,
                                      r1["decode_tok_per_s_per_user"][i]],
    }, index=pd.Index(["distill", "r1-measured", "r1-engine"], name="key"))
    out["cost_usd_per_mtok"] = cost_usd_per_mtok(out["usd_per_device_hour"],
                                                 out["decode_tok_per_s"])
    return out


def distill_batch_sweep(device_usd_per_hour, usd_per_gpu_hour, utilization_frac, precision,
                        context_tok, batches_per_device=(1, 2, 4, 8, 16, 32, 64, 128, 256),
                        distill_precisions=("bf16", "fp8")):
    """Decode $/Mtok against the batch per device: the 8B at each precision (as far as its
    cache fits on the consumer GPU), R1 on the engine, and R1 as DeepSeek measured it (flat).

    Arguments as :func:`distill_serving_table`.

    Returns
    -------
    pandas.DataFrame
        Long: ``setup`` (a label), ``batch_per_device`` [-], ``cost_usd_per_mtok`` [USD/Mtok].
    """
    b = np.asarray(batches_per_device, dtype=float)
    own = useful_usd_per_hour(device_usd_per_hour, utilization_frac)
    parts = []
    for p in distill_precisions:
        s = decode_step(DISTILL_MODEL, DISTILL_HARDWARE, p, b, context_tok)
        fits = s["n_sequences"] <= s["max_concurrent_sequences"]
        parts.append(pd.DataFrame({
            "setup": f"8B distill on 1 {DISTILL_HARDWARE}, {p.upper()}",
            "batch_per_device": b[fits],
            "cost_usd_per_mtok": cost_usd_per_mtok(own, s["decode_tok_per_s"][fits])}))
    r1 = _r1_engine(precision, context_tok, b)
    parts.append(pd.DataFrame({
        "setup": f"R1 671B on {_R1_DECODE_DEVICES} H800, {precision.upper()} engine",
        "batch_per_device": b,
        "cost_usd_per_mtok": cost_usd_per_mtok(usd_per_gpu_hour, r1["decode_tok_per_s"])}))
    measured = distill_serving_table(device_usd_per_hour, usd_per_gpu_hour, utilization_frac,
                                     precision, context_tok, batches_per_device)
    parts.append(pd.DataFrame({
        "setup": "R1 671B on H800, DeepSeek measured", "batch_per_device": [b.min(), b.max()],
        "cost_usd_per_mtok": measured.loc["r1-measured", "cost_usd_per_mtok"]}))
    return pd.concat(parts, ignore_index=True)


def distillation_cost_table(usd_per_gpu_hour, prompt_tok, sample_output_tok, kept_frac,
                            sft_epochs, mfu_frac):
    """What the 800k distillation samples cost to generate, and to fine-tune the 8B on.

    Generation: ``samples / kept_frac`` samples of ``prompt_tok`` in and
    ``sample_output_tok`` out, at R1's standard and off-peak list prices and at DeepSeek's own
    serving cost (:func:`question_price_bases`). Fine-tuning: the kept samples,
    ``sft_epochs`` passes, 6 N D plus causal attention (:func:`econ.model_training_flop`) at
    ``mfu_frac`` of the H800's BF16 peak, at ``usd_per_gpu_hour``.

    Parameters
    ----------
    usd_per_gpu_hour : float
        Price of one H800 GPU-hour. [USD/h]
    prompt_tok, sample_output_tok : float
        Tokens in and out per sample. [tokens]
    kept_frac : float
        Share of generated samples kept, in (0, 1]. [fraction]
    sft_epochs : float
        Passes over the kept samples. [-]
    mfu_frac : float
        Model FLOPs utilization of the fine-tuning run, in (0, 1]. [fraction]

    Returns
    -------
    pandas.DataFrame
        One row per generation price basis (``price_basis``, ``input_usd_per_mtok``,
        ``output_usd_per_mtok``, ``distillation_data_cost_usd``), then ``Fine-tuning the 8B``
        with ``distillation_sft_cost_usd``; ``samples_count`` (generated, or kept for the
        fine-tuning) on each.
    """
    v, _ = _pub()
    kept = v["deepseek-r1-distillation-samples"]
    generated = kept / float(fraction("kept_frac", kept_frac, allow_zero=False))
    api = data.load("api_prices")
    serving = question_price_bases(usd_per_gpu_hour).set_index("basis").loc["R1 serving cost"]
    gen = pd.DataFrame({
        "price_basis": ["R1 API, standard", "R1 API, off-peak", "R1 serving cost"],
        "input_usd_per_mtok": [api.loc["deepseek-r1", "input_usd_per_mtok"],
                               api.loc["deepseek-r1-off-peak", "input_usd_per_mtok"],
                               serving["input_usd_per_mtok"]],
        "output_usd_per_mtok": [api.loc["deepseek-r1", "output_usd_per_mtok"],
                                api.loc["deepseek-r1-off-peak", "output_usd_per_mtok"],
                                serving["output_usd_per_mtok"]],
        "samples_count": generated,
    })
    gen["distillation_data_cost_usd"] = generated * question_cost_usd(
        prompt_tok, sample_output_tok, 0.0, gen["input_usd_per_mtok"], gen["output_usd_per_mtok"])
    seq = float(nonnegative("prompt_tok", prompt_tok)) + float(
        positive("sample_output_tok", sample_output_tok))
    flop = model_training_flop(DISTILL_MODEL, kept * seq * float(positive("sft_epochs",
                                                                          sft_epochs)),
                               seq / 2.0)
    hours = training_gpu_hours(flop, hardware_peak_flop_per_s("h800-sxm", "bf16"), mfu_frac)
    sft = pd.DataFrame({"price_basis": ["Fine-tuning the 8B"], "samples_count": [kept],
                        "distillation_sft_cost_usd": [training_cost_usd(hours,
                                                                        usd_per_gpu_hour)]})
    return pd.concat([gen, sft], ignore_index=True)


def reasoning_cost_ladder(usd_per_gpu_hour, distillation):
    """The bills toward a small reasoning model, smallest first: TinyZero's published
    reproduction, fine-tuning the 8B, generating its samples at R1's price, pre-training the
    8B's base (Llama 3.1 8B's published GPU-hours) and V3's final run (its published
    GPU-hours), the last two at ``usd_per_gpu_hour``.

    Parameters
    ----------
    usd_per_gpu_hour : float
        Price of one GPU-hour. [USD/h]
    distillation : pandas.DataFrame
        :func:`distillation_cost_table`.

    Returns
    -------
    pandas.DataFrame
        ``item``, ``training_cost_usd`` [USD].
    """
    v, _ = _pub()
    d = distillation.set_index("price_basis")
    return pd.DataFrame({
        "item": ["TinyZero RL reproduction (published)", "Fine-tuning the 8B on the samples",
                 "Generating the samples at R1's price",
                 "Pre-training the 8B's base (Llama 3.1 8B, published GPU-hours)",
                 "V3 final run (published GPU-hours)"],
        "training_cost_usd": [
            v["tinyzero-cost-usd"], d.loc["Fine-tuning the 8B", "distillation_sft_cost_usd"],
            d.loc["R1 API, standard", "distillation_data_cost_usd"],
            training_cost_usd(v["llama-3.1-8b-training-gpu-hours"], usd_per_gpu_hour),
            training_cost_usd(v["deepseek-v3-training-gpu-hours"], usd_per_gpu_hour)],
    })


#: Claim wording of :func:`reasoning_result_rows`, for ``econ.verdict_table``.
REASONING_CLAIMS = {
    ("question_cost_usd", "openai-o1"): "One question at o1's list prices",
    ("question_cost_usd", "deepseek-r1"): "One question at R1's list prices",
    ("question_cost_usd", "deepseek-r1:h800-sxm"): "One question at DeepSeek's own serving cost",
    ("question_cost_ratio", "o1-vs-deepseek-r1"): "o1 is 27x the price of R1, per question",
    ("reasoning_cost_frac", "deepseek-r1"): "Share of an R1 question's price that is reasoning",
    ("lifetime_inference_share_frac", "deepseek-r1"):
        "Test-time compute makes inference most of lifetime cost",
    ("cost_usd_per_mtok", f"{DISTILL_MODEL}:{DISTILL_HARDWARE}"):
        "Distilled 8B on one owned RTX 4090, per million output tokens",
    ("cost_usd_per_mtok", "deepseek-r1:h800-sxm"):
        "R1 671B on H800s as DeepSeek serves it, per million output tokens",
    ("cost_usd_per_mtok", "deepseek-r1:h800-sxm-roofline"):
        "R1 671B on 144 H800s, calibrated engine (no communication)",
    ("distill_cost_advantage_ratio", "deepseek-r1-vs-distill-llama-8b"):
        "A distilled 8B on a consumer GPU is cheaper than the 671B",
    ("distillation_data_cost_usd", "deepseek-r1"):
        "Generating the 800k distillation samples at R1's price",
    ("distillation_sft_cost_usd", DISTILL_MODEL): "Fine-tuning the 8B on them",
    ("training_cost_ratio", "deepseek-v3-vs-tinyzero"): "R1 reproduced for < $30",
}


def reasoning_result_rows(questions, question_band, reasoning_tok, inference_share_frac,
                          device_usd_per_hour, serving, distillation, ladder):
    """Result rows (``econ.results_frame``) of the test-time compute analysis.

    Parameters
    ----------
    questions : pandas.DataFrame
        :func:`question_cost_table`.
    question_band : pandas.DataFrame
        :func:`question_cost_band` (must hold ``reasoning_tok``).
    reasoning_tok : float
        The run's reasoning length. [tokens]
    inference_share_frac : float
        Inference share of lifetime spend at the run's traffic and output length. [fraction]
    device_usd_per_hour : float
        Owned cost of the consumer GPU per wall-clock hour. [USD/h]
    serving : pandas.DataFrame
        :func:`distill_serving_table`.
    distillation : pandas.DataFrame
        :func:`distillation_cost_table`.
    ladder : pandas.DataFrame
        :func:`reasoning_cost_ladder`.

    Returns
    -------
    list of dict
        Keyed as :data:`REASONING_CLAIMS`, plus ``question_cost_p5_usd`` /
        ``question_cost_p95_usd`` of R1, the owned cost of the GPU and the 8B's decode rate.
    """
    _, src = _pub()
    q = questions.set_index("basis")
    cost = q["question_cost_usd"]
    band = question_band[question_band["reasoning_tok"] == float(reasoning_tok)]
    r1_band = band.set_index("basis").loc["R1 API"]
    derived = "derived:test_time_compute"
    distill = f"{DISTILL_MODEL}:{DISTILL_HARDWARE}"
    s = serving["cost_usd_per_mtok"]
    adv = float(s["r1-measured"] / s["distill"])
    d = distillation.set_index("price_basis")
    tz = float(ladder["training_cost_usd"].iloc[-1] / ladder["training_cost_usd"].iloc[0])
    ratio = float(cost["o1 API"] / cost["R1 API"])
    return [
        dict(metric="question_cost_usd", subject="openai-o1", value=cost["o1 API"],
             source_url=q.loc["o1 API", "source_url"]),
        dict(metric="question_cost_usd", subject="deepseek-r1", value=cost["R1 API"],
             source_url=q.loc["R1 API", "source_url"]),
        dict(metric="question_cost_p5_usd", subject="deepseek-r1", value=r1_band["p5"],
             source_url=derived),
        dict(metric="question_cost_p95_usd", subject="deepseek-r1", value=r1_band["p95"],
             source_url=derived),
        dict(metric="question_cost_usd", subject="deepseek-r1:h800-sxm",
             value=cost["R1 serving cost"], source_url=q.loc["R1 serving cost", "source_url"]),
        dict(metric="question_cost_ratio", subject="o1-vs-deepseek-r1", value=ratio,
             source_url=derived,
             verdict=f"o1 costs {ratio:.0f}x R1 per question; the ratio tends to the output-price "
                     "ratio as reasoning grows"),
        dict(metric="reasoning_cost_frac", subject="deepseek-r1",
             value=q.loc["R1 API", "reasoning_cost_frac"], source_url=derived),
        dict(metric="lifetime_inference_share_frac", subject="deepseek-r1",
             value=inference_share_frac, source_url=derived,
             verdict=("most of lifetime spend is inference" if inference_share_frac > 0.5
                      else "most of lifetime spend is training")),
        dict(metric="owned_usd_per_hour", subject=DISTILL_HARDWARE, value=device_usd_per_hour,
             source_url=_first_source("hardware", DISTILL_HARDWARE)),
        dict(metric="decode_tok_per_s", subject=distill,
             value=serving.loc["distill", "decode_tok_per_s"], source_url=derived),
        dict(metric="cost_usd_per_mtok", subject=distill, value=s["distill"], source_url=derived),
        dict(metric="cost_usd_per_mtok", subject="deepseek-r1:h800-sxm", value=s["r1-measured"],
             source_url=src["deepseek-day6-decode-tok-per-s-per-node"]),
        dict(metric="cost_usd_per_mtok", subject="deepseek-r1:h800-sxm-roofline",
             value=s["r1-engine"], source_url=derived),
        dict(metric="distill_cost_advantage_ratio", subject="deepseek-r1-vs-distill-llama-8b",
             value=adv, source_url=derived,
             verdict=(f"the 8B on a 4090 is {adv:.1f}x cheaper per token than R1 as served"
                      if adv > 1 else
                      f"R1 as served is {1 / adv:.1f}x cheaper per token than the 8B on a 4090")),
        dict(metric="distillation_data_cost_usd", subject="deepseek-r1",
             value=d.loc["R1 API, standard", "distillation_data_cost_usd"],
             source_url=src["deepseek-r1-distillation-samples"]),
        dict(metric="distillation_sft_cost_usd", subject=DISTILL_MODEL,
             value=d.loc["Fine-tuning the 8B", "distillation_sft_cost_usd"], source_url=derived),
        dict(metric="training_cost_ratio", subject="deepseek-v3-vs-tinyzero", value=tz,
             source_url=src["tinyzero-cost-usd"],
             verdict=f"V3's final run is {tz:,.0f}x TinyZero's, which buys one task's RL on a "
                     "pre-trained small model"),
    ]
