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


def test_modules_export_no_name_twice_with_different_values():
    """econ's flat namespace is built by star imports: a name two modules export must be the
    same object, or the import order would decide which one a notebook gets."""
    import importlib

    import econ

    seen = {}
    from pathlib import Path

    names = sorted(p.stem for p in Path(econ.__file__).parent.glob("*.py")
                   if not p.stem.startswith("_")
                   and p.stem not in ("cli", "reports", "report_run", "report_pages"))
    assert "charts" in names and "units" in names
    for mod in names:
        module = importlib.import_module(f"econ.{mod}")
        for name in module.__all__:
            value = getattr(module, name)
            if name in seen:
                assert seen[name][1] is value, f"{name}: {seen[name][0]} and {mod} differ"
            seen[name] = (mod, value)
            assert getattr(econ, name) is value, name
