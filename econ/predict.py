"""Serving as an engine runs it: ``predict_serving`` on top of the one step engine.

A step time is not yet a serving throughput. :func:`predict_serving` takes a deployment
(model, device, precision, tensor / expert / data parallel layout) and a workload (input and
output lengths, concurrency) and adds to :func:`econ.forward_step`, each from first
principles:

- **in-flight batching**: in steady state every decode step also prefills the prompts of
  the requests that replace finished ones, on average ``concurrency * isl / osl`` prompt
  tokens per step (chunked prefill sharing the step); their matmul rows, attention and KV
  writes lengthen the step (the weights are read once for both);
- **tensor-parallel all-reduce**: two per layer (after attention and after the FFN) of the
  step's activations, ``latency + 2 (tp - 1) / tp * bytes / link`` (ring all-reduce [1]_);
- **expert-parallel dispatch and combine** with data-parallel attention: each device sends
  its tokens' hidden states to the devices of their experts (FP8) and gets the results back
  (BF16), per MoE layer, over the scale-up link;
- **a fixed cost per step** (scheduling, sampling, host work between steps);
- **MTP / speculative decoding**: ``mtp_draft_tok`` drafts per step, accepted at the
  published rate of DeepSeek-V3's MTP module.

TPOT is the mean time between output tokens; TTFT the prompt's own prefill plus the step it
joins; per-user speed is ``1 / TPOT`` (what InferenceX calls interactivity); output tokens
per second per device are ``concurrency * osl / (ttft + osl * tpot) / n_devices``.

The serving-level constants (per-step cost, all-reduce and all-to-all latencies, the share
of the link's bandwidth reached) are rows of ``data/calibration.csv``, fitted only to the
ledger rows that may be fitted to (``make calibrate``).

References
----------
.. [1] P. Patarasuk, X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
   workstations", JPDC 69(2), 2009.
.. [2] A. Agrawal et al., "Sarathi-Serve: taming throughput-latency tradeoff in LLM
   inference", OSDI 2024 (chunked prefill sharing decode steps).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import data
from ._checks import choice, fraction, like, positive
from .engine import (
    calibration,
    device_calibration,
    forward_step,
    hardware_value,
    held_bytes_per_device,
    kv_bytes_per_token_per_device,
    model_spec,
    resolve_hardware,
    tokens_per_step,
)
from .units import BYTES_PER_PARAM, PEAK_FLOP_COLUMN

__all__ = ["ServingCalibration", "serving_calibration", "predict_serving"]

#: Bytes of one activation element on the wire: BF16 all-reduce and combine, FP8 dispatch.
_ACT_BYTES, _DISPATCH_BYTES, _COMBINE_BYTES = (BYTES_PER_PARAM["bf16"], BYTES_PER_PARAM["fp8"],
                                               BYTES_PER_PARAM["bf16"])


@dataclasses.dataclass(frozen=True)
class ServingCalibration:
    """The serving level's fitted constants (rows of ``data/calibration.csv``).

    Attributes
    ----------
    step_overhead_s : float
        Fixed time per engine step outside the forward pass (scheduling, sampling). [s]
    allreduce_latency_s : float
        Latency of one small all-reduce over the scale-up link. [s]
    alltoall_latency_s : float
        Latency of one dispatch or combine over the scale-up link. [s]
    link_bandwidth_frac : float
        Share of the scale-up link's per-direction bandwidth a collective reaches. [fraction]
    """

    step_overhead_s: float
    allreduce_latency_s: float
    alltoall_latency_s: float
    link_bandwidth_frac: float


def serving_calibration(**overrides):
    """The fitted :class:`ServingCalibration`, with overrides by name."""
    table = data.load("calibration")
    names = tuple(f.name for f in dataclasses.fields(ServingCalibration))
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"unknown serving constant(s) {unknown}; allowed: {list(names)}")
    values = {n: overrides[n] if overrides.get(n) is not None
              else float(table.loc[n, "value"]) for n in names}
    return ServingCalibration(**values)


def predict_serving(model, hardware, precision, *, n_devices, tp, ep=1, dp_attention=False,
                    isl_tok, osl_tok, concurrency, kv_precision="bf16", mtp_draft_tok=0):
    """Predict what a serving engine measures for a deployment under a workload.

    Parameters
    ----------
    model : str, pandas.Series, Mapping or ModelSpec
        A model (see :func:`econ.model_spec`).
    hardware : str, pandas.Series or Mapping
        One device (a name in ``data/hardware.csv`` or its row).
    precision : {"bf16", "fp8", "int8", "fp4"}
        Weight and matmul precision.
    n_devices : int
        Devices serving, in ``n_devices / tp`` independent replicas. [-]
    tp : int
        Devices of one replica (tensor parallel over them; with ``dp_attention`` the
        attention runs data parallel over them instead). [-]
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
        ``prefill_share_s``, ``allreduce_s``, ``alltoall_s``, ``overhead_s``, ``step_s`` [s];
        ``max_concurrency`` (what fits in memory) [-].

    Raises
    ------
    ValueError
        An inconsistent layout, an unknown precision, weights that do not fit on the
        replica's devices (the message says which and what is allowed). A concurrency above
        what fits in memory queues: the engine runs ``max_concurrency`` requests and the rest
        wait, which lengthens TTFT (Little's law).

    Notes
    -----
    Drafted tokens are accepted at DeepSeek-V3's published MTP acceptance; the constants are
    the fitted ones. :func:`predict_serving_with` takes both as arguments (what-if, fits).
    """
    return predict_serving_with(model, hardware, precision, n_devices=n_devices, tp=tp, ep=ep,
                                dp_attention=dp_attention, isl_tok=isl_tok, osl_tok=osl_tok,
                                concurrency=concurrency, kv_precision=kv_precision,
                                mtp_draft_tok=mtp_draft_tok)


def predict_serving_with(model, hardware, precision, *, n_devices, tp, ep=1, dp_attention=False,
                         isl_tok, osl_tok, concurrency, kv_precision="bf16", mtp_draft_tok=0,
                         acceptance_frac=None, step_calibration=None, serving=None):
    """:func:`predict_serving` with the acceptance and the constants as arguments.

    ``acceptance_frac`` (default DeepSeek-V3's published MTP acceptance), and
    ``step_calibration`` (:class:`econ.Calibration`) and ``serving``
    (:class:`ServingCalibration`), default the fitted ones.
    """
    m = model_spec(model)
    choice("precision", precision, tuple(BYTES_PER_PARAM))
    choice("kv_precision", kv_precision, ("bf16", "fp8"))
    hw = resolve_hardware(hardware)
    _, peak = hardware_value(hw, PEAK_FLOP_COLUMN[precision])
    _, peak_attn = hardware_value(hw, PEAK_FLOP_COLUMN["bf16"])
    _, bw = hardware_value(hw, "memory_bytes_per_s")
    _, mem = hardware_value(hw, "memory_bytes")
    _, link = hardware_value(hw, "interconnect_bytes_per_s", required=False)
    n_dev = float(positive("n_devices", n_devices, integer=True))
    tp = float(positive("tp", tp, integer=True))
    ep = float(positive("ep", ep, integer=True))
    if n_dev % tp:
        raise ValueError(f"n_devices ({n_dev:g}) must be a multiple of tp ({tp:g})")
    if tp % ep:
        raise ValueError(f"ep ({ep:g}) must divide tp ({tp:g}): experts are spread within a "
                         "replica")
    if ep > 1 and not m.moe:
        raise ValueError(f"ep={ep:g} needs an MoE model; {m.name!r} is dense")
    if not isinstance(dp_attention, (bool, np.bool_)):
        raise ValueError(f"dp_attention must be True or False, got {dp_attention!r}")
    isl = positive("isl_tok", isl_tok)
    osl = positive("osl_tok", osl_tok)
    k = float(positive("mtp_draft_tok", mtp_draft_tok + 1, integer=True)) - 1.0
    if acceptance_frac is None:
        acceptance_frac = float(data.load("published").loc["deepseek-v3-mtp-acceptance",
                                                           "value"]) if k > 0 else 0.0
    a = fraction("acceptance_frac", acceptance_frac)
    cal = calibration() if step_calibration is None else step_calibration
    cal = device_calibration(cal, hw)    # the shares measured on this device's own figures
    srv = serving_calibration() if serving is None else serving
    wb, kvb = BYTES_PER_PARAM[precision], BYTES_PER_PARAM[kv_precision]
    replicas = n_dev / tp
    ctx_dec = isl + osl / 2.0   # mean KV length a decoding request attends to

    # memory: weights per device, then the cache of the sequences each device holds
    held = held_bytes_per_device(m, wb, tp=tp, ep=ep, dp_attention=dp_attention)
    kv_tok = kv_bytes_per_token_per_device(m, kvb, tp=tp, dp_attention=dp_attention)
    free = mem - held
    if np.any(free <= 0):
        raise ValueError(f"{m.name!r} in {precision} needs {held:.3g} bytes per device on "
                         f"{tp:g} devices, more than the {float(mem):.3g} it has; raise tp "
                         "or lower the precision")
    seq_per_holder = np.floor(free / (kv_tok * (isl + osl)))
    holders = tp if dp_attention else 1.0      # devices holding different sequences
    max_conc = seq_per_holder * holders * replicas
    if concurrency is None:
        conc = max_conc
        if np.any(conc < 1):
            raise ValueError(f"not one request of {float(np.max(isl + osl)):g} tokens fits "
                             "beside the weights; raise tp or lower the precision")
    else:
        conc = positive("concurrency", concurrency)
    # beyond what fits, requests queue: the engine runs as many as fit
    running = np.minimum(conc, max_conc)
    per_replica = running / replicas
    b = per_replica / holders                  # sequences whose attention one device runs
    q = 1.0 + k
    common = dict(bw=bw, peak_mm=peak, peak_attn=peak_attn, weight_bytes_per_param=wb,
                  kv_bytes_per_elem=kvb, tp=tp, ep=ep, dp_attention=dp_attention, cal=cal)
    dec = forward_step(m, n_sequences=b, tok_per_seq=q, context_tok=ctx_dec, phase="decode",
                       **common)
    # prompts that join each step (in-flight batching): their rows, attention, KV writes
    tps = tokens_per_step(a, k)
    pre_tok = b * tps * isl / osl
    pre = forward_step(m, n_sequences=pre_tok / isl, tok_per_seq=isl,
                       context_tok=(isl + 1.0) / 2.0, phase="prefill", **common)
    prefill_share_s = pre["compute_s"] + pre["kv_memory_s"]
    # communication
    t_dev = dec["tokens"] + pre["tokens"]       # tokens through one device's attention
    link_bw = (link / 2.0 if link is not None else np.inf) * srv.link_bandwidth_frac
    allreduce_s = 0.0 * t_dev
    if tp > 1:
        rows = t_dev * tp if dp_attention else t_dev
        # with data-parallel attention, every FFN that runs tensor parallel over the group's
        # tokens gathers them and reduces its partial sums: the dense layers', and the MoE
        # layers' too when the experts are tensor parallel (ep == 1: no dispatch/combine)
        n_ar = 2.0 * m.n_layers if not dp_attention else 2.0 * (
            m.n_layers - (m.moe_layers if ep > 1 else 0.0))
        allreduce_s = n_ar * (srv.allreduce_latency_s
                              + 2.0 * (tp - 1.0) / tp * rows * m.hidden_dim * _ACT_BYTES
                              / link_bw)
    alltoall_s = 0.0 * t_dev
    if ep > 1 and dp_attention:
        per_layer = t_dev * m.n_active_experts * (ep - 1.0) / ep * m.hidden_dim \
            * (_DISPATCH_BYTES + _COMBINE_BYTES) / link_bw
        alltoall_s = m.moe_layers * (2.0 * srv.alltoall_latency_s + per_layer)
    step_s = dec["step_s"] + prefill_share_s + allreduce_s + alltoall_s + srv.step_overhead_s
    tpot = step_s / tps
    # TTFT: the prompt's own prefill joins a step of the running batch
    one = forward_step(m, n_sequences=1.0, tok_per_seq=isl, context_tok=(isl + 1.0) / 2.0,
                       phase="prefill", **common)
    ttft = step_s + one["compute_s"] + one["kv_memory_s"]
    # Little's law: requests complete at running / (ttft + osl * tpot); those beyond the
    # running ones wait in the queue before their first token
    completion_per_s = running / (ttft + osl * tpot)
    ttft = np.where(conc > running, conc / completion_per_s - osl * tpot, ttft)
    out_per_dev = completion_per_s * osl / n_dev
    out = dict(tpot_s=tpot, ttft_s=ttft, tok_per_s_per_user=1.0 / tpot,
               output_tok_per_s_per_device=out_per_dev, concurrency=conc,
               decode_s=dec["step_s"], prefill_share_s=prefill_share_s,
               allreduce_s=allreduce_s, alltoall_s=alltoall_s,
               overhead_s=srv.step_overhead_s + 0.0 * step_s, step_s=step_s,
               max_concurrency=max_conc + 0.0 * step_s)
    inputs = [concurrency, isl_tok, osl_tok]
    return {key: like(np.asarray(v, dtype=float), *inputs) for key, v in out.items()}
