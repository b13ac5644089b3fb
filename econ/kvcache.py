"""KV-cache size per token for MHA, GQA and MLA, and how many sequences fit.

During decoding every sequence keeps, for every layer, the keys and values of all
tokens it has seen. How many bytes one token adds decides how many sequences fit
in the memory left after the weights, and how many bytes each decode step reads.

- **MHA / GQA** cache a key and a value vector per KV head:
  ``2 * n_kv_heads * head_dim`` elements per layer (MHA: ``n_kv_heads == n_heads``).
- **MLA** (DeepSeek-V2/V3) caches the compressed latent ``c_KV`` and the decoupled
  RoPE key ``k^R``: ``kv_lora_rank_dim + qk_rope_head_dim`` elements per layer,
  shared by all heads [1]_.

References
----------
.. [1] DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient
   Mixture-of-Experts Language Model", arXiv:2405.04434 (2024), §2.1 and Table 1.
.. [2] J. Ainslie et al., "GQA: Training Generalized Multi-Query Transformer Models
   from Multi-Head Checkpoints", arXiv:2305.13245 (2023).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import data
from ._checks import choice, like, nonnegative, numeric, positive
from .units import precision_bytes

__all__ = [
    "ATTENTION_KINDS",
    "kv_cache_elems_per_layer",
    "kv_cache_bytes_per_token",
    "model_kv_cache_bytes_per_token",
    "model_kv_cache_bytes",
    "kv_cache_bytes",
    "max_concurrent_sequences",
    "kv_cache_reduction_frac",
]

#: Attention variants the cache formulas cover.
ATTENTION_KINDS = ("mha", "gqa", "mla")


def kv_cache_elems_per_layer(attention_kind, n_kv_heads=None, head_dim=None,
                             kv_lora_rank_dim=None, qk_rope_head_dim=None):
    """Cached elements one token adds to one layer.

    Parameters
    ----------
    attention_kind : {"mha", "gqa", "mla"}
        Attention variant.
    n_kv_heads : numeric, optional
        Key/value heads (MHA: equal to the query heads). Required for MHA/GQA. [-]
    head_dim : numeric, optional
        Elements per key (and value) head. Required for MHA/GQA. [elements]
    kv_lora_rank_dim : numeric, optional
        MLA's compressed KV latent dimension ``d_c`` (512 in DeepSeek-V2/V3).
        Required for MLA. [elements]
    qk_rope_head_dim : numeric, optional
        MLA's decoupled RoPE key dimension ``d_h^R`` (64 in DeepSeek-V2/V3),
        cached once per token, shared by all heads. Required for MLA. [elements]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``2 * n_kv_heads * head_dim`` (MHA/GQA) or
        ``kv_lora_rank_dim + qk_rope_head_dim`` (MLA). [elements]

    Raises
    ------
    ValueError
        Unknown ``attention_kind``, a parameter the variant needs left out, or a
        value that is not a finite positive number.

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, Table 1: KV cache per
       token of MHA ``2 n_h d_h l``, GQA ``2 n_g d_h l``, MLA ``(d_c + d_h^R) l``.
    """
    choice("attention_kind", attention_kind, ATTENTION_KINDS)
    if attention_kind == "mla":
        check_attention_dims(attention_kind, kv_lora_rank_dim=kv_lora_rank_dim,
                  qk_rope_head_dim=qk_rope_head_dim)
        lora = positive("kv_lora_rank_dim", kv_lora_rank_dim)
        rope = nonnegative("qk_rope_head_dim", qk_rope_head_dim)
        return like(lora + rope, kv_lora_rank_dim, qk_rope_head_dim)
    check_attention_dims(attention_kind, n_kv_heads=n_kv_heads, head_dim=head_dim)
    heads = positive("n_kv_heads", n_kv_heads)
    dim = positive("head_dim", head_dim)
    return like(2.0 * heads * dim, n_kv_heads, head_dim)


def kv_cache_bytes_per_token(n_layers, kv_elems_per_layer, bytes_per_elem=2.0):
    """KV-cache size one token adds, summed over layers.

    Parameters
    ----------
    n_layers : numeric
        Transformer layers holding a cache. [-]
    kv_elems_per_layer : numeric
        Cached elements per token per layer, from :func:`kv_cache_elems_per_layer`:
        ``2*n_kv_heads*head_dim`` for MHA/GQA, ``kv_lora_rank + qk_rope_head_dim``
        for MLA. [elements]
    bytes_per_elem : numeric or str, default 2.0
        Cache precision: 2 for BF16, 1 for FP8/INT8, 0.5 for FP4, or one of those
        names (``"bf16"``, ``"fp8"``, ``"int8"``, ``"fp4"``). [bytes]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``n_layers * kv_elems_per_layer * bytes_per_elem``. [bytes/token]

    Examples
    --------
    Llama-3.1-70B (GQA, 80 layers, 8 KV heads of 128) in BF16:

    >>> kv_cache_bytes_per_token(80, 2 * 8 * 128, 2)
    327680.0

    DeepSeek-V3 (MLA, 61 layers, d_c = 512, d_h^R = 64) in BF16:

    >>> kv_cache_bytes_per_token(61, 512 + 64, "bf16")
    70272.0

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, Table 1.
    """
    layers = positive("n_layers", n_layers, integer=True)
    elems = positive("kv_elems_per_layer", kv_elems_per_layer)
    nbytes = precision_bytes("bytes_per_elem", bytes_per_elem)
    return like(layers * elems * nbytes, n_layers, kv_elems_per_layer,
                *_arrays(bytes_per_elem))


def model_kv_cache_bytes_per_token(model, bytes_per_elem=2.0):
    """KV-cache size one token adds for a model, from its config alone.

    Parameters
    ----------
    model : str, pandas.Series, Mapping or pandas.DataFrame
        A model name in ``data/models.csv``, one row of ``econ.data.load("models")``
        (or a dict with the same column names), or the whole table. Columns used:
        ``attention_kind``, ``n_layers``, and ``n_kv_heads``, ``head_dim`` (MHA/GQA;
        an MHA row with no ``n_kv_heads`` uses ``n_heads``, a row with no
        ``head_dim`` uses ``hidden_dim / n_heads``) or ``kv_lora_rank_dim``,
        ``qk_rope_head_dim`` (MLA); and ``index_key_cache_bytes_per_tok`` where the
        model has a sparse-attention indexer with its own key cache (DeepSeek-V3.2's
        lightning indexer; empty or missing: none).
    bytes_per_elem : numeric or str, default 2.0
        Cache precision of the attention cache, as in :func:`kv_cache_bytes_per_token`.
        The indexer key cache keeps the format its column states whatever this is. With a
        whole table it must be a single value. [bytes]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``n_layers * (kv_elems_per_layer * bytes_per_elem + index_key_cache_bytes_per_tok)``;
        a Series indexed by model name for a table. [bytes/token]

    Raises
    ------
    KeyError
        Unknown model name (the message lists the valid ones).
    ValueError
        A column the model's attention kind needs is empty, or an unknown kind.

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, Table 1.
    .. [2] DeepSeek-AI, DeepSeek-V3.2-Exp ``inference/model.py``, class ``Indexer``: an FP8
       key of ``index_head_dim`` and FP32 scales cached per token per layer.
    """
    names, get = _model_columns(model)
    elems = _model_kv_elems_per_layer(names, get)
    layers = _model_required(names, get, "n_layers", np.ones(len(names), bool))
    index = _model_index_key_bytes(names, get)
    if isinstance(model, pd.DataFrame):
        if isinstance(bytes_per_elem, str) or np.ndim(bytes_per_elem) == 0:
            nbytes = precision_bytes("bytes_per_elem", bytes_per_elem)
            return pd.Series(layers * (elems * nbytes + index), index=model.index,
                             name="kv_cache_bytes_per_tok")
        raise ValueError("bytes_per_elem must be a single value when model is a whole table, "
                         f"got an array of shape {np.shape(bytes_per_elem)}")
    out = kv_cache_bytes_per_token(float(layers[0]), float(elems[0]), bytes_per_elem)
    return out + float(layers[0]) * float(index[0]) if index[0] else out


def kv_cache_reduction_frac(model, baseline, bytes_per_elem=2.0, baseline_bytes_per_elem=2.0):
    """Share of a baseline's KV cache per token that a model saves: ``1 - kv / kv_baseline``.

    Parameters
    ----------
    model, baseline : str, pandas.Series or Mapping
        The two models (as in :func:`model_kv_cache_bytes_per_token`).
    bytes_per_elem : numeric or str, default 2.0
        The model's cache precision; an array gives one reduction per value. [bytes]
    baseline_bytes_per_elem : numeric or str, default 2.0
        The baseline's cache precision. [bytes]

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``bytes_per_elem``. [fraction]

    Examples
    --------
    DeepSeek-V2's latent cache against DeepSeek 67B's GQA cache, both BF16, and with V2's
    deployed ~6-bit cache (0.75 bytes per element):

    >>> np.round(kv_cache_reduction_frac("deepseek-v2", "deepseek-67b", np.array([2.0, 0.75])), 4)
    array([0.8224, 0.9334])

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, abstract ("reduces the KV cache by
       93.3%").
    """
    kv = model_kv_cache_bytes_per_token(model, bytes_per_elem)
    try:
        base = model_kv_cache_bytes_per_token(baseline, baseline_bytes_per_elem)
    except (KeyError, ValueError) as exc:
        raise type(exc)(f"baseline: {exc}") from None
    return 1.0 - kv / base


def model_kv_cache_bytes(model, context_tok, bytes_per_elem=2.0):
    """KV-cache bytes one sequence holds at a context length, sliding-window layers included.

    :func:`model_kv_cache_bytes_per_token` counts every layer as caching every token (its
    long-standing meaning, an upper bound). Models with banded or chunked attention layers
    (gpt-oss alternates 128-token windows with full attention; Llama 4's RoPE layers attend
    within 8,192-token chunks) hold at most ``sliding_window_tok`` tokens in those layers.

    Parameters
    ----------
    model : str, pandas.Series or Mapping
        A model name in ``data/models.csv`` or one row (e.g. from
        :func:`econ.model_from_hf_config`). Columns used: those of
        :func:`model_kv_cache_bytes_per_token`, plus ``n_sliding_layers`` and
        ``sliding_window_tok`` (empty or 0: no sliding layers).
    context_tok : numeric
        Tokens in the sequence (prompt plus generated). [tokens]
    bytes_per_elem : numeric or str, default 2.0
        Cache precision, as in :func:`kv_cache_bytes_per_token`. [bytes]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``elems * bytes * ((n_layers - n_sliding) * context_tok
        + n_sliding * min(context_tok, sliding_window_tok))``, plus
        ``n_layers * index_key_cache_bytes_per_tok * context_tok`` for a sparse-attention
        indexer's key cache. [bytes]

    Raises
    ------
    ValueError
        A whole table (pass one row), or ``n_sliding_layers`` > 0 with no window.

    References
    ----------
    .. [1] OpenAI, "gpt-oss-120b & gpt-oss-20b Model Card" (2025), sec. 2: alternating
       banded-window (bandwidth 128) and fully dense attention layers.
    """
    if isinstance(model, pd.DataFrame):
        raise ValueError("model must be one model (a name, a row or a mapping), not a whole table")
    names, get = _model_columns(model)
    elems = _model_kv_elems_per_layer(names, get)[0]
    layers = _model_required(names, get, "n_layers", np.ones(1, bool))[0]
    sliding = get("n_sliding_layers")[0]
    sliding = 0.0 if not np.isfinite(sliding) else sliding
    if sliding < 0 or sliding > layers:
        raise ValueError(
            f"model {names[0]!r}: n_sliding_layers must be in [0, n_layers={layers:g}], "
            f"got {sliding:g}"
        )
    window = get("sliding_window_tok")[0]
    if sliding and not (np.isfinite(window) and window > 0):
        raise ValueError(
            f"model {names[0]!r}: column 'sliding_window_tok' is empty or not positive "
            f"(needed for its {sliding:g} sliding-window layers)"
        )
    ctx = nonnegative("context_tok", context_tok)
    nbytes = precision_bytes("bytes_per_elem", bytes_per_elem)
    held = (layers - sliding) * ctx + (sliding * np.minimum(ctx, window) if sliding else 0.0)
    index = _model_index_key_bytes(names, get)[0]
    # the indexer scores every earlier token, so every layer keeps every token's index key
    return like(elems * nbytes * held + index * layers * ctx, context_tok,
                *_arrays(bytes_per_elem))


def kv_cache_bytes(kv_bytes_per_token, context_tok, n_sequences=1.0):
    """Bytes of KV cache held by ``n_sequences`` sequences at a context length.

    Parameters
    ----------
    kv_bytes_per_token : numeric
        From :func:`kv_cache_bytes_per_token`. [bytes/token]
    context_tok : numeric
        Tokens cached per sequence (prompt plus generated so far). [tokens]
    n_sequences : numeric, default 1
        Sequences held. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``kv_bytes_per_token * context_tok * n_sequences``. [bytes]
    """
    kv = nonnegative("kv_bytes_per_token", kv_bytes_per_token)
    ctx = nonnegative("context_tok", context_tok)
    n = nonnegative("n_sequences", n_sequences)
    return like(kv * ctx * n, kv_bytes_per_token, context_tok, n_sequences)


def max_concurrent_sequences(memory_bytes, weight_bytes, kv_bytes_per_token, context_tok,
                             reserve_frac=0.0):
    """Whole sequences whose KV cache fits in the memory left after the weights.

    Parameters
    ----------
    memory_bytes : numeric
        Memory of the device, or of all devices serving one model copy. [bytes]
    weight_bytes : numeric
        Weights held in that memory. [bytes]
    kv_bytes_per_token : numeric
        From :func:`kv_cache_bytes_per_token`. [bytes/token]
    context_tok : numeric
        Tokens cached per sequence. [tokens]
    reserve_frac : numeric, default 0
        Share of ``memory_bytes`` kept for activations, fragmentation and the
        runtime, in [0, 1). [fraction]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``floor((memory_bytes*(1 - reserve_frac) - weight_bytes) /
        (kv_bytes_per_token * context_tok))``, and 0 where the weights do not fit. [-]

    Examples
    --------
    Llama-3.1-70B in FP8 (70.6 GB) on one 80 GB GPU at an 8k context
    (327,680 B/token):

    >>> max_concurrent_sequences(80e9, 70.6e9, 327_680, 8192)
    3.0
    """
    mem = positive("memory_bytes", memory_bytes)
    w = nonnegative("weight_bytes", weight_bytes)
    kv = positive("kv_bytes_per_token", kv_bytes_per_token)
    ctx = positive("context_tok", context_tok)
    reserve = numeric("reserve_frac", reserve_frac, min_value=0.0, max_value=1.0,
                      max_inclusive=False)
    free = np.maximum(mem * (1.0 - reserve) - w, 0.0)
    # a tiny relative allowance so that an exact fit is not lost to rounding
    n = np.floor(free / (kv * ctx) * (1.0 + 1e-12))
    return like(n, memory_bytes, weight_bytes, kv_bytes_per_token, context_tok, reserve_frac)


# --- helpers ----------------------------------------------------------------------------------

def check_attention_dims(attention_kind, **dims):
    """Raise a ``ValueError`` naming the first of ``dims`` that is None (needed by this kind).

    Shared with :mod:`econ.inference`, whose attention FLOPs need the same dimensions.
    """
    for name, value in dims.items():
        if value is None:
            raise ValueError(f"{name} is required for attention_kind {attention_kind!r}")


def _arrays(*xs):
    """The inputs that are not strings (strings cannot decide the output kind)."""
    return [x for x in xs if not isinstance(x, str)]


def _model_columns(model):
    """Resolve ``model`` to (names, get) where ``get(col)`` gives a float or text array.

    ``model`` is a name in ``data/models.csv``, a row (Series), a mapping, or a
    whole table (DataFrame). Missing columns read as NaN (or None for text).
    """
    model = data.model_row(model)          # a name or a config.json path -> a models row
    if isinstance(model, pd.DataFrame):
        names = [str(k) for k in model.index]
        n = len(model)

        def get(col, text=False):
            if col not in model.columns:
                return np.full(n, None if text else np.nan, dtype=object if text else float)
            v = model[col].to_numpy()
            return v.astype(object) if text else _to_float(v, col)
        return names, get
    if isinstance(model, (pd.Series, Mapping)):
        name = model.name if isinstance(model, pd.Series) else model.get("name")
        names = [str(name) if name is not None else "<model>"]

        def get(col, text=False):
            v = model.get(col, None)
            if text:
                return np.array([v], dtype=object)
            return np.array([_scalar_float(v, col, names[0])])
        return names, get
    raise ValueError("model must be a model name, a path to a config.json, a row of "
                     "econ.data.load('models'), a mapping of its columns, or the whole table; "
                     f"got {type(model).__name__}")


def _to_float(v, col):
    if v.dtype != object:
        return np.asarray(v, dtype=float)
    try:
        return np.asarray(pd.to_numeric(pd.Series(v, dtype=object)), dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"model column {col!r} must be numeric, got {v!r}") from None


def _scalar_float(v, col, name):
    if v is None or (isinstance(v, str) and not v.strip()):
        return np.nan
    if isinstance(v, (bool, np.bool_)) or np.ndim(v) != 0:
        raise ValueError(f"model {name!r}: column {col!r} must be a single number, got {v!r}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"model {name!r}: column {col!r} must be a number, got {v!r}") from None


def _model_required(names, get, col, needed, why=""):
    """Column ``col`` as floats; a ValueError names the model where it is needed but empty."""
    v = get(col)
    bad = needed & ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"model {names[i]!r}: column {col!r} is empty or not finite"
                         f"{' (needed ' + why + ')' if why else ''}")
    bad = needed & (v < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"model {names[i]!r}: column {col!r} must be >= 0, got {v[i]!r}")
    return np.where(needed, v, 0.0)


def _model_kinds(names, get):
    kinds = get("attention_kind", text=True)
    for i, k in enumerate(kinds):
        if k not in ATTENTION_KINDS:
            raise ValueError(f"model {names[i]!r}: attention_kind must be one of "
                             f"{list(ATTENTION_KINDS)}, got {k!r}")
    return np.asarray(kinds, dtype=object)


def _model_head_dim(names, get, needed):
    """``head_dim``, or ``hidden_dim / n_heads`` where the config leaves it out."""
    head_dim = get("head_dim")
    fallback = np.divide(get("hidden_dim"), get("n_heads"))
    head_dim = np.where(np.isfinite(head_dim), head_dim, fallback)
    bad = needed & ~(np.isfinite(head_dim) & (head_dim > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"model {names[i]!r}: column 'head_dim' is empty and cannot be "
                         "derived from hidden_dim / n_heads")
    return np.where(needed, head_dim, 0.0)


def _model_index_key_bytes(names, get):
    """Indexer key-cache bytes per token per layer (0 where the column is empty or absent)."""
    v = get("index_key_cache_bytes_per_tok")
    bad = np.isfinite(v) & (v < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"model {names[i]!r}: column 'index_key_cache_bytes_per_tok' must be "
                         f">= 0, got {v[i]!r}")
    return np.where(np.isfinite(v), v, 0.0)


def _model_kv_elems_per_layer(names, get):
    """Cached elements per token per layer for each model (vectorized over a table)."""
    kinds = _model_kinds(names, get)
    mla = kinds == "mla"
    std = ~mla
    n_kv = get("n_kv_heads")
    n_kv = np.where(np.isfinite(n_kv) | (kinds != "mha"), n_kv, get("n_heads"))
    n_kv = _model_required(names, lambda c: n_kv, "n_kv_heads", std, "for MHA/GQA")
    head_dim = _model_head_dim(names, get, std)
    lora = _model_required(names, get, "kv_lora_rank_dim", mla, "for MLA")
    rope = _model_required(names, get, "qk_rope_head_dim", mla, "for MLA")
    return np.where(mla, lora + rope, 2.0 * n_kv * head_dim)
