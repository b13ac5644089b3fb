"""Time what quantizing a matmul's activations costs inside a step, and write it as data.

Run once on a GPU machine (the device tool), from the repository root:

    PYTHONUNBUFFERED=1 python3 tests/benchmarks/gpu_quant.py --out "$OUT"

An FP8 (or FP4) matmul multiplies quantized activations: before each such matmul a step
quantizes the activations it receives (finds their scale, casts them). Serving engines do it
in one fused kernel per matmul (vLLM's ``per_token_group_quant_fp8`` and
``dynamic_per_token_scaled_fp8_quant``, SGLang's ``per_token_group_quant_fp8``); the
project's step harness (``gpu_steps.py``) does it in PyTorch's eager operations (abs, amax,
clamp, divide, cast), several kernels. This script measures both the way a step runs them:
chains of ``L`` linear layers, each feeding the next, captured in one CUDA graph and
replayed (CUDA events around each replay, warm-up first, median of many replays), with a
distinct random weight per layer (normal, never zeros) so that every layer streams its
weights from HBM as in a step:

- ``bf16_linear``: ``torch.nn.functional.linear`` in BF16 (the reference);
- ``fp8_linear``: ``torch._scaled_mm`` on activations quantized outside the graph (the
  matmul alone);
- ``fp8_linear_fused_quant``: one Triton kernel per layer that finds each row's scale and
  casts (one read of the activations, one write), then ``torch._scaled_mm``: a serving
  engine's FP8 linear;
- ``fp8_linear_eager_quant``: the harness's quantization (its ``fp8_linear``), then
  ``torch._scaled_mm``;
- ``fused_quant`` and ``fused_group_quant``: the fused kernel alone, per row and per group
  of 128 (vLLM's block-FP8 layout), chained over the same activations.

The time a quantization adds to a layer is the difference between a chain with it and the
chain of the matmul alone (``fp8_linear``), per layer: what ``econ`` charges a quantized
matmul. Shapes: square weights of 4096 and 8192 (a 8B and a 70B model's hidden width) at
1 to 4096 rows (tokens of a step).

Before timing, each variant's output is checked against a float32 reference on random
inputs (relative error written to ``check_rel_error_ratio``; NaN stops the case).

It writes, under ``--out``: ``gpu_timings.csv`` (the layout of ``data/gpu_timings.csv``,
kernel ``act_quant``), ``gpu_machines.csv`` (one row in the layout of
``data/gpu_machines.csv``), ``machine.json`` and ``log.txt``. ``--quick`` checks the
script on tiny shapes (needs CUDA: the graphs and ``_scaled_mm`` have no CPU path).

The numbers it writes are measurements: commit them as they come, never edit them.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_measure as GM  # versions, nvidia-smi, the machines table

VARIANTS = ("bf16_linear", "fp8_linear", "fp8_linear_fused_quant", "fp8_linear_eager_quant",
            "fused_quant", "fused_group_quant")
FP8_MAX = 448.0
#: Activation bytes per element of the input each variant moves (the square weights make the
#: output as wide as the input): BF16 linear reads BF16 and writes BF16 (4); the FP8 matmul
#: reads the FP8 code and writes BF16 (3); a fused quantization reads BF16 and writes the
#: code (3) and the step harness's eager one 25 (abs 4, amax 2, float 6, divide 8, cast 5).
ACT_BYTES_PER_ELEM = {"bf16_linear": 4.0, "fp8_linear": 3.0, "fp8_linear_fused_quant": 6.0,
                      "fp8_linear_eager_quant": 28.0, "fused_quant": 3.0,
                      "fused_group_quant": 3.0}
GROUP = 128


def _kernels(triton, tl):
    @triton.jit
    def quant_row(x_ptr, q_ptr, s_ptr, K, BLOCK: tl.constexpr):
        """One program per row: its absolute maximum, the scale, the cast."""
        row = tl.program_id(0)
        offs = tl.arange(0, BLOCK)
        mask = offs < K
        x = tl.load(x_ptr + row * K + offs, mask=mask, other=0.0).to(tl.float32)
        amax = tl.maximum(tl.max(tl.abs(x), axis=0), 1e-12)
        s = amax / 448.0
        q = tl.clamp(x / s, -448.0, 448.0)
        tl.store(q_ptr + row * K + offs, q.to(q_ptr.dtype.element_ty), mask=mask)
        tl.store(s_ptr + row, s)

    @triton.jit
    def quant_group(x_ptr, q_ptr, s_ptr, GROUP_SIZE: tl.constexpr):
        """One program per group of 128 consecutive elements of a row."""
        g = tl.program_id(0)
        offs = g * GROUP_SIZE + tl.arange(0, GROUP_SIZE)
        x = tl.load(x_ptr + offs).to(tl.float32)
        amax = tl.maximum(tl.max(tl.abs(x), axis=0), 1e-12)
        s = amax / 448.0
        q = tl.clamp(x / s, -448.0, 448.0)
        tl.store(q_ptr + offs, q.to(q_ptr.dtype.element_ty))
        tl.store(s_ptr + g, s)

    return quant_row, quant_group


class Bench:
    def __init__(self, torch, triton, tl, log):
        self.torch, self.triton, self.log = torch, triton, log
        self.fp8 = torch.float8_e4m3fn
        self.quant_row, self.quant_group = _kernels(triton, tl)
        self.pad16 = False

    # --- the operations ----------------------------------------------------------------------
    def fused_row(self, x):
        torch = self.torch
        m, k = x.shape
        q = torch.empty((m, k), device=x.device, dtype=self.fp8)
        s = torch.empty((m, 1), device=x.device, dtype=torch.float32)
        self.quant_row[(m,)](x, q, s, k, BLOCK=self.triton.next_power_of_2(k))
        return q, s

    def fused_group(self, x):
        torch = self.torch
        m, k = x.shape
        q = torch.empty((m, k), device=x.device, dtype=self.fp8)
        s = torch.empty((m, k // GROUP), device=x.device, dtype=torch.float32)
        self.quant_group[(m * k // GROUP,)](x, q, s, GROUP_SIZE=GROUP)
        return q, s

    def eager(self, x):
        """The step harness's activation quantization (gpu_steps.fp8_linear, row-wise)."""
        amax = x.abs().amax(dim=-1, keepdim=True).float().clamp_min(1e-12)
        sa = amax / FP8_MAX
        return (x.float() / sa).to(self.fp8), sa

    def scaled_mm(self, xq, sa, wq, sw):
        torch = self.torch
        m = xq.shape[0]
        if self.pad16 and m % 16:
            pad = 16 - m % 16
            xq = torch.cat([xq, xq.new_zeros((pad, xq.shape[1]))])
            sa = torch.cat([sa, sa.new_ones((pad, 1))])
            return torch._scaled_mm(xq, wq.t(), scale_a=sa, scale_b=sw,
                                    out_dtype=torch.bfloat16)[:m]
        return torch._scaled_mm(xq, wq.t(), scale_a=sa, scale_b=sw, out_dtype=torch.bfloat16)

    def probe(self):
        """Whether row-wise _scaled_mm takes any row count here, or rows padded to 16."""
        torch = self.torch
        w = torch.randn((64, 64), device="cuda", dtype=torch.bfloat16)
        wq, sw = self.quant_weight(w)
        x = torch.randn((3, 64), device="cuda", dtype=torch.bfloat16)
        try:
            xq, sa = self.fused_row(x)
            self.scaled_mm(xq, sa, wq, sw)
            torch.cuda.synchronize()
        except Exception as exc:
            self.log(f"row-wise _scaled_mm refuses 3 rows ({type(exc).__name__}); padding to 16")
            self.pad16 = True

    def quant_weight(self, w):
        amax = w.abs().amax(dim=1, keepdim=True).float().clamp_min(1e-12)
        return (w.float() / (amax / FP8_MAX)).to(self.fp8), (amax / FP8_MAX).t().contiguous()

    # --- one chain ---------------------------------------------------------------------------
    def layer_fn(self, variant, ws):
        """f(x, i) -> the next activations, for layer i of the chain."""
        torch = self.torch
        F = torch.nn.functional
        if variant == "bf16_linear":
            return lambda x, i: F.linear(x, ws["w"][i])
        if variant == "fp8_linear":
            # activations quantized once outside: the chain feeds the same quantized input
            return lambda x, i: self.scaled_mm(ws["xq"], ws["sa"], ws["wq"][i], ws["sw"][i])
        if variant == "fp8_linear_fused_quant":
            return lambda x, i: self.scaled_mm(*self.fused_row(x), ws["wq"][i], ws["sw"][i])
        if variant == "fp8_linear_eager_quant":
            return lambda x, i: self.scaled_mm(*self.eager(x), ws["wq"][i], ws["sw"][i])
        if variant == "fused_quant":
            return lambda x, i: (self.fused_row(ws["x"][i])[0], x)[1]
        if variant == "fused_group_quant":
            return lambda x, i: (self.fused_group(ws["x"][i])[0], x)[1]
        raise ValueError(variant)

    def time_chain(self, variant, ws, x0, n_layers, replays):
        torch = self.torch
        f = self.layer_fn(variant, ws)

        def chain():
            x = x0
            for i in range(n_layers):
                x = f(x, i)
            return x

        return GM.graph_replay_times(torch, chain, replays)

    def check(self, variant, ws, x):
        """Relative error of one layer's output against float32 (the quantizers: of their
        dequantized activations)."""
        torch = self.torch
        w32 = ws["w"][0].float()
        if variant in ("fused_quant", "fused_group_quant"):
            q, s = (self.fused_row if variant == "fused_quant" else self.fused_group)(x)
            if variant == "fused_group_quant":
                deq = (q.float().view(x.shape[0], -1, GROUP) * s.unsqueeze(-1)).view(x.shape)
            else:
                deq = q.float() * s
            out, ref = deq, x.float()
        else:
            out = self.layer_fn(variant, dict(ws, xq=self.eager(x)[0], sa=self.eager(x)[1]))(
                x, 0).float()
            ref = x.float() @ w32.t()
        torch.cuda.synchronize()
        if not torch.isfinite(out).all():
            raise FloatingPointError(f"{variant}: non-finite output")
        return float((out - ref).norm() / ref.norm())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--replays", type=int, default=50)
    args = ap.parse_args(argv)
    log = GM.run_log(args.out)

    import torch
    import triton
    import triton.language as tl
    if not torch.cuda.is_available():
        raise SystemExit("gpu_quant.py needs CUDA")
    torch.manual_seed(0)
    B = Bench(torch, triton, tl, log)
    B.probe()
    meta = GM.run_machine(torch, args.out, "tests/benchmarks/gpu_quant.py", "quant")
    machine = meta["machine"]
    log(f"machine {machine}: {meta.get('gpu_name')}, torch {meta.get('torch_version')}, "
        f"triton {meta.get('triton_version')}; row-wise _scaled_mm padded to 16: {B.pad16}")

    widths = (256,) if args.quick else (4096, 8192)
    rows_list = (1, 16) if args.quick else (1, 16, 64, 256, 1024, 4096)
    n_layers = 4 if args.quick else args.layers
    rows = []
    cols = ["name", "machine", "kernel", "variant", "impl", "backend", "device", "dtype", "shape",
            "m_dim", "n_dim", "k_dim", "n_batch", "context_tok", "n_heads", "head_dim",
            "latent_dim", "n_tokens", "n_experts", "n_active_experts", "d_model_dim", "d_ff_dim",
            "work_flop", "bytes_moved_bytes", "median_s", "min_s", "spread_ratio", "n_repeats",
            "achieved_flop_per_s", "achieved_bytes_per_s", "check_rel_error_ratio", "source_url",
            "source_date", "source_kind", "notes"]
    impls = {
        "bf16_linear": "torch.nn.functional.linear bf16 (cuBLAS)",
        "fp8_linear": "torch._scaled_mm e4m3, row-wise scales, activations quantized outside "
                      "the graph",
        "fp8_linear_fused_quant": "Triton per-row quantization (one kernel: amax, scale, cast) "
                                  "+ torch._scaled_mm e4m3 row-wise",
        "fp8_linear_eager_quant": "PyTorch eager quantization as tests/benchmarks/gpu_steps.py "
                                  "(abs, amax, float, clamp_min, divide, float, divide, cast) "
                                  "+ torch._scaled_mm e4m3 row-wise",
        "fused_quant": "Triton per-row quantization alone (one kernel: amax, scale, cast)",
        "fused_group_quant": "Triton per-group quantization alone (groups of 128; one kernel)",
    }
    for k in widths:
        w = [torch.randn((k, k), device="cuda", dtype=torch.bfloat16) * k ** -0.5
             for _ in range(n_layers)]
        wq, sw = zip(*(B.quant_weight(wi) for wi in w))
        for m in rows_list:
            x = torch.randn((m, k), device="cuda", dtype=torch.bfloat16)
            xs = [torch.randn((m, k), device="cuda", dtype=torch.bfloat16)
                  for _ in range(n_layers)]
            xq, sa = B.eager(x)
            ws = dict(w=w, wq=list(wq), sw=list(sw), xq=xq, sa=sa, x=xs)
            for variant in VARIANTS:
                try:
                    err = B.check(variant, ws, x)
                    t = B.time_chain(variant, ws, x, n_layers, args.replays)
                except Exception as exc:
                    log(f"k={k} m={m} {variant}: FAILED {type(exc).__name__}: {exc}")
                    continue
                med = t[len(t) // 2] / n_layers
                mn = t[0] / n_layers
                quant_only = variant in ("fused_quant", "fused_group_quant")
                flop = 0.0 if quant_only else 2.0 * m * k * k
                wbytes = 0.0 if quant_only else k * k * (2.0 if variant == "bf16_linear" else 1.0)
                abytes = m * k * ACT_BYTES_PER_ELEM[variant]
                shape = f"m={m},n={k},k={k},layers={n_layers}"
                rows.append(dict(
                    name=f"{machine}/torch/act_quant/{variant}/m={m},n={k},k={k}",
                    machine=machine, kernel="act_quant", variant=variant, impl=impls[variant],
                    backend="torch", device=meta["gpu_name"],
                    dtype="bfloat16" if variant == "bf16_linear" else "float8_e4m3fn",
                    shape=shape, m_dim=m, n_dim=k, k_dim=k, work_flop=flop,
                    bytes_moved_bytes=wbytes + abytes, median_s=med, min_s=mn,
                    spread_ratio=(t[int(len(t) * 0.9)] - t[int(len(t) * 0.1)]) / t[len(t) // 2],
                    n_repeats=len(t), achieved_flop_per_s=flop / med,
                    achieved_bytes_per_s=(wbytes + abytes) / med, check_rel_error_ratio=err,
                    source_url="measured:tests/benchmarks/gpu_quant.py",
                    source_date=meta["date"], source_kind="measured",
                    notes=(f"per layer of a chain of {n_layers} layers (each a distinct "
                           "random weight) captured in one CUDA graph: median (and min) over "
                           f"{len(t)} replays / {n_layers}; CUDA events around each replay"
                           + ("; rows padded to 16 for _scaled_mm" if B.pad16 and m % 16
                              and "fp8_linear" in variant else ""))))
                log(f"k={k} m={m} {variant:24s} {med * 1e6:9.2f} us/layer  err {err:.2e}")
                with open(os.path.join(args.out, "gpu_timings.csv"), "w", newline="") as fh:
                    wr = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
                    wr.writeheader()
                    for r in rows:
                        wr.writerow({c: r.get(c, "") for c in cols})
            del x, xs, xq, sa, ws
        del w, wq, sw
        torch.cuda.empty_cache()
    GM.write_machine_row(meta, args.out, "tests/benchmarks/gpu_quant.py")
    # the summary: what a quantization adds per layer, against the matmul alone
    by = {(r["n_dim"], r["m_dim"], r["variant"]): r["median_s"] for r in rows}
    print(f"{'k':>6} {'m':>6} {'bf16':>9} {'fp8 mm':>9} {'+fused':>9} {'+eager':>9} "
          f"{'fusedQ':>9} {'groupQ':>9}   [us per layer]")
    for k in widths:
        for m in rows_list:
            vals = [by.get((k, m, v), float("nan")) * 1e6 for v in VARIANTS]
            mm = vals[1]
            print(f"{k:6d} {m:6d} " + " ".join(f"{v:9.2f}" for v in vals)
                  + f"   fused adds {vals[2] - mm:6.2f}, eager adds {vals[3] - mm:6.2f}")


if __name__ == "__main__":
    main()
