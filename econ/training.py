"""What a training run computes, how long it takes on accelerators, and what it costs.

* :func:`training_flop`: ``(6 * active_params + attention_flop_per_tok) * training_tok``;
* :func:`attention_flop_per_tok` / :func:`model_attention_flop_per_tok`: the attention term
  from a model config (the score and value matmuls, which ``6 N`` leaves out);
* :func:`model_training_flop`: both, from a row of ``econ.data.load("models")``;
* :func:`training_gpu_hours`: FLOPs / (peak FLOP/s x MFU);
* :func:`training_cost_usd`: GPU-hours x price;
* :func:`implied_mfu_frac`: the inverse, the model FLOPs utilization a published GPU-hour
  figure implies;
* :func:`serving_node_hours`, :func:`serving_output_share_frac`: the node-time a day of traffic
  takes at measured prefill and decode throughputs, and the share of it spent decoding;
* :func:`scaled_serving_usd_per_day`: a day's serving bill when traffic grows and reasoning
  multiplies the output tokens;
* :func:`training_equivalent_serving_days`, :func:`lifetime_inference_share_frac`: training
  against serving over a model's life (when serving spend passes training spend).

FLOP-counting convention (stated once, used throughout): *model* FLOPs, as in the definition
of MFU in PaLM [3]_: a matmul of an ``m x k`` by a ``k x n`` matrix is ``2 m k n`` FLOPs;
the backward pass costs twice the forward pass, so training is 3 x forward; recomputation
(activation checkpointing) is not counted; embedding look-ups are free.

References
----------
.. [1] J. Kaplan et al., "Scaling Laws for Neural Language Models", arXiv:2001.08361, 2020,
   sec. 2.1 and Table 1.
.. [2] J. Hoffmann et al., "Training Compute-Optimal Large Language Models" (Chinchilla),
   arXiv:2203.15556, 2022, appendix F.
.. [3] A. Chowdhery et al., "PaLM: Scaling Language Modeling with Pathways",
   arXiv:2204.02311, 2022, appendix B.
.. [4] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, 2024, Table 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import finite_result as _finite_result
from ._checks import fraction, like, nonnegative, positive
from .units import SECONDS_PER_HOUR

__all__ = [
    "TRAINING_FLOP_PER_PARAM_PER_TOK",
    "training_flop",
    "attention_flop_per_tok",
    "model_attention_flop_per_tok",
    "model_training_flop",
    "training_gpu_hours",
    "training_cost_usd",
    "implied_mfu_frac",
    "DAYS_PER_YEAR",
    "serving_node_hours",
    "serving_output_share_frac",
    "scaled_serving_usd_per_day",
    "training_equivalent_serving_days",
    "lifetime_inference_share_frac",
]

#: Forward 2 FLOPs per parameter per token (one multiply-add), backward 4: 6 in all [1]_.
TRAINING_FLOP_PER_PARAM_PER_TOK = 6.0
_ATTENTION_KINDS = ("mha", "gqa", "mla")


@_finite_result
def training_flop(active_params, training_tok, attention_flop_per_tok=0.0):
    """Training compute: ``(6 * active_params + attention_flop_per_tok) * training_tok``.

    ``6 N D`` is the standard approximation [1]_ [2]_: 2 FLOPs per parameter per token
    forward, 4 backward. For a mixture-of-experts model ``N`` is the parameters *active* per
    token (37B of DeepSeek-V3's 671B [4]_). ``6 N D`` leaves out the attention score and
    value matmuls, whose cost grows with context; add them with ``attention_flop_per_tok``
    (from :func:`attention_flop_per_tok` or :func:`model_attention_flop_per_tok`), which is the
    PaLM convention ``6 N + 12 L H Q T`` [3]_ for multi-head attention.

    Parameters
    ----------
    active_params : numeric
        Parameters that take part in each token's forward pass (for DeepSeek-V3's 37B this
        includes the 0.9B output head and the 0.9B embedding). [parameters]
    training_tok : numeric
        Tokens trained on. [tokens]
    attention_flop_per_tok : numeric, default 0
        Extra training (forward + backward) attention FLOPs per token. [FLOP/token]

    Returns
    -------
    numeric
        Training compute. [FLOP]

    References
    ----------
    .. [1] J. Kaplan et al., arXiv:2001.08361, 2020, eq. 2.1 / Table 1 (``C = 6 N D``).
    .. [2] J. Hoffmann et al., arXiv:2203.15556, 2022, appendix F.
    .. [3] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B.
    .. [4] DeepSeek-AI, arXiv:2412.19437, 2024.
    """
    n = nonnegative("active_params", active_params)
    d = nonnegative("training_tok", training_tok)
    a = nonnegative("attention_flop_per_tok", attention_flop_per_tok)
    out = (TRAINING_FLOP_PER_PARAM_PER_TOK * n + a) * d
    return like(out, active_params, training_tok, attention_flop_per_tok)


@_finite_result
def attention_flop_per_tok(n_layers, n_heads, qk_head_dim, v_head_dim, context_tok):
    """Training attention FLOPs per token:
    ``6 * n_layers * context_tok * n_heads * (qk_head_dim + v_head_dim)``.

    Per layer and per query token the forward pass computes ``QKᵀ`` scores against
    ``context_tok`` keys (``2 * n_heads * qk_head_dim * context_tok`` FLOPs) and the weighted
    sum of as many values (``2 * n_heads * v_head_dim * context_tok``); training is 3 x the
    forward pass. For multi-head attention (``qk_head_dim == v_head_dim == Q``) this is the
    PaLM term ``12 L H Q T`` [2]_.

    Convention: the full ``T x T`` score matrix is counted, as in PaLM's MFU [2]_ (no halving
    for the causal mask). Kaplan et al. [1]_ count only the ``QKᵀ`` term,
    ``6 * n_layers * context * d_attn`` (d_attn = n_heads * head_dim), half of this for MHA.
    Kernels that skip masked blocks (FlashAttention) execute about half: pass
    ``context_tok / 2`` to count those. Grouped-query attention (GQA) shares keys and values
    between heads but not the FLOPs: ``n_heads`` is the number of *query* heads. For
    multi-head latent attention (MLA) during training the keys are
    ``qk_nope_head_dim + qk_rope_head_dim`` wide (192 for DeepSeek-V3) and the values
    ``v_head_dim`` (128) [3]_.

    Parameters
    ----------
    n_layers : numeric
        Transformer layers. [count]
    n_heads : numeric
        Query heads per layer. [count]
    qk_head_dim : numeric
        Query/key width per head. [elements]
    v_head_dim : numeric
        Value width per head. [elements]
    context_tok : numeric
        Sequence length trained at (keys each query attends to). [tokens]

    Returns
    -------
    numeric
        Training (forward + backward) attention FLOPs per token. [FLOP/token]

    References
    ----------
    .. [1] J. Kaplan et al., arXiv:2001.08361, 2020, Table 1 ("Attention: Mask").
    .. [2] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B.
    .. [3] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, 2024, sec. 2.1.
    """
    L = positive("n_layers", n_layers, integer=True)
    H = positive("n_heads", n_heads, integer=True)
    dqk = positive("qk_head_dim", qk_head_dim)
    dv = positive("v_head_dim", v_head_dim)
    T = nonnegative("context_tok", context_tok)
    out = _attention(L, H, dqk, dv, T)
    return like(out, n_layers, n_heads, qk_head_dim, v_head_dim, context_tok)


def _attention(L, H, dqk, dv, T):
    return 3.0 * 2.0 * L * T * H * (dqk + dv)


def _model_columns(model):
    """Config columns of one model (floats) or of a table (Series), with clear errors."""
    model = data.model_row(model)          # a name or a config.json path -> a models row
    if isinstance(model, pd.Series):
        frame, one = model.to_frame().T, True
    elif isinstance(model, pd.DataFrame):
        frame, one = model, False
    else:
        raise ValueError("model must be a name in the models table, a path to a config.json, "
                         f"a row of econ.data.load('models') or the table, got {model!r}")
    if "attention_kind" not in frame.columns:
        raise ValueError(f"model needs the column 'attention_kind'; it has {list(frame.columns)}")
    kind = frame["attention_kind"].astype(object)
    bad = ~kind.isin(_ATTENTION_KINDS)
    if bad.any():
        raise ValueError(f"model {frame.index[bad][0]!r}: attention_kind must be one of "
                         f"{list(_ATTENTION_KINDS)}, got {kind[bad].iloc[0]!r}")
    is_mla = (kind == "mla").to_numpy()

    def col(c, need):
        if not need.any():
            return np.full(len(frame), np.nan)
        if c not in frame.columns:
            raise ValueError(f"model needs the column {c!r}; it has {list(frame.columns)}")
        v = pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy()
        miss = need & np.isnan(v)
        if miss.any():
            raise ValueError(f"model {frame.index[miss][0]!r} has no {c} in the models table")
        return v

    everyone = np.ones(len(frame), dtype=bool)
    head = col("head_dim", ~is_mla)
    nope = col("qk_nope_head_dim", is_mla)
    rope = col("qk_rope_head_dim", is_mla)
    vdim = col("v_head_dim", is_mla)
    cols = {
        "n_layers": col("n_layers", everyone),
        "n_heads": col("n_heads", everyone),
        "qk_head_dim": np.where(is_mla, nope + rope, head),
        "v_head_dim": np.where(is_mla, vdim, head),
    }
    if one:
        return {k: float(v[0]) for k, v in cols.items()}, frame, one
    return {k: pd.Series(v, index=frame.index) for k, v in cols.items()}, frame, one


@_finite_result
def model_attention_flop_per_tok(model, context_tok):
    """Training attention FLOPs per token from a model's published config.

    :func:`attention_flop_per_tok` with the head widths the config's ``attention_kind``
    implies: ``head_dim`` for both keys and values under ``mha`` and ``gqa`` (``n_heads``
    query heads; the KV-head count does not change FLOPs), and ``qk_nope_head_dim +
    qk_rope_head_dim`` for keys and ``v_head_dim`` for values under ``mla`` (the
    decompressed form used in training [1]_).

    Parameters
    ----------
    model : str, pandas.Series or pandas.DataFrame
        A key of the ``models`` table, a row of it, or the table. Uses ``n_layers``,
        ``n_heads``, ``attention_kind`` and ``head_dim`` or ``qk_nope_head_dim``,
        ``qk_rope_head_dim``, ``v_head_dim``.
    context_tok : numeric
        Sequence length trained at. [tokens]

    Returns
    -------
    numeric
        Training attention FLOPs per token [FLOP/token]; a Series indexed by model name when
        given the table.

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, 2024, sec. 2.1.2-2.1.3.
    .. [2] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B.
    """
    c, _, _ = _model_columns(model)
    return attention_flop_per_tok(c["n_layers"], c["n_heads"], c["qk_head_dim"],
                                  c["v_head_dim"], context_tok)


@_finite_result
def model_training_flop(model, training_tok, context_tok=None):
    """Training compute of a model from its config: 6 N_active D, plus attention if asked.

    Parameters
    ----------
    model : str, pandas.Series or pandas.DataFrame
        A key of the ``models`` table, a row of it, or the table. Uses ``active_params`` and,
        with ``context_tok``, the attention columns (:func:`model_attention_flop_per_tok`).
    training_tok : numeric
        Tokens trained on. [tokens]
    context_tok : numeric, optional
        Sequence length trained at; ``None`` leaves the attention term out (plain ``6 N D``).
        [tokens]

    Returns
    -------
    numeric
        Training compute. [FLOP]

    References
    ----------
    .. [1] J. Kaplan et al., arXiv:2001.08361, 2020.
    .. [2] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B.
    """
    model = data.model_row(model)          # a name or a config.json path -> a models row
    if not isinstance(model, (pd.Series, pd.DataFrame)):
        raise ValueError("model must be a name in the models table, a path to a config.json, "
                         f"a row of econ.data.load('models') or the table, got {model!r}")
    has = model.index if isinstance(model, pd.Series) else model.columns
    if "active_params" not in has:
        raise ValueError(f"model needs the column 'active_params'; it has {list(has)}")
    n = model["active_params"]
    n = float(n) if isinstance(model, pd.Series) else n.astype(float)
    attn = 0.0 if context_tok is None else model_attention_flop_per_tok(model, context_tok)
    return training_flop(n, training_tok, attn)


@_finite_result
def training_gpu_hours(flop, peak_flop_per_s, mfu_frac):
    """Accelerator-hours to compute ``flop`` at a model FLOPs utilization.

    ``flop / (peak_flop_per_s * mfu_frac * 3600)``.

    Parameters
    ----------
    flop : numeric
        Training compute (:func:`training_flop`). [FLOP]
    peak_flop_per_s : numeric
        Dense peak of one accelerator at the precision the MFU is quoted against (H800/H100
        SXM: about 9.89e14 BF16, 1.98e15 FP8). [FLOP/s]
    mfu_frac : numeric
        Model FLOPs utilization: model FLOPs per second achieved / peak, in (0, 1]. [fraction]

    Returns
    -------
    numeric
        Accelerator-hours. [GPU-hours]

    References
    ----------
    .. [1] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B (MFU).
    """
    c = nonnegative("flop", flop)
    peak = positive("peak_flop_per_s", peak_flop_per_s)
    u = fraction("mfu_frac", mfu_frac, allow_zero=False)
    return like(c / (peak * u * SECONDS_PER_HOUR), flop, peak_flop_per_s, mfu_frac)


@_finite_result
def training_cost_usd(gpu_hours, usd_per_gpu_hour):
    """Dollar cost of a run at a price per accelerator-hour: ``gpu_hours * usd_per_gpu_hour``.

    DeepSeek-V3's published $5.576M is 2.788M H800 GPU-hours at an assumed $2 rental price
    for the final run only (excluding research and ablations) [1]_.

    Parameters
    ----------
    gpu_hours : numeric
        Accelerator-hours. [GPU-hours]
    usd_per_gpu_hour : numeric
        Price (rental) or owned cost per accelerator-hour
        (:func:`econ.amortization.owned_usd_per_hour`). [USD/h]

    Returns
    -------
    numeric
        Cost of the run. [USD]

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, 2024, Table 1.
    """
    h = nonnegative("gpu_hours", gpu_hours)
    p = nonnegative("usd_per_gpu_hour", usd_per_gpu_hour)
    return like(h * p, gpu_hours, usd_per_gpu_hour)


@_finite_result
def implied_mfu_frac(flop, gpu_hours, peak_flop_per_s):
    """Model FLOPs utilization implied by a published GPU-hour figure.

    ``flop / (gpu_hours * 3600 * peak_flop_per_s)``, the inverse of
    :func:`training_gpu_hours`. The result is not clipped: a value above 1 means the inputs
    disagree (FLOPs over-counted, or a peak at a lower precision than the run used).

    Parameters
    ----------
    flop : numeric
        Training compute (:func:`training_flop`). [FLOP]
    gpu_hours : numeric
        Published accelerator-hours, > 0. [GPU-hours]
    peak_flop_per_s : numeric
        Dense peak of one accelerator at the reference precision. [FLOP/s]

    Returns
    -------
    numeric
        Implied MFU. [fraction]

    References
    ----------
    .. [1] A. Chowdhery et al., arXiv:2204.02311, 2022, appendix B.
    """
    c = nonnegative("flop", flop)
    h = positive("gpu_hours", gpu_hours)
    peak = positive("peak_flop_per_s", peak_flop_per_s)
    return like(c / (h * SECONDS_PER_HOUR * peak), flop, gpu_hours, peak_flop_per_s)


# --- training against serving over a model's life ----------------------------------------------

#: Days in a (365-day) year, as :data:`econ.amortization.HOURS_PER_YEAR` / 24.
DAYS_PER_YEAR = 365.0


@_finite_result
def serving_node_hours(input_tok, output_tok, prefill_tok_per_s, decode_tok_per_s):
    """Node-hours a volume of traffic takes at measured prefill and decode throughputs.

    ``(input_tok / prefill_tok_per_s + output_tok / decode_tok_per_s) / 3600``: prefill and
    decode run on separate nodes (disaggregated serving), each at its own throughput per
    node. DeepSeek's day of 27-28 Feb 2025 [1]_: 608B input tokens at 73.7k tokens/s per node
    (cache hits included) and 168B output tokens at 14.8k tokens/s per node give 5,445
    node-hours, 226.9 nodes around the clock against the 226.75 nodes it reports.

    Parameters
    ----------
    input_tok : numeric
        Input tokens prefilled, counted as the prefill throughput counts them. [tokens]
    output_tok : numeric
        Output tokens decoded. [tokens]
    prefill_tok_per_s : numeric
        Input tokens per second one node prefills, > 0. [tokens/s]
    decode_tok_per_s : numeric
        Output tokens per second one node decodes, > 0. [tokens/s]

    Returns
    -------
    numeric
        Node-hours. [hours]

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       github.com/deepseek-ai/open-infra-index, 2025-03-01.
    """
    n_in = nonnegative("input_tok", input_tok)
    n_out = nonnegative("output_tok", output_tok)
    pre = positive("prefill_tok_per_s", prefill_tok_per_s)
    dec = positive("decode_tok_per_s", decode_tok_per_s)
    out = (n_in / pre + n_out / dec) / SECONDS_PER_HOUR
    return like(out, input_tok, output_tok, prefill_tok_per_s, decode_tok_per_s)


@_finite_result
def serving_output_share_frac(input_tok, output_tok, prefill_tok_per_s, decode_tok_per_s):
    """Share of serving node-time spent decoding output tokens.

    ``t_out / (t_in + t_out)`` with ``t_in = input_tok / prefill_tok_per_s`` and
    ``t_out = output_tok / decode_tok_per_s`` (see :func:`serving_node_hours`). Paying by the
    node-hour, this is the share of the serving bill that output tokens cause: 0.58 on
    DeepSeek's published day [1]_, although output is only 22 % of its tokens, because a
    node decodes 5 times fewer tokens per second than it prefills.

    Parameters
    ----------
    input_tok, output_tok : numeric
        Input and output tokens of the traffic, not both 0. [tokens]
    prefill_tok_per_s, decode_tok_per_s : numeric
        Throughput per node in each phase, > 0. [tokens/s]

    Returns
    -------
    numeric
        Output (decode) share of node-time. [fraction]

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    n_in = nonnegative("input_tok", input_tok)
    n_out = nonnegative("output_tok", output_tok)
    pre = positive("prefill_tok_per_s", prefill_tok_per_s)
    dec = positive("decode_tok_per_s", decode_tok_per_s)
    t_in, t_out = np.broadcast_arrays(n_in / pre, n_out / dec)
    empty = (t_in + t_out) == 0
    if empty.any():
        raise ValueError("input_tok and output_tok are both 0: no traffic, no output share")
    return like(t_out / (t_in + t_out), input_tok, output_tok, prefill_tok_per_s,
                decode_tok_per_s)


@_finite_result
def scaled_serving_usd_per_day(serving_usd_per_day, traffic_ratio=1.0, output_tok_ratio=1.0,
                               output_share_frac=0.0):
    """A day's serving bill when traffic grows and reasoning multiplies output tokens.

    ``serving_usd_per_day * traffic_ratio * ((1 - output_share_frac)
    + output_share_frac * output_tok_ratio)``: the bill scales with node-time; requests scale
    every token by ``traffic_ratio``, and test-time compute (longer reasoning) scales the
    output tokens of each request by ``output_tok_ratio``, which scales the output (decode)
    share of node-time (:func:`serving_output_share_frac`) and leaves the input share alone.

    Throughput per node is held at its measured value: longer outputs also lengthen the
    context each decoded token reads, which lowers decode throughput, so for large
    ``output_tok_ratio`` this is a lower bound.

    Parameters
    ----------
    serving_usd_per_day : numeric
        Today's serving bill (DeepSeek: $87,072 [1]_). [USD/day]
    traffic_ratio : numeric, default 1
        Requests per day relative to today. [ratio]
    output_tok_ratio : numeric, default 1
        Output tokens per request relative to today (2 = reasoning doubles them). [ratio]
    output_share_frac : numeric, default 0
        Today's output (decode) share of node-time. [fraction]

    Returns
    -------
    numeric
        Serving bill per day. [USD/day]

    References
    ----------
    .. [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    c = nonnegative("serving_usd_per_day", serving_usd_per_day)
    t = nonnegative("traffic_ratio", traffic_ratio)
    r = nonnegative("output_tok_ratio", output_tok_ratio)
    s = fraction("output_share_frac", output_share_frac)
    return like(c * t * ((1.0 - s) + s * r), serving_usd_per_day, traffic_ratio,
                output_tok_ratio, output_share_frac)


@_finite_result
def training_equivalent_serving_days(training_usd, serving_usd_per_day):
    """Days of serving that cost as much as a training run: ``training_usd / serving_usd_per_day``.

    The crossover point of a model's life: after this many days, cumulative serving spend
    passes training spend. DeepSeek-V3's final run ($5.576M [1]_) against DeepSeek's V3/R1
    serving bill ($87,072 a day [2]_) is 64 days; both at $2 per H800-hour, so the price
    cancels.

    Parameters
    ----------
    training_usd : numeric
        Cost of the training (final run, or with research and ablations). [USD]
    serving_usd_per_day : numeric
        Serving bill per day, > 0 (:func:`scaled_serving_usd_per_day`). [USD/day]

    Returns
    -------
    numeric
        Days. [days]

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, 2024, Table 1.
    .. [2] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
       2025-03-01.
    """
    t = nonnegative("training_usd", training_usd)
    c = positive("serving_usd_per_day", serving_usd_per_day)
    return like(t / c, training_usd, serving_usd_per_day)


@_finite_result
def lifetime_inference_share_frac(training_usd, serving_usd_per_day, life_years):
    """Serving's share of a model's lifetime compute spend (training + serving).

    ``S / (S + training_usd)`` with ``S = serving_usd_per_day * 365 * life_years``. Above 0.5
    most of the model's cost is inference (LeCun's claim), which happens once ``life_years``
    passes :func:`training_equivalent_serving_days` / 365.

    Parameters
    ----------
    training_usd : numeric
        Training spend attributed to the model. [USD]
    serving_usd_per_day : numeric
        Average serving bill per day over its life. [USD/day]
    life_years : numeric
        Years the model is served before it is replaced. [years]

    Returns
    -------
    numeric
        Inference share of lifetime spend; 0 when nothing is served and nothing trained. [fraction]
    """
    t = nonnegative("training_usd", training_usd)
    c = nonnegative("serving_usd_per_day", serving_usd_per_day)
    n = nonnegative("life_years", life_years)
    serve = c * DAYS_PER_YEAR * n
    total = serve + t
    share = np.divide(serve, total, out=np.zeros(np.broadcast(serve, total).shape),
                      where=total > 0)
    return like(share, training_usd, serving_usd_per_day, life_years)
