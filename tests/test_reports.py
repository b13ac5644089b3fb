"""Report runs (econ.reports) and the results table (econ.results).

Fast checks first (no kernel): results rows, verdict wording, scenario validation, CLI errors,
offline HTML of a chart. Then small end-to-end runs on the fixture notebooks in
``tests/fixtures/notebooks`` (``chart``: two Altair charts and result rows; ``broken``: raises,
or kills its kernel, or pauses, as its parameters say; ``summary``: reads the others' results).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import econ
from econ import reports, results

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# results table
# --------------------------------------------------------------------------------------------

def _rows():
    return [
        dict(metric="serving_cost_usd_per_day", subject="deepseek-day6", value=87100.0,
             published_value=87072.0, source_url="https://github.com/deepseek-ai/open-infra-index",
             rel_tol=0.01),
        dict(metric="cost_profit_margin_frac", subject="deepseek-day6", value=5.45,
             published_value=5.45),
        dict(metric="mtp_speedup", subject="deepseek-v3", value=1.8),
    ]


def test_results_frame_fills_units_and_verdicts():
    f = econ.results_frame("token-pricing", _rows())
    assert list(f.columns) == econ.RESULT_COLUMNS
    assert f["unit"].tolist() == ["USD/day", "fraction", "ratio"]
    assert f["verdict"].tolist() == ["reproduced within 0.032%", "reproduced exactly",
                                     "no published figure"]
    assert math.isnan(f["published_value"].iloc[2])
    assert (f["notebook"] == "token-pricing").all()


@pytest.mark.parametrize("row, words", [
    (dict(metric="cost", subject="x", value=1.0), "carries no unit suffix"),
    (dict(metric="CostUsd", subject="x", value=1.0), "snake_case"),
    (dict(metric="cost_usd", subject="x", value=float("nan")), "value must be finite"),
    (dict(metric="cost_usd", subject="x", value=float("inf")), "value must be finite"),
    (dict(metric="cost_usd", subject="x", value="12"), "value must be a number"),
    (dict(metric="cost_usd", subject="x", value=True), "value must be a number"),
    (dict(metric="cost_usd", subject="x", value=1.0, unit="EUR"), "unit must be 'USD'"),
    (dict(metric="cost_usd", subject="", value=1.0), "subject must be a non-empty"),
    (dict(metric="cost_usd", subject="x", value=1.0, source_url="www.x"), "source_url"),
    (dict(metric="cost_usd", subject="x", value=1.0, published_value=float("inf")),
     "published_value must be finite"),
    (dict(metric="cost_usd", subject="x"), "missing field 'value'"),
    (dict(metric="cost_usd", subject="x", value=1.0, colour="red"), "unknown field"),
])
def test_results_frame_rejects_bad_rows(row, words):
    with pytest.raises(ValueError, match="results row 0") as exc:
        econ.results_frame("nb", [row])
    assert words in str(exc.value)


def test_results_frame_rejects_duplicates_and_bad_notebook_name():
    with pytest.raises(ValueError, match="duplicate row"):
        econ.results_frame("nb", [dict(metric="a_usd", subject="x", value=1.0)] * 2)
    with pytest.raises(ValueError, match="notebook must be a simple name"):
        econ.results_frame("../nb", [])


def test_write_results_is_a_no_op_without_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = econ.results_frame("nb", _rows())
    assert econ.write_results(f, "") is None
    assert list(tmp_path.iterdir()) == []


def test_write_and_collect_round_trip(tmp_path):
    f = econ.results_frame("nb", _rows())
    g = econ.results_frame("other", [dict(metric="training_cost_usd", subject="deepseek-v3",
                                          value=5.576e6, published_value=5.576e6)])
    econ.write_results(f, tmp_path / "r" / "nb.csv")
    econ.write_results(g, str(tmp_path / "r" / "other.csv"))
    assert not [p for p in (tmp_path / "r").iterdir() if p.suffix != ".csv"]  # no temp files
    both = econ.collect_results(tmp_path / "r")
    assert len(both) == 4 and set(both["notebook"]) == {"nb", "other"}
    pd.testing.assert_frame_equal(both[both.notebook == "nb"].reset_index(drop=True), f,
                                  check_dtype=False)
    assert len(econ.collect_results(tmp_path / "r", exclude=["other"])) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    assert list(econ.collect_results(empty).columns) == econ.RESULT_COLUMNS


@pytest.mark.parametrize("computed, published, tol, words", [
    (1.003, 1.0, 0.05, "reproduced within 0.3%"),
    (1.45, 1.0, 0.05, "off by +45%"),
    (0.2, 1.0, 0.05, "off by -80%"),
    (12.0, 1.0, 0.05, "off by +1,100% (12x the published figure)"),
    (1.0, None, 0.05, "no published figure"),
    (1.0, float("nan"), 0.05, "no published figure"),
    (2.0, 2.0, 0.0, "reproduced exactly"),
    (1.0, 0.0, 0.05, "off by +1 (published figure is 0)"),
])
def test_verdict_wording(computed, published, tol, words):
    assert econ.verdict(computed, published, tol) == words


def test_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="computed must be finite"):
        econ.verdict(float("nan"), 1.0)
    with pytest.raises(ValueError, match="rel_tol must be >= 0"):
        econ.verdict(1.0, 1.0, -0.1)


def test_verdict_table_claims_and_formatting():
    f = econ.results_frame("token-pricing", _rows())
    t = econ.verdict_table(f, claims={"serving_cost_usd_per_day": "DeepSeek serves for "
                                                                  "$87,072 a day",
                                      ("mtp_speedup", "deepseek-v3"): "MTP nearly doubles speed"})
    assert list(t.columns) == ["claim", "computed", "published", "source", "verdict"]
    assert t["computed"].tolist() == ["$87,100/day", "1.8x"]
    assert t["published"].tolist() == ["$87,072/day", "–"]
    with pytest.raises(KeyError, match="no result row"):
        econ.verdict_table(f, claims={"nothing_usd": "?"})
    both = pd.concat([f, econ.results_frame("other", [dict(metric="x_usd", subject="s",
                                                           value=1.0)])])
    assert list(econ.verdict_table(both).columns)[0] == "notebook"


@pytest.mark.parametrize("value, unit, text", [
    (5.576e6, "USD", "$5.576M"), (2.19, "USD/Mtok", "$2.19/Mtok"), (0.545, "fraction", "54.5%"),
    (27.4, "ratio", "27.4x"), (2788000, "GPU-hours", "2.788M GPU-hours"), (3.3e24, "FLOP",
                                                                             "3.300e+24 FLOP"),
    (12, "count", "12"), (-1500.0, "USD", "-$1,500"), (float("nan"), "USD", "–"),
])
def test_format_quantity(value, unit, text):
    assert econ.format_quantity(value, unit) == text


# --------------------------------------------------------------------------------------------
# scenario validation (nothing runs)
# --------------------------------------------------------------------------------------------

@pytest.fixture()
def scen_dir(tmp_path):
    d = tmp_path / "scenarios"
    d.mkdir()
    (d / "base.yaml").write_text("scale: 1.0  # the default\n")
    return d


def _check(scen_dir, *names, notebooks=("chart", "broken")):
    paths = reports.discover_notebooks(FIXTURES, notebooks)
    _, union = reports.suite_schema(paths)
    return reports.load_scenarios(names, union, scen_dir, reports.RESERVED_PARAMETERS)


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
    with pytest.raises(reports.ReportError, match=r"unknown notebook\(s\) \['nope'\]"):
        reports.discover_notebooks(FIXTURES, ["nope"])


def test_shipped_scenarios_are_valid_for_the_shipped_notebooks():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    files = sorted((ROOT / "notebooks" / "scenarios").glob("*.yaml"))
    assert {"base", "cheap-gpus", "margin-collapse", "heavy-reasoning"} <= {f.stem for f in files}
    for f in files:
        assert f.read_text().lstrip().startswith("#"), f"{f.name}: start with a comment"
    if not notebooks:
        pytest.skip("no notebooks yet")
    _, union = reports.suite_schema(notebooks)
    loaded = reports.load_scenarios(["all"], union, ROOT / "notebooks" / "scenarios")
    assert [s.name for s in loaded if s.name != "base" and not s.values] == []


def test_cli_rejects_bad_input_before_running(tmp_path, scen_dir, capsys):
    (scen_dir / "bad.yaml").write_text("scale: -1\nnope: 2\n")
    common = ["--notebooks-dir", str(FIXTURES), "--scenarios-dir", str(scen_dir),
              "--out", str(tmp_path / "out")]
    assert reports.main(["bad", *common]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "nope" in err
    assert not (tmp_path / "out").exists()
    assert reports.main(["../etc", *common]) == 2
    assert reports.main(["base", "--jobs", "0", *common]) == 2
    assert reports.main(["base", "--images", "gif", *common]) == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert reports.main(["base", "--notebooks-dir", str(FIXTURES), "--scenarios-dir",
                         str(scen_dir), "--out", str(blocker / "out")]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err
    assert reports.main(["base", "--check", *common]) == 0
    assert reports.main(["--list", *common]) == 0
    out = capsys.readouterr().out
    assert "scale: a float" in out and "set by the report run" in out


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exc:
        reports.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--out", "--jobs", "--dask-address", "--notebooks", "--in-place", "all"):
        assert flag in out


# --------------------------------------------------------------------------------------------
# offline HTML (no kernel)
# --------------------------------------------------------------------------------------------

def _chart_notebook(n_charts=2):
    import altair as alt

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})
    for i in range(n_charts):
        chart = alt.Chart(frame).mark_line().encode(x="x", y="y").properties(title=f"c{i}")
        cell = nbformat.v4.new_code_cell("chart")
        cell.outputs = [nbformat.v4.new_output("display_data", data=chart._repr_mimebundle_())]
        nb.cells.append(cell)
    return nb


def test_export_html_inlines_the_bundle_once_and_no_cdn():
    nb = _chart_notebook(3)
    assert [s[2]["title"] for s in reports.chart_specs(nb)] == ["c0", "c1", "c2"]
    page, n = reports.export_html(nb, title="t")
    assert n == 3
    assert page.count("window.vegaEmbed=") == 1
    assert page.count('class="econ-chart"') == 3
    assert "cdn.jsdelivr" not in page and "require.min.js" not in page
    assert "mathjax" not in page.lower().replace("mathjax_url", "")
    # the notebook itself is left as it was (Lab keeps its own renderer)
    assert "cdn.jsdelivr" in nb.cells[0].outputs[0]["data"]["text/html"]


def test_export_html_without_charts_has_no_bundle():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# hello"))
    page, n = reports.export_html(nb)
    assert n == 0 and "vegaEmbed" not in page and "hello" in page


# --------------------------------------------------------------------------------------------
# pages for readers (no kernel)
# --------------------------------------------------------------------------------------------

from econ import report_pages  # noqa: E402


@pytest.mark.parametrize("value, count, text", [
    (7e10, False, "70,000,000,000"), (0.682197, False, "0.682"), (5.0, False, "5"),
    (9142.358, False, "9,140"), (75168000.0, False, "75,200,000"), (324000.0, False, "324,000"),
    (13.743, False, "13.7"), (2784.0, True, "2,784"), (3.3e24, False, "3.30×10²⁴"),
    (-0.5, False, "-0.5"), (float("nan"), False, "–"), (1.2e-5, False, "1.20×10⁻⁵"),
])
def test_format_number(value, count, text):
    assert report_pages.format_number(value, count) == text


def test_format_tables_units_digits_and_links():
    cut = "https://example.org/a/very/long/path/that/pandas/cut/short/at/fifty/chars"
    frame = pd.DataFrame({"capex_usd": [7e10, 0.682197], "gpus_count": [5.0, 8.0],
                          "source_url": [cut, "https://example.org/b ; https://example.com/c"]})
    with pd.option_context("display.max_colwidth", 50):
        raw = frame._repr_html_()
    assert "7.000000e+10" in raw and cut not in raw  # what pandas prints
    page = report_pages.format_tables(raw, urls=[cut])
    assert "Capex [USD]" in page and "Gpus [count]" in page
    assert ">70,000,000,000<" in page and ">0.682<" in page and ">5<" in page
    assert "e+10<" not in page
    assert f'href="{cut}"' in page, "a URL pandas cut short is mended from the known URLs"
    assert 'href="https://example.com/c"' in page
    assert report_pages.format_tables("<p>no table</p>") == "<p>no table</p>"


def test_lead_sentences():
    md = ("**Chips.** Holding it takes **305 LPUs**, against 1 GPU. Serving takes \\$0.70. "
          "A third sentence.")
    assert report_pages.lead_sentences(md) == ("**Chips.** Holding it takes **305 LPUs**, "
                                               "against 1 GPU. Serving takes \\$0.70.")
    assert report_pages.lead_sentences("One. Two. Three.", n=1) == "One."


def _reader_notebook():
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    answer = code("econ.answer(...)")
    answer.metadata["tags"] = ["answer"]
    answer.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/markdown": "It costs **\\$2.00**. More.", "text/plain": "x"},
        metadata={"text/markdown": {"econ_answer": [dict(field="c", kind="number", spec=".2f",
                                                          start=10, text="2.00", value=2.0)]}})]
    nb.cells = [md("# Title\n\nThe question, at length."), code("import econ"),
                md("## 1. Method"), code("x = 1"), md("## Verdict"), code("table"),
                md("## Answer"), answer, md("**Caveats.** Some.")]
    return nb


def test_export_html_puts_the_answer_first_and_folds_code():
    nb = _reader_notebook()
    page, _ = report_pages.export_html(nb)
    at = {k: page.index(k) for k in ('id="econ-answer"', 'id="econ-verdict"',
                                      "The question, at length", 'id="1.-Method"')}
    assert list(at) == sorted(at, key=at.get), at
    assert page.index(">Title<") < at['id="econ-answer"']
    assert page.count('<details class="econ-code">') == 4
    pres = [m.start() for m in re.finditer("<pre", page)]
    assert len(pres) == 4 and all(page.rfind("<details", 0, i) > page.rfind("</details>", 0, i)
                                  for i in pres), "every code block is inside a <details>"
    toc = page[page.index('<nav class="econ-toc"'):]
    toc = toc[:toc.index("</nav>")]
    assert [t for t in ("Answer", "Verdict", "1. Method") if t in toc] == ["Answer", "Verdict",
                                                                            "1. Method"]
    assert nb.cells[0].source.startswith("# Title\n"), "the notebook itself is not changed"
    assert report_pages.notebook_title(nb) == "Title"
    assert report_pages.notebook_answers(nb)[0]["record"][0]["value"] == 2.0


# --------------------------------------------------------------------------------------------
# end to end on the fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """One run of two scenarios: chart + summary + broken under 'double' (scale 2, all
    succeed) and under 'die' (the broken fixture kills its own kernel)."""
    out = tmp_path_factory.mktemp("e2e")
    scen = tmp_path_factory.mktemp("e2e-scenarios")
    shutil.copy(FIXTURES / "scenarios" / "double.yaml", scen)
    (scen / "die.yaml").write_text("die: true  # the kernel kills itself\n")
    lines = []
    got = reports.run_reports(["double", "die"], out=out, notebooks_dir=FIXTURES,
                              scenarios_dir=scen, jobs=2, log=lines.append)
    return out, got, lines


def test_e2e_writes_a_complete_report(e2e):
    out, got, lines = e2e
    assert [(s.name, s.ok) for s in got] == [("die", False), ("double", True)] or \
        [(s.name, s.ok) for s in got] == [("double", True), ("die", False)]
    rep = out / "double"
    names = {p.name for p in rep.iterdir()}
    assert {"chart.ipynb", "chart.html", "summary.ipynb", "summary.html", "index.html",
            "results.csv", "manifest.json", "scenario.yaml", "chart.chart-1.svg",
            "chart.chart-1.png", "chart.chart-2.svg", "chart.chart-2.png"} <= names
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial folder left
    res = results.read_results(rep / "results.csv")
    total = res.set_index("metric").loc["total_cost_usd"]
    assert total["value"] == 20.0 and total["verdict"].startswith("off by +100%")
    executed = nbformat.read(rep / "chart.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "scale = 2.0" in injected[0].source and "results_path" in injected[0].source
    summary = nbformat.read(rep / "summary.ipynb", as_version=4)
    assert any("results_dir" in c.source for c in summary.cells
               if "injected-parameters" in c.metadata.get("tags", []))
    outs = [o for c in summary.cells for o in c.get("outputs", [])]
    assert any("total_cost_usd" in json.dumps(o) or "The line" in json.dumps(o) or
               "fixture" in json.dumps(o) for o in outs), "summary saw the chart's results"
    index = (rep / "index.html").read_text()
    for s in ('href="chart.html"', 'href="summary.html"', "off by +100%", "Complete",
              "multiplies every y value", 'href="../compare.html"'):
        assert s in index
    # the index states the chart notebook's conclusion, from its answer cell
    assert "The line costs <strong>$20.00</strong> in all, above the published $10.00." in index
    compare = (out / "compare.html").read_text()
    assert compare.index("<th>double</th>") < compare.index("<th>die</th>")
    assert 'href="die.failed/index.html"' in compare
    manifest = json.loads((rep / "manifest.json").read_text())
    assert manifest["complete"] and manifest["parameters"]["scale"] == 2.0
    # progress lines and timing
    assert lines[0].startswith("running 3 notebook(s) x 2 scenario(s)")
    assert any(ln.startswith("-> double/chart started (") for ln in lines)
    assert any(re.match(r"\[1/6 #{2}\.{10}\] ", ln) for ln in lines), lines
    done = [ln.split("] ", 1)[1].split(":")[0] for ln in lines if ln.startswith("[")]
    for sc in ("double", "die"):
        mine = [d for d in done if d.startswith(sc + "/")]
        assert mine[-1] == f"{sc}/summary", "the summary runs after the scenario's others"
    assert any(ln.startswith("time per notebook (double)") for ln in lines)
    assert lines[-1].startswith("total ")


@pytest.mark.reliability(category="faults injected in a report run, survived, nothing lost")
def test_dead_kernel_fails_its_scenario_only(e2e):
    out, got, lines = e2e
    die = {s.name: s for s in got}["die"]
    bad = {o.name: o for o in die.notebooks}
    assert not bad["broken"].ok and "DeadKernel" in bad["broken"].error
    assert bad["chart"].ok and bad["summary"].ok, "the other notebooks still ran"
    nb = nbformat.read(out / "die.failed" / "broken.ipynb", as_version=4)
    assert "This run failed" in nb.cells[0].source
    assert any("papermill-error-cell" in c.source for c in nb.cells[1:])
    assert not (out / "die").exists()
    assert (out / "double" / "index.html").exists()
    assert any("die: notebook 'broken' failed" in ln for ln in lines)


@pytest.mark.reliability(category="faults injected in a report run, survived, nothing lost")
def test_failure_keeps_previous_report_then_next_run_replaces_it(tmp_path, capsys):
    scen = tmp_path / "scenarios"
    scen.mkdir()
    (scen / "base.yaml").write_text("scale: 1.0  # the default\n")
    out = tmp_path / "out"
    args = ["base", "--notebooks-dir", str(FIXTURES), "--scenarios-dir", str(scen),
            "--out", str(out), "--images", "none"]
    # 1. a good report
    assert reports.main([*args, "--notebooks", "chart"]) == 0
    good = {p.name: p.read_bytes() for p in (out / "base").iterdir()}
    # 2. a failing run: non-zero, names notebook and error, previous report untouched
    assert reports.main([*args, "--notebooks", "broken"]) == 1
    err = capsys.readouterr().err
    assert "'broken'" in err and "RuntimeError: fixture failure on purpose" in err
    assert {p.name: p.read_bytes() for p in (out / "base").iterdir()} == good
    failed = out / "base.failed"
    partial = nbformat.read(failed / "broken.ipynb", as_version=4)
    assert any("papermill-error-cell" in c.source for c in partial.cells
               if c.cell_type == "markdown"), "failing cell marked"
    assert any(o.get("ename") == "RuntimeError" for c in partial.cells
               for o in c.get("outputs", []))
    assert "This run failed" in (failed / "index.html").read_text()
    assert not json.loads((failed / "manifest.json").read_text())["complete"]
    # 3. the next good run replaces the report and clears the failed one
    (scen / "base.yaml").write_text("fail: false  # let it finish\n")
    assert reports.main([*args, "--notebooks", "broken"]) == 0
    assert not failed.exists()
    assert {p.name for p in (out / "base").iterdir()} >= {"broken.ipynb", "broken.html"}
    assert "chart.ipynb" not in {p.name for p in (out / "base").iterdir()}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.reliability(category="faults injected in a report run, survived, nothing lost")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_partial_report_and_no_kernel(tmp_path, sig):
    scen = tmp_path / "scenarios"
    scen.mkdir()
    started = tmp_path / "started"
    (scen / "base.yaml").write_text(
        f"fail: false\npause_s: 120\nstarted_path: {json.dumps(str(started))}\n")
    out = tmp_path / "out"
    (out / "base").mkdir(parents=True)
    (out / "base" / "index.html").write_text("previous good report")
    proc = subprocess.Popen(
        [sys.executable, "-m", "econ.reports", "base", "--notebooks-dir", str(FIXTURES),
         "--scenarios-dir", str(scen), "--out", str(out), "--notebooks", "broken"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert started.exists(), proc.communicate()
    kernel = int(started.read_text())
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stdout + stderr
    assert "interrupted" in stderr and "previous reports kept" in stderr
    assert (out / "base" / "index.html").read_text() == "previous good report"
    assert sorted(p.name for p in out.iterdir()) == ["base"], "no partial or failed folder"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"kernel {kernel} still running after the interrupt")


def test_dask_local_cluster_runs_a_scenario(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        lines = []
        got = reports.run_reports(["double"], out=tmp_path, notebooks_dir=FIXTURES,
                                  notebooks=["chart", "summary"], images=("svg",),
                                  dask_address=cluster.scheduler_address, log=lines.append)
    assert got[0].ok, [o.error for o in got[0].notebooks]
    assert "Dask workers" in lines[0]
    res = results.read_results(tmp_path / "double" / "results.csv")
    assert res.set_index("metric").loc["total_cost_usd", "value"] == 20.0
    assert (tmp_path / "double" / "chart.chart-2.svg").exists()


@pytest.mark.reliability(category="faults injected in a report run, survived, nothing lost")
def test_dask_address_that_does_not_answer(tmp_path):
    with pytest.raises(reports.ReportError, match="cannot connect to the Dask scheduler"):
        reports.run_reports(["double"], out=tmp_path, notebooks_dir=FIXTURES,
                            notebooks=["chart"], dask_address="tcp://127.0.0.1:9",
                            log=lambda s: None)
    assert not [p for p in tmp_path.iterdir()]


def test_in_place_reexecutes_and_strips_run_metadata(tmp_path):
    d = tmp_path / "nbs"
    d.mkdir()
    shutil.copy(FIXTURES / "chart.ipynb", d)
    shutil.copy(FIXTURES / "broken.ipynb", d)
    original_broken = (d / "broken.ipynb").read_bytes()
    got = reports.run_in_place(notebooks_dir=d, failed_dir=tmp_path / "failed",
                               log=lambda s: None)
    assert {o.name: o.ok for o in got} == {"chart": True, "broken": False}
    nb = nbformat.read(d / "chart.ipynb", as_version=4)
    assert "papermill" not in nb.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert all(c.get("outputs") for c in nb.cells if c.cell_type == "code"
               and "parameters" not in c.metadata.get("tags", []))
    assert not any("execution" in c.metadata or "papermill" in c.metadata for c in nb.cells)
    assert (d / "broken.ipynb").read_bytes() == original_broken, "a failing notebook is kept"
    assert (tmp_path / "failed" / "broken.ipynb").exists()
    assert sorted(p.name for p in d.iterdir()) == ["broken.ipynb", "chart.ipynb"]


@pytest.mark.reliability(category="faults injected in a report run, survived, nothing lost")
def test_output_folder_that_cannot_be_written(tmp_path, capsys):
    scen = tmp_path / "scenarios"
    scen.mkdir()
    (scen / "base.yaml").write_text("scale: 1.0  # the default\n")
    blocker = tmp_path / "out"
    blocker.write_text("a file where the report folder should go")
    code = reports.main(["base", "--notebooks-dir", str(FIXTURES), "--scenarios-dir", str(scen),
                         "--out", str(blocker), "--notebooks", "chart", "--images", "none"])
    assert code == 2
    assert f"cannot write to the output folder {str(blocker)!r}" in capsys.readouterr().err
    assert blocker.read_text() == "a file where the report folder should go"
    # the next run, to a writable folder, succeeds
    assert reports.main(["base", "--notebooks-dir", str(FIXTURES), "--scenarios-dir", str(scen),
                         "--out", str(tmp_path / "ok"), "--notebooks", "chart",
                         "--images", "none"]) == 0
    assert (tmp_path / "ok" / "base" / "index.html").exists()
