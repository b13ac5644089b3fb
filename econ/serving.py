"""A deployment at scale: expert-parallel prefill and decode units, per-node throughput, $/Mtok.

:mod:`econ.inference` prices one model on ``n`` devices as if the work split evenly and the
devices never talked. DeepSeek serves V3/R1 differently (Day-6 overview [1]_): a decode unit of
18 nodes (144 H800s) holds a full copy of the attention, shared-expert and dense weights on
every GPU (data parallel) and spreads the 256 routed experts, plus 32 redundant copies, two
per GPU (expert parallel, EP144); a prefill unit does the same over 4 nodes (EP32, nine
experts per GPU). Every MoE layer then sends each token's hidden state to the GPUs holding
its 8 experts (*dispatch*, FP8) and brings the results back (*combine*, BF16) over
InfiniBand and NVLink. This module prices one step of such a unit, per device, as the sum of
its phases, each a roofline of its own (kernels run one after another):

- **MLA attention** over the KV cache, BF16: ``max(KV bytes / bandwidth, FLOPs / BF16 rate)``;
- **dense matmuls**, FP8: the replicated weights (attention projections, shared expert, dense
  layers, head) read once per microbatch against ``2 * params`` FLOPs per token;
- **routed experts**, FP8: the device's expert slots (read where a token touches them)
  against its share of the routed FLOPs times the expected *maximum* load over the EP group
  (:func:`expected_max_load_ratio`: the all-to-all waits for the busiest GPU);
- **dispatch + combine**: bytes / link rate (:func:`link_time_s`), either added to the
  compute (not overlapped) or hidden under it up to ``max(compute, communication)``
  (overlapped, what DeepSeek's dual-microbatch schedules aim at; :func:`overlap_time_s`).

Decode verifies ``1 + draft_depth`` tokens per sequence per step (MTP) and keeps
:func:`econ.expected_tokens_per_step` of them; the MTP module drafts with one extra layer.
Prefill computes only the prompt tokens that miss the prefix cache; DeepSeek's published
per-node prefill rate counts the hits too, so the rate here is divided by ``1 - hit share``.

Defaults that are *definitions* live in the signatures; every *number* comes from ``data/``:
the unit from ``deployments.csv``, the model from ``models.csv``, the device from
``hardware.csv``, and the achieved kernel rates (FlashMLA, DeepGEMM) and the Day-6 traffic
from ``published.csv`` (:func:`kernel_efficiencies`, :func:`day6_inputs`).

References
----------
.. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
   github.com/deepseek-ai/open-infra-index, 2025-03-01.
.. [2] DeepSeek-AI, "DeepEP", github.com/deepseek-ai/DeepEP, README (Feb 2025): normal
   kernels (NVLink + RDMA forwarding) for prefill, low-latency kernels (pure RDMA) for decode,
   measured rates on H800.
.. [3] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §3.2.2 (at most 4 nodes
   per token, IB then NVLink forwarding, 20 of 132 SMs for communication), §3.4.
.. [4] C. Zhao et al., "Insights into DeepSeek-V3", ISCA 2025, arXiv:2505.09343, §2.3.2
   (communication time = (1 B + 2 B) x tokens x experts x hidden / 50 GB/s per layer).
.. [5] M. Raab, A. Steger, "'Balls into Bins' - A Simple and Tight Analysis", RANDOM 1998,
   LNCS 1518: the fullest of ``n`` bins after ``m >> n log n`` balls holds
   ``m/n + sqrt(2 (m/n) ln n)`` (1 + o(1)).
.. [6] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, §3.2.3 (FP8 weights, ~6-bit KV cache,
   5.76x the maximum generation throughput of DeepSeek 67B on one 8xH800 node).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import data
from ._checks import choice, fraction, like, nonnegative, numeric, positive
from .engine import (
    calibration,
    forward_step,
    hardware_value,
    held_bytes_per_device,
    max_load_ratio,
    model_spec,
    nodes_touched,
    resolve_hardware,
    tokens_per_step,
)
from .units import BYTES_PER_PARAM, PEAK_FLOP_COLUMN, cost_usd_per_mtok

__all__ = [
    "link_time_s",
    "overlap_time_s",
    "dispatch_combine_bytes_per_tok",
    "alltoall_tpot_floor_s",
    "expected_nodes_touched",
    "expected_max_load_ratio",
    "prompt_tok_from_kv_length",
    "prefill_context_tok",
    "kernel_efficiencies",
    "day6_inputs",
    "deployment_decode_step",
    "deployment_decode_batch",
    "deployment_decode",
    "deployment_prefill",
    "decode_time_breakdown",
    "day6_decode_breakdown",
    "day6_step_time_table",
    "max_generation_throughput",
    "max_generation_throughput_ratio",
    "day6_prediction",
    "serving_result_rows",
    "day6_decode_cases",
    "day6_decode_sweep",
    "v2_ratio_sweep",
    "day6_prefill_spread",
    "day6_cache_hit_load",
    "serving_prediction_claims",
]

#: Decode units in ``data/deployments.csv`` that the Day-6 prediction uses.
DAY6_DECODE = "deepseek-v3-h800-day6-decode"
#: Prefill unit of the Day-6 deployment.
DAY6_PREFILL = "deepseek-v3-h800-day6-prefill"
#: Results subject of the Day-6 prediction (issue 8).
DAY6_SUBJECT = "deepseek-v3:h800-day6"
#: Tokens a prefill device computes per pass: DeepEP's normal-kernel test batch ("4096 tokens
#: per batch", the V3 pre-training setting). The prefill rate hardly depends on it (only the
#: weight reads are per pass); an assumption, exposed as ``tok_per_device_per_pass``.
PREFILL_TOK_PER_DEVICE_PER_PASS = 4096.0
#: Link-rate choices: DeepEP's measured rates for the unit's kernel and EP size, or the
#: nominal link bandwidth of the deployment row (``ib_bytes_per_s``, ``nvlink_bytes_per_s``).
LINK_RATES = ("measured", "nominal")

_DAY6_URL = ("https://github.com/deepseek-ai/open-infra-index/blob/main/202502OpenSourceWeek/"
             "day_6_one_more_thing_deepseekV3R1_inference_system_overview.md")
_V2_URL = "https://arxiv.org/abs/2405.04434"


# --- closed forms ------------------------------------------------------------------------------

def link_time_s(n_bytes, link_bytes_per_s):
    """Time to move bytes over a link: ``n_bytes / link_bytes_per_s``.

    Parameters
    ----------
    n_bytes : numeric
        Bytes one device sends (or receives) in one direction. [bytes]
    link_bytes_per_s : numeric
        Rate of the link per device per direction (> 0): 50e9 for one 400 Gb/s NIC per GPU,
        about 160e9 achievable on H800 NVLink. [bytes/s]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Transfer time, latency ignored (measured rates such as DeepEP's include it). [s]

    Examples
    --------
    The ISCA'25 decode bound: 32 tokens, 9 copies, 7K hidden, FP8 out and BF16 back, 50 GB/s:

    >>> round(link_time_s((1 + 2) * 32 * 9 * 7000, 50e9) * 1e6, 2)
    120.96

    References
    ----------
    .. [1] C. Zhao et al., arXiv:2505.09343, §2.3.2.
    """
    b = nonnegative("n_bytes", n_bytes)
    r = positive("link_bytes_per_s", link_bytes_per_s)
    return like(b / r, n_bytes, link_bytes_per_s)


def overlap_time_s(compute_s, comm_s, overlap=True):
    """Time of a step whose communication is hidden under its compute, or added to it.

    Parameters
    ----------
    compute_s : numeric
        Compute (and memory) time. [s]
    comm_s : numeric
        Communication time. [s]
    overlap : bool, default True
        ``True``: ``max(compute_s, comm_s)`` (perfect overlap, the best a two-microbatch
        schedule can do); ``False``: ``compute_s + comm_s``.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Step time. [s]
    """
    if not isinstance(overlap, (bool, np.bool_)):
        raise ValueError(f"overlap must be True or False, got {overlap!r}")
    c = nonnegative("compute_s", compute_s)
    m = nonnegative("comm_s", comm_s)
    return like(np.maximum(c, m) if overlap else c + m, compute_s, comm_s)


def dispatch_combine_bytes_per_tok(hidden_dim, n_copies, dispatch_elem_bytes=1.0,
                                   combine_elem_bytes=2.0):
    """Bytes one token sends out and gets back in one MoE layer.

    ``n_copies * hidden_dim * (dispatch_elem_bytes + combine_elem_bytes)``: the hidden state
    goes to each destination in the dispatch precision and returns in the combine precision.

    Parameters
    ----------
    hidden_dim : numeric
        Model width (7168 in DeepSeek-V3). [elements]
    n_copies : numeric
        Destinations per token: the routed experts (8) for DeepEP's low-latency kernels, the
        distinct nodes (:func:`expected_nodes_touched`) over RDMA for its normal kernels. [-]
    dispatch_elem_bytes : numeric, default 1
        1 for FP8 dispatch (DeepSeek's serving). [bytes]
    combine_elem_bytes : numeric, default 2
        2 for BF16 combine. [bytes]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Bytes per token per MoE layer, both directions together. [bytes]

    Examples
    --------
    >>> dispatch_combine_bytes_per_tok(7168, 8)
    172032.0

    References
    ----------
    .. [1] DeepSeek-AI, Day-6 overview: "matrix multiplications and dispatch transmissions
       adopt the FP8 format ..., while core MLA computations and combine transmissions use the
       BF16 format".
    """
    h = positive("hidden_dim", hidden_dim)
    n = nonnegative("n_copies", n_copies)
    d = nonnegative("dispatch_elem_bytes", dispatch_elem_bytes)
    c = nonnegative("combine_elem_bytes", combine_elem_bytes)
    return like(n * h * (d + c), hidden_dim, n_copies, dispatch_elem_bytes, combine_elem_bytes)


def alltoall_tpot_floor_s(n_layers, tok_per_device, bytes_per_tok_layer, link_bytes_per_s):
    """Time per output token when every layer's all-to-all sets its pace (ISCA'25 bound).

    DeepSeek's bound for decoding on its H800 cluster: each device holds ``tok_per_device``
    tokens; per layer it sends their dispatch and combine bytes over its link
    (:func:`link_time_s`), and with two micro-batches overlapped the compute of one layer
    takes as long as its communication, so a layer costs twice the transfer:

    ``n_layers * 2 * tok_per_device * bytes_per_tok_layer / link_bytes_per_s``.

    Parameters
    ----------
    n_layers : numeric
        Layers per token (DeepSeek counts all 61 of V3). [count]
    tok_per_device : numeric
        Tokens one device decodes per step. [tokens]
    bytes_per_tok_layer : numeric
        Dispatch + combine bytes per token per layer
        (:func:`dispatch_combine_bytes_per_tok`). [bytes]
    link_bytes_per_s : numeric
        Per-device link rate, one direction (> 0). [bytes/s]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        TPOT floor. [s]

    References
    ----------
    .. [1] C. Zhao et al., "Insights into DeepSeek-V3", ISCA 2025, arXiv:2505.09343, §2.3.2:
       "approximately 14.76 ms TPOT" for 32 tokens over 50 GB/s InfiniBand.
    """
    n = positive("n_layers", n_layers)
    layer_s = link_time_s(nonnegative("tok_per_device", tok_per_device)
                          * nonnegative("bytes_per_tok_layer", bytes_per_tok_layer),
                          link_bytes_per_s)
    return like(n * 2.0 * np.asarray(layer_s, dtype=float), n_layers, tok_per_device,
                bytes_per_tok_layer, link_bytes_per_s)


def expected_nodes_touched(n_active_experts, n_nodes, max_nodes=None):
    """Expected distinct nodes a token's routed experts sit on.

    With experts spread evenly and chosen uniformly, each of the ``k`` picks lands on one of
    ``N`` nodes, so (the occupancy expectation of :func:`econ.expected_experts_touched` with
    ``N`` bins and ``k`` balls) ``N * (1 - (1 - 1/N)**k)``, capped at ``max_nodes`` where
    routing is node-limited (DeepSeek-V3: at most 4 nodes per token).

    Parameters
    ----------
    n_active_experts : numeric
        Routed experts per token ``k``. [-]
    n_nodes : numeric
        Nodes the experts are spread over ``N`` (>= 1). [nodes]
    max_nodes : numeric, optional
        Node limit of the router. [nodes]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Expected distinct nodes, the token's own included. [nodes]

    Examples
    --------
    >>> round(expected_nodes_touched(8, 4), 4)
    3.5995

    References
    ----------
    .. [1] DeepSeek-AI, arXiv:2412.19437, §3.2.2 ("we restrict each token to be dispatched to
       at most 4 nodes").
    """
    k = nonnegative("n_active_experts", n_active_experts)
    n = numeric("n_nodes", n_nodes, min_value=1.0)
    inputs = [n_active_experts, n_nodes]
    cap = None
    if max_nodes is not None:
        cap = numeric("max_nodes", max_nodes, min_value=1.0)
        inputs.append(max_nodes)
    return like(nodes_touched(k, n, cap), *inputs)


def expected_max_load_ratio(mean_load, n_bins):
    """Expected busiest-bin load over the mean, for loads thrown uniformly at random.

    ``1 + sqrt(2 * ln(n_bins) / mean_load)``, the heavy-load balls-into-bins result [1]_
    (tight as ``mean_load >> ln(n_bins)``); 1 for one bin. The leading-order form sits a
    little above a simulated expectation (about 1.5% at 144 bins and a mean of 1,000). An
    all-to-all step waits for its busiest GPU, so expert work is scaled by this ratio. It
    assumes that DeepSeek's expert-parallel load balancer (redundant copies of hot experts) has
    made routing look uniform; residual skew of real routers would add to it.

    Parameters
    ----------
    mean_load : numeric
        Mean load per bin, > 0: token-expert pairs per GPU per MoE layer. [-]
    n_bins : numeric
        Bins (GPUs of the expert-parallel group), >= 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Ratio of the expected maximum to the mean load, >= 1. [ratio]

    Examples
    --------
    >>> round(expected_max_load_ratio(2 * 8 * 128, 144), 3)
    1.07

    References
    ----------
    .. [1] M. Raab, A. Steger, "'Balls into Bins' - A Simple and Tight Analysis", RANDOM 1998,
       Theorem 1 (m >> n log n: max load m/n + sqrt(2 (m/n) ln n)).
    """
    m = positive("mean_load", mean_load)
    n = numeric("n_bins", n_bins, min_value=1.0)
    return like(max_load_ratio(m, n), mean_load, n_bins)


def prompt_tok_from_kv_length(kv_length_tok, input_per_output_ratio):
    """Mean prompt length implied by a mean KV length per output token and the token mix.

    A request with prompt ``P`` and ``G`` generated tokens attends, on average over its
    generated tokens, to ``P + G/2`` cached tokens; with ``P = r * G`` (``r`` input tokens
    per output token), ``L = (r + 1/2) G`` and ``P = r L / (r + 1/2)``. Means stand in for
    the distributions, which are not published.

    Parameters
    ----------
    kv_length_tok : numeric
        Mean KV length per output token ``L`` (DeepSeek, Feb 2025: 4,989). [tokens]
    input_per_output_ratio : numeric
        Input tokens per output token ``r`` (608B / 168B on the Day-6 day). [ratio]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Mean prompt length ``P``. [tokens]

    Examples
    --------
    >>> round(prompt_tok_from_kv_length(4989, 608 / 168))
    4383
    """
    kv = positive("kv_length_tok", kv_length_tok)
    r = positive("input_per_output_ratio", input_per_output_ratio)
    return like(r * kv / (r + 0.5), kv_length_tok, input_per_output_ratio)


def prefill_context_tok(prompt_tok, cache_hit_frac=0.0):
    """Mean context a computed prompt token attends to, when a prefix comes from the cache.

    The cached prefix (``h * P`` tokens) is not computed; the rest is, each token attending to
    the prefix and the computed tokens before it: ``h P + ((1 - h) P + 1) / 2``. With no
    hits this is ``(P + 1) / 2``, the causal average :func:`econ.prefill_step` uses.

    Parameters
    ----------
    prompt_tok : numeric
        Prompt length ``P`` (> 0). [tokens]
    cache_hit_frac : numeric, default 0
        Share of the prompt found in the prefix (KV) cache ``h``, in [0, 1). [fraction]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Mean attended context per computed token. [tokens]
    """
    p = positive("prompt_tok", prompt_tok)
    h = numeric("cache_hit_frac", cache_hit_frac, min_value=0.0, max_value=1.0,
                max_inclusive=False)
    return like(_prefill_ctx(p, h), prompt_tok, cache_hit_frac)


# --- sourced inputs ----------------------------------------------------------------------------

def kernel_efficiencies(hardware="h800-sxm"):
    """Achieved shares of a device's peaks, from DeepSeek's published H800 kernel rates.

    - ``matmul_efficiency_frac``: DeepGEMM's "up to 1350+ FP8 TFLOPS on Hopper" over the
      device's dense FP8 peak;
    - ``attention_efficiency_frac``: FlashMLA's 580 TFLOPS BF16, compute-bound, on H800 (the
      February 2025 release, in service on the Day-6 day) over the dense BF16 peak;
    - ``bandwidth_efficiency_frac``: FlashMLA's 3000 GB/s memory-bound over the HBM bandwidth.

    These are best-case kernel rates, not whole-step utilisations; the serving functions
    apply the same shares to every matmul (BF16 ones too), every memory read, and to any
    device a unit is moved to (``hardware=``) by default.

    Parameters
    ----------
    hardware : str, pandas.Series or Mapping, default "h800-sxm"
        The device whose peaks the rates are divided by.

    Returns
    -------
    dict
        ``matmul_efficiency_frac``, ``attention_efficiency_frac``,
        ``bandwidth_efficiency_frac`` (floats in (0, 1]). [fraction]

    References
    ----------
    .. [1] github.com/deepseek-ai/DeepGEMM and github.com/deepseek-ai/FlashMLA, README
       (rows ``deepgemm-fp8-flop-per-s``, ``flashmla-decode-*`` of data/published.csv).
    """
    pub = data.load("published")
    hw = resolve_hardware(hardware)
    _, fp8 = hardware_value(hw, PEAK_FLOP_COLUMN["fp8"])
    _, bf16 = hardware_value(hw, PEAK_FLOP_COLUMN["bf16"])
    _, bw = hardware_value(hw, "memory_bytes_per_s")
    out = {
        "matmul_efficiency_frac": pub.loc["deepgemm-fp8-flop-per-s", "value"] / fp8,
        "attention_efficiency_frac":
            pub.loc["flashmla-decode-compute-bound-flop-per-s", "value"] / bf16,
        "bandwidth_efficiency_frac":
            pub.loc["flashmla-decode-memory-bound-bytes-per-s", "value"] / bw,
    }
    return {k: float(np.minimum(np.asarray(v, dtype=float), 1.0)) for k, v in out.items()}


def day6_inputs():
    """The Day-6 traffic and prices, from ``data/published.csv``, as the prediction uses them.

    Returns
    -------
    dict
        ``cache_hit_frac`` (0.563), ``kv_length_tok`` (4,989), ``input_per_output_ratio``
        (608B / 168B), ``prompt_tok`` (:func:`prompt_tok_from_kv_length`),
        ``min_tok_per_s_per_user`` (20, the low end of the published 20-22: the speed a
        provider keeps every user above, used as the decode batch's latency target),
        ``acceptance_frac`` (0.875, the middle of V3's 85-90% MTP acceptance),
        ``usd_per_gpu_hour`` (2), and the published per-node rates
        ``prefill_tok_per_s_per_node`` (73.7k, cache hits included) and
        ``decode_tok_per_s_per_node`` (14.8k).
    """
    pub = data.load("published")

    def v(name, col="value"):
        return float(pub.loc[name, col])

    ratio = v("deepseek-day6-input-tok-per-day") / v("deepseek-day6-output-tok-per-day")
    kv = v("deepseek-day6-average-kv-length-tok")
    return dict(
        cache_hit_frac=v("deepseek-day6-cache-hit-share"),
        kv_length_tok=kv,
        input_per_output_ratio=ratio,
        prompt_tok=float(prompt_tok_from_kv_length(kv, ratio)),
        min_tok_per_s_per_user=v("deepseek-day6-per-user-output-tok-per-s", "low"),
        acceptance_frac=v("deepseek-v3-mtp-acceptance"),
        usd_per_gpu_hour=v("deepseek-day6-rental-usd-per-hour"),
        prefill_tok_per_s_per_node=v("deepseek-day6-prefill-tok-per-s-per-node"),
        decode_tok_per_s_per_node=v("deepseek-day6-decode-tok-per-s-per-node"),
        per_user_tok_per_s=v("deepseek-day6-per-user-output-tok-per-s"),
    )


# --- decode ------------------------------------------------------------------------------------

def deployment_decode_step(deployment, n_sequences_per_device, context_tok, *,
                           acceptance_frac=0.0, draft_depth=None, overlap=True,
                           matmul_efficiency_frac=None, attention_efficiency_frac=None,
                           bandwidth_efficiency_frac=None, link_rates="measured",
                           reserve_frac=0.0, model=None, hardware=None):
    """One decode step of an expert-parallel unit, per device: where the time goes.

    Each device decodes its own ``n_sequences_per_device`` sequences (attention and shared
    weights replicated, data parallel) and serves the tokens of the whole unit that pick its
    expert slots. See the module docstring for the phases.

    Parameters
    ----------
    deployment : str or Mapping
        A decode row of ``data/deployments.csv`` (e.g. ``"deepseek-v3-h800-day6-decode"``,
        or ``"deepseek-v2-h800-node"``: a node with no expert parallelism, weights split
        evenly, no communication) or a mapping of its columns.
    n_sequences_per_device : numeric
        Sequences each device decodes together (>= 0). [-]
    context_tok : numeric
        Mean KV length a sequence attends to (> 0). [tokens]
    acceptance_frac : numeric, default 0
        Acceptance of drafted (MTP) tokens, in [0, 1]. [fraction]
    draft_depth : numeric, optional
        Drafted tokens per step; default the model's ``n_mtp_modules`` (V3: 1). [tokens]
    overlap : bool, default True
        Hide dispatch/combine under compute (``max``) with the unit's microbatches, or add it
        (``sum``, one batch). See :func:`overlap_time_s`.
    matmul_efficiency_frac, attention_efficiency_frac, bandwidth_efficiency_frac : numeric, optional
        Achieved shares of the FP8/BF16 matmul peak, the BF16 attention peak and the HBM
        bandwidth, in (0, 1]; default :func:`kernel_efficiencies` (DeepGEMM, FlashMLA on H800).
        Pass 1.0 for the datasheet roofline. [fraction]
    link_rates : {"measured", "nominal"}, default "measured"
        DeepEP's measured dispatch/combine rates for the unit, or the nominal link bandwidth.
    reserve_frac : numeric, default 0
        Device memory kept free (activations, communication buffers) when counting how many
        sequences fit, in [0, 1). [fraction]
    model, hardware : str or Mapping, optional
        Override the deployment's model or device (what-if).

    Returns
    -------
    dict
        Per device and per step unless named otherwise: ``n_sequences_per_device``,
        ``tok_per_step`` (per sequence) [tokens]; ``weight_read_bytes``, ``kv_read_bytes``,
        ``dispatch_bytes``, ``combine_bytes`` [bytes]; ``attention_flop``, ``matmul_flop``
        [FLOP]; ``load_imbalance_ratio`` [ratio]; ``attention_s``, ``dense_s``,
        ``experts_s``, ``compute_s``, ``dispatch_s``, ``combine_s``, ``comm_s``, ``draft_s``,
        ``step_s`` [s]; ``decode_tok_per_s_per_user``, ``decode_tok_per_s_per_device``,
        ``decode_tok_per_s_per_node`` [tokens/s]; ``held_bytes_per_device`` [bytes],
        ``max_sequences_per_device`` [-] (what fits in memory at ``context_tok``), and
        ``attention_bound_compute``, ``dense_bound_compute``, ``experts_bound_compute``
        (1.0 where the phase is set by FLOPs, 0.0 where by bytes). ``compute_s`` includes the
        slowdown of SMs lent to communication while overlapping; ``dispatch_s`` and
        ``combine_s`` split the binding link's time (IB, or NVLink where it is slower).

    Raises
    ------
    KeyError
        Unknown deployment (the message lists the valid ones).
    ValueError
        A prefill row, or an input out of range (the message names it).

    Notes
    -----
    Not modelled: the embedding table read row by row (counted whole), activations' memory
    traffic, sampling and scheduling gaps, latency of small messages beyond what DeepEP's
    measured rates include, skew of real routing beyond :func:`expected_max_load_ratio`,
    and load that varies through the day (the published rates are day averages).
    """
    d = _deployment(deployment, "decode")
    ctx = _ctx(d, model, hardware, matmul_efficiency_frac, attention_efficiency_frac,
               bandwidth_efficiency_frac, link_rates)
    b = nonnegative("n_sequences_per_device", n_sequences_per_device)
    L, a, k, reserve = _decode_args(ctx, context_tok, acceptance_frac, draft_depth, reserve_frac)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = _decode(ctx, b, L, a, k, overlap, reserve)
    _check_finite(out, "n_sequences_per_device, context_tok")
    inputs = [n_sequences_per_device, context_tok, acceptance_frac, matmul_efficiency_frac,
              attention_efficiency_frac, bandwidth_efficiency_frac, reserve_frac,
              *([] if draft_depth is None else [draft_depth])]
    return {key: like(v, *_arrays(inputs)) for key, v in out.items()}


def deployment_decode_batch(deployment, context_tok, min_tok_per_s_per_user=None, *,
                            acceptance_frac=0.0, draft_depth=None, overlap=True,
                            matmul_efficiency_frac=None, attention_efficiency_frac=None,
                            bandwidth_efficiency_frac=None, link_rates="measured",
                            reserve_frac=0.0, model=None, hardware=None):
    """Largest whole batch per device that fits in memory and keeps a per-user speed.

    A provider fills each device with as many sequences as its memory holds, unless that
    would slow every user below the speed it promises; then it stops at the largest batch
    that still meets it. Per-user speed falls as the batch grows (the step gets longer), so
    the batch is found by bisection.

    Parameters
    ----------
    deployment, context_tok, acceptance_frac, draft_depth, overlap, ..., hardware
        As in :func:`deployment_decode_step`.
    min_tok_per_s_per_user : numeric, optional
        Speed each user must see (> 0); ``None``: memory alone decides. [tokens/s]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sequences per device; 0 where even one sequence misses the speed or does not fit. [-]
    """
    d = _deployment(deployment, "decode")
    ctx = _ctx(d, model, hardware, matmul_efficiency_frac, attention_efficiency_frac,
               bandwidth_efficiency_frac, link_rates)
    L, a, k, reserve = _decode_args(ctx, context_tok, acceptance_frac, draft_depth, reserve_frac)
    slo = None if min_tok_per_s_per_user is None else positive("min_tok_per_s_per_user",
                                                               min_tok_per_s_per_user)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        batch = _best_batch(ctx, L, a, k, overlap, reserve, slo)
    _check_finite({"n_sequences_per_device": batch}, "context_tok")
    inputs = [context_tok, min_tok_per_s_per_user, acceptance_frac, matmul_efficiency_frac,
              attention_efficiency_frac, bandwidth_efficiency_frac, reserve_frac,
              *([] if draft_depth is None else [draft_depth])]
    return like(batch, *_arrays(inputs))


def deployment_decode(deployment, context_tok, *, n_sequences_per_device=None,
                      min_tok_per_s_per_user=None, **kwargs):
    """Decode throughput of a unit at a given batch, or at the batch a provider would run.

    ``n_sequences_per_device=None`` takes :func:`deployment_decode_batch` (largest batch
    that fits and meets ``min_tok_per_s_per_user``); other keywords as in
    :func:`deployment_decode_step`, whose dict this returns.
    """
    if n_sequences_per_device is None:
        n_sequences_per_device = deployment_decode_batch(
            deployment, context_tok, min_tok_per_s_per_user, **kwargs)
    return deployment_decode_step(deployment, n_sequences_per_device, context_tok, **kwargs)


def decode_time_breakdown(deployment, n_sequences_per_device, context_tok, **kwargs):
    """Where one decode step's time goes, overlapped and not, as a tidy table for a chart.

    Takes the arguments of :func:`deployment_decode_step` (not ``overlap``: both cases are
    returned, at the same batch). Scalar inputs only.

    Returns
    -------
    pandas.DataFrame
        One row per case and component, columns ``case`` ("overlapped", "not overlapped"),
        ``n_sequences_per_device`` [-], ``component`` ("MLA attention (BF16)", "dense matmuls
        and replicated weights (FP8)", "routed experts (FP8)", "dispatch (FP8)", "combine
        (BF16)", "exposed communication", "MTP draft"), ``time_s`` [s], ``share_frac`` of the
        step [fraction] and ``bound`` ("compute", "memory" or "network"). Overlapped, the
        communication hidden under compute is not a component; only what sticks out
        ("exposed communication") is. The shares of a case sum to 1.
    """
    if "overlap" in kwargs:
        raise ValueError("decode_time_breakdown returns both overlap cases; drop 'overlap'")
    rows = []
    for case, ov in (("overlapped", True), ("not overlapped", False)):
        s = deployment_decode_step(deployment, n_sequences_per_device, context_tok,
                                   overlap=ov, **kwargs)
        rows += _breakdown_rows(s, case, ov)
    return pd.DataFrame(rows, columns=_BREAKDOWN_COLUMNS)


def day6_decode_breakdown(**kwargs):
    """:func:`decode_time_breakdown` of the Day-6 decode unit, each case at its predicted batch.

    The overlapped and not-overlapped predictions choose different batches
    (:func:`day6_prediction`); each case is shown at its own (column
    ``n_sequences_per_device``). Keywords as in :func:`day6_prediction`.

    Returns
    -------
    pandas.DataFrame
        As :func:`decode_time_breakdown`.
    """
    if "overlap" in kwargs:
        raise ValueError("day6_decode_breakdown returns both overlap cases; drop 'overlap'")
    rows = []
    for case, ov in (("overlapped", True), ("not overlapped", False)):
        s = day6_prediction(overlap=ov, **kwargs)["decode"]
        rows += _breakdown_rows(s, case, ov)
    return pd.DataFrame(rows, columns=_BREAKDOWN_COLUMNS)


def day6_step_time_table(**kwargs):
    """:func:`day6_decode_breakdown` for a chart: milliseconds, each case labelled with its batch.

    Returns
    -------
    pandas.DataFrame
        As :func:`day6_decode_breakdown`, with ``case`` reading "overlapped, 134 per GPU" or
        "added, 79 per GPU" (communication added: the "not overlapped" case) and a column
        ``time_ms`` (``time_s`` in milliseconds). [ms]
    """
    b = day6_decode_breakdown(**kwargs)
    label = (b["case"].str.replace("not overlapped", "added") + ", "
             + b["n_sequences_per_device"].map("{:.0f}".format) + " per GPU")
    return b.assign(case=label, time_ms=1e3 * b["time_s"])


_BREAKDOWN_COLUMNS = ["case", "n_sequences_per_device", "component", "time_s", "share_frac",
                      "bound"]


def _breakdown_rows(s, case, ov):
    for v in s.values():
        if np.ndim(v) != 0:
            raise ValueError("the decode breakdown takes scalar inputs; use "
                             "deployment_decode_step for arrays")
    raw = s["attention_s"] + s["dense_s"] + s["experts_s"]
    slow = s["compute_s"] / raw if raw > 0 else 1.0
    parts = [
        ("MLA attention (BF16)", s["attention_s"] * slow,
         "compute" if s["attention_bound_compute"] else "memory"),
        ("dense matmuls and replicated weights (FP8)", s["dense_s"] * slow,
         "compute" if s["dense_bound_compute"] else "memory"),
        ("routed experts (FP8)", s["experts_s"] * slow,
         "compute" if s["experts_bound_compute"] else "memory"),
    ]
    if ov:
        parts.append(("exposed communication", max(s["comm_s"] - s["compute_s"], 0.0),
                      "network"))
    else:
        parts += [("dispatch (FP8)", s["dispatch_s"], "network"),
                  ("combine (BF16)", s["combine_s"], "network")]
    parts.append(("MTP draft", s["draft_s"], "compute"))
    return [dict(case=case, n_sequences_per_device=float(s["n_sequences_per_device"]),
                 component=comp, time_s=float(t), share_frac=float(t / s["step_s"]),
                 bound=bound) for comp, t, bound in parts]


# --- prefill -----------------------------------------------------------------------------------

def deployment_prefill(deployment, prompt_tok, cache_hit_frac=0.0, *, overlap=True,
                       tok_per_device_per_pass=PREFILL_TOK_PER_DEVICE_PER_PASS,
                       matmul_efficiency_frac=None, attention_efficiency_frac=None,
                       bandwidth_efficiency_frac=None, link_rates="measured", model=None,
                       hardware=None):
    """Prefill throughput of an expert-parallel unit, cache hits counted as DeepSeek counts them.

    Each device computes ``tok_per_device_per_pass`` prompt tokens that missed the prefix
    cache per pass; each attends to :func:`prefill_context_tok` tokens. The phases are
    those of decode (MLA attention here materialises keys and values per head, the prefill
    cost of :func:`econ.attention_flop_per_ctx_tok`), and the MTP module runs over the prompt
    as one more layer. Served input tokens per second = computed tokens per second
    ``/ (1 - cache_hit_frac)``: the hits are read from the cache, not computed.

    Parameters
    ----------
    deployment : str or Mapping
        A prefill row of ``data/deployments.csv`` (``"deepseek-v3-h800-day6-prefill"``).
    prompt_tok : numeric
        Mean prompt length (> 0). [tokens]
    cache_hit_frac : numeric, default 0
        Share of prompt tokens served from the prefix cache, in [0, 1). [fraction]
    overlap : bool, default True
        Hide dispatch/combine under compute (the two-microbatch schedule; the normal kernels
        then take ``n_comm_sms`` of the device's SMs from compute) or add it.
    tok_per_device_per_pass : numeric, default 4096
        Computed tokens per device per pass (:data:`PREFILL_TOK_PER_DEVICE_PER_PASS`). [tokens]
    matmul_efficiency_frac, attention_efficiency_frac, bandwidth_efficiency_frac, link_rates, \
    model, hardware
        As in :func:`deployment_decode_step`.

    Returns
    -------
    dict
        Per device and per pass: ``context_tok`` [tokens]; ``weight_read_bytes``,
        ``dispatch_bytes``, ``combine_bytes`` [bytes]; ``attention_flop``, ``matmul_flop``
        [FLOP]; ``load_imbalance_ratio`` [ratio]; ``attention_s``, ``dense_s``,
        ``experts_s``, ``compute_s``, ``dispatch_s``, ``combine_s``, ``comm_s``,
        ``mtp_s``, ``pass_s`` [s]; ``computed_tok_per_s_per_device``,
        ``computed_tok_per_s_per_node``, ``prefill_tok_per_s_per_node`` (hits included)
        [tokens/s].
    """
    d = _deployment(deployment, "prefill")
    ctx = _ctx(d, model, hardware, matmul_efficiency_frac, attention_efficiency_frac,
               bandwidth_efficiency_frac, link_rates)
    p = positive("prompt_tok", prompt_tok)
    h = numeric("cache_hit_frac", cache_hit_frac, min_value=0.0, max_value=1.0,
                max_inclusive=False)
    n = positive("tok_per_device_per_pass", tok_per_device_per_pass)
    if not isinstance(overlap, (bool, np.bool_)):
        raise ValueError(f"overlap must be True or False, got {overlap!r}")
    m = ctx["m"]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        L = _prefill_ctx(p, h)
        t = _phases(ctx, 1.0, n, L, "prefill", overlap)
        mtp_s = ctx["n_mtp"] / m.n_layers * t["step_s"]
        pass_s = t["step_s"] + mtp_s
        per_dev = n / pass_s
    out = dict(context_tok=L, weight_read_bytes=t["weight_read_bytes"],
               dispatch_bytes=t["dispatch_bytes"], combine_bytes=t["combine_bytes"],
               attention_flop=t["attention_flop"], matmul_flop=t["matmul_flop"],
               load_imbalance_ratio=t["load_imbalance_ratio"], attention_s=t["attention_s"],
               dense_s=t["dense_s"], experts_s=t["experts_s"], compute_s=t["compute_s"],
               dispatch_s=t["dispatch_s"], combine_s=t["combine_s"], comm_s=t["comm_s"],
               mtp_s=mtp_s, pass_s=pass_s, computed_tok_per_s_per_device=per_dev,
               computed_tok_per_s_per_node=per_dev * ctx["g"],
               prefill_tok_per_s_per_node=per_dev * ctx["g"] / (1.0 - h))
    _check_finite(out, "prompt_tok, tok_per_device_per_pass")
    inputs = [prompt_tok, cache_hit_frac, tok_per_device_per_pass, matmul_efficiency_frac,
              attention_efficiency_frac, bandwidth_efficiency_frac]
    return {key: like(v, *_arrays(inputs)) for key, v in out.items()}


# --- one node at its largest batch (DeepSeek-V2 vs 67B) ------------------------------------------

def max_generation_throughput(deployment, context_tok, *, reserve_frac=0.0, **kwargs):
    """Generation tokens per second of a node decoding as many sequences as its memory holds.

    The V2 report's "maximum generation throughput": the batch is the memory limit at the
    context length (:func:`deployment_decode_batch` with no speed target), the step as in
    :func:`deployment_decode_step`.

    Parameters
    ----------
    deployment : str or Mapping
        A decode row (``"deepseek-v2-h800-node"``, ``"deepseek-67b-h800-node"``).
    context_tok : numeric
        Mean KV length per generated token (> 0). [tokens]
    reserve_frac : numeric, default 0
        Memory kept free, in [0, 1). [fraction]
    **kwargs
        Efficiencies, ``overlap``, ``acceptance_frac`` ... as in
        :func:`deployment_decode_step`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Tokens per second per node. [tokens/s]
    """
    return deployment_decode(deployment, context_tok, reserve_frac=reserve_frac,
                             **kwargs)["decode_tok_per_s_per_node"]


def max_generation_throughput_ratio(deployment, baseline, context_tok, **kwargs):
    """Ratio of two nodes' maximum generation throughputs at the same context length.

    ``max_generation_throughput(deployment) / max_generation_throughput(baseline)``; the
    V2 report's 5.76x is ``("deepseek-v2-h800-node", "deepseek-67b-h800-node")``. Keywords
    go to both. [ratio]
    """
    _deployment(baseline, "decode", "baseline")
    top = max_generation_throughput(deployment, context_tok, **kwargs)
    bottom = max_generation_throughput(baseline, context_tok, **kwargs)
    if np.any(np.asarray(bottom) <= 0):
        raise ValueError(f"baseline {baseline!r} fits no sequence at this context_tok "
                         f"(max {float(np.max(context_tok)):g}); its throughput is 0")
    return top / bottom


# --- the Day-6 prediction and its result rows -----------------------------------------------

def day6_prediction(overlap=True, **kwargs):
    """Predict DeepSeek's Day-6 per-node rates and the $/Mtok that follows, from sourced inputs.

    Decode: the EP144 unit at the Day-6 mean KV length, MTP with V3's published acceptance,
    each device running the largest batch that fits in memory and keeps every user at the
    published lower per-user speed (20 tokens/s; :func:`day6_inputs`). Prefill: the EP32 unit
    on the mean prompt implied by the Day-6 KV length and token mix, the published cache-hit
    share skipped. Cost: $2 per GPU-hour over the per-node rates.

    Parameters
    ----------
    overlap : bool, default True
        DeepSeek overlaps communication with compute (dual microbatches); ``False`` adds it.
    **kwargs
        Efficiencies or ``link_rates`` for both phases (see :func:`deployment_decode_step`).

    Returns
    -------
    dict
        ``prefill`` and ``decode`` (the dicts of :func:`deployment_prefill` and
        :func:`deployment_decode_step`), ``inputs`` (:func:`day6_inputs`), and
        ``prefill_tok_per_s_per_node``, ``decode_tok_per_s_per_node`` [tokens/s],
        ``input_cost_usd_per_mtok``, ``output_cost_usd_per_mtok`` [USD/Mtok],
        ``n_sequences_per_device`` [-].
    """
    x = day6_inputs()
    dep = _deployment(DAY6_DECODE, "decode")
    dec = deployment_decode(DAY6_DECODE, x["kv_length_tok"],
                            min_tok_per_s_per_user=x["min_tok_per_s_per_user"],
                            acceptance_frac=x["acceptance_frac"], overlap=overlap, **kwargs)
    pre = deployment_prefill(DAY6_PREFILL, x["prompt_tok"], x["cache_hit_frac"],
                             overlap=overlap, **kwargs)
    node_usd_per_hour = x["usd_per_gpu_hour"] * float(dep["n_devices_per_node"])
    return dict(
        inputs=x, decode=dec, prefill=pre,
        prefill_tok_per_s_per_node=pre["prefill_tok_per_s_per_node"],
        decode_tok_per_s_per_node=dec["decode_tok_per_s_per_node"],
        n_sequences_per_device=dec["n_sequences_per_device"],
        input_cost_usd_per_mtok=cost_usd_per_mtok(node_usd_per_hour,
                                                  pre["prefill_tok_per_s_per_node"]),
        output_cost_usd_per_mtok=cost_usd_per_mtok(node_usd_per_hour,
                                                   dec["decode_tok_per_s_per_node"]),
    )


def serving_result_rows(rel_tol=0.30, v2_kv_length_tok=None, **kwargs):
    """Result rows for :func:`econ.results_frame`: predicted vs published, with sources.

    Rows (metric / subject):

    - ``prefill_tok_per_s_per_node_predicted``, ``decode_tok_per_s_per_node_predicted``,
      ``predicted_input_cost_usd_per_mtok``, ``predicted_output_cost_usd_per_mtok``,
      ``decode_sequences_per_device_count`` / ``deepseek-v3:h800-day6`` (communication
      overlapped, as DeepSeek runs it) and the same five / ``deepseek-v3:h800-day6:no-overlap``;
    - ``max_generation_throughput_ratio_predicted`` / ``deepseek-v2-vs-deepseek-67b`` and
      ``max_generation_predicted_tok_per_s`` / ``deepseek-v2:h800-node`` (published: "exceeding
      50K") and ``deepseek-67b:h800-node`` (50K / 5.76, derived).

    The $/Mtok rows compare with the published per-node rates at $2 per GPU-hour (derived);
    the batch row with the concurrency the published rates imply (14.8k / 21 / 8, derived).

    Parameters
    ----------
    rel_tol : float, default 0.30
        Tolerance of the verdicts (the issue's 30% target). [fraction]
    v2_kv_length_tok : float, optional
        KV length of the V2-vs-67B comparison; default the assumption
        ``deepseek_67b_service_kv_length_tok`` of data/assumptions.csv. [tokens]
    **kwargs
        Efficiencies or ``link_rates`` for every prediction (see
        :func:`deployment_decode_step`); the defaults are DeepSeek's published rates.

    Returns
    -------
    list of dict
    """
    x = day6_inputs()
    gpus = float(_deployment(DAY6_DECODE, "decode")["n_devices_per_node"])
    node_usd = x["usd_per_gpu_hour"] * gpus
    pub_in = float(cost_usd_per_mtok(node_usd, x["prefill_tok_per_s_per_node"]))
    pub_out = float(cost_usd_per_mtok(node_usd, x["decode_tok_per_s_per_node"]))
    pub_batch = x["decode_tok_per_s_per_node"] / x["per_user_tok_per_s"] / gpus
    cost_src = "derived:day6-per-node-rate-at-2-usd-per-gpu-hour"
    rows = []
    for subject, ov in ((DAY6_SUBJECT, True), (DAY6_SUBJECT + ":no-overlap", False)):
        p = day6_prediction(overlap=ov, **kwargs)
        rows += [
            dict(metric="prefill_tok_per_s_per_node_predicted", subject=subject,
                 value=float(p["prefill_tok_per_s_per_node"]),
                 published_value=x["prefill_tok_per_s_per_node"], source_url=_DAY6_URL,
                 rel_tol=rel_tol),
            dict(metric="decode_tok_per_s_per_node_predicted", subject=subject,
                 value=float(p["decode_tok_per_s_per_node"]),
                 published_value=x["decode_tok_per_s_per_node"], source_url=_DAY6_URL,
                 rel_tol=rel_tol),
            dict(metric="predicted_input_cost_usd_per_mtok", subject=subject,
                 value=float(p["input_cost_usd_per_mtok"]), published_value=pub_in,
                 source_url=cost_src, rel_tol=rel_tol),
            dict(metric="predicted_output_cost_usd_per_mtok", subject=subject,
                 value=float(p["output_cost_usd_per_mtok"]), published_value=pub_out,
                 source_url=cost_src, rel_tol=rel_tol),
            dict(metric="decode_sequences_per_device_count", subject=subject,
                 value=float(p["n_sequences_per_device"]), published_value=pub_batch,
                 source_url="derived:day6-decode-rate-over-per-user-speed-over-8-gpus",
                 rel_tol=rel_tol),
        ]
    kv = float(data.load("assumptions").loc["deepseek_67b_service_kv_length_tok", "value"]) \
        if v2_kv_length_tok is None else float(positive("v2_kv_length_tok", v2_kv_length_tok))
    v2 = float(max_generation_throughput("deepseek-v2-h800-node", kv, **kwargs))
    base = float(max_generation_throughput("deepseek-67b-h800-node", kv, **kwargs))
    pub = data.load("published")
    ratio_pub = float(pub.loc["deepseek-v2-max-generation-throughput-ratio", "value"])
    v2_pub = float(pub.loc["deepseek-v2-generation-tok-per-s-per-node", "value"])

    def bound(value, low):
        # the V2 report's "exceeding 50K" is a lower bound, and so is 50K / 5.76 for the 67B
        if value >= low:
            return f"consistent with the published lower bound ({value / low:.2g}x it)"
        return f"below the published lower bound by {1.0 - value / low:.0%}"

    rows += [
        dict(metric="max_generation_throughput_ratio_predicted",
             subject="deepseek-v2-vs-deepseek-67b", value=v2 / base,
             published_value=ratio_pub, source_url=_V2_URL, rel_tol=rel_tol),
        dict(metric="max_generation_predicted_tok_per_s", subject="deepseek-v2:h800-node",
             value=v2, published_value=v2_pub, source_url=_V2_URL,
             verdict=bound(v2, v2_pub)),
        dict(metric="max_generation_predicted_tok_per_s", subject="deepseek-67b:h800-node",
             value=base, published_value=v2_pub / ratio_pub,
             source_url="derived:v2-generation-rate-over-5.76",
             verdict=bound(base, v2_pub / ratio_pub)),
    ]
    return rows


# --- private -------------------------------------------------------------------------------------

# --- the Day-6 prediction, laid out for reading -------------------------------------------------

_CASES = (("overlapped", True), ("added", False))


def day6_decode_cases(**kwargs):
    """The Day-6 decode prediction case by case, and both cases at the published batch.

    Rows: communication ``overlapped`` and ``added``, each at the batch it predicts
    (:func:`day6_prediction`); then each at the batch the published figures imply (14.8k
    tokens/s per node over ~21 tokens/s per user over 8 GPUs, rounded).

    Parameters
    ----------
    **kwargs
        Efficiencies and ``link_rates`` (as in :func:`deployment_decode_step`).

    Returns
    -------
    pandas.DataFrame
        ``case``, ``batch`` ("predicted" or "published"), ``n_sequences_per_device``,
        ``max_sequences_per_device`` [count], ``decode_tok_per_s_per_user``,
        ``decode_tok_per_s_per_node`` [tokens/s], ``compute_s``, ``comm_s``, ``step_s``
        (per decode step) [s].
    """
    x = day6_inputs()
    dep = _deployment(DAY6_DECODE, "decode")
    published_batch = float(np.round(x["decode_tok_per_s_per_node"] / x["per_user_tok_per_s"]
                                     / float(dep["n_devices_per_node"])))
    steps = [(case, "predicted", day6_prediction(overlap=ov, **kwargs)["decode"])
             for case, ov in _CASES]
    steps += [(case, "published", deployment_decode_step(
        DAY6_DECODE, published_batch, x["kv_length_tok"], acceptance_frac=x["acceptance_frac"],
        overlap=ov, **kwargs)) for case, ov in _CASES]
    cols = ["n_sequences_per_device", "max_sequences_per_device", "decode_tok_per_s_per_user",
            "decode_tok_per_s_per_node", "compute_s", "comm_s", "step_s"]
    return pd.DataFrame([dict(case=case, batch=batch, **{c: float(s[c]) for c in cols})
                         for case, batch, s in steps])


def day6_decode_sweep(n_points=24, **kwargs):
    """Day-6 decode throughput per node against speed per user, batch swept, with the published
    point.

    The batch per GPU runs geometrically from 1 to what fits in memory (overlapped case),
    rounded to whole sequences.

    Parameters
    ----------
    n_points : int
        Batches on the sweep before rounding. [count]
    **kwargs
        Efficiencies and ``link_rates``.

    Returns
    -------
    pandas.DataFrame
        Long: ``series`` ("predicted, communication overlapped", "... added", "published,
        Day-6"), ``n_sequences_per_device`` [count], ``decode_tok_per_s_per_user``,
        ``decode_tok_per_s_per_node`` [tokens/s]. The published series has two points, the
        low and high ends of the published per-user speed, at the batch they imply.
    """
    x = day6_inputs()
    pub = data.load("published").loc["deepseek-day6-per-user-output-tok-per-s"]
    dep = _deployment(DAY6_DECODE, "decode")
    fit = day6_prediction(overlap=True, **kwargs)["decode"]["max_sequences_per_device"]
    batch = np.unique(np.round(np.geomspace(1.0, float(fit), int(n_points))))
    frames = []
    for case, ov in _CASES:
        s = deployment_decode_step(DAY6_DECODE, batch, x["kv_length_tok"],
                                   acceptance_frac=x["acceptance_frac"], overlap=ov, **kwargs)
        frames.append(pd.DataFrame({
            "series": f"predicted, communication {case}", "n_sequences_per_device": batch,
            "decode_tok_per_s_per_user": s["decode_tok_per_s_per_user"],
            "decode_tok_per_s_per_node": s["decode_tok_per_s_per_node"]}))
    per_user = np.array([pub["low"], pub["high"]], dtype=float)
    frames.append(pd.DataFrame({
        "series": "published, Day-6", "n_sequences_per_device":
            x["decode_tok_per_s_per_node"] / x["per_user_tok_per_s"]
            / float(dep["n_devices_per_node"]),
        "decode_tok_per_s_per_user": per_user,
        "decode_tok_per_s_per_node": x["decode_tok_per_s_per_node"]}))
    return pd.concat(frames, ignore_index=True)


def v2_ratio_sweep(kv_length_tok, tolerance_frac, n_points=9, **kwargs):
    """DeepSeek-V2 over DeepSeek 67B, maximum generation throughput, across the unpublished
    context length of the V2 report's test, with the published 5.76x and a tolerance band.

    Parameters
    ----------
    kv_length_tok : float
        The run's KV length per generated token (marked on its own). [tokens]
    tolerance_frac : float
        Half-width of the band around the published ratio. [fraction]
    n_points : int
        Points across the assumed range (``deepseek_67b_service_kv_length_tok`` low to high
        in ``data/assumptions.csv``). [count]
    **kwargs
        Efficiencies and ``link_rates``.

    Returns
    -------
    pandas.DataFrame
        Long: ``series`` ("predicted", "this run's KV length", "published", "published -30%",
        "published +30%"), ``kv_length_tok`` [tokens], ``throughput_ratio`` [ratio].
    """
    fraction("tolerance_frac", tolerance_frac)
    kv_length_tok = float(positive("kv_length_tok", kv_length_tok))
    a = data.load("assumptions").loc["deepseek_67b_service_kv_length_tok"]
    pub = float(data.load("published").loc["deepseek-v2-max-generation-throughput-ratio",
                                            "value"])
    grid = np.geomspace(float(a["low"]), float(a["high"]), int(n_points))
    nodes = ("deepseek-v2-h800-node", "deepseek-67b-h800-node")
    ends = grid[[0, -1]]
    return pd.concat([
        pd.DataFrame({"series": "predicted", "kv_length_tok": grid,
                      "throughput_ratio": max_generation_throughput_ratio(*nodes, grid,
                                                                          **kwargs)}),
        pd.DataFrame({"series": "this run's KV length", "kv_length_tok": [kv_length_tok],
                      "throughput_ratio": [_run_ratio(nodes, kv_length_tok, kwargs)]}),
        pd.DataFrame({"series": "published", "kv_length_tok": ends, "throughput_ratio": pub}),
    ] + [pd.DataFrame({"series": f"published {sign * tolerance_frac:+.0%}", "kv_length_tok": ends,
                       "throughput_ratio": pub * (1.0 + sign * tolerance_frac)})
         for sign in (-1.0, 1.0)], ignore_index=True)


def _run_ratio(nodes, kv_length_tok, kwargs):
    try:
        return float(max_generation_throughput_ratio(*nodes, kv_length_tok, **kwargs))
    except ValueError as exc:
        raise ValueError(f"kv_length_tok={kv_length_tok:g}: {exc}") from None


def day6_prefill_spread(spread_ratio, **kwargs):
    """Day-6 prefill per node when prompt lengths spread: attention at a multiple of the mean.

    Attention's cost per token grows with the prompt, so prompts of unequal length cost more
    than the mean prompt: the length-weighted prompt is 1x the mean when all are equal and
    2x for an exponential spread.

    Parameters
    ----------
    spread_ratio : array_like
        Length-weighted prompt over the mean prompt. [ratio]
    **kwargs
        Efficiencies and ``link_rates``.

    Returns
    -------
    pandas.DataFrame
        ``case`` ("overlapped", "added"), ``spread_ratio`` [ratio],
        ``prefill_tok_per_s_per_node`` [tokens/s], ``error_frac`` (against the published
        73.7k) [fraction].
    """
    x = day6_inputs()
    k = np.atleast_1d(np.asarray(positive("spread_ratio", spread_ratio), dtype=float))
    frames = []
    for case, ov in _CASES:
        rate = deployment_prefill(DAY6_PREFILL, x["prompt_tok"] * k, x["cache_hit_frac"],
                                  overlap=ov, **kwargs)["prefill_tok_per_s_per_node"]
        frames.append(pd.DataFrame({
            "case": case, "spread_ratio": k, "prefill_tok_per_s_per_node": rate,
            "error_frac": rate / x["prefill_tok_per_s_per_node"] - 1.0}))
    return pd.concat(frames, ignore_index=True)


def day6_cache_hit_load(kv_bytes_per_tok):
    """Bandwidth the Day-6 cache hits need to reach HBM, against the prefill node's InfiniBand.

    Parameters
    ----------
    kv_bytes_per_tok : float
        KV cache per token as loaded (V3, BF16). [bytes/token]

    Returns
    -------
    dict
        ``load_bytes_per_s`` (published prefill rate x cache-hit share x bytes per token, per
        node) [bytes/s] and ``ib_share_frac`` (of the node's InfiniBand) [fraction].
    """
    x = day6_inputs()
    d = _deployment(DAY6_PREFILL, "prefill")
    load = x["prefill_tok_per_s_per_node"] * x["cache_hit_frac"] * positive(
        "kv_bytes_per_tok", kv_bytes_per_tok)
    return dict(load_bytes_per_s=float(load), ib_share_frac=float(
        load / (float(d["ib_bytes_per_s"]) * float(d["n_devices_per_node"]))))


def serving_prediction_claims():
    """Wording of each prediction row of :func:`serving_result_rows`, keyed by (metric, subject).

    For :func:`econ.prediction_table` and :func:`econ.verdict_table`: the Day-6 per-node
    rates, $/Mtok and batch with communication overlapped and added, and V2 over 67B.

    Returns
    -------
    dict
        ``{(metric, subject): label}``, in reading order.
    """
    quantities = {
        "prefill_tok_per_s_per_node_predicted": "Prefill, input tokens/s per node (cache hits "
                                                "included)",
        "decode_tok_per_s_per_node_predicted": "Decode, output tokens/s per node",
        "predicted_input_cost_usd_per_mtok": "Input $/Mtok at $2 per GPU-hour",
        "predicted_output_cost_usd_per_mtok": "Output $/Mtok at $2 per GPU-hour",
        "decode_sequences_per_device_count": "Decode sequences per GPU (published: 14.8k / 21 "
                                             "/ 8)",
    }
    cases = {DAY6_SUBJECT: "overlapped", f"{DAY6_SUBJECT}:no-overlap": "added"}
    out = {(metric, subject): f"{label} (communication {case})"
           for metric, label in quantities.items() for subject, case in cases.items()}
    out["max_generation_throughput_ratio_predicted", "deepseek-v2-vs-deepseek-67b"] = (
        "DeepSeek-V2 over DeepSeek 67B, maximum generation throughput on one 8xH800 node")
    return out


def _check_finite(out, names):
    for key, v in out.items():
        if not np.all(np.isfinite(np.asarray(v, dtype=float))):
            raise ValueError(f"{key} overflowed to a non-finite value; check the sizes of "
                             f"{names} (inputs too large for float64)")


def _arrays(xs):
    return [x for x in xs if x is not None and not isinstance(x, str)]



def _prefill_ctx(p, h):
    return h * p + ((1.0 - h) * p + 1.0) / 2.0


_DEPLOYMENT_NUMBERS = ("n_nodes", "n_devices_per_node", "n_microbatches", "kv_cache_elem_bytes",
                       "n_device_sms")


def _deployment(deployment, phase, param="deployment"):
    """A deployment row as a dict, checked; ``phase`` must match its ``phase``."""
    if isinstance(deployment, str):
        row = data.row("deployments", deployment)
        d = dict(row.items(), name=deployment)
    elif isinstance(deployment, (pd.Series, Mapping)):
        d = dict(deployment.items())
        d.setdefault("name", getattr(deployment, "name", None) or "<deployment>")
    else:
        raise ValueError(f"{param} must be a name in data/deployments.csv or a mapping of its "
                         f"columns; got {type(deployment).__name__}")
    name = d["name"]
    if d.get("phase") != phase:
        other = "deployment_prefill" if d.get("phase") == "prefill" else \
            "deployment_decode_step"
        raise ValueError(f"{param} {name!r} is a {d.get('phase')!r} unit, not {phase!r}; "
                         f"use {other}")
    for col in _DEPLOYMENT_NUMBERS:
        if col not in d or not _is_finite(d[col]):
            raise ValueError(f"deployment {name!r}: column {col!r} is required")
        positive(f"deployment {name!r} {col}", d[col])
    choice(f"deployment {name!r} comm_kernel", d.get("comm_kernel"),
           ("normal", "low-latency", "none"))
    for col in ("weight_precision", "matmul_precision", "attention_precision"):
        choice(f"deployment {name!r} {col}", d.get(col), tuple(BYTES_PER_PARAM))
    return d


def _is_finite(v):
    try:
        return bool(np.isfinite(float(v)))
    except (TypeError, ValueError):
        return False


def _num(d, col, default=None):
    v = d.get(col)
    if v is None or not _is_finite(v):
        if default is None:
            raise ValueError(f"deployment {d['name']!r}: column {col!r} is required for "
                             f"comm_kernel {d['comm_kernel']!r}")
        return default
    return float(v)


def _decode_args(ctx, context_tok, acceptance_frac, draft_depth, reserve_frac):
    """Checked decode arguments shared by the decode step and the decode batch.

    Parameters
    ----------
    ctx : dict
        Deployment context (:func:`_ctx`); its ``n_mtp`` is the draft depth by default.
    context_tok, acceptance_frac, draft_depth, reserve_frac
        As in :func:`deployment_decode_step`.

    Returns
    -------
    tuple
        ``(context_tok, acceptance_frac, draft_depth, reserve_frac)`` as checked arrays.
    """
    L = positive("context_tok", context_tok)
    a = fraction("acceptance_frac", acceptance_frac)
    # the model's MTP modules draft by default only where drafts are accepted: drafting
    # a token that is never kept costs a layer and buys nothing
    k = np.where(a > 0, ctx["n_mtp"], 0.0) if draft_depth is None \
        else nonnegative("draft_depth", draft_depth, integer=True)
    reserve = numeric("reserve_frac", reserve_frac, min_value=0.0, max_value=1.0,
                      max_inclusive=False)
    return L, a, k, reserve


def _ctx(d, model, hardware, em, ea, eb, link_rates):
    """Everything a step needs, checked once: model spec, device rates, layout, links."""
    choice("link_rates", link_rates, LINK_RATES)
    m = model_spec(d["model"] if model is None else model)
    hw = resolve_hardware(d["hardware"] if hardware is None else hardware)
    eff = None
    if em is None or ea is None or eb is None:
        # shares measured on H800, applied to whichever device the unit runs on
        eff = kernel_efficiencies()
    em = eff["matmul_efficiency_frac"] if em is None else em
    ea = eff["attention_efficiency_frac"] if ea is None else ea
    eb = eff["bandwidth_efficiency_frac"] if eb is None else eb
    em = fraction("matmul_efficiency_frac", em, allow_zero=False)
    ea = fraction("attention_efficiency_frac", ea, allow_zero=False)
    eb = fraction("bandwidth_efficiency_frac", eb, allow_zero=False)
    cal = calibration(gemm_flop_frac=em, attention_flop_frac=ea, gemm_bandwidth_frac=eb,
                      attention_bandwidth_frac=eb)
    _, peak_mm = hardware_value(hw, PEAK_FLOP_COLUMN[d["matmul_precision"]])
    _, peak_attn = hardware_value(hw, PEAK_FLOP_COLUMN[d["attention_precision"]])
    _, bw = hardware_value(hw, "memory_bytes_per_s")
    _, mem = hardware_value(hw, "memory_bytes", required=False)
    wb = BYTES_PER_PARAM[d["weight_precision"]]
    g = float(d["n_devices_per_node"])
    n_dev = g * float(d["n_nodes"])
    ep = _num(d, "n_ep_devices", 0.0)
    kernel = d["comm_kernel"]
    if ep > 0 and not m.moe:
        raise ValueError(f"deployment {d['name']!r}: expert parallelism (n_ep_devices) needs an "
                         f"MoE model, got {m.name!r}")
    # with expert parallelism: attention and dense parts data parallel, experts over ep
    # devices; without: every matrix split evenly over the unit (tensor parallel), and an MLA
    # model's attention data parallel (a tensor-parallel MLA cache would be replicated)
    layout = dict(tp=1.0, ep=ep, dp_attention=True) if ep > 0 else \
        dict(tp=n_dev, ep=1.0, dp_attention=m.attention_kind == "mla")
    slots = _num(d, "n_routed_experts_per_device") if ep > 0 else None
    kv_b = float(d["kv_cache_elem_bytes"])
    c = dict(m=m, d=d, g=g, n_dev=n_dev, ep=ep, kernel=kernel, cal=cal, layout=layout,
             slots=slots, peak_mm=peak_mm, peak_attn=peak_attn, bw=bw, mem=mem, wb=wb, kv_b=kv_b,
             n_mtp=m.n_mtp_modules, micro=float(d["n_microbatches"]),
             sm_frac=_num(d, "n_comm_sms", 0.0) / float(d["n_device_sms"]),
             kv_per_tok=m.n_layers * m.kv_elems_per_layer * kv_b,
             held=held_bytes_per_device(m, wb, experts_per_device=slots, **layout))
    if kernel != "none":
        if ep <= 0:
            raise ValueError(f"deployment {d['name']!r}: comm_kernel {kernel!r} needs "
                             "n_ep_devices")
        db, cb = _num(d, "dispatch_elem_bytes"), _num(d, "combine_elem_bytes")
        if link_rates == "measured":
            rd, rc = _num(d, "dispatch_achieved_bytes_per_s"), _num(d,
                                                                   "combine_achieved_bytes_per_s")
        else:
            rd = rc = _num(d, "ib_bytes_per_s")
        if kernel == "low-latency":
            copies_ib = m.n_active_experts
            nvl = 0.0
        else:
            nodes_in_ep = ep / g
            copies_ib = float(expected_nodes_touched(m.n_active_experts, nodes_in_ep,
                                                     _num(d, "n_max_routed_nodes", nodes_in_ep)))
            nvl = _num(d, "nvlink_bytes_per_s")
        c.update(db=db, cb=cb, rd=rd, rc=rc, copies_ib=copies_ib, nvl=nvl, hidden=m.hidden_dim)
    return c


def _phases(c, b, q, ctx_tok, phase, overlap):
    """Per-device phase times for ``b`` sequences of ``q`` tokens each on every device.

    The compute is the engine's (:func:`econ.engine.forward_step`), once per microbatch;
    dispatch and combine are added here.
    """
    m = c["m"]
    micro = c["micro"] if overlap else 1.0
    lay = c["layout"]
    # without expert parallelism the unit is one tensor-parallel group over all its devices
    seqs = b / micro if lay["dp_attention"] else b * c["n_dev"] / micro
    f = forward_step(m, bw=c["bw"], peak_mm=c["peak_mm"], peak_attn=c["peak_attn"],
                     weight_bytes_per_param=c["wb"], kv_bytes_per_elem=c["kv_b"],
                     n_sequences=seqs, tok_per_seq=q, context_tok=ctx_tok, phase=phase,
                     experts_per_device=c["slots"], cal=c["cal"], **lay)
    t = b * q
    attention_s = f["attention_s"] * micro
    dense_s = (f["dense_s"] + f["fixed_s"]) * micro
    experts_s = f["experts_s"] * micro
    compute_s = attention_s + dense_s + experts_s
    if c["kernel"] == "none":
        zero = 0.0 * t
        dispatch_b = combine_b = dispatch_s = combine_s = comm_s = zero
    else:
        h = c["hidden"]
        k = m.n_active_experts
        dispatch_b = m.moe_layers * t * c["copies_ib"] * h * c["db"]
        combine_b = m.moe_layers * t * c["copies_ib"] * h * c["cb"]
        dispatch_s = dispatch_b / c["rd"]
        combine_s = combine_b / c["rc"]
        ib_s = dispatch_s + combine_s
        if c["nvl"] > 0:
            fwd = k * (1.0 - 1.0 / c["g"])
            nvl_s = m.moe_layers * t * fwd * h * (c["db"] + c["cb"]) / c["nvl"]
        else:
            nvl_s = 0.0 * t
        comm_s = np.maximum(ib_s, nvl_s)
        # report the binding link's time split between dispatch and combine
        scale = np.where(ib_s > 0, comm_s / np.where(ib_s > 0, ib_s, 1.0), 0.0)
        dispatch_s, combine_s = dispatch_s * scale, combine_s * scale
    if overlap:
        compute_s = compute_s / (1.0 - c["sm_frac"])
        step_s = np.maximum(compute_s, comm_s)
    else:
        step_s = compute_s + comm_s
    return dict(weight_read_bytes=f["weight_read_bytes"] * micro,
                attention_flop=f["attention_flop"] * micro,
                matmul_flop=f["matmul_flop"] * micro,
                load_imbalance_ratio=f["load_imbalance_ratio"] * np.ones_like(step_s),
                dispatch_bytes=dispatch_b, combine_bytes=combine_b,
                attention_s=attention_s, dense_s=dense_s, experts_s=experts_s,
                attention_bound_compute=f["attention_bound_compute"],
                dense_bound_compute=f["dense_bound_compute"],
                experts_bound_compute=f["experts_bound_compute"],
                compute_s=compute_s, dispatch_s=dispatch_s, combine_s=combine_s,
                comm_s=comm_s, step_s=step_s)


def _decode(c, b, L, a, k, overlap, reserve):
    m = c["m"]
    q = 1.0 + k
    verify = _phases(c, b, q, L, "decode", overlap)
    if np.any(k > 0):
        # one draft step per drafted token, each one layer of the model (V3's MTP module is
        # one transformer block; a model without one is charged one layer all the same)
        plain = _phases(c, b, 1.0, L, "decode", overlap)
        draft_s = k * max(c["n_mtp"], 1.0) / m.n_layers * plain["step_s"]
    else:
        draft_s = 0.0 * b
    step_s = verify["step_s"] + draft_s
    tps = tokens_per_step(a, k)
    per_user = tps / step_s
    per_dev = b * per_user
    out = dict(n_sequences_per_device=b * np.ones_like(step_s), tok_per_step=tps,
               weight_read_bytes=verify["weight_read_bytes"],
               kv_read_bytes=b * L * c["kv_per_tok"],
               dispatch_bytes=verify["dispatch_bytes"], combine_bytes=verify["combine_bytes"],
               attention_flop=verify["attention_flop"], matmul_flop=verify["matmul_flop"],
               load_imbalance_ratio=verify["load_imbalance_ratio"],
               attention_s=verify["attention_s"], dense_s=verify["dense_s"],
               experts_s=verify["experts_s"], compute_s=verify["compute_s"],
               dispatch_s=verify["dispatch_s"], combine_s=verify["combine_s"],
               comm_s=verify["comm_s"], draft_s=draft_s, step_s=step_s,
               attention_bound_compute=verify["attention_bound_compute"],
               dense_bound_compute=verify["dense_bound_compute"],
               experts_bound_compute=verify["experts_bound_compute"],
               decode_tok_per_s_per_user=per_user, decode_tok_per_s_per_device=per_dev,
               decode_tok_per_s_per_node=per_dev * c["g"],
               held_bytes_per_device=c["held"] * np.ones_like(step_s))
    if c["mem"] is not None:
        free = np.maximum(c["mem"] * (1.0 - reserve) - c["held"], 0.0)
        out["max_sequences_per_device"] = np.floor(free / (L * c["kv_per_tok"]) * (1 + 1e-12))
    return out


def _best_batch(c, L, a, k, overlap, reserve, slo):
    if c["mem"] is None:
        raise ValueError("choosing the batch needs the hardware's memory_bytes")
    free = np.maximum(c["mem"] * (1.0 - reserve) - c["held"], 0.0)
    hi = np.floor(free / (L * c["kv_per_tok"]) * (1 + 1e-12))
    if slo is None:
        return hi
    shape = np.broadcast_shapes(np.shape(hi), np.shape(a), np.shape(k), np.shape(slo))
    hi = np.broadcast_to(hi, shape).astype(float)
    lo = np.zeros(shape)

    def ok(b):
        return _decode(c, b, L, a, k, overlap, reserve)["decode_tok_per_s_per_user"] >= slo

    good_hi = ok(hi) & (hi > 0)
    for _ in range(64):
        if not np.any(hi - lo > 1):
            break
        mid = np.floor((lo + hi) / 2.0)
        fine = ok(mid)
        lo = np.where(fine, mid, lo)
        hi = np.where(fine, hi, mid)
    best = np.where(good_hi, hi, lo)
    one_ok = ok(np.maximum(best, 1.0))
    return np.where((best >= 1) & one_ok, best, 0.0)
