"""A models-table row from a Hugging Face ``config.json``.

A user who wants to study a model that is not in ``data/models.csv`` hands its published
``config.json`` (a path, or the parsed mapping) to :func:`model_from_hf_config` and gets back
a row with the same columns as the table: attention kind and dimensions, MoE fields,
multi-token-prediction modules, sliding-window layers, and parameter counts computed from
the dimensions, with the input embedding and the output head shown separately.

Parameter counts are exact closed forms over the weight matrices the architecture's
reference implementation (Hugging Face ``transformers``) creates, including norms, biases,
routers and attention sinks. The main model only: multi-token-prediction (MTP) modules are
counted in ``n_mtp_modules`` and left out of ``total_params``, as DeepSeek's 671B does. Active
parameters are those one token touches: embedding, output head, attention, dense FFN, the
shared experts and ``n_active_experts`` routed experts of every MoE layer, and the routers.

Supported ``model_type`` values are :data:`HF_MODEL_TYPES`. Anything the closed forms do not
cover (another model type, a layer type such as linear attention, a non-gated MLP, a missing
key) raises a ``ValueError`` naming the field, its value and what is allowed.

References
----------
.. [1] Hugging Face transformers, ``models/<type>/modeling_<type>.py`` and
   ``configuration_<type>.py`` for each supported type (weight shapes and config defaults).
.. [2] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434, sec. 2.1 (MLA); "DeepSeek-V3 Technical
   Report", arXiv:2412.19437, sec. 2.2 (MTP).
.. [3] OpenAI, "gpt-oss-120b & gpt-oss-20b Model Card" (2025): alternating banded-window
   (128 tokens) and dense attention, attention sinks, MoE with biases.
.. [4] Meta, Llama 4 (2025): chunked local attention on RoPE layers, global NoPE layers.
.. [5] DeepSeek-AI, DeepSeek-V3.2-Exp, ``inference/model.py`` (2025), class ``Indexer``: the
   lightning indexer of DeepSeek Sparse Attention (``wq_b``, ``wk``, ``k_norm`` LayerNorm,
   ``weights_proj``) and its key cache, ``float8_e4m3fn`` keys of ``index_head_dim`` with one
   ``float32`` scale per 128-element block (``k_cache``, ``k_scale_cache``).
   https://github.com/deepseek-ai/DeepSeek-V3.2-Exp/blob/main/inference/model.py
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["HF_MODEL_TYPES", "model_from_hf_config", "hf_config_param_counts"]

#: ``model_type`` values :func:`model_from_hf_config` reads, with their architecture family.
HF_MODEL_TYPES = {
    "llama": "dense",
    "mistral": "dense",
    "qwen2": "dense",
    "qwen3": "dense",
    "mixtral": "mixtral",
    "qwen3_moe": "qwen3_moe",
    "deepseek_v2": "deepseek",
    "deepseek_v3": "deepseek",
    "deepseek_v32": "deepseek",
    "kimi_k2": "deepseek",
    "gpt_oss": "gpt_oss",
    "glm4_moe": "glm4_moe",
    "llama4": "llama4",
    "llama4_text": "llama4",
}

#: Columns of data/models.csv, key first, in table order (the row returned has these).
MODEL_COLUMNS = (
    "name", "family", "attention_kind", "n_layers", "hidden_dim", "n_heads", "n_kv_heads",
    "head_dim", "q_lora_rank_dim", "kv_lora_rank_dim", "qk_nope_head_dim", "qk_rope_head_dim",
    "v_head_dim", "n_routed_experts", "n_shared_experts", "n_active_experts", "moe_ffn_dim",
    "dense_ffn_dim", "n_dense_layers", "n_vocab", "n_sliding_layers", "sliding_window_tok",
    "total_params", "active_params", "embedding_params", "output_head_params",
    "active_params_basis", "max_context_tok", "n_mtp_modules", "n_index_heads", "index_head_dim",
    "index_topk_tok", "index_key_cache_bytes_per_tok", "source_url", "source_date",
    "source_kind", "notes",
)

_LAYER_TYPES = ("full_attention", "sliding_attention")

# DeepSeek Sparse Attention's indexer key cache as DeepSeek's reference code holds it [5]:
# float8_e4m3fn keys (1 byte an element) and one float32 scale (4 bytes) per 128-element block.
# These are the definition of the cache format of model_type deepseek_v32, not tunable inputs.
_DSA_KEY_BYTES_PER_ELEM = 1
_DSA_SCALE_BYTES = 4
_DSA_SCALE_BLOCK_ELEMS = 128
_GATED_ACTS = ("silu", "swiglu")


class _Config:
    """A config mapping with lookups that fail by naming the field and the model type."""

    def __init__(self, mapping, model_type, where):
        self.m = mapping
        self.model_type = model_type
        self.where = where

    def has(self, key):
        return self.m.get(key) is not None

    def get(self, key, default=None):
        v = self.m.get(key)
        return default if v is None else v

    def int(self, key, default=None, minimum=1):
        v = self.m.get(key)
        if v is None:
            if default is not None:
                return default
            raise ValueError(f"{self.where}: config field {key!r} is missing or null; "
                             f"model_type {self.model_type!r} needs it")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < minimum:
            raise ValueError(f"{self.where}: config field {key!r} must be a whole number >= "
                             f"{minimum}, got {v!r}")
        return int(v)

    def flag(self, key, default):
        v = self.m.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise ValueError(f"{self.where}: config field {key!r} must be true or false, got {v!r}")
        return v


def _read(path_or_mapping):
    """The config mapping and a label for messages."""
    if isinstance(path_or_mapping, Mapping):
        return dict(path_or_mapping), "config"
    if isinstance(path_or_mapping, (str, os.PathLike)):
        path = Path(path_or_mapping)
        if path.is_dir():
            path = path / "config.json"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read the config file {str(path)!r}: {exc.strerror}") from None
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})"
            ) from None
        if not isinstance(cfg, dict):
            raise ValueError(f"{path.name}: a config.json must hold a JSON object, got "
                             f"{type(cfg).__name__}")
        return cfg, path.name
    raise ValueError("path_or_mapping must be a path to a config.json (str or Path) or a mapping "
                     f"of its fields, got {type(path_or_mapping).__name__}")


def _text_config(cfg, where):
    """The language model's config: ``text_config`` of a multimodal wrapper, else the config."""
    model_type = cfg.get("model_type")
    if model_type is None:
        raise ValueError(f"{where}: config field 'model_type' is missing; allowed: "
                         f"{sorted(HF_MODEL_TYPES)}")
    if model_type not in HF_MODEL_TYPES:
        raise ValueError(f"{where}: model_type {model_type!r} is not modelled; allowed: "
                         f"{sorted(HF_MODEL_TYPES)}")
    text = cfg.get("text_config")
    if text is not None:
        if not isinstance(text, Mapping):
            raise ValueError(f"{where}: config field 'text_config' must be an object, got "
                             f"{type(text).__name__}")
        inner = text.get("model_type", model_type)
        if inner not in HF_MODEL_TYPES:
            raise ValueError(f"{where}: text_config.model_type {inner!r} is not modelled; allowed: "
                             f"{sorted(HF_MODEL_TYPES)}")
        return _Config(dict(text), inner, where + " (text_config)"), cfg
    return _Config(cfg, model_type, where), cfg


def _check_act(c):
    act = c.get("hidden_act", "silu")
    if act not in _GATED_ACTS:
        raise ValueError(f"{c.where}: hidden_act {act!r} is not modelled: the parameter counts "
                         f"assume a gated SiLU (SwiGLU) MLP; allowed: {list(_GATED_ACTS)}")


def _gqa(c, n_layers, h):
    """Attention dims and per-layer parameter counts of MHA/GQA."""
    n_heads = c.int("num_attention_heads")
    n_kv = c.int("num_key_value_heads", default=n_heads)
    if n_heads % n_kv:
        raise ValueError(f"{c.where}: num_attention_heads {n_heads} is not a multiple of "
                         f"num_key_value_heads {n_kv}")
    head_dim = c.int("head_dim", default=0, minimum=0) or None
    if head_dim is None:
        if h % n_heads:
            raise ValueError(f"{c.where}: config field 'head_dim' is missing and hidden_size {h} "
                             f"is not a multiple of num_attention_heads {n_heads}")
        head_dim = h // n_heads
    q, kv = n_heads * head_dim, n_kv * head_dim
    weights = h * q + 2 * h * kv + q * h
    return dict(attention_kind="mha" if n_kv == n_heads else "gqa", n_heads=n_heads,
                n_kv_heads=n_kv, head_dim=head_dim), weights, (q, kv)


def _mla(c, h):
    """MLA dims and per-layer parameter count (DeepSeek-V2 sec. 2.1; HF modeling_deepseek_v3)."""
    n_heads = c.int("num_attention_heads")
    q_lora = c.int("q_lora_rank", default=0, minimum=0)
    kv_lora = c.int("kv_lora_rank")
    nope = c.int("qk_nope_head_dim")
    rope = c.int("qk_rope_head_dim", minimum=0)
    v = c.int("v_head_dim")
    qk = nope + rope
    if q_lora:
        w_q = h * q_lora + q_lora + q_lora * n_heads * qk        # W_DQ, its RMSNorm, W_UQ
    else:
        w_q = h * n_heads * qk
    # W_DKV + W_KR, the latent's norm, W_UK/UV
    w_kv = h * (kv_lora + rope) + kv_lora + kv_lora * n_heads * (nope + v)
    w_o = n_heads * v * h
    dims = dict(attention_kind="mla", n_heads=n_heads, q_lora_rank_dim=q_lora or np.nan,
                kv_lora_rank_dim=kv_lora, qk_nope_head_dim=nope, qk_rope_head_dim=rope,
                v_head_dim=v)
    return dims, w_q + w_kv + w_o


def _dsa_indexer(c, h, q_lora):
    """DeepSeek Sparse Attention's lightning indexer: dims and per-layer parameters [5]_.

    Weights (DeepSeek-V3.2-Exp ``inference/model.py``, class ``Indexer``): ``wq_b`` from the
    query latent to ``index_n_heads`` heads of ``index_head_dim``, ``wk`` from the hidden state
    to one shared key of ``index_head_dim``, its LayerNorm (weight and bias), and
    ``weights_proj`` from the hidden state to one weight per indexer head. Key cache per token
    per layer: FP8 keys plus one FP32 scale per 128-element block.
    """
    n_idx = c.int("index_n_heads")
    d_idx = c.int("index_head_dim")
    topk = c.int("index_topk")
    if not q_lora:
        raise ValueError(f"{c.where}: config field 'q_lora_rank' is missing or 0; the "
                         f"model_type {c.model_type!r} indexer projects its queries from the "
                         "query latent, so an uncompressed query is not modelled")
    if d_idx % _DSA_SCALE_BLOCK_ELEMS:
        raise ValueError(f"{c.where}: index_head_dim {d_idx} is not modelled: the indexer key "
                         f"cache keeps one scale per {_DSA_SCALE_BLOCK_ELEMS}-element block, so it "
                         f"must be a multiple of {_DSA_SCALE_BLOCK_ELEMS}")
    weights = q_lora * n_idx * d_idx + h * d_idx + 2 * d_idx + h * n_idx
    cache = d_idx * _DSA_KEY_BYTES_PER_ELEM + d_idx // _DSA_SCALE_BLOCK_ELEMS * _DSA_SCALE_BYTES
    dims = dict(n_index_heads=n_idx, index_head_dim=d_idx, index_topk_tok=topk,
                index_key_cache_bytes_per_tok=cache)
    return dims, weights


def _layer_windows(c, n_layers):
    """(n_sliding_layers, sliding_window_tok) from layer_types / sliding_window fields."""
    types = c.get("layer_types")
    window = c.get("sliding_window")
    if types is not None:
        if not isinstance(types, list) or len(types) != n_layers:
            raise ValueError(f"{c.where}: config field 'layer_types' must list one type per layer "
                             f"({n_layers}), got {types!r}")
        bad = sorted({t for t in types if t not in _LAYER_TYPES})
        if bad:
            raise ValueError(f"{c.where}: layer_types {bad} are not modelled; allowed: "
                             f"{list(_LAYER_TYPES)}")
        n_sliding = sum(t == "sliding_attention" for t in types)
        if n_sliding:
            return n_sliding, c.int("sliding_window")
        return 0, np.nan
    if window is None:
        return 0, np.nan
    if c.model_type in ("qwen2", "qwen3", "qwen3_moe"):
        # Qwen: the window applies only with use_sliding_window, from layer max_window_layers on
        if not c.flag("use_sliding_window", False):
            return 0, np.nan
        first = c.int("max_window_layers", default=n_layers, minimum=0)
        n_sliding = max(n_layers - first, 0)
        return n_sliding, (c.int("sliding_window") if n_sliding else np.nan)
    if c.model_type in ("mistral", "mixtral"):
        return n_layers, c.int("sliding_window")       # every layer attends within the window
    raise ValueError(f"{c.where}: config field 'sliding_window' ({window!r}) without layer_types "
                     f"is not modelled for model_type {c.model_type!r}")


def hf_config_param_counts(path_or_mapping):
    """Parameter counts of a Hugging Face config by part, from its dimensions.

    Parameters
    ----------
    path_or_mapping : str, Path or Mapping
        A ``config.json`` path (or a folder holding one), or its parsed fields.

    Returns
    -------
    dict
        ``embedding_params``, ``output_head_params`` (0 when the head is tied to the
        embedding), ``attention_params``, ``dense_ffn_params``, ``moe_params`` (experts and
        routers of all MoE layers), ``moe_active_params`` (what one token uses of them),
        ``norm_params`` (final norm and per-layer norms), ``total_params`` and
        ``active_params``. [parameters]

    Raises
    ------
    ValueError
        Unknown ``model_type``, a missing field, or an architecture feature not modelled.
    """
    return _parse(path_or_mapping)[1]


def model_from_hf_config(path_or_mapping, name=None):
    """A row of the models table computed from a Hugging Face ``config.json``.

    Parameters
    ----------
    path_or_mapping : str, Path or Mapping
        A ``config.json`` path (or a folder holding one), or its parsed fields. Multimodal
        configs (``llama4``) are read through their ``text_config``.
    name : str, optional
        Row key; default the config's ``_name_or_path`` or ``"<model_type>-config"``.

    Returns
    -------
    pandas.Series
        Indexed by the columns of ``data/models.csv`` other than ``name`` (the Series' name),
        like ``econ.data.row("models", key)``: dimensions from the config, ``total_params``
        and ``active_params`` computed (embedding and output head included; a tied head
        counted once), ``embedding_params`` and ``output_head_params`` shown apart,
        ``n_sliding_layers`` and ``sliding_window_tok`` for banded/chunked attention layers,
        ``n_mtp_modules`` from ``num_nextn_predict_layers``. Source columns are empty
        (``source_kind`` is ``"derived"``). Works with every ``econ`` function that takes a
        model row, e.g. :func:`econ.model_kv_cache_bytes_per_token`.

    Raises
    ------
    ValueError
        Unknown ``model_type`` (the message lists :data:`HF_MODEL_TYPES`), a field the
        architecture needs that is missing or malformed, or a feature the closed forms do not
        cover (a layer type other than full/sliding attention, a non-gated MLP, ...).

    Examples
    --------
    >>> row = model_from_hf_config({"model_type": "llama", "hidden_size": 4096,
    ...     "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    ...     "intermediate_size": 14336, "vocab_size": 128256})
    >>> round(row["total_params"] / 1e9, 2), row["attention_kind"]
    (8.03, 'gqa')

    References
    ----------
    .. [1] Hugging Face transformers modeling code of each supported type.
    """
    dims, counts, c, outer = _parse(path_or_mapping)
    if name is None:
        name = outer.get("_name_or_path") or f"{c.model_type}-config"
    row = {col: np.nan for col in MODEL_COLUMNS if col != "name"}
    row.update({k: None for k in ("family", "active_params_basis", "source_url", "source_date",
                                  "notes")})
    row.update(dims)
    row["family"] = c.model_type
    row["total_params"] = float(counts["total_params"])
    row["active_params"] = float(counts["active_params"])
    row["embedding_params"] = float(counts["embedding_params"])
    row["output_head_params"] = float(counts["output_head_params"])
    row["active_params_basis"] = "all"
    row["source_kind"] = "derived"
    row["notes"] = f"computed by econ.model_from_hf_config from a {c.model_type} config.json"
    out = pd.Series(row, name=str(name), dtype=object)
    for col in out.index:
        if col not in ("family", "attention_kind", "active_params_basis", "source_url",
                       "source_date", "source_kind", "notes"):
            out[col] = float(out[col])
    return out


def _parse(path_or_mapping):
    cfg, where = _read(path_or_mapping)
    c, outer = _text_config(cfg, where)
    _check_act(c)
    kind = HF_MODEL_TYPES[c.model_type]
    h = c.int("hidden_size")
    n_layers = c.int("num_hidden_layers")
    vocab = c.int("vocab_size")
    # transformers' classes for every supported type default to untied embeddings
    tied = c.flag("tie_word_embeddings", outer.get("tie_word_embeddings", False) or False)
    dims = dict(n_layers=n_layers, hidden_dim=h, n_vocab=vocab, n_routed_experts=0,
                n_shared_experts=0, n_active_experts=0, moe_ffn_dim=np.nan, dense_ffn_dim=np.nan,
                n_dense_layers=n_layers, n_mtp_modules=c.int("num_nextn_predict_layers", default=0,
                                                            minimum=0))
    ctx = c.get("max_position_embeddings")
    dims["max_context_tok"] = float(ctx) if ctx is not None else np.nan
    norms = h + 2 * h * n_layers                       # final norm, two norms per layer

    if kind == "deepseek":
        a, attn_layer = _mla(c, h)
        if c.model_type == "deepseek_v32":
            idx, idx_layer = _dsa_indexer(c, h, c.int("q_lora_rank", default=0, minimum=0))
            a.update(idx)
            attn_layer += idx_layer
    else:
        a, attn_layer, (q_out, kv_out) = _gqa(c, n_layers, h)
    dims.update(a)

    # attention extras: biases, q/k norms, sinks
    if kind != "deepseek":
        n_heads, head_dim = a["n_heads"], a["head_dim"]
        if c.model_type == "qwen2":
            attn_layer += q_out + 2 * kv_out             # Qwen2: q/k/v biases, none on o
        elif c.flag("attention_bias", False):
            # q/k/v biases; o_proj has one too except in GLM-4.5 (Glm4MoeAttention)
            attn_layer += q_out + 2 * kv_out + (0 if kind == "glm4_moe" else h)
        if c.model_type in ("qwen3", "qwen3_moe") or (
            kind == "glm4_moe" and c.flag("use_qk_norm", False)
        ):
            attn_layer += 2 * head_dim                   # RMSNorm on q and k, per head dim
        if kind == "gpt_oss":
            attn_layer += n_heads                        # one learned sink logit per head
    attention = n_layers * attn_layer

    n_slide, window = (0, np.nan)
    if kind == "llama4":
        chunk = c.int("attention_chunk_size", default=0, minimum=0)
        no_rope = c.get("no_rope_layers")
        if chunk and no_rope == [] and c.has("no_rope_layer_interval"):
            # transformers' Llama4TextConfig: an empty list is derived from the interval, every
            # no_rope_layer_interval-th layer being NoPE (global) and the others RoPE (chunked)
            every = c.int("no_rope_layer_interval")
            no_rope = [int((i + 1) % every != 0) for i in range(n_layers)]
        if chunk and no_rope is not None:
            if not isinstance(no_rope, list) or len(no_rope) != n_layers:
                raise ValueError(f"{c.where}: config field 'no_rope_layers' must list one flag per "
                                 f"layer ({n_layers}), got {no_rope!r}")
            n_slide, window = int(sum(bool(x) for x in no_rope)), chunk   # RoPE layers are chunked
        elif chunk:
            raise ValueError(f"{c.where}: attention_chunk_size is set but 'no_rope_layers' is "
                             "missing: which layers are chunked cannot be told")
    else:
        n_slide, window = _layer_windows(c, n_layers)
    dims.update(n_sliding_layers=n_slide, sliding_window_tok=window)

    # feed-forward
    dense_ffn = moe_total = moe_active = 0
    if kind == "dense":
        f = c.int("intermediate_size")
        dims.update(dense_ffn_dim=f)
        dense_ffn = n_layers * 3 * h * f
    elif kind == "mixtral":
        f = c.int("intermediate_size")
        e, k = c.int("num_local_experts"), c.int("num_experts_per_tok")
        dims.update(n_routed_experts=e, n_active_experts=k, moe_ffn_dim=f, n_dense_layers=0)
        moe_total = n_layers * (e * 3 * h * f + e * h)
        moe_active = n_layers * (k * 3 * h * f + e * h)
    elif kind == "qwen3_moe":
        f_moe = c.int("moe_intermediate_size")
        e, k = c.int("num_experts"), c.int("num_experts_per_tok")
        step = c.int("decoder_sparse_step", default=1)
        mlp_only = set(c.get("mlp_only_layers", []) or [])
        moe_layers = [i for i in range(n_layers) if i not in mlp_only and (i + 1) % step == 0]
        n_dense = n_layers - len(moe_layers)
        f_dense = c.int("intermediate_size") if n_dense else np.nan
        dims.update(n_routed_experts=e, n_active_experts=k, moe_ffn_dim=f_moe,
                    dense_ffn_dim=f_dense, n_dense_layers=n_dense)
        dense_ffn = n_dense * 3 * h * (f_dense if n_dense else 0)
        moe_total = len(moe_layers) * (e * 3 * h * f_moe + e * h)
        moe_active = len(moe_layers) * (k * 3 * h * f_moe + e * h)
    elif kind in ("deepseek", "glm4_moe"):
        f_moe = c.int("moe_intermediate_size")
        f_dense = c.int("intermediate_size")
        e, k = c.int("n_routed_experts"), c.int("num_experts_per_tok")
        shared = c.int("n_shared_experts", default=0, minimum=0)
        first = c.int("first_k_dense_replace", default=0, minimum=0)
        freq = c.int("moe_layer_freq", default=1)
        moe_layers = [i for i in range(n_layers) if i >= first and i % freq == 0]
        n_dense = n_layers - len(moe_layers)
        router = e * h + (e if c.get("topk_method") == "noaux_tc" or kind == "glm4_moe" else 0)
        dims.update(n_routed_experts=e, n_shared_experts=shared, n_active_experts=k,
                    moe_ffn_dim=f_moe, dense_ffn_dim=f_dense, n_dense_layers=n_dense)
        dense_ffn = n_dense * 3 * h * f_dense
        moe_total = len(moe_layers) * ((e + shared) * 3 * h * f_moe + router)
        moe_active = len(moe_layers) * ((k + shared) * 3 * h * f_moe + router)
    elif kind == "gpt_oss":
        f = c.int("intermediate_size")
        e, k = c.int("num_local_experts"), c.int("num_experts_per_tok")
        expert = 3 * h * f + 2 * f + h  # gate_up (h x 2f) + bias, down (f x h) + bias
        router = e * h + e
        dims.update(n_routed_experts=e, n_active_experts=k, moe_ffn_dim=f, n_dense_layers=0)
        moe_total = n_layers * (e * expert + router)
        moe_active = n_layers * (k * expert + router)
    elif kind == "llama4":
        f_moe = c.int("intermediate_size")
        f_dense = c.int("intermediate_size_mlp")
        e, k = c.int("num_local_experts"), c.int("num_experts_per_tok")
        step = c.int("interleave_moe_layer_step", default=1)
        moe_layers = c.get("moe_layers")
        if moe_layers is None:
            moe_layers = list(range(step - 1, n_layers, step))
        n_moe = len(moe_layers)
        n_dense = n_layers - n_moe
        dims.update(n_routed_experts=e, n_shared_experts=1, n_active_experts=k, moe_ffn_dim=f_moe,
                    dense_ffn_dim=f_dense if n_dense else np.nan, n_dense_layers=n_dense)
        dense_ffn = n_dense * 3 * h * f_dense
        moe_total = n_moe * ((e + 1) * 3 * h * f_moe + e * h)   # routed + one shared expert
        moe_active = n_moe * ((k + 1) * 3 * h * f_moe + e * h)

    embed = vocab * h
    head = 0 if tied else vocab * h
    total = embed + head + attention + dense_ffn + moe_total + norms
    active = embed + head + attention + dense_ffn + moe_active + norms
    counts = dict(embedding_params=embed, output_head_params=head, attention_params=attention,
                  dense_ffn_params=dense_ffn, moe_params=moe_total, moe_active_params=moe_active,
                  norm_params=norms, total_params=total, active_params=active)
    return dims, counts, c, outer
