"""econ: the cost model behind the AI-infrastructure economics notebooks.

A flat public namespace: every name a notebook needs is importable from ``econ``.
Modules, one per question: ``data`` (sourced tables), ``amortization`` ($/device-hour),
``training`` (FLOPs, GPU-hours, cost), ``kvcache`` (KV bytes per token),
``inference`` (throughput from a roofline), ``pricing`` ($/Mtok, margins),
``roofline`` (ceilings and calibration), ``kernels`` (timing harness),
``scenarios`` (grids, Monte Carlo, sensitivity), ``charts`` (Altair theme),
``results`` (verdict tables and result rows), ``serving`` (expert-parallel
deployments at scale), ``engine`` (typed specs and the one calibrated step),
``predict`` (serving as engines measure it), ``calibrate`` (make calibrate),
``hfconfig`` (a models row from a Hugging Face config.json), ``answers`` (conclusions
rendered from a run), ``setups`` (memory feasibility of a notebook's setup), ``reports``
(papermill runs).
"""
from . import data
from .data import *  # noqa: F401,F403
from .units import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .amortization import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from .kvcache import *  # noqa: F401,F403
from .inference import *  # noqa: F401,F403
from .pricing import *  # noqa: F401,F403
from .roofline import *  # noqa: F401,F403
from .kernels import *  # noqa: F401,F403
from .scenarios import *  # noqa: F401,F403
from .charts import *  # noqa: F401,F403
from .results import *  # noqa: F401,F403
from .serving import *  # noqa: F401,F403
from .predict import *  # noqa: F401,F403
from .hfconfig import *  # noqa: F401,F403
from .answers import *  # noqa: F401,F403
from .setups import *  # noqa: F401,F403
from .calibrate import *  # noqa: F401,F403
from .frontier import *  # noqa: F401,F403

__version__ = "0.1.0"
