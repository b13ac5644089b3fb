"""Execute every notebook under one or more scenarios and write reports/<scenario>/: executed
notebooks, offline HTML, static chart images, results.csv and index.html.

::

    python -m econ.reports                      # the base scenario
    python -m econ.reports cheap-gpus heavy-reasoning --jobs 2
    python -m econ.reports all --dask-address tcp://scheduler:8786
    python -m econ.reports --list               # scenarios and every notebook parameter
    python -m econ.reports --in-place           # make notebooks

Scenario files are notebooks/scenarios/<name>.yaml ('name: value  # why' lines); --list shows
them and every parameter they may set.

The command line over econ.report_run (the run) and econ.report_pages (the pages). Exit
status: 0 every report complete; 1 a notebook failed (the previous report is kept); 2 a bad
scenario, notebook name or output folder (nothing ran); 128 + the signal number when
interrupted (130 Ctrl-C, 143 SIGTERM; no partial report is kept).
"""
from __future__ import annotations

import argparse
import functools
import signal
import sys
from pathlib import Path

from .params import ScenarioError, scenario_names
from .report_run import (
    NOTEBOOKS_DIR,
    RESERVED_PARAMETERS,
    ReportError,
    check_scenarios,
    run_in_place,
    run_reports,
)

__all__ = ["main", "run_reports", "run_in_place", "ReportError"]


def _parser():
    p = argparse.ArgumentParser(prog="python -m econ.reports", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    arg = p.add_argument
    arg("scenarios", nargs="*", metavar="SCENARIO", help="scenario name(s), or 'all' "
        "(default: base)")
    arg("--out", default="reports", help="folder of the reports (default: reports)")
    arg("--jobs", "-j", type=int, help="notebooks run at once (default: the machine's cores)")
    arg("--dask-address", metavar="ADDR",
        help="run the notebooks on this Dask scheduler (tcp://host:8786) instead of local "
             "processes; workers need the repository and --out at the same paths")
    arg("--notebooks", nargs="+", metavar="NAME",
        help="only these notebooks (file names without .ipynb)")
    arg("--notebooks-dir", metavar="DIR",
        help=f"folder of the notebooks (default: {NOTEBOOKS_DIR})")
    arg("--scenarios-dir", metavar="DIR",
        help="folder of the scenario files (default: <notebooks-dir>/scenarios)")
    arg("--images", default="svg,png", metavar="FORMATS",
        help="static images of each chart: 'svg,png' (default), 'svg', 'png' or 'none'")
    arg("--cell-timeout", type=float, default=600.0, metavar="SECONDS",
        help="fail a notebook whose cell runs longer (default: 600)")
    arg("--check", action="store_true",
        help="validate the scenario files against the notebooks and exit")
    arg("--list", action="store_true",
        help="list the scenarios and every parameter a scenario may set, and exit")
    arg("--in-place", action="store_true",
        help="re-execute the stored notebooks with their defaults and save them in place "
             "(make notebooks); a failing one is left as it was")
    return p


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signum)


def main(argv=None):
    """Command line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    log = functools.partial(print, flush=True)
    nb_dir = Path(args.notebooks_dir or NOTEBOOKS_DIR)
    sc_dir = Path(args.scenarios_dir or nb_dir / "scenarios")
    old = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.in_place and args.scenarios:
            raise ReportError("--in-place runs the notebooks with their defaults; give no "
                              "scenario")
        if args.list:
            union = check_scenarios(None, nb_dir)[2]  # every notebook's parameters
            log(f"scenarios in {sc_dir}: {', '.join(scenario_names(sc_dir)) or '(none)'}")
            log("\n  ".join([f"parameters a scenario may set (notebooks in {nb_dir}):",
                              *union.describe(RESERVED_PARAMETERS)]))
        if args.check:
            names, *_, loaded = check_scenarios(args.scenarios, nb_dir, sc_dir, args.notebooks)
            log(f"ok: {', '.join(s.name for s in loaded)} valid for {len(names)} notebook(s)")
        if args.list or args.check:
            return 0
        runs = [run_in_place(
            notebooks_dir=nb_dir, notebooks=args.notebooks, jobs=args.jobs,
            cell_timeout=args.cell_timeout, failed_dir=Path(args.out) / "in-place-failed",
            log=log)] if args.in_place else run_reports(
                args.scenarios, out=args.out, notebooks_dir=nb_dir, scenarios_dir=sc_dir,
                notebooks=args.notebooks, jobs=args.jobs, dask_address=args.dask_address,
                images=[f.strip() for f in args.images.split(",") if f.strip() != "none"],
                cell_timeout=args.cell_timeout, log=log)
    except (ReportError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, folder removed under the run ...
        print(f"error: cannot write the report: {exc}; no partial report was kept and the "
              f"previous reports are unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        print(f"interrupted ({signal.Signals(signum).name}): no report written; previous "
              f"reports kept", file=sys.stderr)
        return 128 + signum
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    for o in (o for s in runs for o in s.notebooks if not o.ok):
        print(f"error: scenario {o.scenario!r}: notebook {o.name!r} failed: {o.error}",
              file=sys.stderr)
    return 1 if any(not s.ok for s in runs) else 0  # invalid collected results fail it too


if __name__ == "__main__":
    sys.exit(main())
