"""``python -m econ``: the command line (see :mod:`econ.cli`)."""
import sys

from .cli import main

sys.exit(main())
