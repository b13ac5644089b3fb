"""``import econ`` loads no charting or notebook library; the chart names still work, on first
use. (tests/benchmarks/bench_import.py prints how long the import takes.)"""
import subprocess
import sys

import pytest

HEAVY = ("altair", "jsonschema", "vl_convert", "nbformat", "nbconvert", "IPython", "papermill")


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_import_econ_loads_no_charting_library():
    out = _run("import econ, sys; assert 'altair' not in sys.modules; "
               f"print([m for m in {HEAVY!r} if m in sys.modules])")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"import econ loaded {out.stdout.strip()}"


def test_chart_names_load_altair_on_first_use():
    out = _run("import sys, econ; f = econ.line_chart; assert 'altair' in sys.modules; "
               "import altair as alt; assert alt.theme.active == econ.THEME_NAME; "
               "from econ import bar_chart; assert econ.charts.bar_chart is bar_chart; "
               "assert 'save_static' in dir(econ)")
    assert out.returncode == 0, out.stderr


def test_lazy_names_are_the_charts_public_names():
    import econ
    from econ import charts

    assert set(econ._LAZY["charts"]) == set(charts.__all__)


def test_unknown_attribute_is_an_attribute_error():
    import econ

    with pytest.raises(AttributeError, match="no_such_name"):
        econ.no_such_name  # noqa: B018
