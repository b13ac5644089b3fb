"""The layers of econ (pyproject.toml, [tool.importlinter]) hold, and no module reaches into
another module's private names.

import-linter checks every import, including those inside functions, and indirect ones; the
planted-cycle tests run it on a copy of econ with a cycle added, to show the contract can fail.
"""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ECON = ROOT / "econ"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd, pythonpath=None):
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_layer_contract_is_kept():
    out = _lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def _planted_copy(tmp_path, plants):
    """econ and pyproject.toml copied to tmp_path, with ``plants`` {module: source} appended."""
    shutil.copytree(ECON, tmp_path / "econ", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, source in plants.items():
        path = tmp_path / "econ" / f"{module}.py"
        path.write_text(path.read_text() + "\n\n" + source)
    return tmp_path


@pytest.mark.parametrize("plants, broken", [
    # issue 15's cycle, inside functions: amortization <-> pricing (one layer, independent)
    ({"amortization": "def _planted():\n    from .pricing import blended_usd_per_mtok\n",
      "pricing": "def _planted():\n    from .amortization import useful_usd_per_hour\n"},
     ["econ.amortization -> econ.pricing", "econ.pricing -> econ.amortization"]),
    # a model module reaching up to the engine's users: kvcache -> inference -> kvcache
    ({"kvcache": "from . import inference\n"}, ["econ.kvcache -> econ.inference"]),
    # the bottom reaching the data layer
    ({"units": "from .data import load\n"}, ["econ.units -> econ.data"]),
])
def test_layer_contract_fails_on_a_planted_cycle(tmp_path, plants, broken):
    copy = _planted_copy(tmp_path, plants)
    out = _lint_imports(copy, pythonpath=copy)
    assert out.returncode != 0, out.stdout
    assert "0 kept, 1 broken" in out.stdout
    for edge in broken:
        assert edge in out.stdout, (edge, out.stdout)


def test_every_module_is_in_a_layer(tmp_path):
    """exhaustive = true: a module left out of the contract is an error, not a free pass."""
    copy = _planted_copy(tmp_path, {})
    (copy / "econ" / "newmodule.py").write_text("from . import data\n")
    out = _lint_imports(copy, pythonpath=copy)
    assert out.returncode != 0 and "econ.newmodule" in out.stdout + out.stderr


# --- private names ------------------------------------------------------------------------------

def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def private_imports(source, module):
    """``(line, text)`` for each use of another econ module's private name in ``source``.

    Catches ``from .x import _y``, ``from econ.x import _y`` and ``x._y`` where ``x`` is bound
    to an econ module (``from . import x [as z]``, ``import econ.x as z``). Private modules
    (``econ._checks``) may be imported; their public names are the shared ones.
    """
    tree = ast.parse(source)
    modules = {}  # local name -> econ module it stands for
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            rel = node.level >= 1 or (node.module or "").split(".")[0] == "econ"
            if not rel:
                continue
            base = (node.module or "").removeprefix("econ").lstrip(".")
            for a in node.names:
                if not base:  # from . import x [as y]
                    modules[a.asname or a.name] = a.name
                elif _is_private(a.name) and base != module:
                    found.append((node.lineno, f"from {base} import {a.name}"))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("econ.") and a.asname:
                    modules[a.asname] = a.name.removeprefix("econ.")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _is_private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in modules
                and modules[node.value.id] != module):
            found.append((node.lineno, f"{modules[node.value.id]}.{node.attr}"))
        elif (isinstance(node, ast.Attribute) and _is_private(node.attr)
              and isinstance(node.value, ast.Attribute)
              and isinstance(node.value.value, ast.Name) and node.value.value.id == "econ"
              and node.value.attr != module):
            found.append((node.lineno, f"econ.{node.value.attr}.{node.attr}"))
    return found


def test_no_module_imports_another_modules_private_names():
    bad = {p.name: hits for p in sorted(ECON.glob("*.py"))
           if (hits := private_imports(p.read_text(), p.stem))}
    assert not bad, f"private names used across modules (make them public or move them): {bad}"


@pytest.mark.parametrize("source", [
    "from .kvcache import _model_columns\n",
    "from econ.engine import _x\n",
    "from . import serving as _s\n_s._model_numbers(1)\n",
    "from . import data\ndata._read_sidecar('x')\n",
    "import econ.engine as eng\neng._y\n",
    "import econ\necon._z\necon.kvcache._w\n",
])
def test_the_private_name_check_catches(source):
    assert private_imports(source, "inference")


@pytest.mark.parametrize("source", [
    "from ._checks import positive\n",
    "from . import data as _data\n_data.load('models')\n",
    "from ._checks import finite_result as _finite_result\n",
    "class A:\n    def f(self):\n        return self._x\n",
])
def test_the_private_name_check_allows(source):
    assert private_imports(source, "inference") == []


#: Test files that test something other than one module (tests/conftest.py says which).
NOT_A_MODULE = {"notebooks", "notebook_runs", "nbval_tolerance", "import", "layers", "lint",
                "safety", "offline", "environment", "wheel", "browser", "lab",
                "reliability_inputs"}


def test_each_module_has_one_test_file_and_each_test_file_a_subject():
    modules = {p.stem.lstrip("_") for p in ECON.glob("*.py")
               if p.stem not in ("__init__", "__main__")}
    tests = {p.stem.removeprefix("test_") for p in (ROOT / "tests").glob("test_*.py")}
    tables = {p.stem for p in (ROOT / "data").glob("*.csv")}
    assert sorted(modules - tests) == [], "add tests/test_<module>.py for these modules"
    strays = {t for t in tests - modules - NOT_A_MODULE
              if not (t.startswith("data_") and t.removeprefix("data_") in tables)}
    assert sorted(strays) == [], ("a test file named after no module, table or whole-package "
                                  "check: move its tests to tests/test_<module>.py")

