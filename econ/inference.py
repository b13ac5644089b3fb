"""Prefill and decode throughput per device from a roofline.

One decode step produces one token for each of ``n_sequences`` sequences. It reads
the weights the batch touches once (for an MoE model, the shared part plus every
routed expert that at least one token of the batch picks) and each sequence's KV
cache at its context length, and it spends ``2 * active_params`` FLOPs per token
plus the attention FLOPs over the context. On a roofline the step takes the longer
of the memory time and the compute time [1]_::

    step_s = max((weight_bytes + kv_bytes) / (memory_bytes_per_s * bandwidth_efficiency_frac),
                 flop / (peak_flop_per_s * flop_efficiency_frac))

with everything split evenly over ``n_devices`` (tensor or expert parallel, no
communication cost). Small batches are memory-bound (the weights are read for few
tokens); large batches become compute-bound. Speculative decoding / multi-token
prediction verifies ``draft_depth + 1`` tokens per sequence per step and keeps
``(1 - a**(k+1)) / (1 - a)`` of them on average [2]_.

Everything is vectorized: model and precision are single choices; batch, context,
efficiencies, acceptance and every hardware number may be arrays or Series (a whole
``econ.data.load("hardware")`` table works as the hardware: one result per device).

References
----------
.. [1] S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual
   performance model for multicore architectures", CACM 52(4), 2009.
.. [2] Y. Leviathan, M. Kalman, Y. Matias, "Fast Inference from Transformers via
   Speculative Decoding", ICML 2023, arXiv:2211.17192, Eq. (1) and Theorem 3.8.
.. [3] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, §2.1 (MLA, weight absorption).
.. [4] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §2.2 (MTP),
   §5.4.3 (85-90% acceptance of the second token, 1.8x TPS).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ._checks import choice, finite_result, fraction, like, nonnegative, numeric, positive
from .amortization import useful_usd_per_hour
from .engine import (
    FUSED_ACT_QUANT_BYTES_PER_ELEM,
    Calibration,
    calibration,
    device_calibration,
    forward_step,
    hardware_value,
    held_bytes_per_device,
    model_spec,
    resolve_hardware,
    tokens_per_step,
    touched_experts,
)
from .kvcache import ATTENTION_KINDS, check_attention_dims
from .units import (
    BYTES_PER_PARAM,
    PEAK_FLOP_COLUMN,
    PRECISIONS,
    cost_usd_per_mtok,
    precision_bytes,
)

__all__ = [
    "BYTES_PER_PARAM",
    "PEAK_FLOP_COLUMN",
    "PRECISIONS",
    "param_bytes",
    "hardware_peak_flop_per_s",
    "expected_experts_touched",
    "attention_flop_per_ctx_tok",
    "step_time_s",
    "expected_tokens_per_step",
    "speculative_speedup",
    "decode_step",
    "decode_step_breakdown",
    "decode_tok_per_s",
    "decode_tok_per_s_per_user",
    "decode_cost_usd_per_mtok",
    "prefill_step",
    "prefill_tok_per_s",
    "devices_to_hold",
    "model_devices_to_hold",
]



# --- building blocks ---------------------------------------------------------------------------

@finite_result
def param_bytes(n_params, precision="bf16"):
    """Bytes to hold ``n_params`` parameters at a precision.

    Parameters
    ----------
    n_params : numeric
        Parameters. [params]
    precision : {"bf16", "fp8", "int8", "fp4"}
        Storage precision (see :data:`BYTES_PER_PARAM`).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``n_params * BYTES_PER_PARAM[precision]``. [bytes]
    """
    choice("precision", precision, PRECISIONS)
    n = nonnegative("n_params", n_params)
    return like(n * BYTES_PER_PARAM[precision], n_params)


def hardware_peak_flop_per_s(hardware, precision="bf16"):
    """Dense peak FLOP/s of a device at a precision, from the hardware table.

    Parameters
    ----------
    hardware : str, pandas.Series, Mapping or pandas.DataFrame
        A name in ``data/hardware.csv``, one row, a mapping of its columns (values
        may be arrays), or the whole table.
    precision : {"bf16", "fp8", "int8", "fp4"}
        Precision of the matrix multiplies (column :data:`PEAK_FLOP_COLUMN`).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Peak FLOP/s (no sparsity). [FLOP/s]

    Raises
    ------
    ValueError
        The device has no figure at this precision (an empty cell), or an unknown
        precision.
    """
    choice("precision", precision, PRECISIONS)
    hw = resolve_hardware(hardware)
    raw, arr = hardware_value(hw, PEAK_FLOP_COLUMN[precision])
    return like(arr, raw)


@finite_result
def expected_experts_touched(n_routed_experts, n_active_experts, n_tokens):
    """Expected distinct routed experts a batch of tokens touches in one MoE layer.

    Each token picks ``k`` of ``E`` experts; with uniform, independent routing an
    expert is missed by one token with probability ``1 - k/E``, so

    ``E * (1 - (1 - k/E) ** n_tokens)``.

    It is ``k`` for one token and tends to ``E`` for large batches: decoding a big
    batch reads (nearly) every expert's weights each step.

    Parameters
    ----------
    n_routed_experts : numeric
        Routed experts per MoE layer ``E`` (256 in DeepSeek-V3). [-]
    n_active_experts : numeric
        Routed experts each token uses ``k`` (8 in DeepSeek-V3), ``<= E``. [-]
    n_tokens : numeric
        Tokens in the forward pass (batch size times tokens per sequence). [tokens]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Expected distinct experts touched per layer. [-]

    References
    ----------
    .. [1] The occupancy (balls-in-bins) expectation; see e.g. W. Feller, *An
       Introduction to Probability Theory*, Vol. 1, §II.11. Real routers are not
       uniform, which makes fewer distinct experts likelier per batch but loads some
       devices more (expert load imbalance; not modelled here).
    """
    e = positive("n_routed_experts", n_routed_experts)
    k = nonnegative("n_active_experts", n_active_experts)
    n = nonnegative("n_tokens", n_tokens)
    _check_le("n_active_experts", k, "n_routed_experts", e)
    return like(touched_experts(e, k, n), n_routed_experts, n_active_experts, n_tokens)


@finite_result
def attention_flop_per_ctx_tok(attention_kind, n_layers, n_heads, head_dim=None,
                               kv_lora_rank_dim=None, qk_rope_head_dim=None,
                               qk_nope_head_dim=None, v_head_dim=None, phase="decode"):
    """Attention FLOPs one new token spends per token of context, summed over layers.

    Scores ``q.k`` and the weighted sum of values, 2 FLOPs per multiply-add:

    - MHA/GQA (both phases): ``4 * n_heads * head_dim`` per layer (GQA shares K/V
      across query heads but every query head still does its own products).
    - MLA, decode, with the up-projections absorbed into the query and output:
      scores over the cached ``d_c + d_h^R`` and values over ``d_c``:
      ``2 * n_heads * (2 * kv_lora_rank_dim + qk_rope_head_dim)`` per layer [1]_.
    - MLA, prefill, with keys and values materialised per head:
      ``2 * n_heads * (qk_nope_head_dim + qk_rope_head_dim + v_head_dim)`` per layer.

    Parameters
    ----------
    attention_kind : {"mha", "gqa", "mla"}
    n_layers : numeric
        Layers with attention. [-]
    n_heads : numeric
        Query heads. [-]
    head_dim : numeric, optional
        Per-head dimension (MHA/GQA). [elements]
    kv_lora_rank_dim, qk_rope_head_dim : numeric, optional
        MLA latent and RoPE-key dimensions (MLA). [elements]
    qk_nope_head_dim, v_head_dim : numeric, optional
        MLA per-head key (without RoPE) and value dimensions (MLA, prefill). [elements]
    phase : {"decode", "prefill"}

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        FLOPs per new token per context token. [FLOP]

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, §2.1.3-2.1.4 (absorbing
       ``W^UK`` into ``W^Q`` and ``W^UV`` into ``W^O`` at inference).
    .. [2] J. Kaplan et al., "Scaling Laws for Neural Language Models",
       arXiv:2001.08361, Table 1: ``2 n_layer n_ctx d_attn`` forward FLOPs per token
       for the scores ``q.k``; the weighted sum of values costs as much again, hence
       ``4 * n_heads * head_dim`` per layer here (``econ.attention_flop_per_tok``
       counts the same two products for training).
    """
    choice("attention_kind", attention_kind, ATTENTION_KINDS)
    choice("phase", phase, ("decode", "prefill"))
    layers = positive("n_layers", n_layers, integer=True)
    heads = positive("n_heads", n_heads)
    inputs = [n_layers, n_heads]
    if attention_kind != "mla":
        check_attention_dims(attention_kind, head_dim=head_dim)
        per_head = 4.0 * positive("head_dim", head_dim)
        inputs.append(head_dim)
    elif phase == "decode":
        check_attention_dims(attention_kind, kv_lora_rank_dim=kv_lora_rank_dim,
              qk_rope_head_dim=qk_rope_head_dim)
        per_head = 2.0 * (2.0 * positive("kv_lora_rank_dim", kv_lora_rank_dim)
                          + nonnegative("qk_rope_head_dim", qk_rope_head_dim))
        inputs += [kv_lora_rank_dim, qk_rope_head_dim]
    else:
        check_attention_dims(attention_kind, qk_nope_head_dim=qk_nope_head_dim,
              qk_rope_head_dim=qk_rope_head_dim, v_head_dim=v_head_dim)
        per_head = 2.0 * (positive("qk_nope_head_dim", qk_nope_head_dim)
                          + nonnegative("qk_rope_head_dim", qk_rope_head_dim)
                          + positive("v_head_dim", v_head_dim))
        inputs += [qk_nope_head_dim, qk_rope_head_dim, v_head_dim]
    return like(layers * heads * per_head, *inputs)


@finite_result
def step_time_s(weight_bytes, kv_bytes, flop, peak_flop_per_s, memory_bytes_per_s,
                flop_efficiency_frac=1.0, bandwidth_efficiency_frac=1.0, n_devices=1):
    """Roofline time of one forward step spread evenly over ``n_devices``.

    Parameters
    ----------
    weight_bytes : numeric
        Weight bytes read in the step (all devices together). [bytes]
    kv_bytes : numeric
        KV-cache bytes read (or written) in the step. [bytes]
    flop : numeric
        FLOPs of the step. [FLOP]
    peak_flop_per_s : numeric
        Dense peak of one device at the matmul precision. [FLOP/s]
    memory_bytes_per_s : numeric
        Memory bandwidth of one device (HBM, or SRAM for Groq/Cerebras). [bytes/s]
    flop_efficiency_frac : numeric, default 1
        Achieved share of the peak FLOP/s, in (0, 1]; the kernel timings calibrate
        it. [fraction]
    bandwidth_efficiency_frac : numeric, default 1
        Achieved share of the memory bandwidth, in (0, 1]. [fraction]
    n_devices : numeric, default 1
        Devices sharing the work (weights, KV and FLOPs split evenly). [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``max((weight_bytes + kv_bytes) / (n * bw * eff_bw), flop / (n * peak * eff_flop))``.
        [s]

    References
    ----------
    .. [1] S. Williams, A. Waterman, D. Patterson, "Roofline", CACM 52(4), 2009.
    """
    w = nonnegative("weight_bytes", weight_bytes)
    kv = nonnegative("kv_bytes", kv_bytes)
    f = nonnegative("flop", flop)
    peak = positive("peak_flop_per_s", peak_flop_per_s)
    bw = positive("memory_bytes_per_s", memory_bytes_per_s)
    ef = fraction("flop_efficiency_frac", flop_efficiency_frac, allow_zero=False)
    eb = fraction("bandwidth_efficiency_frac", bandwidth_efficiency_frac, allow_zero=False)
    n = positive("n_devices", n_devices, integer=True)
    t = np.maximum((w + kv) / (n * bw * eb), f / (n * peak * ef))
    return like(t, weight_bytes, kv_bytes, flop, peak_flop_per_s, memory_bytes_per_s,
                flop_efficiency_frac, bandwidth_efficiency_frac, n_devices)


@finite_result
def expected_tokens_per_step(acceptance_frac, draft_depth):
    """Expected tokens one verification step emits under speculative decoding.

    With ``k`` drafted tokens each accepted with probability ``a`` (independently),
    the target model keeps the accepted prefix plus one token of its own:

    ``(1 - a**(k+1)) / (1 - a)``, which is 1 at ``a = 0`` and ``k + 1`` at ``a = 1``.

    Parameters
    ----------
    acceptance_frac : numeric
        Probability that a drafted token is accepted ``a``, in [0, 1]. [fraction]
    draft_depth : numeric
        Drafted tokens per step ``k`` (DeepSeek-V3's MTP: 1). [tokens]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Expected tokens per step per sequence. [tokens]

    References
    ----------
    .. [1] Y. Leviathan, M. Kalman, Y. Matias, "Fast Inference from Transformers via
       Speculative Decoding", ICML 2023, arXiv:2211.17192, Eq. (1).
    """
    a = fraction("acceptance_frac", acceptance_frac)
    k = nonnegative("draft_depth", draft_depth, integer=True)
    return like(tokens_per_step(a, k), acceptance_frac, draft_depth)


@finite_result
def speculative_speedup(acceptance_frac, draft_depth, draft_cost_ratio=0.0):
    """Decode speed-up from speculative decoding, net of the drafting cost.

    ``(1 - a**(k+1)) / ((1 - a) * (k*c + 1))``: expected tokens per step divided by
    the step's cost relative to a plain decode step, where each of the ``k`` drafts
    costs ``c`` plain steps and verifying ``k + 1`` tokens costs about one plain step
    (true while decoding is memory-bound; :func:`decode_step` models the verify
    step's extra FLOPs exactly).

    Parameters
    ----------
    acceptance_frac : numeric
        Acceptance probability of a drafted token ``a``, in [0, 1]. [fraction]
    draft_depth : numeric
        Drafted tokens per step ``k``. [tokens]
    draft_cost_ratio : numeric, default 0
        Time of one draft step over one plain target step ``c`` (>= 0). A DeepSeek-V3
        MTP module is one transformer block sharing the embedding and head, so a few
        percent. [ratio]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Speed-up in tokens per second over plain decoding. [ratio]

    Examples
    --------
    DeepSeek-V3's MTP (one drafted token, 85-90% acceptance) before drafting cost:

    >>> round(speculative_speedup(0.85, 1), 3), round(speculative_speedup(0.9, 1), 3)
    (1.85, 1.9)

    against a published 1.8x TPS [2]_.

    References
    ----------
    .. [1] Y. Leviathan, M. Kalman, Y. Matias, arXiv:2211.17192, Theorem 3.8.
    .. [2] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §5.4.3.
    """
    a = fraction("acceptance_frac", acceptance_frac)
    k = nonnegative("draft_depth", draft_depth, integer=True)
    c = nonnegative("draft_cost_ratio", draft_cost_ratio)
    return like(tokens_per_step(a, k) / (k * c + 1.0), acceptance_frac, draft_depth,
                draft_cost_ratio)


# --- the model-level roofline ------------------------------------------------------------------

@finite_result
def decode_step(model, hardware, precision, n_sequences, context_tok, *, n_devices=1,
                compute_precision=None, kv_bytes_per_elem="bf16",
                flop_efficiency_frac=None, bandwidth_efficiency_frac=None,
                acceptance_frac=0.0, draft_depth=0, draft_cost_ratio=0.0, reserve_frac=0.0,
                calibration=None, infeasible="flag"):
    """Where one decode step's time goes, and the tokens per second it gives.

    One step emits one token (or, with speculative decoding / MTP, the expected
    accepted tokens) for each of ``n_sequences`` sequences. It reads the weights the
    batch touches once (MoE: shared part plus :func:`expected_experts_touched`
    routed experts per MoE layer; all experts are *held*, only the active ones
    *computed*), each sequence's KV cache at ``context_tok``, and spends
    ``2 * active_params`` FLOPs per token plus :func:`attention_flop_per_ctx_tok`
    times the context. The step takes the roofline maximum of memory and compute
    time (see :func:`step_time_s`); with drafting, ``draft_depth`` draft steps of
    ``draft_cost_ratio`` plain steps each are added, and the verify step processes
    ``draft_depth + 1`` tokens per sequence.

    Parameters
    ----------
    model : str, pandas.Series or Mapping
        A name in ``data/models.csv``, one row of ``econ.data.load("models")``, or a
        dict with its columns: ``attention_kind``, ``n_layers``, ``n_heads``,
        ``active_params``, ``total_params``, the KV columns of
        :func:`econ.model_kv_cache_bytes_per_token`, and for MoE ``n_routed_experts``,
        ``n_active_experts`` (routed, per token), ``hidden_dim``, ``moe_ffn_dim``,
        ``n_dense_layers``. Each routed expert is a SwiGLU FFN of
        ``3 * hidden_dim * moe_ffn_dim`` parameters.
    hardware : str, pandas.Series, Mapping or pandas.DataFrame
        A name in ``data/hardware.csv``, one row, a mapping of its columns whose
        values may be arrays (Monte Carlo), or the whole table (one result per
        device). Columns used: the peak column of the compute precision,
        ``memory_bytes_per_s``, and ``memory_bytes`` where present.
    precision : {"bf16", "fp8", "int8", "fp4"}
        Weight storage precision, and matmul precision unless ``compute_precision``
        is given.
    n_sequences : numeric or None
        Sequences decoded together (the batch). ``None``: as many as fit in
        ``n_devices * memory_bytes`` after the weights at ``context_tok``
        (:func:`econ.max_concurrent_sequences`). [-]
    context_tok : numeric
        KV length each sequence attends to (average over the batch), > 0. [tokens]
    n_devices : numeric, default 1
        Devices the weights, KV and work are split over (tensor/expert parallel;
        communication not modelled). [-]
    compute_precision : str, optional
        Matmul precision when it differs from the weights (weight-only quantisation).
    kv_bytes_per_elem : numeric or str, default "bf16"
        Cache precision (DeepSeek serves with FP8 matmuls and a BF16 MLA cache). [bytes]
    flop_efficiency_frac, bandwidth_efficiency_frac : numeric, default 1
        Achieved shares of peak FLOP/s and bandwidth, in (0, 1]. [fraction]
    acceptance_frac : numeric, default 0
        Acceptance probability of drafted tokens, in [0, 1]. [fraction]
    draft_depth : numeric, default 0
        Tokens drafted per step (0: no speculative decoding; DeepSeek-V3 MTP: 1). [tokens]
    draft_cost_ratio : numeric, default 0
        Time of one draft step over one plain decode step. [ratio]
    reserve_frac : numeric, default 0
        Memory share kept free when ``n_sequences`` is None. [fraction]
    calibration : econ.Calibration, optional
        The engine's constants (default: the fitted ones, ``data/calibration.csv``); the two
        efficiency arguments above, where given, replace its shares uniformly.
    infeasible : {"flag", "raise"}, default "flag"
        A batch whose cache does not fit beside the weights: ``"flag"`` returns the step
        with ``fits_in_memory`` 0 for it; ``"raise"`` raises a ValueError naming the batch,
        the context and what fits.

    Returns
    -------
    dict
        Each value a float, ndarray or Series (the kind of the inputs):

        ``fits_in_memory`` (1.0 or 0.0, where the hardware gives ``memory_bytes``),
        ``n_sequences`` [-], ``context_tok`` [tokens], ``experts_touched_count``
        (per MoE layer) [-], ``weight_read_bytes``, ``kv_read_bytes`` (all devices,
        per step) [bytes], ``flop`` [FLOP], ``weight_read_s``, ``kv_read_s``,
        ``memory_s``, ``compute_s``, the engine's parts (``dense_s``, ``experts_s``,
        ``attention_s``, ``fixed_s``, ``act_quant_s``: quantizing the inputs of FP8, FP4 or
        INT8 matmuls), ``draft_s``, ``step_s`` [s], ``tok_per_step``
        (per sequence) [tokens], ``decode_tok_per_s`` (per device),
        ``decode_tok_per_s_per_user`` [tokens/s], ``weight_bytes_per_device`` (held)
        [bytes], and ``max_concurrent_sequences`` [-] when the hardware gives
        ``memory_bytes``.

    Notes
    -----
    Not modelled: communication between devices (all-reduce, MoE dispatch/combine),
    expert load imbalance, activations' memory traffic (beyond quantizing them), the
    embedding table being
    read only row by row, and scheduling gaps. The efficiency factors absorb them.

    References
    ----------
    .. [1] S. Williams et al., "Roofline", CACM 52(4), 2009.
    .. [2] R. Pope et al., "Efficiently Scaling Transformer Inference",
       arXiv:2211.05102, §2-3 (memory- vs compute-bound decoding, KV reads).
    .. [3] Y. Leviathan et al., arXiv:2211.17192 (speculative decoding).
    .. [4] DeepSeek-AI, arXiv:2405.04434 (MLA) and arXiv:2412.19437 (MTP).
    """
    m = model_spec(model)
    choice("infeasible", infeasible, ("flag", "raise"))
    p = _precisions(precision, compute_precision)
    hw = resolve_hardware(hardware)
    peak_raw, peak = hardware_value(hw, PEAK_FLOP_COLUMN[p["compute"]])
    attn_raw, peak_attn = hardware_value(hw, PEAK_FLOP_COLUMN["bf16"])
    bw_raw, bw = hardware_value(hw, "memory_bytes_per_s")
    mem_raw, mem = hardware_value(hw, "memory_bytes", required=False)
    ctx = positive("context_tok", context_tok)
    n_dev = positive("n_devices", n_devices, integer=True)
    kv_b = precision_bytes("kv_bytes_per_elem", kv_bytes_per_elem)
    cal = _calibration(calibration, flop_efficiency_frac, bandwidth_efficiency_frac, hw)
    a = fraction("acceptance_frac", acceptance_frac)
    k = nonnegative("draft_depth", draft_depth, integer=True)
    c = nonnegative("draft_cost_ratio", draft_cost_ratio)
    reserve = numeric("reserve_frac", reserve_frac, min_value=0.0, max_value=1.0,
                      max_inclusive=False)
    # the kernel-level layout: weights and cache split evenly over the devices (tensor
    # parallel over the heads; devices beyond the KV heads, or an MLA latent, take layers as
    # pipeline stages). predict_serving takes the layouts engines run, copies included.
    held = held_bytes_per_device(m, p["weight_bytes_per_param"], tp=n_dev)
    kv_dev = m.n_layers * m.kv_elems_per_layer * kv_b / n_dev
    max_seq = None
    if mem is not None:
        free = np.maximum(mem * (1.0 - reserve) - held, 0.0)
        max_seq = np.floor(free / (kv_dev * ctx) * (1.0 + 1e-12))
    if n_sequences is None:
        if max_seq is None:
            raise ValueError("n_sequences=None (as many as fit) needs the hardware's "
                             "memory_bytes")
        if np.any(max_seq < 1):
            raise ValueError(
                f"n_sequences=None (as many as fit): not one sequence of context_tok="
                f"{float(np.min(ctx)):g} fits beside {float(np.max(held)):.3g} "
                f"bytes of weights per device; add devices (n_devices), lower the precision "
                f"or the context")
        batch = max_seq
    else:
        batch = positive("n_sequences", n_sequences)
        if max_seq is not None and infeasible == "raise":
            _check_fits(batch, max_seq, ctx, held)
    args = dict(bw=bw, peak_mm=peak, peak_attn=peak_attn,
                weight_bytes_per_param=p["weight_bytes_per_param"], kv_bytes_per_elem=kv_b,
                n_sequences=batch, context_tok=ctx, phase="decode", tp=n_dev, even_kv=True,
                act_quant_bytes_per_elem=_act_quant_bytes(p, hw), cal=cal)
    verify = forward_step(m, tok_per_seq=1.0 + k, **args)
    if np.any(k > 0):
        draft_s = k * c * forward_step(m, tok_per_seq=1.0, **args)["step_s"]
    else:
        draft_s = np.zeros(())
    step_s = verify["step_s"] + draft_s
    tps = tokens_per_step(a, k)
    out = dict(
        n_sequences=batch,
        context_tok=ctx,
        experts_touched_count=verify["experts_touched_count"],
        weight_read_bytes=verify["weight_read_bytes"] * n_dev,
        kv_read_bytes=verify["kv_bytes"] * n_dev,
        flop=verify["flop"] * n_dev,
        weight_read_s=verify["weight_memory_s"],
        kv_read_s=verify["kv_memory_s"],
        dense_s=verify["dense_s"],
        experts_s=verify["experts_s"],
        attention_s=verify["attention_s"],
        fixed_s=verify["fixed_s"],
        act_quant_s=verify["act_quant_s"],
        memory_s=verify["memory_s"],
        compute_s=verify["compute_s"],
        draft_s=draft_s,
        step_s=step_s,
        tok_per_step=tps,
        decode_tok_per_s=batch * tps / step_s / n_dev,
        decode_tok_per_s_per_user=tps / step_s,
        weight_bytes_per_device=held,
    )
    if max_seq is not None:
        out["max_concurrent_sequences"] = max_seq
        out["fits_in_memory"] = (batch <= max_seq).astype(float)
    inputs = [n_sequences, context_tok, n_devices, flop_efficiency_frac,
              bandwidth_efficiency_frac, acceptance_frac, draft_depth, draft_cost_ratio,
              reserve_frac, peak_raw, attn_raw, bw_raw, mem_raw, *_not_str(kv_bytes_per_elem)]
    return {key: like(v, *inputs) for key, v in out.items()}


@finite_result
def decode_step_breakdown(model, hardware, precision, n_sequences, context_tok, **kwargs):
    """:func:`decode_step` as a tidy DataFrame: one row per case, one column per term.

    Takes the same arguments. Adds ``compute_bound`` (bool: the step is set by
    FLOPs, not bytes) and the ``precision``. A Series input's index becomes the
    DataFrame's index. Meant for notebooks and charts, not for Monte-Carlo loops
    (use :func:`decode_step` there).

    Returns
    -------
    pandas.DataFrame
        Columns as the keys of :func:`decode_step`, plus ``compute_bound`` and
        ``precision``.
    """
    out = decode_step(model, hardware, precision, n_sequences, context_tok, **kwargs)
    series = [v for v in out.values() if isinstance(v, pd.Series)]
    if series:
        index = series[0].index
        cols = {k: (v.to_numpy() if isinstance(v, pd.Series)
                    else np.broadcast_to(v, len(index))) for k, v in out.items()}
    else:
        shape = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
        cols = {k: np.broadcast_to(v, shape).reshape(-1) for k, v in out.items()}
        index = pd.RangeIndex(len(next(iter(cols.values()))))
    df = pd.DataFrame(cols, index=index)
    df["compute_bound"] = df["compute_s"] > df["memory_s"]
    df["precision"] = precision
    return df


@finite_result
def decode_tok_per_s(model, hardware, precision, n_sequences, context_tok, **kwargs):
    """Decode tokens per second per device (all sequences together).

    Same arguments as :func:`decode_step`; returns its ``decode_tok_per_s``:
    ``n_sequences * tok_per_step / step_s / n_devices``. [tokens/s]
    """
    return decode_step(model, hardware, precision, n_sequences, context_tok,
                       **kwargs)["decode_tok_per_s"]


@finite_result
def decode_tok_per_s_per_user(model, hardware, precision, n_sequences, context_tok, **kwargs):
    """Decode tokens per second one sequence (one user) sees.

    Same arguments as :func:`decode_step`; returns ``tok_per_step / step_s``. [tokens/s]
    """
    return decode_step(model, hardware, precision, n_sequences, context_tok,
                       **kwargs)["decode_tok_per_s_per_user"]


@finite_result
def decode_cost_usd_per_mtok(model, hardware, precision, n_sequences, context_tok,
                             usd_per_device_hour, utilization_frac=1.0, *, step_time_ratio=1.0,
                             **decode_kwargs):
    """Cost of a million decoded tokens: $/device-hour over roofline decode throughput.

    ``cost_usd_per_mtok(usd_per_device_hour / utilization_frac, decode_tok_per_s(...))``:
    :func:`decode_tok_per_s` per device, charged the price of a useful hour
    (:func:`econ.amortization.useful_usd_per_hour`). One call, vectorized over every numeric
    argument, so that :func:`econ.monte_carlo`, :func:`econ.grid` / :func:`econ.evaluate` and
    :func:`econ.tornado` can sample prices, utilization, batch, context and efficiencies
    together.

    Parameters
    ----------
    model, hardware, precision, n_sequences, context_tok
        As in :func:`decode_step` (``n_sequences`` is the batch over all
        ``n_devices``).
    usd_per_device_hour : numeric
        Rental price or owned cost of one device per wall-clock hour. [USD/h]
    utilization_frac : numeric, default 1
        Share of wall-clock hours doing paid work, in (0, 1]. [fraction]
    step_time_ratio : numeric, default 1
        True step time over the engine's prediction, > 0: the engine's error, so that a
        Monte Carlo can sample it (1: the calibrated prediction as it stands). Throughput
        scales as its inverse, cost in proportion. [ratio]
    **decode_kwargs
        Passed to :func:`decode_step`: ``n_devices``,
        ``flop_efficiency_frac``, ``bandwidth_efficiency_frac``, ``acceptance_frac``,
        ``draft_depth``, ``kv_bytes_per_elem``, ...

    Returns
    -------
    numeric
        Cost per million output tokens. [USD/Mtok]

    Notes
    -----
    Decode only: prefill of the prompt, idle capacity beyond ``utilization_frac`` and
    communication between devices are not charged (see :func:`decode_step`).
    """
    nonnegative("usd_per_device_hour", usd_per_device_hour)
    ratio = positive("step_time_ratio", step_time_ratio)
    tok_per_s = decode_tok_per_s(model, hardware, precision, n_sequences, context_tok,
                                 **decode_kwargs)
    cost = cost_usd_per_mtok(useful_usd_per_hour(usd_per_device_hour, utilization_frac),
                             tok_per_s)
    return like(np.asarray(cost, dtype=float) * ratio, cost, step_time_ratio)


@finite_result
def prefill_step(model, hardware, precision, prompt_tok, n_sequences=1.0, *, n_devices=1,
                 compute_precision=None, kv_bytes_per_elem="bf16", flop_efficiency_frac=None,
                 bandwidth_efficiency_frac=None, calibration=None):
    """Where one prefill pass's time goes: ``n_sequences`` prompts of ``prompt_tok``.

    The pass computes ``2 * active_params`` FLOPs per prompt token plus causal
    attention over the prompt (token ``i`` attends to ``i`` tokens:
    ``prompt_tok * (prompt_tok + 1) / 2`` context tokens per prompt, at the prefill
    cost of :func:`attention_flop_per_ctx_tok`), reads the weights the batch
    touches once and writes the prompt's KV cache. Long prompts are compute-bound.

    Parameters
    ----------
    model, hardware, precision, n_devices, compute_precision, kv_bytes_per_elem,
    flop_efficiency_frac, bandwidth_efficiency_frac
        As in :func:`decode_step`.
    prompt_tok : numeric
        Tokens per prompt (> 0). [tokens]
    n_sequences : numeric, default 1
        Prompts processed in the same pass (> 0). [-]

    Returns
    -------
    dict
        ``n_sequences``, ``prompt_tok``, ``experts_touched_count``,
        ``weight_read_bytes``, ``kv_write_bytes`` [bytes], ``flop`` [FLOP],
        ``weight_read_s``, ``kv_write_s``, ``memory_s``, ``compute_s``, the engine's parts
        (``dense_s``, ``experts_s``, ``attention_s``, ``fixed_s``, ``act_quant_s``), ``step_s``
        [s], ``prefill_tok_per_s`` (per device) [tokens/s].

    Notes
    -----
    Prompt tokens found in a prefix cache skip this computation; DeepSeek's
    published prefill rate counts them (see issue 8). Not modelled here.

    References
    ----------
    .. [1] R. Pope et al., "Efficiently Scaling Transformer Inference",
       arXiv:2211.05102, §3.
    """
    m = model_spec(model)
    p = _precisions(precision, compute_precision)
    hw = resolve_hardware(hardware)
    peak_raw, peak = hardware_value(hw, PEAK_FLOP_COLUMN[p["compute"]])
    attn_raw, peak_attn = hardware_value(hw, PEAK_FLOP_COLUMN["bf16"])
    bw_raw, bw = hardware_value(hw, "memory_bytes_per_s")
    prompt = positive("prompt_tok", prompt_tok)
    batch = positive("n_sequences", n_sequences)
    n_dev = positive("n_devices", n_devices, integer=True)
    kv_b = precision_bytes("kv_bytes_per_elem", kv_bytes_per_elem)
    cal = _calibration(calibration, flop_efficiency_frac, bandwidth_efficiency_frac, hw)
    s = forward_step(m, bw=bw, peak_mm=peak, peak_attn=peak_attn,
                     weight_bytes_per_param=p["weight_bytes_per_param"], kv_bytes_per_elem=kv_b,
                     n_sequences=batch, tok_per_seq=prompt, context_tok=(prompt + 1.0) / 2.0,
                     phase="prefill", tp=n_dev, act_quant_bytes_per_elem=_act_quant_bytes(p, hw),
                     cal=cal)
    tokens = batch * prompt
    out = dict(n_sequences=batch, prompt_tok=prompt,
               experts_touched_count=s["experts_touched_count"],
               weight_read_bytes=s["weight_read_bytes"] * n_dev,
               kv_write_bytes=s["kv_bytes"] * n_dev, flop=s["flop"] * n_dev,
               weight_read_s=s["weight_memory_s"], kv_write_s=s["kv_memory_s"],
               dense_s=s["dense_s"], experts_s=s["experts_s"], attention_s=s["attention_s"],
               fixed_s=s["fixed_s"], act_quant_s=s["act_quant_s"], memory_s=s["memory_s"],
               compute_s=s["compute_s"],
               step_s=s["step_s"], prefill_tok_per_s=tokens / s["step_s"] / n_dev)
    inputs = [prompt_tok, n_sequences, n_devices, flop_efficiency_frac,
              bandwidth_efficiency_frac, peak_raw, attn_raw, bw_raw,
              *_not_str(kv_bytes_per_elem)]
    return {key: like(v, *inputs) for key, v in out.items()}


@finite_result
def prefill_tok_per_s(model, hardware, precision, prompt_tok, n_sequences=1.0, **kwargs):
    """Prompt tokens per second per device in prefill.

    Same arguments as :func:`prefill_step`; returns its ``prefill_tok_per_s``. [tokens/s]
    """
    return prefill_step(model, hardware, precision, prompt_tok, n_sequences,
                        **kwargs)["prefill_tok_per_s"]


# --- systems whose weights live in on-chip SRAM ------------------------------------------------

@finite_result
def devices_to_hold(n_bytes, memory_bytes, usable_frac=1.0):
    """Chips (or wafers) needed to hold ``n_bytes`` in their memory.

    For SRAM-only systems (Groq LPU: 230 MB per chip; Cerebras WSE-3: 44 GB per
    wafer) the weights, and the KV cache, must fit on chip, so the chip count is set
    by the model size rather than by the load.

    Parameters
    ----------
    n_bytes : numeric
        Bytes to hold (weights, plus KV cache if it lives there too). [bytes]
    memory_bytes : numeric
        Memory per chip or wafer. [bytes]
    usable_frac : numeric, default 1
        Share of that memory available to the model, in (0, 1]. [fraction]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``ceil(n_bytes / (memory_bytes * usable_frac))``. [-]

    Examples
    --------
    Llama-3.1-70B (70.6B parameters) in INT8 on 230 MB Groq chips:

    >>> devices_to_hold(70.6e9, 230e6)
    307.0

    References
    ----------
    .. [1] D. Patel, D. Nishball, "Groq Inference Tokenomics: Speed, But At What
       Cost?", SemiAnalysis, 2024-02-21 ("each chip only has 230MB of SRAM").
    """
    b = nonnegative("n_bytes", n_bytes)
    mem = positive("memory_bytes", memory_bytes)
    u = fraction("usable_frac", usable_frac, allow_zero=False)
    # the tiny allowance keeps an exact fit from rounding up to one chip more
    n = np.ceil(b / (mem * u) * (1.0 - 1e-12))
    return like(n, n_bytes, memory_bytes, usable_frac)


@finite_result
def model_devices_to_hold(model, hardware, precision, context_tok=0.0, n_sequences=0.0, *,
                          kv_bytes_per_elem="bf16", usable_frac=1.0):
    """Chips (or wafers) a model needs to hold its weights, and optionally KV, on chip.

    Parameters
    ----------
    model : str, pandas.Series or Mapping
        As in :func:`decode_step` (uses ``total_params`` and the KV columns).
    hardware : str, pandas.Series, Mapping or pandas.DataFrame
        Uses ``memory_bytes`` (per chip or wafer).
    precision : {"bf16", "fp8", "int8", "fp4"}
        Weight precision.
    context_tok : numeric, default 0
        KV length per sequence to hold as well. [tokens]
    n_sequences : numeric, default 0
        Sequences whose KV cache must fit too. [-]
    kv_bytes_per_elem : numeric or str, default "bf16"
        Cache precision. [bytes]
    usable_frac : numeric, default 1
        Share of each device's memory available. [fraction]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``ceil((total_params * bytes + n_sequences * context_tok * kv_bytes_per_token)
        / (memory_bytes * usable_frac))``. [-]
    """
    m = model_spec(model)
    p = _precisions(precision, None)
    hw = resolve_hardware(hardware)
    mem_raw, mem = hardware_value(hw, "memory_bytes")
    ctx = nonnegative("context_tok", context_tok)
    n = nonnegative("n_sequences", n_sequences)
    kv_b = precision_bytes("kv_bytes_per_elem", kv_bytes_per_elem)
    u = fraction("usable_frac", usable_frac, allow_zero=False)
    total = m.total_params * p["weight_bytes_per_param"] \
        + n * ctx * m.n_layers * m.kv_elems_per_layer * kv_b
    out = np.ceil(total / (mem * u) * (1.0 - 1e-12))
    return like(out, mem_raw, context_tok, n_sequences, usable_frac,
                *_not_str(kv_bytes_per_elem))


# --- private -----------------------------------------------------------------------------------



def _check_le(name_small, small, name_big, big):
    bad = np.broadcast_to(small > big, np.broadcast_shapes(np.shape(small), np.shape(big)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        s = np.broadcast_to(small, bad.shape).reshape(-1)[i]
        b = np.broadcast_to(big, bad.shape).reshape(-1)[i]
        raise ValueError(f"{name_small} must be <= {name_big} ({b!r}), got {s!r}")


def _not_str(x):
    return [] if isinstance(x, str) else [x]


def _precisions(precision, compute_precision):
    choice("precision", precision, PRECISIONS)
    compute = precision if compute_precision is None else compute_precision
    choice("compute_precision", compute, PRECISIONS)
    return {"weight_bytes_per_param": BYTES_PER_PARAM[precision], "compute": compute}


def _act_quant_bytes(p, hw):
    """Bytes per element the input quantization of a matmul moves at these precisions: one
    fused kernel's where a GPU's matmuls run below BF16; none at BF16 or on an SRAM machine
    (a statically compiled schedule, as :func:`econ.predict_serving` prices it)."""
    sram = str(hw.get("memory_kind", "")) == "sram"
    return FUSED_ACT_QUANT_BYTES_PER_ELEM if p["compute"] != "bf16" and not sram else 0.0


def _calibration(cal, flop_efficiency_frac, bandwidth_efficiency_frac, hw):
    """The fitted calibration scaled to the device (:func:`econ.device_calibration`), with
    uniform efficiency overrides where given."""
    if cal is None:
        cal = calibration()
    elif not isinstance(cal, Calibration):
        raise ValueError(f"calibration must be an econ.Calibration or None, got "
                         f"{type(cal).__name__}")
    cal, changes = device_calibration(cal, hw), {}
    if flop_efficiency_frac is not None:
        ef = fraction("flop_efficiency_frac", flop_efficiency_frac, allow_zero=False)
        changes.update(gemm_flop_frac=ef, attention_flop_frac=ef)
    if bandwidth_efficiency_frac is not None:
        eb = fraction("bandwidth_efficiency_frac", bandwidth_efficiency_frac, allow_zero=False)
        changes.update(gemm_bandwidth_frac=eb, attention_bandwidth_frac=eb)
    return dataclasses.replace(cal, **changes) if changes else cal


def _check_fits(batch, max_seq, ctx, held):
    """A batch whose KV cache does not fit beside the weights is an error, not a number."""
    over = np.broadcast_to(batch > max_seq, np.broadcast_shapes(np.shape(batch),
                                                                np.shape(max_seq)))
    if over.any():
        i = int(np.flatnonzero(over)[0])
        b = float(np.broadcast_to(batch, over.shape).reshape(-1)[i])
        fit = float(np.broadcast_to(max_seq, over.shape).reshape(-1)[i])
        c = float(np.broadcast_to(ctx, over.shape).reshape(-1)[i])
        raise ValueError(f"n_sequences={b:g} does not fit in memory at context_tok={c:g}: at "
                         f"most {fit:g} sequences fit beside {float(np.max(held)):.3g} bytes "
                         "of weights per device; lower the batch or the context, or add "
                         "devices (n_devices)")







