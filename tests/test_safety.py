"""Safe by construction: nothing evaluated from user strings, safe YAML, names that cannot name
paths, JupyterLab on loopback with a token."""
import re
from pathlib import Path

import pytest

import econ

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "econ").glob("*.py"))
CATEGORY = "safe by construction"


@pytest.mark.reliability(category=CATEGORY)
@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_no_eval_exec_pickle_or_unsafe_yaml(path):
    src = path.read_text()
    code = re.sub(r'""".*?"""', "", src, flags=re.S)  # docstrings may mention the words
    assert not re.search(r"(?<![\w.])(eval|exec)\(", code), f"{path.name} evaluates strings"
    assert "pickle" not in code, f"{path.name} unpickles data"
    for call in re.findall(r"yaml\.(?:load|unsafe_load|full_load)\([^)]*\)", code):
        loader = re.search(r"Loader=(\w+)", call)
        assert loader, f"{path.name}: {call} reads YAML without a safe loader"
        import yaml
        module = __import__(f"econ.{path.stem}", fromlist=["x"])
        assert issubclass(getattr(module, loader.group(1)), yaml.SafeLoader), (
            f"{path.name}: {call} uses a loader that is not a yaml.SafeLoader")
    assert "shell=True" not in code, f"{path.name} runs a shell on a built string"


@pytest.mark.reliability(category=CATEGORY)
@pytest.mark.parametrize("name", ["../base", "/etc/passwd", "base.yaml", "Base", "", "a b",
                                  "x;rm -rf", "..", "é"])
def test_scenario_names_are_a_simple_pattern(name):
    assert not re.fullmatch(econ.SCENARIO_NAME_PATTERN, name)


@pytest.mark.reliability(category=CATEGORY)
def test_yaml_tags_are_not_constructed(tmp_path):
    (tmp_path / "evil.yaml").write_text(
        "usd_per_gpu_hour: !!python/object/apply:os.system ['true']\n"
    )
    schema = econ.Schema([econ.Param("usd_per_gpu_hour", float, 2.0, min=0)])
    with pytest.raises(ValueError, match="evil.yaml"):
        econ.load_scenario(tmp_path / "evil.yaml", schema)


@pytest.mark.reliability(category=CATEGORY)
def test_lab_binds_to_loopback_with_a_token():
    make = (ROOT / "Makefile").read_text()
    lab = make[make.index("\nlab:"):].split("\n\n")[0]
    assert "--ip 127.0.0.1" in lab and "IdentityProvider.token=" in lab
    assert "secrets.token_hex" in lab, "a fresh random token each time"
