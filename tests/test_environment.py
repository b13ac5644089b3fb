"""environment.yml (conda) and pyproject.toml (pip) describe the same environment."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Names that differ between PyPI and conda-forge (none so far).
PYPI_TO_CONDA: dict[str, str] = {}


def _split(req):
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*?)\s*", req)
    assert m, f"cannot parse requirement {req!r}"
    return m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")


def _pip():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(_split(r) for r in meta["project"]["dependencies"])


def _conda():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    out = dict(_split(d) for d in deps)
    out.pop("pip")
    return out, env


def test_same_packages_and_bounds():
    pip = {PYPI_TO_CONDA.get(k, k): v for k, v in _pip().items()}
    conda, _ = _conda()
    python = conda.pop("python")
    assert pip == conda, (
        f"only in pyproject: {sorted(set(pip) - set(conda))}; only in environment.yml: "
        f"{sorted(set(conda) - set(pip))}; bounds differ: "
        f"{ {k: (pip[k], conda[k]) for k in set(pip) & set(conda) if pip[k] != conda[k]} }")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert python == meta["project"]["requires-python"]


def test_environment_installs_the_package_itself():
    _, env = _conda()
    pip_part = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_part and "-e ." in pip_part[0]["pip"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    commands = [
        ln.strip()
        for ln in ci.splitlines()
        if ln.strip() and not ln.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test"]
    assert "make test" in readme and "make reports" in readme
