"""What each DeepSeek enabler is worth: MoE, MLA, FP8 and MTP, priced one at a time.

The architecture-efficiency notebook asks what each of DeepSeek-V3's four design choices buys
in bytes, FLOPs and $/Mtok when added one at a time to a dense BF16 model of the same class.
The tables it shows are built here, from the closed forms of :mod:`econ.inference`,
:mod:`econ.kvcache` and :mod:`econ.training`:

* :func:`moe_sparsity_table`: parameters held against parameters computed, FLOPs per token;
* :func:`kv_cache_table`: KV bytes per token of every model, beside the published figures;
* :func:`node_concurrency`: long sequences whose KV cache fits per 8-GPU node;
* :func:`precision_table`: weight bytes, nodes to hold them and peak FLOP/s per precision;
* :func:`model_mtp_speedup`: MTP's speed-up from an acceptance rate, net of the draft layer;
* :func:`enabler_waterfall`, :func:`enabler_cost_by_context`, :func:`mtp_speedup_by_batch`:
  the waterfall from dense BF16 to V3-style serving, and its sensitivities;
* :func:`enabler_result_rows`: the notebook's result rows (metric names fixed by its
  results table; see ``tests/notebook_params/architecture_efficiency.yaml``).

Every model is placed on the fewest 8-GPU nodes (``n_devices_per_node`` of the hardware row)
that hold its weights after ``reserve_frac``, and decodes as many sequences as fit in the
memory left. Communication between GPUs is not priced here (see :mod:`econ.serving`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import fraction, positive
from .inference import (
    decode_cost_usd_per_mtok,
    decode_step,
    decode_tok_per_s,
    devices_to_hold,
    hardware_peak_flop_per_s,
    param_bytes,
    prefill_tok_per_s,
    speculative_speedup,
)
from .kvcache import (
    kv_cache_reduction_frac,
    max_concurrent_sequences,
    model_kv_cache_bytes_per_token,
)
from .training import model_training_flop
from .units import cost_usd_per_mtok

__all__ = ["moe_sparsity_table", "mtp_acceptance", "kv_cache_table", "node_concurrency",
           "precision_table",
           "model_mtp_speedup", "deployed_kv_cache_reduction", "moe_with_dense_attention",
           "enabler_waterfall", "enabler_cost_by_context", "mtp_speedup_by_batch",
           "enabler_result_rows", "enabler_claims"]


def _models(models, name="models"):
    if isinstance(models, str):
        models = [models]
    if isinstance(models, (list, tuple, pd.Index)):
        try:  # names or config.json paths, through the one resolver
            rows = [data.model_row(m) for m in models]
        except KeyError as exc:
            raise KeyError(f"{name}: {exc.args[0]}") from None
        return pd.DataFrame(rows)
    if not isinstance(models, pd.DataFrame):
        raise ValueError(f"{name} must be model names or rows of econ.data.load('models'), "
                         f"got {type(models).__name__}")
    return models


def _hardware(hardware):
    return data.row("hardware", hardware) if isinstance(hardware, str) else hardware


def _node_memory_bytes(hw):
    return float(hw["memory_bytes"]) * float(hw["n_devices_per_node"])


def moe_sparsity_table(models, hardware, context_tok, training_context_tok):
    """Parameters held against parameters used, and the FLOPs per token that follow.

    Parameters
    ----------
    models : list of str or pandas.DataFrame
        Model names in ``data/models.csv`` or paths of config.json files, or rows of
        ``econ.data.load("models")``.
    hardware : str or pandas.Series
        The decoding device (for :func:`econ.decode_step`).
    context_tok : float
        KV length each decoded token attends to. [tokens]
    training_context_tok : float
        Sequence length of a training sample; causal attention counts half of it. [tokens]

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``total_params``, ``active_params`` [parameters],
        ``active_param_frac`` [fraction], ``decode_flop_per_tok`` (one decoded token, BF16,
        at ``context_tok``) and ``training_flop_per_tok`` (forward and backward, attention
        over half of ``training_context_tok``, as the published per-token tables count
        causal attention) [FLOP/token], ``bf16_weight_bytes`` [bytes].

    References
    ----------
    .. [1] DeepSeek-AI, "Insights into DeepSeek-V3", arXiv:2505.09343, Table 2 (training
       FLOPs per token at a 4,096-token sequence).
    """
    m = _models(models)
    positive("context_tok", context_tok)
    positive("training_context_tok", training_context_tok)
    hw = _hardware(hardware)
    # one closed form per architecture (a model row is a spec, not a vector of scenarios)
    decode_flop = [float(decode_step(m.loc[n], hw, "bf16", 1.0, context_tok)["flop"])
                   for n in m.index]
    train_flop = [float(model_training_flop(m.loc[n], 1.0, training_context_tok / 2.0))
                  for n in m.index]
    return pd.DataFrame({
        "total_params": m["total_params"],
        "active_params": m["active_params"],
        "active_param_frac": m["active_params"] / m["total_params"],
        "decode_flop_per_tok": decode_flop,
        "training_flop_per_tok": train_flop,
        "bf16_weight_bytes": param_bytes(m["total_params"], "bf16"),
    }, index=m.index)


def kv_cache_table(models, published=None, bytes_per_elem="bf16"):
    """KV-cache bytes one token adds, every model, beside the published figures.

    Parameters
    ----------
    models : list of str or pandas.DataFrame
        As in :func:`moe_sparsity_table`.
    published : pandas.DataFrame, optional
        ``econ.data.load("published")`` (read when not given); rows with metric
        ``kv_cache_bytes_per_tok`` give the published column.
    bytes_per_elem : str or float
        Cache precision. [bytes]

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``attention_kind``, ``kv_cache_bytes_per_tok`` [bytes/token],
        ``published_bytes_per_tok`` [bytes/token] (NaN where none) and ``source_url``
        ("" where none).
    """
    m = _models(models)
    pub = data.load("published") if published is None else published
    kv_pub = pub[pub["metric"] == "kv_cache_bytes_per_tok"].set_index("subject")
    return pd.DataFrame({
        "attention_kind": m["attention_kind"],
        "kv_cache_bytes_per_tok": model_kv_cache_bytes_per_token(m, bytes_per_elem),
        "published_bytes_per_tok": kv_pub["value"].reindex(m.index).astype(float),
        "source_url": kv_pub["source_url"].reindex(m.index).fillna(""),
    }, index=m.index)


def node_concurrency(models, hardware, precision, context_tok, reserve_frac=0.0,
                     kv_bytes_per_elem="bf16"):
    """Sequences whose KV cache fits per node, each model on the fewest nodes that hold it.

    Parameters
    ----------
    models : list of str or pandas.DataFrame
        As in :func:`moe_sparsity_table`; uses ``total_params``, ``max_context_tok`` and the KV
        columns.
    hardware : str or pandas.Series
        The GPU (``memory_bytes``, ``n_devices_per_node``).
    precision : str
        Weight precision.
    context_tok : array_like
        Context lengths to compare. [tokens]
    reserve_frac : float
        Share of memory kept for activations and runtime, in [0, 1). [fraction]
    kv_bytes_per_elem : str or float
        Cache precision. [bytes]

    Returns
    -------
    pandas.DataFrame
        One row per (context, model) whose context window reaches the context: ``model``,
        ``context`` (label, "32k"), ``context_tok`` [tokens], ``nodes_count`` [count],
        ``sequences_per_node_count`` [count].
    """
    m = _models(models)
    hw = _hardware(hardware)
    fraction("reserve_frac", reserve_frac)
    ctx = np.atleast_1d(np.asarray(context_tok, dtype=float))
    positive("context_tok", ctx)
    node_bytes = _node_memory_bytes(hw)
    weights = param_bytes(m["total_params"], precision).to_numpy(dtype=float)
    kv = np.asarray(model_kv_cache_bytes_per_token(m, kv_bytes_per_elem), dtype=float)
    nodes = devices_to_hold(weights, node_bytes, 1.0 - reserve_frac)
    c, n = np.meshgrid(ctx, np.arange(len(m)), indexing="ij")
    seqs = max_concurrent_sequences(nodes[n] * node_bytes, weights[n], kv[n], c,
                                    reserve_frac) / nodes[n]
    out = pd.DataFrame({
        "model": np.asarray(m.index)[n.ravel()],
        "context": [f"{x / 1024:,.0f}k" for x in c.ravel()],
        "context_tok": c.ravel(),
        "nodes_count": nodes[n].ravel(),
        "sequences_per_node_count": seqs.ravel(),
    })
    reach = m["max_context_tok"].to_numpy(dtype=float)[n.ravel()]
    return out[out["context_tok"].to_numpy() <= reach].reset_index(drop=True)


def precision_table(model, hardware, precisions, reserve_frac=0.0):
    """Weight bytes, nodes to hold them and the device's peak FLOP/s, per precision.

    Parameters
    ----------
    model : str or pandas.Series
        A model (uses ``total_params``).
    hardware : str or pandas.Series
        The GPU (``memory_bytes``, ``n_devices_per_node``, peak FLOP/s per precision).
    precisions : list of str
        Precisions to compare (duplicates dropped, order kept).
    reserve_frac : float
        Share of memory kept for activations and runtime. [fraction]

    Returns
    -------
    pandas.DataFrame
        Indexed by ``precision``: ``weight_bytes`` [bytes], ``nodes_to_hold_count``
        [count], ``peak_flop_per_s`` (dense) [FLOP/s].
    """
    m = data.model_row(model)
    hw = _hardware(hardware)
    fraction("reserve_frac", reserve_frac)
    ps = list(dict.fromkeys(precisions))
    weights = np.array([float(param_bytes(m["total_params"], p)) for p in ps])
    return pd.DataFrame({
        "weight_bytes": weights,
        "nodes_to_hold_count": devices_to_hold(weights, _node_memory_bytes(hw),
                                               1.0 - reserve_frac),
        "peak_flop_per_s": [float(hardware_peak_flop_per_s(hw, p)) for p in ps],
    }, index=pd.Index(ps, name="precision"))


def mtp_acceptance(model, published=None):
    """The MTP draft acceptance a model is priced at: its published one, none without MTP.

    A model without MTP modules drafts nothing (acceptance 0). One with MTP modules takes its
    own published acceptance (``<model>-mtp-acceptance`` in ``data/published.csv``) or, where
    none is published, DeepSeek-V3's (the only published one; the ``source`` says so).

    Parameters
    ----------
    model : str, path or pandas.Series
        A model name, a config.json path or a models row.
    published : pandas.DataFrame, optional
        ``econ.data.load("published")`` (the default).

    Returns
    -------
    pandas.Series
        ``value``, ``low``, ``high`` [fraction] and ``source`` (the row used, or "no MTP
        modules").
    """
    published = data.load("published") if published is None else published
    m = data.model_row(model)
    n_mtp = pd.to_numeric(pd.Series([m.get("n_mtp_modules")]), errors="coerce").fillna(0.0)[0]
    if n_mtp <= 0:
        return pd.Series({"value": 0.0, "low": 0.0, "high": 0.0, "source": "no MTP modules"})
    key = f"{m.name}-mtp-acceptance"
    if key not in published.index:
        key = "deepseek-v3-mtp-acceptance"
    row = published.loc[key]
    return pd.Series({"value": float(row["value"]), "low": float(row["low"]),
                      "high": float(row["high"]), "source": key})


def model_mtp_speedup(model, acceptance_frac):
    """Decode speed-up from multi-token prediction with one drafted token, net of the draft.

    A step emits ``1 + acceptance_frac`` tokens on average; the draft costs the model's MTP
    modules, one transformer layer each, so ``n_mtp_modules / n_layers`` of a step
    (:func:`econ.speculative_speedup`), while decoding is memory-bound.

    Parameters
    ----------
    model : str or pandas.Series
        A model with ``n_mtp_modules`` and ``n_layers``.
    acceptance_frac : numeric
        Probability the drafted token is accepted. [fraction]

    Returns
    -------
    numeric
        Speed-up over plain decoding, same shape as ``acceptance_frac``. [ratio]

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §5.4.3 ("85%
       and 90% ... 1.8 times TPS").
    """
    m = data.model_row(model)
    draft_cost_ratio = float(m["n_mtp_modules"]) / float(m["n_layers"])
    return speculative_speedup(acceptance_frac, 1, draft_cost_ratio)


def deployed_kv_cache_reduction(model, baseline, deployed_bytes_per_elem):
    """KV cache a model saves against a baseline (BF16), at BF16 and at its deployed precision.

    Parameters
    ----------
    model, baseline : str
        Model names (``"deepseek-v2"``, ``"deepseek-67b"``).
    deployed_bytes_per_elem : float
        The model's cache precision as deployed (V2: about 6 bits, 0.75). [bytes]

    Returns
    -------
    pandas.Series
        ``kv_cache_reduction_frac`` indexed by the result subjects ``<model>:bf16`` and
        ``<model>:deployed``. [fraction]
    """
    positive("deployed_bytes_per_elem", deployed_bytes_per_elem)
    red = kv_cache_reduction_frac(model, baseline, np.array([2.0, deployed_bytes_per_elem]))
    return pd.Series(red, index=[f"{model}:bf16", f"{model}:deployed"],
                     name="kv_cache_reduction_frac")


def moe_with_dense_attention(moe, dense):
    """A hypothetical model: the MoE model's layers with the dense model's attention cache.

    The "+ MoE" step of the waterfall: V3's experts, but a GQA cache like the dense
    baseline's (``attention_kind``, ``n_kv_heads``, ``head_dim`` taken from ``dense``).

    Returns
    -------
    pandas.Series
        The model row, named ``<moe>-gqa``.
    """
    m = data.model_row(moe).copy()
    d = data.model_row(dense)
    for col in ("attention_kind", "n_kv_heads", "head_dim"):
        m[col] = d[col]
    m.name = f"{m.name}-gqa"
    return m


def _steps(dense, moe, hardware, precision, acceptance_frac, reserve_frac):
    """The five waterfall steps: label, subject, model row, precision, MTP keywords, devices."""
    d = data.model_row(dense)
    m = data.model_row(moe)
    hw = _hardware(hardware)
    mtp = dict(acceptance_frac=acceptance_frac, draft_depth=1,
               draft_cost_ratio=float(m["n_mtp_modules"]) / float(m["n_layers"]))
    steps = [("0 dense BF16", f"{d.name}:baseline", d, "bf16", {}),
             ("1 + MoE", f"{m.name}:+moe", moe_with_dense_attention(m, d), "bf16", {}),
             ("2 + MLA", f"{m.name}:+mla", m, "bf16", {}),
             (f"3 + {precision.upper()}", f"{m.name}:+{precision}", m, precision, {}),
             ("4 + MTP", f"{m.name}:+mtp", m, precision, mtp)]
    node_bytes = _node_memory_bytes(hw)
    out = []
    for label, subject, model, p, extra in steps:
        nodes = float(devices_to_hold(float(param_bytes(model["total_params"], p)), node_bytes,
                                      1.0 - reserve_frac))
        out.append((label, subject, model, p, extra,
                    int(nodes * float(hw["n_devices_per_node"])), nodes))
    return hw, out


def enabler_waterfall(dense, moe, hardware, precision, context_tok, usd_per_gpu_hour,
                      acceptance_frac, *, reserve_frac=0.0, flop_efficiency_frac=None,
                      bandwidth_efficiency_frac=None):
    """From a dense BF16 model to V3-style serving, one enabler at a time, in $/Mtok.

    Steps: dense BF16 (``dense`` with its own cache); + MoE (:func:`moe_with_dense_attention`,
    BF16); + MLA (``moe`` itself, BF16); + ``precision`` (weights and matmuls, the KV cache
    stays BF16); + MTP (one drafted token at ``acceptance_frac``). Each step runs on the
    fewest nodes that hold its weights, decoding as many sequences as fit at
    ``context_tok`` (:func:`econ.decode_step`); prefill is one prompt of ``context_tok``
    tokens per pass (compute-bound, where the MoE's FLOP cut shows).

    Parameters
    ----------
    dense, moe : str or pandas.Series
        The dense baseline and the MoE model (rows of ``data/models.csv``).
    hardware : str or pandas.Series
        The GPU of the 8-GPU node.
    precision : str
        Precision of the last two steps (``"fp8"`` for DeepSeek's serving).
    context_tok : float
        KV length each decoded token attends to. [tokens]
    usd_per_gpu_hour : float
        Price of one GPU-hour. [USD/h]
    acceptance_frac : float
        MTP acceptance of the drafted token. [fraction]
    reserve_frac, flop_efficiency_frac, bandwidth_efficiency_frac : float
        As in :func:`econ.decode_step`.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step``, ``subject`` (``<model>:<step>``, the result rows'
        subject), ``precision``, ``nodes_count`` [count], ``n_devices`` [count],
        ``n_sequences`` [count], ``decode_tok_per_s`` (per GPU) and
        ``decode_tok_per_s_per_user`` [tokens/s], ``compute_bound`` (bool),
        ``cost_usd_per_mtok`` (decode) [USD/Mtok], ``step_ratio`` (previous step's cost over
        this one's; NaN for the first) [ratio], ``prefill_cost_usd_per_mtok`` [USD/Mtok].
    """
    positive("context_tok", context_tok)
    positive("usd_per_gpu_hour", usd_per_gpu_hour)
    eff = dict(flop_efficiency_frac=flop_efficiency_frac,
               bandwidth_efficiency_frac=bandwidth_efficiency_frac)
    hw, steps = _steps(dense, moe, hardware, precision, acceptance_frac, reserve_frac)
    dec = [decode_step(m, hw, p, None, context_tok, n_devices=n, reserve_frac=reserve_frac,
                       **eff, **x) for _, _, m, p, x, n, _ in steps]
    pre = [prefill_tok_per_s(m, hw, p, context_tok, 1.0, n_devices=n, **eff)
           for _, _, m, p, _, n, _ in steps]
    tok = np.array([float(d["decode_tok_per_s"]) for d in dec])
    cost = cost_usd_per_mtok(usd_per_gpu_hour, tok)
    return pd.DataFrame({
        "step": [s[0] for s in steps], "subject": [s[1] for s in steps],
        "precision": [s[3] for s in steps], "nodes_count": [s[6] for s in steps],
        "n_devices": [s[5] for s in steps],
        "n_sequences": [float(d["n_sequences"]) for d in dec],
        "decode_tok_per_s": tok,
        "decode_tok_per_s_per_user": [float(d["decode_tok_per_s_per_user"]) for d in dec],
        "compute_bound": [bool(d["compute_s"] > d["memory_s"]) for d in dec],
        "cost_usd_per_mtok": cost,
        "step_ratio": np.concatenate([[np.nan], cost[:-1] / cost[1:]]),
        "prefill_cost_usd_per_mtok": cost_usd_per_mtok(usd_per_gpu_hour,
                                                       np.array([float(x) for x in pre])),
    })


def enabler_cost_by_context(dense, moe, hardware, precision, context_tok, usd_per_gpu_hour,
                            acceptance_frac, *, reserve_frac=0.0, flop_efficiency_frac=None,
                            bandwidth_efficiency_frac=None):
    """Decode $/Mtok of every waterfall step across context lengths (batch re-filled at each).

    Arguments as :func:`enabler_waterfall`, with ``context_tok`` an array. [tokens]

    Returns
    -------
    pandas.DataFrame
        Long: ``step``, ``context_tok`` [tokens], ``cost_usd_per_mtok`` [USD/Mtok].
    """
    ctx = np.atleast_1d(np.asarray(context_tok, dtype=float))
    positive("context_tok", ctx)
    eff = dict(flop_efficiency_frac=flop_efficiency_frac,
               bandwidth_efficiency_frac=bandwidth_efficiency_frac)
    hw, steps = _steps(dense, moe, hardware, precision, acceptance_frac, reserve_frac)
    return pd.concat([pd.DataFrame({
        "step": label, "context_tok": ctx,
        "cost_usd_per_mtok": decode_cost_usd_per_mtok(m, hw, p, None, ctx, usd_per_gpu_hour,
                                                      n_devices=n, reserve_frac=reserve_frac,
                                                      **eff, **x),
    }) for label, _, m, p, x, n, _ in steps], ignore_index=True)


def mtp_speedup_by_batch(moe, hardware, precision, n_devices, context_tok, acceptance_frac, *,
                         published_speedup="published", reserve_frac=0.0, flop_efficiency_frac=None,
                         bandwidth_efficiency_frac=None):
    """MTP's decode speed-up on the roofline against batch, one line per context length.

    Batches are powers of two up to the batch that fills memory at each context.

    Parameters
    ----------
    moe : str or pandas.Series
        The MTP model.
    hardware, precision
        As in :func:`econ.decode_step`.
    n_devices : int
        GPUs the model runs on. [count]
    context_tok : array_like
        Context lengths, one line each. [tokens]
    acceptance_frac : float
        Acceptance of the drafted token. [fraction]
    published_speedup : float, "published" or None
        Drawn as a flat reference line, the series "published"; by default the model's
        ``<model>-mtp-speedup`` row of ``data/published.csv`` (none drawn when it has none);
        ``None`` draws none. [ratio]

    Returns
    -------
    pandas.DataFrame
        Long: ``context`` (series label), ``n_sequences`` [count], ``speedup_ratio`` [ratio].
    """
    m = data.model_row(moe)
    hw = _hardware(hardware)
    eff = dict(flop_efficiency_frac=flop_efficiency_frac,
               bandwidth_efficiency_frac=bandwidth_efficiency_frac)
    mtp = dict(acceptance_frac=acceptance_frac, draft_depth=1,
               draft_cost_ratio=float(m["n_mtp_modules"]) / float(m["n_layers"]))
    kv = float(model_kv_cache_bytes_per_token(m, "bf16"))
    weights = float(param_bytes(m["total_params"], precision))
    frames = []
    for ctx in np.atleast_1d(np.asarray(context_tok, dtype=float)):
        fit = max_concurrent_sequences(n_devices * float(hw["memory_bytes"]), weights, kv, ctx,
                                       reserve_frac)
        batch = np.unique(np.minimum(2.0 ** np.arange(0, 15), fit))
        ratio = (decode_tok_per_s(m, hw, precision, batch, ctx, n_devices=n_devices, **mtp,
                                  **eff)
                 / decode_tok_per_s(m, hw, precision, batch, ctx, n_devices=n_devices, **eff))
        frames.append(pd.DataFrame({"context": f"{ctx:,.0f}-token context",
                                    "n_sequences": batch, "speedup_ratio": ratio}))
    out = pd.concat(frames, ignore_index=True)
    if isinstance(published_speedup, str):
        pub = data.load("published")
        row = f"{m.name}-mtp-speedup"
        published_speedup = float(pub.loc[row, "value"]) if row in pub.index else None
    if published_speedup is not None:
        out = pd.concat([out, pd.DataFrame({
            "context": "published", "n_sequences": [1.0, out["n_sequences"].max()],
            "speedup_ratio": float(published_speedup)})], ignore_index=True)
    return out


def enabler_result_rows(moe_table, kv_table, kv_reduction, concurrency, precisions, mtp_speedup,
                        waterfall, *, moe_model, serving_gpu, published=None):
    """The architecture notebook's result rows, from its tables.

    Parameters
    ----------
    moe_table : pandas.DataFrame
        :func:`moe_sparsity_table`.
    kv_table : pandas.DataFrame
        :func:`kv_cache_table`.
    kv_reduction : pandas.Series
        ``kv_cache_reduction_frac`` by subject (``deepseek-v2:bf16``,
        ``deepseek-v2:deployed``). [fraction]
    concurrency : pandas.DataFrame
        :func:`node_concurrency`.
    precisions : pandas.DataFrame
        :func:`precision_table`.
    mtp_speedup : float
        :func:`model_mtp_speedup` at the published acceptance. [ratio]
    waterfall : pandas.DataFrame
        :func:`enabler_waterfall`.
    moe_model, serving_gpu : str
        Subjects of the MoE and precision rows.
    published : pandas.DataFrame, optional
        ``econ.data.load("published")``.

    Returns
    -------
    list of dict
        Rows for :func:`econ.results_frame`: ``active_param_frac``, ``decode_flop_per_tok``,
        ``training_flop_per_tok``, ``kv_cache_bytes_per_token``, ``kv_cache_reduction_frac``,
        ``concurrent_sequences_per_node_count``, ``weight_bytes``, ``peak_flop_per_s``,
        ``mtp_speedup`` (closed form and ``:roofline``), ``cost_usd_per_mtok``,
        ``prefill_cost_usd_per_mtok`` (no MTP step: MTP does not speed up prefill) and
        ``cost_reduction_ratio``, with published figures and sources where
        ``data/published.csv`` has them.
    """
    pub = data.load("published") if published is None else published

    def fig(name, col="value"):
        if name not in pub.index:
            return np.nan if col == "value" else ""
        return pub.loc[name, col]

    active = f"{moe_model}-active-params"
    total = f"{moe_model}-total-params"
    rows = [dict(metric="active_param_frac", subject=moe_model,
                 value=moe_table.loc[moe_model, "active_param_frac"],
                 published_value=fig(active) / fig(total) if active in pub.index else np.nan,
                 source_url=fig(active, "source_url"), rel_tol=0.01)]
    rows += [dict(metric="decode_flop_per_tok", subject=name, value=v)
             for name, v in moe_table["decode_flop_per_tok"].items()]
    rows += [dict(metric="training_flop_per_tok", subject=name, value=v,
                  published_value=fig(f"{name}-training-flop-per-tok"),
                  source_url=fig(f"{name}-training-flop-per-tok", "source_url"))
             for name, v in moe_table["training_flop_per_tok"].items()]
    rows += [dict(metric="kv_cache_bytes_per_token", subject=name,
                  value=r.kv_cache_bytes_per_tok, published_value=r.published_bytes_per_tok,
                  source_url=r.source_url, rel_tol=0.001)
             for name, r in zip(kv_table.index, kv_table.itertuples())]
    rows += [dict(metric="kv_cache_reduction_frac", subject=s, value=v,
                  published_value=fig("deepseek-v2-kv-cache-reduction"),
                  source_url=fig("deepseek-v2-kv-cache-reduction", "source_url"), rel_tol=0.01)
             for s, v in kv_reduction.items()]
    rows += [dict(metric="concurrent_sequences_per_node_count", subject=f"{r.model}:{r.context}",
                  value=r.sequences_per_node_count) for r in concurrency.itertuples()]
    rows += [dict(metric="weight_bytes", subject=f"{moe_model}:{p}", value=v)
             for p, v in precisions["weight_bytes"].items()]
    rows += [dict(metric="peak_flop_per_s", subject=f"{serving_gpu}:{p}", value=v)
             for p, v in precisions["peak_flop_per_s"].items()]
    speedup = f"{moe_model}-mtp-speedup"
    tok = waterfall["decode_tok_per_s"].to_numpy()
    rows += [dict(metric="mtp_speedup", subject=s, value=v, published_value=fig(speedup),
                  source_url=fig(speedup, "source_url"))
             for s, v in ((moe_model, mtp_speedup), (f"{moe_model}:roofline", tok[-1] / tok[-2]))]
    rows += [dict(metric="cost_usd_per_mtok", subject=s, value=v)
             for s, v in zip(waterfall["subject"], waterfall["cost_usd_per_mtok"])]
    rows += [dict(metric="prefill_cost_usd_per_mtok", subject=s, value=v)
             for s, v in zip(waterfall["subject"], waterfall["prefill_cost_usd_per_mtok"])
             if not s.endswith("+mtp")]
    base, last = waterfall.iloc[0], waterfall.iloc[-1]
    rows.append(dict(metric="cost_reduction_ratio",
                     subject=f"{base['subject'].split(':')[0]}-bf16-to-{moe_model}-style",
                     value=base["cost_usd_per_mtok"] / last["cost_usd_per_mtok"]))
    return rows


def enabler_claims(moe_model, dense_model, precision):
    """Wording of the architecture notebook's verdict rows, keyed as :func:`econ.verdict_table`
    takes them (by metric, or by (metric, subject)).

    Returns
    -------
    dict
        The enabler rows of :func:`enabler_result_rows`, in reading order.
    """
    return {
        "active_param_frac": f"Only 37B of 671B parameters active ({moe_model})",
        "training_flop_per_tok": "Training FLOPs per token (ISCA'25 Table 2)",
        ("kv_cache_bytes_per_token", moe_model): f"KV cache per token, {moe_model} (BF16)",
        ("kv_cache_bytes_per_token", dense_model): f"KV cache per token, {dense_model} (BF16)",
        ("kv_cache_bytes_per_token", "qwen2.5-72b"): "KV cache per token, qwen2.5-72b (BF16)",
        ("kv_cache_reduction_frac", "deepseek-v2:bf16"):
            "MLA cuts the KV cache by 93.3% (V2 vs 67B, both BF16)",
        ("kv_cache_reduction_frac", "deepseek-v2:deployed"):
            "MLA cuts the KV cache by 93.3% (V2's ~6-bit cache vs 67B BF16)",
        ("mtp_speedup", moe_model): "MTP: 85-90% acceptance gives 1.8x decoding speed "
                                    "(closed form)",
        ("mtp_speedup", f"{moe_model}:roofline"): "MTP speed-up on the roofline at the "
                                                  "V3-style batch",
        ("cost_usd_per_mtok", f"{dense_model}:baseline"): "Decode $/Mtok, dense BF16 baseline",
        ("cost_usd_per_mtok", f"{moe_model}:+mtp"): "Decode $/Mtok, V3-style serving",
        ("prefill_cost_usd_per_mtok", f"{dense_model}:baseline"):
            "Prefill $/Mtok, dense BF16 baseline",
        ("prefill_cost_usd_per_mtok", f"{moe_model}:+{precision}"):
            "Prefill $/Mtok, V3-style serving",
        "cost_reduction_ratio": "Dense BF16 over V3-style $/Mtok",
    }
