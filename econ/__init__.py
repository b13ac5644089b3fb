"""econ: the cost model behind the AI-infrastructure economics notebooks.

A flat public namespace: every name a notebook needs is importable from ``econ``.
Modules, one per question: ``data`` (sourced tables), ``amortization`` ($/device-hour),
``training`` (FLOPs, GPU-hours, cost), ``kvcache`` (KV bytes per token),
``inference`` (throughput from a roofline), ``pricing`` ($/Mtok, margins),
``roofline`` (ceilings and calibration), ``kernels`` (timing harness),
``params`` (notebook parameters and scenario files), ``sensitivity`` (grids, Monte
Carlo, tornado), ``charts`` (Altair theme; imported
on first use),
``results`` (verdict tables and result rows), ``serving`` (closed forms of
expert-parallel serving), ``deployments`` (deployment rows, DeepSeek's Day-6 units, served by
the engine level), ``engine`` (typed specs and the one calibrated step),
``predict`` (serving as engines measure it), ``burst`` (every request sent at once,
served step by step), ``calibrate`` (make calibrate),
``hfconfig`` (a models row from a Hugging Face config.json), ``enablers`` (MoE, MLA, FP8
and MTP priced one at a time), ``answers`` (conclusions
rendered from a run), ``setups`` (memory feasibility of a notebook's setup), ``lifetime``
(training against serving over a model's life), ``reasoning`` (test-time compute and
distillation), ``platforms`` (one load served on every platform), ``moat`` (a GPU
vendor's margin in a token's cost), ``reports`` (papermill runs).
"""
from . import data
from .amortization import *
from .answers import *
from .burst import *
from .calibrate import *
from .data import *
from .deployments import *
from .enablers import *
from .engine import *
from .frontier import *
from .hfconfig import *
from .inference import *
from .kernels import *
from .kvcache import *
from .lifetime import *
from .moat import *
from .params import *
from .platforms import *
from .predict import *
from .pricing import *
from .reasoning import *
from .results import *
from .roofline import *
from .sensitivity import *
from .serving import *
from .setups import *
from .training import *
from .units import *

__version__ = "0.1.0"

#: Names served on first use, so that ``import econ`` loads no charting library: Altair (and
#: the jsonschema it validates with) is imported when a chart is made, not before.
_LAZY = {
    "charts": ("PALETTE", "THEME_NAME", "axis_title", "line_chart", "bar_chart", "band_chart",
               "tornado_chart", "waterfall_chart", "scatter_chart", "ratio_chart", "save_static",
               "measured_predicted_chart", "ridge_chart", "ceiling_share_chart",
               "history_chart"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name):
    """``econ.charts`` and its names (``econ.line_chart``, ...), imported on first use."""
    import importlib

    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_NAMES))
