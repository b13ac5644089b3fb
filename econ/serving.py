"""Closed forms of expert-parallel serving at scale: link times, overlap, all-to-all bytes.

DeepSeek serves V3/R1 (Day-6 overview [1]_) on units whose routed experts are spread over
many nodes: every MoE layer sends each token's hidden state to the GPUs holding its 8
experts (*dispatch*, FP8) and brings the results back (*combine*, BF16) over InfiniBand and
NVLink. The closed forms here are the pieces of that arithmetic (bytes per token, link time,
the overlap bound, the node-limited routing, the busiest GPU's load, the Day-6 prompt length);
the deployment itself is served by :func:`econ.predict_serving_with` (the engine level) and
its Day-6 units by :mod:`econ.deployments`.

References
----------
.. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
   github.com/deepseek-ai/open-infra-index, 2025-03-01.
.. [2] DeepSeek-AI, "DeepEP", github.com/deepseek-ai/DeepEP, README (Feb 2025).
.. [3] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §3.2.2 (at most 4 nodes
   per token, IB then NVLink forwarding).
.. [4] C. Zhao et al., "Insights into DeepSeek-V3", ISCA 2025, arXiv:2505.09343, §2.3.2
   (communication time = (1 B + 2 B) x tokens x experts x hidden / 50 GB/s per layer).
.. [5] M. Raab, A. Steger, "'Balls into Bins' - A Simple and Tight Analysis", RANDOM 1998.
"""
from __future__ import annotations

import numpy as np

from ._checks import like, nonnegative, numeric, positive
from .engine import max_load_ratio, nodes_touched

__all__ = [
    "link_time_s",
    "overlap_time_s",
    "dispatch_combine_bytes_per_tok",
    "alltoall_tpot_floor_s",
    "expected_nodes_touched",
    "expected_max_load_ratio",
    "prompt_tok_from_kv_length",
    "prefill_context_tok",
]


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
    return like(h * p + ((1.0 - h) * p + 1.0) / 2.0, prompt_tok, cache_hit_frac)
