"""Benchmark: wall time of ``make reports`` for one scenario, with the time per notebook.

Runs ``python -m econ.reports <scenario> --jobs <N>`` in a fresh process into a temporary
folder (the environment already set up, as ``make reports`` would after ``make env``), and
prints the command's wall time, the run's own total, each notebook's time split into execution
and rendering (HTML + chart images), the CPU time of the whole process tree and the machine's
load, against the target: under 30 s on 2 cores, warm.

    python tests/benchmarks/bench_reports.py [--scenario base] [--jobs 2] [--images svg,png]
                                             [--notebooks-dir DIR]

Exit status: 0 when the report run succeeded (over target or not: this prints, it does not
judge a shared machine), 1 when it failed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_S = 30.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="base")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks at once (default 2: the target)")
    ap.add_argument("--images", default="svg,png")
    ap.add_argument("--notebooks-dir", default=str(ROOT / "notebooks"))
    args = ap.parse_args(argv)

    notebooks = sorted(Path(args.notebooks_dir).glob("*.ipynb"))
    if not notebooks:
        print(f"bench_reports: no notebooks in {args.notebooks_dir}; nothing to time")
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as out:
        cmd = [sys.executable, "-m", "econ.reports", args.scenario, "--out", out,
               "--jobs", str(args.jobs), "--images", args.images,
               "--notebooks-dir", args.notebooks_dir]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        folder = Path(out) / (args.scenario if r.returncode == 0 else f"{args.scenario}.failed")
        manifest = json.loads((folder / "manifest.json").read_text()) \
            if (folder / "manifest.json").exists() else None

    print(f"report run: {args.scenario}, {len(notebooks)} notebooks, --jobs {args.jobs}, "
          f"images {args.images}")
    print(f"machine: {cores} cores available; load average before "
          f"{load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f} (1/5/15 min); "
          f"after {os.getloadavg()[0]:.1f}")
    if manifest:
        print(f"{'notebook':<30} {'wall':>7} {'execute':>8} {'render':>7} {'charts':>6}  status")
        for n in sorted(manifest["notebooks"], key=lambda n: -n["seconds"]):
            print(f"{n['name']:<30} {n['seconds']:6.1f}s {n['execute_seconds']:7.1f}s "
                  f"{n['seconds'] - n['execute_seconds']:6.1f}s {n['charts']:6d}  "
                  f"{'ok' if n['ok'] else 'FAILED: ' + n['error']}")
        busy = sum(n["seconds"] for n in manifest["notebooks"])
        print(f"run total (inside the command): {manifest['seconds']:.1f} s; the notebooks' "
              f"own wall times add up to {busy:.1f} s ({busy / args.jobs:.1f} s over "
              f"{args.jobs} workers)")
    print(f"command wall time (start-up included): {wall:.1f} s; CPU time of the processes "
          f"it reaped {cpu:.1f} s")
    verdict = "within" if wall < TARGET_S else "OVER"
    print(f"target: < {TARGET_S:.0f} s on 2 cores -> {verdict} target "
          f"({wall:.1f} s on a machine with load {load_before[0]:.1f})")
    if r.returncode != 0:
        print("report run FAILED:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
