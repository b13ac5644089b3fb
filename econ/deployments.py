"""A deployment at scale, run through the one serving model: DeepSeek's Day-6 units.

A row of ``data/deployments.csv`` (model, device, layout, micro-batches, DeepEP's measured
link rates) becomes the arguments of :func:`econ.predict_serving_with`, the engine level
that :func:`econ.predict_serving` wraps; there is no second step model. DeepSeek serves
V3/R1 disaggregated (Day-6 overview [1]_): a prefill unit of 4 nodes (32 H800s, expert
parallel EP32, attention and shared expert data parallel) computes prompts; a decode unit of
18 nodes (EP144) decodes. Both split each step into two micro-batches so that one computes
while the other's dispatch and combine cross InfiniBand (``n_microbatches`` 2, "overlapped";
the "added" case runs one batch and adds the communication).

The Day-6 prediction (:func:`day6_prediction`):

- **decode** at the published concurrency per device (the published 14.8k output tokens/s
  per node over the published 21 tokens/s per user, over 8 GPUs), each sequence attending to
  the published mean KV length (4,989), MTP at V3's published acceptance: the prediction is
  the per-user speed at that batch, hence the per-node rate;
- **prefill** of the mean prompt implied by the KV length and the day's token mix, 56.3% of
  its tokens read from the on-disk cache (attended to, not computed; counted in the
  published per-node rate, "including cache hits"), ``tok_per_device_per_pass`` computed
  tokens per device per pass.

The prefill prediction is a capacity, the published prefill rate a day's average; the
capacity is checked where it was measured (:func:`layout_checks`): DeepSeek's own profile of
its production prefill pass, and the SGLang team's H100 prefill and decode units of the same
design, each run at its stated setting.

Efficiencies: DeepSeek published the rates of the kernels its service runs (DeepGEMM FP8
matmuls, FlashMLA attention) on the H800 itself; :func:`kernel_efficiencies` turns them into
the engine's shares of the datasheet peaks (:func:`deployment_calibration`). The project's
fitted shares (``data/calibration.csv``) come from PyTorch kernels (MLA through
``torch.bmm``), about a third of FlashMLA's attention rate, and are not DeepSeek's.

References
----------
.. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
   github.com/deepseek-ai/open-infra-index, 2025-03-01.
.. [2] DeepSeek-AI, "DeepEP", github.com/deepseek-ai/DeepEP, README (Feb 2025).
.. [3] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §3.2.2.
.. [4] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, §3.2.3.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import data
from ._checks import choice, fraction, numeric, positive
from .engine import calibration, hardware_value, model_spec, resolve_hardware
from .predict import predict_serving_with
from .serving import prompt_tok_from_kv_length
from .units import PEAK_FLOP_COLUMN, cost_usd_per_mtok

__all__ = [
    "kernel_efficiencies",
    "deployment_calibration",
    "day6_inputs",
    "predict_deployment",
    "day6_prediction",
    "day6_time_table",
    "day6_decode_cases",
    "day6_decode_sweep",
    "day6_prefill_spread",
    "layout_checks",
    "day6_cache_hit_load",
    "max_generation_throughput",
    "max_generation_throughput_ratio",
    "v2_ratio_sweep",
    "serving_result_rows",
    "serving_prediction_claims",
]

#: Decode and prefill units of the Day-6 deployment in ``data/deployments.csv``.
DAY6_DECODE = "deepseek-v3-h800-day6-decode"
DAY6_PREFILL = "deepseek-v3-h800-day6-prefill"
#: Results subject of the Day-6 prediction.
DAY6_SUBJECT = "deepseek-v3:h800-day6"
#: Measured DeepSeek-style units (:func:`layout_checks`): check, row of
#: data/deployments.csv, overlapped or not, with MTP or not (an assumption for DeepSeek's
#: profile, which does not say: its service runs the MTP module; SGLang's runs here did not),
#: the measured rate and the setting (prompt length; or sequences per device and KV length),
#: rows of data/published.csv.
LAYOUT_CHECKS = (
    ("deepseek-profile-prefill", DAY6_PREFILL, True, True,
     "deepseek-profile-prefill-tok-per-s-per-node", ("deepseek-profile-prefill-prompt-tok",)),
    ("sglang-h100-prefill", "deepseek-v3-h100-sglang-ep32-prefill", True, False,
     "sglang-h100-ep32-prefill-balanced-tok-per-s-per-node",
     ("deepseek-profile-prefill-prompt-tok",)),
    ("sglang-h100-decode", "deepseek-v3-h100-sglang-ep72-decode", True, False,
     "sglang-h100-ep72-decode-tok-per-s-per-node",
     ("sglang-h100-ep72-decode-batch-per-device", "sglang-h100-ep72-decode-kv-length-tok")),
    ("sglang-h100-decode-no-overlap", "deepseek-v3-h100-sglang-ep72-decode", False, False,
     "sglang-h100-ep72-decode-no-tbo-tok-per-s-per-node",
     ("sglang-h100-ep72-decode-batch-per-device", "sglang-h100-ep72-decode-kv-length-tok")),
)
#: Results metric of :func:`layout_checks` (computed prompt or output tokens per node).
LAYOUT_METRIC = "unit_rate_per_node_predicted_tok_per_s"
#: Wording of each check in the answers.
LAYOUT_LABELS = {
    "deepseek-profile-prefill": "Prefill, computed tokens/s per node in DeepSeek's profiled pass "
                                "(H800)",
    "sglang-h100-prefill": "Prefill, computed tokens/s per node, SGLang at the profiled pass "
                           "(H100)",
    "sglang-h100-decode": "Decode, output tokens/s per node, SGLang EP72 (H100, communication "
                          "overlapped)",
    "sglang-h100-decode-no-overlap": "Decode, output tokens/s per node, SGLang EP72 (H100, "
                                     "communication added)",
}
#: Link-rate choices: DeepEP's measured rates for the unit's kernel and EP size, or the
#: nominal InfiniBand rate of the row (``ib_bytes_per_s``).
LINK_RATES = ("measured", "nominal")
_CASES = (("overlapped", True), ("added", False))
_DAY6_URL = ("https://github.com/deepseek-ai/open-infra-index/blob/main/202502OpenSourceWeek/"
             "day_6_one_more_thing_deepseekV3R1_inference_system_overview.md")
_V2_URL = "https://arxiv.org/abs/2405.04434"


# --- sourced inputs ----------------------------------------------------------------------------

def kernel_efficiencies(hardware="h800-sxm"):
    """Achieved shares of a device's peaks, from DeepSeek's published H800 kernel rates.

    - ``matmul_efficiency_frac``: DeepGEMM's "up to 1350+ FP8 TFLOPS on Hopper" over the
      device's dense FP8 peak;
    - ``attention_efficiency_frac``: FlashMLA's 580 TFLOPS BF16, compute-bound, on H800 (the
      February 2025 release, in service on the Day-6 day) over the dense BF16 peak;
    - ``bandwidth_efficiency_frac``: FlashMLA's 3000 GB/s memory-bound over the HBM bandwidth.

    These are best-case kernel rates. FlashMLA is a decode kernel: no rate of the prefill
    attention kernel DeepSeek ran was published, and prefill attention is charged at the
    same share (FlashAttention-3 reaches a similar share of the H100's BF16 peak on long
    causal prompts).

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


def deployment_calibration(hardware="h800-sxm", matmul_efficiency_frac=None,
                           attention_efficiency_frac=None, bandwidth_efficiency_frac=None):
    """The engine's :class:`econ.Calibration` with DeepSeek's kernel rates as its shares.

    The matmul, attention and bandwidth shares come from :func:`kernel_efficiencies` (or the
    arguments, in (0, 1]); the grouped-matmul share, the per-kernel cost and the attention
    occupancy stay the fitted ones of ``data/calibration.csv``.
    """
    eff = kernel_efficiencies(hardware)
    em = eff["matmul_efficiency_frac"] if matmul_efficiency_frac is None \
        else matmul_efficiency_frac
    ea = eff["attention_efficiency_frac"] if attention_efficiency_frac is None \
        else attention_efficiency_frac
    eb = eff["bandwidth_efficiency_frac"] if bandwidth_efficiency_frac is None \
        else bandwidth_efficiency_frac
    em = float(fraction("matmul_efficiency_frac", em, allow_zero=False))
    ea = float(fraction("attention_efficiency_frac", ea, allow_zero=False))
    eb = float(fraction("bandwidth_efficiency_frac", eb, allow_zero=False))
    return calibration(gemm_flop_frac=em, attention_flop_frac=ea, gemm_bandwidth_frac=eb,
                       attention_bandwidth_frac=eb)


def day6_inputs():
    """The Day-6 traffic and prices, from ``data/published.csv``.

    Returns
    -------
    dict
        ``cache_hit_frac`` (0.563), ``kv_length_tok`` (4,989), ``input_per_output_ratio``
        (608B / 168B), ``prompt_tok`` (:func:`econ.prompt_tok_from_kv_length`),
        ``output_tok`` (``2 (kv_length - prompt)``: the mean output that gives the published
        KV length), ``acceptance_frac`` (V3's MTP acceptance), ``usd_per_gpu_hour`` (2),
        ``per_user_tok_per_s`` (21, the middle of the published 20-22) and the published
        per-node rates ``prefill_tok_per_s_per_node`` (73.7k, cache hits included) and
        ``decode_tok_per_s_per_node`` (14.8k).
    """
    pub = data.load("published")

    def v(name, col="value"):
        return float(pub.loc[name, col])

    ratio = v("deepseek-day6-input-tok-per-day") / v("deepseek-day6-output-tok-per-day")
    kv = v("deepseek-day6-average-kv-length-tok")
    prompt = float(prompt_tok_from_kv_length(kv, ratio))
    return dict(
        cache_hit_frac=v("deepseek-day6-cache-hit-share"),
        kv_length_tok=kv,
        input_per_output_ratio=ratio,
        prompt_tok=prompt,
        output_tok=2.0 * (kv - prompt),
        acceptance_frac=v("deepseek-v3-mtp-acceptance"),
        usd_per_gpu_hour=v("deepseek-day6-rental-usd-per-hour"),
        prefill_tok_per_s_per_node=v("deepseek-day6-prefill-tok-per-s-per-node"),
        decode_tok_per_s_per_node=v("deepseek-day6-decode-tok-per-s-per-node"),
        per_user_tok_per_s=v("deepseek-day6-per-user-output-tok-per-s"),
        per_user_low_tok_per_s=v("deepseek-day6-per-user-output-tok-per-s", "low"),
        per_user_high_tok_per_s=v("deepseek-day6-per-user-output-tok-per-s", "high"),
    )


# --- a deployment row through predict_serving_with ---------------------------------------------

def _row(deployment):
    if isinstance(deployment, str):
        return dict(data.row("deployments", deployment).items(), name=deployment)
    if isinstance(deployment, (pd.Series, Mapping)):
        d = dict(deployment.items())
        d.setdefault("name", getattr(deployment, "name", None) or "<deployment>")
        return d
    raise ValueError("deployment must be a name in data/deployments.csv or a mapping of its "
                     f"columns; got {type(deployment).__name__}")


def _num(d, col, default=None):
    v = d.get(col)
    try:
        v = float(v)
    except (TypeError, ValueError):
        v = np.nan
    if not np.isfinite(v):
        if default is None:
            raise ValueError(f"deployment {d['name']!r}: column {col!r} is required")
        return default
    return v


def predict_deployment(deployment, *, isl_tok, osl_tok, concurrency=None, cache_hit_frac=0.0,
                       overlap=True, link_rates="measured", mtp_draft_tok=None,
                       acceptance_frac=None, matmul_efficiency_frac=None,
                       attention_efficiency_frac=None, bandwidth_efficiency_frac=None,
                       model=None, hardware=None):
    """A row of ``data/deployments.csv`` served by :func:`econ.predict_serving_with`.

    With ``n_ep_devices``: attention and dense parts data parallel (``tp=1``), the routed
    experts over ``n_ep_devices`` (``n_routed_experts_per_device`` slots each, redundant
    copies included), dispatch and combine with the row's DeepEP kernel and rates. Without
    (no published layout): an MoE model's experts over the unit's devices the same way (a
    tensor-parallel MoE under data-parallel attention would gather every rank's tokens and
    reduce their partial sums in each MoE layer, far more traffic than dispatch and
    combine); a dense model one tensor-parallel group over the unit (MLA attention data
    parallel).

    Parameters
    ----------
    deployment : str or Mapping
        A row name (``"deepseek-v3-h800-day6-decode"``) or a mapping of its columns.
    isl_tok, osl_tok : numeric
        Prompt and output tokens per request. [tokens]
    concurrency : numeric or None
        Requests in flight over the unit (decode), or prompts in one pass (prefill);
        ``None``: as many as fit in memory. [-]
    cache_hit_frac : numeric, default 0
        Share of prompt tokens read from the prefix cache. [fraction]
    overlap : bool, default True
        The row's micro-batches with communication hidden under compute, or one batch with
        it added.
    link_rates : {"measured", "nominal"}, default "measured"
        DeepEP's measured dispatch/combine rates of the row, or its nominal InfiniBand rate.
    mtp_draft_tok : int, optional
        Drafts per step; default the model's MTP modules where drafts are accepted.
    acceptance_frac : numeric, optional
        MTP acceptance; default V3's published one.
    matmul_efficiency_frac, attention_efficiency_frac, bandwidth_efficiency_frac : optional
        Shares of the peaks (:func:`deployment_calibration`); pass 1.0 for the datasheet.
    model, hardware : optional
        Override the row's model or device (what-if).

    Returns
    -------
    dict
        :func:`econ.predict_serving_with`'s, plus ``n_devices_per_node`` [-] and, per node,
        ``input_tok_per_s_per_node``, ``computed_tok_per_s_per_node``,
        ``output_tok_per_s_per_node`` [tokens/s] and ``n_sequences_per_device`` [-].
    """
    d = _row(deployment)
    if not isinstance(overlap, (bool, np.bool_)):
        raise ValueError(f"overlap must be True or False, got {overlap!r}")
    choice("link_rates", link_rates, LINK_RATES)
    phase = d.get("phase")
    choice(f"deployment {d['name']!r} phase", phase, ("prefill", "decode"))
    kernel = d.get("comm_kernel")
    choice(f"deployment {d['name']!r} comm_kernel", kernel, ("normal", "low-latency", "none"))
    g = _num(d, "n_devices_per_node")
    n_dev = g * _num(d, "n_nodes")
    ep = _num(d, "n_ep_devices", 0.0)
    kv_b = _num(d, "kv_cache_elem_bytes")
    kv_precision = {2.0: "bf16", 1.0: "fp8"}.get(kv_b, "bf16")
    hw = resolve_hardware(d["hardware"] if hardware is None else hardware)
    m_name = d["model"] if model is None else model
    spec = model_spec(m_name)
    if ep == 0 and spec.moe:  # no published layout: expert parallel over the unit
        ep = n_dev
    # expert parallel: attention and dense parts data parallel; else one tensor-parallel
    # group (an MLA cache would be copied on every rank: its attention runs data parallel)
    layout = dict(tp=1, ep=int(ep), dp_attention=True) if ep > 0 else \
        dict(tp=int(n_dev), ep=1, dp_attention=spec.attention_kind == "mla")
    extra = {}
    if ep > 0 and kernel != "none":
        if link_rates == "measured":
            rd, rc = _num(d, "dispatch_achieved_bytes_per_s"), _num(d,
                                                                   "combine_achieved_bytes_per_s")
        else:
            rd = rc = _num(d, "ib_bytes_per_s")
        extra = dict(comm_kernel=kernel, scaleout_dispatch_bytes_per_s=rd,
                     scaleout_combine_bytes_per_s=rc,
                     scaleup_bytes_per_s=_num(d, "nvlink_bytes_per_s", 0.0) or None,
                     max_routed_nodes=_num(d, "n_max_routed_nodes", 0.0) or None,
                     experts_per_device=_num(d, "n_routed_experts_per_device"))
    micro = int(_num(d, "n_microbatches")) if overlap else 1
    a = acceptance_frac
    if mtp_draft_tok is None:
        a_val = float(data.load("published").loc["deepseek-v3-mtp-acceptance", "value"]) \
            if a is None else float(a)
        mtp_draft_tok = int(spec.n_mtp_modules) if a_val > 0 else 0
    cal = deployment_calibration(hw, matmul_efficiency_frac, attention_efficiency_frac,
                                 bandwidth_efficiency_frac)
    r = predict_serving_with(
        spec, hw, d["weight_precision"], n_devices=int(n_dev), isl_tok=isl_tok,
        osl_tok=osl_tok, concurrency=concurrency, kv_precision=kv_precision,
        kv_bytes_per_elem=kv_b, mtp_draft_tok=mtp_draft_tok, acceptance_frac=a,
        step_calibration=cal, phase=phase, n_microbatches=micro,
        comm_sm_frac=_num(d, "n_comm_sms", 0.0) / _num(d, "n_device_sms") if micro > 1 else 0.0,
        cache_hit_frac=cache_hit_frac, **layout, **extra)
    r["n_devices_per_node"] = g
    r["input_tok_per_s_per_node"] = r["input_tok_per_s_per_device"] * g
    r["computed_tok_per_s_per_node"] = r["computed_tok_per_s_per_device"] * g
    r["output_tok_per_s_per_node"] = r["output_tok_per_s_per_device"] * g
    conc = r["concurrency"] if concurrency is not None else r["max_concurrency"]
    r["n_sequences_per_device"] = np.minimum(conc, r["max_concurrency"]) / n_dev
    return r


# --- the Day-6 prediction ----------------------------------------------------------------------

def _day6_decode_concurrency(x):
    g = float(data.row("deployments", DAY6_DECODE)["n_devices_per_node"])
    per_dev = x["decode_tok_per_s_per_node"] / x["per_user_tok_per_s"] / g
    return per_dev, per_dev * g * float(data.row("deployments", DAY6_DECODE)["n_nodes"])


def day6_prediction(overlap=True, tok_per_device_per_pass=None, n_sequences_per_device=None,
                    prompt_spread_ratio=1.0, **kwargs):
    """Predict DeepSeek's Day-6 per-node rates and the $/Mtok that follows, from sourced inputs.

    Decode: the EP144 unit at the published concurrency per device (or
    ``n_sequences_per_device``), Day-6 mean prompt and output (mean KV length 4,989), MTP at
    V3's acceptance. Prefill: the EP32 unit, ``tok_per_device_per_pass`` computed tokens per
    device per pass of the mean prompt, 56.3% of it from the cache. Cost: $2 per GPU-hour.

    Parameters
    ----------
    overlap : bool, default True
        Two micro-batches with communication hidden under compute (DeepSeek's mode), or one
        batch with it added.
    tok_per_device_per_pass : numeric, optional
        Computed prompt tokens per prefill device per pass; default the prefill row's
        ``pass_per_device_tok`` (16K, DeepSeek's published prefill profile). [tokens]
    n_sequences_per_device : numeric, optional
        Decode batch per device; default the published one (14.8k / 21 / 8). [-]
    prompt_spread_ratio : numeric, default 1
        Prompt length the prefill attention sees over the mean prompt (1: all prompts of the
        mean length; 2: an exponential spread, whose token-weighted length is twice the
        mean), from 1 to the model's context over the mean prompt. [ratio]
    **kwargs
        ``link_rates`` and efficiencies (:func:`predict_deployment`).

    Notes
    -----
    The prefill prediction is a capacity (a unit computing full passes back to back); the
    published 73.7k is the day's input tokens over the prefill nodes' hours (with the decode
    rate it gives back the published average of 226.75 nodes), so it includes under-filled and
    idle passes. With DeepSeek's kernel and DeepEP rates a 16K-token pass per GPU takes about
    2.0 s (matmuls of the experts about half, attention about 30%, the all-to-all, 1.6 s at
    DeepEP's EP32 rates, hidden); the published rate implies about 4.1 s. DeepSeek's own
    profile of a full pass (4K prompts, no cache hits), read by the SGLang team, runs at
    about twice the day's computed rate; the prediction is about 17% above the profile
    (:func:`layout_checks`), so most of the gap to the day's rate is the day's load and the
    rest the pass model (it uses DeepEP's unit-test link rates, and the SGLang post finds
    both DeepSeek's and its own profiled communication slower than those; at the profile's
    pass the all-to-all, 1.6 s at those rates, sits just under the 1.8 s of compute).
    Terms not modelled:
    prompt-length spread (attention grows with the prompt; :func:`day6_prefill_spread`),
    waiting for the busiest data-parallel rank, routing skew beyond balls-into-bins, the
    expansion of cached latents into per-head keys and values (a few percent), and the order
    of DeepSeek's overlap schedule (a few percent).

    Returns
    -------
    dict
        ``prefill`` and ``decode`` (:func:`predict_deployment`), ``inputs``
        (:func:`day6_inputs`), ``prefill_tok_per_s_per_node`` (cache hits included),
        ``decode_tok_per_s_per_node``, ``decode_tok_per_s_per_user`` [tokens/s],
        ``input_cost_usd_per_mtok``, ``output_cost_usd_per_mtok`` [USD/Mtok],
        ``n_sequences_per_device`` [-].
    """
    x = day6_inputs()
    pre_row = data.row("deployments", DAY6_PREFILL)
    dec_row = data.row("deployments", DAY6_DECODE)
    per_dev, _ = _day6_decode_concurrency(x)
    b = per_dev if n_sequences_per_device is None else positive("n_sequences_per_device",
                                                                n_sequences_per_device)
    n_dec = float(dec_row["n_devices_per_node"] * dec_row["n_nodes"])
    dec = predict_deployment(DAY6_DECODE, isl_tok=x["prompt_tok"], osl_tok=x["output_tok"],
                             concurrency=b * n_dec, acceptance_frac=x["acceptance_frac"],
                             overlap=overlap, **kwargs)
    n_pre = float(pre_row["n_devices_per_node"] * pre_row["n_nodes"])
    h = x["cache_hit_frac"]
    # a token-weighted prompt is at least the mean one, and at most the model's context
    longest = float(data.load("models").loc[pre_row["model"], "max_context_tok"])
    spread = numeric("prompt_spread_ratio", prompt_spread_ratio, min_value=1.0,
                     max_value=longest / x["prompt_tok"])
    prompt = x["prompt_tok"] * spread
    n_pass = float(pre_row["pass_per_device_tok"]) if tok_per_device_per_pass is None else \
        positive("tok_per_device_per_pass", tok_per_device_per_pass)
    pre = predict_deployment(DAY6_PREFILL, isl_tok=prompt, osl_tok=x["output_tok"],
                             concurrency=n_pass * n_pre / ((1.0 - h) * prompt),
                             cache_hit_frac=h, acceptance_frac=x["acceptance_frac"],
                             overlap=overlap, **kwargs)
    node_usd = x["usd_per_gpu_hour"] * float(dec_row["n_devices_per_node"])
    return dict(
        inputs=x, decode=dec, prefill=pre,
        prefill_tok_per_s_per_node=pre["input_tok_per_s_per_node"],
        decode_tok_per_s_per_node=dec["output_tok_per_s_per_node"],
        decode_tok_per_s_per_user=dec["tok_per_s_per_user"],
        n_sequences_per_device=dec["n_sequences_per_device"],
        input_cost_usd_per_mtok=cost_usd_per_mtok(node_usd, pre["input_tok_per_s_per_node"]),
        output_cost_usd_per_mtok=cost_usd_per_mtok(node_usd, dec["output_tok_per_s_per_node"]),
    )


_COMPONENTS = (("MLA attention (BF16)", "attention_s"),
               ("dense matmuls and replicated weights (FP8)", "dense_s"),
               ("routed experts (FP8)", "experts_s"))


def day6_time_table(**kwargs):
    """Where one Day-6 decode step and one prefill pass spend their time, both cases.

    Compute parts are scaled so that they sum to the compute time (the SMs lent to
    communication and the MTP layer included); the communication shows as "all-to-all,
    exposed" (what sticks out of the overlap, or all of it when added).

    Parameters
    ----------
    **kwargs
        As :func:`day6_prediction`.

    Returns
    -------
    pandas.DataFrame
        ``unit`` ("decode step", "prefill pass"), ``case`` ("overlapped", "added"),
        ``label`` ("<unit>, communication <case>"), ``component``, ``time_s`` [s],
        ``time_ms`` [ms], ``share_frac`` of the step [fraction], and ``comm_s`` (the whole
        all-to-all, hidden or not) [s].
    """
    rows = []
    for case, ov in _CASES:
        p = day6_prediction(overlap=ov, **kwargs)
        for unit, r in (("decode step", p["decode"]), ("prefill pass", p["prefill"])):
            raw = sum(float(r[c]) for _, c in _COMPONENTS)
            scale = float(r["compute_s"]) / raw
            parts = [(label, float(r[c]) * scale) for label, c in _COMPONENTS]
            parts += [("all-to-all, exposed", float(r["exposed_comm_s"])),
                      ("host work", float(r["overhead_s"]))]
            step = float(r["step_s"])
            rows += [dict(unit=unit, case=case, label=f"{unit}, communication {case}",
                          component=comp, time_s=t, time_ms=1e3 * t, share_frac=t / step,
                          comm_s=float(r["comm_s"])) for comp, t in parts]
    return pd.DataFrame(rows)


def day6_decode_cases(**kwargs):
    """The Day-6 decode prediction at the published batch, overlapped and added.

    Returns
    -------
    pandas.DataFrame
        ``case``, ``n_sequences_per_device``, ``max_sequences_per_device`` [count],
        ``decode_tok_per_s_per_user``, ``decode_tok_per_s_per_node`` [tokens/s],
        ``compute_s``, ``comm_s``, ``step_s`` [s].
    """
    out = []
    for case, ov in _CASES:
        p = day6_prediction(overlap=ov, **kwargs)
        d = p["decode"]
        n_dev = float(data.row("deployments", DAY6_DECODE)["n_nodes"]) * d["n_devices_per_node"]
        out.append(dict(case=case, n_sequences_per_device=float(p["n_sequences_per_device"]),
                        max_sequences_per_device=float(d["max_concurrency"] / n_dev),
                        decode_tok_per_s_per_user=float(d["tok_per_s_per_user"]),
                        decode_tok_per_s_per_node=float(d["output_tok_per_s_per_node"]),
                        compute_s=float(d["compute_s"]), comm_s=float(d["comm_s"]),
                        step_s=float(d["step_s"])))
    return pd.DataFrame(out)


def day6_decode_sweep(n_points=24, **kwargs):
    """Day-6 decode throughput per node against speed per user, batch swept, with the
    published point (its low and high per-user speeds at the batch they imply).

    Returns
    -------
    pandas.DataFrame
        Long: ``series``, ``n_sequences_per_device`` [count], ``decode_tok_per_s_per_user``,
        ``decode_tok_per_s_per_node`` [tokens/s].
    """
    x = day6_inputs()
    top = float(day6_decode_cases(**kwargs)["max_sequences_per_device"].iloc[0])
    batch = np.unique(np.round(np.geomspace(1.0, top, int(n_points))))
    frames = []
    for case, ov in _CASES:
        p = day6_prediction(overlap=ov, n_sequences_per_device=batch, **kwargs)
        frames.append(pd.DataFrame({
            "series": f"predicted, communication {case}", "n_sequences_per_device": batch,
            "decode_tok_per_s_per_user": p["decode_tok_per_s_per_user"],
            "decode_tok_per_s_per_node": p["decode_tok_per_s_per_node"]}))
    per_dev, _ = _day6_decode_concurrency(x)
    frames.append(pd.DataFrame({
        "series": "published, Day-6", "n_sequences_per_device": per_dev,
        "decode_tok_per_s_per_user": [x["per_user_low_tok_per_s"], x["per_user_high_tok_per_s"]],
        "decode_tok_per_s_per_node": x["decode_tok_per_s_per_node"]}))
    return pd.concat(frames, ignore_index=True)


def day6_prefill_spread(spread_ratio, **kwargs):
    """Day-6 prefill per node when prompt lengths spread: prompts at a multiple of the mean.

    Parameters
    ----------
    spread_ratio : array_like
        Length-weighted prompt over the mean prompt (1 equal, 2 exponential). [ratio]

    Returns
    -------
    pandas.DataFrame
        ``case``, ``spread_ratio`` [ratio], ``prefill_tok_per_s_per_node`` [tokens/s],
        ``error_frac`` (against the published 73.7k) [fraction].
    """
    x = day6_inputs()
    k = np.atleast_1d(np.asarray(positive("spread_ratio", spread_ratio), dtype=float))
    frames = []
    for case, ov in _CASES:
        try:
            rate = day6_prediction(overlap=ov, prompt_spread_ratio=k,
                                   **kwargs)["prefill_tok_per_s_per_node"]
        except ValueError as exc:
            raise ValueError(f"spread_ratio={float(np.max(k)):g}: {exc}") from None
        frames.append(pd.DataFrame({
            "case": case, "spread_ratio": k, "prefill_tok_per_s_per_node": rate,
            "error_frac": rate / x["prefill_tok_per_s_per_node"] - 1.0}))
    return pd.concat(frames, ignore_index=True)


def layout_checks(**kwargs):
    """DeepSeek-style units measured at a stated setting, predicted at that setting.

    Each check is a row of ``data/deployments.csv`` run back to back at a setting read from
    ``data/published.csv`` and the row's pass size (:data:`LAYOUT_CHECKS`), against the rate
    measured there:

    - ``deepseek-profile-prefill``: the Day-6 prefill unit (H800, EP32) at DeepSeek's
      profiled pass (16K tokens per GPU, 4K prompts, no cache hits, routing perfectly
      balanced), the rate the SGLang team read off DeepSeek's trace;
    - ``sglang-h100-prefill``: SGLang's H100 EP32 unit at the same pass, random expert
      choice under group-limited routing ("simulated perfect EPLB");
    - ``sglang-h100-decode`` and ``...-no-overlap``: SGLang's H100 EP72 decode unit, 256
      sequences per GPU at a KV length of 2,000, with and without two-batch overlap.

    DeepSeek's profile is taken with its MTP module (one more layer over the prompt), as its
    service runs; the profile does not say (without it the prediction is about 2% higher).
    SGLang's runs did not use MTP (its post: MTP "lacks full integration with DP attention").
    The no-overlap decode rate is derived from the post's overlap ablation, a separate run of
    the same unit, at the headline run's KV length (the ablation states none).

    The Day-6 prefill prediction is this kind of rate (a unit computing passes back to back);
    the published Day-6 rate is the day's average.

    Parameters
    ----------
    **kwargs
        ``link_rates`` and efficiencies (:func:`predict_deployment`); each check runs in its
        measured mode (overlapped or not).

    Returns
    -------
    pandas.DataFrame
        Index: the check. ``deployment``, ``hardware``, ``phase``, ``overlap``, the setting
        (``prompt_tok``, ``tok_per_device_per_pass``, ``n_sequences_per_device``,
        ``kv_length_tok``; NaN where it does not apply), ``predicted_tok_per_s_per_node``,
        ``measured_tok_per_s_per_node`` (computed prompt tokens, or output tokens, per second
        per node) [tokens/s], ``error_frac`` (predicted over measured, minus one)
        [fraction], ``source_url`` (of the measured rate).
    """
    kwargs.pop("overlap", None)
    pub = data.load("published")
    value = pub["value"].astype(float)
    out = {}
    for check, deployment, overlap, mtp, measured, setting in LAYOUT_CHECKS:
        mtp_kw = {} if mtp else dict(mtp_draft_tok=0)
        row = data.row("deployments", deployment)
        n_dev = float(row["n_devices_per_node"] * row["n_nodes"])
        s = dict(prompt_tok=np.nan, tok_per_device_per_pass=np.nan,
                 n_sequences_per_device=np.nan, kv_length_tok=np.nan)
        if row["phase"] == "prefill":
            s.update(prompt_tok=value[setting[0]],
                     tok_per_device_per_pass=float(row["pass_per_device_tok"]))
            isl, column = s["prompt_tok"], "computed_tok_per_s_per_node"
            conc = s["tok_per_device_per_pass"] * n_dev / s["prompt_tok"]
        else:
            s.update(n_sequences_per_device=value[setting[0]], kv_length_tok=value[setting[1]])
            isl, column = s["kv_length_tok"], "output_tok_per_s_per_node"
            conc = s["n_sequences_per_device"] * n_dev
        rate = float(predict_deployment(deployment, isl_tok=isl, osl_tok=1.0, concurrency=conc,
                                        overlap=overlap, **mtp_kw, **kwargs)[column])
        ref = value[measured]
        out[check] = dict(deployment=deployment, hardware=row["hardware"], phase=row["phase"],
                          overlap=overlap, **s, predicted_tok_per_s_per_node=rate,
                          measured_tok_per_s_per_node=ref, error_frac=rate / ref - 1.0,
                          source_url=pub.loc[measured, "source_url"].split(" ; ")[0])
    return pd.DataFrame.from_dict(out, orient="index")


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
    d = data.row("deployments", DAY6_PREFILL)
    load = x["prefill_tok_per_s_per_node"] * x["cache_hit_frac"] * positive(
        "kv_bytes_per_tok", kv_bytes_per_tok)
    return dict(load_bytes_per_s=float(load), ib_share_frac=float(
        load / (float(d["ib_bytes_per_s"]) * float(d["n_devices_per_node"]))))


# --- one node at its largest batch (DeepSeek-V2 vs 67B) ------------------------------------------

def max_generation_throughput(deployment, context_tok, **kwargs):
    """Generation tokens per second of a node decoding as many sequences as its memory holds.

    The V2 report's "maximum generation throughput": requests of ``context_tok`` mean KV
    length (a prompt of ``context_tok / 2`` and as many output tokens, so that the mean KV
    length per output token is ``context_tok``), as many as fit, no MTP.

    Parameters
    ----------
    deployment : str or Mapping
        A decode row (``"deepseek-v2-h800-node"``, ``"deepseek-67b-h800-node"``).
    context_tok : numeric
        Mean KV length per generated token (> 0). [tokens]
    **kwargs
        Efficiencies and ``overlap`` (:func:`predict_deployment`).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Tokens per second per node. [tokens/s]
    """
    positive("context_tok", context_tok)
    L = context_tok if isinstance(context_tok, (pd.Series, np.ndarray)) else \
        np.asarray(context_tok, dtype=float) if np.ndim(context_tok) else float(context_tok)
    try:
        r = predict_deployment(deployment, isl_tok=L / 2.0, osl_tok=L, concurrency=None,
                               mtp_draft_tok=0, **kwargs)
    except ValueError as exc:
        raise ValueError(f"context_tok={float(np.max(L)):g} (isl_tok = context_tok / 2, "
                         f"osl_tok = context_tok): {exc}") from None
    return r["output_tok_per_s_per_node"]


def max_generation_throughput_ratio(deployment, baseline, context_tok, **kwargs):
    """``max_generation_throughput(deployment) / max_generation_throughput(baseline)``; the V2
    report's 5.76x is ``("deepseek-v2-h800-node", "deepseek-67b-h800-node")``. [ratio]"""
    top = max_generation_throughput(deployment, context_tok, **kwargs)
    try:
        bottom = max_generation_throughput(baseline, context_tok, **kwargs)
    except ValueError as exc:
        raise ValueError(f"baseline {baseline!r}: {exc}") from None
    return top / bottom


def v2_ratio_sweep(kv_length_tok, tolerance_frac, n_points=9, **kwargs):
    """DeepSeek-V2 over DeepSeek 67B, maximum generation throughput, across the unpublished
    context length of the V2 report's test, with the published 5.76x and a tolerance band.

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
    try:
        mine = float(max_generation_throughput_ratio(*nodes, kv_length_tok, **kwargs))
    except ValueError as exc:
        raise ValueError(f"kv_length_tok={kv_length_tok:g}: {exc}") from None
    return pd.concat([
        pd.DataFrame({"series": "predicted", "kv_length_tok": grid,
                      "throughput_ratio": max_generation_throughput_ratio(*nodes, grid,
                                                                          **kwargs)}),
        pd.DataFrame({"series": "this run's KV length", "kv_length_tok": [kv_length_tok],
                      "throughput_ratio": [mine]}),
        pd.DataFrame({"series": "published", "kv_length_tok": ends, "throughput_ratio": pub}),
    ] + [pd.DataFrame({"series": f"published {sign * tolerance_frac:+.0%}", "kv_length_tok": ends,
                       "throughput_ratio": pub * (1.0 + sign * tolerance_frac)})
         for sign in (-1.0, 1.0)], ignore_index=True)


# --- result rows ---------------------------------------------------------------------------------

def serving_result_rows(rel_tol=0.30, v2_kv_length_tok=None, **kwargs):
    """Result rows for :func:`econ.results_frame`: predicted vs published, with sources.

    Per case (subject ``deepseek-v3:h800-day6``: overlapped, as DeepSeek runs it;
    ``...:no-overlap``: added): prefill and decode tokens/s per node, the decode speed per
    user at the published batch (published 20-22), input and output $/Mtok at $2 per
    GPU-hour; the measured DeepSeek-style units (:func:`layout_checks`, subjects
    ``deepseek-v3:<check>``, each in its measured mode);
    then the V2-over-67B ratio and each node's maximum generation rate.

    Parameters
    ----------
    rel_tol : float, default 0.30
        Tolerance of the verdicts. [fraction]
    v2_kv_length_tok : float, optional
        KV length of the V2-vs-67B comparison; default the assumption
        ``deepseek_67b_service_kv_length_tok`` of data/assumptions.csv. [tokens]
    **kwargs
        ``link_rates`` and efficiencies (:func:`predict_deployment`).

    Returns
    -------
    list of dict
    """
    x = day6_inputs()
    gpus = float(data.row("deployments", DAY6_DECODE)["n_devices_per_node"])
    node_usd = x["usd_per_gpu_hour"] * gpus
    pub_in = float(cost_usd_per_mtok(node_usd, x["prefill_tok_per_s_per_node"]))
    pub_out = float(cost_usd_per_mtok(node_usd, x["decode_tok_per_s_per_node"]))
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
            dict(metric="decode_per_user_predicted_tok_per_s", subject=subject,
                 value=float(p["decode_tok_per_s_per_user"]),
                 published_value=x["per_user_tok_per_s"], source_url=_DAY6_URL,
                 rel_tol=rel_tol),
            dict(metric="predicted_input_cost_usd_per_mtok", subject=subject,
                 value=float(p["input_cost_usd_per_mtok"]), published_value=pub_in,
                 source_url=cost_src, rel_tol=rel_tol),
            dict(metric="predicted_output_cost_usd_per_mtok", subject=subject,
                 value=float(p["output_cost_usd_per_mtok"]), published_value=pub_out,
                 source_url=cost_src, rel_tol=rel_tol),
        ]
    rows += [dict(metric=LAYOUT_METRIC, subject=f"deepseek-v3:{check}",
                  value=float(r["predicted_tok_per_s_per_node"]),
                  published_value=float(r["measured_tok_per_s_per_node"]),
                  source_url=r["source_url"], rel_tol=rel_tol)
             for check, r in layout_checks(**kwargs).iterrows()]
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


def serving_prediction_claims():
    """Wording of each prediction row of :func:`serving_result_rows`, keyed by (metric, subject).

    Returns
    -------
    dict
        ``{(metric, subject): label}``, in reading order.
    """
    quantities = {
        "prefill_tok_per_s_per_node_predicted": "Prefill, input tokens/s per node (cache hits "
                                                "included)",
        "decode_tok_per_s_per_node_predicted": "Decode, output tokens/s per node",
        "decode_per_user_predicted_tok_per_s": "Decode, tokens/s per user at the published "
                                               "batch",
        "predicted_input_cost_usd_per_mtok": "Input $/Mtok at $2 per GPU-hour",
        "predicted_output_cost_usd_per_mtok": "Output $/Mtok at $2 per GPU-hour",
    }
    cases = {DAY6_SUBJECT: "overlapped", f"{DAY6_SUBJECT}:no-overlap": "added"}
    out = {(metric, subject): f"{label} (communication {case})"
           for metric, label in quantities.items() for subject, case in cases.items()}
    for check, label in LAYOUT_LABELS.items():
        out[LAYOUT_METRIC, f"deepseek-v3:{check}"] = label
    out["max_generation_throughput_ratio_predicted", "deepseek-v2-vs-deepseek-67b"] = (
        "DeepSeek-V2 over DeepSeek 67B, maximum generation throughput on one 8xH800 node")
    return out

