"""Ruff, configured in pyproject.toml ([tool.ruff]), finds nothing in econ/ and tests/."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run([str(ruff), "check", "--no-cache", "econ", "tests"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_fails_on_a_planted_problem(tmp_path):
    """The configuration is read and its rules apply (an unused import, an unsorted block)."""
    bad = tmp_path / "planted.py"
    bad.write_text("import sys\nimport os\n")
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run([str(ruff), "check", "--no-cache", "--config",
                          str(ROOT / "pyproject.toml"), str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "F401" in out.stdout and "I001" in out.stdout, out.stdout
