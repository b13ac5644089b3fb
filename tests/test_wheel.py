"""``pip install .`` (not editable) into a fresh virtual environment gives a working package:
the tables ship inside it (econ/_data) and are found with importlib.resources, from any folder.

The scenario files (notebooks/scenarios) ship as econ/_scenarios, found the same way.

Built from a copy of what the wheel needs (pyproject.toml, README.md, econ/, data/,
notebooks/scenarios/), so the checkout is left as it was and nothing else of it can leak into
the package. uv installs the dependencies from its cache (filled by `make env`), else from PyPI.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys, econ
from pathlib import Path
d = econ.data.DATA_DIR
assert Path(econ.__file__).parent / "_data" == d, d
assert 'site-packages' in str(d), d
assert not any(Path(p).resolve() == Path(sys.argv[1]) for p in sys.path if p)
shapes = {t: econ.data.load(t).shape for t in econ.data.tables()}
assert 'altair' not in sys.modules
print(econ.data.load('models').shape, len(shapes))
print(round(float(econ.cost_usd_per_mtok(3.6, 1000.0)), 6))
assert econ.SCENARIO_DIR == Path(econ.__file__).parent / "_scenarios", econ.SCENARIO_DIR
base = econ.load_scenario("base", econ.Schema([econ.Param("usd_per_gpu_hour", float, 2.0)]))
print(" ".join(econ.scenario_names()), base.values["usd_per_gpu_hour"])
"""


def _run(cmd, **kw):
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))}\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.mark.slow
def test_wheel_install_finds_its_data_from_another_folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("econ", "data", "notebooks/scenarios"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    py = venv / "bin" / "python"
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if uv:
        _run([uv, "venv", "-q", "--python", sys.executable, venv], env=env)
        install = [uv, "pip", "install", "-q", "--python", py, src]
        out = subprocess.run([str(c) for c in install + ["--offline"]], capture_output=True,
                             text=True, timeout=600, env=env)
        if out.returncode != 0:  # a dependency not in uv's cache: fetch it
            _run(install, env=env)
    else:
        _run([sys.executable, "-m", "venv", venv], env=env)
        _run([py, "-m", "pip", "install", "-q", src], env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _run([py, "-c", PROBE, ROOT], cwd=elsewhere, env=env).splitlines()
    import econ

    tables = econ.data.tables()
    assert out[0] == f"{econ.data.load('models').shape} {len(tables)}"
    assert float(out[1]) == pytest.approx(1.0)
    # the scenario files ship too (econ/_scenarios), found without a checkout
    scenarios = sorted(p.stem for p in (ROOT / "notebooks" / "scenarios").glob("*.yaml"))
    assert out[2].split()[:-1] == scenarios and float(out[2].split()[-1]) > 0
    # the wheel's data are the repository's, byte for byte
    shipped = next(venv.glob("lib/python*/site-packages/econ/_data"))
    for t in tables:
        for ext in ("csv", "yaml"):
            name = f"{t}.{ext}"
            assert (shipped / name).read_bytes() == (ROOT / "data" / name).read_bytes(), name
    for name in scenarios:
        assert (shipped.parent / "_scenarios" / f"{name}.yaml").read_bytes() == (
            ROOT / "notebooks" / "scenarios" / f"{name}.yaml").read_bytes(), name
