"""The notebooks keep their shape: typed parameters, no logic, shared names agree, verdicts."""
import ast
import re
from pathlib import Path

import nbformat
import papermill
import pytest

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _python(source):
    """Cell source without IPython magics and shell escapes."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=IDS)
def nb(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_the_validation_cell_checks_the_parameters_where_the_notebook_runs(nb):
    # econ.notebook_parameters rejects names papermill injects that the notebook does not declare
    path, book = nb
    second = _code(book)[1].source
    assert f'econ.notebook_parameters(globals(), "{path.name}")' in second, (
        f"{path.name}: the cell after the parameters calls econ.notebook_parameters(globals(), ...)"
    )


def test_first_code_cell_is_the_tagged_parameters_cell(nb):
    path, book = nb
    first = _code(book)[0]
    assert "parameters" in first.metadata.get("tags", []), (
        f"{path.name}: first code cell not tagged"
    )
    tree = ast.parse(first.source)
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), (
            f"{path.name}: the parameters cell holds only typed assignments "
            f"(name: type = value  # meaning), found {ast.dump(node)[:60]}")
        assert isinstance(node.value, ast.Constant) or (
            isinstance(node.value, (ast.List, ast.Tuple, ast.UnaryOp))), (
            f"{path.name}: parameter {node.target.id} computes something; parameters are literals")


def test_every_parameter_is_typed_and_explained(nb):
    path, _ = nb
    params = papermill.inspect_notebook(str(path))
    assert "results_path" in params, f"{path.name}: needs the results_path parameter"
    for name, p in params.items():
        assert p["inferred_type_name"] not in (None, "None"), f"{path.name}: {name} has no type"
        assert p["help"].strip(), f"{path.name}: {name} has no comment saying what it means"


def test_no_logic_in_notebooks(nb):
    path, book = nb
    for cell in _code(book):
        tree = ast.parse(_python(cell.source))
        for node in ast.walk(tree):
            assert not isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ), (f"{path.name}: `def`, `class` and `lambda` belong in econ/, found in:\n"
                f"{cell.source[:200]}")


def test_notebooks_read_data_only_through_econ(nb):
    path, book = nb
    src = "\n".join(c.source for c in _code(book))
    assert not re.search(r"read_csv|open\(|urlopen|requests\.|\bhttpx\b", src), (
        f"{path.name}: read data through econ.data, never from files or the network")


def test_stored_with_outputs(nb):
    path, book = nb
    code = _code(book)
    assert all(c.execution_count for c in code), (
        f"{path.name}: stored without outputs; run `make notebooks` (nbval skips unexecuted cells)")


def test_opens_with_a_question_and_ends_with_an_answer(nb):
    path, book = nb
    assert book.cells[0].cell_type == "markdown" and book.cells[0].source.startswith("#")
    src = "\n".join(c.source for c in _code(book))
    assert "verdict_table(" in src and "write_results(" in src, (
        f"{path.name}: ends with a verdict table and writes its result rows")
    answers = [c for c in _code(book) if "answer" in c.metadata.get("tags", [])]
    assert answers, f"{path.name}: the answer is a code cell tagged 'answer' (econ.answer)"
    for cell in answers:
        assert "econ.answer(" in cell.source, (
            f"{path.name}: an answer cell renders with econ.answer"
        )


def test_answers_are_computed_not_typed(nb):
    """No markdown cell headed Answer/Verdict/Conclusion holds a number; each stored answer output
    is Markdown whose numbers and words match the values it records (econ.check_answer)."""
    import econ
    path, book = nb
    for cell in book.cells:
        if cell.cell_type == "markdown" and re.match(
            r"#+\s*(Answer|Verdict|Conclusion)", cell.source
        ):
            assert not re.search(r"\d", cell.source), (
                f"{path.name}: a number typed into the answer markdown:\n{cell.source[:300]}")
    rendered = 0
    for cell in _code(book):
        if "answer" not in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown")
            if md is None:
                continue
            record = out.get("metadata", {}).get("text/markdown", {}).get(econ.ANSWER_METADATA_KEY)
            assert record, f"{path.name}: an answer output without its record of values"
            assert econ.check_answer(md, record) == [], (path.name, econ.check_answer(md, record))
            rendered += 1
    assert rendered, f"{path.name}: no stored answer output; run `make notebooks`"


def test_shared_parameters_agree_across_notebooks():
    seen = {}
    for path in NOTEBOOKS:
        for name, p in papermill.inspect_notebook(str(path)).items():
            key = (p["inferred_type_name"], p["default"])
            seen.setdefault(name, {})[path.name] = key
    clashes = {n: v for n, v in seen.items() if len(set(v.values())) > 1}
    assert not clashes, f"a shared parameter must have one type and default everywhere: {clashes}"


def test_defaults_named_after_assumptions_match_the_data():
    import econ
    assumptions = econ.data.load("assumptions")["value"]
    aliases = {"usd_per_gpu_hour": "h800_rental_usd_per_hour"}
    for path in NOTEBOOKS:
        for name, p in papermill.inspect_notebook(str(path)).items():
            row = aliases.get(name, name)
            if row in assumptions.index:
                assert float(p["default"]) == pytest.approx(assumptions[row]), (
                    f"{path.name}: {name} defaults to {p['default']}, data/assumptions.csv says "
                    f"{assumptions[row]}; change the data, not the notebook")


def test_dollar_amounts_in_markdown_are_escaped(nb):
    # Jupyter reads a pair of bare $ as LaTeX: "$87,072 ... $562,027" renders garbled.
    path, book = nb
    for cell in book.cells:
        if cell.cell_type == "markdown":
            bare = re.findall(r"(?<!\\)\$\S{0,12}", cell.source)
            assert not bare, f"{path.name}: write dollars as \\$ in markdown, found {bare[:3]}"


#: Parameter defaults that restate a sourced figure: (how to get the figure, relative tolerance).
#: The defaults are rounded for readability; the data rows hold the sourced values.
SOURCED_DEFAULTS = {
    "context_tok": (
        lambda d: d["published"].loc["deepseek-day6-average-kv-length-tok", "value"],
        0.0,
    ),
    "flop_efficiency_frac": (
        lambda d: (
            d["published"].loc["deepgemm-fp8-flop-per-s", "value"]
            / d["hardware"].loc["h800-sxm", "peak_fp8_flop_per_s"]
        ),
        0.01,
    ),
    "bandwidth_efficiency_frac": (
        lambda d: (
            d["published"].loc["flashmla-decode-memory-bound-bytes-per-s", "value"]
            / d["hardware"].loc["h800-sxm", "memory_bytes_per_s"]
        ),
        0.01,
    ),
    "ib_bytes_per_s": (
        lambda d: d["deployments"].loc["deepseek-v3-h800-day6-decode", "ib_bytes_per_s"],
        0.0,
    ),
    "dispatch_bytes_per_elem": (
        lambda d: d["deployments"].loc["deepseek-v3-h800-day6-decode", "dispatch_elem_bytes"],
        0.0,
    ),
    "combine_bytes_per_elem": (
        lambda d: d["deployments"].loc["deepseek-v3-h800-day6-decode", "combine_elem_bytes"],
        0.0,
    ),
}


def test_defaults_that_restate_sourced_figures_match_the_data():
    import econ
    tables = {t: econ.data.load(t) for t in ("published", "hardware", "deployments")}
    checked = 0
    for path in NOTEBOOKS:
        for name, p in papermill.inspect_notebook(str(path)).items():
            if name in SOURCED_DEFAULTS:
                figure, rel = SOURCED_DEFAULTS[name]
                assert float(p["default"]) == pytest.approx(
                    float(figure(tables)), rel=rel, abs=0
                ), (
                    f"{path.name}: {name} defaults to {p['default']} but the sourced figure in "
                    f"data/ is {figure(tables)}; the data wins"
                )
                checked += 1
    assert checked >= len(SOURCED_DEFAULTS)
