"""Time whole forward steps of real architectures on one GPU, and write them as data.

Run once on a GPU machine (the device tool), from the repository root:

    PYTHONUNBUFFERED=1 python3 tests/benchmarks/gpu_steps.py --out "$OUT" --budget-s 480

What it times, each step captured in a CUDA graph and replayed (CUDA events around
each replay, warm-up first, median of many replays), with random weights and caches
(normal, never zeros):

- Llama-3.1-8B whole (32 layers: embedding, RMSNorm, fused QKV projection, rotary,
  KV-cache write, GQA attention over the cache through PyTorch's
  ``scaled_dot_product_attention`` on the flash or memory-efficient backend, o-proj,
  SwiGLU MLP, residuals, final norm, lm_head over 128256 tokens);
- Llama-3.1-70B as a slice of 8 of its 80 layers (no lm_head) at the per-GPU shapes of
  tensor parallelism tp = 1, 2, 4, 8 (heads/tp, kv heads/tp with at least one, ffn/tp;
  no communication: the per-GPU compute of a tensor-parallel step);
- DeepSeek-V3-shaped slices of one dense layer (ffn 18432) and some MoE layers (256
  routed experts of ffn 2048, top-8, one shared expert): MLA decode in the absorbed form
  over a latent cache of 576 per token through batched matmuls (``torch.bmm``), prefill
  in the plain form with causal fused attention; the routed experts through
  ``torch._grouped_mm`` (a per-expert loop where it is missing) at the per-GPU shapes of
  expert parallelism ep = 8 (32 local experts) and ep = 1 (all 256); the tokens that reach
  the local experts follow uniform random top-8 routing of the global batch (per-GPU
  batch x ep tokens under data-parallel attention);
- BF16 weights, and FP8 (e4m3) weights through ``torch._scaled_mm`` with row-wise scales
  and dynamic per-row activation quantization inside the graph; KV cache BF16;
- decode at batch 1..256 x context 1k, 4k, 16k (where memory allows), prefill of 512,
  2k and 8k tokens at batch 1 and 4 x 2k;
- the attention alone and the MoE alone at the same shapes (phases ``decode_attention``
  and ``decode_moe``);
- with ``--only large-batch`` (and ``--tag large``), BF16 decode at batch 512 and 1024 of
  the architectures and layouts the step fit uses;
- with ``--only qwen3`` (and ``--tag qwen3``, so a second run on one day gets its own
  machine key), Qwen3-MoE steps instead, BF16: GQA attention as Llama's and 128 routed
  experts of top-8 with softmax gating and no shared expert; Qwen3-30B-A3B whole (48
  layers and lm_head) on one GPU, and slices of 4 of Qwen3-235B-A22B's layers at tp = 8
  (heads and every expert's width split by 8, all experts local: engines' default for MoE
  without expert parallelism) and at ep = 8 (16 whole experts local, data-parallel
  attention); decode at batch 1..1024.

Before timing, the step's output is checked against a float32 reference of the same
inputs on one small case per architecture, phase and precision (relative error logged
and written to ``check_rel_error_ratio``); a NaN anywhere stops that case loudly.

It writes, under ``--out``: ``gpu_steps.csv`` (the layout of ``data/gpu_steps.csv``),
``gpu_machines.csv`` (one row in the layout of ``data/gpu_machines.csv``),
``machine.json`` and ``log.txt``, rewritten after every case so a run cut short keeps
what it measured. ``--budget-s`` bounds the run: cases left when it is spent are skipped
and logged. ``--quick`` runs tiny shapes (PyTorch on the CPU is enough), to check the
script; ``--smoke`` runs the checks and one shape of each section at real widths.

The numbers it writes are measurements: commit them as they come, never edit them.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path


def _repo_root():
    """The folder holding econ/ and tests/benchmarks/gpu_measure.py (also from a copy of this
    file)."""
    here = Path(__file__).resolve().parent
    for p in (here, *here.parents):
        if (p / "tests" / "benchmarks" / "gpu_measure.py").exists() and (p / "econ").is_dir():
            return p
    for p in (Path.cwd(), *Path.cwd().parents):
        if (p / "tests" / "benchmarks" / "gpu_measure.py").exists():
            return p
    raise SystemExit("cannot find the repository root (tests/benchmarks/gpu_measure.py)")


ROOT = _repo_root()
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
import gpu_measure as GM  # noqa: E402  (machine metadata, shared with the kernel timings)

SCRIPT = "tests/benchmarks/gpu_steps.py"
LOG_LINES: list[str] = []
L2_ROTATE_BYTES = 256 * 2**20  # isolated kernels: at least this much distinct data per replay

COLUMNS = [
    "name", "machine", "arch", "phase", "weight_precision", "kv_precision", "tp", "ep",
    "n_layers_timed", "n_dense_layers_timed", "n_moe_layers_timed", "lm_head_included",
    "n_sequences", "context_tok", "tokens_per_step", "local_experts", "routed_tok_local",
    "experts_touched_local", "median_s", "p10_s", "p90_s", "n_replays", "attention_impl",
    "gemm_impl", "moe_impl", "check_rel_error_ratio", "source_url", "source_date",
    "source_kind", "notes",
]


def log(msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    LOG_LINES.append(line)


# ----------------------------------------------------------------------------------------
# configurations (from data/models.csv; the run does not read econ so it only needs torch)
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DenseCfg:
    arch: str
    hidden: int
    n_heads: int
    n_kv: int
    head_dim: int
    ffn: int
    vocab: int
    n_layers: int
    rope_theta: float = 500000.0


@dataclass(frozen=True)
class MlaCfg:
    arch: str
    hidden: int
    n_heads: int
    q_lora: int
    kv_lora: int
    nope: int
    rope: int
    v_dim: int
    n_experts: int
    top_k: int
    moe_ffn: int
    n_shared: int
    dense_ffn: int
    rope_theta: float = 10000.0


@dataclass(frozen=True)
class GqaMoeCfg:
    arch: str
    hidden: int
    n_heads: int
    n_kv: int
    head_dim: int
    n_experts: int
    top_k: int
    moe_ffn: int
    vocab: int
    n_layers: int
    rope_theta: float = 1000000.0
    n_shared: int = 0


LLAMA_8B = DenseCfg("llama-3.1-8b", 4096, 32, 8, 128, 14336, 128256, 32)
LLAMA_70B = DenseCfg("llama-3.1-70b", 8192, 64, 8, 128, 28672, 128256, 80)
DSV3 = MlaCfg("deepseek-v3", 7168, 128, 1536, 512, 128, 64, 128, 256, 8, 2048, 1, 18432)

QWEN3_30B = GqaMoeCfg("qwen3-30b-a3b", 2048, 32, 4, 128, 128, 8, 768, 151936, 48)
QWEN3_235B = GqaMoeCfg("qwen3-235b-a22b-2507", 4096, 64, 4, 128, 128, 8, 1536, 151936, 94)
TINY_8B = DenseCfg("llama-3.1-8b", 64, 4, 2, 16, 128, 512, 2)
TINY_Q30 = GqaMoeCfg("qwen3-30b-a3b", 64, 4, 2, 16, 16, 4, 32, 512, 2)
TINY_Q235 = GqaMoeCfg("qwen3-235b-a22b-2507", 128, 8, 2, 16, 16, 4, 64, 512, 2)
TINY_70B = DenseCfg("llama-3.1-70b", 128, 8, 2, 16, 256, 512, 4)
TINY_V3 = MlaCfg("deepseek-v3", 64, 4, 32, 32, 16, 16, 16, 16, 4, 32, 1, 128)


# ----------------------------------------------------------------------------------------
# torch helpers
# ----------------------------------------------------------------------------------------

class Env:
    """Device, dtypes and the kernels found to work on this machine."""

    def __init__(self, quick):
        import torch
        self.torch = torch
        self.cuda = torch.cuda.is_available()
        self.dev = torch.device("cuda" if self.cuda else "cpu")
        self.quick = quick
        self.bf16 = torch.bfloat16
        self.fp8 = getattr(torch, "float8_e4m3fn", None)
        self.gen = torch.Generator(device=self.dev)
        self.gen.manual_seed(1234)
        self.fp8_mode = None        # "rowwise", "rowwise-pad16", "tensorwise", "emulated"
        self.grouped_mode = None    # "grouped", "grouped-pad16", "loop"
        self.grouped_fp8_mode = None
        self.backends = {}          # attention kind -> (backend or None, extra)

    def randn(self, shape, std=1.0, dtype=None):
        t = self.torch.empty(shape, device=self.dev, dtype=dtype or self.bf16)
        t.normal_(0.0, std, generator=self.gen)
        return t

    def free(self):
        import gc
        gc.collect()
        if self.cuda:
            self.torch.cuda.synchronize()
            self.torch.cuda.empty_cache()

    def free_bytes(self):
        if not self.cuda:
            return 8 * 2**30
        return self.torch.cuda.mem_get_info()[0]


def rel_err(out, ref):
    out = out.float()
    ref = ref.float()
    return float((out - ref).norm() / ref.norm())


def assert_finite(t, what):
    if not bool(t.float().isfinite().all()):
        raise FloatingPointError(f"NaN or Inf in the output of {what}")


# ---- linear layers ------------------------------------------------------------------------

class Lin:
    """y = x W^T, W [n_out, n_in] random normal / sqrt(n_in); BF16 or FP8 (e4m3, row-wise
    scales)."""

    def __init__(self, E, n_out, n_in, prec, keep_ref=False):
        torch = E.torch
        self.E, self.n_out, self.n_in, self.prec = E, n_out, n_in, prec
        self.mode = E.fp8_mode
        w = E.randn((n_out, n_in), std=n_in ** -0.5)
        self.w_ref = w if keep_ref else None
        if prec == "bf16":
            self.w = w
        else:
            amax = w.abs().amax(dim=1, keepdim=True).float().clamp_min(1e-12)
            scale = amax / 448.0
            self.wq = (w.float() / scale).to(E.fp8)
            self.sw = scale.t().contiguous()  # [1, n_out]
            if self.mode == "tensorwise":
                s = float(amax.max()) / 448.0
                self.wq = (w.float() / s).to(E.fp8)
                self.sw = torch.tensor(s, device=E.dev, dtype=torch.float32)
            del w

    def nbytes(self):
        return self.n_out * self.n_in * (2 if self.prec == "bf16" else 1)

    def __call__(self, x, ref=False):
        torch = self.E.torch
        F = torch.nn.functional
        if ref:
            return F.linear(x.float(), self.w_ref.float())
        if self.prec == "bf16":
            return F.linear(x, self.w)
        shp = x.shape
        x2 = x.reshape(-1, self.n_in)
        return fp8_linear(self.E, x2, self.wq, self.sw, self.mode).reshape(*shp[:-1], self.n_out)


def fp8_linear(E, x2, wq, sw, mode=None):
    """Dynamic e4m3 quantization of x2 (per row, or per tensor), then torch._scaled_mm."""
    torch = E.torch
    mode = mode or E.fp8_mode
    if mode == "tensorwise":
        amax = x2.abs().amax().float().clamp_min(1e-12)
        sa = amax / 448.0
        xq = (x2.float() / sa).to(E.fp8)
        return torch._scaled_mm(xq, wq.t(), scale_a=sa, scale_b=sw, out_dtype=E.bf16)
    amax = x2.abs().amax(dim=-1, keepdim=True).float().clamp_min(1e-12)
    sa = amax / 448.0
    xq = (x2.float() / sa).to(E.fp8)
    if mode == "emulated":
        return ((xq.float() * sa) @ (wq.float() * sw).t()).to(E.bf16)
    m = xq.shape[0]
    if mode == "rowwise-pad16" and m % 16:
        pad = 16 - m % 16
        xq = torch.cat([xq, xq.new_zeros((pad, xq.shape[1]))])
        sa = torch.cat([sa, sa.new_ones((pad, 1))])
        return torch._scaled_mm(xq, wq.t(), scale_a=sa, scale_b=sw, out_dtype=E.bf16)[:m]
    return torch._scaled_mm(xq, wq.t(), scale_a=sa, scale_b=sw, out_dtype=E.bf16)


def probe_fp8(E):
    """Find how torch._scaled_mm works here: row-wise at any row count, padded, per-tensor."""
    torch = E.torch
    if E.fp8 is None:
        E.fp8_mode = "unavailable"
        return
    n, k = 256, 512
    w = E.randn((n, k), std=k ** -0.5)
    ref_x = E.randn((1, k))
    ref = ref_x.float() @ w.float().t()
    for mode in ("rowwise", "rowwise-pad16", "tensorwise", "emulated"):
        E.fp8_mode = mode
        try:
            amax = w.abs().amax(dim=1, keepdim=True).float().clamp_min(1e-12)
            if mode == "tensorwise":
                s = float(amax.max()) / 448.0
                wq, sw = (w.float() / s).to(E.fp8), torch.tensor(s, device=E.dev)
            else:
                wq, sw = (w.float() / (amax / 448)).to(E.fp8), (amax / 448).t().contiguous()
            out = fp8_linear(E, ref_x, wq, sw)
            err = rel_err(out, ref)
            if err < 0.1:
                log(f"   fp8 linear: mode {mode} works (rel err {err:.3g} at 1 row)")
                return
            log(f"   fp8 linear: mode {mode} wrong (rel err {err:.3g})")
        except Exception as exc:
            log(f"   fp8 linear: mode {mode} failed: {type(exc).__name__}: {str(exc)[:200]}")
    raise RuntimeError("no FP8 matrix product works here")


def fp8_impl(E, mode=None):
    return {"rowwise": "torch._scaled_mm e4m3, row-wise scales (per-row dynamic activation, "
                       "per-output-channel weight)",
            "rowwise-pad16": "torch._scaled_mm e4m3, row-wise scales, rows padded to 16",
            "tensorwise": "torch._scaled_mm e4m3, per-tensor scales (dynamic activation)",
            "emulated": "FP8 e4m3 emulated by dequantize + matmul (no _scaled_mm here)"}.get(
        mode or E.fp8_mode, str(mode or E.fp8_mode))


def gemm_impl(E, prec):
    if prec == "bf16":
        return "torch.nn.functional.linear bf16 (cuBLAS)" if E.cuda else "torch linear bf16 (CPU)"
    return fp8_impl(E) + "; activation quantization unfused (amax, scale, cast)"


def rms(E, x, w, ref=False):
    F = E.torch.nn.functional
    if ref:
        return F.rms_norm(x.float(), (x.shape[-1],), w.float(), 1e-5)
    return F.rms_norm(x, (x.shape[-1],), w, 1e-5)


def norm_w(E, d):
    return (1.0 + 0.1 * E.randn((d,))).to(E.bf16)


def rope_tables(E, positions, dim, theta):
    torch = E.torch
    inv = theta ** (-torch.arange(0, dim, 2, device=E.dev, dtype=torch.float32) / dim)
    pos = torch.as_tensor(positions, device=E.dev, dtype=torch.float32).reshape(-1, 1)
    ang = pos * inv
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    return cos, sin  # [P, dim] float32


def rope(E, x, cos, sin):
    """Rotate-half rotary embedding; cos/sin broadcast against x's last dim."""
    torch = E.torch
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    rot = torch.cat([-x2, x1], -1)
    return (x * cos.to(x.dtype) + rot * sin.to(x.dtype))


# ---- attention ------------------------------------------------------------------------------

def sdpa_backends(E):
    torch = E.torch
    try:
        from torch.nn.attention import SDPBackend
    except ImportError:
        return []
    return [("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION),
            ("cudnn", SDPBackend.CUDNN_ATTENTION)] if torch.cuda.is_available() else []


def run_sdpa(E, backend, q, k, v, **kw):
    torch = E.torch
    F = torch.nn.functional
    if backend is None:
        return F.scaled_dot_product_attention(q, k, v, **kw)
    from torch.nn.attention import sdpa_kernel
    with sdpa_kernel([backend[1]]):
        return F.scaled_dot_product_attention(q, k, v, **kw)


def pick_sdpa(E, kind, q, k, v, **kw):
    """First of flash, efficient, cuDNN that runs these inputs; remembered per kind."""
    if kind in E.backends:
        return E.backends[kind]
    choice = None
    for name, b in sdpa_backends(E):
        try:
            run_sdpa(E, (name, b), q, k, v, **kw)
            choice = (name, b)
            break
        except Exception as exc:
            log(f"   sdpa {kind}: backend {name} refused: {type(exc).__name__}: {str(exc)[:160]}")
    E.backends[kind] = choice
    log(f"   sdpa {kind}: using {choice[0] if choice else 'default dispatch (math on CPU)'}")
    return choice


def sdpa_name(E, kind):
    b = E.backends.get(kind)
    if not E.cuda:
        return "torch SDPA default (CPU)"
    return f"torch scaled_dot_product_attention, {b[0] if b else 'default'} backend"


def ref_attention(q, k, v, causal):
    """float32 attention with GQA expansion; q [B,H,Sq,D], k/v [B,Hkv,Sk,*]."""
    import torch
    q, k, v = q.float(), k.float(), v.float()
    g = q.shape[1] // k.shape[1]
    if g > 1:
        k = k.repeat_interleave(g, dim=1)
        v = v.repeat_interleave(g, dim=1)
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        sq, sk = s.shape[-2], s.shape[-1]
        mask = torch.ones(sq, sk, dtype=torch.bool, device=q.device).tril(sk - sq)
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, -1) @ v


# ----------------------------------------------------------------------------------------
# the dense GQA model (Llama-3.1)
# ----------------------------------------------------------------------------------------

class Dense:
    def __init__(self, E, cfg, tp, n_layers, prec, lm_head, keep_ref=False):
        self.E, self.cfg, self.tp, self.prec, self.lm = E, cfg, tp, prec, lm_head
        self.H = cfg.n_heads // tp
        self.Hkv = max(1, cfg.n_kv // tp)
        self.D = cfg.head_dim
        self.F = cfg.ffn // tp
        self.n_layers = n_layers
        h = cfg.hidden
        self.layers = []
        for _ in range(n_layers):
            self.layers.append(dict(
                n1=norm_w(E, h), n2=norm_w(E, h),
                qkv=Lin(E, (self.H + 2 * self.Hkv) * self.D, h, prec, keep_ref),
                o=Lin(E, h, self.H * self.D, prec, keep_ref),
                gu=Lin(E, 2 * self.F, h, prec, keep_ref),
                down=Lin(E, h, self.F, prec, keep_ref)))
        if lm_head:  # embedding and lm_head stay BF16 in both precisions
            self.embed = E.randn((cfg.vocab, h))
            self.nf = norm_w(E, h)
            self.head = Lin(E, cfg.vocab // tp, h, "bf16", keep_ref)

    def kv_bytes_per_tok(self):
        return self.n_layers * 2 * self.Hkv * self.D * 2

    def new_cache(self, B, L):
        """[n_layers, 2, B, Hkv, L, D] BF16, random normal."""
        return self.E.randn((self.n_layers, 2, B, self.Hkv, L, self.D))

    def inputs(self, B, S):
        E = self.E
        if self.lm:
            return E.torch.randint(0, self.cfg.vocab, (B, S), device=E.dev, generator=E.gen)
        return E.randn((B, S, self.cfg.hidden))

    def _embed(self, x, ref):
        if self.lm:
            x = self.embed[x]
        return x.float() if ref else x

    def _mlp(self, L, x, ref):
        h = rms(self.E, x, L["n2"], ref)
        gu = L["gu"](h, ref)
        g, u = gu.split(self.F, -1)
        return x + L["down"](self.E.torch.nn.functional.silu(g) * u, ref)

    def decode(self, ids, cache, ref=False):
        """One decode step: ids [B,1] (or hidden [B,1,h]); cache holds L tokens, the new one at
        L-1."""
        E = self.E
        B, Lc = cache.shape[2], cache.shape[4]
        H, Hkv, D = self.H, self.Hkv, self.D
        cos, sin = self._rope_dec
        x = self._embed(ids, ref).reshape(B, -1)
        for i, L in enumerate(self.layers):
            h = rms(E, x, L["n1"], ref)
            qkv = L["qkv"](h, ref)
            q = qkv[:, :H * D].view(B, H, D)
            k = qkv[:, H * D:(H + Hkv) * D].view(B, Hkv, D)
            v = qkv[:, (H + Hkv) * D:].view(B, Hkv, D)
            q, k = rope(E, q, cos, sin), rope(E, k, cos, sin)
            kc, vc = cache[i, 0], cache[i, 1]
            kc[:, :, Lc - 1] = k
            vc[:, :, Lc - 1] = v
            qg = q.view(B, Hkv, H // Hkv, D)  # the query heads of one KV head as a short query
            if ref:
                o = ref_attention(qg, kc, vc, causal=False)
            else:
                o = run_sdpa(E, E.backends.get("gqa_decode"), qg, kc, vc)
            x = x + L["o"](o.reshape(B, H * D), ref)
            x = self._mlp(L, x, ref)
        if self.lm:
            x = rms(E, x, self.nf, ref)
            return self.head(x, ref)
        return x

    def prefill(self, ids, cache, ref=False):
        """Prefill of S tokens per sequence, writing the cache [.., B, Hkv, S, D]; causal
        attention."""
        E = self.E
        B, S = ids.shape[0], ids.shape[1]
        H, Hkv, D = self.H, self.Hkv, self.D
        cos, sin = self._rope_pre  # [S, D]
        cos, sin = cos.view(1, S, 1, D), sin.view(1, S, 1, D)
        x = self._embed(ids, ref).reshape(B * S, -1)
        mode = E.backends.get("gqa_prefill_mode", "enable_gqa")
        for i, L in enumerate(self.layers):
            h = rms(E, x, L["n1"], ref)
            qkv = L["qkv"](h, ref)
            q = qkv[:, :H * D].view(B, S, H, D)
            k = qkv[:, H * D:(H + Hkv) * D].view(B, S, Hkv, D)
            v = qkv[:, (H + Hkv) * D:].view(B, S, Hkv, D)
            q, k = rope(E, q, cos, sin), rope(E, k, cos, sin)
            if ref:
                kc, vc = k.transpose(1, 2), v.transpose(1, 2)
                o = ref_attention(q.transpose(1, 2), kc, vc, causal=True)
            else:
                kc, vc = cache[i, 0], cache[i, 1]
                kc.copy_(k.transpose(1, 2))
                vc.copy_(v.transpose(1, 2))
                o = self._prefill_attn(q.transpose(1, 2), kc, vc, mode)
            x = x + L["o"](o.transpose(1, 2).reshape(B * S, H * D), ref)
            x = self._mlp(L, x, ref)
        if self.lm:  # logits of the last token of each sequence, as a serving engine does
            x = rms(E, x.view(B, S, -1)[:, -1], self.nf, ref)
            return self.head(x, ref)
        return x

    def _prefill_attn(self, q, kc, vc, mode):
        E = self.E
        b = E.backends.get("gqa_prefill")
        if mode == "enable_gqa" and self.H != self.Hkv:
            return run_sdpa(E, b, q, kc, vc, is_causal=True, enable_gqa=True)
        g = self.H // self.Hkv
        if g > 1:
            kc, vc = kc.repeat_interleave(g, 1), vc.repeat_interleave(g, 1)
        return run_sdpa(E, b, q, kc, vc, is_causal=True)

    def set_positions(self, L=None, S=None):
        if L is not None:
            c, s = rope_tables(self.E, [L - 1], self.D, self.cfg.rope_theta)
            self._rope_dec = (c.view(1, 1, -1), s.view(1, 1, -1))
        if S is not None:
            self._rope_pre = rope_tables(self.E, list(range(S)), self.D, self.cfg.rope_theta)

    def probe(self):
        """Choose the SDPA backends for decode and prefill on inputs of these shapes."""
        E = self.E
        if not E.cuda:
            E.backends.setdefault("gqa_prefill_mode", "enable_gqa")
            return
        H, Hkv, D = self.H, self.Hkv, self.D
        key = f"gqa_decode_g{H // Hkv}"
        q = E.randn((2, Hkv, H // Hkv, D))
        k = E.randn((2, Hkv, 256, D))
        E.backends["gqa_decode"] = pick_sdpa(E, key, q, k, k)
        if "gqa_prefill" not in E.backends:
            q = E.randn((1, H, 256, D))
            k = E.randn((1, Hkv, 256, D))
            b = pick_sdpa(E, "gqa_prefill_enable_gqa", q, k, k, is_causal=True, enable_gqa=True)
            if b is None:
                E.backends["gqa_prefill_mode"] = "expand"
                b = pick_sdpa(E, "gqa_prefill_expand", q, k.repeat_interleave(H // Hkv, 1),
                              k.repeat_interleave(H // Hkv, 1), is_causal=True)
            else:
                E.backends["gqa_prefill_mode"] = "enable_gqa"
            E.backends["gqa_prefill"] = b

    def attention_impl(self, phase):
        E = self.E
        if phase in ("decode", "decode_attention"):
            b = E.backends.get("gqa_decode")
            nm = b[0] if b else ("CPU default" if not E.cuda else "default")
            return (f"torch scaled_dot_product_attention ({nm} backend), GQA as a "
                    f"{self.H // self.Hkv}-row query per KV head over the BF16 cache")
        b = E.backends.get("gqa_prefill")
        nm = b[0] if b else ("CPU default" if not E.cuda else "default")
        how = ("enable_gqa" if E.backends.get("gqa_prefill_mode") == "enable_gqa"
               else "K/V expanded to all heads")
        return f"torch scaled_dot_product_attention ({nm} backend), causal, {how}"


# ----------------------------------------------------------------------------------------
# the DeepSeek-V3 MLA + MoE slice
# ----------------------------------------------------------------------------------------

class Mla:
    def __init__(self, E, cfg, ep, n_dense, n_moe, prec, keep_ref=False):
        torch = E.torch
        self.E, self.cfg, self.ep, self.prec = E, cfg, ep, prec
        self.n_dense, self.n_moe = n_dense, n_moe
        self.n_layers = n_dense + n_moe
        self.E_loc = cfg.n_experts // ep
        self.moe_ffn_local = cfg.moe_ffn
        c, h, H = cfg, cfg.hidden, cfg.n_heads
        self.layers = []
        for i in range(self.n_layers):
            kv_b = Lin(E, H * (c.nope + c.v_dim), c.kv_lora, prec, keep_ref=True)
            kvb = kv_b.w_ref.view(H, c.nope + c.v_dim, c.kv_lora)
            L = dict(
                n1=norm_w(E, h), n2=norm_w(E, h), qn=norm_w(E, c.q_lora), kvn=norm_w(E, c.kv_lora),
                q_a=Lin(E, c.q_lora, h, prec, keep_ref),
                q_b=Lin(E, H * (c.nope + c.rope), c.q_lora, prec, keep_ref),
                kv_a=Lin(E, c.kv_lora + c.rope, h, prec, keep_ref),
                o=Lin(E, h, H * c.v_dim, prec, keep_ref),
                kv_b=kv_b,  # the plain (prefill) form up-projects the latent through kv_b
                # absorbed (decode): q_nope -> latent through W_UK [H, nope, kv_lora], latent -> v
                # through W_UV [H, kv_lora, v]; BF16 batched matmuls in both precisions
                w_uk=kvb[:, :c.nope, :].contiguous(),
                w_uv=kvb[:, c.nope:, :].transpose(1, 2).contiguous(),
                moe=i >= n_dense)
            if not keep_ref and prec != "bf16":
                kv_b.w_ref = None
            if L["moe"]:
                L["gate"] = E.randn((c.n_experts, h), std=h ** -0.5)
                L["w1"] = E.randn((self.E_loc, 2 * c.moe_ffn, h), std=h ** -0.5)  # gate|up, [E,N,K]
                L["w2"] = E.randn((self.E_loc, h, c.moe_ffn), std=c.moe_ffn ** -0.5)
                if prec == "fp8" and E.grouped_fp8_mode not in (None, "bf16"):
                    L["w1q"], L["s1"] = quant_experts(E, L["w1"])
                    L["w2q"], L["s2"] = quant_experts(E, L["w2"])
                    if not keep_ref:
                        del L["w1"], L["w2"]
                L["sh_gu"] = Lin(E, 2 * c.moe_ffn * c.n_shared, h, prec, keep_ref)
                L["sh_down"] = Lin(E, h, c.moe_ffn * c.n_shared, prec, keep_ref)
            else:
                L["gu"] = Lin(E, 2 * c.dense_ffn, h, prec, keep_ref)
                L["down"] = Lin(E, h, c.dense_ffn, prec, keep_ref)
            self.layers.append(L)
        self.routing = None
        del torch

    # ---- caches and inputs
    def new_cache(self, B, L):
        return self.E.randn((self.n_layers, B, L, self.cfg.kv_lora + self.cfg.rope))

    def kv_bytes_per_tok(self):
        return self.n_layers * (self.cfg.kv_lora + self.cfg.rope) * 2

    def inputs(self, B, S):
        return self.E.randn((B, S, self.cfg.hidden))

    def set_positions(self, L=None, S=None):
        c = self.cfg
        if L is not None:
            co, si = rope_tables(self.E, [L - 1], c.rope, c.rope_theta)
            self._rope_dec = (co.view(1, 1, -1), si.view(1, 1, -1))
        if S is not None:
            self._rope_pre = rope_tables(self.E, list(range(S)), c.rope, c.rope_theta)

    # ---- routing: uniform random top-k of the global batch, the part that lands here
    def set_routing(self, T_local):
        """Route T_local * ep global tokens uniformly at random (top-k distinct experts each);
        keep the assignments to this GPU's experts 0..E_loc-1, sorted by expert."""
        E, torch, c = self.E, self.E.torch, self.cfg
        g = torch.Generator(device=E.dev)
        g.manual_seed(T_local * 131 + self.ep)
        n_glob = T_local * self.ep
        ids = torch.rand((n_glob, c.n_experts), generator=g, device=E.dev).argsort(dim=1)
        ids = ids[:, :c.top_k].cpu()
        g = torch.Generator(device="cpu")
        g.manual_seed(T_local * 17 + self.ep)
        tok = torch.arange(n_glob).view(-1, 1).expand(-1, c.top_k)
        local = ids < self.E_loc
        e, t = ids[local], tok[local]
        order = torch.argsort(e, stable=True)
        e, t = e[order], t[order]
        counts = torch.bincount(e, minlength=self.E_loc)
        # tokens from other GPUs arrive by all-to-all (not timed): their rows are stood in for by
        # this GPU's own tokens, token t -> row t mod T_local
        src = (t % T_local)
        w = torch.rand(len(t), generator=g) * 0.2 + 0.05
        R = int(len(t))
        rt = dict(R=R, counts=counts, touched=int((counts > 0).sum()), src_cpu=src, e_cpu=e)
        rt["src"] = src.to(E.dev)
        rt["w"] = w.to(E.dev, E.bf16).view(-1, 1)
        rt["offs"] = torch.cumsum(counts, 0).to(torch.int32).to(E.dev)
        # 16-row aligned layout for kernels that need it: each group padded with weight-0 rows
        pc = ((counts + 15) // 16) * 16
        pad_src, pad_w = [], []
        start = 0
        for ei in range(self.E_loc):
            n = int(counts[ei])
            pad_src.append(src[start:start + n])
            pad_w.append(w[start:start + n])
            extra = int(pc[ei]) - n
            if extra:
                pad_src.append(torch.zeros(extra, dtype=src.dtype))
                pad_w.append(torch.zeros(extra))
            start += n
        rt["psrc"] = torch.cat(pad_src).to(E.dev) if pad_src else src.to(E.dev)
        rt["pw"] = torch.cat(pad_w).to(E.dev, E.bf16).view(-1, 1) if pad_w else rt["w"]
        rt["poffs"] = torch.cumsum(pc, 0).to(torch.int32).to(E.dev)
        rt["pcounts"] = pc
        rt["T_local"] = T_local
        self.routing = rt
        return rt

    # ---- blocks
    def _ffn_dense(self, L, h, ref):
        F = self.E.torch.nn.functional
        gu = L["gu"](h, ref)
        g, u = gu.split(self.cfg.dense_ffn, -1)
        return L["down"](F.silu(g) * u, ref)

    def _moe(self, L, h, ref):
        """Gate + top-k (computed as a real layer does), routed experts on the precomputed local
        assignments, weighted combine, shared expert."""
        torch, c, rt = self.E.torch, self.cfg, self.routing
        F = torch.nn.functional
        hh = h.float() if ref else h
        logits = F.linear(hh, L["gate"].float() if ref else L["gate"])
        scores = logits.float().sigmoid()
        topv, topi = scores.topk(c.top_k, dim=-1)  # the local dispatch uses the routing above
        out = torch.zeros_like(hh)
        if rt["R"]:
            if ref:
                y = self._experts_ref(L, h.float(), rt)
                out = out.index_add(0, rt["src"], y * rt["w"].float())
            else:
                y, src, w = self._experts(L, h, rt)
                out = out.index_add(0, src, y * w)
        sg = L["sh_gu"](h, ref)
        g, u = sg.split(c.moe_ffn * c.n_shared, -1)
        out = out + L["sh_down"](F.silu(g) * u, ref)
        return out

    def _experts_ref(self, L, h, rt):
        torch = self.E.torch
        F = torch.nn.functional
        xs = h[rt["src"]]
        ys = []
        start = 0
        for e in range(self.E_loc):
            n = int(rt["counts"][e])
            if n:
                gu = xs[start:start + n] @ L["w1"][e].float().t()
                g, u = gu.split(self.moe_ffn_local, -1)
                ys.append((F.silu(g) * u) @ L["w2"][e].float().t())
            start += n
        return torch.cat(ys)

    def _experts(self, L, h, rt):
        E, torch = self.E, self.E.torch
        F = torch.nn.functional
        fp8 = self.prec == "fp8" and E.grouped_fp8_mode not in (None, "bf16")
        mode = E.grouped_fp8_mode if fp8 else E.grouped_mode
        padded = mode.endswith("pad16")
        src, w, offs = ((rt["psrc"], rt["pw"], rt["poffs"]) if padded
                        else (rt["src"], rt["w"], rt["offs"]))
        xs = h[src]
        ffn = self.moe_ffn_local
        if fp8:
            gu = scaled_grouped(E, xs, L["w1q"], L["s1"], offs)
            a = F.silu(gu[:, :ffn]) * gu[:, ffn:]
            y = scaled_grouped(E, a, L["w2q"], L["s2"], offs)
        elif mode.startswith("grouped"):
            gu = torch._grouped_mm(xs, L["w1"].transpose(-2, -1), offs=offs, out_dtype=E.bf16)
            a = F.silu(gu[:, :ffn]) * gu[:, ffn:]
            y = torch._grouped_mm(a, L["w2"].transpose(-2, -1), offs=offs, out_dtype=E.bf16)
        else:  # a loop of per-expert matmuls (static slices, captured in the graph)
            ys = []
            start = 0
            for e in range(self.E_loc):
                n = int(rt["counts"][e])
                if n:
                    gu = F.linear(xs[start:start + n], L["w1"][e])
                    ys.append(F.linear(F.silu(gu[:, :ffn]) * gu[:, ffn:], L["w2"][e]))
                start += n
            y = torch.cat(ys)
        return y, src, w

    def _attn_decode_core(self, ql, qpe, cache_i, ref):
        """Absorbed MLA over the latent cache: scores = [q_latent, q_pe] . c, out over c[:512]."""
        torch = self.E.torch
        c = self.cfg
        qf = torch.cat([ql, qpe.to(ql.dtype)], -1)  # [B,H,576]
        kv = cache_i.float() if ref else cache_i   # [B,L,576]
        s = torch.bmm(qf, kv.transpose(1, 2)) * (1.0 / math.sqrt(c.nope + c.rope))
        p = torch.softmax(s.float(), -1).to(qf.dtype)
        return torch.bmm(p, kv[:, :, :c.kv_lora])  # [B,H,512]

    def decode(self, x, cache, ref=False):
        E, torch, c = self.E, self.E.torch, self.cfg
        B, Lc = cache.shape[1], cache.shape[2]
        H = c.n_heads
        cos, sin = self._rope_dec
        x = (x.float() if ref else x).reshape(B, -1)
        for i, L in enumerate(self.layers):
            h = rms(E, x, L["n1"], ref)
            cq = rms(E, L["q_a"](h, ref), L["qn"], ref)
            q = L["q_b"](cq, ref).view(B, H, c.nope + c.rope)
            q_nope, q_pe = q[..., :c.nope], q[..., c.nope:]
            kva = L["kv_a"](h, ref)
            ckv = rms(E, kva[:, :c.kv_lora], L["kvn"], ref)
            kpe = rope(E, kva[:, c.kv_lora:], cos.view(1, -1), sin.view(1, -1))
            q_pe = rope(E, q_pe, cos, sin)
            ci = cache[i]
            if ref:
                ci = ci.float().clone()
                ci[:, Lc - 1, :c.kv_lora] = ckv
                ci[:, Lc - 1, c.kv_lora:] = kpe
            else:
                ci[:, Lc - 1, :c.kv_lora] = ckv
                ci[:, Lc - 1, c.kv_lora:] = kpe
            wuk = L["w_uk"].float() if ref else L["w_uk"]
            wuv = L["w_uv"].float() if ref else L["w_uv"]
            ql = torch.bmm(q_nope.transpose(0, 1), wuk).transpose(0, 1)  # [B,H,512]
            ol = self._attn_decode_core(ql, q_pe, ci, ref)
            o = torch.bmm(ol.transpose(0, 1), wuv).transpose(0, 1)  # [B,H,128]
            x = x + L["o"](o.reshape(B, H * c.v_dim), ref)
            h = rms(E, x, L["n2"], ref)
            x = x + (self._moe(L, h, ref) if L["moe"] else self._ffn_dense(L, h, ref))
        return x

    def prefill(self, x, cache, ref=False):
        E, torch, c = self.E, self.E.torch, self.cfg
        B, S = x.shape[0], x.shape[1]
        H = c.n_heads
        cos, sin = self._rope_pre
        x = (x.float() if ref else x).reshape(B * S, -1)
        b = E.backends.get("mla_prefill")
        for i, L in enumerate(self.layers):
            h = rms(E, x, L["n1"], ref)
            cq = rms(E, L["q_a"](h, ref), L["qn"], ref)
            q = L["q_b"](cq, ref).view(B, S, H, c.nope + c.rope)
            kva = L["kv_a"](h, ref).view(B, S, -1)
            ckv = rms(E, kva[..., :c.kv_lora], L["kvn"], ref)
            kpe = rope(E, kva[..., c.kv_lora:], cos.view(1, S, -1), sin.view(1, S, -1))
            qpe = rope(E, q[..., c.nope:], cos.view(1, S, 1, -1), sin.view(1, S, 1, -1))
            if not ref:
                cache[i][:, :, :c.kv_lora] = ckv
                cache[i][:, :, c.kv_lora:] = kpe
            kv = L["kv_b"](ckv, ref).view(B, S, H, c.nope + c.v_dim)
            k = torch.cat([kv[..., :c.nope], kpe.view(B, S, 1, c.rope).expand(B, S, H, c.rope)
                           .to(kv.dtype)], -1)
            qq = torch.cat([q[..., :c.nope], qpe.to(q.dtype)], -1)
            v = kv[..., c.nope:]
            qq, k, v = qq.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            if ref:
                o = ref_attention(qq, k, v, causal=True)
            else:
                if E.backends.get("mla_prefill_pad_v"):
                    vp = torch.nn.functional.pad(v, (0, c.nope + c.rope - c.v_dim))
                    o = run_sdpa(E, b, qq, k, vp, is_causal=True)[..., :c.v_dim]
                else:
                    o = run_sdpa(E, b, qq, k, v, is_causal=True)
            x = x + L["o"](o.transpose(1, 2).reshape(B * S, H * c.v_dim), ref)
            h = rms(E, x, L["n2"], ref)
            x = x + (self._moe(L, h, ref) if L["moe"] else self._ffn_dense(L, h, ref))
        return x

    def probe(self):
        E, c = self.E, self.cfg
        if not E.cuda or "mla_prefill" in E.backends:
            return
        H = c.n_heads
        q = E.randn((1, H, 256, c.nope + c.rope))
        v = E.randn((1, H, 256, c.v_dim))
        b = pick_sdpa(E, "mla_prefill_dv", q, q, v, is_causal=True)
        if b is None:
            vp = E.torch.nn.functional.pad(v, (0, c.nope + c.rope - c.v_dim))
            b = pick_sdpa(E, "mla_prefill_padded_v", q, q, vp, is_causal=True)
            E.backends["mla_prefill_pad_v"] = True
        E.backends["mla_prefill"] = b

    def attention_impl(self, phase):
        E = self.E
        if phase in ("decode", "decode_attention"):
            return ("absorbed MLA through torch.bmm: q_nope x W_UK -> latent, scores over the "
                    "576-wide latent cache, float32 softmax, probabilities x latent[:512], x W_UV "
                    "(no fused kernel)")
        b = E.backends.get("mla_prefill")
        nm = b[0] if b else ("CPU default" if not E.cuda else "default")
        pad = ", V padded to 192" if E.backends.get("mla_prefill_pad_v") else ""
        return (f"plain MLA (K/V up-projected from the latent), torch scaled_dot_product_attention "
                f"({nm} backend), causal, q/k dim 192, v dim 128{pad}")

    def moe_impl(self):
        E = self.E
        fp8 = self.prec == "fp8" and E.grouped_fp8_mode not in (None, "bf16")
        mode = E.grouped_fp8_mode if fp8 else E.grouped_mode
        s = {"grouped": "torch._grouped_mm bf16 over expert offsets",
             "grouped-pad16": "torch._grouped_mm bf16, each expert's rows padded to 16",
             "loop": "loop of per-expert bf16 matmuls inside the graph (no usable _grouped_mm)",
             "scaled": "torch._scaled_grouped_mm e4m3 row-wise",
             "scaled-pad16": "torch._scaled_grouped_mm e4m3 row-wise, rows padded to 16"}[mode]
        if self.prec == "fp8" and not fp8:
            s += " (experts stay BF16: no FP8 grouped product here)"
        return s + self.MOE_HOW

    MOE_HOW = ("; gate + sigmoid top-8 computed, local dispatch from precomputed uniform "
               "routing; gather, weighted index_add combine; shared expert through the linears")


# ----------------------------------------------------------------------------------------
# the Qwen3-MoE layer: GQA attention (as Llama's) + routed experts (as DeepSeek-V3's, no shared)
# ----------------------------------------------------------------------------------------

class GqaMoe(Dense):
    """Qwen3-MoE layers: the GQA attention of :class:`Dense` and routed experts through the
    grouped products of :class:`Mla`. ``tp`` splits the heads and, with ``ep`` = 1, every
    expert's width (tensor-parallel experts: all experts on each GPU, ffn / tp wide);
    ``ep`` > 1 (with ``tp`` = 1) holds ``n_experts / ep`` whole experts and routes the tokens
    of ``ep`` data-parallel ranks (as the DeepSeek-V3 slices do). BF16 only."""

    set_routing = Mla.set_routing
    _experts = Mla._experts
    _experts_ref = Mla._experts_ref
    MOE_HOW = ("; gate + softmax top-8 computed, local dispatch from precomputed uniform "
               "routing; gather, weighted index_add combine; no shared expert")

    def __init__(self, E, cfg, tp, ep, n_layers, prec, lm_head, keep_ref=False):
        if tp > 1 and ep > 1:
            raise ValueError("GqaMoe: tensor-parallel attention with tensor-parallel experts "
                             "(ep=1), or data-parallel attention with expert parallelism (tp=1)")
        if prec != "bf16":
            raise ValueError("GqaMoe times BF16 weights only")
        self.E, self.cfg, self.tp, self.ep, self.prec, self.lm = E, cfg, tp, ep, prec, lm_head
        self.H = cfg.n_heads // tp
        self.Hkv = max(1, cfg.n_kv // tp)
        self.D = cfg.head_dim
        self.n_layers = n_layers
        self.E_loc = cfg.n_experts // ep
        self.moe_ffn_local = cfg.moe_ffn // tp
        h, f = cfg.hidden, self.moe_ffn_local
        self.layers = []
        for _ in range(n_layers):
            self.layers.append(dict(
                n1=norm_w(E, h), n2=norm_w(E, h),
                qkv=Lin(E, (self.H + 2 * self.Hkv) * self.D, h, prec, keep_ref),
                o=Lin(E, h, self.H * self.D, prec, keep_ref),
                gate=E.randn((cfg.n_experts, h), std=h ** -0.5),
                w1=E.randn((self.E_loc, 2 * f, h), std=h ** -0.5),
                w2=E.randn((self.E_loc, h, f), std=f ** -0.5)))
        if lm_head:
            self.embed = E.randn((cfg.vocab, h))
            self.nf = norm_w(E, h)
            self.head = Lin(E, cfg.vocab // tp, h, "bf16", keep_ref)
        self.routing = None

    def _mlp(self, L, x, ref):
        torch, rt = self.E.torch, self.routing
        F = torch.nn.functional
        h = rms(self.E, x, L["n2"], ref)
        hh = h.float() if ref else h
        logits = F.linear(hh, L["gate"].float() if ref else L["gate"])
        torch.softmax(logits.float(), -1).topk(self.cfg.top_k, dim=-1)  # as a real layer does
        out = torch.zeros_like(hh)
        if rt["R"]:
            if ref:
                y = self._experts_ref(L, h.float(), rt)
                out = out.index_add(0, rt["src"], y * rt["w"].float())
            else:
                y, src, w = self._experts(L, h, rt)
                out = out.index_add(0, src, y * w)
        return x + out

    def moe_impl(self):
        return Mla.moe_impl(self)


def quant_experts(E, w):
    """[E, N, K] BF16 -> e4m3 with per-(expert, output row) scales [E, N]."""
    amax = w.abs().amax(dim=-1).float().clamp_min(1e-12)
    s = amax / 448.0
    return (w.float() / s.unsqueeze(-1)).to(E.fp8), s


def scaled_grouped(E, x, wq, sw, offs):
    torch = E.torch
    amax = x.abs().amax(dim=-1, keepdim=True).float().clamp_min(1e-12)
    sa = amax / 448.0
    xq = (x.float() / sa).to(E.fp8)
    return torch._scaled_grouped_mm(xq, wq.transpose(-2, -1), sa.view(-1), sw, offs=offs,
                                    out_dtype=E.bf16)


def probe_grouped(E):
    """How the routed experts run here: torch._grouped_mm (any offsets, or 16-aligned), or a loop;
    and for FP8: torch._scaled_grouped_mm, or BF16 experts."""
    torch = E.torch
    F = torch.nn.functional
    n_e, k, n = 4, 64, 128
    w = E.randn((n_e, n, k), std=k ** -0.5)
    for counts in ([3, 0, 5, 9], [16, 0, 32, 16]):
        E.grouped_mode = None
        c = torch.tensor(counts)
        offs = torch.cumsum(c, 0).to(torch.int32).to(E.dev)
        x = E.randn((int(c.sum()), k))
        ref = torch.cat([x[int(c[:i].sum()):int(c[:i + 1].sum())].float() @ w[i].float().t()
                         for i in range(n_e)])
        try:
            y = torch._grouped_mm(x, w.transpose(-2, -1), offs=offs, out_dtype=E.bf16)
            err = rel_err(y, ref)
            if err < 2e-2:
                E.grouped_mode = "grouped" if counts[0] == 3 else "grouped-pad16"
                log(f"   grouped_mm works with offsets {counts} (rel err {err:.2g})")
                break
            log(f"   grouped_mm wrong with offsets {counts}: rel err {err:.3g}")
        except Exception as exc:
            log(f"   grouped_mm failed with offsets {counts}: "
                f"{type(exc).__name__}: {str(exc)[:160]}")
    if E.grouped_mode is None:
        E.grouped_mode = "loop"
    E.grouped_fp8_mode = "bf16"
    if E.fp8 is None or not hasattr(torch, "_scaled_grouped_mm"):
        log("   no torch._scaled_grouped_mm: FP8 rows keep the experts BF16")
        return
    for counts in ([3, 0, 5, 9], [16, 0, 32, 16]):
        c = torch.tensor(counts)
        offs = torch.cumsum(c, 0).to(torch.int32).to(E.dev)
        x = E.randn((int(c.sum()), k))
        ref = torch.cat([x[int(c[:i].sum()):int(c[:i + 1].sum())].float() @ w[i].float().t()
                         for i in range(n_e)])
        try:
            wq, sw = quant_experts(E, w)
            y = scaled_grouped(E, x, wq, sw, offs)
            err = rel_err(y, ref)
            if err < 0.1:
                E.grouped_fp8_mode = "scaled" if counts[0] == 3 else "scaled-pad16"
                log(f"   scaled_grouped_mm works with offsets {counts} (rel err {err:.2g})")
                return
            log(f"   scaled_grouped_mm wrong with offsets {counts}: rel err {err:.3g}")
        except Exception as exc:
            log(f"   scaled_grouped_mm failed with offsets {counts}: {type(exc).__name__}: "
                f"{str(exc)[:160]}")
    log("   FP8 rows keep the experts BF16")
    del F


# ----------------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------------

def time_step(E, fn, target_s, min_rep, max_rep):
    """Capture fn in a CUDA graph, replay; per-replay times [s] from CUDA events, and the output.

    On the CPU (``--quick``) fn is called eagerly and timed with the host clock."""
    torch = E.torch
    if not E.cuda:
        out = fn()
        ts = []
        for _ in range(min_rep):
            t0 = time.perf_counter()
            out = fn()
            ts.append(time.perf_counter() - t0)
        return ts, out, "eager calls, host clock (CPU)"
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        fn()  # warm-up: handles, autotuning, workspace
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        out = fn()
    g.replay()
    torch.cuda.synchronize()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    g.replay()
    e1.record()
    torch.cuda.synchronize()
    t1 = e0.elapsed_time(e1) / 1e3
    n = int(max(min_rep, min(max_rep, target_s / max(t1, 1e-6))))
    for _ in range(max(2, min(10, n // 5))):
        g.replay()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
    for i in range(n):
        starts[i].record()
        g.replay()
        ends[i].record()
    torch.cuda.synchronize()
    ts = [a.elapsed_time(b) / 1e3 for a, b in zip(starts, ends)]
    del g
    return ts, out, "CUDA graph replays back to back, each timed with CUDA events"


def quantiles(ts):
    xs = sorted(ts)

    def q(p):
        if len(xs) == 1:
            return xs[0]
        pos = p * (len(xs) - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
    return q(0.1), q(0.5), q(0.9)


# ----------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------

class Run:
    def __init__(self, args, E):
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.args, self.E = args, E
        self.quick = args.quick
        self.smoke = args.smoke
        self.t0 = time.perf_counter()
        self.budget = args.budget_s
        self.rows = []
        self.skipped = []
        self.failures = []
        self.checks = {}
        self.meta = {}
        self.target_s = 0.02 if args.quick else 0.25
        self.names = set()

    # ---- bookkeeping
    def left_s(self):
        return self.budget - (time.perf_counter() - self.t0)

    def skip(self, what, why):
        self.skipped.append(f"{what}: {why}")
        log(f"   SKIP {what}: {why}")

    def out_of_time(self, what):
        """True, with ``what`` noted as skipped, once the time budget is spent."""
        if self.left_s() < 0:
            self.skip(what, "time budget spent")
            return True
        return False

    def write(self):
        self.meta["failures"] = self.failures
        self.meta["skipped"] = self.skipped
        self.meta["checks"] = {"/".join(map(str, k)): v for k, v in self.checks.items()}
        self.meta["sdpa_backends"] = {k: (v[0] if isinstance(v, tuple) else v)
                                      for k, v in self.E.backends.items()}
        self.meta["fp8_mode"] = self.E.fp8_mode
        self.meta["grouped_mode"] = self.E.grouped_mode
        self.meta["grouped_fp8_mode"] = self.E.grouped_fp8_mode
        self.meta["elapsed_s"] = round(time.perf_counter() - self.t0, 1)
        (self.out / "machine.json").write_text(json.dumps(self.meta, indent=2, default=str))
        (self.out / "log.txt").write_text("\n".join(LOG_LINES) + "\n")
        if self.rows:
            with open(self.out / "gpu_steps.csv", "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
                w.writeheader()
                for r in self.rows:
                    w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in COLUMNS})
            mt = GM.machines_table(self.meta)
            mt["name"] = self.machine
            mt["source_url"] = f"measured:{SCRIPT}"
            mt["notes"] = (
                f"read on the machine by {SCRIPT} through the metadata code of "
                f"tests/benchmarks/gpu_measure.py (torch.cuda device properties, "
                f"nvidia-smi, module versions); runtime {self.meta.get('platform', '')}; "
                f"nvcc {self.meta.get('nvcc', '')}; the whole-step timings of gpu_steps"
            )
            mt.to_csv(self.out / "gpu_machines.csv", index=False)

    @property
    def machine(self):
        key = GM.machine_key(self.meta)
        tag = getattr(self.args, "tag", "")
        return key + "-steps" + (f"-{tag}" if tag else "")

    def section(self, name, fn):
        log(f"== {name}  ({self.left_s():.0f} s of budget left)")
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as exc:
            msg = f"{name}: {type(exc).__name__}: {exc}"
            self.failures.append(msg)
            log("   FAILED " + msg)
            LOG_LINES.append(traceback.format_exc())
            print(traceback.format_exc(), flush=True)
        finally:
            self.E.free()
        log(f"   section took {time.perf_counter() - t0:.1f} s")
        self.write()

    # ---- one timed case
    def case(self, label, fn, row, out_check=True, n_inner=1, min_rep=None):
        """Time fn (one step); append a row. A failing or NaN case is logged, not fatal."""
        if self.out_of_time(label):
            return None
        E = self.E
        min_rep = min_rep or (3 if self.quick else 10)
        try:
            ts, out, how = time_step(E, fn, self.target_s, min_rep, 200)
            if out_check:
                assert_finite(out, label)
        except FloatingPointError:
            raise
        except Exception as exc:
            oom = "out of memory" in str(exc).lower()
            self.skip(label, ("out of memory: " if oom else f"failed: {type(exc).__name__}: ")
                      + str(exc)[:200])
            if not oom:
                LOG_LINES.append(traceback.format_exc())
                print(traceback.format_exc(), flush=True)
            E.free()
            return None
        ts = [t / n_inner for t in ts]
        p10, med, p90 = quantiles(ts)
        row = dict(row)
        row.update(machine=self.machine, median_s=med, p10_s=p10, p90_s=p90, n_replays=len(ts),
                   source_url=f"measured:{SCRIPT}", source_date=self.meta["measured_date"],
                   source_kind="measured")
        row["name"] = "/".join(str(x) for x in (
            self.machine, row["arch"], row["phase"], f"w-{row['weight_precision']}",
            f"kv-{row['kv_precision']}", f"tp{row['tp']}-ep{row['ep']}",
            f"L{row['n_layers_timed']}", f"b{row['n_sequences']}", f"ctx{row['context_tok']}"))
        if row.get("variant"):
            row["name"] += "/" + row["variant"]
        if row["name"] in self.names:
            row["name"] += f"/{len(self.rows)}"
        self.names.add(row["name"])
        inner = (f"; the graph holds {n_inner} passes over distinct copies of the data (so it "
                 f"does not sit in L2), time divided by {n_inner}" if n_inner > 1 else "")
        row["notes"] = (f"{how}; median, 10th and 90th percentile of {len(ts)} replays after "
                        f"warm-up{inner}; random normal weights and caches"
                        + ("; " + row["notes"] if row.get("notes") else "")
                        + ("; QUICK run, tiny shapes, not a measurement of the architecture"
                           if self.quick else ""))
        self.rows.append(row)
        log(f"   {label}: median {med * 1e3:.3f} ms (p10 {p10 * 1e3:.3f}, p90 {p90 * 1e3:.3f}, "
            f"n={len(ts)})")
        self.write()
        return med


# ---- shapes --------------------------------------------------------------------------------

def grid(run):
    if run.quick:
        return dict(batches=(1, 4), ctxs=(64, 128), prompts=((1, 32), (2, 16)))
    if run.smoke:
        return dict(batches=(4,), ctxs=(1024,), prompts=((1, 512),))
    return dict(batches=(1, 4, 16, 64, 256), ctxs=(1024, 4096, 16384),
                prompts=((1, 512), (1, 2048), (1, 8192), (4, 2048)))


def cfgs(run):
    if run.quick:
        return TINY_8B, TINY_70B, TINY_V3
    return LLAMA_8B, LLAMA_70B, DSV3


def mem_ok(run, need_bytes, what):
    free = run.E.free_bytes()
    if need_bytes > free - 6 * 2**30 and not run.quick:
        run.skip(what, f"needs about {need_bytes / 2**30:.0f} GiB, {free / 2**30:.0f} GiB free")
        return False
    return True


def base_row(arch, phase, wp, tp, ep, n_layers, n_dense, n_moe, lm, B, ctx, tokens, att, gemm,
             moe=None, loc=None, check=None, notes=""):
    return dict(arch=arch, phase=phase, weight_precision=wp, kv_precision="bf16", tp=tp, ep=ep,
                n_layers_timed=n_layers, n_dense_layers_timed=n_dense, n_moe_layers_timed=n_moe,
                lm_head_included=lm, n_sequences=B, context_tok=ctx, tokens_per_step=tokens,
                local_experts=(loc or {}).get("E_loc"), routed_tok_local=(loc or {}).get("R"),
                experts_touched_local=(loc or {}).get("touched"), attention_impl=att,
                gemm_impl=gemm, moe_impl=moe, check_rel_error_ratio=check, notes=notes)


# ---- checks ---------------------------------------------------------------------------------

def check_dense(run, cfg, tp, prec, n_layers, lm, fp8_mode=None):
    E, torch = run.E, run.E.torch
    saved = E.fp8_mode
    E.fp8_mode = fp8_mode or saved
    try:
        m = Dense(E, cfg, tp, n_layers, prec, lm, keep_ref=True)
    finally:
        E.fp8_mode = saved
    if fp8_mode:
        prec = f"{prec}-{fp8_mode}"
    m.probe()
    B, Lc, S = 2, 96, 64
    with torch.no_grad():
        m.set_positions(L=Lc, S=S)
        cache = m.new_cache(B, Lc)
        ids = m.inputs(B, 1)
        ref_cache = cache.float().clone()
        out = m.decode(ids, cache)
        ref = m.decode(ids, ref_cache, ref=True)
        assert_finite(out, f"check {cfg.arch} decode {prec}")
        e_dec = rel_err(out, ref)
        pc = m.new_cache(B, S)
        ids = m.inputs(B, S)
        out = m.prefill(ids, pc)
        ref = m.prefill(ids, None, ref=True)
        assert_finite(out, f"check {cfg.arch} prefill {prec}")
        e_pre = rel_err(out, ref)
    run.checks[(cfg.arch, "decode", prec, tp)] = e_dec
    run.checks[(cfg.arch, "prefill", prec, tp)] = e_pre
    log(f"   check {cfg.arch} tp={tp} {prec}, {n_layers} layers, batch {B}: decode rel err "
        f"{e_dec:.3g}, prefill rel err {e_pre:.3g} (vs float32 reference)")
    limit = 0.05 if prec == "bf16" else 0.15
    if not (e_dec < limit and e_pre < limit):
        raise AssertionError(f"{cfg.arch} {prec}: relative error above {limit}")
    del m, cache, pc
    E.free()


def _check_routed(run, m, label):
    """Decode and prefill of a routed model (MLA or GQA + MoE) against its float32 reference
    on a small case: (decode rel err, prefill rel err, batch)."""
    E, torch = run.E, run.E.torch
    m.probe()
    B, Lc, S = 4, 96, 64
    with torch.no_grad():
        m.set_positions(L=Lc, S=S)
        m.set_routing(B)
        cache = m.new_cache(B, Lc)
        x = m.inputs(B, 1)
        ref_cache = cache.float().clone()
        out = m.decode(x, cache)
        ref = m.decode(x, ref_cache, ref=True)
        assert_finite(out, f"check {label} decode")
        e_dec = rel_err(out, ref)
        m.set_routing(B * S)
        pc = m.new_cache(B, S)
        x = m.inputs(B, S)
        out = m.prefill(x, pc)
        ref = m.prefill(x, None, ref=True)
        assert_finite(out, f"check {label} prefill")
        e_pre = rel_err(out, ref)
    del cache, pc
    E.free()
    return e_dec, e_pre, B


def check_mla(run, cfg, ep, prec):
    m = Mla(run.E, cfg, ep, 1, 1, prec, keep_ref=True)
    e_dec, e_pre, B = _check_routed(run, m, f"{cfg.arch} {prec}")
    run.checks[(cfg.arch, "decode", prec, ep)] = e_dec
    run.checks[(cfg.arch, "prefill", prec, ep)] = e_pre
    log(f"   check {cfg.arch} ep={ep} {prec}, 1 dense + 1 MoE layer, batch {B}: decode rel err "
        f"{e_dec:.3g}, prefill rel err {e_pre:.3g} (vs float32 reference, per-expert loop)")
    limit = 0.05 if prec == "bf16" else 0.15
    if not (e_dec < limit and e_pre < limit):
        raise AssertionError(f"{cfg.arch} {prec}: relative error above {limit}")
    del m
    run.E.free()


def checks_section(run):
    E = run.E
    probe_fp8(E)
    probe_grouped(E)
    c8, c70, cv3 = cfgs(run)
    for prec in ("bf16", "fp8"):
        check_dense(run, c8, 1, prec, 2, True)
        check_dense(run, c70, 8 if not run.quick else 2, prec, 1, False)
        check_mla(run, cv3, 8 if not run.quick else 4, prec)
    if E.fp8_mode != "tensorwise":
        check_dense(run, c8, 1, "fp8", 2, True, fp8_mode="tensorwise")


def check_of(run, arch, phase, prec):
    vals = [v for k, v in run.checks.items() if k[0] == arch and k[1] == phase and k[2] == prec]
    return max(vals) if vals else None


# ---- dense sections -----------------------------------------------------------------------

def _route(m, n_tokens):
    """Route ``n_tokens`` tokens through ``m``'s experts; the local counts a row records."""
    rt = m.set_routing(n_tokens)
    return dict(E_loc=m.E_loc, R=rt["R"], touched=rt["touched"])


def _decode_sweep(run, m, label0, batches, ctxs, row_of, temp_bytes=None):
    """Time ``m.decode`` at each batch x context that fits in memory (the cache, ``temp_bytes(B,
    L)`` of temporaries and 2 GiB); a model with routed experts is routed once per batch.
    ``row_of(B, L, loc)`` gives the row's fields."""
    E, torch = run.E, run.E.torch
    routed = hasattr(m, "set_routing")
    for B in batches:
        loc = _route(m, B) if routed else None
        for Lc in ctxs:
            label = f"{label0} b={B} ctx={Lc}"
            extra = temp_bytes(B, Lc) if temp_bytes else 0.0
            if not mem_ok(run, m.kv_bytes_per_tok() * B * Lc * 1.05 + extra + 2 * 2**30, label):
                continue
            with torch.no_grad():
                m.set_positions(L=Lc)
                cache = m.new_cache(B, Lc)
                x = m.inputs(B, 1)
                run.case(label, lambda: m.decode(x, cache), row_of(B, Lc, loc))
                del cache
            E.free()


def _prefill_sweep(run, m, label0, row_of):
    """Time ``m.prefill`` at each (batch, prompt) of the grid, writing a cache of the prompt's
    length; a model with routed experts is routed for the batch's tokens."""
    E, torch = run.E, run.E.torch
    routed = hasattr(m, "set_routing")
    for B, S in grid(run)["prompts"]:
        label = f"{label0} b={B} prompt={S}"
        if run.out_of_time(label):
            continue
        with torch.no_grad():
            loc = _route(m, B * S) if routed else None
            m.set_positions(S=S)
            cache = m.new_cache(B, S)
            x = m.inputs(B, S)
            run.case(label, lambda: m.prefill(x, cache), row_of(B, S, loc),
                     min_rep=None if run.quick else 5)
            del cache
        E.free()


def dense_decode(run, cfg, tp, prec, n_layers, lm, batches=None, ctxs=None, fp8_mode=None):
    """Decode steps; fp8_mode="tensorwise" times the per-tensor-scaled FP8 variant."""
    E = run.E
    gr = grid(run)
    batches, ctxs = batches or gr["batches"], ctxs or gr["ctxs"]
    label0 = f"{cfg.arch} tp={tp} {prec}{' ' + fp8_mode if fp8_mode else ''} decode"
    if run.out_of_time(label0):
        return
    saved = E.fp8_mode
    if fp8_mode:
        E.fp8_mode = fp8_mode
    try:
        m = Dense(E, cfg, tp, n_layers, prec, lm)
        gemm = gemm_impl(E, prec)
    finally:
        E.fp8_mode = saved
    m.probe()
    att = m.attention_impl("decode")
    chk = check_of(run, cfg.arch, "decode", f"{prec}-{fp8_mode}" if fp8_mode else prec)

    def row_of(B, Lc, _loc):
        row = base_row(cfg.arch, "decode", prec, tp, 1, n_layers, n_layers, 0, lm, B, Lc,
                       B, att, gemm, check=chk,
                       notes=(f"whole model: embedding, {n_layers} layers, final norm, "
                              f"lm_head (embedding and lm_head BF16)" if lm else
                              f"slice of {n_layers} of {cfg.n_layers} layers at tp={tp} "
                              f"per-GPU shapes, no communication, no lm_head")
                       + "; RMSNorm through torch rms_norm; rotary, residual adds and "
                       "the KV write as separate kernels")
        if fp8_mode:
            row["variant"] = f"fp8-{fp8_mode}"
        return row
    _decode_sweep(run, m, label0, batches, ctxs, row_of)
    del m
    E.free()


def dense_prefill(run, cfg, tp, prec, n_layers, lm):
    E = run.E
    label0 = f"{cfg.arch} tp={tp} {prec} prefill"
    if run.out_of_time(label0):
        return
    m = Dense(E, cfg, tp, n_layers, prec, lm)
    m.probe()
    att, gemm = m.attention_impl("prefill"), gemm_impl(E, prec)
    chk = check_of(run, cfg.arch, "prefill", prec)

    def row_of(B, S, _loc):
        return base_row(cfg.arch, "prefill", prec, tp, 1, n_layers, n_layers, 0, lm, B, S,
                        B * S, att, gemm, check=chk,
                        notes=("whole model; lm_head on the last token of each sequence"
                               if lm else f"slice of {n_layers} of {cfg.n_layers} layers at "
                               f"tp={tp} per-GPU shapes, no communication, no lm_head")
                        + "; KV written to a BF16 cache of the prompt's length")
    _prefill_sweep(run, m, label0, row_of)
    del m
    E.free()


def dense_attention_only(run, cfg, tp, n_layers):
    """SDPA over the cache alone, n_layers per step (phase decode_attention)."""
    E, torch = run.E, run.E.torch
    m = Dense.__new__(Dense)
    m.E, m.cfg, m.tp = E, cfg, tp
    m.H, m.Hkv, m.D = cfg.n_heads // tp, max(1, cfg.n_kv // tp), cfg.head_dim
    m.n_layers = n_layers
    m.probe()
    att = m.attention_impl("decode_attention")
    gr = grid(run)
    for B in gr["batches"]:
        for Lc in gr["ctxs"]:
            label = f"{cfg.arch} tp={tp} attention alone b={B} ctx={Lc}"
            if run.out_of_time(label):
                continue
            set_bytes = m.kv_bytes_per_tok() * B * Lc
            reps = 1 if run.quick else max(1, min(8, math.ceil(L2_ROTATE_BYTES / set_bytes)))
            if not mem_ok(run, set_bytes * reps * 1.05 + 2**30, label):
                continue
            with torch.no_grad():
                caches = [m.new_cache(B, Lc) for _ in range(reps)]
                q = E.randn((B, m.Hkv, m.H // m.Hkv, m.D))
                b = E.backends.get("gqa_decode")

                def fn():
                    o = None
                    for c in caches:
                        for i in range(n_layers):
                            o = run_sdpa(E, b, q, c[i, 0], c[i, 1])
                    return o
                row = base_row(cfg.arch, "decode_attention", "bf16", tp, 1, n_layers, n_layers, 0,
                               False, B, Lc, B, att, None,
                               notes=f"attention over the cache alone, {n_layers} layers per step "
                                     f"(no projections, norms or KV write)")
                run.case(label, fn, row, n_inner=reps)
                del caches
            E.free()


# ---- MLA / MoE sections ---------------------------------------------------------------------

def v3_layers(run, ep):
    if run.quick:
        return 1, 2
    return (1, 3) if ep == 8 else (1, 2)


def mla_decode(run, cfg, ep, prec, batches=None, ctxs=None):
    E = run.E
    label0 = f"{cfg.arch} ep={ep} {prec} decode"
    if run.out_of_time(label0):
        return
    nd, nm = v3_layers(run, ep)
    m = Mla(E, cfg, ep, nd, nm, prec)
    att, gemm, moe = m.attention_impl("decode"), gemm_impl(E, prec), m.moe_impl()
    chk = check_of(run, cfg.arch, "decode", prec)
    gr = grid(run)

    def row_of(B, Lc, loc):
        return base_row(cfg.arch, "decode", prec, 1, ep, nd + nm, nd, nm, False, B, Lc, B,
                        att, gemm, moe, loc, chk,
                        notes=(f"slice of {nd} dense + {nm} MoE layers; data-parallel "
                               f"attention, routed experts at ep={ep} ({m.E_loc} local); "
                               f"{B * ep} global tokens routed uniformly at random, "
                               f"top-{cfg.top_k}; no all-to-all; absorbed-MLA bmm weights "
                               f"(W_UK, W_UV) BF16 in both precisions"))
    # the score matrix [B, H, L] in float32 and BF16 is the big temporary
    _decode_sweep(run, m, label0, batches or gr["batches"], ctxs or gr["ctxs"], row_of,
                  temp_bytes=lambda B, Lc: B * cfg.n_heads * Lc * 12)
    del m
    E.free()


def mla_prefill(run, cfg, ep, prec):
    E = run.E
    label0 = f"{cfg.arch} ep={ep} {prec} prefill"
    if run.out_of_time(label0):
        return
    nd, nm = v3_layers(run, ep)
    m = Mla(E, cfg, ep, nd, nm, prec)
    m.probe()
    att, gemm, moe = m.attention_impl("prefill"), gemm_impl(E, prec), m.moe_impl()
    chk = check_of(run, cfg.arch, "prefill", prec)

    def row_of(B, S, loc):
        return base_row(cfg.arch, "prefill", prec, 1, ep, nd + nm, nd, nm, False, B, S, B * S,
                        att, gemm, moe, loc, chk,
                        notes=(f"slice of {nd} dense + {nm} MoE layers; routed experts at "
                               f"ep={ep} ({m.E_loc} local); {B * S * ep} global tokens routed "
                               f"uniformly at random, top-{cfg.top_k}; no all-to-all; latent "
                               f"written to the BF16 cache"))
    _prefill_sweep(run, m, label0, row_of)
    del m
    E.free()


def mla_attention_only(run, cfg, n_layers):
    E, torch = run.E, run.E.torch
    m = Mla.__new__(Mla)
    m.E, m.cfg, m.n_layers = E, cfg, n_layers
    att = ("absorbed MLA core alone through torch.bmm: scores of [q_latent, q_pe] (576) over the "
           "latent cache, float32 softmax, probabilities x latent[:512]")
    gr = grid(run)
    for B in gr["batches"]:
        for Lc in gr["ctxs"]:
            label = f"{cfg.arch} MLA attention alone b={B} ctx={Lc}"
            if run.out_of_time(label):
                continue
            set_bytes = m.kv_bytes_per_tok() * B * Lc
            reps = 1 if run.quick else max(1, min(8, math.ceil(L2_ROTATE_BYTES / set_bytes)))
            if not mem_ok(run, set_bytes * reps * 1.05 + B * cfg.n_heads * Lc * 12 + 2**30, label):
                continue
            with torch.no_grad():
                caches = [m.new_cache(B, Lc) for _ in range(reps)]
                ql = E.randn((B, cfg.n_heads, cfg.kv_lora))
                qpe = E.randn((B, cfg.n_heads, cfg.rope))

                def fn():
                    o = None
                    for c in caches:
                        for i in range(n_layers):
                            o = m._attn_decode_core(ql, qpe, c[i], False)
                    return o
                row = base_row(
                    cfg.arch,
                    "decode_attention",
                    "bf16",
                    1,
                    1,
                    n_layers,
                    0,
                    0,
                    False,
                    B,
                    Lc,
                    B,
                    att,
                    None,
                    notes=f"attention over the latent cache alone, {n_layers} layers "
                    f"per step (no projections, absorption bmm, norms or cache write)",
                )
                run.case(label, fn, row, n_inner=reps)
                del caches
            E.free()


# ---- Qwen3-MoE sections ------------------------------------------------------------------

def qwen_cfgs(run):
    return (TINY_Q30, TINY_Q235) if run.quick else (QWEN3_30B, QWEN3_235B)


def check_gqa_moe(run, cfg, tp, ep):
    m = GqaMoe(run.E, cfg, tp, ep, 2, "bf16", False, keep_ref=True)
    e_dec, e_pre, B = _check_routed(run, m, f"{cfg.arch} tp={tp} ep={ep}")
    run.checks[(cfg.arch, "decode", "bf16", f"tp{tp}-ep{ep}")] = e_dec
    run.checks[(cfg.arch, "prefill", "bf16", f"tp{tp}-ep{ep}")] = e_pre
    log(f"   check {cfg.arch} tp={tp} ep={ep} bf16, 2 MoE layers, batch {B}: decode rel err "
        f"{e_dec:.3g}, prefill rel err {e_pre:.3g} (vs float32 reference, per-expert loop)")
    if not (e_dec < 0.05 and e_pre < 0.05):
        raise AssertionError(f"{cfg.arch}: relative error above 0.05")
    del m
    run.E.free()


def qwen_checks(run):
    E = run.E
    if E.grouped_mode is None:
        probe_grouped(E)
    q30, q235 = qwen_cfgs(run)
    check_gqa_moe(run, q30, 1, 1)
    check_gqa_moe(run, q235, 8 if not run.quick else 2, 1)
    check_gqa_moe(run, q235, 1, 8 if not run.quick else 4)


def _gqa_moe_notes(cfg, m, n_layers, lm, T):
    what = (f"whole model: embedding, {n_layers} MoE layers, final norm, lm_head (BF16)" if lm
            else f"slice of {n_layers} of {cfg.n_layers} MoE layers, no lm_head")
    if m.ep > 1:
        lay = (f"data-parallel attention, routed experts at ep={m.ep} ({m.E_loc} local, "
               f"ffn {m.moe_ffn_local}); {T * m.ep} global tokens routed uniformly at random, "
               f"top-{cfg.top_k}; no all-to-all")
    else:
        lay = (f"tensor-parallel per-GPU shapes at tp={m.tp}: {m.H} query heads, {m.Hkv} KV "
               f"heads, all {m.E_loc} experts {m.moe_ffn_local} wide; {T} tokens routed "
               f"uniformly at random, top-{cfg.top_k}; no communication")
    return (what + "; " + lay + "; Qwen3's per-head q/k RMSNorm left out; RMSNorm through torch "
            "rms_norm; rotary, residual adds and the KV write as separate kernels")


def gqa_moe_decode(run, cfg, tp, ep, n_layers, lm, ctxs=None):
    E = run.E
    label0 = f"{cfg.arch} tp={tp} ep={ep} bf16 decode"
    if run.out_of_time(label0):
        return
    m = GqaMoe(E, cfg, tp, ep, n_layers, "bf16", lm)
    m.probe()
    att, gemm, moe = m.attention_impl("decode"), gemm_impl(E, "bf16"), m.moe_impl()
    chk = check_of(run, cfg.arch, "decode", "bf16")
    gr = grid(run)
    # serving batches reach the thousands: one more batch size than the other sections
    batches = gr["batches"] + (() if run.quick or run.smoke else (1024,))

    def row_of(B, Lc, loc):
        return base_row(cfg.arch, "decode", "bf16", tp, ep, n_layers, 0, n_layers, lm, B,
                        Lc, B, att, gemm, moe, loc, chk,
                        notes=_gqa_moe_notes(cfg, m, n_layers, lm, B))
    _decode_sweep(run, m, label0, batches, ctxs or gr["ctxs"], row_of)
    del m
    E.free()


def gqa_moe_prefill(run, cfg, tp, ep, n_layers, lm):
    E = run.E
    label0 = f"{cfg.arch} tp={tp} ep={ep} bf16 prefill"
    if run.out_of_time(label0):
        return
    m = GqaMoe(E, cfg, tp, ep, n_layers, "bf16", lm)
    m.probe()
    att, gemm, moe = m.attention_impl("prefill"), gemm_impl(E, "bf16"), m.moe_impl()
    chk = check_of(run, cfg.arch, "prefill", "bf16")

    def row_of(B, S, loc):
        return base_row(cfg.arch, "prefill", "bf16", tp, ep, n_layers, 0, n_layers, lm, B, S,
                        B * S, att, gemm, moe, loc, chk,
                        notes=_gqa_moe_notes(cfg, m, n_layers, lm, B * S))
    _prefill_sweep(run, m, label0, row_of)
    del m
    E.free()


def qwen_sections(run):
    """Qwen3-30B-A3B whole on one GPU; Qwen3-235B-A22B slices at tp=8 (tensor-parallel
    experts, the engines' default) and at ep=8 (expert parallel, data-parallel attention)."""
    q30, q235 = qwen_cfgs(run)
    n235 = 2 if run.quick else 4
    t8, e8 = (2, 4) if run.quick else (8, 8)
    return [
        ("qwen3 checks against float32", lambda: qwen_checks(run)),
        ("qwen3-30b-a3b decode bf16", lambda: gqa_moe_decode(run, q30, 1, 1, q30.n_layers, True)),
        ("qwen3-30b-a3b prefill bf16",
         lambda: gqa_moe_prefill(run, q30, 1, 1, q30.n_layers, True)),
        ("qwen3-235b slice decode bf16 tp=8",
         lambda: gqa_moe_decode(run, q235, t8, 1, n235, False)),
        ("qwen3-235b slice decode bf16 ep=8",
         lambda: gqa_moe_decode(run, q235, 1, e8, n235, False)),
        ("qwen3-235b slice prefill bf16 tp=8",
         lambda: gqa_moe_prefill(run, q235, t8, 1, n235, False)),
        ("qwen3-235b slice prefill bf16 ep=8",
         lambda: gqa_moe_prefill(run, q235, 1, e8, n235, False)),
    ]


def large_batch_sections(run):
    """BF16 decode at the batches serving engines run (512 and 1024 sequences), for the
    architectures and layouts the step fit uses: Llama-3.1-8B whole, the Llama-3.1-70B slice
    at tp = 1 and 8, the DeepSeek-V3 slice at ep = 8 (cases that do not fit in memory are
    skipped and logged)."""
    c8, c70, cv3 = cfgs(run)
    batches = (8, 16) if run.quick else (512, 1024)
    ctxs = (64, 128) if run.quick else (1024, 4096)
    n70 = 2 if run.quick else 8
    tps = (1, 2) if run.quick else (1, 8)
    ep = 4 if run.quick else 8
    out = [("llama-3.1-8b decode bf16 large batch",
            lambda: dense_decode(run, c8, 1, "bf16", c8.n_layers, True, batches, ctxs))]
    out += [(f"llama-3.1-70b slice decode bf16 tp={tp} large batch",
             lambda tp=tp: dense_decode(run, c70, tp, "bf16", n70, False, batches, ctxs))
            for tp in tps]
    out.append(("grouped-product probe", lambda: probe_grouped(run.E)))
    out.append((f"deepseek-v3 decode bf16 ep={ep} large batch",
                lambda: mla_decode(run, cv3, ep, "bf16", batches, ctxs)))
    return out


def moe_only(run, cfg, ep, prec):
    E, torch = run.E, run.E.torch
    label0 = f"{cfg.arch} ep={ep} {prec} MoE alone"
    if run.out_of_time(label0):
        return
    nm = v3_layers(run, ep)[1]
    m = Mla(E, cfg, ep, 0, nm, prec)
    moe, gemm = m.moe_impl(), gemm_impl(E, prec)
    for B in grid(run)["batches"]:
        label = f"{label0} b={B}"
        with torch.no_grad():
            rt = m.set_routing(B)
            loc = dict(E_loc=m.E_loc, R=rt["R"], touched=rt["touched"])
            h = m.inputs(B, 1).view(B, -1)

            def fn():
                y = None
                for L in m.layers:
                    y = m._moe(L, h, False)
                return y
            row = base_row(cfg.arch, "decode_moe", prec, 1, ep, nm, 0, nm, False, B, 0, B, "",
                           gemm, moe, loc,
                           notes=f"MoE block alone (gate, top-8, routed experts, combine, shared "
                                 f"expert), {nm} layers per step; {B * ep} global tokens routed "
                                 f"uniformly at random")
            row["attention_impl"] = "none (MoE alone)"
            run.case(label, fn, row)
    del m
    E.free()


# ----------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu_steps_"),
                    help="folder for gpu_steps.csv, gpu_machines.csv, machine.json, log.txt")
    ap.add_argument("--quick", action="store_true", help="tiny shapes (check the script, CPU ok)")
    ap.add_argument("--smoke", action="store_true",
                    help="checks and one shape per section at real widths")
    ap.add_argument("--budget-s", type=float, default=480.0,
                    help="wall-time budget [s]; cases left when it is spent are skipped and logged")
    ap.add_argument("--only", choices=("all", "qwen3", "large-batch"), default="all",
                    help="qwen3: only the Qwen3-MoE sections (GQA attention + routed experts); "
                         "large-batch: BF16 decode of the fitted architectures at batch 512 and "
                         "1024, where serving runs")
    ap.add_argument("--tag", default="",
                    help="suffix of the machine key (a second run on one day gets its own key)")
    args = ap.parse_args(argv)

    import torch
    E = Env(args.quick)
    if not E.cuda and not args.quick:
        raise SystemExit("no CUDA device: use --quick for a check of the script on the CPU")
    run = Run(args, E)
    K = GM._import_kernels()
    meta = K.machine_info("torch")
    meta.update(GM._versions())
    meta["nvidia_smi"] = GM._smi()
    meta["nvcc"] = GM._nvcc()
    meta["allow_tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)
    meta["script"] = SCRIPT
    meta["argv"] = sys.argv
    meta["started_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta["has_grouped_mm"] = hasattr(torch, "_grouped_mm")
    meta["has_scaled_grouped_mm"] = hasattr(torch, "_scaled_grouped_mm")
    run.meta = meta
    log(json.dumps({k: meta.get(k) for k in ("gpu_name", "gpu_driver", "cuda_version",
                                             "torch_version", "triton_version")}))
    log(f"nvidia-smi: {meta['nvidia_smi']}")
    log(f"machine key {run.machine}; budget {args.budget_s:.0f} s")
    if args.only == "qwen3":
        for name, fn in qwen_sections(run):
            run.section(name, fn)
        return _finish(run, meta)
    if args.only == "large-batch":
        for name, fn in large_batch_sections(run):
            run.section(name, fn)
        return _finish(run, meta)

    c8, c70, cv3 = cfgs(run)
    tps = (1, 2) if args.quick else ((8,) if args.smoke else (1, 2, 4, 8))
    n70 = 2 if args.quick else 8

    def whole8(prec):
        return lambda: dense_decode(run, c8, 1, prec, c8.n_layers, True)

    run.section("checks against float32", lambda: checks_section(run))
    run.section("llama-3.1-8b decode bf16", whole8("bf16"))
    eps = (4, 1) if args.quick else (8, 1)
    for ep in eps:
        run.section(
            f"deepseek-v3 decode bf16 ep={ep}", lambda ep=ep: mla_decode(run, cv3, ep, "bf16")
        )
    for tp in tps:
        run.section(f"llama-3.1-70b slice decode bf16 tp={tp}",
                    lambda tp=tp: dense_decode(run, c70, tp, "bf16", n70, False))
    run.section("llama-3.1-8b prefill bf16",
                lambda: dense_prefill(run, c8, 1, "bf16", c8.n_layers, True))
    for tp in (tps if args.quick or args.smoke else (1, 8)):
        run.section(f"llama-3.1-70b slice prefill bf16 tp={tp}",
                    lambda tp=tp: dense_prefill(run, c70, tp, "bf16", n70, False))
    run.section(f"deepseek-v3 prefill bf16 ep={eps[0]}",
                lambda: mla_prefill(run, cv3, eps[0], "bf16"))
    run.section("llama-3.1-8b decode fp8", whole8("fp8"))
    for ep in eps:
        run.section(
            f"deepseek-v3 decode fp8 ep={ep}", lambda ep=ep: mla_decode(run, cv3, ep, "fp8")
        )
    run.section("llama-3.1-8b decode fp8 per-tensor scales",
                lambda: dense_decode(run, c8, 1, "fp8", c8.n_layers, True, fp8_mode="tensorwise"))
    run.section("llama-3.1-8b attention alone",
                lambda: dense_attention_only(run, c8, 1, c8.n_layers))
    run.section("llama-3.1-70b attention alone tp=8",
                lambda: dense_attention_only(run, c70, 8 if not args.quick else 2, n70))
    run.section("deepseek-v3 MLA attention alone",
                lambda: mla_attention_only(run, cv3, sum(v3_layers(run, 8))))
    for ep in eps:
        for prec in ("bf16", "fp8"):
            run.section(f"deepseek-v3 MoE alone {prec} ep={ep}",
                        lambda ep=ep, prec=prec: moe_only(run, cv3, ep, prec))
    for tp in tps:
        run.section(f"llama-3.1-70b slice decode fp8 tp={tp}",
                    lambda tp=tp: dense_decode(run, c70, tp, "fp8", n70, False))
    run.section("llama-3.1-70b slice decode fp8 per-tensor scales tp=8",
                lambda: dense_decode(run, c70, tps[-1], "fp8", n70, False, fp8_mode="tensorwise"))
    run.section("llama-3.1-8b prefill fp8",
                lambda: dense_prefill(run, c8, 1, "fp8", c8.n_layers, True))
    run.section(f"deepseek-v3 prefill fp8 ep={eps[0]}",
                lambda: mla_prefill(run, cv3, eps[0], "fp8"))
    for tp in (tps if args.quick or args.smoke else (1, 8)):
        run.section(f"llama-3.1-70b slice prefill fp8 tp={tp}",
                    lambda tp=tp: dense_prefill(run, c70, tp, "fp8", n70, False))
    run.section(f"deepseek-v3 prefill bf16 ep={eps[1]}",
                lambda: mla_prefill(run, cv3, eps[1], "bf16"))
    for tp in ((2, 4) if not (args.quick or args.smoke) else ()):
        run.section(f"llama-3.1-70b slice prefill bf16 tp={tp}",
                    lambda tp=tp: dense_prefill(run, c70, tp, "bf16", n70, False))

    return _finish(run, meta)


def _finish(run, meta):
    meta["nvidia_smi_after"] = GM._smi()
    run.write()
    log(f"done: {len(run.rows)} rows in {time.perf_counter() - run.t0:.0f} s; "
        f"failures: {run.failures or 'none'}; skipped {len(run.skipped)}")
    for s in run.skipped:
        log(f"   skipped {s}")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
