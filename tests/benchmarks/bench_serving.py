"""Speed of a Monte Carlo through the engine level (``econ.predict_serving``), vectorized
against a scalar loop in the same run.

The chain: a GPU-hour price and a workload (concurrency, input and output lengths) drawn per
sample -> ``econ.predict_serving`` (Llama-3.1-70B FP8 on 2 H100s, tensor parallel) -> output
tokens/s per device -> ``econ.cost_usd_per_mtok``. Target (issue 13): 1,000,000 samples in
under 2 s on 2 cores, with the ratio to a scalar loop printed.

The ranges are benchmark inputs, not findings. Usage:
``python tests/benchmarks/bench_serving.py [--samples N] [--loop N] [--repeats N] [--strict]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

_CORES = sorted(os.sched_getaffinity(0))[:2] if hasattr(os, "sched_getaffinity") else None
if _CORES is not None:
    os.sched_setaffinity(0, _CORES)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import numpy as np  # noqa: E402

import econ  # noqa: E402

SETUP = dict(model="llama-3.1-70b", hardware="h100-sxm", precision="fp8", n_devices=2, tp=2)


def chain_usd_per_mtok(usd_per_gpu_hour, concurrency, isl_tok, osl_tok):
    """$/Mtok of output at the engine level's throughput per device."""
    r = econ.predict_serving(SETUP["model"], SETUP["hardware"], SETUP["precision"],
                             n_devices=SETUP["n_devices"], tp=SETUP["tp"], isl_tok=isl_tok,
                             osl_tok=osl_tok, concurrency=concurrency)
    return econ.cost_usd_per_mtok(usd_per_gpu_hour, r["output_tok_per_s_per_device"])


def draw(n, seed):
    rng = np.random.default_rng(seed)
    return dict(usd_per_gpu_hour=rng.uniform(1.5, 4.0, n), concurrency=rng.uniform(1, 64, n),
                isl_tok=rng.uniform(128, 4096, n), osl_tok=rng.uniform(128, 2048, n))


def best_of(repeats, fn):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--loop", type=int, default=2_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    opt = ap.parse_args(argv)
    s = draw(opt.samples, 0)
    chain_usd_per_mtok(**{k: v[:10] for k, v in s.items()})   # warm-up: tables loaded
    t_vec, out = best_of(opt.repeats, lambda: chain_usd_per_mtok(**s))
    m = min(opt.loop, opt.samples)
    t0 = time.perf_counter()
    loop = [chain_usd_per_mtok(*(float(s[k][i]) for k in s)) for i in range(m)]
    t_loop = (time.perf_counter() - t0) / m
    assert np.allclose(loop, out[:m], rtol=1e-9), "the loop and the vectorized chain disagree"
    print(f"engine level: {SETUP}; {opt.samples:,} samples of price, concurrency, ISL, OSL")
    print(f"vectorized: {t_vec:.3f} s for {opt.samples:,} samples "
          f"({opt.samples / t_vec:,.0f} samples/s); target under 2 s: "
          f"{'met' if t_vec < 2.0 else 'NOT met'}")
    print(f"scalar loop: {t_loop * 1e3:.2f} ms per sample over {m:,} samples; "
          f"vectorized is {t_loop * opt.samples / t_vec:,.0f}x faster per sample")
    print(f"median $/Mtok {np.median(out):.3f}, 5-95%: {np.percentile(out, 5):.3f}-"
          f"{np.percentile(out, 95):.3f}")
    return 1 if opt.strict and t_vec >= 2.0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
