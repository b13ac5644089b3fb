"""Time to ``import econ`` against ``import pandas``, measured in the same run.

Each import runs in a fresh interpreter (nothing cached in ``sys.modules``), timed inside it so
that the interpreter's own start-up is left out; the best of ``--repeats`` runs is printed, as
the least disturbed by other work on the machine. ``import econ`` includes pandas (the data
tables are DataFrames), so the difference is what econ itself costs. Target (issue 15): well
under a second, with no charting library loaded.

Usage: ``python tests/benchmarks/bench_import.py [--repeats N]``.
"""
from __future__ import annotations

import argparse
import subprocess
import sys

PROBE = ("import sys, time; t = time.perf_counter(); import {module}; "
         "print(time.perf_counter() - t); "
         "print(','.join(m for m in ('altair', 'jsonschema', 'vl_convert', 'nbformat', 'IPython') "
         "if m in sys.modules))")


def import_s(module, repeats):
    """Best wall time of ``import module`` over ``repeats`` fresh interpreters [s], and the
    charting or notebook libraries that import loaded."""
    best, loaded = float("inf"), ""
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", PROBE.format(module=module)],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        best, loaded = min(best, float(out[0])), out[1] if len(out) > 1 else ""
    return best, loaded


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    opt = ap.parse_args(argv)
    pandas_s, _ = import_s("pandas", opt.repeats)
    econ_s, loaded = import_s("econ", opt.repeats)
    print(f"import pandas  {pandas_s:6.2f} s   (best of {opt.repeats} fresh interpreters)")
    print(f"import econ    {econ_s:6.2f} s   ({econ_s / pandas_s:.1f}x pandas; econ's own share "
          f"{econ_s - pandas_s:.2f} s)")
    print(f"charting/notebook libraries loaded by import econ: {loaded or 'none'}")
    return 0 if not loaded else 1


if __name__ == "__main__":
    sys.exit(main())
