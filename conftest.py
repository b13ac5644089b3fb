# Loaded by every pytest run in this repository (`make test`, `pytest --nbval notebooks/x.ipynb`):
# nbval compares notebook outputs to a tolerance, not byte for byte (tests/nbval_tolerance.py).
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "econ_nbval_tolerance", Path(__file__).resolve().parent / "tests" / "nbval_tolerance.py")
_plugin = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _plugin
_spec.loader.exec_module(_plugin)


def pytest_configure(config):
    config.pluginmanager.register(_plugin, "econ-nbval-tolerance")
