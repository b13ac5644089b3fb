"""The notebook validation (tests/nbval_tolerance.py) passes last-bit changes and fails real ones.

The end-to-end tests run nbval, with the plugin, on copies of a stored notebook: one with wrong
numbers planted in its stored outputs (a printed line, a table, a chart's data) must fail at
exactly those cells; one whose chart data moved by the last bits and whose data sets are renamed
(what another CPU produces) must pass.
"""
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import nbval_tolerance as T
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "nvidia_moat.ipynb"
TOL = T.Tolerance(rel=1e-9)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _checked(cell):
    return "NBVAL_IGNORE_OUTPUT" not in cell.source


def _first_chart(nb):
    for i, c in enumerate(_code_cells(nb)):
        for o in c.outputs:
            if _checked(c) and T.split_altair_html(o.get("data", {}).get("text/html", "")):
                return i, o
    raise AssertionError("no chart in the notebook")


def _nudge_floats(node):
    """Every non-integer float one ulp up (another CPU's last bits)."""
    if isinstance(node, dict):
        return {k: _nudge_floats(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_nudge_floats(v) for v in node]
    if isinstance(node, float) and node != int(node):
        return math.nextafter(node, math.inf)
    return node


def _other_cpu(html):
    """The chart as another CPU writes it: last bits moved, data sets renamed, a new div id."""
    template, spec = T.split_altair_html(html)
    text = json.dumps(_nudge_floats(spec))
    for i, name in enumerate(T._dataset_names(spec)):
        text = text.replace(name, f"data-{i:032x}")
    m = T._SPEC_CALL.search(html)
    _, end = json.JSONDecoder().raw_decode(html, m.end())
    return T._ALTAIR_ID.sub("altair-viz-" + "e" * 32, html[:m.end()] + text + html[end:])


def _scale_first_number(text, factor, digits=3):
    """``text`` with its first number of at least ``digits`` significant digits scaled."""
    for m in T._NUMBER.finditer(text):
        tok = m.group("num")
        if len(re.sub(r"\D", "", tok.split("e")[0].lstrip("-+0.,"))) >= digits:
            decimals = len(tok.split(".")[1]) if "." in tok else 0
            new = f"{float(tok.replace(',', '')) * factor:.{decimals}f}"
            return text[:m.start()] + new + text[m.end():], tok, new
    raise AssertionError(f"no number with {digits} digits in {text[:200]!r}")


# --------------------------------------------------------------------------------------------
# The comparison, on stored outputs
# --------------------------------------------------------------------------------------------

def test_a_chart_from_another_cpu_reads_the_same():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    _, out = _first_chart(nb)
    html = out.data["text/html"]
    other = _other_cpu(html)
    assert other != html and re.findall(r"data-[0-9a-f]{32}", other) != re.findall(
        r"data-[0-9a-f]{32}", html)
    assert T.compare_html(html, other, TOL) is None


def test_a_wrong_number_in_chart_data_is_caught():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    _, out = _first_chart(nb)
    html = out.data["text/html"]
    template, spec = T.split_altair_html(html)
    name, rows = next(iter(spec["datasets"].items()))
    key = next(k for k, v in rows[0].items() if isinstance(v, float))
    planted = html.replace(json.dumps(rows[0])[:-1], json.dumps(
        {**rows[0], key: rows[0][key] * (1 + 1e-6)})[:-1], 1)
    assert planted != html
    msg = T.compare_html(html, planted, TOL)
    assert msg and f".{key}" in msg and "relative difference 1e-06" in msg, msg


@pytest.mark.parametrize("stored, now, agree", [
    ("cost $87,072/day, margin 545%", "cost $87,072/day, margin 545%", True),
    ("x = 0.15619070995555207", "x = 0.15619070995555213", True),   # last bits
    ("x = 0.15619070995555207", "x = 0.1561909", False),            # 1e-6 off
    ("0.12 $/Mtok", "0.13 $/Mtok", True),    # both can be 0.125 rounded: a rounding flip
    ("0.12 $/Mtok", "0.14 $/Mtok", False),
    ("$87,072 per day", "$87,172 per day", False),
    ("H800 at 2.3x", "H100 at 2.3x", False),  # words are compared exactly
    ("a   1.5\nb   2.5", "a 1.5\nb 2.5", True),  # column alignment
    ("1.0 2.0", "1.0 2.0 3.0", False),
])
def test_text_numbers_to_a_tolerance(stored, now, agree):
    assert (T.compare_text(stored, now, TOL) is None) is agree


def test_charts_must_draw_real_data():
    spec = {"datasets": {"data-a": [{"x": 1.0, "y": 2.0}, {"x": 2.0, "y": None}]},
            "data": {"name": "data-a"}, "mark": "line",
            "encoding": {"x": {"field": "x"}, "y": {"field": "y"}}}
    assert any("'y' is null/NaN in 1 of 2" in p for p in T.chart_problems(spec))
    spec["datasets"]["data-a"][1]["y"] = 3.0
    assert T.chart_problems(spec) == []
    spec["datasets"]["data-a"] = []
    assert any("empty" in p for p in T.chart_problems(spec))
    spec["datasets"]["data-a"] = [{"u": 1.0}]
    assert any("nothing drawn from data" in p for p in T.chart_problems(spec))


def test_every_stored_chart_draws_real_data():
    seen = 0
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in _code_cells(nbformat.read(path, as_version=4)):
            for spec in T.charts_in(cell.outputs):
                seen += 1
                assert T.chart_problems(spec) == [], f"{path.name} cell {cell.id}"
    assert seen >= 10


def test_tolerances_table_and_cell_metadata(tmp_path):
    table = T.load_tolerances()
    assert T.tolerance_for("nvidia_moat", {"id": "x", "metadata": {}}, table).rel == table[
        "default"]["rel"]
    table = {"default": {"rel": 1e-9}, "notebooks": {"nb": {"rel": 1e-6, "cells": {"c1": {
        "rel": 1e-3}}}}}
    assert T.tolerance_for("nb", {"id": "c0", "metadata": {}}, table).rel == 1e-6
    assert T.tolerance_for("nb", {"id": "c1", "metadata": {}}, table).rel == 1e-3
    assert T.tolerance_for("nb", {"id": "c1", "metadata": {"tolerance": {"rel": 1e-2}}},
                           table).rel == 1e-2
    with pytest.raises(ValueError, match="rel .* must be a number in"):
        T.tolerance_for("nb", {"id": "c1", "metadata": {"tolerance": {"rel": 5}}}, table)


# --------------------------------------------------------------------------------------------
# End to end: nbval with the plugin on planted copies of a stored notebook
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nbval-planted")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = _code_cells(nb)
    planted = {}

    wrong = nbformat.read(NOTEBOOK, as_version=4)
    wcells = _code_cells(wrong)
    # a printed line
    i = next(i for i, c in enumerate(cells) if _checked(c) and any(
        o.output_type == "stream" for o in c.outputs) and i > 0)
    o = next(o for o in wcells[i].outputs if o.output_type == "stream")
    o.text, old, new = _scale_first_number(o.text, 1.01)
    planted[i] = f"stream {old} -> {new}"
    # a table
    i = next(i for i, c in enumerate(cells) if _checked(c) and i not in planted and any(
        "<table" in o.get("data", {}).get("text/html", "") for o in c.outputs))
    o = next(o for o in wcells[i].outputs if "<table" in o.get("data", {}).get("text/html", ""))
    body = o.data["text/html"].index("<tbody>")
    text, old, new = _scale_first_number(o.data["text/html"][body:], 1.01)
    o.data["text/html"] = o.data["text/html"][:body] + text
    planted[i] = f"table {old} -> {new}"
    # a chart's data
    i, _ = _first_chart(nb)
    assert i not in planted
    o = next(o for o in wcells[i].outputs if "text/html" in o.get("data", {}))
    _, spec = T.split_altair_html(o.data["text/html"])
    rows = next(iter(spec["datasets"].values()))
    key = next(k for k, v in rows[0].items() if isinstance(v, float))
    o.data["text/html"] = o.data["text/html"].replace(
        json.dumps(rows[0])[:-1], json.dumps({**rows[0], key: rows[0][key] * 1.001})[:-1], 1)
    planted[i] = f"chart {key}"
    # the notebook reads its own parameters by file name: each copy keeps the name
    (tmp / "wrong").mkdir()
    nbformat.write(wrong, tmp / "wrong" / NOTEBOOK.name)

    other = nbformat.read(NOTEBOOK, as_version=4)
    moved = 0
    for c in _code_cells(other):
        for o in c.outputs:
            html = o.get("data", {}).get("text/html", "")
            if T.split_altair_html(html):
                o.data["text/html"] = _other_cpu(html)
                moved += 1
    assert moved >= 2
    (tmp / "other").mkdir()
    nbformat.write(other, tmp / "other" / NOTEBOOK.name)

    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests"))
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "nbval_tolerance", "-p", "no:cacheprovider",
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(ROOT / "tests" / "nbval_sanitize.cfg"), "-q", "-rfE", "--rootdir", str(tmp),
         f"wrong/{NOTEBOOK.name}", f"other/{NOTEBOOK.name}"],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    return r, planted, len(cells)


def test_planted_wrong_numbers_fail_exactly_their_cells(planted_run):
    r, planted, n = planted_run
    failed = sorted(int(m) for m in re.findall(
        rf"FAILED wrong/{NOTEBOOK.name}::Cell (\d+)", r.stdout))
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-2000:]
    assert failed == sorted(planted), (planted, r.stdout[-4000:])
    assert "Cell outputs differ" in r.stdout


def test_other_cpus_last_bits_pass(planted_run):
    r, _, n = planted_run
    assert f"FAILED other/{NOTEBOOK.name}" not in r.stdout, r.stdout[-4000:]
    assert re.search(rf"\b{2 * n - 3} passed", r.stdout), r.stdout[-2000:]
