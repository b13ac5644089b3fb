"""Timing harness: small, honest kernel measurements on this machine.

Each ``benchmark_*`` function times one family of kernels and returns a tidy
``pandas.DataFrame``, one row per shape, precision and backend, with the work
done (``work_flop``), the fewest bytes the kernel must move through memory
(``bytes_moved_bytes``: every input read once, every output written once), the
median time of the repeats (``median_s``), their spread and the achieved rates.
:func:`machine_info` records what the numbers were measured on.

Kernels
-------
- :func:`benchmark_gemm`: square matrix products (compute-bound).
- :func:`benchmark_batch_sweep`: a fixed weight matrix times 1..thousands rows:
  the batch size at which decode stops being memory-bound.
- :func:`benchmark_attention_decode`: one decode step of attention over a long
  context: a full per-head K/V cache (MHA) against a shared latent cache
  (MLA-style, DeepSeek-V2's absorbed form), same batch and context.
- :func:`benchmark_moe`: a batch of tokens through top-k of E experts (grouped
  per expert, and naive token by token) against a dense FFN of equal FLOPs.
- :func:`benchmark_copy`: a large copy, the memory-bandwidth ceiling.
- :func:`benchmark_all`: all of the above within one time budget.

Timing method
-------------
Warm-up calls first (page faults, thread start-up, library handles and
compilation stay out of the numbers), then repeated samples and their median.
Inputs are rotated among several copies whose total size exceeds the last-level
cache, so a memory-bound kernel is not flattered by a warm cache. A sample
holds as many calls as needed to last about a millisecond, so the clock's
resolution and the harness's call overhead do not count. Each function takes a
``time_budget_s``; the number of repeats adapts to it (never fewer than
``n_repeats_min``), so a whole :func:`benchmark_all` fits a notebook run.

Backends
--------
``"numpy"`` (the CPU through numpy's BLAS) is always there. ``"torch"`` runs the
same kernels through PyTorch on a CUDA GPU, timed with CUDA events, and is
listed by :func:`available_backends` when PyTorch sees a GPU (on a machine
without one it runs on the CPU, timed with the host clock: useful for tests).

CPU timings on a shared machine are noisy: other processes compete for the
same cores and caches. The spread column says how much.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from . import _checks

__all__ = [
    "available_backends",
    "machine_info",
    "time_callable",
    "benchmark_gemm",
    "benchmark_batch_sweep",
    "benchmark_attention_decode",
    "benchmark_moe",
    "benchmark_copy",
    "benchmark_all",
    "blas_thread_limit",
    "live_kernel_timings",
    "recorded_gpu_timings",
    "attention_decode_comparison",
    "moe_comparison",
    "portable_stack_comparison",
    "STACK_NAMES",
]

#: Total size of the rotated input copies: above the last-level cache of the
#: CPUs and GPUs we measure (32 MiB L3 here, 50-60 MB L2 on H100/H200).
_ROTATE_BYTES = {"numpy": 64 * 2**20, "torch": 256 * 2**20}
#: Most rotated copies of one input set.
_MAX_SETS = 8
#: A sample lasts at least this long (calls are grouped to reach it).
_MIN_SAMPLE_S = 1e-3

_ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "float8_e4m3fn": 1}
_DTYPES = {"numpy": ("float64", "float32"),
           "torch": ("float64", "float32", "float16", "bfloat16", "float8_e4m3fn")}

#: Column order of every table (a benchmark keeps the shape columns it uses).
_LEAD = ["kernel", "variant", "impl", "backend", "device", "dtype", "shape"]
_SHAPE = ["m_dim", "n_dim", "k_dim", "n_batch", "context_tok", "n_heads", "head_dim",
          "latent_dim", "n_tokens", "n_experts", "n_active_experts", "d_model_dim", "d_ff_dim"]
_TAIL = ["n_blas_threads", "work_flop", "bytes_moved_bytes", "median_s", "min_s",
         "spread_ratio", "n_repeats", "achieved_flop_per_s", "achieved_bytes_per_s"]


# ----------------------------------------------------------------------------------------
# machine and backends
# ----------------------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except Exception:  # any import failure means "no torch backend"
        return None
    return torch


def available_backends():
    """Backends that can run here: ``["numpy"]``, plus ``"torch"`` when PyTorch sees a GPU.

    Returns
    -------
    list of str
    """
    out = ["numpy"]
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        out.append("torch")
    return out


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:
        pools = []
    if not pools:
        return {"blas_library": "unknown", "blas_version": "unknown",
                "blas_core_type": "unknown", "n_blas_threads": float("nan")}
    p = pools[0]
    return {"blas_library": str(p.get("internal_api", "unknown")),
            "blas_version": str(p.get("version", "unknown")),
            "blas_core_type": str(p.get("architecture", "unknown")),
            "n_blas_threads": int(p.get("num_threads", 0))}


def _nvidia_smi():
    try:
        res = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return {}
    line = res.stdout.strip().splitlines()[0] if res.stdout.strip() else ""
    parts = [s.strip() for s in line.split(",")]
    if len(parts) < 3:
        return {}
    try:
        mem = float(parts[2]) * 2**20
    except ValueError:
        mem = float("nan")
    return {"gpu_driver": parts[1], "gpu_memory_bytes": mem}


def blas_thread_limit(n_threads=None):
    """Context manager: numpy's BLAS uses at most ``n_threads`` threads inside the block.

    For timing several benchmarks at one thread count (``with
    econ.blas_thread_limit(1): ...``). On cores shared with other work one thread is
    steadier: OpenBLAS's threads wait for each other, and a descheduled one stalls
    the whole product. The ``n_blas_threads`` column of each table records what was
    used.

    Parameters
    ----------
    n_threads : int, optional
        Most BLAS threads, >= 1; ``None`` leaves the library's setting. [-]

    Returns
    -------
    context manager
        ``threadpoolctl.threadpool_limits`` for the BLAS pools, or a no-op.
    """
    if n_threads is None:
        return contextlib.nullcontext()
    _checks.positive("n_threads", n_threads, integer=True)
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=int(n_threads), user_api="blas")


def machine_info(backend="numpy"):
    """What the timings are measured on: CPU, BLAS, library versions, date (and GPU).

    Parameters
    ----------
    backend : {"numpy", "torch"}
        With ``"torch"``, the GPU's name, memory, multiprocessors, driver, CUDA and
        PyTorch versions are added.

    Returns
    -------
    dict
        ``cpu_model``, ``n_cpu_cores``, ``blas_library``, ``blas_version``,
        ``blas_core_type`` (OpenBLAS's kernel family, e.g. ``SkylakeX``; forcing a
        slower one halves matmul speed), ``n_blas_threads``, ``numpy_version``,
        ``python_version``, ``platform``, ``measured_date`` (ISO), ``cpu_load_1min``
        (the load average when called: above the core count, other work competes
        for the cores and CPU timings are noisy), and for torch
        ``torch_version``, ``cuda_version``, ``gpu_name``, ``gpu_driver``,
        ``gpu_memory_bytes``, ``n_gpu_multiprocessors``.
    """
    _checks.choice("backend", backend, ["numpy", "torch"])
    info = {
        "cpu_model": _cpu_model(),
        "n_cpu_cores": os.cpu_count(),
        **_blas_info(),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "measured_date": _dt.date.today().isoformat(),
        "cpu_load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
    }
    if backend == "torch":
        torch = _torch()
        if torch is None:
            raise ValueError("backend 'torch' needs PyTorch, which is not installed here; "
                             f"available backends: {available_backends()}")
        info["torch_version"] = torch.__version__
        info["cuda_version"] = str(torch.version.cuda)
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            info["gpu_name"] = props.name
            info["gpu_memory_bytes"] = float(props.total_memory)
            info["n_gpu_multiprocessors"] = int(props.multi_processor_count)
            smi = _nvidia_smi()
            info["gpu_driver"] = smi.get("gpu_driver", "unknown")
        else:
            info["gpu_name"] = "none"
    return info


def _host_samples(run, n_sets, number, repeats, start_index=0, sync=None):
    """Time ``repeats`` groups of ``number`` calls of ``run`` on the host clock.

    Parameters
    ----------
    run : callable
        ``run(i)`` runs the kernel once on input set ``i``.
    n_sets : int
        Number of input sets; call ``k`` uses set ``k % n_sets``.
    number : int
        Calls per timed group.
    repeats : int
        Number of timed groups.
    start_index : int, default 0
        Index ``k`` of the first call.
    sync : callable, optional
        Called after each group's calls, before the clock is read (waits for queued work).

    Returns
    -------
    samples : ndarray
        Seconds per call of each group, shape ``(repeats,)``. [s]
    k : int
        Index of the next call.
    """
    out = np.empty(repeats)
    k = start_index
    clock = time.perf_counter
    for r in range(repeats):
        t0 = clock()
        for _ in range(number):
            run(k % n_sets)
            k += 1
        if sync is not None:
            sync()
        out[r] = (clock() - t0) / number
    return out, k


class _NumpyBackend:
    name = "numpy"
    device = "cpu"

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.xp = np

    def rand(self, shape, dtype):
        """Uniform on [-0.5, 0.5): cheap to draw, never zeros."""
        a = self.rng.random(shape, dtype=np.dtype(dtype))
        a -= 0.5
        return a

    def empty(self, shape, dtype):
        return np.empty(shape, dtype=np.dtype(dtype))

    def sync(self):
        return None

    @staticmethod
    def threads():
        return float(_blas_info()["n_blas_threads"])

    def to_numpy(self, a):
        return np.asarray(a, dtype=np.float64)

    def samples(self, run, n_sets, number, repeats, start_index=0):
        return _host_samples(run, n_sets, number, repeats, start_index)


class _TorchBackend:
    name = "torch"

    def __init__(self, seed=0):
        torch = _torch()
        if torch is None:
            raise ValueError("backend 'torch' needs PyTorch, which is not installed here; "
                             f"available backends: {available_backends()}")
        self.torch = torch
        self.xp = torch
        self.cuda = torch.cuda.is_available()
        self.dev = torch.device("cuda" if self.cuda else "cpu")
        self.device = torch.cuda.get_device_name(0) if self.cuda else "cpu"
        self.gen = torch.Generator(device=self.dev)
        self.gen.manual_seed(seed)

    def dtype(self, name):
        return getattr(self.torch, name)

    def rand(self, shape, dtype):
        t = self.torch
        if dtype == "float8_e4m3fn":
            a = t.rand(shape, generator=self.gen, device=self.dev, dtype=t.bfloat16)
            a -= 0.5
            return a.to(t.float8_e4m3fn)
        a = t.rand(shape, generator=self.gen, device=self.dev, dtype=self.dtype(dtype))
        a -= 0.5
        return a

    def empty(self, shape, dtype):
        return self.torch.empty(shape, device=self.dev, dtype=self.dtype(dtype))

    def threads(self):
        return float("nan") if self.cuda else float(self.torch.get_num_threads())

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def to_numpy(self, a):
        return a.detach().to(self.torch.float64).cpu().numpy()

    def samples(self, run, n_sets, number, repeats, start_index=0):
        if not self.cuda:
            return _host_samples(run, n_sets, number, repeats, start_index)
        out = np.empty(repeats)
        k = start_index
        ev = self.torch.cuda.Event
        pairs = []
        for _ in range(repeats):
            start, end = ev(enable_timing=True), ev(enable_timing=True)
            start.record()
            for _ in range(number):
                run(k % n_sets)
                k += 1
            end.record()
            pairs.append((start, end))
        self.torch.cuda.synchronize()
        for r, (start, end) in enumerate(pairs):
            out[r] = start.elapsed_time(end) * 1e-3 / number
        return out, k


def _backend(backend, seed=0):
    _checks.choice("backend", backend, ["numpy", "torch"])
    return _NumpyBackend(seed) if backend == "numpy" else _TorchBackend(seed)


# ----------------------------------------------------------------------------------------
# the timing core
# ----------------------------------------------------------------------------------------

def _check_counts(n_warmup, n_repeats_min, n_repeats_max):
    _checks.numeric("n_warmup", n_warmup, min_value=0, integer=True)
    _checks.positive("n_repeats_min", n_repeats_min, integer=True)
    _checks.positive("n_repeats_max", n_repeats_max, integer=True)
    if n_repeats_max < n_repeats_min:
        raise ValueError(f"n_repeats_max must be >= n_repeats_min ({n_repeats_min}), "
                         f"got {n_repeats_max}")


def _measure(be, run, n_sets, time_budget_s, n_warmup=1, n_repeats_min=3, n_repeats_max=50):
    """Time ``run(i)`` (i = input set) with warm-up, grouping and adaptive repeats."""
    # warm-up calls, each synchronized and timed on the host clock; the last one sets
    # the grouping and the number of repeats. A short kernel gets one more (warm) call
    # for that, since a first call can be slowed by one-off costs (library handles,
    # page faults); a long one (>= 0.1 s) is not timed twice for it.
    k, one = 0, None
    n_cal = max(int(n_warmup), 1)
    while k < n_cal:
        t0 = time.perf_counter()
        run(k % n_sets)
        be.sync()
        one = max(time.perf_counter() - t0, 1e-7)
        k += 1
        if k == n_cal == int(n_warmup) and one < 0.1:
            n_cal += 1
    number = max(1, int(math.ceil(_MIN_SAMPLE_S / one)))
    repeats = int(np.clip(time_budget_s // (one * number), n_repeats_min, n_repeats_max))
    samples, _ = be.samples(run, n_sets, number, repeats, start_index=k)
    return _summary(samples)


def _summary(samples):
    samples = np.asarray(samples, dtype=float)
    med = float(np.median(samples))
    q25, q75 = np.percentile(samples, [25, 75])
    return {"median_s": med, "min_s": float(samples.min()),
            "spread_ratio": float((q75 - q25) / med) if med > 0 else float("nan"),
            "n_repeats": int(samples.size)}


def time_callable(fn, input_sets, *, sync=None, time_budget_s=1.0, n_warmup=1,
                  n_repeats_min=3, n_repeats_max=50):
    """Time ``fn(*inputs)`` over rotated input sets: warm-up, repeats, median.

    Use it for a kernel the ``benchmark_*`` functions do not cover (a Triton, JAX
    or CuPy kernel, say): the method is theirs.

    Parameters
    ----------
    fn : callable
        The kernel; called as ``fn(*input_sets[i])``.
    input_sets : sequence of tuple
        One or more input sets, used in turn (rotation keeps caches cold).
    sync : callable, optional
        Called to wait for asynchronous work (e.g. ``torch.cuda.synchronize`` or a
        JAX ``block_until_ready``) before the clock is read; ``None`` for
        synchronous code. The host clock is used.
    time_budget_s : float
        Time to spend on the repeats, after warm-up. [s]
    n_warmup : int
        Calls before timing. [-]
    n_repeats_min, n_repeats_max : int
        Bounds on the number of timed samples. [-]

    Returns
    -------
    dict
        ``median_s``, ``min_s`` (per call) [s], ``spread_ratio`` (interquartile range
        over median) [-], ``n_repeats`` [-].
    """
    _checks.positive("time_budget_s", time_budget_s)
    _check_counts(n_warmup, n_repeats_min, n_repeats_max)
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    sets = [tuple(s) if isinstance(s, (tuple, list)) else (s,) for s in input_sets]
    if not sets:
        raise ValueError("input_sets must hold at least one input set, got none")
    syncf = sync if sync is not None else (lambda: None)

    class _Host:
        @staticmethod
        def sync():
            syncf()

        @staticmethod
        def samples(run, n_sets, number, repeats, start_index=0):
            return _host_samples(run, n_sets, number, repeats, start_index, sync=syncf)

    return _measure(_Host, lambda i: fn(*sets[i]), len(sets), float(time_budget_s),
                    n_warmup, n_repeats_min, n_repeats_max)


def _n_sets(be, bytes_per_set):
    need = _ROTATE_BYTES[be.name] / max(bytes_per_set, 1)
    return int(min(_MAX_SETS, max(1, math.ceil(need))))


class _Budget:
    """Share a time budget among cases: each gets what is left over the cases left."""

    def __init__(self, total_s, n_cases):
        self.end = time.perf_counter() + total_s
        self.left = n_cases

    def next(self):
        share = max(self.end - time.perf_counter(), 0.0) / max(self.left, 1)
        self.left -= 1
        return share


def _row(kernel, variant, impl, be, dtype, shape, dims, flop, nbytes, stats):
    row = {"kernel": kernel, "variant": variant, "impl": impl, "backend": be.name,
           "device": be.device, "dtype": dtype, "shape": shape, **dims,
           "n_blas_threads": be.threads(),
           "work_flop": float(flop), "bytes_moved_bytes": float(nbytes), **stats}
    med = stats["median_s"]
    row["achieved_flop_per_s"] = float(flop) / med if med > 0 else float("nan")
    row["achieved_bytes_per_s"] = float(nbytes) / med if med > 0 else float("nan")
    return row


def _table(rows):
    df = pd.DataFrame(rows)
    cols = [c for c in _LEAD + _SHAPE + _TAIL if c in df.columns]
    df = df[cols]
    for c in _SHAPE:
        if c in df.columns:
            df[c] = df[c].astype(float)
    df["n_repeats"] = df["n_repeats"].astype(int)
    return df.reset_index(drop=True)


def _ints(name, values):
    arr = _checks.positive(name, values, integer=True)
    return [int(v) for v in np.atleast_1d(arr)]


def _dtypes(be, dtype):
    names = [dtype] if isinstance(dtype, str) else list(dtype)
    if not names:
        raise ValueError(f"dtype must name at least one of {list(_DTYPES[be.name])}, got none")
    for d in names:
        _checks.choice("dtype", d, _DTYPES[be.name])
    return names


def _common(backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed):
    _checks.positive("time_budget_s", time_budget_s)
    _check_counts(n_warmup, n_repeats_min, n_repeats_max)
    _checks.numeric("seed", seed, min_value=0, integer=True)
    return _backend(backend, int(seed))


# ----------------------------------------------------------------------------------------
# GEMM
# ----------------------------------------------------------------------------------------

def benchmark_gemm(sizes=(256, 512, 1024, 2048), dtype=("float64", "float32"), *,
                   backend="numpy", time_budget_s=4.0, n_warmup=1, n_repeats_min=3,
                   n_repeats_max=50, seed=0):
    """Square matrix products C = A·B: the compute ceiling.

    Parameters
    ----------
    sizes : int or sequence of int
        Matrix side n (A, B and C are n×n). [elements]
    dtype : str or sequence of str
        ``"float64"``, ``"float32"``; with torch also ``"float16"``, ``"bfloat16"``
        and ``"float8_e4m3fn"`` (through ``torch._scaled_mm``, BF16 output).
    backend : {"numpy", "torch"}
    time_budget_s : float
        Time to spend, set-up included (a floor of ``n_repeats_min`` repeats per
        case may exceed it). [s]
    n_warmup, n_repeats_min, n_repeats_max : int
        Warm-up calls; bounds on timed samples. [-]
    seed : int
        Seed of the random inputs.

    Returns
    -------
    pandas.DataFrame
        One row per (dtype, size): ``kernel="gemm"``, ``m_dim``, ``n_dim``,
        ``k_dim``, ``work_flop`` = 2·m·n·k [FLOP], ``bytes_moved_bytes`` =
        (m·k + k·n)·input size + m·n·output size [bytes], ``median_s``, ``min_s``
        [s], ``spread_ratio``, ``n_repeats``, ``achieved_flop_per_s``,
        ``achieved_bytes_per_s``.
    """
    be = _common(backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed)
    sizes = sorted(_ints("sizes", sizes))
    dtypes = _dtypes(be, dtype)
    cases = [(d, n) for d in dtypes for n in sizes]
    budget = _Budget(float(time_budget_s), len(cases))
    rows = []
    for d, n in cases:
        share = budget.next()
        run, impl, in_size, out_size, n_sets = _gemm_case(be, n, n, n, d)
        stats = _measure(be, run, n_sets, share * 0.8, n_warmup, n_repeats_min, n_repeats_max)
        flop = 2.0 * n * n * n
        nbytes = 2.0 * n * n * in_size + n * n * out_size
        rows.append(_row("gemm", "matmul", impl, be, d, f"m={n},n={n},k={n}",
                         {"m_dim": n, "n_dim": n, "k_dim": n}, flop, nbytes, stats))
        del run
    return _table(rows)


def _gemm_case(be, m, n, k, d):
    in_size = _ITEMSIZE[d]
    out_size = 2 if d == "float8_e4m3fn" else in_size
    n_sets = _n_sets(be, (m * k + k * n) * in_size + m * n * out_size)
    if be.name == "torch" and d == "float8_e4m3fn":
        torch = be.torch
        a = [be.rand((m, k), d) for _ in range(n_sets)]
        b = [be.rand((n, k), d).t() for _ in range(n_sets)]  # column-major, as cuBLASLt wants
        one = torch.ones((), device=be.dev, dtype=torch.float32)

        def run(i):
            torch._scaled_mm(a[i], b[i], scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
        return run, "torch._scaled_mm", in_size, out_size, n_sets
    matmul, label = ((np.matmul, "numpy.matmul") if be.name == "numpy"
                     else (be.torch.matmul, "torch.matmul"))
    a = [be.rand((m, k), d) for _ in range(n_sets)]
    b = [be.rand((k, n), d) for _ in range(n_sets)]
    c = [be.empty((m, n), d) for _ in range(n_sets)]

    def run(i):
        matmul(a[i], b[i], out=c[i])
    return run, label, in_size, out_size, n_sets


# ----------------------------------------------------------------------------------------
# batch sweep (GEMV to GEMM at fixed weights)
# ----------------------------------------------------------------------------------------

def benchmark_batch_sweep(batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
                          d_in_dim=4096, d_out_dim=4096, dtype="float32", *, backend="numpy",
                          time_budget_s=3.0, n_warmup=1, n_repeats_min=3, n_repeats_max=50,
                          seed=0):
    """A fixed weight matrix times 1..thousands rows: where decode stops being memory-bound.

    With few rows every weight byte read serves few FLOPs (a matrix-vector
    product at one row), so time is set by bandwidth; as rows grow the same
    weights serve more work until compute sets the time. The batch size where the
    two meet is the roofline's ridge.

    Parameters
    ----------
    batch_sizes : int or sequence of int
        Rows of activations m. [-]
    d_in_dim, d_out_dim : int
        The weight matrix is d_in × d_out (k × n). [elements]
    dtype : str
        One precision (see :func:`benchmark_gemm`).
    backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed
        As in :func:`benchmark_gemm`.

    Returns
    -------
    pandas.DataFrame
        One row per batch size, ``kernel="batch_sweep"``, ``m_dim`` = rows,
        ``k_dim`` = d_in, ``n_dim`` = d_out; flop = 2·m·k·n, bytes =
        (m·k + k·n)·input size + m·n·output size.
    """
    be = _common(backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed)
    batches = sorted(_ints("batch_sizes", batch_sizes))
    k = _ints("d_in_dim", d_in_dim)[0]
    n = _ints("d_out_dim", d_out_dim)[0]
    d = _dtypes(be, dtype)
    if len(d) != 1:
        raise ValueError(f"dtype must be one precision for a sweep at fixed weights, got {d}")
    d = d[0]
    budget = _Budget(float(time_budget_s), len(batches))
    in_size = _ITEMSIZE[d]
    out_size = 2 if d == "float8_e4m3fn" else in_size
    n_w = _n_sets(be, k * n * in_size)
    torch = getattr(be, "torch", None)
    if d == "float8_e4m3fn":
        ws = [be.rand((n, k), d).t() for _ in range(n_w)]
        one = torch.ones((), device=be.dev, dtype=torch.float32)
        impl = "torch._scaled_mm"
    elif be.name == "numpy":
        # weights stored (out, in) as in a framework's linear layer; the product is
        # computed as W @ x.T so that the large dimension is BLAS's M (OpenBLAS
        # splits its threads along M; with M = rows it collapses for thin batches)
        ws = [be.rand((n, k), d) for _ in range(n_w)]
        impl = "numpy.matmul W @ x.T (W stored out x in)"
    else:
        ws = [be.rand((k, n), d) for _ in range(n_w)]
        impl = "torch.matmul"
    rows = []
    for m in batches:
        share = budget.next()
        n_sets = max(n_w, _n_sets(be, (m * k + k * n) * in_size + m * n * out_size))
        xs = [be.rand((m, k), d) for _ in range(min(n_sets, _MAX_SETS))]
        if be.name == "numpy":
            ys = [be.empty((n, m), d) for _ in xs]

            def run(i, xs=xs, ys=ys):
                np.matmul(ws[i % n_w], xs[i % len(xs)].T, out=ys[i % len(xs)])
        elif d == "float8_e4m3fn":
            def run(i, xs=xs):
                torch._scaled_mm(xs[i % len(xs)], ws[i % n_w], scale_a=one, scale_b=one,
                                 out_dtype=torch.bfloat16)
        else:
            ys = [be.empty((m, n), d) for _ in xs]

            def run(i, xs=xs, ys=ys):
                torch.matmul(xs[i % len(xs)], ws[i % n_w], out=ys[i % len(xs)])
        n_rot = int(np.lcm(len(xs), n_w))
        stats = _measure(be, run, n_rot, share * 0.8, n_warmup, n_repeats_min, n_repeats_max)
        flop = 2.0 * m * k * n
        nbytes = (m * k + k * n) * in_size + m * n * out_size
        rows.append(_row("batch_sweep", "matmul", impl, be, d, f"m={m},n={n},k={k}",
                         {"m_dim": m, "n_dim": n, "k_dim": k}, flop, nbytes, stats))
    return _table(rows)


# ----------------------------------------------------------------------------------------
# attention decode: MHA full K/V cache vs MLA-style latent cache
# ----------------------------------------------------------------------------------------

def _softmax_(be, s):
    """Softmax over the last axis, in place where the backend allows."""
    if be.name == "numpy":
        s -= s.max(axis=-1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        return s
    return be.torch.softmax(s, dim=-1)


def _mha_numpy(q, k, v):
    """Decode attention over a full cache: q (B, H, D), k and v (B, H, T, D) -> (B, H, D)."""
    s = np.einsum("bhd,bhtd->bht", q, k)
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return np.einsum("bht,bhtd->bhd", s, v)


def _mla_numpy(q, c, w_uv):
    """Absorbed MLA decode: q (B, H, L) in latent space, cache c (B, T, L), w_uv (H, L, D).

    Returns (H, B, D): per head, softmax(q·cᵀ)·c up-projected by w_uv[h].
    """
    b, h, lat = q.shape
    o = np.empty((b, lat, h), dtype=c.dtype)
    for j in range(b):  # 2-D products, the long dimension as BLAS's M
        s = c[j] @ q[j].T                                   # (T, H) scores
        s -= s.max(axis=0, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=0, keepdims=True)                   # softmax over T
        np.matmul(c[j].T, s, out=o[j])                      # (L, H)
    return np.matmul(o.transpose(2, 0, 1), w_uv)            # (H, B, D)


def benchmark_attention_decode(context_tok=(512, 2048), n_batch=4, n_heads=16, head_dim=128,
                               latent_dim=576, dtype="float32", *, backend="numpy",
                               time_budget_s=2.0, n_warmup=1, n_repeats_min=3,
                               n_repeats_max=50, seed=0):
    """One decode step of attention: full K/V cache (MHA) vs a shared latent cache (MLA-style).

    MHA reads a per-head key and value for every cached token: 2·H·D elements
    per token. The MLA-style variant keeps one latent vector of ``latent_dim``
    per token, shared by all heads, and attends in the latent space (DeepSeek-V2's
    "absorbed" form: the key up-projection is folded into the query, the value
    up-projection applied after attention) [1]_. It reads far fewer bytes but does
    ``latent_dim / head_dim`` times more FLOPs per head, and its per-head work is
    a matrix product against the shared cache, so it can use the compute units.

    Simplification: the latent vector also stands in for the decoupled RoPE key
    (576 = 512 + 64 in DeepSeek-V3); keys and values both use all of it.

    Parameters
    ----------
    context_tok : int or sequence of int
        Cached tokens per sequence T. [tokens]
    n_batch : int
        Sequences decoded together B. [-]
    n_heads : int
        Query heads H (MHA: as many K/V heads). [-]
    head_dim : int
        Per-head dimension D. [elements]
    latent_dim : int
        MLA latent cache width L per token. [elements]
    dtype : str
        ``"float32"`` or ``"float64"`` (numpy); torch also half precisions.
    backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed
        As in :func:`benchmark_gemm`.

    Returns
    -------
    pandas.DataFrame
        Two rows per context (``variant`` ``"mha"`` and ``"mla"``), with ``n_batch``,
        ``context_tok``, ``n_heads``, ``head_dim``, ``latent_dim``. FLOPs count the
        two products per head (MHA 4·B·H·T·D; MLA 4·B·H·T·L plus the value
        up-projection 2·B·H·L·D), not the softmax; bytes count the cache, the
        queries, the outputs and (MLA) the value up-projection weights.

    References
    ----------
    .. [1] DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient
       Mixture-of-Experts Language Model", arXiv:2405.04434, section 2.1 and
       appendix C (absorbing the up-projections).
    """
    be = _common(backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed)
    contexts = sorted(_ints("context_tok", context_tok))
    b = _ints("n_batch", n_batch)[0]
    h = _ints("n_heads", n_heads)[0]
    dh = _ints("head_dim", head_dim)[0]
    lat = _ints("latent_dim", latent_dim)[0]
    d = _dtypes(be, dtype)
    if len(d) != 1 or d[0] == "float8_e4m3fn":
        raise ValueError(f"dtype must be one of float64, float32, float16, bfloat16 "
                         f"(one precision), got {dtype!r}")
    d = d[0]
    size = _ITEMSIZE[d]
    budget = _Budget(float(time_budget_s), 2 * len(contexts))
    rows = []
    dims_base = {"n_batch": b, "n_heads": h, "head_dim": dh, "latent_dim": lat}
    torch = getattr(be, "torch", None)
    for t in contexts:
        dims = {**dims_base, "context_tok": t}
        shape = f"B={b},T={t},H={h},D={dh},L={lat}"
        # --- MHA: K, V of shape (B, H, T, D); q (B, H, D)
        cache = 2 * b * h * t * dh * size
        n_sets = _n_sets(be, cache)
        ks = [be.rand((b, h, t, dh), d) for _ in range(n_sets)]
        vs = [be.rand((b, h, t, dh), d) for _ in range(n_sets)]
        qs = [be.rand((b, h, dh), d) for _ in range(n_sets)]
        if be.name == "numpy":
            def run(i, ks=ks, vs=vs, qs=qs):
                return _mha_numpy(qs[i], ks[i], vs[i])
            impl = "numpy.einsum"
        else:
            def run(i, ks=ks, vs=vs, qs=qs):
                s = torch.matmul(qs[i].unsqueeze(-2), ks[i].transpose(-1, -2))
                p = torch.softmax(s, dim=-1)
                return torch.matmul(p, vs[i]).squeeze(-2)
            impl = "torch.matmul"
        stats = _measure(be, run, n_sets, budget.next() * 0.8, n_warmup, n_repeats_min,
                         n_repeats_max)
        flop = 4.0 * b * h * t * dh
        nbytes = cache + 2 * b * h * dh * size
        rows.append(_row("attention_decode", "mha", impl, be, d, shape, dims, flop, nbytes,
                         stats))
        del ks, vs, qs, run
        # --- MLA: latent cache c (B, T, L) shared by heads; absorbed queries (B, H, L);
        # value up-projection W_uv (H, L, D)
        cache = b * t * lat * size
        w_bytes = h * lat * dh * size
        n_sets = _n_sets(be, cache)
        cs = [be.rand((b, t, lat), d) for _ in range(n_sets)]
        qs = [be.rand((b, h, lat), d) for _ in range(n_sets)]
        w_uv = be.rand((h, lat, dh), d)
        if be.name == "numpy":
            def run(i, cs=cs, qs=qs, w_uv=w_uv):
                return _mla_numpy(qs[i], cs[i], w_uv)
            impl = "numpy.matmul per sequence"
        else:
            def run(i, cs=cs, qs=qs, w_uv=w_uv):
                c = cs[i]
                s = torch.matmul(qs[i], c.transpose(1, 2))
                p = torch.softmax(s, dim=-1)
                o = torch.matmul(p, c)
                return torch.matmul(o.transpose(0, 1), w_uv)
            impl = "torch.matmul"
        stats = _measure(be, run, n_sets, budget.next() * 0.8, n_warmup, n_repeats_min,
                         n_repeats_max)
        flop = 4.0 * b * h * t * lat + 2.0 * b * h * lat * dh
        nbytes = cache + w_bytes + b * h * lat * size + b * h * dh * size
        rows.append(_row("attention_decode", "mla", impl, be, d, shape, dims, flop, nbytes,
                         stats))
        del cs, qs, run
    return _table(rows)


# ----------------------------------------------------------------------------------------
# MoE: grouped vs naive vs dense of equal FLOPs
# ----------------------------------------------------------------------------------------

def _route(be, x, w_gate, top_k):
    """Router: logits x·W_g, top-k experts per token, softmax over the chosen k."""
    if be.name == "numpy":
        logits = x @ w_gate
        idx = np.argpartition(logits, -top_k, axis=1)[:, -top_k:]
        g = np.take_along_axis(logits, idx, axis=1)
        g = _softmax_(be, g)
        return idx, g
    torch = be.torch
    logits = x @ w_gate
    g, idx = torch.topk(logits, top_k, dim=1)
    return idx, torch.softmax(g.float(), dim=-1).to(x.dtype)


def _moe_grouped(be, x, w_gate, w1, w2, top_k, grouped_mm=False):
    """Sort the (token, expert) slots by expert, one product per expert on a contiguous block."""
    n, dm = x.shape
    n_exp = w1.shape[0]
    idx, g = _route(be, x, w_gate, top_k)
    if be.name == "numpy":
        flat = idx.reshape(-1)
        order = np.argsort(flat, kind="stable")
        counts = np.bincount(flat, minlength=n_exp)
        xs = x[order // top_k]
        ys = np.empty((n * top_k, w2.shape[2]), dtype=x.dtype)
        start = 0
        for e in range(n_exp):
            stop = start + int(counts[e])
            if stop > start:
                h = xs[start:stop] @ w1[e]
                np.maximum(h, 0, out=h)
                np.matmul(h, w2[e], out=ys[start:stop])
            start = stop
        y = np.empty_like(ys)
        y[order] = ys
        return (y.reshape(n, top_k, -1) * g[:, :, None]).sum(axis=1)
    torch = be.torch
    flat = idx.reshape(-1)
    order = torch.argsort(flat, stable=True)
    xs = x[order // top_k]
    if grouped_mm:
        counts = torch.bincount(flat, minlength=n_exp)
        offs = torch.cumsum(counts, 0).to(torch.int32)
        h = torch.relu(torch._grouped_mm(xs, w1, offs=offs))
        ys = torch._grouped_mm(h, w2, offs=offs)
    else:
        counts = torch.bincount(flat, minlength=n_exp).tolist()
        ys = torch.empty((n * top_k, w2.shape[2]), device=x.device, dtype=x.dtype)
        start = 0
        for e in range(n_exp):
            stop = start + counts[e]
            if stop > start:
                h = torch.relu(xs[start:stop] @ w1[e])
                torch.matmul(h, w2[e], out=ys[start:stop])
            start = stop
    y = torch.empty_like(ys)
    y[order] = ys
    return (y.view(n, top_k, -1) * g.unsqueeze(-1)).sum(dim=1)


def _moe_naive(be, x, w_gate, w1, w2, top_k):
    """Token by token: each (token, expert) pair is its own matrix-vector product."""
    n = x.shape[0]
    idx, g = _route(be, x, w_gate, top_k)
    if be.name == "numpy":
        out = np.zeros((n, w2.shape[2]), dtype=x.dtype)
        for t in range(n):
            for j in range(top_k):
                e = idx[t, j]
                h = x[t] @ w1[e]
                np.maximum(h, 0, out=h)
                out[t] += g[t, j] * (h @ w2[e])
        return out
    torch = be.torch
    idx_host = idx.tolist()
    out = torch.zeros((n, w2.shape[2]), device=x.device, dtype=x.dtype)
    for t in range(n):
        for j in range(top_k):
            e = idx_host[t][j]
            h = torch.relu(x[t] @ w1[e])
            out[t] += g[t, j] * (h @ w2[e])
    return out


def _dense_ffn(be, x, w1, w2):
    h = x @ w1
    if be.name == "numpy":
        np.maximum(h, 0, out=h)
    else:
        h = be.torch.relu(h)
    return h @ w2


def benchmark_moe(n_tokens=(32, 256), d_model_dim=1024, d_ff_dim=512, n_experts=16, top_k=2,
                  dtype="float32", *, variants=("grouped", "naive", "dense"), backend="numpy",
                  time_budget_s=3.0, n_warmup=1, n_repeats_min=3, n_repeats_max=50, seed=0):
    """Mixture of experts vs dense: top-k of E expert FFNs against one FFN of equal FLOPs.

    Each expert is a two-matrix FFN (d_model → d_ff → d_model, ReLU). A router
    (one product with a d_model × E matrix) picks ``top_k`` experts per token and
    weights their outputs by a softmax over the chosen k.

    - ``"grouped"``: the (token, expert) slots are sorted by expert and each
      expert multiplies its contiguous block of tokens at once (one grouped
      product on the GPU through ``torch._grouped_mm`` where it runs);
    - ``"naive"``: token by token, each routed (token, expert) pair a separate
      matrix-vector product: expert weights are re-read for every token;
    - ``"dense"``: one FFN with d_ff = top_k · d_ff_dim, the same FLOPs as the
      experts' (without the router).

    Parameters
    ----------
    n_tokens : int or sequence of int
        Tokens in the batch N. [tokens]
    d_model_dim, d_ff_dim : int
        Model width and expert hidden width. [elements]
    n_experts : int
        Experts E. [-]
    top_k : int
        Experts per token k (<= E). [-]
    dtype : str
        One precision.
    variants : sequence of str
        Any of ``"grouped"``, ``"naive"``, ``"dense"``.
    backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed
        As in :func:`benchmark_gemm`.

    Returns
    -------
    pandas.DataFrame
        One row per (N, variant), with ``n_tokens``, ``n_experts``,
        ``n_active_experts`` (= k), ``d_model_dim``, ``d_ff_dim``. FLOPs: experts
        4·N·k·d_model·d_ff, plus the router 2·N·d_model·E for the MoE variants.
        Bytes: activations in and out, the router, and the weights of the experts
        that received at least one token (dense: its two matrices).

    References
    ----------
    .. [1] N. Shazeer et al., "Outrageously Large Neural Networks: The
       Sparsely-Gated Mixture-of-Experts Layer", ICLR 2017.
    .. [2] T. Gale et al., "MegaBlocks: Efficient Sparse Training with Mixture-of-Experts",
       MLSys 2023 (grouping tokens by expert).
    """
    be = _common(backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed)
    tokens = sorted(_ints("n_tokens", n_tokens))
    dm = _ints("d_model_dim", d_model_dim)[0]
    dff = _ints("d_ff_dim", d_ff_dim)[0]
    n_exp = _ints("n_experts", n_experts)[0]
    k = _ints("top_k", top_k)[0]
    if k > n_exp:
        raise ValueError(f"top_k must be <= n_experts ({n_exp}), got {k}")
    d = _dtypes(be, dtype)
    if len(d) != 1 or d[0] == "float8_e4m3fn":
        raise ValueError(f"dtype must be one of float64, float32, float16, bfloat16 "
                         f"(one precision), got {dtype!r}")
    d = d[0]
    if isinstance(variants, str):
        variants = [variants]
    variants = list(variants)
    if not variants:
        raise ValueError("variants must name at least one of ['grouped', 'naive', 'dense']")
    for v in variants:
        _checks.choice("variants", v, ["grouped", "naive", "dense"])
    size = _ITEMSIZE[d]
    budget = _Budget(float(time_budget_s), len(tokens) * len(variants))
    w_gate = be.rand((dm, n_exp), d)
    w1 = be.rand((n_exp, dm, dff), d)
    w2 = be.rand((n_exp, dff, dm), d)
    w1_dense = be.rand((dm, k * dff), d)
    w2_dense = be.rand((k * dff, dm), d)
    use_grouped_mm = be.name == "torch" and _grouped_mm_works(be, d)
    rows = []
    for n in tokens:
        n_sets = _n_sets(be, 2 * n * dm * size)
        xs = [be.rand((n, dm), d) for _ in range(n_sets)]
        idx, _ = _route(be, xs[0], w_gate, k)
        idx = be.to_numpy(idx).astype(int)
        used = int(np.unique(idx).size)
        dims = {"n_tokens": n, "n_experts": n_exp, "n_active_experts": k,
                "d_model_dim": dm, "d_ff_dim": dff}
        shape = f"N={n},d={dm},f={dff},E={n_exp},k={k}"
        expert_flop = 4.0 * n * k * dm * dff
        act_bytes = 2.0 * n * dm * size
        for v in variants:
            if v == "grouped":
                def run(i, xs=xs):
                    return _moe_grouped(be, xs[i], w_gate, w1, w2, k, use_grouped_mm)
                impl = ("torch._grouped_mm" if use_grouped_mm else
                        "sort by expert + one product per expert")
                flop = expert_flop + 2.0 * n * dm * n_exp
                nbytes = act_bytes + dm * n_exp * size + used * 2.0 * dm * dff * size
            elif v == "naive":
                def run(i, xs=xs):
                    return _moe_naive(be, xs[i], w_gate, w1, w2, k)
                impl = "loop over (token, expert) pairs"
                flop = expert_flop + 2.0 * n * dm * n_exp
                nbytes = act_bytes + dm * n_exp * size + used * 2.0 * dm * dff * size
            else:
                def run(i, xs=xs):
                    return _dense_ffn(be, xs[i], w1_dense, w2_dense)
                impl = "two products, d_ff = top_k * d_ff_dim"
                flop = expert_flop
                nbytes = act_bytes + 2.0 * dm * k * dff * size
            stats = _measure(be, run, n_sets, budget.next() * 0.8, n_warmup, n_repeats_min,
                             n_repeats_max)
            rows.append(_row("moe", v, impl, be, d, shape, dims, flop, nbytes, stats))
    return _table(rows)


def _grouped_mm_works(be, d):
    """Does ``torch._grouped_mm`` run here and agree with the per-expert loop?"""
    torch = be.torch
    if not (be.cuda and hasattr(torch, "_grouped_mm") and d == "bfloat16"):
        return False
    try:
        x = be.rand((256, 128), d)
        wg = be.rand((128, 8), d)
        w1 = be.rand((8, 128, 64), d)
        w2 = be.rand((8, 64, 128), d)
        ref = _moe_grouped(be, x, wg, w1, w2, 2, grouped_mm=False).float()
        got = _moe_grouped(be, x, wg, w1, w2, 2, grouped_mm=True).float()
        err = float((got - ref).norm() / ref.norm())
        return err < 2e-2
    except Exception:  # any failure: fall back to the loop
        return False


# ----------------------------------------------------------------------------------------
# copy
# ----------------------------------------------------------------------------------------

def benchmark_copy(sizes_bytes=(64 * 2**20, 256 * 2**20), *, backend="numpy", time_budget_s=1.0,
                   n_warmup=1, n_repeats_min=3, n_repeats_max=50, seed=0):
    """Copy one buffer into another: the memory-bandwidth ceiling.

    Parameters
    ----------
    sizes_bytes : int or sequence of int
        Size of the buffer copied (rounded down to whole float32 elements). [bytes]
    backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed
        As in :func:`benchmark_gemm`.

    Returns
    -------
    pandas.DataFrame
        One row per size, ``kernel="copy"``, ``work_flop`` = 0,
        ``bytes_moved_bytes`` = 2 × size (read plus write), ``n_dim`` = elements.
    """
    be = _common(backend, time_budget_s, n_warmup, n_repeats_min, n_repeats_max, seed)
    sizes = sorted(_ints("sizes_bytes", sizes_bytes))
    budget = _Budget(float(time_budget_s), len(sizes))
    rows = []
    for s in sizes:
        n = max(1, s // 4)
        src = be.rand((n,), "float32")
        dst = be.empty((n,), "float32")
        if be.name == "numpy":
            def run(i, src=src, dst=dst):
                np.copyto(dst, src)
            impl = "numpy.copyto"
        else:
            def run(i, src=src, dst=dst):
                dst.copy_(src)
            impl = "torch.Tensor.copy_"
        stats = _measure(be, run, 1, budget.next() * 0.8, n_warmup, n_repeats_min,
                         n_repeats_max)
        rows.append(_row("copy", "copy", impl, be, "float32", f"n={n}", {"n_dim": n},
                         0.0, 2.0 * n * 4, stats))
        del src, dst
    return _table(rows)


# ----------------------------------------------------------------------------------------
# all of them
# ----------------------------------------------------------------------------------------

#: Share of the total budget each family gets in :func:`benchmark_all`.
_SHARES = {"gemm": 0.30, "batch_sweep": 0.25, "attention_decode": 0.15, "moe": 0.22,
           "copy": 0.08}


def benchmark_all(*, backend="numpy", time_budget_s=10.0, blas_threads=None, seed=0):
    """Every benchmark at its default shapes, within one time budget.

    Parameters
    ----------
    backend : {"numpy", "torch"}
    time_budget_s : float
        Total time to spend, set-up included; shared among the families (GEMM 30%,
        batch sweep 25%, attention 15%, MoE 22%, copy 8%). With the default 10 s the
        whole set took 12-14 s on 2 otherwise idle CPU cores (set-up and the floor of
        3 repeats a case come on top; far longer when other work shares the cores). [s]
    blas_threads : int, optional
        Run with this many BLAS threads (threadpoolctl); ``None`` leaves the
        library's setting. On a machine whose cores are busy with other work, one
        thread is steadier: OpenBLAS's threads wait for each other and a
        descheduled one stalls the product. The column ``n_blas_threads`` records
        what was used. [-]
    seed : int
        Seed of the random inputs.

    Returns
    -------
    pandas.DataFrame
        The tables of :func:`benchmark_gemm`, :func:`benchmark_batch_sweep`,
        :func:`benchmark_attention_decode`, :func:`benchmark_moe` and
        :func:`benchmark_copy`, stacked (shape columns a family does not use are NaN).
    """
    _checks.positive("time_budget_s", time_budget_s)
    if blas_threads is not None:
        _checks.positive("blas_threads", blas_threads, integer=True)
    _backend(backend)  # validates the name and the backend's presence
    if blas_threads is not None:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=int(blas_threads), user_api="blas"):
            return benchmark_all(backend=backend, time_budget_s=time_budget_s, seed=seed)
    t = float(time_budget_s)
    parts = [
        benchmark_gemm(backend=backend, time_budget_s=_SHARES["gemm"] * t, seed=seed),
        benchmark_batch_sweep(backend=backend, time_budget_s=_SHARES["batch_sweep"] * t,
                              seed=seed),
        benchmark_attention_decode(backend=backend,
                                   time_budget_s=_SHARES["attention_decode"] * t, seed=seed),
        benchmark_moe(backend=backend, time_budget_s=_SHARES["moe"] * t, seed=seed),
        benchmark_copy(backend=backend, time_budget_s=_SHARES["copy"] * t, seed=seed),
    ]
    return _table([r for p in parts for r in p.to_dict("records")])


# ----------------------------------------------------------------------------------------
# the kernel-timings notebook: live CPU set, recorded GPU tables, and their comparisons
# ----------------------------------------------------------------------------------------

#: Ranges a sane timing falls in on any CPU (checked by :func:`live_kernel_timings`).
_SANE_FLOP_PER_S = (1e7, 1e14)
_SANE_BYTES_PER_S = (1e6, 1e13)


def live_kernel_timings(gemm_sizes, batch_sizes, weight_dim, context_tok, moe_tokens,
                        copy_size_bytes, *, time_budget_s=5.0, blas_threads=None,
                        time_column="min_s", seed=0):
    """Every kernel family on this machine's CPU at the given shapes, checked for sanity.

    GEMM (float64 and float32), the float32 batch sweep, attention decode (MHA and MLA-style),
    mixture of experts (grouped, naive, dense) and a copy, sharing ``time_budget_s`` as
    :func:`benchmark_all` does.

    Parameters
    ----------
    gemm_sizes : sequence of int
        Square GEMM sides. [elements]
    batch_sizes : sequence of int
        Rows multiplied by the fixed ``weight_dim`` x ``weight_dim`` weights. [count]
    weight_dim : int
        Side of the batch sweep's weight matrix. [elements]
    context_tok : sequence of int
        Cached tokens per sequence in attention decode. [tokens]
    moe_tokens : sequence of int
        Tokens per mixture-of-experts batch. [tokens]
    copy_size_bytes : int
        Buffer copied in the bandwidth timing. [bytes]
    time_budget_s : float
        Time to spend in all (a floor of 3 repeats a case can exceed it). [s]
    blas_threads : int, optional
        BLAS threads for the timings; ``None`` keeps the library's setting. [-]
    time_column : {"min_s", "median_s"}
        Measured time the rate columns use.
    seed : int
        Seed of the random inputs.

    Returns
    -------
    pandas.DataFrame
        The stacked benchmark tables plus ``kernel_name`` (``kernel:variant``),
        ``fit_flop_per_s`` = ``work_flop / time_column`` [FLOP/s] and ``fit_bytes_per_s`` =
        ``bytes_moved_bytes / time_column`` [bytes/s].

    Raises
    ------
    RuntimeError
        A case missing, a time not positive and finite, or a rate no CPU reaches
        (matrix products outside 10 MFLOP/s - 100 TFLOP/s, traffic outside 1 MB/s - 10 TB/s),
        or numpy reporting no BLAS library.
    """
    _checks.choice("time_column", time_column, ["min_s", "median_s"])
    _checks.positive("time_budget_s", time_budget_s)
    if blas_threads is not None:
        _checks.positive("blas_threads", blas_threads, integer=True)
    t = float(time_budget_s)
    with blas_thread_limit(blas_threads):
        if _blas_info()["blas_library"] == "unknown":
            raise RuntimeError("numpy reports no BLAS library: the GEMM timings would mean "
                               "little")
        parts = [
            benchmark_gemm(gemm_sizes, ("float64", "float32"),
                           time_budget_s=_SHARES["gemm"] * t, seed=seed),
            benchmark_batch_sweep(batch_sizes, weight_dim, weight_dim, "float32",
                                  time_budget_s=_SHARES["batch_sweep"] * t, seed=seed),
            benchmark_attention_decode(context_tok, dtype="float32",
                                       time_budget_s=_SHARES["attention_decode"] * t,
                                       seed=seed),
            benchmark_moe(moe_tokens, dtype="float32", time_budget_s=_SHARES["moe"] * t,
                          seed=seed),
            benchmark_copy(copy_size_bytes, time_budget_s=_SHARES["copy"] * t, seed=seed),
        ]
    live = pd.concat(parts, ignore_index=True)
    live["kernel_name"] = live["kernel"] + ":" + live["variant"]
    live["fit_flop_per_s"] = live["work_flop"] / live[time_column]
    live["fit_bytes_per_s"] = live["bytes_moved_bytes"] / live[time_column]
    want = (2 * len(list(gemm_sizes)) + len(list(batch_sizes)) + 2 * len(list(context_tok))
            + 3 * len(list(moe_tokens)) + 1)
    problems = []
    if len(live) != want:
        problems.append(f"{len(live)} timings where {want} cases were asked for")
    times = live[["median_s", "min_s"]].to_numpy(dtype=float)
    if not (np.isfinite(times).all() and (times > 0).all()):
        problems.append("a time that is not positive and finite")
    elif not (live["min_s"] <= live["median_s"]).all():
        problems.append("a fastest sample slower than the median")
    products = live.loc[live["kernel"].isin(["gemm", "batch_sweep"]), "fit_flop_per_s"]
    if not products.between(*_SANE_FLOP_PER_S).all():
        problems.append("a matrix product outside 10 MFLOP/s - 100 TFLOP/s")
    if not live["fit_bytes_per_s"].between(*_SANE_BYTES_PER_S).all():
        problems.append("a kernel moving under 1 MB/s or over 10 TB/s")
    if problems:
        raise RuntimeError("live_kernel_timings: not a sane timing: " + "; ".join(problems))
    return live


def recorded_gpu_timings(machine, hardware):
    """The recorded GPU timings of one machine (``data/gpu_timings.csv``), checked to be
    of the GPU whose datasheet ``hardware`` names.

    Parameters
    ----------
    machine : str
        Key in ``data/gpu_machines.csv`` (``"h100-2026-11-22"``).
    hardware : str
        Key in ``data/hardware.csv`` of the same GPU (``"h100-sxm"`` for ``h100-*``).

    Returns
    -------
    pandas.DataFrame
        The machine's rows, ``name`` as a column.

    Raises
    ------
    KeyError
        An unknown machine.
    ValueError
        A machine recorded on another GPU than ``hardware``, or one with no timings.
    """
    from . import data

    machines = data.load("gpu_machines")
    if machine not in machines.index:
        raise KeyError(f"timing_machine {machine!r} is not in data/gpu_machines.csv; "
                       f"known: {sorted(machines.index)}")
    gpu_name = str(machines.loc[machine, "gpu_name"])
    if str(hardware).split("-")[0].lower() not in gpu_name.lower():
        raise ValueError(f"timing_machine {machine!r} was recorded on an {gpu_name}, but "
                         f"gpu_hardware is {hardware!r}: give the datasheet of the same GPU "
                         "(h100-sxm for h100-*, h200-sxm for h200-*)")
    timings = data.load("gpu_timings").reset_index()
    rows = timings[timings["machine"] == machine].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"timing_machine {machine!r} has no rows in data/gpu_timings.csv")
    return rows


def _fastest(table, kernel, index, time_column):
    rows = table[table["kernel"] == kernel]
    if rows.empty:
        raise ValueError(f"the table has no {kernel!r} rows")
    _checks.choice("time_column", time_column, ["min_s", "median_s"])
    return rows.groupby([index, "variant"])[
        [time_column, "bytes_moved_bytes", "work_flop"]].min().unstack("variant")


def attention_decode_comparison(table, time_column="median_s"):
    """Attention decode over a full per-head cache (MHA) against a shared latent cache (MLA),
    by context length: times, bytes and FLOPs of one against the other.

    Where several implementations of a variant were timed (plain matmuls and a fused kernel),
    the fastest counts.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings with ``kernel == "attention_decode"`` rows (:func:`benchmark_attention_decode`
        or a recorded table).
    time_column : {"median_s", "min_s"}

    Returns
    -------
    pandas.DataFrame
        Index ``context_tok``; ``mha_ms``, ``mla_ms`` [ms], ``mha_to_mla_bytes_ratio``,
        ``mla_to_mha_flop_ratio`` and ``mla_speedup_ratio`` (MHA time over MLA time) [ratio].
    """
    a = _fastest(table, "attention_decode", "context_tok", time_column)
    return pd.DataFrame({
        "mha_ms": a[(time_column, "mha")] * 1e3, "mla_ms": a[(time_column, "mla")] * 1e3,
        "mha_to_mla_bytes_ratio": a[("bytes_moved_bytes", "mha")] / a[("bytes_moved_bytes", "mla")],
        "mla_to_mha_flop_ratio": a[("work_flop", "mla")] / a[("work_flop", "mha")],
        "mla_speedup_ratio": a[(time_column, "mha")] / a[(time_column, "mla")],
    })


def moe_comparison(table, time_column="median_s"):
    """A mixture of experts run grouped per expert, naively token by token, and a dense FFN of
    equal FLOPs, by tokens in the batch.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings with ``kernel == "moe"`` rows (:func:`benchmark_moe` or a recorded table).
    time_column : {"median_s", "min_s"}

    Returns
    -------
    pandas.DataFrame
        Index ``n_tokens``; ``grouped_ms``, ``naive_ms``, ``dense_ms`` [ms],
        ``grouped_vs_naive_speedup_ratio`` (naive over grouped time) and
        ``grouped_to_dense_time_ratio`` [ratio].
    """
    m = _fastest(table, "moe", "n_tokens", time_column)[time_column]
    return pd.DataFrame({
        "grouped_ms": m["grouped"] * 1e3, "naive_ms": m["naive"] * 1e3,
        "dense_ms": m["dense"] * 1e3,
        "grouped_vs_naive_speedup_ratio": m["naive"] / m["grouped"],
        "grouped_to_dense_time_ratio": m["grouped"] / m["dense"],
    })


#: Software stacks of the recorded BF16 GEMM comparison, by backend.
STACK_NAMES = {"torch": "cuBLAS via PyTorch", "cupy": "cuBLAS via CuPy",
               "triton": "Triton (portable)", "jax": "JAX / XLA (portable)"}


def portable_stack_comparison(timings, max_check_error_ratio=0.01):
    """The same BF16 products through each software stack, as a share of cuBLAS via PyTorch
    at the same shape.

    Parameters
    ----------
    timings : pandas.DataFrame
        A recorded GPU table: BF16 ``gemm`` rows with ``check_rel_error_ratio`` (each stack's
        product against a float32 reference) for the backends of :data:`STACK_NAMES`.
    max_check_error_ratio : float
        Largest relative error a stack's product may have against the reference. [ratio]

    Returns
    -------
    pandas.DataFrame
        One row per stack and shape: ``backend``, ``stack`` (its name), ``shape``,
        ``achieved_flop_per_s`` [FLOP/s], ``share_of_cublas_ratio`` [ratio] and
        ``check_rel_error_ratio`` [ratio].
    """
    xs = timings[(timings["kernel"] == "gemm") & (timings["dtype"] == "bfloat16")
                 & timings["check_rel_error_ratio"].notna()]
    missing = sorted(set(STACK_NAMES) - set(xs["backend"]))
    if missing:
        raise ValueError(f"portable_stack_comparison: no checked BF16 GEMM rows for {missing}")
    bad = xs[xs["check_rel_error_ratio"] >= max_check_error_ratio]
    if not bad.empty:
        raise ValueError(f"portable_stack_comparison: {sorted(set(bad['backend']))} disagree with "
                         f"the float32 reference by {float(bad['check_rel_error_ratio'].max()):.3g}"
                         f" (at most {max_check_error_ratio} allowed)")
    cublas = xs[xs["backend"] == "torch"].set_index("shape")["achieved_flop_per_s"]
    return pd.DataFrame({
        "backend": xs["backend"].to_numpy(), "stack": xs["backend"].map(STACK_NAMES).to_numpy(),
        "shape": xs["shape"].to_numpy(),
        "achieved_flop_per_s": xs["achieved_flop_per_s"].to_numpy(),
        "share_of_cublas_ratio": (xs["achieved_flop_per_s"]
                                  / xs["shape"].map(cublas)).to_numpy(),
        "check_rel_error_ratio": xs["check_rel_error_ratio"].to_numpy(),
    })


if __name__ == "__main__":  # pragma: no cover - a quick look from the shell
    pd.set_option("display.width", 200)
    print(machine_info())
    print(benchmark_all().to_string())
    sys.exit(0)
