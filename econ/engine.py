"""One engine for every step-time prediction: typed specs and the calibrated forward step.

Every prediction of the suite (a kernel-level decode or prefill step on one device or a
tensor-parallel group, an expert-parallel unit, a serving deployment) goes through
:func:`forward_step`. It prices one forward pass **per device** as the sum of its parts, each
an additive roofline ``bytes / (bandwidth * eta_bw) + FLOPs / (peak * eta_flop)`` (the form
the project's kernel timings fit best, see :func:`econ.fit_roofline`):

- **dense matmuls** (attention projections, dense FFNs, shared experts, the LM head): the
  weights this device holds are read once per step; their FLOPs at the matmul precision;
- **routed experts** (MoE): the experts of this device that at least one token picks
  (:func:`touched_experts`), their FLOPs times the expected load of the busiest device
  (:func:`max_load_ratio`); under expert parallelism the busiest device also reads more
  experts than the mean (:func:`busiest_touched_experts`);
- **attention over the cache**: KV bytes read (decode) at a bandwidth share that grows
  with the independent work the batch offers, FLOPs at the *BF16* rate (the cache and the
  attention kernels are BF16 even when the matmuls are FP8);
- **a fixed cost per layer** (norms, rotary, residual adds, KV writes, kernel launch and
  tail effects);
- **input quantization** where the matmuls run FP8, FP4 or INT8: a matmul's input is
  scaled and cast first, inside the norm or activation before it where an engine fuses it,
  else in a kernel of its own, whose fixed time is measured apart (``act_quant_kernel_s``,
  ``tests/benchmarks/gpu_quant.py``) and whose bytes are counted.

The few constants (the ``eta`` shares, the half-occupancy work and the per-layer cost) are
physical, have units, and are fitted to whole steps measured on real GPUs
(``data/calibration.csv``, refitted by ``make calibrate``). Shares are fractions of the
datasheet peaks, so a device without recordings is priced at the shares measured on the
recorded Hopper GPUs: an assumption, stated where it is used.

Layout. ``tp`` devices split every attention head group and every dense matrix (tensor
parallel); KV heads are split as far as they go and replicated beyond (an MLA latent cache is
replicated on every tensor-parallel rank); ``ep`` devices split the routed experts (expert
parallel; with more tensor-parallel devices than expert groups, each expert is split over
``tp / ep`` of them, as engines size their MoE groups: ``moe_tp * moe_ep = tp``); with
``dp_attention`` each device runs attention for its own sequences (data parallel) and holds
the attention weights whole. No communication
here: that belongs to the serving level (:func:`econ.predict_serving`).

References
----------
.. [1] S. Williams et al., "Roofline", CACM 52(4), 2009.
.. [2] R. Pope et al., "Efficiently Scaling Transformer Inference", arXiv:2211.05102.
.. [3] DeepSeek-AI, "DeepSeek-V2", arXiv:2405.04434 (MLA, absorbed decode).
.. [4] M. Raab, A. Steger, "'Balls into Bins' - A Simple and Tight Analysis", RANDOM 1998.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import data
from ._checks import nonnegative, positive
from .kvcache import ATTENTION_KINDS

__all__ = ["ModelSpec", "Calibration", "model_spec", "calibration", "forward_step",
           "device_share_scales", "device_calibration", "FUSED_ACT_QUANT_BYTES_PER_ELEM"]


# --- specs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSpec:
    """A model's numbers, as the engine needs them; built once by :func:`model_spec`.

    Parameter counts are per model [params]; ``*_per_layer`` ones per layer.
    ``attn_flop_decode`` / ``attn_flop_prefill``: attention FLOPs one new token spends per
    context token, summed over layers [FLOP]. ``kv_elems_per_layer``: cached elements per
    token per layer [-].
    """

    name: str
    attention_kind: str
    n_layers: float
    hidden_dim: float
    n_heads: float
    n_kv_heads: float            # MLA: 1 (one latent shared by all heads)
    total_params: float
    active_params: float
    embedding_params: float      # input embedding: rows looked up, never streamed
    lm_head_params: float        # read whole every step (the embedding itself if tied)
    tied_embeddings: bool
    active_params_basis: str     # what the published active count includes (models.yaml)
    attn_params_per_layer: float
    moe: bool
    n_routed_experts: float
    n_active_experts: float
    moe_layers: float
    params_per_expert: float
    kv_elems_per_layer: float
    attn_flop_decode: float
    attn_flop_prefill: float
    n_mtp_modules: float
    shared_expert_layers: float = 0.0   # MoE layers that also run a shared expert
    attn_quant_matmuls: float = 2.0     # attention matmuls with quantized inputs, per layer
    attn_quant_in_whole: float = 0.0    # their input elements per token every TP rank holds
    attn_quant_in_split: float = 0.0    # ... and split over TP ranks (the output projection)

    @property
    def n_vocab(self):
        """Tokens of the vocabulary: the width of a row of logits. [tokens]"""
        return self.embedding_params / self.hidden_dim

    @property
    def routed_params(self):
        """Parameters of all routed experts. [params]"""
        return self.moe_layers * self.n_routed_experts * self.params_per_expert

    @property
    def shared_params(self):
        """Active parameters outside the routed experts (attention, dense FFNs, shared
        experts, embeddings, head). [params]"""
        return self.active_params - self.moe_layers * self.n_active_experts \
            * self.params_per_expert

    @property
    def kernels_per_step(self):
        """Kernels one forward step launches (a definition of the layer's structure, not a
        measurement): per layer two norms, the attention block (MHA/GQA: QKV projection,
        rotary, attention, output projection = 4; MLA: query down/norm/up, KV down/norm,
        rotary, two absorbed products, attention, output projection = 9), the FFN
        (dense: gate-up, activation, down = 3; MoE: router, top-k, permute, two grouped
        products, activation, combine = 7, and a shared expert's three where the layer has
        one); plus the LM head, the final norm and sampling (3). [-]"""
        attn = 9.0 if self.attention_kind == "mla" else 4.0
        return (self.n_layers * (2.0 + attn) + self.ffn_blocks * 3.0 + self.moe_layers * 7.0
                + 3.0)

    @property
    def quantized_matmuls_per_step(self):
        """Matmuls of one forward step whose activations a step with FP8, FP4 or INT8 matmuls
        quantizes (a definition of the layer's structure, like :attr:`kernels_per_step`): per
        layer the attention projections (:attr:`attn_quant_matmuls`: MHA/GQA QKV and output
        = 2; MLA query down and up, KV down and output = 4, 3 without a query down
        projection; its absorbed products run BF16), the dense FFN's or shared expert's
        gate-up and down (2 each), the routed experts' two grouped products (2); the LM head
        stays BF16 in quantized checkpoints. An engine that fuses a quantization into the
        kernel before it (a norm, the activation) runs fewer
        (:attr:`unfused_quantizations_per_step`). [-]"""
        return (self.n_layers * self.attn_quant_matmuls + 2.0 * self.ffn_blocks
                + 2.0 * self.moe_layers)

    @property
    def ffn_blocks(self):
        """Dense FFNs and shared experts of all layers, counted as blocks. [-]"""
        return (self.n_layers - self.moe_layers) + self.shared_expert_layers

    @property
    def unfused_quantizations_per_step(self):
        """Input quantizations of :attr:`quantized_matmuls_per_step` left as kernels of
        their own where an engine quantizes each input inside the kernel that produces it
        when that kernel is a norm or an activation (RMSNorm + quantize before QKV, the
        query up projection and gate-up; SiLU-and-multiply + quantize before down): the
        attention output before its projection (one per layer) and the tokens before the
        routed experts' first product (one per MoE layer). An assumption about serving
        engines: vLLM's compilation passes and TensorRT-LLM's kernels offer these fusions,
        and no ledger source states whether its run used them. [-]"""
        return self.n_layers + self.moe_layers

    @property
    def body_params(self):
        """Shared params less the embedding and an untied head: the layers' dense matrices."""
        counted_embed = self.embedding_params if self.active_params_basis == "all" else 0.0
        counted_head = 0.0 if (self.tied_embeddings
                               or self.active_params_basis == "without_embeddings") \
            else self.lm_head_params
        return max(self.shared_params - counted_embed - counted_head, 0.0)

    @property
    def attention_params(self):
        """Attention projections of all layers (from the dimensions, capped by the body). """
        return min(self.n_layers * self.attn_params_per_layer, self.body_params)

    @property
    def dense_ffn_params(self):
        """Dense FFNs and shared experts of all layers: the body less attention. [params]"""
        return self.body_params - self.attention_params


_ACTIVE_BASES = ("all", "without_input_embedding", "without_embeddings")


def _num(row, col):
    v = row.get(col) if hasattr(row, "get") else None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return np.nan
    return v


def _model_row(model):
    if isinstance(model, ModelSpec):
        return None, model
    model = data.model_row(model)          # a name or a config.json path -> a models row
    if isinstance(model, pd.DataFrame):
        raise ValueError(f"model must be one model (a name, a row or a mapping), got a table "
                         f"of {len(model)} rows")
    if isinstance(model, (pd.Series, Mapping)):
        return model, None
    raise ValueError("model must be a model name, a path to a config.json, a row of "
                     "econ.data.load('models'), a mapping of its columns, or a ModelSpec; got "
                     f"{type(model).__name__}")


def model_spec(model):
    """Resolve a model (name, config.json path, row, mapping or spec) into a checked spec.

    The one resolver of model inputs: every engine path calls it. Names and config paths go
    through :func:`econ.data.model_row`. A spec asked for by name is built once and kept
    while ``data/models.csv`` is unchanged (its stamp: size and modification time).

    Raises
    ------
    KeyError
        An unknown model name (the message lists the valid ones).
    ValueError
        A required column is empty, negative or inconsistent (the message names it).
    """
    if isinstance(model, str) and not data.is_config_path(model):
        # a name: the spec is kept while data/models.csv is unchanged (specs are frozen)
        return _named_model_spec(model, str(data.DATA_DIR), data.stamp("models"))
    return _model_spec(model)


@functools.lru_cache(maxsize=512)
def _named_model_spec(name, _data_dir, _stamp):
    return _model_spec(name)


def _model_spec(model):
    row, spec = _model_row(model)
    if spec is not None:
        return spec
    name = str(row.name if isinstance(row, pd.Series) else row.get("name", "<model>"))
    kind = row.get("attention_kind")
    if kind not in ATTENTION_KINDS:
        raise ValueError(f"model {name!r}: attention_kind must be one of "
                         f"{list(ATTENTION_KINDS)}, got {kind!r}")

    def req(col, why=""):
        v = _num(row, col)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"model {name!r}: column {col!r} must be a number >= 0, got "
                             f"{row.get(col)!r}{' (needed ' + why + ')' if why else ''}")
        return v

    def opt(col, default=0.0):
        v = _num(row, col)
        return v if np.isfinite(v) else default

    n_layers, n_heads = req("n_layers"), req("n_heads")
    hidden = req("hidden_dim")
    total, active = req("total_params"), req("active_params")
    if active > total:
        raise ValueError(f"model {name!r}: active_params ({active:g}) must be <= total_params "
                         f"({total:g})")
    e = opt("n_routed_experts")
    moe = e > 0
    if moe:
        k = req("n_active_experts", "for an MoE model")
        if k > e:
            raise ValueError(f"model {name!r}: n_active_experts ({k:g}) must be <= "
                             f"n_routed_experts ({e:g})")
        moe_layers = n_layers - opt("n_dense_layers")
        per_expert = 3.0 * hidden * req("moe_ffn_dim", "for an MoE model")
        if active - moe_layers * k * per_expert < 0:
            raise ValueError(
                f"model {name!r}: active_params ({active:g}) is smaller than its active routed "
                f"experts ({moe_layers:g} layers x {k:g} experts x 3*hidden_dim*moe_ffn_dim = "
                f"{moe_layers * k * per_expert:g}); check the config columns")
    else:
        e, k, moe_layers, per_expert = 0.0, 0.0, 0.0, 0.0
    if kind == "mla":
        lora, rope = req("kv_lora_rank_dim", "for MLA"), req("qk_rope_head_dim", "for MLA")
        nope = req("qk_nope_head_dim", "for MLA")
        v = req("v_head_dim", "for MLA")
        q_lora = opt("q_lora_rank_dim")
        q = hidden * q_lora + q_lora * n_heads * (nope + rope) if q_lora > 0 \
            else hidden * n_heads * (nope + rope)
        attn = q + hidden * (lora + rope) + lora * n_heads * (nope + v) + n_heads * v * hidden
        kv_heads = 1.0
        attn_dec = n_layers * n_heads * 2.0 * (2.0 * lora + rope)
        attn_pre = n_layers * n_heads * 2.0 * (nope + rope + v)
        kv_elems = lora + rope
        # quantized inputs: query down (hidden) and up (q_lora), KV down (hidden), output
        q_mm, q_whole, q_split = ((4.0, 2.0 * hidden + q_lora, n_heads * v) if q_lora > 0
                                  else (3.0, 2.0 * hidden, n_heads * v))
    else:
        hd = opt("head_dim", hidden / n_heads if n_heads else np.nan)
        kv_heads = opt("n_kv_heads", n_heads) if kind != "mha" else n_heads
        if kind == "gqa" and not np.isfinite(_num(row, "n_kv_heads")):
            raise ValueError(f"model {name!r}: column 'n_kv_heads' is empty (needed for GQA)")
        attn = 2.0 * hidden * n_heads * hd + 2.0 * hidden * kv_heads * hd
        attn_dec = attn_pre = n_layers * n_heads * 4.0 * hd
        kv_elems = 2.0 * kv_heads * hd
        # quantized inputs: QKV (hidden) and the output projection (the heads' outputs)
        q_mm, q_whole, q_split = 2.0, hidden, n_heads * hd
    vocab = opt("n_vocab")
    head_col = _num(row, "output_head_params")
    tied = head_col == 0 or str(row.get("tie_word_embeddings", "")).strip().lower() in (
        "true", "1", "1.0")
    basis = row.get("active_params_basis")
    basis = basis if isinstance(basis, str) and basis else "all"
    if basis not in _ACTIVE_BASES:
        raise ValueError(f"model {name!r}: active_params_basis must be one of "
                         f"{list(_ACTIVE_BASES)}, got {basis!r}")
    return ModelSpec(
        name=name, attention_kind=kind, n_layers=n_layers, hidden_dim=hidden,
        n_heads=n_heads, n_kv_heads=kv_heads, total_params=total, active_params=active,
        embedding_params=hidden * vocab, lm_head_params=hidden * vocab, tied_embeddings=tied,
        active_params_basis=basis,
        attn_params_per_layer=attn, moe=moe, n_routed_experts=e,
        n_active_experts=k, moe_layers=moe_layers, params_per_expert=per_expert,
        kv_elems_per_layer=kv_elems, attn_flop_decode=attn_dec, attn_flop_prefill=attn_pre,
        n_mtp_modules=opt("n_mtp_modules"),
        shared_expert_layers=moe_layers if moe and opt("n_shared_experts") > 0 else 0.0,
        attn_quant_matmuls=q_mm, attn_quant_in_whole=q_whole, attn_quant_in_split=q_split)


@dataclass(frozen=True)
class Calibration:
    """The engine's fitted constants (rows of ``data/calibration.csv``).

    Attributes
    ----------
    gemm_bandwidth_frac : float
        Share of HBM bandwidth a weight-streaming matmul reaches. [fraction]
    gemm_flop_frac : float
        Share of the dense peak (at the matmul precision) a large matmul reaches. [fraction]
    attention_bandwidth_frac : float
        Share of HBM bandwidth decode attention reaches when the device is full. [fraction]
    attention_flop_frac : float
        Share of the BF16 peak attention reaches when compute-bound (prefill). [fraction]
    attention_half_occupancy_count : float
        Independent (sequence x KV-head) pairs at which decode attention reaches half its
        bandwidth share:
        ``eta = attention_bandwidth_frac * u / (u + attention_half_occupancy_count)``. [-]
    kernel_fixed_s : float
        Fixed time per kernel of a step (launch gap, ramp-up and tail of a small kernel),
        charged to each of :attr:`ModelSpec.kernels_per_step`. [s]
    grouped_gemm_frac : float
        Share of the dense-matmul rates (both the bandwidth and the FLOP share) that the
        routed experts' grouped matmuls reach: few tokens per expert give each expert's
        matrix a short, ragged tile schedule. [fraction]
    act_quant_kernel_s : float, default 0
        Fixed time of a fused kernel that quantizes a matmul's input (finds its scale,
        casts it) inside a step, beyond the bytes it moves; charged to each quantization
        kernel when the matmuls run FP8, FP4 or INT8
        (``forward_step(act_quant_bytes_per_elem=...)``). Measured, not fitted to steps:
        :func:`econ.act_quant_fixed_s` on ``data/gpu_timings.csv``. [s]
    """

    gemm_bandwidth_frac: float
    gemm_flop_frac: float
    attention_bandwidth_frac: float
    attention_flop_frac: float
    attention_half_occupancy_count: float
    kernel_fixed_s: float
    grouped_gemm_frac: float
    act_quant_kernel_s: float = 0.0

    @classmethod
    def fields(cls):
        return tuple(cls.__dataclass_fields__)


def calibration(**overrides):
    """The fitted :class:`Calibration` from ``data/calibration.csv``, with overrides.

    Parameters
    ----------
    **overrides : float
        Replace a fitted constant by name (e.g. ``kernel_fixed_s=0`` for a pure roofline).

    Raises
    ------
    ValueError
        An unknown constant name (the message lists them) or a missing row.
    """
    table = calibration_values()
    names = Calibration.fields()
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"unknown calibration constant(s) {unknown}; allowed: {list(names)}")
    values = {}
    for n in names:
        if n in overrides and overrides[n] is not None:
            values[n] = overrides[n]
        elif n in table:
            values[n] = table[n]
        else:
            raise ValueError(f"data/calibration.csv has no row {n!r}")
    return Calibration(**values)


def calibration_values():
    """The constants of ``data/calibration.csv``, read once while the file is unchanged.

    Returns
    -------
    dict
        ``{name: value}``, a fresh dict each call; each value in the unit of its row's
        ``unit`` column.
    """
    return dict(_calibration_values(str(data.DATA_DIR), data.stamp("calibration")))


@functools.lru_cache(maxsize=8)
def _calibration_values(_data_dir, _stamp):
    return tuple((str(n), float(v)) for n, v in data.load("calibration")["value"].items())


# --- device numbers ----------------------------------------------------------------------------

def resolve_hardware(hardware):
    """A hardware name, row, mapping (values may be arrays) or the whole table, as given."""
    if isinstance(hardware, str):
        return data.row("hardware", hardware)
    if isinstance(hardware, (pd.Series, pd.DataFrame, Mapping)):
        return hardware
    raise ValueError("hardware must be a hardware name, a row of econ.data.load('hardware'), a "
                     f"mapping of its columns, or the whole table; got {type(hardware).__name__}")


def hardware_value(hw, col, required=True):
    """(raw value for ``like``, checked float array) of a hardware column, or (None, None)."""
    present = col in (hw.columns if isinstance(hw, pd.DataFrame) else hw)
    if not present:
        if required:
            raise ValueError(f"hardware has no column {col!r}")
        return None, None
    raw = hw[col]
    missing = raw is None or (np.ndim(raw) == 0 and _isnan(raw))
    if isinstance(raw, pd.Series) and raw.isna().any():
        missing = True
    if missing:
        if not required:
            return None, None
        if isinstance(raw, pd.Series):
            name = raw.index[raw.isna()][0]
        else:
            name = hw.name if isinstance(hw, pd.Series) else hw.get("name", "<hardware>")
        raise ValueError(f"hardware {name!r} has no {col} (empty in the table); choose a "
                         "precision it supports (compute_precision) or other hardware")
    return raw, positive(f"hardware {col}", raw)


def _isnan(x):
    try:
        return bool(np.isnan(float(x)))
    except (TypeError, ValueError):
        return False


#: The device the step constants are fitted on (the recorded whole steps of data/gpu_steps.csv).
REFERENCE_HARDWARE = "h200-sxm"


def device_share_scales(hardware, reference=REFERENCE_HARDWARE):
    """Per-device scales of the fitted bandwidth and compute shares (data/device_microbenchmarks).

    The shares of :class:`Calibration` are fitted on the reference device. Another device
    reaches a different fraction of its own datasheet figures; one harness measured on both
    gives the ratio of the fractions::

        bandwidth scale = (copy / datasheet bandwidth)_device / (copy / datasheet bandwidth)_ref
        compute scale   = (FP8 GEMM / datasheet FP8 peak)_device / (same)_ref

    or, where the two share no FP8 figure, the same ratio of FP16 GEMMs over the dense BF16
    peak (the A100, which has no FP8 units: its FP16 figure against the reference's in the
    same harness). A device (or reference) without a measured figure in the same harness gets
    1 (the reference shares, an assumption). The compute ratio scales every matmul precision
    and attention alike.

    Parameters
    ----------
    hardware : str, pandas.Series, Mapping or pandas.DataFrame
        As :func:`resolve_hardware` returns it; a row's name (or its ``name`` field) is the key.
    reference : str
        The device the constants were fitted on.

    Returns
    -------
    (bandwidth_scale, flop_scale) : float or ndarray
        One value per device (an array for a table). [ratio]

    References
    ----------
    Microsoft Azure, AI-benchmarking-guide, ``Azure_Results/ND_*_results.md`` (BabelStream copy,
    cuBLASLt / hipBLASLt FP8 GEMM; FP16 on the A100); the H200's FP16 GEMM in the same harness,
    run here by ``tests/benchmarks/gpu_cublaslt.py`` (``data/gpu_runs/h200-2026-12-03-cublaslt``).
    """
    if isinstance(hardware, pd.DataFrame):
        pairs = [device_share_scales(r, reference) for _, r in hardware.iterrows()]
        return (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    if isinstance(hardware, str):
        key = hardware
    elif isinstance(hardware, pd.Series):
        key = str(hardware.get("name", hardware.name))
    else:
        key = str(hardware.get("name", ""))
    stamps = tuple(data.stamp(t) for t in ("device_microbenchmarks", "hardware"))
    return _share_scales(key, reference, stamps)


@functools.lru_cache(maxsize=256)
def _share_scales(key, reference, _stamps):
    return _measured_scales(data.load("device_microbenchmarks"), data.load("hardware"), key,
                            reference)


def _measured_scales(bench, hw, key, reference):
    """(bandwidth, compute) scales of ``key`` against ``reference`` from a microbenchmark
    table and the hardware table (:func:`device_share_scales`): each device's best figure
    per harness over its datasheet figure, the first column pair both devices have in one
    harness, else 1."""
    if key not in hw.index or reference not in hw.index:
        return 1.0, 1.0

    def frac(dev, col, peak_col):
        rows = bench[bench["hardware"] == dev]
        best = rows.groupby("harness")[col].max().dropna()
        return best / float(hw.loc[dev, peak_col])

    def scale(columns):
        for col, peak_col in columns:
            dev, ref = frac(key, col, peak_col), frac(reference, col, peak_col)
            both = dev.index.intersection(ref.index)
            if len(both):
                return float((dev[both] / ref[both]).iloc[0])
        return 1.0

    return scale(_COPY_COLUMNS), scale(_GEMM_COLUMNS)


#: (measured column, datasheet column) of data/device_microbenchmarks.csv: the copy rate, and
#: the GEMM rates in the order :func:`device_share_scales` tries them (FP16 against the dense
#: BF16 peak: the two rates are equal on every device the table lists).
_COPY_COLUMNS = (("copy_bytes_per_s", "memory_bytes_per_s"),)
_GEMM_COLUMNS = (("gemm_fp8_flop_per_s", "peak_fp8_flop_per_s"),
                 ("gemm_fp16_flop_per_s", "peak_bf16_flop_per_s"))


def recorded_device_key(machine):
    """The ``data/hardware.csv`` key of a recorded machine (its key in
    ``data/gpu_machines.csv``), from its GPU's name; a ValueError names a machine the table
    does not list."""
    machines = data.load("gpu_machines")
    if machine not in machines.index:
        raise ValueError(f"recorded machine {machine!r}: data/gpu_machines.csv does not list it")
    name = str(machines.loc[machine].get("gpu_name", "")).lower()
    for key, word in (("h200-sxm", "h200"), ("h100-sxm", "h100"), ("b200", "b200")):
        if word in name:
            return key
    raise ValueError(f"no hardware row for the recorded machine {machine!r} ({name!r})")


def device_calibration(cal, hardware, reference=REFERENCE_HARDWARE):
    """``cal`` with its bandwidth and compute shares scaled to ``hardware``
    (:func:`device_share_scales`); unchanged for the reference device. A scaled share is
    capped at 1."""
    bw_scale, flop_scale = device_share_scales(hardware, reference)
    if np.ndim(bw_scale) == 0 and bw_scale == 1.0 and flop_scale == 1.0:
        return cal
    return dataclasses.replace(
        cal,
        gemm_bandwidth_frac=np.minimum(cal.gemm_bandwidth_frac * bw_scale, 1.0),
        attention_bandwidth_frac=np.minimum(cal.attention_bandwidth_frac * bw_scale, 1.0),
        gemm_flop_frac=np.minimum(cal.gemm_flop_frac * flop_scale, 1.0),
        attention_flop_frac=np.minimum(cal.attention_flop_frac * flop_scale, 1.0))


# --- closed forms the engine uses --------------------------------------------------------------

def max_load_ratio(mean_load, n_bins):
    """Expected load of the busiest of ``n_bins`` devices over the mean load.

    ``1 + sqrt(2 ln(n) / m)`` for ``m`` balls per bin on average (balls into bins [4]_);
    1 for one bin. Vectorized; ``mean_load`` > 0. [ratio]
    """
    m = np.maximum(np.asarray(mean_load, dtype=float), 1e-300)
    n = np.asarray(n_bins, dtype=float)
    return np.where(n > 1, 1.0 + np.sqrt(2.0 * np.log(np.maximum(n, 1.0)) / m), 1.0)


def busiest_touched_experts(touched, slots, n_devices):
    """Expected experts the busiest of ``n_devices`` expert-parallel devices reads.

    Each device holds ``slots`` routed experts, of which ``touched`` are picked on average
    by the step's tokens. A device's count is taken as binomial (``slots`` experts, each
    picked with probability ``p = touched / slots``, independently across devices), and the
    expected largest of ``n`` such counts is exact: ``sum_{j < slots} (1 - F(j)^n)``, ``F``
    the binomial distribution function. In a memory-bound decode step the group waits for
    the device that reads the most expert weights; the mean device reads ``touched``.
    Within 1% of simulated uniform top-k routing from 1 token on 64 devices to 64 tokens on
    2 (``tests/test_engine.py``); independence fails only where a group's picks are a
    handful of experts (one token, top-1, one expert per device: 0.64 against 1). Slots
    between whole numbers interpolate linearly; where
    ``p`` is so close to 1 that ``(1 - p)^slots`` underflows, every expert is read.

    Parameters
    ----------
    touched : numeric
        Mean picked experts per device. [-]
    slots : numeric
        Experts one device holds (redundant copies included). [-]
    n_devices : int
        Devices of the expert-parallel group. [-]

    Returns
    -------
    numpy.ndarray
        Expected picked experts of the busiest device, between ``touched`` and ``slots``;
        ``touched`` for one device. [-]
    """
    t, s = np.broadcast_arrays(np.asarray(touched, dtype=float), np.asarray(slots, dtype=float))
    n = max(float(n_devices), 1.0)
    p = np.clip(t / np.where(s > 0, s, 1.0), 0.0, 1.0)

    def exact(whole):
        q = 1.0 - p
        pmf = q ** whole                          # P(count = 0)
        cdf, out = pmf.copy(), np.zeros_like(p)
        ratio = p / np.where(q > 0, q, 1.0)
        for j in range(int(whole.max(initial=0.0))):
            out += np.where(j < whole, 1.0 - cdf ** n, 0.0)
            pmf = pmf * np.maximum(whole - j, 0.0) / (j + 1.0) * ratio
            cdf = np.minimum(cdf + pmf, 1.0)
        # (1 - p)^slots underflows only when nearly every expert is picked
        return np.where(q ** whole > 1e-300, out, whole)

    lo, hi = np.floor(s), np.ceil(s)
    frac = s - lo
    out = exact(lo) if not np.any(frac) else (1.0 - frac) * exact(lo) + frac * exact(hi)
    return np.where(n > 1.0, np.clip(out, t, np.maximum(s, t)), t)


def touched_experts(n_routed_experts, n_active_experts, n_tokens):
    """Expected distinct experts ``n_tokens`` pick (``E (1 - (1 - k/E)^n)``). [-]"""
    e = np.asarray(n_routed_experts, dtype=float)
    safe = np.where(e > 0, e, 1.0)
    return np.where(e > 0, safe * (1.0 - (1.0 - n_active_experts / safe) ** n_tokens), 0.0)


def nodes_touched(n_active_experts, n_nodes, max_nodes=None):
    """Expected distinct nodes a token's ``k`` experts sit on: ``N (1 - (1 - 1/N)^k)``,
    capped at ``max_nodes`` (node-limited routing). Vectorized; ``n_nodes`` >= 1. [nodes]"""
    n = np.asarray(n_nodes, dtype=float)
    out = n * (1.0 - (1.0 - 1.0 / n) ** np.asarray(n_active_experts, dtype=float))
    return out if max_nodes is None else np.minimum(out, max_nodes)


#: Bytes one fused activation-quantization kernel moves per element: reads it in BF16 (2),
#: writes its 1-byte FP8 code (an FP4 code is half a byte: counted as FP8's, a bound).
FUSED_ACT_QUANT_BYTES_PER_ELEM = 3.0


def tokens_per_step(acceptance_frac, draft_depth):
    """Expected tokens a verify step keeps: ``(1 - a^(k+1)) / (1 - a)``, ``k + 1`` at a=1."""
    a = np.asarray(acceptance_frac, dtype=float)
    k = np.asarray(draft_depth, dtype=float)
    safe = np.where(a < 1.0, a, 0.0)
    return np.where(a < 1.0, (1.0 - safe ** (k + 1.0)) / (1.0 - safe), k + 1.0)


def _gemm_s(weight_bytes, flop, bw, peak, cal):
    """(memory, compute) parts of a weight-streaming matmul's additive roofline. [s]"""
    return weight_bytes / (bw * cal.gemm_bandwidth_frac), flop / (peak * cal.gemm_flop_frac)


def _quantized_input_elems(m, t_attn, t_group, routed_tok, assignments, shard, tp, tp_attn,
                           fused):
    """Input elements one device quantizes in separate kernels in a step with quantized
    matmuls. Always: the attention output before its projection (split over ``tp_attn``)
    for the device's ``t_attn`` tokens, and the routed experts' ``routed_tok`` tokens once
    before their first product (expert parallel: each device its own before the dispatch,
    or all of them without data-parallel attention; experts split over the group: the
    tokens gathered from it). Unless ``fused`` (quantized inside the norm or activation that
    produces them, no bytes of their own): the attention inputs every rank holds whole (QKV;
    MLA's down projections and query up), dense FFNs' and shared experts' gate-up (whole)
    and down (split over ``tp``) for the ``t_group`` tokens of the device's group, and the
    intermediates of the device's ``assignments`` before the routed experts' second product
    (an expert's width times ``shard``). [elements]"""
    elems = t_attn * m.n_layers * m.attn_quant_in_split / tp_attn \
        + m.moe_layers * routed_tok * m.hidden_dim
    if fused:
        return elems
    ffn_width = m.dense_ffn_params / (3.0 * m.hidden_dim)      # summed over the blocks
    moe_width = m.params_per_expert / (3.0 * m.hidden_dim) if m.moe else 0.0
    return (elems + t_attn * m.n_layers * m.attn_quant_in_whole
            + t_group * (m.ffn_blocks * m.hidden_dim + ffn_width / tp)
            + m.moe_layers * assignments * moe_width * shard)


# --- the engine --------------------------------------------------------------------------------

def forward_step(spec, *, bw, peak_mm, peak_attn, weight_bytes_per_param, kv_bytes_per_elem,
                 n_sequences, context_tok, phase="decode", tok_per_seq=1.0, tp=1, ep=1,
                 dp_attention=False, experts_per_device=None, load_imbalance=True,
                 even_kv=False, act_quant_bytes_per_elem=0.0, act_quant_kernel_s=None,
                 act_quant_fused=True, cal):
    """Time of one forward step per device, by part (the engine behind every prediction).

    Parameters
    ----------
    spec : ModelSpec
    bw, peak_mm, peak_attn : numeric
        One device's HBM bandwidth [bytes/s], dense peak at the matmul precision and at
        BF16 (attention) [FLOP/s].
    weight_bytes_per_param, kv_bytes_per_elem : numeric
        Storage bytes of a weight and of a cached element. [bytes]
    n_sequences : numeric
        Sequences whose attention one device runs: the whole batch of a tensor-parallel
        group, or the device's own share with ``dp_attention``. [-]
    context_tok : numeric
        Mean context each token attends to: the KV length in decode; in prefill
        ``(prompt + 1) / 2`` for a causal prompt from scratch. [tokens]
    phase : {"decode", "prefill"}
        Decode reads the cache and runs the absorbed (MLA) attention; prefill writes the
        cache, materialises keys and values per head, and runs the LM head on one token per
        sequence.
    tok_per_seq : numeric, default 1
        Tokens each sequence puts through the step: ``1 + draft depth`` in decode, the
        prompt in prefill. [tokens]
    tp, ep : int
        Tensor-parallel and expert-parallel group sizes. [-]
    dp_attention : bool
        Attention data parallel (each device its own sequences): the dense FFNs then see the
        tokens of their ``tp`` group and the routed experts those of the larger of the ``tp``
        and ``ep`` groups; without
        it every device of the group sees the same tokens.
    experts_per_device : numeric, optional
        Routed-expert slots one device holds (redundant copies included); default
        ``n_routed_experts / ep``.
    load_imbalance : bool
        Charge routed experts the busiest device of the expert-parallel group: its expected
        token load (:func:`max_load_ratio`, the FLOP term) and its expected count of picked
        experts (:func:`busiest_touched_experts`, the weight bytes). False: the mean device
        (one device measured alone, as the step harness runs it).
    even_kv : bool, default False
        Split the cache evenly over ``tp`` (devices beyond the KV heads take layers, as
        pipeline stages) instead of copying KV heads the way tensor parallelism does.
    act_quant_bytes_per_elem : float, default 0
        Bytes a quantization kernel moves per input element of a quantized matmul (FP8, FP4
        or INT8 matmuls): 3 for one fused kernel (:data:`FUSED_ACT_QUANT_BYTES_PER_ELEM`:
        read BF16, write the 1-byte code); 0 for BF16 matmuls (no quantization charged).
        Each quantization kernel then costs ``act_quant_kernel_s``, and the inputs it
        quantizes on this device (:func:`_quantized_input_elems`) these bytes at the
        matmul bandwidth share. [bytes]
    act_quant_kernel_s : float, optional
        Fixed time of one quantization kernel; default ``cal.act_quant_kernel_s`` (one fused
        kernel, measured). [s]
    act_quant_fused : bool, default True
        Serving engines quantize an input inside the norm or activation that produces it,
        which leaves :attr:`ModelSpec.unfused_quantizations_per_step` kernels of their own;
        False: every one of :attr:`ModelSpec.quantized_matmuls_per_step` runs its own (the
        project's step harness).
    cal : Calibration

    Returns
    -------
    dict of arrays
        Per device: ``tokens`` (through its attention), ``weight_read_bytes`` (the busiest
        device's with ``load_imbalance``),
        ``kv_bytes`` (read in decode, written in prefill), ``attention_flop``,
        ``matmul_flop``, ``flop`` [FLOP], ``experts_touched_count`` (per MoE layer, the mean
        device's),
        ``load_imbalance_ratio``; the parts ``dense_s``, ``experts_s`` (and their FLOP
        terms ``dense_compute_s``, ``experts_compute_s``), ``attention_s``,
        ``fixed_s``, ``act_quant_s`` (quantizing the matmuls' inputs; its byte part
        ``act_quant_memory_s``) and their sum ``step_s``; ``memory_s`` and ``compute_s``
        (the byte and FLOP terms of all parts), ``weight_memory_s`` and ``kv_memory_s``
        (the byte terms of the weights and of the cache) [s]; ``*_bound_compute`` (bool, per
        part).
    """
    m = spec
    b = np.asarray(n_sequences, dtype=float)
    ctx = np.asarray(context_tok, dtype=float)
    wb, kvb = weight_bytes_per_param, kv_bytes_per_elem
    tp_attn = 1.0 if dp_attention else tp
    # sequences whose attention one device runs, and tokens through its matmuls
    b_dev = b
    t_attn = b_dev * tok_per_seq
    head_rows = (t_attn if phase == "decode" else b_dev) * (tp if dp_attention else 1.0)
    # tokens through the tensor-parallel FFNs and through the expert-parallel group
    t_group = t_attn * tp if dp_attention else t_attn
    t_ep = t_attn * np.maximum(tp, ep) if dp_attention else t_attn
    kv_heads_dev = np.maximum(m.n_kv_heads / tp_attn, 1.0) if m.attention_kind != "mla" else 1.0
    kv_per_tok_dev = m.n_layers * m.kv_elems_per_layer * kv_heads_dev / m.n_kv_heads * kvb
    if even_kv:
        # devices beyond the KV heads split the layers (pipeline stages), not copy the heads
        kv_per_tok_dev = m.n_layers * m.kv_elems_per_layer * kvb / tp_attn

    # dense matmuls: attention projections, dense FFNs and shared experts, LM head
    attn_w = m.attention_params / tp_attn
    ffn_w = m.dense_ffn_params / tp
    head_w = m.lm_head_params / tp
    dense_bytes = (attn_w + ffn_w + head_w) * wb
    dense_flop = 2.0 * (t_attn * attn_w + t_group * ffn_w + head_rows * head_w)
    dense_mem_s, dense_cmp_s = _gemm_s(dense_bytes, dense_flop, bw, peak_mm, cal)

    # routed experts: a device's slots (expert parallel) or a 1/tp slice of each expert
    if m.moe:
        touched_all = touched_experts(m.n_routed_experts, m.n_active_experts, t_ep)
        if ep > 1:
            slots = m.n_routed_experts / ep if experts_per_device is None \
                else experts_per_device
            touched = touched_all / m.n_routed_experts * slots
            assignments = t_ep * m.n_active_experts / ep
            # more devices than expert groups: each expert split over tp/ep of them
            shard = ep / np.maximum(tp, ep)
        else:
            touched, assignments, shard = touched_all, t_ep * m.n_active_experts, 1.0 / tp
        imb = max_load_ratio(assignments, ep) if load_imbalance \
            else np.ones_like(assignments)
        # the group waits for its busiest device: it also reads more of its experts
        read = busiest_touched_experts(touched, slots, ep) if (ep > 1 and load_imbalance) \
            else touched
        exp_bytes = read * m.moe_layers * m.params_per_expert * wb * shard
        exp_flop = 2.0 * assignments * m.moe_layers * m.params_per_expert * shard
        # the group waits for its busiest device: its load sets the FLOP time
        exp_mem_s, exp_cmp_s = _gemm_s(exp_bytes / cal.grouped_gemm_frac,
                                       imb * exp_flop / cal.grouped_gemm_frac, bw, peak_mm, cal)
    else:
        touched = np.zeros(())
        imb = np.ones(())
        assignments = shard = 0.0
        exp_bytes = exp_flop = exp_mem_s = exp_cmp_s = 0.0 * t_attn

    # attention over the cache (BF16 rate whatever the matmul precision)
    if phase == "decode":
        kv_bytes = b_dev * ctx * kv_per_tok_dev
        attn_flop = t_attn * ctx * m.attn_flop_decode / tp_attn
        units = b_dev * kv_heads_dev
        eta = cal.attention_bandwidth_frac * units / np.maximum(
            units + cal.attention_half_occupancy_count, 1e-300)
        attn_mem_s = np.where(units > 0, kv_bytes / (bw * np.where(units > 0, eta, 1.0)), 0.0)
    else:
        kv_bytes = t_attn * kv_per_tok_dev
        attn_flop = t_attn * ctx * m.attn_flop_prefill / tp_attn
        attn_mem_s = kv_bytes / (bw * cal.gemm_bandwidth_frac)
    attn_cmp_s = attn_flop / (peak_attn * cal.attention_flop_frac)
    zero = 0.0 * t_attn
    dense_s = dense_mem_s + dense_cmp_s
    experts_s = exp_mem_s + exp_cmp_s + zero
    attention_s = attn_mem_s + attn_cmp_s
    fixed_s = m.kernels_per_step * cal.kernel_fixed_s + zero
    # quantized matmuls: each first quantizes its input (a kernel, and its bytes)
    qb = float(nonnegative("act_quant_bytes_per_elem", act_quant_bytes_per_elem))
    if qb > 0:
        q_fixed = cal.act_quant_kernel_s if act_quant_kernel_s is None \
            else float(nonnegative("act_quant_kernel_s", act_quant_kernel_s))
        if not isinstance(act_quant_fused, (bool, np.bool_)):
            raise ValueError(f"act_quant_fused must be True or False, got {act_quant_fused!r}")
        routed_tok = t_attn if ep > 1 else t_ep
        q_elems = _quantized_input_elems(m, t_attn, t_group, routed_tok, assignments, shard,
                                         tp, tp_attn, act_quant_fused)
        n_kernels = m.unfused_quantizations_per_step if act_quant_fused \
            else m.quantized_matmuls_per_step
        quant_mem_s = q_elems * qb / (bw * cal.gemm_bandwidth_frac)
        quant_s = n_kernels * q_fixed + quant_mem_s + zero
    else:
        quant_mem_s = quant_s = zero
    memory_s = dense_mem_s + exp_mem_s + attn_mem_s
    compute_s = dense_cmp_s + exp_cmp_s + attn_cmp_s
    return dict(tokens=t_attn + zero, weight_read_bytes=dense_bytes + exp_bytes + zero,
                kv_bytes=kv_bytes, attention_flop=attn_flop + zero,
                matmul_flop=dense_flop + exp_flop + zero, flop=dense_flop + exp_flop + attn_flop,
                experts_touched_count=touched, load_imbalance_ratio=imb,
                dense_s=dense_s, experts_s=experts_s, attention_s=attention_s,
                dense_compute_s=dense_cmp_s + zero, experts_compute_s=exp_cmp_s + zero,
                dense_bound_compute=dense_cmp_s >= dense_mem_s,
                experts_bound_compute=exp_cmp_s >= exp_mem_s,
                attention_bound_compute=attn_cmp_s >= attn_mem_s,
                weight_memory_s=dense_mem_s + exp_mem_s + zero, kv_memory_s=attn_mem_s,
                fixed_s=fixed_s, act_quant_s=quant_s, act_quant_memory_s=quant_mem_s,
                memory_s=memory_s + zero,
                compute_s=compute_s + zero,
                step_s=dense_s + experts_s + attention_s + fixed_s + quant_s)


def held_bytes_per_device(spec, weight_bytes_per_param, *, tp=1, ep=1, dp_attention=False,
                          experts_per_device=None):
    """Weight bytes one device holds in a layout (embedding and head split over ``tp``).

    Attention weights: whole with ``dp_attention``, else ``1/tp``; dense FFNs, embedding
    and head ``1/tp``; routed experts ``1/max(ep, tp)`` (an expert group of ``ep < tp``
    devices splits each expert over ``tp / ep`` of them);
    MTP modules as one more layer each. [bytes]
    """
    m = spec
    tp_attn = 1.0 if dp_attention else tp
    if experts_per_device is not None:
        experts = experts_per_device * m.moe_layers * m.params_per_expert
    else:
        experts = m.routed_params / np.maximum(ep, tp)
    head = 0.0 if m.tied_embeddings else m.lm_head_params
    body = (m.attention_params / tp_attn
            + (m.dense_ffn_params + m.embedding_params + head) / tp + experts)
    return body * (1.0 + m.n_mtp_modules / m.n_layers) * weight_bytes_per_param


def kv_bytes_per_token_per_device(spec, kv_bytes_per_elem, *, tp=1, dp_attention=False):
    """KV-cache bytes one token adds on one device (KV heads split over ``tp``, an MLA
    latent replicated). [bytes]"""
    m = spec
    tp_attn = 1.0 if dp_attention else tp
    if m.attention_kind == "mla":
        share = 1.0
    else:
        share = np.maximum(m.n_kv_heads / tp_attn, 1.0) / m.n_kv_heads
    return m.n_layers * m.kv_elems_per_layer * share * kv_bytes_per_elem
