"""econ.report_run end to end on the fixture notebooks in tests/fixtures/notebooks (chart: two
Altair charts and result rows; broken: raises, or kills its kernel, or pauses, as its parameters
say; summary: reads the others results): a complete report, a dead kernel, Dask, make notebooks.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from econ import (
    reports,
    results,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"


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
    # the outcomes' errors in the message: a failure of the working notebook says why
    assert {o.name: o.ok for o in got.notebooks} == {"chart": True, "broken": False}, \
        {o.name: o.error for o in got.notebooks}
    assert not got.ok
    nb = nbformat.read(d / "chart.ipynb", as_version=4)
    assert "papermill" not in nb.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert all(c.get("outputs") for c in nb.cells if c.cell_type == "code"
               and "parameters" not in c.metadata.get("tags", []))
    assert not any("execution" in c.metadata or "papermill" in c.metadata for c in nb.cells)
    assert (d / "broken.ipynb").read_bytes() == original_broken, "a failing notebook is kept"
    assert (tmp_path / "failed" / "broken.ipynb").exists()
    assert sorted(p.name for p in d.iterdir()) == ["broken.ipynb", "chart.ipynb"]
