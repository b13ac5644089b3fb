"""Serving as an engine runs it: ``predict_serving`` on top of the one step engine.

A step time is not yet a serving throughput. :func:`predict_serving` takes a deployment
(model, device, precision, tensor / expert / data parallel layout) and a workload (input and
output lengths, concurrency) and adds to :func:`econ.forward_step`, each from first
principles:

- **in-flight batching**: in steady state every decode step also prefills the prompts of
  the requests that replace finished ones, on average ``concurrency * isl / osl`` prompt
  tokens per step (chunked prefill sharing the step); their matmul rows, attention and KV
  writes lengthen the step (the weights are read once for both). A request's TPOT carries
  the prompts of the others' replacements, ``(c - 1) / c`` of them: its own prompt is in its
  TTFT (alone, a request's steps carry no prompt);
- **tensor-parallel all-reduce**: two per layer (after attention and after the FFN) of the
  step's activations, ``latency + 2 (tp - 1) / tp * bytes / link`` (ring all-reduce [1]_);
- **expert-parallel dispatch and combine** with data-parallel attention: each device sends
  its tokens' hidden states to the devices of their experts (FP8) and gets the results back
  (BF16), per MoE layer, over the scale-up link;
- **attention imbalance across data-parallel ranks**: with ``dp_attention`` every layer
  waits for the rank with the most sequences and the longest contexts
  (:func:`busiest_rank`);
- **host work per step**: a fixed part and a part per sequence of the step (scheduling,
  input preparation, the host side of sampling, output processing loop over the step's
  sequences);
- **sampling on the GPU** (:func:`predict_serving_with`'s ``sampler``, where the run says
  how its engine chose tokens): each device samples its sequences' rows of logits, one
  vocabulary wide, in the time recorded on a GPU (:func:`sampling_step_s`): a nucleus
  (top-p) sampler that sorts every row costs about a hundred times an argmax;
- **MTP / speculative decoding**: ``mtp_draft_tok`` drafts per step, accepted at the
  published rate of DeepSeek-V3's MTP module;
- **the engine's scheduler limits** (:func:`predict_serving_with`): a cap on requests running
  at once and a token budget per step, below which requests wait for their turn;
  :func:`engine_defaults` reads an engine release's defaults from
  ``data/engine_defaults.csv``.

TPOT is the mean time between output tokens; TTFT the prompt's own prefill plus the step it
joins; per-user speed is ``1 / TPOT`` (what InferenceX calls interactivity); output tokens
per second per device are ``concurrency * osl / (ttft + osl * tpot) / n_devices``.

The serving-level constants are rows of ``data/calibration.csv``. Fitted only to the ledger
rows that may be fitted to (``make calibrate``): the host costs of a step (fixed and per
sequence), and the share of their datasheet rate FP4 matmuls reach. Sourced: the share of
the link's bandwidth reached (DeepEP's measurement) and the share of memory an engine takes
for weights and cache (vLLM's default). The all-reduce and all-to-all latencies are 0 (the
rows' notes say why the fit rows cannot set them).

**SRAM machines** (``memory_kind == "sram"`` in ``data/hardware.csv``: Groq LPU, Cerebras
CS-3) hold every weight and the whole KV cache in on-chip SRAM spread over many chips (or
wafers), so the chip count is set by capacity, not by the load. The ``n_devices`` chips form
**one** replica: a pipeline of ``n_devices / tp`` stages, each a group of ``tp`` chips that
holds consecutive layers split tensor-parallel over it [3]_ [4]_. A token crosses every stage
in turn, so one sequence's time per token is the sum of the stage times (the step engine at
the SRAM bandwidth and the chip's peak: its parts are linear in the layers, so the sum over
stages is one :func:`econ.forward_step` over the whole model on ``tp`` chips), plus one
chip-to-chip hop per stage (``data/sram_fabric.csv``) and, for ``tp > 1``, two all-reduces
per layer inside the stage. With pipelining, up to ``n_devices / tp`` requests are in flight
in different stages at no cost to each other: per-user speed does not depend on the
concurrency until every stage is busy; beyond that, each stage runs a micro-batch of
``concurrency * tp / n_devices`` sequences and the cycle lengthens as the roofline says.

References
----------
.. [1] P. Patarasuk, X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
   workstations", JPDC 69(2), 2009.
.. [2] A. Agrawal et al., "Sarathi-Serve: taming throughput-latency tradeoff in LLM
   inference", OSDI 2024 (chunked prefill sharing decode steps).
.. [3] D. Abts et al., "A Software-defined Tensor Streaming Multiprocessor for Large-scale
   Machine Learning", ISCA 2022, doi:10.1145/3470496.3527405 (Groq: weights in the SRAM of
   many chips, statically scheduled, < 3 us end-to-end latency across the system).
.. [4] Cerebras, "Introducing Cerebras Inference: AI at Instant Speed", 2024-08-27 (Llama 3.1
   70B served from the SRAM of several CS-3 systems, 16-bit weights).
"""
from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np
import pandas as pd

from . import data
from ._checks import choice, fraction, like, nonnegative, numeric, positive
from .engine import (
    FUSED_ACT_QUANT_BYTES_PER_ELEM,
    Calibration,
    calibration,
    calibration_values,
    device_calibration,
    forward_step,
    hardware_value,
    held_bytes_per_device,
    kv_bytes_per_token_per_device,
    model_spec,
    nodes_touched,
    recorded_device_key,
    resolve_hardware,
    tokens_per_step,
)
from .units import BYTES_PER_PARAM, PEAK_FLOP_COLUMN

__all__ = ["ServingCalibration", "serving_calibration", "predict_serving", "sram_calibration",
           "busiest_rank", "inflight_context_tok", "engine_defaults",
           "is_sram", "stage_hop_latency_s", "sram_devices_to_hold", "SAMPLERS",
           "sampling_line", "sampling_step_s"]

#: Bytes of one activation element on the wire: BF16 all-reduce and combine, FP8 dispatch.
_ACT_BYTES, _DISPATCH_BYTES, _COMBINE_BYTES = (BYTES_PER_PARAM["bf16"], BYTES_PER_PARAM["fp8"],
                                               BYTES_PER_PARAM["bf16"])


@dataclasses.dataclass(frozen=True)
class ServingCalibration:
    """The serving level's fitted constants (rows of ``data/calibration.csv``).

    Attributes
    ----------
    step_overhead_s : float
        Fixed time per engine step outside the forward pass (scheduling, the host side of
        sampling). [s]
    allreduce_latency_s : float
        Latency of one small all-reduce over the scale-up link. [s]
    alltoall_latency_s : float
        Latency of one dispatch or combine over the scale-up link. [s]
    link_bandwidth_frac : float
        Share of the scale-up link's per-direction bandwidth a collective reaches. [fraction]
    memory_utilization_frac : float
        Share of a device's memory an engine takes for weights and KV cache; the rest holds
        activations, CUDA graphs, communication buffers and the runtime (vLLM's
        ``gpu_memory_utilization``). [fraction]
    fp4_matmul_frac : float
        Share of the FP4 matmul rate the step engine's shares give that a serving step's FP4
        matmuls reach (activation quantization to FP4 and block scales cost time the
        datasheet's FP4 peak does not show). [fraction]
    seq_overhead_s : float
        Host time per running sequence per engine step that the step does not hide: the
        scheduler's bookkeeping, input preparation, the host side of sampling and output
        processing loop over the sequences of a step, so a step of ``b`` sequences on one
        scheduler adds ``b * seq_overhead_s`` (vLLM's profile of Llama 3 8B on one H100 put
        host work at 62% of a step before v0.6.0 [5]_). [s]

    References
    ----------
    .. [5] vLLM team, "vLLM v0.6.0: 2.7x Throughput Improvement and 5x Latency Reduction",
       blog.vllm.ai/2024/09/05/perf-update.html, 2024-09-05.
    """

    step_overhead_s: float
    allreduce_latency_s: float
    alltoall_latency_s: float
    link_bandwidth_frac: float
    memory_utilization_frac: float = 1.0
    fp4_matmul_frac: float = 1.0
    seq_overhead_s: float = 0.0


def serving_calibration(**overrides):
    """The fitted :class:`ServingCalibration`, with overrides by name."""
    table = calibration_values()
    names = tuple(f.name for f in dataclasses.fields(ServingCalibration))
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"unknown serving constant(s) {unknown}; allowed: {list(names)}")
    missing = [n for n in names if overrides.get(n) is None and n not in table]
    if missing:
        raise ValueError(f"data/calibration.csv has no row {missing[0]!r}")
    values = {n: overrides[n] if overrides.get(n) is not None else table[n] for n in names}
    return ServingCalibration(**values)


def sram_calibration():
    """The step constants an SRAM machine is priced at: the datasheet, no fitted share.

    Every constant of ``data/calibration.csv`` was fitted to whole steps measured on Hopper
    GPUs, and each describes a GPU mechanism: the share of HBM bandwidth a matmul or the
    attention kernel streams (DRAM page and refresh losses, SM occupancy), the work at which
    decode attention fills the SMs, a fixed cost per CUDA kernel (launch gap, ramp-up and
    tail) and the ragged tiles of grouped expert matmuls. None has been measured on an SRAM
    machine, and no source gives a measured share of an LPU's or a wafer's SRAM bandwidth or
    peak, so none applies: shares of 1 (the datasheet SRAM bandwidth and dense peak), no
    half-occupancy work, no per-kernel cost (both machines run a statically compiled
    schedule, with no kernel launches [3]_ [4]_). The result is the roofline's ceiling; the
    ledger's Groq and Cerebras rows (never fitted to) show how far real serving is below it.

    Returns
    -------
    Calibration
    """
    return Calibration(gemm_bandwidth_frac=1.0, gemm_flop_frac=1.0, attention_bandwidth_frac=1.0,
                       attention_flop_frac=1.0, attention_half_occupancy_count=0.0,
                       kernel_fixed_s=0.0, grouped_gemm_frac=1.0, act_quant_kernel_s=0.0)


def is_sram(hardware):
    """Whether a hardware entry (name, row or mapping) keeps its weights in on-chip SRAM
    (``memory_kind == "sram"``). A mapping without ``memory_kind`` is not."""
    hw = resolve_hardware(hardware)
    if isinstance(hw, pd.DataFrame):
        return False
    kind = hw.get("memory_kind")
    return isinstance(kind, str) and kind.strip().lower() == "sram"


def _hardware_name(hw):
    if isinstance(hw, pd.Series):
        return str(hw.name)
    return str(hw.get("name", ""))


def stage_hop_latency_s(hardware):
    """Latency of one hop between pipeline stages of an SRAM machine. [s]

    The hardware mapping's own ``stage_hop_latency_s`` when it has one (an override), else
    ``data/sram_fabric.csv``'s row for the device. 0 where neither gives a figure (Cerebras:
    none published): the hop term is then left out, and said so in ``data/sram_fabric.csv``.
    """
    hw = resolve_hardware(hardware)
    own = hw.get("stage_hop_latency_s") if hasattr(hw, "get") else None
    if own is not None and np.isfinite(float(own)):
        return float(nonnegative("stage_hop_latency_s", float(own)))
    table = data.load("sram_fabric")
    name = _hardware_name(hw)
    if name in table.index and np.isfinite(table.loc[name, "stage_hop_latency_s"]):
        return float(table.loc[name, "stage_hop_latency_s"])
    return 0.0


def sram_devices_to_hold(model, hardware, precision, *, tp=1, concurrency=0.0, isl_tok=0.0,
                         osl_tok=0.0, kv_precision="bf16", weight_share_frac=1.0):
    """Fewest chips (or wafers) of an SRAM machine that hold a model and the KV cache of its
    requests: a multiple of ``tp`` (whole pipeline stages).

    ``ceil((weights + concurrency * (isl + osl) * KV bytes per token) / (memory *
    weight_share_frac))`` rounded up to a multiple of ``tp``; the weights are the whole model
    (:func:`econ.engine.held_bytes_per_device` at ``tp=1``), the KV bytes those of all layers
    (copied as tensor parallelism copies KV heads beyond ``tp``). Vectorized over
    ``concurrency``, ``isl_tok`` and ``osl_tok``. [-]

    Parameters
    ----------
    weight_share_frac : float, default 1
        Share of the memory the weights and cache may fill, in (0, 1]. [fraction]
    """
    m = model_spec(model)
    choice("precision", precision, tuple(BYTES_PER_PARAM))
    choice("kv_precision", kv_precision, ("bf16", "fp8"))
    hw = resolve_hardware(hardware)
    _, mem = hardware_value(hw, "memory_bytes")
    tp = float(positive("tp", tp, integer=True))
    share = fraction("weight_share_frac", weight_share_frac, allow_zero=False)
    conc = nonnegative("concurrency", concurrency)
    tokens = nonnegative("isl_tok", isl_tok) + nonnegative("osl_tok", osl_tok)
    held = held_bytes_per_device(m, BYTES_PER_PARAM[precision], tp=1)
    kv_tok = kv_bytes_per_token_per_device(m, BYTES_PER_PARAM[kv_precision], tp=tp) * tp
    need = (held + conc * tokens * kv_tok) / (mem * share)
    # the tiny allowance keeps an exact fit from rounding up to one stage more
    n = np.ceil(need / tp * (1.0 - 1e-12)) * tp
    return like(np.asarray(n, dtype=float), concurrency, isl_tok, osl_tok)


def inflight_context_tok(isl_tok, osl_tok, osl_cv_ratio=0.0, fresh_start_window_tok=None):
    """Mean and spread of the context a decoding request attends to, over the requests in
    flight at an engine step.

    A request is in flight for a time proportional to its output length, so the requests a
    step finds are drawn in proportion to their lengths (the inspection paradox [1]_): their
    mean output length is ``E[L^2] / E[L] = osl (1 + cv^2)``, and each is at a uniform point
    of its output. With output lengths of mean ``osl`` and coefficient of variation ``cv``,
    the position ``A`` of a request in its output has, in a steady state,

    ``a = E[A] = osl (1 + cv^2) / 2``,
    ``v = Var[A] = osl^2 ((1 + cv^2)(1 + 2 cv^2) / 3 - (1 + cv^2)^2 / 4)``

    (the variance takes the lengths as gamma distributed: it needs their third moment,
    ``osl^3 (1 + cv^2)(1 + 2 cv^2)``), and the mean context is ``isl + a``, its spread
    ``sqrt(v)``. At cv 0 (every request at ``osl``) the contexts are uniform over
    ``[isl, isl + osl]``: ``isl + osl / 2`` and ``osl / sqrt(12)``. Prompt lengths are taken
    as independent of output lengths.

    A run that starts every slot on a fresh request at once and is measured over the next
    ``T`` decode steps (``fresh_start_window_tok``) sees shorter contexts: every request
    starts at position 0. Over such a window the mean position is

    ``min(a - (v / T) (1 - exp(-T a / v)), T / 2)``:

    exact for exponential lengths (cv 1), and for any lengths the first two terms of the
    renewal expansion ``E[integral of A over (0, T)] = T a - v + o(1)`` [2]_, capped at
    ``T / 2`` (no request in flight is older than the window: the mean over a window shorter
    than most outputs). Against a simulation of gamma lengths (cv 0.4 to 1.3) it is within
    5% for windows of one mean output or more. At cv 0 the lag is ``osl^2 / (12 T)``: the
    average over where the window ends within an output, not the exact ``osl / 2`` of a
    window of whole outputs (0.42 osl at one output). The spread is the steady state's.

    Parameters
    ----------
    isl_tok, osl_tok : array_like
        Mean prompt and output length. [tokens]
    osl_cv_ratio : array_like, default 0
        Standard deviation of the output lengths over their mean, in [0, 10]. [ratio]
    fresh_start_window_tok : array_like, optional
        Decode steps the requests in flight are averaged over, from a start where every slot
        began a fresh request; None (default): a steady state. [tokens]

    Returns
    -------
    (mean_tok, sd_tok) : tuple of numpy.ndarray
        [tokens]

    References
    ----------
    .. [1] W. Feller, "An Introduction to Probability Theory and Its Applications", vol. 2,
       2nd ed., Wiley, 1971, ch. XI.4 (the renewal interval that covers a random time has
       the length-biased law ``x F(dx) / E[X]``).
    .. [2] D. R. Cox, "Renewal Theory", Methuen, 1962, ch. 4 (the renewal function's
       asymptotic expansion, of which this is the integral of the age).
    """
    isl = numeric("isl_tok", isl_tok, min_value=0.0)
    osl = numeric("osl_tok", osl_tok, min_value=0.0)
    cv2 = np.square(numeric("osl_cv_ratio", osl_cv_ratio, min_value=0.0, max_value=10.0))
    # in units of osl (no square of a length: lengths up to 1e300 stay finite)
    a = (1.0 + cv2) / 2.0
    v = (1.0 + cv2) * (1.0 + 2.0 * cv2) / 3.0 - (1.0 + cv2) ** 2 / 4.0
    if fresh_start_window_tok is not None:
        x = positive("fresh_start_window_tok", fresh_start_window_tok) / np.where(
            osl > 0.0, osl, 1.0)
        # a - (v / x)(1 - exp(-x a / v)) = a (1 - phi(x a / v)), phi(y) = (1 - e^-y) / y;
        # no request is older than the window: at most x / 2
        y = x * a / v
        phi = np.where(y > 1e-8, -np.expm1(-y) / np.where(y > 1e-8, y, 1.0), 1.0 - y / 2.0)
        a = np.minimum(a * (1.0 - phi), x / 2.0)
    inputs = (isl_tok, osl_tok, osl_cv_ratio, fresh_start_window_tok)
    return like(isl + osl * a, *inputs), like(osl * np.sqrt(v), *inputs)


def busiest_rank(mean_sequences, n_ranks, context_tok, context_spread_tok):
    """The busiest of ``n_ranks`` data-parallel attention ranks: its sequences and their mean
    context.

    Every layer after attention waits for all ranks (the FFN gathers their tokens), so a
    step's attention takes as long as the busiest rank's. A scheduler that balances counts
    gives the busiest rank ``ceil(mean)`` sequences (at least one); their contexts are
    independent draws of standard deviation ``context_spread_tok``, so the largest of the
    ranks' mean contexts is ``context + sqrt(2 ln n) sd / sqrt(sequences)`` (the expected
    maximum of ``n`` normal draws is at most ``sqrt(2 ln n)`` standard deviations above the
    mean [1]_). One rank (``n_ranks`` = 1) is the mean itself.

    Parameters
    ----------
    mean_sequences : numeric
        Sequences per rank on average. [-]
    n_ranks : numeric
        Ranks that run attention on their own sequences. [-]
    context_tok, context_spread_tok : numeric
        Mean context of a sequence and its standard deviation across sequences. [tokens]

    Returns
    -------
    tuple
        ``(sequences [-], mean context [tokens])`` of the busiest rank.

    References
    ----------
    .. [1] H. A. David, H. N. Nagaraja, "Order Statistics", 3rd ed., Wiley 2003, sec. 4.2
       (bound on the expected maximum).
    """
    b = np.asarray(positive("mean_sequences", mean_sequences), dtype=float)
    n = np.asarray(positive("n_ranks", n_ranks), dtype=float)
    ctx = nonnegative("context_tok", context_tok)
    sd = nonnegative("context_spread_tok", context_spread_tok)
    busy = np.where(n > 1, np.maximum(np.ceil(b - 1e-9), 1.0), b)
    lift = np.sqrt(2.0 * np.log(np.maximum(n, 1.0))) * sd / np.sqrt(busy)
    inputs = [mean_sequences, n_ranks, context_tok, context_spread_tok]
    return like(busy, *inputs), like(ctx + lift, *inputs)


_CONDITIONS = ("min_device_memory_bytes", "max_device_memory_bytes", "device_names_included",
               "device_names_excluded", "dp_attention", "min_context_tok", "max_context_tok")


#: How a step chooses its next tokens, as ``data/gpu_timings.csv`` records it (kernel
#: ``sampling``, ``tests/benchmarks/gpu_sampling.py``): an argmax (``greedy``), temperature
#: sampling (``random``), nucleus sampling by a sort of every row of logits (``top_p_sort``),
#: the same after repetition, frequency and presence penalties (``top_p_sort_penalized``).
SAMPLERS = ("greedy", "random", "top_p_sort", "top_p_sort_penalized")


def sampling_line(sampler, timings=None):
    """A step's sampling time on a GPU as a line in the logits it samples, from recordings.

    ``tests/benchmarks/gpu_sampling.py`` times one step's sampling of ``B`` rows of ``V``
    logits on a GPU (``data/gpu_timings.csv``, kernel ``sampling``). Per recorded machine, the
    line of the time against the logits ``B V`` that minimises the squared relative errors
    (small and large shapes alike): its intercept (the kernels' launches and the sort's
    fixed work) and its slope, expressed as bytes per logit at the device's datasheet memory
    bandwidth; the mean over the recorded machines. Sorting and the
    elementwise passes stream the logits through memory, so the slope is taken to scale with
    the bandwidth from one device to another, the intercept to stay (one device is recorded:
    an assumption, not a measurement).

    Parameters
    ----------
    sampler : {"greedy", "random", "top_p_sort", "top_p_sort_penalized"}
        See :data:`SAMPLERS`.
    timings : pandas.DataFrame, optional
        ``data/gpu_timings.csv`` (default: loaded).

    Returns
    -------
    (float, float, int)
        The fixed time [s], the bytes per logit [bytes] and the recorded shapes behind them.
    """
    choice("sampler", sampler, SAMPLERS)
    if timings is None:
        stamps = tuple(data.stamp(t) for t in ("gpu_timings", "gpu_machines", "hardware"))
        return _recorded_sampling_line(sampler, stamps)
    return _fit_sampling_line(sampler, timings)


@functools.lru_cache(maxsize=16)
def _recorded_sampling_line(sampler, _stamps):
    return _fit_sampling_line(sampler, data.load("gpu_timings"))


def _fit_sampling_line(sampler, timings):
    rows = timings[(timings["kernel"] == "sampling") & (timings["variant"] == sampler)]
    if rows.empty:
        raise ValueError(f"data/gpu_timings.csv has no sampling rows of {sampler!r} "
                         "(tests/benchmarks/gpu_sampling.py records them)")
    hw = data.load("hardware")
    fixed, per_logit = [], []
    for machine, grp in rows.groupby("machine"):
        logits = grp["m_dim"].to_numpy(float) * grp["n_dim"].to_numpy(float)
        t = grp["median_s"].to_numpy(float)
        slope, intercept = np.polyfit(logits, t, 1, w=1.0 / t)   # relative errors
        dev = recorded_device_key(machine)
        fixed.append(intercept)
        per_logit.append(slope * float(hw.loc[dev, "memory_bytes_per_s"]))
    return float(np.mean(fixed)), float(np.mean(per_logit)), len(rows)


def sampling_step_s(sampler, hardware, n_logits):
    """GPU time of one step's sampling of ``n_logits`` logits (rows times the vocabulary) on
    ``hardware``: the recorded line (:func:`sampling_line`), its slope at the device's
    datasheet memory bandwidth. Vectorized over ``n_logits``. [s]"""
    n = nonnegative("n_logits", n_logits)
    fixed_s, bytes_per_logit, _ = sampling_line(sampler)
    hw = resolve_hardware(hardware)
    if is_sram(hw):
        raise ValueError(f"hardware {_hardware_name(hw)!r} is an SRAM machine: sampling is "
                         "recorded on GPUs (an SRAM machine is priced at its datasheet)")
    _, bw = hardware_value(hw, "memory_bytes_per_s")
    return like(fixed_s + np.asarray(n, dtype=float) * bytes_per_logit / bw, n_logits)


def _release(text):
    """A release version as a tuple of ints (``"0.11.0"``, ``"1.0"``, ``"0.6.3.post1"``), or
    None for a development build, a release candidate or a local tag."""
    m = re.fullmatch(r"(\d+(?:\.\d+)*)(?:\.post\d+)?", str(text).strip())
    if m is None:
        return None
    parts = tuple(int(p) for p in m.group(1).split("."))
    return parts + (0,) * (4 - len(parts))


def engine_defaults(framework, version, hardware, model, *, dp_attention=False):
    """The scheduler defaults an engine runs with when the run sets none.

    The row of ``data/engine_defaults.csv`` for the engine whose version range holds the
    release and whose conditions hold for the device (its memory and name), the layout and
    the model's context; where several hold, the one with the most conditions (vLLM 0.9 on
    an H100: the "70 GiB and more, not an A100" row over the catch-all one).

    Parameters
    ----------
    framework : str
        ``vllm``, ``sglang``, ``tensorrt-llm`` or ``tgi`` (the ledger's spelling); another
        engine has no defaults here.
    version : str
        The engine's release (``"0.11.0"``); a development build or release candidate
        resolves to nothing (the table holds releases only).
    hardware : str, pandas.Series or Mapping
        The device (name in ``data/hardware.csv`` or its row).
    model : str, pandas.Series, Mapping or ModelSpec
        The model served (its context decides vLLM 0.6-0.7's chunked prefill).
    dp_attention : bool, default False
        Data-parallel attention (SGLang 0.4.1-0.4.4 halve the chunk with it).

    Returns
    -------
    dict or None
        ``name`` (the row), ``max_running_requests`` [-] and ``prefill_chunk_tok`` [tokens]
        (None where the engine derives them at run time), ``decode_priority``; None when no
        row holds.
    """
    for name, value in (("framework", framework), ("version", version)):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string (e.g. 'vllm', '0.11.0'), got {value!r}")
    if isinstance(hardware, str) and isinstance(model, str):
        # by name: the answer depends only on the names and the three tables' contents
        stamps = tuple(data.stamp(t) for t in ("engine_defaults", "hardware", "models"))
        found = _engine_defaults_by_name(framework, version, hardware, model,
                                         bool(dp_attention), stamps)
        return None if found is None else dict(found)
    return _engine_defaults(framework, version, hardware, model, dp_attention)


@functools.lru_cache(maxsize=4096)
def _engine_defaults_by_name(framework, version, hardware, model, dp_attention, _stamps):
    return _engine_defaults(framework, version, hardware, model, dp_attention)


def _engine_defaults(framework, version, hardware, model, dp_attention):
    table = data.load("engine_defaults")
    release = _release(version)
    rows = table[table["framework"] == framework]
    if release is None or rows.empty:
        return None
    hw = resolve_hardware(hardware)
    name = _hardware_name(hw).lower()
    _, mem = hardware_value(hw, "memory_bytes")
    spec_name = model_spec(model).name
    context = float(data.row("models", spec_name)["max_context_tok"]) \
        if spec_name in data.keys("models") else np.nan
    lo, hi = rows["version_from"].map(_release), rows["version_to"].map(_release)
    in_range = [a is not None and b is not None and a <= release <= b for a, b in zip(lo, hi)]

    def words(col):
        return rows[col].fillna("").str.split(";").map(lambda ws: [w for w in ws if w])
    included, excluded = words("device_names_included"), words("device_names_excluded")
    holds = (pd.Series(in_range, index=rows.index)
             & ~(rows["min_device_memory_bytes"] > mem) & ~(rows["max_device_memory_bytes"] <= mem)
             & included.map(lambda ws: not ws or any(w in name for w in ws))
             & ~excluded.map(lambda ws: any(w in name for w in ws))
             & (rows["dp_attention"].fillna("").ne("true") | bool(dp_attention))
             & ~(rows["min_context_tok"] > context) & ~(rows["max_context_tok"] < context))
    if not holds.any():
        return None
    # where several rows hold, the one with the most conditions
    specific = rows.loc[holds, list(_CONDITIONS)].notna().sum(axis=1)
    key = specific.idxmax()
    r = rows.loc[key]

    def num(col):
        return None if np.isnan(r[col]) else float(r[col])
    prio = r["decode_priority"]
    return dict(name=key, max_running_requests=num("max_running_requests_count"),
                prefill_chunk_tok=num("prefill_chunk_tok"),
                decode_priority=None if not isinstance(prio, str) else prio)


def predict_serving(model, hardware, precision, *, n_devices, tp, ep=1, dp_attention=False,
                    isl_tok, osl_tok, concurrency, kv_precision="bf16", mtp_draft_tok=0):
    """Predict what a serving engine measures for a deployment under a workload.

    Parameters
    ----------
    model : str, pandas.Series, Mapping or ModelSpec
        A model (see :func:`econ.model_spec`).
    hardware : str, pandas.Series or Mapping
        One device (a name in ``data/hardware.csv`` or its row). A row with
        ``memory_kind == "sram"`` (Groq LPU, Cerebras CS-3) is an SRAM machine; a mapping may
        carry ``stage_hop_latency_s`` to override ``data/sram_fabric.csv``.
    precision : {"bf16", "fp8", "int8", "fp4"}
        Weight and matmul precision.
    n_devices : int
        GPUs and other HBM devices: devices serving, in ``n_devices / tp`` independent
        replicas. SRAM machines: chips (Groq) or wafers (Cerebras CS-3 systems) of the one
        replica that holds the weights and every request's cache in SRAM, in
        ``n_devices / tp`` pipeline stages (:func:`sram_devices_to_hold` gives the fewest). [-]
    tp : int
        Devices of one replica (tensor parallel over them; with ``dp_attention`` the
        attention runs data parallel over them instead). SRAM machines: chips of one pipeline
        stage, which split its layers tensor-parallel. [-]
    ep : int, default 1
        Devices the routed experts are spread over (expert parallel, within the replica). [-]
    dp_attention : bool, default False
        Data-parallel attention within the replica (each device its own sequences).
    isl_tok, osl_tok : numeric
        Input and output tokens per request. [tokens]
    concurrency : numeric or None
        Requests in flight over all replicas (vectorized). ``None``: as many as fit in
        memory, the best offline throughput. [-]
    kv_precision : {"bf16", "fp8"}, default "bf16"
        Cache precision.
    mtp_draft_tok : int, default 0
        Tokens drafted per step (DeepSeek-V3's MTP: 1). [tokens]

    Returns
    -------
    dict
        ``tpot_s``, ``ttft_s`` [s]; ``tok_per_s_per_user``, ``output_tok_per_s_per_device``
        [tokens/s]; ``concurrency`` [-]; and the parts of a step: ``decode_s``,
        ``prefill_share_s``, ``allreduce_s``, ``alltoall_s``, ``hop_s`` (pipeline hops of an
        SRAM machine), ``overhead_s`` (host work: fixed plus per sequence), ``step_s`` [s]
        (for an SRAM machine, the time one token of a sequence takes through every stage);
        ``pipeline_stages`` (1 for HBM devices) and ``max_concurrency`` (what fits in
        memory) [-].

    Raises
    ------
    ValueError
        An inconsistent layout, an unknown precision, weights that do not fit on the
        replica's devices (the message says which and what is allowed); for an SRAM machine,
        weights plus one request's cache that do not fit in ``n_devices`` chips (the message
        gives the fewest that do), or ``ep > 1`` / ``dp_attention``. A concurrency above
        what fits in memory queues: the engine runs ``max_concurrency`` requests and the rest
        wait, which lengthens TTFT (Little's law).

    Notes
    -----
    Drafted tokens are accepted at DeepSeek-V3's published MTP acceptance; the constants are
    the fitted ones. :func:`predict_serving_with` takes both as arguments (what-if, fits).

    SRAM machines (module docstring): none of the constants fitted to GPUs applies
    (:func:`sram_calibration` says why); their steps are the datasheet roofline of the SRAM
    bandwidth and the dense peak, plus the hop latency of ``data/sram_fabric.csv`` per stage
    and per all-reduce. Per-user speed is ``1 / (sum of stage times)`` and does not depend on
    ``concurrency`` while it is at most ``n_devices / tp`` (the stages are not all busy);
    output tokens per device follow from the share of stages busy. Validated, never fitted,
    against the Groq and Cerebras rows of ``data/serving_benchmarks.csv``
    (:func:`econ.ledger_predictions`).
    """
    return predict_serving_with(model, hardware, precision, n_devices=n_devices, tp=tp, ep=ep,
                                dp_attention=dp_attention, isl_tok=isl_tok, osl_tok=osl_tok,
                                concurrency=concurrency, kv_precision=kv_precision,
                                mtp_draft_tok=mtp_draft_tok)


#: The :func:`forward_step` outputs a serving step is assembled from. [s, tokens]
_STEP_PARTS = ("step_s", "compute_s", "kv_memory_s", "act_quant_memory_s", "attention_s",
               "dense_s", "experts_s", "dense_compute_s", "experts_compute_s", "tokens",
               "fixed_s")


def _prompt_work_s(f):
    """What prompts add to a decode step they join, from their :func:`forward_step` parts:
    their compute, cache writes and input quantization bytes; not the step's fixed costs
    (the decode step's kernels take them, one quantization kernel for decode and prompt rows
    alike). [s]"""
    return f["compute_s"] + f["kv_memory_s"] + f["act_quant_memory_s"]


def predict_serving_with(model, hardware, precision, *, n_devices, tp, ep=1, dp_attention=False,
                         isl_tok, osl_tok, concurrency, kv_precision="bf16", mtp_draft_tok=0,
                         kv_bytes_per_elem=None, acceptance_frac=None, step_calibration=None,
                         serving=None,
                         phase="mixed", n_microbatches=1, comm_sm_frac=0.0, cache_hit_frac=0.0,
                         experts_per_device=None, max_routed_nodes=None, comm_kernel=None,
                         scaleout_dispatch_bytes_per_s=None, scaleout_combine_bytes_per_s=None,
                         scaleup_bytes_per_s=None, compute_precision=None,
                         max_running_requests=None, prefill_chunk_tok=None, sampler=None,
                         osl_cv_ratio=0.0, fresh_start_window_tok=None):
    """:func:`predict_serving` with the whole deployment as arguments.

    Parameters
    ----------
    model, hardware, precision, n_devices, tp, ep, dp_attention, isl_tok, osl_tok, \
    concurrency, kv_precision, mtp_draft_tok
        As in :func:`predict_serving`. ``ep`` may exceed ``tp`` (a multiple of it) when the
        attention is data parallel (``dp_attention`` or ``tp=1``): the routed experts are then
        spread over ``ep`` devices that span ``ep / tp`` replicas, and over
        ``ep / n_devices_per_node`` nodes when the group outgrows one node (DeepSeek's EP32
        prefill and EP144 decode units).
    kv_bytes_per_elem : numeric, optional
        Bytes of a cached element, overriding ``kv_precision`` (DeepSeek-V2's ~6-bit cache:
        0.75). [bytes]
    acceptance_frac : numeric, optional
        Acceptance of drafted tokens; default DeepSeek-V3's published MTP acceptance.
    step_calibration : econ.Calibration, optional
        The engine's constants; default the fitted ones (``data/calibration.csv``; for an
        SRAM machine, :func:`sram_calibration`).
    serving : ServingCalibration, optional
        The serving constants; default the fitted ones (for an SRAM machine none: the hop
        latency of ``data/sram_fabric.csv`` stands for the all-reduce latency, the link is
        used at its datasheet rate, and no host cost is charged).
    phase : {"mixed", "prefill", "decode"}, default "mixed"
        ``"mixed"``: in-flight batching, prompts join decode steps (one engine does both).
        Disaggregated serving: ``"prefill"`` runs only prompts, ``concurrency`` of them per
        pass over all devices, and reports the prompt rates; ``"decode"`` runs only decode
        steps of ``concurrency`` requests whose caches arrive from a prefill unit (no TTFT).
    n_microbatches : {1, 2}, default 1
        2: the step is split into two micro-batches whose expert-parallel dispatch and
        combine run while the other micro-batch computes (DeepSeek's dual-batch overlap): a
        step takes ``max(compute, all-to-all)`` plus the one transfer that has nothing to
        hide behind (one micro-batch's share of one layer), and each micro-batch reads the
        weights again. 1: the all-to-all is added to the compute.
    comm_sm_frac : numeric, default 0
        Share of the device's compute units the communication kernels hold while
        overlapping (DeepEP's normal kernels: 20 of 132 SMs; low-latency: none): the
        compute runs on the rest. [fraction]
    cache_hit_frac : numeric, default 0
        Share of prompt tokens found in a prefix cache, in [0, 1): not computed, but attended
        to (the computed tokens' mean context is ``h P + ((1 - h) P + 1) / 2``) and counted in
        the input rate. [fraction]
    experts_per_device : numeric, optional
        Routed-expert slots per device, redundant copies included; default
        ``n_routed_experts / ep``. [-]
    max_routed_nodes : numeric, optional
        Node limit of the router (DeepSeek-V3: 4 nodes per token). [nodes]
    comm_kernel : {"normal", "low-latency"}, optional
        How dispatch and combine cross nodes: ``"normal"`` sends a token once per distinct
        remote node over the scale-out link and forwards it to its experts' devices over the
        scale-up link (DeepEP's normal kernels); ``"low-latency"`` sends every routed copy
        over the scale-out link. Default: low-latency in the decode phase, normal otherwise
        (DeepEP's recommendation).
    scaleout_dispatch_bytes_per_s, scaleout_combine_bytes_per_s : numeric, optional
        Per-device rate of dispatch (FP8) and combine (BF16) over the scale-out link, in the
        counting of ``comm_kernel`` (DeepEP's measured rates, or the NIC's nominal rate);
        required when the expert-parallel group spans nodes. [bytes/s]
    scaleup_bytes_per_s : numeric, optional
        Achieved per-device, per-direction rate of the scale-up link (NVLink); default the
        hardware's ``interconnect_bytes_per_s / 2`` times the serving constant
        ``link_bandwidth_frac``. [bytes/s]
    compute_precision : {"bf16", "fp8", "int8", "fp4"}, optional
        Matmul precision when it differs from the weights' (weight-only quantization: FP4
        weights on a GPU without FP4 units run BF16 matmuls); default ``precision``.
    max_running_requests : numeric, optional
        The engine's cap on requests running at once on one replica (vLLM ``max_num_seqs``,
        TensorRT-LLM ``max_batch_size``; :func:`engine_defaults` gives an engine's default):
        beyond it requests queue, as beyond memory. [-]
    prefill_chunk_tok : numeric, optional
        Tokens one step of a replica may carry, decodes and prompt chunks together (vLLM
        ``max_num_batched_tokens``, SGLang ``chunked_prefill_size``). ``phase="mixed"``: in
        steady state a step carries ``q`` tokens per decoding request and the prompts of
        those that replace the finished ones, ``tps (1 - h) isl / osl`` per request, so at
        most ``chunk / (q + tps (1 - h) isl / osl)`` requests decode at once; the others wait
        for their prompt's turn (in TTFT). [tokens]
    sampler : {"greedy", "random", "top_p_sort", "top_p_sort_penalized"}, optional
        How the engine chooses each next token (:data:`SAMPLERS`): each device samples the
        ``b q`` rows of logits of its sequences, one vocabulary wide, in the recorded time
        (:func:`sampling_step_s`), added to every step (``sampling_s``). None
        (default): not charged (an engine whose fused sampling kernel costs little beside
        the step, or a run that does not say). An SRAM machine is priced at its datasheet:
        none. A decode step samples ``q`` positions per sequence, a prefill pass one first
        token per prompt. (The one sampling kernel :attr:`ModelSpec.kernels_per_step` names
        stays charged ``kernel_fixed_s`` too: 8 us beside the recorded line's intercept.)
    osl_cv_ratio : numeric, default 0
        How much the requests' output lengths spread around ``osl_tok``: their standard
        deviation over their mean, ``cv``, in [0, 10]. The requests in flight at a step are
        drawn in proportion to their lengths (a long request stays longer), so the mean
        context a decoding request attends to is ``isl + osl (1 + cv^2) / 2``, and its spread
        across data-parallel ranks grows too (:func:`inflight_context_tok`): a reasoning
        model's outputs, cv about 1.25, double it. 0 (default): every request at
        ``osl_tok``. [ratio]
    fresh_start_window_tok : numeric, optional
        Where a measurement starts every slot on a fresh request at once and averages over
        the next ``T`` decode steps (a run that sends its requests at once and is measured
        until its queue empties: ``T`` is about the requests each slot completes times
        ``osl_tok``), the requests in flight are younger than in a steady state
        (:func:`inflight_context_tok`), the more so the more their lengths spread
        (``osl_cv_ratio``). None (default): a steady state. [tokens]

    Returns
    -------
    dict
        As :func:`predict_serving`, plus ``compute_s`` (the forward pass, micro-batches and
        SM share included), ``comm_s`` (all-to-all), ``exposed_comm_s`` (what of it the step
        does not hide), ``mtp_s`` (the MTP module's layer), ``attention_s``, ``dense_s``,
        ``experts_s``, ``attention_imbalance_s`` (what the busiest data-parallel attention
        rank adds to a decode step, :func:`busiest_rank`), ``sampling_s`` (the step's
        sampling, ``sampler``) [s];
        ``tpot_median_s``: the median gap between a request's tokens, where ``tpot_s`` is
        their mean: the median step, prompts joining steps at random (a Poisson count with
        the mean ``m`` a step carries), the median step carrying ``max(m - ln 2, 0)`` of
        them (a Poisson median's lower bound [1]_: prompts of varied lengths put the median
        of their summed cost below its mean) with their compute and communication; per
        step, also where a step yields several tokens (MTP) [s];
        ``input_tok_per_s_per_device`` (prompt tokens, cache hits included) and
        ``computed_tok_per_s_per_device`` [tokens/s]; ``context_tok`` (mean
        context a token attends to) [tokens]. In the prefill phase ``tpot_s``,
        ``tpot_median_s`` and ``tok_per_s_per_user`` are NaN and
        ``output_tok_per_s_per_device`` counts the first token of each prompt; in the decode
        phase ``ttft_s`` is NaN.

    References
    ----------
    .. [1] K. P. Choi, "On the medians of gamma distributions and an equation of Ramanujan",
       Proc. Amer. Math. Soc. 121(1), 245-251, 1994 (a Poisson median lies in
       ``[m - ln 2, m + 1/3)``).
    """
    m = model_spec(model)
    choice("precision", precision, tuple(BYTES_PER_PARAM))
    choice("kv_precision", kv_precision, ("bf16", "fp8"))
    choice("phase", phase, ("mixed", "prefill", "decode"))
    if sampler is not None:
        choice("sampler", sampler, SAMPLERS)
    if n_microbatches not in (1, 2) or isinstance(n_microbatches, bool):
        raise ValueError(f"n_microbatches must be 1 or 2, got {n_microbatches!r}")
    hw = resolve_hardware(hardware)
    sram = is_sram(hw)
    matmul = precision if compute_precision is None else compute_precision
    choice("compute_precision", matmul, tuple(BYTES_PER_PARAM))
    _, peak = hardware_value(hw, PEAK_FLOP_COLUMN[matmul])
    _, peak_attn = hardware_value(hw, PEAK_FLOP_COLUMN["bf16"])
    _, bw = hardware_value(hw, "memory_bytes_per_s")
    _, mem = hardware_value(hw, "memory_bytes")
    _, link = hardware_value(hw, "interconnect_bytes_per_s", required=False)
    _, per_node = hardware_value(hw, "n_devices_per_node", required=False)
    n_dev = float(positive("n_devices", n_devices, integer=True))
    tp = float(positive("tp", tp, integer=True))
    ep = float(positive("ep", ep, integer=True))
    if n_dev % tp:
        raise ValueError(f"n_devices ({n_dev:g}) must be a multiple of tp ({tp:g})")
    if not isinstance(dp_attention, (bool, np.bool_)):
        raise ValueError(f"dp_attention must be True or False, got {dp_attention!r}")
    dp = bool(dp_attention) or (tp == 1.0 and ep > 1.0)   # one device per replica: its own
    if ep <= tp:
        if tp % ep:
            raise ValueError(f"ep ({ep:g}) must divide tp ({tp:g}), or be a multiple of it with "
                             "data-parallel attention")
    elif ep % tp or n_dev % ep or not dp:
        raise ValueError(f"ep ({ep:g}) above tp ({tp:g}) must be a multiple of tp that divides "
                         f"n_devices ({n_dev:g}), with data-parallel attention (dp_attention "
                         "or tp=1)")
    if ep > 1 and not m.moe:
        raise ValueError(f"ep={ep:g} needs an MoE model; {m.name!r} is dense")
    if sram and (ep > 1 or dp_attention):
        raise ValueError(f"an SRAM machine ({_hardware_name(hw)!r}) is modelled as a pipeline of "
                         "tensor-parallel stages: use ep=1 and dp_attention=False, got "
                         f"ep={ep:g}, dp_attention={dp_attention}")
    isl = positive("isl_tok", isl_tok)
    osl = positive("osl_tok", osl_tok)
    k = float(positive("mtp_draft_tok", mtp_draft_tok + 1, integer=True)) - 1.0
    if acceptance_frac is None:
        acceptance_frac = float(data.load("published").loc["deepseek-v3-mtp-acceptance",
                                                           "value"]) if k > 0 else 0.0
    a = fraction("acceptance_frac", acceptance_frac)
    sm = float(numeric("comm_sm_frac", comm_sm_frac, min_value=0.0, max_value=1.0,
                       max_inclusive=False))
    h = numeric("cache_hit_frac", cache_hit_frac, min_value=0.0, max_value=1.0,
                max_inclusive=False)
    slots = None if experts_per_device is None else float(
        positive("experts_per_device", experts_per_device))
    if sram:
        cal = sram_calibration() if step_calibration is None else step_calibration
        hop = stage_hop_latency_s(hw)
        srv = ServingCalibration(step_overhead_s=0.0, allreduce_latency_s=hop,
                                 alltoall_latency_s=hop, link_bandwidth_frac=1.0) \
            if serving is None else serving
    else:
        cal = calibration() if step_calibration is None else step_calibration
        cal = device_calibration(cal, hw)    # the shares measured on this device's own figures
        srv = serving_calibration() if serving is None else serving
        hop = 0.0
        if matmul == "fp4":
            peak = peak * srv.fp4_matmul_frac
    wb, kvb = BYTES_PER_PARAM[precision], BYTES_PER_PARAM[kv_precision]
    if kv_bytes_per_elem is not None:
        kvb = float(positive("kv_bytes_per_elem", kv_bytes_per_elem))
    # mean KV length a decoding request attends to, and its spread over requests
    ctx_dec, ctx_sd = inflight_context_tok(isl, osl, osl_cv_ratio, fresh_start_window_tok)
    ctx_pre = h * isl + ((1.0 - h) * isl + 1.0) / 2.0   # mean context of a computed prompt token
    nodes = 1.0 if per_node is None else np.maximum(ep / float(per_node), 1.0)
    kernel = comm_kernel if comm_kernel is not None else (
        "low-latency" if phase == "decode" else "normal")
    choice("comm_kernel", kernel, ("normal", "low-latency"))
    scale_out = ep > 1 and dp and np.any(nodes > 1.0)
    if scale_out and (scaleout_dispatch_bytes_per_s is None
                      or scaleout_combine_bytes_per_s is None):
        raise ValueError(f"ep={ep:g} spans {float(np.max(nodes)):g} nodes of "
                         f"{float(per_node):g} devices: give the scale-out rates "
                         "scaleout_dispatch_bytes_per_s and scaleout_combine_bytes_per_s "
                         "(predict_serving_with, or econ.predict_deployment with a row of "
                         "data/deployments.csv)")

    seq_len = isl if phase == "prefill" else isl + osl
    lengths = "isl_tok" if phase == "prefill" else "isl_tok + osl_tok"
    if sram:
        # one replica: the weights and the cache of every request spread over all the chips
        stages = n_dev / tp
        replicas, holders = 1.0, 1.0
        held = held_bytes_per_device(m, wb, tp=1)
        kv_tok = kv_bytes_per_token_per_device(m, kvb, tp=tp) * tp
        free = n_dev * mem - held
        if np.any(free <= 0):
            need = float(np.max(sram_devices_to_hold(m, hw, precision, tp=tp)))
            raise ValueError(f"{m.name!r} in {precision} needs {held:.3g} bytes of on-chip "
                             f"memory, more than the {n_dev:g} x {float(mem):.3g} of "
                             f"{_hardware_name(hw)!r}; use n_devices >= {need:g} (a multiple "
                             f"of tp={tp:g}) or a lower precision")
        max_conc = np.floor(free / (kv_tok * seq_len))
        if np.any(max_conc < 1):
            need = float(np.max(sram_devices_to_hold(m, hw, precision, tp=tp, concurrency=1.0,
                                                     isl_tok=isl, osl_tok=osl,
                                                     kv_precision=kv_precision)))
            raise ValueError(f"not one request of {lengths} = {float(np.max(seq_len)):g} "
                             f"tokens fits beside the weights on {n_dev:g} x "
                             f"{_hardware_name(hw)!r}; use n_devices >= {need:g}")
    else:
        stages = 1.0
        replicas = n_dev / tp
        # memory: weights per device, then the cache of the sequences each device holds
        held = held_bytes_per_device(m, wb, tp=tp, ep=ep, dp_attention=dp,
                                     experts_per_device=slots)
        kv_tok = kv_bytes_per_token_per_device(m, kvb, tp=tp, dp_attention=dp)
        # an engine keeps a share of the memory for activations, graphs and buffers
        usable = srv.memory_utilization_frac * mem
        free = usable - held
        if np.any(free <= 0):
            raise ValueError(f"{m.name!r} in {precision} needs {held:.3g} bytes per device on "
                             f"{tp:g} devices, more than the {float(usable):.3g} an engine uses "
                             f"of the {float(mem):.3g} it has (memory_utilization_frac "
                             f"{srv.memory_utilization_frac:g}); raise tp or lower the precision")
        seq_per_holder = np.floor(free / (kv_tok * seq_len))
        holders = tp if dp else 1.0            # devices holding different sequences
        max_conc = seq_per_holder * holders * replicas
        if np.any(max_conc < 1):
            raise ValueError(f"not one request of {lengths} = {float(np.max(seq_len)):g} tokens "
                             f"fits beside the weights ({float(np.max(held)):.3g} bytes per "
                             "device); raise tp, lower the precision or shorten the requests")
    conc = max_conc if concurrency is None else positive("concurrency", concurrency)
    # beyond what fits, requests queue: the engine runs as many as fit
    running = np.minimum(conc, max_conc)
    # ... and no more than the engine's scheduler admits on a replica
    if max_running_requests is not None:
        running = np.minimum(running, positive("max_running_requests", max_running_requests)
                             * (1.0 if sram else replicas))
    if prefill_chunk_tok is not None and phase == "mixed":
        budget = positive("prefill_chunk_tok", prefill_chunk_tok)
        per_req = (1.0 + k) + tokens_per_step(a, k) * (1.0 - h) * isl / osl
        running = np.minimum(running, np.maximum(np.floor(budget / per_req), 1.0)
                             * (1.0 if sram else replicas))
    if sram:
        # one sequence per stage until every stage is busy, then micro-batches grow
        b = np.maximum(running / stages, 1.0)
    else:
        b = running / replicas / holders        # sequences whose attention one device runs
    mb = float(n_microbatches)
    q = 1.0 + k
    tps = tokens_per_step(a, k)
    # FP8, FP4 and INT8 matmuls quantize their inputs first, one fused kernel each (GPUs;
    # an SRAM machine is priced at its datasheet)
    quant_bytes = FUSED_ACT_QUANT_BYTES_PER_ELEM if matmul != "bf16" and not sram else 0.0
    common = dict(bw=bw, peak_mm=peak, peak_attn=peak_attn, weight_bytes_per_param=wb,
                  kv_bytes_per_elem=kvb, tp=tp, ep=ep, dp_attention=dp,
                  experts_per_device=slots, act_quant_bytes_per_elem=quant_bytes, cal=cal)

    def step(n_seq, tok, ctx, kind):
        # one micro-batch's forward pass, run mb times (weights read again each time)
        f = forward_step(m, n_sequences=n_seq / mb, tok_per_seq=tok, context_tok=ctx,
                         phase=kind, **common)
        return {key: f[key] * mb for key in _STEP_PARTS}

    zero = 0.0 * b
    nothing = {key: zero for key in _STEP_PARTS}     # a phase the step does not run
    imbalance_s = zero
    prompts_per_step = zero
    if phase == "prefill":
        dec = nothing
        pre = step(b, (1.0 - h) * isl, ctx_pre, "prefill")
        prefill_share_s = pre["step_s"]
        parts = pre
    else:
        dec = step(b, q, ctx_dec, "decode")
        # data-parallel attention waits for its busiest rank: more sequences than the mean
        # (whole ones), longer contexts (spread over the requests in flight, ctx_sd)
        busy_n, busy_ctx = busiest_rank(b, holders, ctx_dec, ctx_sd)
        imbalance_s = np.maximum(step(busy_n, q, busy_ctx, "decode")["attention_s"]
                                 - dec["attention_s"], 0.0) if holders > 1 else zero
        dec = dict(dec, step_s=dec["step_s"] + imbalance_s,
                   attention_s=dec["attention_s"] + imbalance_s)
        if phase == "decode":
            pre = nothing
        else:
            # prompts that join each step (in-flight batching): rows, attention, KV writes.
            # A request's own prompt is its TTFT, not its TPOT: while it decodes, the prompts
            # of the replacements of the other requests sharing its steps join them, (c-1)/c
            # of the c isl / osl prompt tokens a step carries on average (none when alone;
            # on an SRAM pipeline, the others of its stage's micro-batch)
            sharing = b if sram else running / replicas
            others = np.maximum(sharing - 1.0, 0.0) / sharing
            pre_tok = b * tps * isl / osl * (1.0 - h) * others
            pre = step(pre_tok / ((1.0 - h) * isl), (1.0 - h) * isl, ctx_pre, "prefill")
            pre = dict(pre, step_s=_prompt_work_s(pre))
            prompts_per_step = pre_tok / ((1.0 - h) * isl)
        prefill_share_s = pre["step_s"]
        # the step reads the weights once: prompts add their FLOPs and cache writes
        parts = dict(attention_s=dec["attention_s"] + pre["attention_s"],
                     dense_s=dec["dense_s"] + pre["dense_compute_s"],
                     experts_s=dec["experts_s"] + pre["experts_compute_s"])
    compute_s = dec["step_s"] + prefill_share_s
    # the MTP module: one more layer per drafted token (decode), once over the prompt (prefill)
    mtp_layers = max(m.n_mtp_modules, 1.0) if k > 0 else 0.0
    if phase == "prefill":
        mtp_s = mtp_layers / m.n_layers * compute_s
    else:
        mtp_s = k * mtp_layers / m.n_layers * dec["step_s"]
    compute_s = compute_s + mtp_s
    # communication
    link_bw = (link / 2.0 if link is not None else np.inf) * srv.link_bandwidth_frac \
        if scaleup_bytes_per_s is None else positive("scaleup_bytes_per_s", scaleup_bytes_per_s)
    # a pipeline of several stages: one hop into each stage, the last one back to the first
    hop_s = (stages if stages > 1 else 0.0) * hop + zero
    # host work: a fixed part per step and a part per sequence of the step (one scheduler
    # per replica, or per attention rank with data-parallel attention: b sequences each)
    host_s = srv.step_overhead_s + srv.seq_overhead_s * b
    # choosing the next tokens: every device of a replica samples the rows of its sequences
    # (the gathered logits, one vocabulary wide), on the GPU between steps
    # (a decode step samples q positions per sequence, a prefill pass one first token)
    sample_s = zero if sram or sampler is None else sampling_step_s(
        sampler, hw, b * (1.0 if phase == "prefill" else q) * m.n_vocab)

    def assemble(compute, t_dev):
        """(compute, all-reduce, all-to-all, exposed, step) [s] of a step whose forward pass
        takes ``compute`` and puts ``t_dev`` tokens through one device's attention."""
        allreduce = zero
        if tp > 1:
            rows = t_dev * tp if dp else t_dev
            # with data-parallel attention, every FFN that runs tensor parallel over the
            # group's tokens gathers them and reduces its partial sums: the dense layers',
            # and the MoE layers' too when the experts are tensor parallel (ep == 1: no
            # dispatch/combine)
            n_ar = 2.0 * m.n_layers if not dp else 2.0 * (
                m.n_layers - (m.moe_layers if ep > 1 else 0.0))
            allreduce = n_ar * (srv.allreduce_latency_s
                                + 2.0 * (tp - 1.0) / tp * rows * m.hidden_dim * _ACT_BYTES
                                / link_bw)
        alltoall = zero
        if ep > 1 and dp:
            within = m.moe_layers * (2.0 * srv.alltoall_latency_s + t_dev * m.n_active_experts
                                     * (ep - 1.0) / ep * m.hidden_dim
                                     * (_DISPATCH_BYTES + _COMBINE_BYTES) / link_bw)
            if scale_out:
                rd = positive("scaleout_dispatch_bytes_per_s", scaleout_dispatch_bytes_per_s)
                rc = positive("scaleout_combine_bytes_per_s", scaleout_combine_bytes_per_s)
                g = float(per_node)
                copies = m.n_active_experts if kernel == "low-latency" else nodes_touched(
                    m.n_active_experts, nodes, max_routed_nodes)
                out_s = m.moe_layers * t_dev * copies * m.hidden_dim * (
                    _DISPATCH_BYTES / rd + _COMBINE_BYTES / rc)
                # normal kernels forward each token to its experts' devices within the node
                fwd_s = m.moe_layers * t_dev * m.n_active_experts * (1.0 - 1.0 / g) \
                    * m.hidden_dim * (_DISPATCH_BYTES + _COMBINE_BYTES) / link_bw \
                    if kernel == "normal" else zero
                alltoall = np.where(nodes > 1.0, np.maximum(out_s, fwd_s), within)
            else:
                alltoall = within
        if mb > 1:
            compute = compute / (1.0 - sm)
            exposed = np.maximum(alltoall - compute, 0.0) + alltoall / (m.moe_layers * mb)
        else:
            exposed = alltoall
        return compute, allreduce, alltoall, exposed, \
            compute + exposed + allreduce + hop_s + host_s + sample_s

    compute_s, allreduce_s, alltoall_s, exposed, step_s = assemble(
        compute_s, dec["tokens"] + pre["tokens"])
    if phase == "prefill":
        # a pass of the prompts is the step; prompts beyond those running wait for passes
        completion_per_s = running / step_s
        ttft = np.where(conc > running, conc / completion_per_s, step_s)
        tpot = tpot_median = np.nan + zero
        out_per_dev = completion_per_s / n_dev
    else:
        tpot = step_s / tps
        # the median step: prompts join steps at random, a Poisson count with the mean m a
        # step carries (every rank of a data-parallel group waits for one step), each its
        # mean share of what prompts add to the step (compute and communication). The
        # median count is at least m - ln 2 [1]_; prompts of varied lengths put the median
        # of their summed cost below its mean, so the median step carries m - ln 2 of them
        # (none up to ln 2 a step: most steps carry none), continuous in m
        step0_s = assemble(dec["step_s"] + mtp_s, dec["tokens"])[-1]
        lam = np.asarray(prompts_per_step * holders, dtype=float)
        carried = np.where(lam > np.log(2.0), 1.0 - np.log(2.0) / np.where(lam > 0, lam, 1.0),
                           0.0)
        tpot_median = (step0_s + (step_s - step0_s) * carried) / tps
        if phase == "decode":
            ttft = np.nan + zero
            completion_per_s = running / (osl * tpot)
        else:
            # TTFT: the prompt's own prefill joins a step of the running batch
            one = forward_step(m, n_sequences=1.0, tok_per_seq=(1.0 - h) * isl,
                               context_tok=ctx_pre, phase="prefill", **common)
            ttft = step_s + _prompt_work_s(one)
            # Little's law: requests complete at running / (ttft + osl * tpot); those beyond
            # the running ones wait in the queue before their first token
            completion_per_s = running / (ttft + osl * tpot)
            ttft = np.where(conc > running, conc / completion_per_s - osl * tpot, ttft)
        out_per_dev = completion_per_s * osl / n_dev
    in_per_dev = completion_per_s * isl / n_dev
    out = dict(tpot_s=tpot, tpot_median_s=tpot_median + zero, ttft_s=ttft,
               tok_per_s_per_user=1.0 / tpot,
               output_tok_per_s_per_device=out_per_dev, concurrency=conc,
               decode_s=dec["step_s"], prefill_share_s=prefill_share_s,
               allreduce_s=allreduce_s, alltoall_s=alltoall_s, hop_s=hop_s,
               overhead_s=host_s + zero, sampling_s=sample_s + zero, step_s=step_s,
               pipeline_stages=stages + zero,
               max_concurrency=max_conc + zero,
               compute_s=compute_s, comm_s=alltoall_s + zero, exposed_comm_s=exposed + zero,
               mtp_s=mtp_s + zero, attention_imbalance_s=imbalance_s + zero,
               attention_s=parts["attention_s"], dense_s=parts["dense_s"],
               experts_s=parts["experts_s"], input_tok_per_s_per_device=in_per_dev,
               computed_tok_per_s_per_device=in_per_dev * (1.0 - h),
               context_tok=(ctx_pre if phase == "prefill" else ctx_dec) + zero)
    inputs = [concurrency, isl_tok, osl_tok, cache_hit_frac, max_running_requests,
              prefill_chunk_tok, osl_cv_ratio, fresh_start_window_tok]
    return {key: like(np.asarray(v, dtype=float), *inputs) for key, v in out.items()}
