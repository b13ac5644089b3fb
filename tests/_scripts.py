"""The GPU recording scripts of tests/benchmarks, for the tests that check them: loaded as
modules (their column lists, their byte counts) and run in --quick mode into a table."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import econ.data as D

BENCHMARKS = Path(__file__).resolve().parent / "benchmarks"


def load_script(name):
    """``tests/benchmarks/<name>.py`` as a module (its folder importable meanwhile: a
    script may import a sibling)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_script", BENCHMARKS / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up there
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(BENCHMARKS))


def quick_table(name, table, tmp_path, *args):
    """Run ``tests/benchmarks/<name>.py --quick`` into ``tmp_path`` and load the ``table`` it
    writes against the repository's sidecar."""
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick", "--out",
                          str(out), *args],
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(out / f"{table}.csv", data / f"{table}.csv")
    shutil.copy(D.DATA_DIR / f"{table}.yaml", data / f"{table}.yaml")
    return D.load(table, data)
