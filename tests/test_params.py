"""econ.params: parameter schemas read from a notebook's parameters cell, and scenario files
rejected with the file, key and problem.

A notebook's parameters are checked wherever it runs: unknown injected names, same-as defaults,
setups that do not fit; scenario files that set nothing are refused.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import econ
from econ import params as sc
from econ import report_run
from econ.params import (
    Param,
    ScenarioError,
    Schema,
    load_scenario,
    validate_params,
)

# --------------------------------------------------------------------------------------------
# schemas
# --------------------------------------------------------------------------------------------

CELL = '''
model: str = "deepseek-v3"           # key in data/hardware.csv
attention: str = "mla"               # cache layout {mha, gqa, mla}
usd_per_gpu_hour: float = 2.0        # rental price (0, inf)
utilization_frac: float = 0.6        # share of hours doing paid work
pue_ratio: float = 1.3               # power usage effectiveness [1, 3]
mc_samples: int = 2000               # Monte Carlo samples
seed: int = 0                        # random seed
batch_sizes: list[int] = [1, 8, 64]  # sweep [1, 4096]
note: Optional[str] = None           # free text
fast = True                          # untyped: type from the default
results_path: str = ""               # where result rows go (empty: none)
'''


@pytest.fixture(scope="module")
def schema():
    # the hardware table's keys stand in for a models table here
    return Schema.from_source(CELL.replace('"deepseek-v3"', '"h100-sxm"'))


def test_schema_from_a_parameters_cell(schema):
    assert list(schema) == ["model", "attention", "usd_per_gpu_hour", "utilization_frac",
                            "pue_ratio", "mc_samples", "seed", "batch_sizes", "note", "fast",
                            "results_path"]
    assert "h100-sxm" in schema["model"].choices
    assert schema["attention"].choices == ("mha", "gqa", "mla")
    p = schema["usd_per_gpu_hour"]
    assert (p.type, p.min, p.min_inclusive, p.max) == (float, 0.0, False, None)
    assert (schema["utilization_frac"].min, schema["utilization_frac"].max) == (0.0, 1.0)
    assert (schema["pue_ratio"].min, schema["pue_ratio"].max) == (1.0, 3.0)
    assert (schema["mc_samples"].type, schema["mc_samples"].min) == (int, 0.0)  # _samples unit
    assert schema["seed"].min is None
    assert (schema["batch_sizes"].type, schema["batch_sizes"].item_type) == (list, int)
    assert schema["note"].optional and schema["fast"].type is bool
    assert schema["utilization_frac"].help == "share of hours doing paid work"
    assert schema.defaults()["batch_sizes"] == [1, 8, 64]


def test_schema_describes_each_parameter_for_the_list_command(schema):
    lines = schema.describe(reserved=("results_path",))
    assert len(lines) == len(schema) and lines == sorted(lines)
    pue = next(ln for ln in lines if ln.startswith("pue_ratio:"))
    assert pue.startswith(f"pue_ratio: {schema['pue_ratio'].allowed()} = 1.3  # ")
    assert pue.endswith("# power usage effectiveness [1, 3]")
    assert [ln for ln in lines if ln.endswith("(set by the report run)")] == [
        next(ln for ln in lines if ln.startswith("results_path:"))]


def test_schema_refuses_what_papermill_cannot_read():
    with pytest.raises(ValueError, match=r"line 2: papermill cannot read parameter 'path'"):
        Schema.from_source('x: float = 1.0  # a\npath: str | None = None  # b\n', "nb.ipynb")


def test_schema_refuses_a_default_outside_its_own_range():
    with pytest.raises(ValueError, match=r"nb.ipynb: default: key 'utilization_frac'"):
        Schema.from_source("utilization_frac: float = 1.5  # share\n", "nb.ipynb")


def test_schema_explains_an_equals_sign_in_the_help():
    with pytest.raises(ValueError, match=r"line 1: papermill cannot read parameter "
                                         r"'results_path'.*more than one '='"):
        Schema.from_source('results_path: str = ""  # rows ("" = none)\n', "nb.ipynb")


def test_schema_refuses_an_unknown_table():
    with pytest.raises(ValueError, match="no such table"):
        Schema.from_source('model: str = "x"  # key in data/nope.csv\n')


def test_schema_from_a_notebook_through_papermill(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    cell = nbformat.v4.new_code_cell(
        "utilization_frac: float = 0.6  # share of hours\nseed: int = 0  # seed\n")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    s = Schema.from_notebook(path)
    assert list(s) == ["utilization_frac", "seed"] and s["seed"].source == str(path)
    assert validate_params({"utilization_frac": 1}, path) == {"utilization_frac": 1.0}
    with pytest.raises(ScenarioError, match="utilization_frac"):
        validate_params({"utilization_frac": 2.0}, str(path))


def test_union_narrows_ranges_and_refuses_conflicts():
    a = Schema([Param("x_frac", float, 0.5, min=0, max=1, source="a.ipynb")])
    b = Schema([Param("x_frac", float, 0.5, min=0.2, max=1, max_inclusive=False,
                      source="b.ipynb"), Param("y", str, "k", choices=("k", "m"))])
    u = Schema.union(a, b)
    assert list(u) == ["x_frac", "y"]
    assert (u["x_frac"].min, u["x_frac"].max, u["x_frac"].max_inclusive) == (0.2, 1, False)
    assert u["x_frac"].source == "a.ipynb, b.ipynb"
    with pytest.raises(ValueError, match=r"different types: float in a.ipynb and int in c"):
        a | Schema([Param("x_frac", int, 1, source="c")])
    with pytest.raises(ValueError, match=r"different defaults: 0.5 in a.ipynb and 0.7 in d"):
        a | Schema([Param("x_frac", float, 0.7, source="d")])


def test_validate_params_converts_and_explains(schema):
    ok = validate_params({"usd_per_gpu_hour": 2, "batch_sizes": [1, 2], "note": None,
                          "pue_ratio": "1.2e0"}, schema)
    assert ok == {"usd_per_gpu_hour": 2.0, "batch_sizes": [1, 2], "note": None,
                  "pue_ratio": 1.2}
    assert isinstance(ok["usd_per_gpu_hour"], float)
    with pytest.raises(ScenarioError, match=r"key 'batch_sizes'\[1\]: out of range, got 0"):
        validate_params({"batch_sizes": [1, 0]}, schema)
    with pytest.raises(ScenarioError, match=r"'h100sxm' is not an allowed value \(did you mean "
                                            r"'h100-sxm'\?\)"):
        validate_params({"model": "h100sxm"}, schema)


def test_validate_params_without_a_schema_uses_unit_suffixes():
    assert validate_params({"utilization_frac": 0.5, "n_nodes": 3, "model": "m"}) == \
        {"utilization_frac": 0.5, "n_nodes": 3, "model": "m"}
    with pytest.raises(ScenarioError, match=r"parameters: key 'utilization_frac': out of range"):
        validate_params({"utilization_frac": 1.5})
    with pytest.raises(ScenarioError, match=r"key 'price_usd_per_hour': out of range, got -1"):
        validate_params({"price_usd_per_hour": -1.0})
    with pytest.raises(ScenarioError, match="not a finite number"):
        validate_params({"x": float("nan")})


# --------------------------------------------------------------------------------------------
# scenario files
# --------------------------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "scenarios"
    d.mkdir()
    (d / "base.yaml").write_text("utilization_frac: 0.6  # the default\n")
    (d / "cheap-gpus.yaml").write_text(
        "usd_per_gpu_hour: 1  # a glut of H100s\nutilization_frac: 0.8  # busy\n")
    return d


def _err(folder, schema, text, name="bad"):
    (folder / f"{name}.yaml").write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(name, schema, folder=folder)
    msg = str(e.value)
    assert str(folder / f"{name}.yaml") in msg  # names the file
    return msg


def test_load_scenario_by_name_and_by_path(folder, schema):
    s = load_scenario("cheap-gpus", schema, folder=folder)
    assert s.name == "cheap-gpus" and s.path == folder / "cheap-gpus.yaml"
    assert s.values == {"usd_per_gpu_hour": 1.0, "utilization_frac": 0.8}
    assert load_scenario("base", schema, folder=folder).values == {"utilization_frac": 0.6}
    assert load_scenario(folder / "cheap-gpus.yaml", schema).values == s.values
    assert sc.scenario_names(folder) == ["base", "cheap-gpus"]
    only = s.for_schema([Param("utilization_frac", float, 0.6)])
    assert only == {"utilization_frac": 0.8}


def test_unknown_key_names_file_key_and_the_nearest_name(folder, schema):
    msg = _err(folder, schema, "utilisation_frac: 0.5\n")
    assert "unknown key 'utilisation_frac'" in msg and "did you mean 'utilization_frac'" in msg


def test_wrong_type_names_key_value_and_type(folder, schema):
    msg = _err(folder, schema, "usd_per_gpu_hour: cheap\n")
    assert "key 'usd_per_gpu_hour': wrong type, got 'cheap' (str)" in msg
    assert "allowed: a float in (0, inf)" in msg
    msg = _err(folder, schema, "mc_samples: 2000.5\n")
    assert "key 'mc_samples'" in msg and "whole number" in msg
    msg = _err(folder, schema, "attention: no\n")
    assert "False (bool)" in msg and "quote" in msg
    msg = _err(folder, schema, "fast: 1\n")
    assert "key 'fast': wrong type" in msg


def test_out_of_range_names_key_value_and_range(folder, schema):
    msg = _err(folder, schema, "utilization_frac: 1.7  # too busy\n")
    assert "key 'utilization_frac': out of range, got 1.7; allowed: a float in [0, 1]" in msg
    msg = _err(folder, schema, "usd_per_gpu_hour: 0\n")
    assert "out of range, got 0.0" in msg and "(0, inf)" in msg


@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "a/b", "base.yaml", "", "Base",
                                  ".hidden", "-x", "x y"])
def test_names_that_could_leave_the_folder_are_refused(folder, schema, name):
    (folder.parent / "x.yaml").write_text("seed: 1\n")
    with pytest.raises(ScenarioError, match=re.escape(f"scenario name {name!r} is not allowed")):
        load_scenario(name, schema, folder=folder)


def test_a_symlink_out_of_the_folder_is_refused(folder, schema):
    (folder.parent / "outside.yaml").write_text("seed: 1\n")
    (folder / "link.yaml").symlink_to(folder.parent / "outside.yaml")
    with pytest.raises(ScenarioError, match="outside"):
        load_scenario("link", schema, folder=folder)


def test_an_unknown_name_lists_the_scenarios(folder, schema):
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope'.*\['base', 'cheap-gpus'\]"):
        load_scenario("nope", schema, folder=folder)


def test_malformed_yaml_gives_the_line(folder, schema):
    msg = _err(folder, schema, "seed: 1\nutilization_frac: [0.5\n")
    assert "not valid YAML at line" in msg


def test_a_file_that_is_not_a_mapping_is_refused(folder, schema):
    assert "must be a mapping" in _err(folder, schema, "- seed\n- 1\n")
    assert "got a str" in _err(folder, schema, "just text\n")


def test_a_key_given_twice_is_refused(folder, schema):
    assert "'seed' appears twice" in _err(folder, schema, "seed: 1\nseed: 2\n")


def test_a_non_string_key_is_refused(folder, schema):
    assert "key 1 is not a parameter name" in _err(folder, schema, "1: 2\n")


def test_yaml_scientific_notation_without_a_dot_is_read_as_a_number(folder, schema):
    (folder / "sci.yaml").write_text("usd_per_gpu_hour: 2e0\n")
    assert load_scenario("sci", schema, folder=folder).values == {"usd_per_gpu_hour": 2.0}


def test_the_default_folder_is_notebooks_scenarios():
    assert sc.SCENARIO_DIR.parts[-2:] == ("notebooks", "scenarios")


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
ROOT = Path(__file__).resolve().parent.parent


def _check(scen_dir, *names, notebooks=("chart", "broken")):
    paths = report_run.discover_notebooks(FIXTURES, notebooks)
    _, union = sc.suite_schema(paths)
    return sc.load_scenarios(names, union, scen_dir, report_run.RESERVED_PARAMETERS)


@pytest.mark.parametrize("text, words", [
    ("scael: 2.0\n", ["unknown key 'scael'", "did you mean 'scale'"]),
    ("scale: cheap\n", ["key 'scale'", "wrong type"]),
    ("n_points: 2.5\n", ["key 'n_points'", "whole number"]),
    ("pause_s: 1000\n", ["key 'pause_s'", "out of range", "[0, 600]"]),
    ("fail: maybe\n", ["key 'fail'", "wrong type"]),
    ("results_path: /tmp/x.csv\n", ["results_path", "set by the report run"]),
    ("scale: 1\nscale: 2\n", ["appears twice"]),
    ("- scale\n", ["must be a mapping"]),
    ("scale: [1\n", ["not valid YAML"]),
])
def test_bad_scenario_is_rejected_naming_file_key_problem(scen_dir, text, words):
    (scen_dir / "bad.yaml").write_text(text)
    with pytest.raises(econ.ScenarioError) as exc:
        _check(scen_dir, "bad")
    msg = str(exc.value)
    assert "bad.yaml" in msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "base.yaml", "a/b", "..", "Base"])
def test_scenario_names_cannot_leave_the_folder(scen_dir, name):
    with pytest.raises(econ.ScenarioError, match="not allowed"):
        _check(scen_dir, name)


def test_symlink_out_of_the_folder_is_rejected(scen_dir, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("scale: 2.0\n")
    (scen_dir / "sneaky.yaml").symlink_to(outside)
    with pytest.raises(econ.ScenarioError, match="outside"):
        _check(scen_dir, "sneaky")


def test_all_problems_reported_together_and_all_expands(scen_dir):
    (scen_dir / "a.yaml").write_text("scale: x\n")
    (scen_dir / "b.yaml").write_text("nope: 1\n")
    with pytest.raises(econ.ScenarioError) as exc:
        _check(scen_dir, "all")
    assert "a.yaml" in str(exc.value) and "b.yaml" in str(exc.value)
    (scen_dir / "a.yaml").write_text("scale: 3  # an int is fine for a float\n")
    (scen_dir / "b.yaml").write_text("fail: false\n")
    got = _check(scen_dir, "all")
    assert [s.name for s in got] == ["a", "b", "base"]
    assert got[0].values == {"scale": 3.0} and isinstance(got[0].values["scale"], float)


def test_unknown_scenario_and_notebook(scen_dir):
    with pytest.raises(econ.ScenarioError, match="unknown scenario 'nope'"):
        _check(scen_dir, "nope")
    with pytest.raises(report_run.ReportError, match=r"unknown notebook\(s\) \['nope'\]"):
        report_run.discover_notebooks(FIXTURES, ["nope"])


def test_shipped_scenarios_are_valid_for_the_shipped_notebooks():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    files = sorted((ROOT / "notebooks" / "scenarios").glob("*.yaml"))
    assert {"base", "cheap-gpus", "margin-collapse", "heavy-reasoning"} <= {f.stem for f in files}
    for f in files:
        assert f.read_text().lstrip().startswith("#"), f"{f.name}: start with a comment"
    if not notebooks:
        pytest.skip("no notebooks yet")
    _, union = sc.suite_schema(notebooks)
    loaded = sc.load_scenarios(["all"], union, ROOT / "notebooks" / "scenarios")
    assert [s.name for s in loaded if s.name != "base" and not s.values] == []


# --------------------------------------------------------------------------------------------
# A notebook's parameters are checked wherever it runs: unknown injected names, same-as
# --------------------------------------------------------------------------------------------

CELL_NB = '''
usd_per_gpu_hour: float = 2.0           # (0, inf) price of one GPU-hour
o1_usd_per_gpu_hour: Optional[float] = None  # (0, inf) OpenAI's price; None: same as usd_per_gpu_hour
results_path: str = ""                  # where result rows go
'''  # noqa: E501 (a parameters cell as the notebooks write it: one line per parameter)


@pytest.fixture
def nb_path(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(CELL_NB)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    return path


def _ns(**kw):
    return {"usd_per_gpu_hour": 2.0, "o1_usd_per_gpu_hour": None, "results_path": "", **kw}


def test_same_as_follows_the_value_it_names_unless_set(nb_path):
    s = Schema.from_notebook(nb_path)
    assert s["o1_usd_per_gpu_hour"].same_as == "usd_per_gpu_hour"
    assert (
        econ.notebook_parameters(_ns(usd_per_gpu_hour=4.0), nb_path)["o1_usd_per_gpu_hour"] == 4.0
    )
    assert econ.notebook_parameters(_ns(usd_per_gpu_hour=4.0, o1_usd_per_gpu_hour=3.0),
                                    nb_path)["o1_usd_per_gpu_hour"] == 3.0


def test_an_injected_unknown_name_is_refused_with_the_nearest_name(nb_path):
    injected = "# Parameters\nprice_usd_per_gpu_hour = 1.5\nusd_per_gpu_hour = 3.0\n"
    assert econ.injected_parameter_names({"In": ["", "x = 1", injected]}) == [
        "price_usd_per_gpu_hour", "usd_per_gpu_hour"]
    with pytest.raises(ScenarioError, match=r"unknown parameter\(s\) 'price_usd_per_gpu_hour' "
                                            r"\(did you mean 'usd_per_gpu_hour'\?\)"):
        econ.notebook_parameters(_ns(In=["", injected]), nb_path)
    ok = "# Parameters\nusd_per_gpu_hour = 3.0\n"
    assert econ.notebook_parameters(_ns(In=["", ok], usd_per_gpu_hour=3.0),
                                    nb_path)["usd_per_gpu_hour"] == 3.0


def test_bad_values_are_refused(nb_path):
    with pytest.raises(ScenarioError, match="usd_per_gpu_hour"):
        econ.notebook_parameters(_ns(usd_per_gpu_hour=-1.0), nb_path)


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "{}\n"])
def test_a_scenario_file_that_sets_nothing_is_refused(tmp_path, nb_path, text):
    (tmp_path / "empty.yaml").write_text(text)
    with pytest.raises(ScenarioError, match="sets no parameter"):
        load_scenario("empty", Schema.from_notebook(nb_path), folder=tmp_path)


def test_a_model_parameter_takes_a_config_path_and_rejects_a_bad_one(tmp_path):
    import json
    import shutil
    cfg = econ.data.DATA_DIR.parent / "tests" / "fixtures" / "hf_configs" / "qwen3-8b.json"
    if not cfg.exists():
        pytest.skip("installed package without the tests folder")
    p = econ.Param(name="model", type=str, default="deepseek-v3",
                   choices=tuple(econ.data.keys("models")), config_path=True)
    local = tmp_path / "config.json"
    shutil.copy(cfg, local)
    assert p.check(str(local)) == str(local)
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"model_type": "no-such-kind"}))
    with pytest.raises(econ.ScenarioError, match="model.*not a readable model config"):
        p.check(str(bad))
    with pytest.raises(econ.ScenarioError, match="not an allowed value"):
        p.check("no-such-model")
    assert "config.json" in p.allowed()


def test_notebook_tools_skip_the_slow_iri_grammar_and_leave_it_importable():
    code = ("import sys, importlib.util, econ.params as p\n"
            "nbformat, papermill = p.notebook_tools()\n"
            "assert (nbformat.__name__, papermill.__name__) == ('nbformat', 'papermill')\n"
            "assert 'rfc3987_syntax' not in sys.modules, 'the grammar was built'\n"
            "if importlib.util.find_spec('rfc3987_syntax'):\n"
            "    import rfc3987_syntax  # still importable by whoever needs it\n")
    subprocess.run([sys.executable, "-c", code], check=True)
