"""Measure kernel timings on a GPU with econ.kernels' torch backend, and write them as data.

Run once on a GPU machine (the device tool), from the repository root:

    PYTHONUNBUFFERED=1 python3 tests/benchmarks/gpu_measure.py --out "$OUT"

It runs the harness of ``econ.kernels`` with ``backend="torch"`` (CUDA events)
and adds what only a GPU shows:

- dense GEMM in FP32 (no TF32), FP16, BF16 and FP8 (``torch._scaled_mm``) up to a
  large size: the achievable compute ceiling, against the datasheet;
- device-to-device copy bandwidth;
- the BF16 batch-size sweep at fixed weights (decode vs prefill regime);
- MHA vs MLA-style latent attention decode at long context (BF16), plus PyTorch's
  fused ``scaled_dot_product_attention`` for MHA;
- MoE grouped vs naive vs dense of equal FLOPs (BF16);
- the same BF16 matrix product through cuBLAS (PyTorch), a tiled Triton kernel
  (below), JAX/XLA and CuPy, each checked against a float32 reference.

It writes, under ``--out``: ``gpu_timings.csv`` and ``gpu_machines.csv`` in the
layout of ``data/`` (key, source columns), ``machine.json`` and ``log.txt``.
Every section is guarded: one that fails is logged and the others still run;
the CSV is rewritten after each section, so a run cut short keeps what it
measured.

``--quick`` runs tiny shapes, for checking the script on a machine without a
GPU (PyTorch on the CPU; Triton in its interpreter; JAX on the CPU).

The numbers it writes are measurements: commit them as they come, never edit them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "tests/benchmarks/gpu_measure.py"


def _import_kernels():
    """Import econ.kernels without econ/__init__ (which pulls in charting libraries)."""
    if "econ" not in sys.modules:
        pkg = types.ModuleType("econ")
        pkg.__path__ = [str(ROOT / "econ")]
        sys.modules["econ"] = pkg
    import econ.kernels as kernels
    return kernels


LOG_LINES: list[str] = []


def log(msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    LOG_LINES.append(line)


# ----------------------------------------------------------------------------------------
# Triton: a standard tiled matrix product (the Triton tutorial's grouped-ordering kernel)
# ----------------------------------------------------------------------------------------

def _triton_matmul_factory(quick):
    import triton
    import triton.language as tl

    if quick:
        configs = [triton.Config({"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32, "GROUP_M": 4},
                                 num_stages=1, num_warps=4)]
    else:
        configs = [
            triton.Config({"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8},
                          num_stages=3, num_warps=8),
            triton.Config({"BLOCK_M": 256, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8},
                          num_stages=3, num_warps=8),
            triton.Config({"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8},
                          num_stages=4, num_warps=4),
            triton.Config({"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8},
                          num_stages=4, num_warps=8),
            triton.Config({"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8},
                          num_stages=4, num_warps=8),
            triton.Config({"BLOCK_M": 64, "BLOCK_N": 256, "BLOCK_K": 32, "GROUP_M": 8},
                          num_stages=4, num_warps=4),
        ]

    @triton.autotune(configs=configs, key=["M", "N", "K"])
    @triton.jit
    def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                      stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                      GROUP_M: tl.constexpr):
        pid = tl.program_id(axis=0)
        num_pid_m = tl.cdiv(M, BLOCK_M)
        num_pid_n = tl.cdiv(N, BLOCK_N)
        num_pid_in_group = GROUP_M * num_pid_n
        group_id = pid // num_pid_in_group
        first_pid_m = group_id * GROUP_M
        group_size_m = min(num_pid_m - first_pid_m, GROUP_M)
        pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
        pid_n = (pid % num_pid_in_group) // group_size_m
        offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
        offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
        offs_k = tl.arange(0, BLOCK_K)
        a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
        b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k in range(0, tl.cdiv(K, BLOCK_K)):
            a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_K, other=0.0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_K, other=0.0)
            acc = tl.dot(a, b, acc)
            a_ptrs += BLOCK_K * stride_ak
            b_ptrs += BLOCK_K * stride_bk
        c = acc.to(c_ptr.dtype.element_ty)
        offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
        c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
        tl.store(c_ptrs, c, mask=c_mask)

    def matmul(a, b, c):
        m, k = a.shape
        _, n = b.shape

        def grid(meta):
            return (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)
        matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                            c.stride(0), c.stride(1))
        return c

    return matmul, matmul_kernel


# ----------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------

class Run:
    def __init__(self, out, quick, K):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.quick = quick
        self.K = K
        self.frames = []
        self.failures = []
        self.meta = {}

    def section(self, name, fn):
        log(f"== {name}")
        t0 = time.perf_counter()
        try:
            df = fn()
            if df is not None and len(df):
                self.frames.append(df)
                log(f"   {len(df)} rows in {time.perf_counter() - t0:.1f} s")
                _print_brief(df)
        except Exception as exc:  # keep going, record the failure
            msg = f"{name}: {type(exc).__name__}: {exc}"
            self.failures.append(msg)
            log("   FAILED " + msg)
            LOG_LINES.append(traceback.format_exc())
            print(traceback.format_exc(), flush=True)
        finally:
            _free()
        self.write()

    def write(self):
        import pandas as pd
        self.meta["failures"] = self.failures
        (self.out / "machine.json").write_text(json.dumps(self.meta, indent=2, default=str))
        (self.out / "log.txt").write_text("\n".join(LOG_LINES) + "\n")
        if not self.frames:
            return
        df = pd.concat(self.frames, ignore_index=True)
        data_table(df, self.meta).to_csv(self.out / "gpu_timings.csv", index=False)
        machines_table(self.meta).to_csv(self.out / "gpu_machines.csv", index=False)


def run_log(out):
    """``log(msg)`` that prints a timestamped line and appends it to ``out/log.txt`` (the
    folder made first): the log of a recording script's run."""
    os.makedirs(out, exist_ok=True)
    logf = open(os.path.join(out, "log.txt"), "a")

    def log_line(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    return log_line


def run_machine(torch, out, script, suffix):
    """The machine a recording script runs on: its metadata (device, versions, date) written
    to ``out/machine.json`` and returned, keyed ``<gpu>-<date>-<suffix>``."""
    meta = _import_kernels().machine_info("torch")
    meta.update(_versions())
    meta.update(nvidia_smi=_smi(), nvcc=_nvcc(), script=script,
                allow_tf32=bool(torch.backends.cuda.matmul.allow_tf32),
                started_utc=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    meta.setdefault("measured_date", dt.date.today().isoformat())
    meta["date"] = meta["measured_date"]
    meta["machine"] = machine_key(meta) + f"-{suffix}"
    json.dump(meta, open(os.path.join(out, "machine.json"), "w"), indent=1, default=str)
    return meta


def write_machine_row(meta, out, script):
    """``out/gpu_machines.csv``: the run's machine as a row of ``data/gpu_machines.csv``."""
    mt = machines_table(meta)
    mt["name"] = meta["machine"]
    mt["source_url"] = f"measured:{script}"
    mt["notes"] = mt["notes"].str.replace(SCRIPT, script)
    mt.to_csv(os.path.join(out, "gpu_machines.csv"), index=False, lineterminator="\n")


def graph_replay_times(torch, fn, replays):
    """Seconds per replay of ``fn()`` captured in one CUDA graph, sorted: three warm-up calls
    on a side stream, the capture, five warm-up replays, then ``replays`` replays timed with
    CUDA events around each (used by gpu_quant.py and gpu_sampling.py)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    for _ in range(5):
        g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(replays):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return sorted(times)


def _free():
    try:
        import torch
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
    except Exception:
        pass


def _print_brief(df):
    cols = [
        c
        for c in (
            "kernel",
            "variant",
            "backend",
            "dtype",
            "shape",
            "median_s",
            "spread_ratio",
            "achieved_flop_per_s",
            "achieved_bytes_per_s",
            "check_rel_error_ratio",
        )
        if c in df.columns
    ]
    with_pd = df[cols].copy()
    for c in ("achieved_flop_per_s", "achieved_bytes_per_s"):
        if c in with_pd:
            with_pd[c] = (with_pd[c] / 1e12).round(3)
    print(with_pd.rename(columns={"achieved_flop_per_s": "TFLOP/s",
                                  "achieved_bytes_per_s": "TB/s"}).to_string(index=False),
          flush=True)


def _versions():
    out = {}
    for mod in ("torch", "triton", "jax", "jaxlib", "cupy", "numpy", "pandas"):
        try:
            m = __import__(mod)
            out[f"{mod}_version"] = getattr(m, "__version__", "unknown")
        except Exception as exc:
            out[f"{mod}_version"] = f"not available ({type(exc).__name__})"
    return out


def _smi():
    try:
        res = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                              "clocks.max.sm,clocks.max.mem,power.limit,pstate",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=30, check=False)
        return res.stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi not available ({type(exc).__name__})"


def _nvcc():
    try:
        res = subprocess.run(["nvcc", "--version"], capture_output=True, text=True, timeout=30,
                             check=False)
        return res.stdout.strip().splitlines()[-1] if res.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "not available"


class _Be:
    """What econ.kernels._row needs to know about a backend."""

    def __init__(self, name, device):
        self.name = name
        self.device = device

    @staticmethod
    def threads():
        return float("nan")


def _rel_err(out, ref):
    import torch
    out = out.to(torch.float32)
    return float((out - ref).norm() / ref.norm())


# ----------------------------------------------------------------------------------------
# sections
# ----------------------------------------------------------------------------------------

def gemm_section(K, quick, budget, dtype):
    if quick:
        if dtype == "float8_e4m3fn":
            return None
        return K.benchmark_gemm(sizes=(64, 128), dtype=dtype, backend="torch",
                                time_budget_s=budget)
    sizes = {"float32": (2048, 4096, 8192), "bfloat16": (1024, 2048, 4096, 8192, 16384),
             "float16": (4096, 8192), "float8_e4m3fn": (4096, 8192, 16384)}[dtype]
    return K.benchmark_gemm(sizes=sizes, dtype=dtype, backend="torch", time_budget_s=budget,
                            n_repeats_max=100)


def copy_section(K, quick, budget):
    sizes = (2**20, 2**22) if quick else (64 * 2**20, 256 * 2**20, 2**30, 4 * 2**30)
    return K.benchmark_copy(sizes_bytes=sizes, backend="torch", time_budget_s=budget,
                            n_repeats_max=100)


def sweep_section(K, quick, budget):
    if quick:
        return K.benchmark_batch_sweep(batch_sizes=(1, 4, 16), d_in_dim=128, d_out_dim=128,
                                       dtype="bfloat16", backend="torch", time_budget_s=budget)
    return K.benchmark_batch_sweep(batch_sizes=tuple(2**i for i in range(15)), d_in_dim=8192,
                                   d_out_dim=8192, dtype="bfloat16", backend="torch",
                                   time_budget_s=budget, n_repeats_max=100)


def attention_section(K, quick, budget):
    import pandas as pd
    import torch
    if quick:
        b, h, d, lat, ctx = 2, 4, 16, 32, (64,)
    else:
        b, h, d, lat, ctx = 8, 128, 128, 576, (4096, 16384, 32768)
    df = K.benchmark_attention_decode(context_tok=ctx, n_batch=b, n_heads=h, head_dim=d,
                                      latent_dim=lat, dtype="bfloat16", backend="torch",
                                      time_budget_s=budget * 0.7, n_repeats_max=100)
    # PyTorch's fused attention for the MHA cache (flash / memory-efficient kernels)
    rows = []
    be = K._TorchBackend(1)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    for t in ctx:
        kc = be.rand((b, h, t, d), "bfloat16")
        vc = be.rand((b, h, t, d), "bfloat16")
        q = be.rand((b, h, 1, d), "bfloat16")
        with torch.no_grad():  # check on the first sequence (a float32 copy of all is large)
            q1, k1, v1 = q[:1], kc[:1], vc[:1]
            ref = (
                torch.softmax((q1.float() @ k1.float().transpose(-1, -2)) / d**0.5, -1) @ v1.float()
            )
            err = _rel_err(sdpa(q1, k1, v1), ref)
            del ref, q1, k1, v1
        stats = K.time_callable(
            sdpa,
            [(q, kc, vc)],
            sync=torch.cuda.synchronize if be.cuda else None,
            time_budget_s=budget * 0.3 / len(ctx),
            n_repeats_max=100,
        )
        dims = {"n_batch": b, "context_tok": t, "n_heads": h, "head_dim": d, "latent_dim": lat}
        size = 2
        row = K._row("attention_decode", "mha", "torch scaled_dot_product_attention", be,
                     "bfloat16", f"B={b},T={t},H={h},D={d},L={lat}", dims,
                     4.0 * b * h * t * d, 2 * b * h * t * d * size + 2 * b * h * d * size, stats)
        row["check_rel_error_ratio"] = err
        rows.append(row)
        del kc, vc, q
        _free()
    return pd.concat([df, pd.DataFrame(rows)], ignore_index=True)


def moe_section(K, quick, budget):
    if quick:
        return K.benchmark_moe(n_tokens=(8,), d_model_dim=64, d_ff_dim=32, n_experts=4, top_k=2,
                               dtype="bfloat16", backend="torch", time_budget_s=budget)
    # DeepSeek-V2-Lite-shaped experts: d_model 2048, expert d_ff 1408, 64 experts, top-6
    return K.benchmark_moe(n_tokens=(64, 4096), d_model_dim=2048, d_ff_dim=1408, n_experts=64,
                           top_k=6, dtype="bfloat16", backend="torch", time_budget_s=budget,
                           n_repeats_min=3, n_repeats_max=100)


def stacks_section(K, quick, budget, meta):
    """The same BF16 product through cuBLAS (torch), Triton, JAX/XLA and CuPy."""
    import pandas as pd
    import torch
    sizes = (128,) if quick else (4096, 8192)
    be = K._TorchBackend(2)
    sync = torch.cuda.synchronize if be.cuda else None
    rows = []
    per = budget / (4 * len(sizes))

    def add(backend, impl, dtype, n, stats, err, device):
        size = 2
        row = K._row("gemm", "matmul", impl, _Be(backend, device), dtype, f"m={n},n={n},k={n}",
                     {"m_dim": n, "n_dim": n, "k_dim": n}, 2.0 * n**3, 3.0 * n * n * size, stats)
        row["check_rel_error_ratio"] = err
        rows.append(row)
        log(f"   {backend:6s} {dtype} n={n}: {row['achieved_flop_per_s'] / 1e12:.1f} TFLOP/s, "
            f"rel err {err:.2e}")

    checks = {}
    for n in sizes:
        a = be.rand((n, n), "bfloat16")
        b = be.rand((n, n), "bfloat16")
        checks[n] = (a, b, a.float() @ b.float())

    # cuBLAS through torch, with the check column (same inputs as the others)
    for n in sizes:
        a, b, ref = checks[n]
        c = torch.empty((n, n), device=be.dev, dtype=torch.bfloat16)
        err = _rel_err(torch.matmul(a, b), ref)
        stats = K.time_callable(lambda x, y: torch.matmul(x, y, out=c), [(a, b)], sync=sync,
                                time_budget_s=per, n_repeats_max=100)
        add("torch", "torch.matmul (cuBLAS)", "bfloat16", n, stats, err, be.device)

    # Triton
    try:
        matmul, kern = _triton_matmul_factory(quick)
        for n in sizes:
            a, b, ref = checks[n]
            c = torch.empty((n, n), device=be.dev, dtype=torch.bfloat16)
            c.fill_(float("nan"))
            t0 = time.perf_counter()
            matmul(a, b, c)  # autotunes on first call
            if sync:
                sync()
            err = _rel_err(c, ref)
            best = getattr(kern, "best_config", None)
            log(f"   triton autotune+compile n={n}: {time.perf_counter() - t0:.1f} s, best {best}")
            meta.setdefault("triton_best_config", {})[str(n)] = str(best)
            stats = K.time_callable(matmul, [(a, b, c)], sync=sync, time_budget_s=per,
                                    n_repeats_max=100)
            add("triton", f"Triton tiled kernel ({SCRIPT}), best of autotune: {best}",
                "bfloat16", n, stats, err, be.device)
    except Exception as exc:
        meta.setdefault("stack_failures", []).append(f"triton: {type(exc).__name__}: {exc}")
        log(f"   triton FAILED: {type(exc).__name__}: {exc}")
        print(traceback.format_exc(), flush=True)
    _free()

    # JAX / XLA
    try:
        import jax
        import jax.numpy as jnp
        import numpy as np
        jdev = jax.devices()[0]
        meta["jax_device"] = str(jdev)
        f = jax.jit(jnp.matmul)
        holder = [None]
        for n in sizes:
            a, b, ref = checks[n]
            ja = jax.device_put(jnp.asarray(a.float().cpu().numpy(), dtype=jnp.bfloat16), jdev)
            jb = jax.device_put(jnp.asarray(b.float().cpu().numpy(), dtype=jnp.bfloat16), jdev)
            out = f(ja, jb).block_until_ready()
            got = torch.from_numpy(np.array(out.astype(jnp.float32))).to(be.dev)
            err = _rel_err(got, ref)

            def run(x, y):
                holder[0] = f(x, y)

            stats = K.time_callable(run, [(ja, jb)], sync=lambda: holder[0].block_until_ready(),
                                    time_budget_s=per, n_repeats_max=100)
            add("jax", f"jax.jit(jnp.matmul) via XLA on {jdev.platform}", "bfloat16", n, stats,
                err, be.device)
            del ja, jb, out, got
            holder[0] = None
    except Exception as exc:
        meta.setdefault("stack_failures", []).append(f"jax: {type(exc).__name__}: {exc}")
        log(f"   jax FAILED: {type(exc).__name__}: {exc}")
        print(traceback.format_exc(), flush=True)
    _free()

    # CuPy (its matmul calls cuBLAS too: a second wrapper, not a second library)
    try:
        import cupy as cp
        for n in sizes:
            a, b, ref = checks[n]
            try:
                ca, cb = cp.from_dlpack(a), cp.from_dlpack(b)
                dtype = "bfloat16"
                cc = cp.matmul(ca, cb)
                got = torch.from_dlpack(cc).float()
            except Exception as exc:  # no bf16 in this CuPy: use float16
                log(f"   cupy bf16 not usable ({type(exc).__name__}: {exc}); float16 instead")
                dtype = "float16"
                ca = cp.asarray(a.float().cpu().numpy()).astype(cp.float16)
                cb = cp.asarray(b.float().cpu().numpy()).astype(cp.float16)
                cc = cp.matmul(ca, cb)
                got = torch.from_numpy(cp.asnumpy(cc.astype(cp.float32))).to(be.dev)
            err = _rel_err(got, ref)
            out = cp.empty_like(cc)
            stats = K.time_callable(lambda x, y: cp.matmul(x, y, out=out), [(ca, cb)],
                                    sync=lambda: cp.cuda.get_current_stream().synchronize(),
                                    time_budget_s=per, n_repeats_max=100)
            add("cupy", "cupy.matmul (cuBLAS)", dtype, n, stats, err, be.device)
            del ca, cb, cc, out
    except Exception as exc:
        meta.setdefault("stack_failures", []).append(f"cupy: {type(exc).__name__}: {exc}")
        log(f"   cupy FAILED: {type(exc).__name__}: {exc}")
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------
# data tables
# ----------------------------------------------------------------------------------------

TIMING_COLUMNS = [
    "name", "machine", "kernel", "variant", "impl", "backend", "device", "dtype", "shape",
    "m_dim", "n_dim", "k_dim", "n_batch", "context_tok", "n_heads", "head_dim", "latent_dim",
    "n_tokens", "n_experts", "n_active_experts", "d_model_dim", "d_ff_dim",
    "work_flop", "bytes_moved_bytes", "median_s", "min_s", "spread_ratio", "n_repeats",
    "achieved_flop_per_s", "achieved_bytes_per_s", "check_rel_error_ratio",
    "source_url", "source_date", "source_kind", "notes",
]
MACHINE_COLUMNS = [
    "name", "gpu_name", "gpu_memory_bytes", "n_gpu_multiprocessors", "gpu_driver",
    "cuda_version", "torch_version", "triton_version", "jax_version", "cupy_version",
    "python_version", "numpy_version", "cpu_model", "n_cpu_cores", "platform", "nvidia_smi",
    "source_url", "source_date", "source_kind", "notes",
]


def machine_key(meta):
    gpu = str(meta.get("gpu_name", "cpu")).lower()
    tag = next((t for t in ("h200", "h100", "h800", "a100", "b200") if t in gpu), "gpu")
    if meta.get("gpu_name", "none") == "none":
        tag = "cpu-only-test"
    return f"{tag}-{meta.get('measured_date', dt.date.today().isoformat())}"


def data_table(df, meta):
    import numpy as np
    out = df.copy()
    key = machine_key(meta)
    out["machine"] = key
    out["name"] = (key + "/" + out["backend"] + "/" + out["kernel"] + "/" + out["variant"] + "/"
                   + out["dtype"] + "/" + out["shape"])
    # an implementation can appear twice at one shape (e.g. MHA through matmul and through sdpa)
    dup = out["name"].duplicated(keep=False)
    if dup.any():
        slug = out.loc[dup, "impl"].str.replace(r"[^A-Za-z0-9._]+", "_", regex=True).str[:40]
        out.loc[dup, "name"] = out.loc[dup, "name"] + "/" + slug
    out["source_url"] = f"measured:{SCRIPT}"
    out["source_date"] = meta.get("measured_date", dt.date.today().isoformat())
    out["source_kind"] = "measured"
    n = out["n_repeats"].astype(int).astype(str)
    out["notes"] = ("median of " + n + " timed samples after warm-up (CUDA events for torch; "
                    "host clock + synchronize for triton/jax/cupy); impl: " + out["impl"])
    for c in TIMING_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    return out[TIMING_COLUMNS]


def machines_table(meta):
    import pandas as pd
    row = {c: meta.get(c, "") for c in MACHINE_COLUMNS}
    row["name"] = machine_key(meta)
    row["source_url"] = f"measured:{SCRIPT}"
    row["source_date"] = meta.get("measured_date", "")
    row["source_kind"] = "measured"
    row["notes"] = (f"read on the machine by {SCRIPT} (torch.cuda device properties, "
                    f"nvidia-smi, module versions); runtime {meta.get('platform', '')}; "
                    f"nvcc {meta.get('nvcc', '')}; TF32 for float32 matmul "
                    f"{'on' if meta.get('allow_tf32') else 'off'}")
    return pd.DataFrame([row])[MACHINE_COLUMNS]


# ----------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        default=os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu_measure_"),
        help="folder for the CSVs, machine.json and log.txt (default $OUT, else a "
        "new temporary folder)",
    )
    ap.add_argument("--quick", action="store_true", help="tiny shapes (check the script)")
    ap.add_argument("--budget-s", type=float, default=None,
                    help="time budget per section [s] (default 30, quick 1)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()

    import torch
    if args.quick and not torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # leave memory to torch
    K = _import_kernels()
    run = Run(args.out, args.quick, K)
    budget = args.budget_s or (1.0 if args.quick else 30.0)

    meta = K.machine_info("torch")
    meta.update(_versions())
    meta["nvidia_smi"] = _smi()
    meta["nvcc"] = _nvcc()
    meta["allow_tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)
    meta["script"] = SCRIPT
    meta["argv"] = sys.argv
    meta["started_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    run.meta = meta
    log(json.dumps({k: meta[k] for k in ("gpu_name", "gpu_driver", "cuda_version", "torch_version",
                                         "triton_version", "jax_version", "cupy_version")
                    if k in meta}))
    log(f"nvidia-smi: {meta['nvidia_smi']}")

    for dtype, share in (("bfloat16", 0.5), ("float8_e4m3fn", 0.4), ("float16", 0.3),
                         ("float32", 0.3)):
        run.section(f"gemm {dtype}", lambda d=dtype, s=share: gemm_section(K, args.quick,
                                                                          budget * s, d))
    run.section("device-to-device copy", lambda: copy_section(K, args.quick, budget * 0.4))
    run.section("bf16 batch sweep", lambda: sweep_section(K, args.quick, budget))
    run.section("attention decode MHA vs MLA", lambda: attention_section(K, args.quick, budget))
    run.section("MoE grouped vs naive vs dense", lambda: moe_section(K, args.quick, budget * 1.2))
    run.section("bf16 matmul: cuBLAS vs Triton vs JAX vs CuPy",
                lambda: stacks_section(K, args.quick, budget, meta))
    meta["wall_s"] = round(time.perf_counter() - t_start, 1)
    meta["nvidia_smi_after"] = _smi()
    run.write()
    log(f"done in {meta['wall_s']} s; failures: {run.failures or 'none'}; "
        f"stack failures: {meta.get('stack_failures', 'none')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
