"""Benchmark of the timing harness itself (``make bench``).

1. Harness overhead: the float32 GEMM rate that ``econ.kernels.benchmark_gemm``
   reports against a bare ``numpy.matmul`` timed by ``timeit`` at the same size,
   in the same run, interleaved in rounds so that a noisy neighbour slows both
   alike. Target: ratio within 10% of 1.
2. The whole CPU set (``benchmark_all`` at its default budget): wall time
   (target under 15 s on 2 cores) and the roofline fitted to it: ceilings and the
   median absolute prediction error (target at most 20%), for the default fit
   (additive form, median times), the fastest samples, and the classic max form.

CPU timings on a shared machine are noisy; the load average is printed first.
The script exits 0 whether or not a target is met (it reports, CI does not gate on
speed); it exits non-zero only if something breaks.

    python tests/benchmarks/bench_kernels.py [--size 2048] [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit

import numpy as np
import pandas as pd

from econ import kernels as K
from econ import roofline as R


def harness_vs_timeit(n, rounds):
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32) - 0.5
    b = rng.random((n, n), dtype=np.float32) - 0.5
    flop = 2.0 * n**3
    timer = timeit.Timer(lambda: np.matmul(a, b))
    timer.timeit(number=1)  # warm-up
    h_med, t_med, h_min, t_min = [], [], [], []
    for _ in range(rounds):
        df = K.benchmark_gemm(sizes=(n,), dtype="float32", time_budget_s=0.6, n_repeats_min=5)
        h_med.append(flop / float(df["median_s"].iloc[0]))
        h_min.append(flop / float(df["min_s"].iloc[0]))
        samples = timer.repeat(repeat=5, number=1)
        t_med.append(flop / statistics.median(samples))
        t_min.append(flop / min(samples))
    return h_med, t_med, h_min, t_min


def main(argv=None):
    ap = argparse.ArgumentParser(description="timing-harness benchmark")
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget-s", type=float, default=10.0)
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="BLAS threads for benchmark_all (default: the library's setting)")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 160)

    info = K.machine_info()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {info['cpu_model']}, {info['n_cpu_cores']} cores, {info['blas_library']} "
        f"{info['blas_version']} ({info['blas_core_type']}, {info['n_blas_threads']} threads), "
        f"numpy {info['numpy_version']}, python {info['python_version']}, {info['measured_date']}"
    )
    print(f"load average (1 min) before: {load:.2f} on {info['n_cpu_cores']} cores"
          + ("  <- busy: other work shares these cores; timings are noisy" if
             load > 0.5 * (info["n_cpu_cores"] or 1) else ""))

    # 1. harness overhead
    h_med, t_med, h_min, t_min = harness_vs_timeit(args.size, args.rounds)
    print(f"\nfloat32 GEMM {args.size}^3, {args.rounds} interleaved rounds "
          f"(rate from each round's median sample, and from its fastest):")
    for label, h, t in (("median", h_med, t_med), ("fastest", h_min, t_min)):
        hm, tm = statistics.median(h), statistics.median(t)
        ratio = hm / tm
        print(f"  [{label:7s}] harness benchmark_gemm : {hm / 1e9:7.1f} GFLOP/s  "
              f"rounds {[round(x / 1e9, 1) for x in h]}")
        print(f"  [{label:7s}] bare matmul by timeit  : {tm / 1e9:7.1f} GFLOP/s  "
              f"rounds {[round(x / 1e9, 1) for x in t]}")
        print(f"  [{label:7s}] ratio harness / timeit : {ratio:.3f}  "
              f"({'within' if abs(ratio - 1) <= 0.10 else 'NOT within'} the 10% target)")

    # 2. the whole set and the roofline
    t0 = time.perf_counter()
    table = K.benchmark_all(time_budget_s=args.budget_s, blas_threads=args.blas_threads)
    wall = time.perf_counter() - t0
    print(f"\nbenchmark_all(time_budget_s={args.budget_s}): {len(table)} rows in {wall:.1f} s "
          f"({'under' if wall < 15 else 'OVER'} the 15 s target)")
    show = table[["kernel", "variant", "dtype", "shape", "median_s", "spread_ratio",
                  "achieved_flop_per_s", "achieved_bytes_per_s"]].copy()
    show["GFLOP/s"] = (show.pop("achieved_flop_per_s") / 1e9).round(2)
    show["GB/s"] = (show.pop("achieved_bytes_per_s") / 1e9).round(2)
    print(show.to_string(index=False))
    for model, col in (("sum", "median_s"), ("sum", "min_s"), ("max", "median_s")):
        fit = R.fit_roofline(table, model=model, time_column=col)
        peaks = ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in fit.peak_flop_per_s.items())
        print(
            f"\nroofline ({model}, fitted to {col}): peak {peaks}; bandwidth "
            f"{fit.bandwidth_bytes_per_s / 1e9:.1f} GB/s; median abs error "
            f"{fit.median_abs_error_ratio:.1%} "
            f"({'within' if fit.median_abs_error_ratio <= 0.20 else 'NOT within'} the 20% target)"
        )
        if (model, col) == ("sum", "median_s"):  # the defaults
            print(R.prediction_error_summary(table, fit).round(3).to_string(index=False))
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average (1 min) after: {load_after:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
