"""Run every notebook under one or more scenarios into ``<out>/<scenario>/`` (papermill).

For each scenario the run writes, into ``<out>/<scenario>/``:

* ``<notebook>.ipynb``: the executed notebook (papermill, kernel ``python3``, working
  directory ``notebooks/``), and ``<notebook>.html``: the page for a reader, offline
  (:mod:`econ.report_pages`);
* ``<notebook>.chart-<k>.svg`` / ``.png``: each chart as a static image, for slides;
* ``results.csv``: the result rows of every notebook (:mod:`econ.results`);
* ``index.html``: each notebook's conclusion and the verdicts; ``manifest.json``: what ran,
  with which parameters, how long, and how it ended; ``scenario.yaml``: the scenario file used.

Scenario files (``notebooks/scenarios/<name>.yaml``) are checked against the union of every
notebook's parameters (:mod:`econ.params`) and the setups against memory
(:mod:`econ.setups`) before any notebook runs.

Notebooks run in a local process pool (one process per core by default) or, with a Dask
scheduler address, on a Dask cluster through ``Client.get_executor`` (the same
``concurrent.futures`` interface). Each task writes its notebook, page, images and result
rows straight into the scenario's hidden folder (Dask workers need the repository and the
output folder at the same paths). The ``summary`` notebook of a scenario runs after the
others, over their result rows (its ``results_dir`` parameter). A report is written into a
hidden folder and renamed into place only when every notebook succeeded, so the previous good
report stays until a new one is complete. A failed run is kept beside it as
``<scenario>.failed/``, the failing cell marked in the partial notebook. An interrupted run
(Ctrl-C, SIGTERM) stops the workers (each shuts its kernel down) and removes its partial output.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from . import params as _params
from . import report_pages as _pages
from . import results as _results
from .answers import notebook_answers

__all__ = ["ReportError", "NotebookOutcome", "ScenarioOutcome", "NOTEBOOKS_DIR",
           "SUMMARY_NOTEBOOK", "RESERVED_PARAMETERS", "COMPARE_PAGE", "discover_notebooks",
           "check_scenarios", "run_reports", "run_in_place"]

#: The notebooks of the suite.
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
#: The notebook that runs last, over the others' results (its ``results_dir`` parameter).
SUMMARY_NOTEBOOK = "summary"
#: Parameters the report run sets itself; a scenario file may not.
RESERVED_PARAMETERS = ("results_path", "results_dir")
#: Folder (inside the notebooks folder) of the result rows the stored summary reads.
STORED_RESULTS_DIR = "results"
#: The page, beside the reports, that shows the scenarios of one run side by side.
COMPARE_PAGE = "compare.html"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# papermill changes the process's working directory while it runs: one notebook at a time per
# process (a Dask worker may run tasks in several threads)
_PAPERMILL_LOCK = threading.Lock()


class ReportError(Exception):
    """A report run cannot start or cannot write its output; the message says why."""


@dataclasses.dataclass
class NotebookOutcome:
    """How one notebook of one scenario ended."""

    scenario: str
    name: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    execute_seconds: float = 0.0
    charts: int = 0
    images: list = dataclasses.field(default_factory=list)
    results_rows: int = 0
    warnings: list = dataclasses.field(default_factory=list)
    title: str = ""
    answers: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ScenarioOutcome:
    """How one scenario ended: where its report is and what each notebook did."""

    name: str
    ok: bool
    report_dir: Path | None
    notebooks: list
    seconds: float = 0.0
    description: str = ""


# --------------------------------------------------------------------------------------------
# Notebooks, parameters, scenarios (checked before anything runs)
# --------------------------------------------------------------------------------------------

def discover_notebooks(notebooks_dir=None, names=None):
    """The notebooks to run: ``*.ipynb`` in ``notebooks_dir`` (only ``names`` when given; an
    unknown name raises :class:`ReportError` listing the valid ones), the summary last.

    Returns
    -------
    list of pathlib.Path
    """
    d = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    found = {p.stem: p for p in sorted(d.glob("*.ipynb")) if _NAME_RE.match(p.stem)}
    unknown = [n for n in dict.fromkeys(names or ()) if n not in found]
    if unknown:
        raise ReportError(f"unknown notebook(s) {unknown} in {d}; notebooks there: "
                          f"{sorted(found)}")
    found = {n: found[n] for n in names} if names else found
    if not found:
        raise ReportError(f"no notebooks (*.ipynb) in {str(d)!r}"
                          + ("" if d.is_dir() else ": the folder does not exist"))
    return [found[n] for n in sorted(found, key=lambda n: (n == SUMMARY_NOTEBOOK, n))]


# --------------------------------------------------------------------------------------------
# One notebook, in a worker process (local pool or Dask), written straight into the report
# --------------------------------------------------------------------------------------------

def _run_notebook(path, out, scenario, parameters, report, images, cell_timeout):
    """Execute notebook ``path`` into folder ``out`` (both Paths) with papermill. As part of a
    report (``report``): its page and chart images beside it; else (make notebooks) without
    run metadata (timestamps), so that re-running changes only what the code computes."""
    nbformat, papermill = _params.notebook_tools()
    from papermill.exceptions import PapermillExecutionError

    t0, unmarked, dest = time.perf_counter(), False, out / path.name
    o, rows = NotebookOutcome(scenario, path.stem, True), out / "results" / f"{path.stem}.csv"
    try:
        with _PAPERMILL_LOCK:
            papermill.execute_notebook(
                str(path), str(dest), parameters=parameters, cwd=str(path.parent),
                kernel_name="python3", progress_bar=False, request_save_on_cell_execute=True,
                execution_timeout=cell_timeout)
    except PapermillExecutionError as exc:  # papermill marked the failing cell
        o.ok, o.error = False, f"{exc.ename}: {exc.evalue}" + (
            f" (cell In [{exc.exec_count}])" if exc.exec_count else "")
    except Exception as exc:  # dead kernel, cell timeout, no kernel, bad notebook
        o.ok, o.error, unmarked = False, f"{type(exc).__name__}: " + (
            str(exc).strip().splitlines() or [""])[0], True
    o.execute_seconds = time.perf_counter() - t0
    try:
        nb = nbformat.read(dest, as_version=4)
    except Exception:  # not written, or cut short
        nb = nbformat.read(path, as_version=4)
    if unmarked:  # where the notebook stopped, and the error, at the top (papermill did not)
        at = next((i for i, c in enumerate(nb.cells) if c.metadata.get("papermill", {}).get(
            "status") in ("running", "failed")), len(nb.cells))
        for i, text in zip((at, 0), _pages.failure_marks(o.error)):
            nb.cells.insert(i, nbformat.v4.new_markdown_cell(
                text, metadata={"tags": ["papermill-error-cell-tag"]}))
    if not report:
        for node in [nb, *nb.cells]:
            node.metadata.pop("papermill", None)
            node.metadata.pop("execution", None)
    dest.write_text(nbformat.writes(nb), encoding="utf-8")
    o.title, o.answers = _pages.notebook_title(nb, o.name), notebook_answers(nb)
    try:
        o.results_rows = len(_results.read_results(rows)) if rows.exists() else 0
    except ValueError as exc:
        rows.unlink()
        o.ok, o.error = False, f"its results table is invalid: {exc}"
    try:
        if report:
            files, o.warnings = _pages.static_images(nb, o.name, images)
            for fname, data in files.items():
                (out / fname).write_bytes(data)
            page, o.charts = _pages.export_html(nb, title=f"{o.name} · {scenario}",
                                                images=files, scenario=scenario)
            (out / f"{o.name}.html").write_text(page, encoding="utf-8")
            o.images = list(files)
    except Exception as exc:
        if o.ok:
            o.ok, o.error = False, f"rendering failed: {type(exc).__name__}: {exc}"
        else:
            o.warnings.append(f"no HTML ({type(exc).__name__}: {exc})")
    o.seconds = time.perf_counter() - t0
    return o


def _worker_init():
    """Workers leave Ctrl-C to the parent and unwind on SIGTERM (papermill shuts the kernel
    down); the kernels' log lines, on the stderr they inherit, would interleave with the
    progress lines: they go to /dev/null (failures come back as data)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)


# --------------------------------------------------------------------------------------------
# The pool and the schedule
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _pool(jobs, n_tasks, dask_address=None):
    """(executor, jobs, kind): a local process pool, or a Dask cluster's executor."""
    if dask_address:
        from distributed import Client

        try:
            client = Client(dask_address, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise ReportError(f"cannot connect to the Dask scheduler at {dask_address!r}: "
                              f"{exc}") from None
        with client:
            yield client.get_executor(pure=False), jobs or len(client.nthreads()), "Dask workers"
        return
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")  # workers fork ready: imports done once
    # (papermill and nbconvert load in each worker, through econ.params.notebook_tools)
    ctx.set_forkserver_preload(["econ", "econ.charts", "vl_convert", __name__])
    jobs = jobs or min(n_tasks, len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else os.cpu_count())
    ex = cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init)
    try:
        yield ex, jobs, "local processes"
    except BaseException:  # stop the running notebooks: SIGTERM, each worker ends its kernel
        for p in list(ex._processes.values()):
            p.terminate()
        raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def _stamp():
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _finish(sc, tmp, outcomes, union, out, log, compare, t0):
    """Collect the results, write the manifest and index, and rename the report into place
    (or keep it as ``<scenario>.failed``; the report that was there is removed afterwards)."""
    ok = all(o.ok for o in outcomes)
    try:  # every notebook's rows, checked together (two notebooks writing one row ...)
        collected = _results.collect_results(tmp / "results")
    except ValueError as exc:
        ok, collected = False, _results.collect_results(tmp)  # no *.csv there: empty
        outcomes[-1].warnings.append(f"the collected results are invalid: {exc}")
    shutil.rmtree(tmp / "results")
    collected.to_csv(tmp / "results.csv", index=False)
    seconds, good = time.perf_counter() - t0, out / sc.name
    if sc.path:
        shutil.copy(sc.path, tmp / "scenario.yaml")
    (tmp / "manifest.json").write_text(json.dumps({
        "scenario": sc.name, "complete": ok, "parameters": sc.values,
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 2), "notebooks": [dataclasses.asdict(o) for o in outcomes],
    }, indent=1, default=str), encoding="utf-8")
    (tmp / "index.html").write_text(_pages.index_html(
        sc, outcomes, collected, complete=ok, schema=union, reserved=RESERVED_PARAMETERS,
        good_report=good.exists(), run_seconds=seconds, stamp=_stamp(),
        compare_href=f"../{COMPARE_PAGE}" if compare else None), encoding="utf-8")
    final, old = good if ok else out / f"{sc.name}.failed", out / f".{sc.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    if ok:
        shutil.rmtree(out / f"{sc.name}.failed", ignore_errors=True)
        log(f"{sc.name}: report complete: {final / 'index.html'}")
    else:
        failed = "; ".join(f"notebook {o.name!r} failed: {o.error}" for o in outcomes if not o.ok)
        log(f"{sc.name}: {failed or outcomes[-1].warnings[-1]}; run FAILED; partial output kept "
            f"in {final} (failing cells marked); the previous report "
            + (f"{good} is unchanged" if good.exists() else "does not exist"))
    return ScenarioOutcome(sc.name, ok, final, outcomes, seconds, sc.description)


# --------------------------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------------------------

def check_scenarios(scenarios, notebooks_dir=None, scenarios_dir=None, notebooks=None):
    """Check scenario files before anything runs: against the parameters of every notebook
    (a scenario is for the whole suite), and each notebook's setup against memory.

    ``scenarios``: names (files ``<scenarios_dir>/<name>.yaml``), ``"all"``, or None for no
    scenario file (the notebooks' defaults: only the notebooks are checked).

    Returns
    -------
    (list of str, dict of str -> econ.params.Schema, econ.params.Schema, list of Scenario)
        The notebooks to run, every notebook's schema, their union, the scenarios.

    Raises
    ------
    econ.params.ScenarioError, ReportError
        Every problem of every scenario file, in one message; setups that cannot run.
    """
    nb_dir = Path(notebooks_dir or NOTEBOOKS_DIR)
    names = [p.stem for p in discover_notebooks(nb_dir, notebooks)]
    per, union = _params.suite_schema(discover_notebooks(nb_dir))
    loaded = [] if scenarios is None else _params.load_scenarios(
        scenarios, union, scenarios_dir or nb_dir / "scenarios", RESERVED_PARAMETERS)
    problems = _params.scenario_setup_problems(loaded, per, names)
    if problems:
        raise ReportError("setups that cannot run:\n  " + "\n  ".join(problems))
    return names, per, union, loaded


def run_reports(scenarios=("base",), *, out="reports", notebooks_dir=None, scenarios_dir=None,
                notebooks=None, jobs=None, dask_address=None, images=("svg", "png"),
                cell_timeout=600, log=print):
    """Execute the notebooks under each scenario and write ``<out>/<scenario>/``.

    Parameters
    ----------
    scenarios : iterable of str
        Scenario names (files ``<scenarios_dir>/<name>.yaml``) or ``"all"``.
    out : str or Path
        Folder of the reports.
    notebooks_dir, scenarios_dir : str or Path, optional
        Folders of the notebooks (default :data:`NOTEBOOKS_DIR`; kernels start there) and of
        the scenario files (default ``<notebooks_dir>/scenarios``).
    notebooks : iterable of str, optional
        Only these notebooks (file stems).
    jobs : int, optional
        Notebooks run at once (default: the machine's cores; with Dask: its workers).
    dask_address : str, optional
        A Dask scheduler (``tcp://host:8786``) to run the notebooks on; its workers write the
        report themselves: they need the repository and ``out`` at the same paths.
    images : tuple of str
        Static image formats written for each chart (``"svg"``, ``"png"``).
    cell_timeout : float or None
        Seconds a single cell may run before the notebook is failed. [s]
    log : callable
        Receives each progress line.

    Returns
    -------
    list of ScenarioOutcome

    Raises
    ------
    ReportError
        Before anything runs: a bad scenario, notebook name or parameter; an output folder
        that cannot be written; a Dask scheduler that does not answer.
    KeyboardInterrupt
        The notebooks were stopped and the partial output removed; previous reports stay.
    """
    nb_dir = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    names, per, union, loaded = check_scenarios(scenarios, nb_dir, scenarios_dir, notebooks)
    return _run(loaded, per, union, names, nb_dir, out, jobs=jobs, dask_address=dask_address,
                images=images, cell_timeout=cell_timeout, log=log)


def _run(loaded, per, union, names, nb_dir, out, *, jobs, dask_address, images, cell_timeout,
         log, report=True):
    """Run ``names`` under each scenario of ``loaded`` into ``out``; see :func:`run_reports`.
    A scenario's summary is queued once its other notebooks have ended (it reads their
    results)."""
    images = tuple(images or ())
    if set(images) - {"svg", "png"}:
        raise ReportError(f"image formats must be 'svg' or 'png', got {list(images)}")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1) or (
            cell_timeout is not None and cell_timeout <= 0):
        raise ReportError(f"jobs must be a whole number >= 1 and the cell timeout > 0 s, got "
                          f"{jobs!r} and {cell_timeout!r}")
    out, t_start = Path(out).resolve(), time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob(".*.partial-*-*"):  # of runs killed with SIGKILL: pid gone
            try:
                os.kill(int(stale.name.rsplit(".partial-", 1)[1].split("-")[0]), 0)
            except ProcessLookupError:
                shutil.rmtree(stale, ignore_errors=True)
            except (PermissionError, ValueError):  # another user's run, or not ours
                pass
        tmp = {sc.name: Path(tempfile.mkdtemp(dir=out, prefix=f".{sc.name}.partial-"
                                              f"{os.getpid()}-")) for sc in loaded}
        for folder in tmp.values():
            (folder / "results").mkdir()
    except OSError as exc:
        raise ReportError(f"cannot write to the output folder {str(out)!r}: "
                          f"{exc.strerror or exc}") from None
    others = [n for n in names if n != SUMMARY_NOTEBOOK]
    queue = [(sc, n) for sc in loaded for n in others or names]
    running, ended, finished, n_tasks = {}, [], [], len(names) * len(loaded)
    try:
        with _pool(jobs, n_tasks, dask_address) as (ex, n_jobs, kind):
            log(f"running {len(names)} notebook(s) x {len(loaded)} scenario(s) "
                f"({', '.join(tmp)}) on {n_jobs} {kind}")
            while queue or running:
                while queue and len(running) < n_jobs:
                    sc, n = queue.pop(0)
                    rows = {"results_path": tmp[sc.name] / "results" / f"{n}.csv",
                            "results_dir": tmp[sc.name] / "results"}
                    params = sc.for_schema(per[n]) | {k: str(v) for k, v in rows.items()
                                                      if report and k in per[n]}
                    running[ex.submit(_run_notebook, nb_dir / f"{n}.ipynb", tmp[sc.name],
                                      sc.name, params, report, images, cell_timeout)] = sc, n
                    log(f"-> {sc.name}/{n} started ({len(running) + len(ended)} of {n_tasks})")
                for fut in cf.wait(running, return_when=cf.FIRST_COMPLETED).done:
                    sc, n = running.pop(fut)
                    try:
                        ended.append(fut.result())
                    except Exception as exc:  # the worker died (the task catches everything)
                        ended.append(NotebookOutcome(sc.name, n, False,
                                                     f"the worker running it died ({exc!r})"))
                    o, bar = ended[-1], "#" * round(12 * len(ended) / n_tasks)
                    log(f"[{len(ended)}/{n_tasks} {bar:.<12}] {sc.name}/{n}: "
                        f"{'ok' if o.ok else 'FAILED: ' + o.error} ({o.seconds:.1f} s)")
                    mine = sorted((e for e in ended if e.scenario == sc.name),
                                  key=lambda e: names.index(e.name))
                    if others and len(mine) == len(others) < len(names):
                        queue.append((sc, SUMMARY_NOTEBOOK))
                    if len(mine) == len(names):
                        finished.append(_finish(sc, tmp[sc.name], mine, union, out, log,
                                                len(loaded) > 1, t_start))
    except BaseException:  # interrupted: the workers have stopped (each ended its kernel)
        for folder in tmp.values():
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finished.sort(key=lambda s: [sc.name for sc in loaded].index(s.name))
    if len(finished) > 1:
        with tempfile.NamedTemporaryFile("w", dir=out, delete=False, encoding="utf-8") as fh:
            fh.write(_pages.compare_html(finished, stamp=_stamp()))
        os.replace(fh.name, out / COMPARE_PAGE)
        log(f"scenarios compared: {out / COMPARE_PAGE}")
    for so in finished:
        log(f"time per notebook ({so.name}):")
        for o in sorted(so.notebooks, key=lambda o: -o.seconds):
            log(f"  {o.name:<36} {o.seconds:7.1f} s  (execute {o.execute_seconds:5.1f} s)  "
                f"{'ok' if o.ok else 'FAILED'}")
    log(f"total {time.perf_counter() - t_start:.1f} s")
    return finished


def run_in_place(*, notebooks_dir=None, notebooks=None, jobs=None, cell_timeout=600,
                 failed_dir="reports/in-place-failed", log=print):
    """Re-execute the stored notebooks with their defaults and save them where they are.

    A notebook is replaced only when it ran to the end; a failing one stays as it was and its
    partial copy (failing cell marked) goes to ``failed_dir``, with the run's index page. Run
    metadata (timestamps) is left out, so that re-running changes only what the code
    computes. When the summary is among them, the others first run under ``base`` and their
    result rows are stored in ``<notebooks_dir>/results/<notebook>.csv``, which the stored
    summary reads.

    Returns
    -------
    ScenarioOutcome
        Scenario ``in-place``: ``ok`` when every notebook ran and their results are valid.
    """
    nb_dir = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    names, per, union, _ = check_scenarios(None, nb_dir, notebooks=notebooks)
    if SUMMARY_NOTEBOOK in names:
        others = [n for n in per if n != SUMMARY_NOTEBOOK]
        with tempfile.TemporaryDirectory(prefix="econ-results-") as tmp:
            [base] = run_reports(["base"], out=tmp, notebooks_dir=nb_dir, notebooks=others,
                                 jobs=jobs, images=(), cell_timeout=cell_timeout, log=log)
            if not base.ok:
                raise ReportError("stored result rows not refreshed: " + "; ".join(
                    f"{o.name}: {o.error}" for o in base.notebooks if not o.ok))
            rows = _results.read_results(base.report_dir / "results.csv")
        shutil.rmtree(nb_dir / STORED_RESULTS_DIR, ignore_errors=True)
        for name, frame in rows.groupby("notebook"):
            _results.write_results(frame.reset_index(drop=True),
                                   nb_dir / STORED_RESULTS_DIR / f"{name}.csv")
    with tempfile.TemporaryDirectory(dir=nb_dir, prefix=".in-place-") as tmp:
        [run] = _run([_params.Scenario("in-place", None, {})], per, union, names, nb_dir, tmp,
                     jobs=jobs, dask_address=None, images=(), cell_timeout=cell_timeout,
                     log=log, report=False)
        for o in run.notebooks:
            if o.ok:
                os.replace(run.report_dir / f"{o.name}.ipynb", nb_dir / f"{o.name}.ipynb")
        if not run.ok:  # what is left: the failed notebooks (failing cells marked), the index
            shutil.copytree(run.report_dir, failed_dir, dirs_exist_ok=True)
    return run
