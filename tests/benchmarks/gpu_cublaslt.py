"""Run the GEMM harness of Azure's AI-benchmarking-guide on a GPU, and write what it reports.

Run once on a GPU machine (the device tool), from the repository root, with the harness's
executable in ``--exe``. The harness is not part of this repository, and neither is any
recipe that builds it: it is the ``cublaslt_gemm`` micro-benchmark of
gitaumark/superbenchmark at commit 3e2f95d (2024-07-24), the fork Azure's
``Benchmarks/GEMMCublasLt.py`` clones and builds itself.

    PYTHONUNBUFFERED=1 python3 tests/benchmarks/gpu_cublaslt.py --exe PATH --out "$OUT"

``data/device_microbenchmarks.csv`` compares a device's matmul rate with the reference
device's only where both were measured by the same harness at the same precision. Azure
published the A100's rate in FP16 only (it has no FP8 units) and the H200's in FP8 only, so
the two had no figure in common. This script runs that same harness, called with the same
arguments as ``GEMMCublasLt.run_model_sizes`` (``-b 1 -i 1000 -w 10000 -t <type>``:
cuBLASLt's first heuristic algorithm, a TN product of matrices drawn uniformly from
[-1, 1], 10,000 warm-up products, then 1,000 timed with CUDA events), at Azure's shapes, in
FP16 and FP8 (E4M3 inputs, FP16 output). Its FP8 figures check this machine against Azure's
published H200 table; its FP16 figures are the H200's counterpart of Azure's A100 table.

Azure's 32768-cube FP8 shape is left out (about ten minutes of warm-up on its own). Before
and after each shape the script reads (never sets) the GPU's power draw, SM clock and
temperature with ``nvidia-smi``.

It writes, under ``--out``: ``cublaslt_gemm.csv`` (one row per shape and type: what the
harness printed, and the FLOP rate as ``2 m n k / time``), ``machine.json`` and ``log.txt``.
``--quick`` runs two small shapes with few iterations, to check the script.

The numbers it writes are measurements: commit them as they come, never edit them.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_measure as GM  # versions, nvidia-smi, the machine record

SCRIPT = "tests/benchmarks/gpu_cublaslt.py"
#: Azure's ``run_model_sizes`` shapes (m, n, k): the FP8 list also has 32768 cubed.
SHAPES = ((1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192),
          (16384, 16384, 16384), (1024, 2145, 1024), (6144, 12288, 12288),
          (802816, 192, 192), (802816, 192, 768))
TYPES = ("fp16", "fp8e4m3")
COLUMNS = ("type", "m_dim", "n_dim", "k_dim", "n_batch", "time_us", "harness_tflops",
           "flop_per_s", "warmup_count", "iter_count", "smi_before", "smi_after")


def smi_state():
    """Power draw, SM clock and temperature as ``nvidia-smi`` reads them now (a query only)."""
    try:
        res = subprocess.run(["nvidia-smi", "--query-gpu=power.draw,clocks.sm,temperature.gpu",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=30, check=False)
        return res.stdout.strip().replace(",", ";")
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi not available ({type(exc).__name__})"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exe", required=True, help="the harness executable")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--types", nargs="+", choices=TYPES, default=list(TYPES))
    args = ap.parse_args(argv)
    exe = args.exe
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        raise SystemExit(f"--exe {exe}: not an executable file")
    log = GM.run_log(args.out)

    import torch
    meta = GM.run_machine(torch, args.out, SCRIPT, "cublaslt")
    log(f"machine {meta['machine']}: {meta.get('gpu_name')}; {meta.get('nvidia_smi')}; "
        f"{meta.get('nvcc')}")
    with open(exe, "rb") as fh:
        log(f"harness executable {os.path.abspath(exe)}, sha256 "
            f"{hashlib.sha256(fh.read()).hexdigest()}")
    shapes = ((1024, 1024, 1024), (2048, 2048, 2048)) if args.quick else SHAPES
    warmup, iters = (10, 10) if args.quick else (10000, 1000)
    rows = []
    for typ in args.types:
        for m, n, k in shapes:
            before = smi_state()
            res = subprocess.run([exe, "-m", str(m), "-n", str(n), "-k", str(k), "-b", "1",
                                  "-i", str(iters), "-w", str(warmup), "-t", typ],
                                 capture_output=True, text=True, check=False)
            after = smi_state()
            fields = res.stdout.split()
            if res.returncode != 0 or len(fields) != 6 or "error" in res.stdout.lower():
                log(f"{typ} {m}x{n}x{k}: FAILED rc={res.returncode} {res.stdout!r} "
                    f"{res.stderr[-500:]!r}")
                continue
            time_us = float(fields[4])
            rows.append(dict(type=typ, m_dim=m, n_dim=n, k_dim=k, n_batch=int(fields[3]),
                             time_us=time_us, harness_tflops=float(fields[5]),
                             flop_per_s=2.0 * m * n * k / (time_us * 1e-6),
                             warmup_count=warmup, iter_count=iters, smi_before=before,
                             smi_after=after))
            log(f"{typ:8s} {m:7d} {n:6d} {k:6d}  {time_us:12.3f} us  {float(fields[5]):8.1f} "
                f"TFLOPS  (before: {before}; after: {after})")
            with open(os.path.join(args.out, "cublaslt_gemm.csv"), "w", newline="") as fh:
                wr = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
                wr.writeheader()
                wr.writerows(rows)


if __name__ == "__main__":
    main()
