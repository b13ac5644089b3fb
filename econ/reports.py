"""Run every notebook under one or more scenarios into ``reports/<scenario>/``.

::

    python -m econ.reports                      # the base scenario
    python -m econ.reports cheap-gpus heavy-reasoning --jobs 2
    python -m econ.reports all --dask-address tcp://scheduler:8786
    python -m econ.reports --list               # scenarios and every notebook parameter

For each scenario the run writes, into ``<out>/<scenario>/``:

* ``<notebook>.ipynb``: the executed notebook (papermill, kernel ``python3``, working
  directory ``notebooks/``), and ``<notebook>.html``: the same page for a browser, offline (the
  Vega JavaScript is inlined once per page; no CDN) with every chart interactive;
* ``<notebook>.chart-<k>.svg`` / ``.png``: each chart as a static image, for slides;
* ``results.csv``: the result rows of every notebook (:mod:`econ.results`);
* ``index.html``: links to every notebook and the verdicts; ``manifest.json``: what ran, with
  which parameters, how long, and how it ended; ``scenario.yaml``: the scenario file used.

Scenario files (``notebooks/scenarios/<name>.yaml``) are checked against the union of every
notebook's parameters (:mod:`econ.scenarios`) before any notebook runs.

Notebooks run in parallel in local processes (one per core by default) or, with
``--dask-address``, as tasks of a Dask cluster; the ``summary`` notebook runs last, over the
others' results (its ``results_dir`` parameter). A run is written to a hidden folder first
and moved into place only when every notebook succeeded, so the previous good report stays
until a new one is complete. A failed run is kept beside it as ``<scenario>.failed/``, with
the failing cell marked in the partial notebook; the command then exits non-zero naming the
notebook and the error. An interrupted run (Ctrl-C, SIGTERM) removes its partial output.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import dataclasses
import datetime as _dt
import html
import io
import json
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from . import report_pages as _pages
from . import results as _results
from . import scenarios as _scenarios
from .report_pages import TEMPLATES_DIR, chart_specs, export_html

__all__ = ["ReportError", "NotebookOutcome", "ScenarioOutcome", "NOTEBOOKS_DIR", "TEMPLATES_DIR",
           "SUMMARY_NOTEBOOK", "RESERVED_PARAMETERS", "discover_notebooks", "suite_schema",
           "load_scenarios", "run_reports", "run_in_place", "refresh_stored_results", "export_html",
           "chart_specs", "Interrupted",
           "main"]

#: The notebooks of the suite.
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
#: The notebook that runs last, over the others' results (its ``results_dir`` parameter).
SUMMARY_NOTEBOOK = "summary"
#: Parameters the report run sets itself; a scenario file may not.
RESERVED_PARAMETERS = ("results_path", "results_dir")
KERNEL_NAME = "python3"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
    cpu_seconds: float = 0.0
    execute_cpu_seconds: float = 0.0
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

    @property
    def failed(self):
        return [n for n in self.notebooks if not n.ok]


# --------------------------------------------------------------------------------------------
# Notebooks, parameters, scenarios
# --------------------------------------------------------------------------------------------

def discover_notebooks(notebooks_dir=None, names=None):
    """The notebooks to run: ``*.ipynb`` in ``notebooks_dir``, the summary last.

    Parameters
    ----------
    notebooks_dir : str or Path, optional
        Folder of notebooks (default :data:`NOTEBOOKS_DIR`).
    names : iterable of str, optional
        Only these notebooks (file stems); an unknown name raises :class:`ReportError`
        listing the valid ones.

    Returns
    -------
    list of pathlib.Path
    """
    d = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    if not d.is_dir():
        raise ReportError(f"notebooks folder {str(d)!r} does not exist")
    found = {p.stem: p for p in sorted(d.glob("*.ipynb"))
             if _NAME_RE.match(p.stem) and not p.name.startswith(".")}
    if names:
        names = list(dict.fromkeys(names))
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ReportError(f"unknown notebook(s) {unknown} in {d}; notebooks there: "
                              f"{sorted(found)}")
        found = {n: found[n] for n in names}
    if not found:
        raise ReportError(f"no notebooks (*.ipynb) in {d}")
    order = sorted(found, key=lambda n: (n == SUMMARY_NOTEBOOK, n))
    return [found[n] for n in order]


def check_setups(loaded, per, names):
    """Each scenario's setups fit in memory, for every notebook that runs (else ReportError).

    A notebook's parameters are its defaults overridden by the scenario, ``same as`` defaults
    resolved, then :func:`econ.setups.setup_problems`: the check its validation cell makes,
    done before anything runs.
    """
    from . import setups as _setups
    problems = []
    for sc in loaded:
        for name in names:
            schema = per[name]
            values = _scenarios.resolve_same_as({**schema.defaults(), **sc.for_schema(schema)},
                                                schema, where=f"{name}.ipynb")
            for msg in _setups.setup_problems(name, values):
                problems.append(f"scenario {sc.name!r}, {name}.ipynb: {msg}")
    if problems:
        raise ReportError("setups that cannot run:\n  " + "\n  ".join(problems))


def suite_schema(paths):
    """Per-notebook parameter schemas and their union (the names a scenario may set).

    Returns
    -------
    (dict of str -> econ.scenarios.Schema, econ.scenarios.Schema)
        Each notebook's schema (reserved names included) and the union of all of them.

    Raises
    ------
    ReportError
        A notebook whose parameters cell cannot be read, or two notebooks that declare one
        parameter with different types or defaults.
    """
    per = {}
    problems = []
    for p in paths:
        try:
            per[Path(p).stem] = _scenarios.Schema.from_notebook(p)
        except (ValueError, FileNotFoundError) as exc:
            problems.append(str(exc))
        except Exception as exc:  # a notebook that is not valid JSON, ...
            problems.append(f"{p}: cannot read its parameters ({type(exc).__name__}: {exc})")
    if problems:
        raise ReportError("cannot read the notebooks' parameters:\n  " + "\n  ".join(problems))
    try:
        union = _scenarios.Schema.union(*per.values()) if per else _scenarios.Schema()
    except ValueError as exc:
        raise ReportError(f"notebooks disagree on a parameter: {exc}") from None
    return per, union


def load_scenarios(names, union, scenarios_dir=None):
    """Load and validate scenario files; every problem of every file in one error.

    Parameters
    ----------
    names : iterable of str
        Scenario names; ``"all"`` means every file in the folder.
    union : econ.scenarios.Schema
        What the files may set (:func:`suite_schema`).
    scenarios_dir : str or Path, optional
        Folder of ``<name>.yaml`` (default ``notebooks/scenarios``).

    Returns
    -------
    list of econ.scenarios.Scenario
    """
    d = Path(scenarios_dir) if scenarios_dir else NOTEBOOKS_DIR / "scenarios"
    names = list(names) or ["base"]
    if "all" in names:
        available = _scenarios.scenario_names(d)
        if not available:
            raise ReportError(f"'all': no scenario files (*.yaml) in {d}")
        names = available + [n for n in names if n != "all" and n not in available]
    out, problems = [], []
    for name in dict.fromkeys(names):
        try:
            sc = _scenarios.load_scenario(name, union, folder=d)
        except _scenarios.ScenarioError as exc:
            problems.append(str(exc))
            continue
        except (TypeError, OSError) as exc:
            problems.append(f"scenario {name!r}: {exc}")
            continue
        reserved = [k for k in sc.values if k in RESERVED_PARAMETERS]
        if reserved:
            problems.append(f"{sc.path}: key {reserved[0]!r}: set by the report run itself; "
                            f"remove it from the scenario file")
            continue
        out.append(sc)
    if problems:
        raise ReportError("invalid scenario:\n  " + "\n  ".join(problems))
    return out


def _scenario_description(path):
    """The comment lines at the top of a scenario file, as one paragraph."""
    if path is None:
        return ""
    lines = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s:
            if lines:
                break
            continue
        if not s.startswith("#"):
            break
        text = s.lstrip("#").strip()
        if not text:
            if lines:
                break
            continue
        lines.append(text)
    return " ".join(lines)


# --------------------------------------------------------------------------------------------
# One notebook (runs in a worker process: local pool or Dask)
# --------------------------------------------------------------------------------------------

def _mark_failure(nb, message):
    """Mark where a notebook stopped when papermill did not (dead kernel, interrupted)."""
    import nbformat

    idx = None
    for i, cell in enumerate(nb.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if status in ("running", "failed"):
            idx = i
            break
    marker = nbformat.v4.new_markdown_cell(
        '<span id="papermill-error-cell" style="color:red; font-size:1.4em;">'
        f"The report run stopped here: {html.escape(message)}</span>")
    marker.metadata["tags"] = ["papermill-error-cell-tag"]
    nb.cells.insert(idx if idx is not None else len(nb.cells), marker)
    head = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:1.6em;">This run failed: {html.escape(message)} '
        f'(<a href="#papermill-error-cell">where</a>)</span>')
    head.metadata["tags"] = ["papermill-error-cell-tag"]
    nb.cells.insert(0, head)
    return nb


def _strip_run_metadata(nb):
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    return nb


def _run_notebook(task):
    """Execute one notebook and render it; return everything as data (no shared disk needed).

    ``task`` keys: scenario, name, path, cwd, parameters, results_path (bool),
    results_inputs ({name: csv text} or None), html, images (formats), cell_timeout,
    strip_metadata, nav_html.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    out = {"scenario": task["scenario"], "name": task["name"], "ok": True, "error": "",
           "notebook": None, "html": None, "files": {}, "results_csv": None, "charts": 0,
           "warnings": [], "execute_seconds": 0.0}
    with tempfile.TemporaryDirectory(prefix="econ-report-") as tmp:
        tmp = Path(tmp)
        params = dict(task["parameters"])
        if task.get("results_path"):
            params["results_path"] = str(tmp / "results.csv")
        if task.get("results_inputs") is not None:
            rdir = tmp / "results_in"
            rdir.mkdir()
            for name, text in task["results_inputs"].items():
                (rdir / f"{name}.csv").write_text(text, encoding="utf-8")
            params["results_dir"] = str(rdir)
        out_path = tmp / f"{task['name']}.ipynb"
        papermill_marked = False
        # papermill changes the process's working directory while it runs: on a Dask worker
        # with several threads, one notebook at a time per process
        guard = contextlib.nullcontext() if _in_main_thread() else _PAPERMILL_LOCK
        try:
            with guard:
                papermill.execute_notebook(
                    task["path"], str(out_path), parameters=params, kernel_name=KERNEL_NAME,
                    cwd=task["cwd"], progress_bar=False, log_output=False,
                    execution_timeout=task.get("cell_timeout"),
                    request_save_on_cell_execute=True)
        except PapermillExecutionError as exc:
            papermill_marked = True
            out["ok"] = False
            out["error"] = (f"{exc.ename}: {exc.evalue} (cell In [{exc.exec_count}])"
                            if exc.exec_count else f"{exc.ename}: {exc.evalue}")
        except Exception as exc:  # dead kernel, cell timeout, no kernel, bad notebook
            out["ok"] = False
            out["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        out["execute_seconds"] = time.perf_counter() - t0
        out["execute_cpu_seconds"] = _cpu_seconds() - cpu0
        if out_path.exists():
            try:
                nb = nbformat.read(out_path, as_version=4)
            except Exception:
                nb = nbformat.read(task["path"], as_version=4)
        else:
            nb = nbformat.read(task["path"], as_version=4)
        if not out["ok"] and not papermill_marked:
            nb = _mark_failure(nb, out["error"])
        if task.get("strip_metadata"):
            nb = _strip_run_metadata(nb)
        out["notebook"] = nbformat.writes(nb)
        out["title"] = _pages.notebook_title(nb, task["name"])
        out["answers"] = _pages.notebook_answers(nb)
        results_file = tmp / "results.csv"
        if out["ok"] and results_file.exists():
            out["results_csv"] = results_file.read_text(encoding="utf-8")
    try:
        links = []
        if task.get("html") or task.get("images"):
            specs = chart_specs(nb)
            out["charts"] = len(specs)
            if task.get("images") and specs:
                files, links, warns = _pages.static_images(specs, task["name"], task["images"],
                                                           _pages.vl_version())
                out["files"].update(files)
                out["warnings"].extend(warns)
        if task.get("html"):
            urls = re.findall(r"https?://[^\s,;\"]+", out["results_csv"] or "")
            out["html"], _ = export_html(nb, title=f"{task['name']} · {task['scenario']}",
                                         image_links=links, nav_html=task.get("nav_html", ""),
                                         urls=urls)
    except Exception as exc:
        if out["ok"]:
            out["ok"] = False
            out["error"] = f"rendering failed: {type(exc).__name__}: {exc}"
        else:
            out["warnings"].append(f"no HTML ({type(exc).__name__}: {exc})")
    out["seconds"] = time.perf_counter() - t0
    out["cpu_seconds"] = _cpu_seconds() - cpu0
    return out


def _cpu_seconds():
    """CPU time of this process and of its finished children (the kernels), user + system.
    Exact in a local worker (one notebook at a time); on a Dask worker running several
    tasks in threads it also counts the others."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 0.0
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


_PAPERMILL_LOCK = threading.Lock()


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


def _worker_init():
    """Worker processes: leave Ctrl-C to the parent; SIGTERM unwinds (kernels shut down).

    The kernels' own log lines (ipykernel's transport warning) would interleave with the
    progress lines: the worker's stderr, which kernels inherit, goes to /dev/null. Failures
    reach the parent as data, not through stderr.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def _term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _term)


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------

class _LocalPool:
    """A process pool whose running tasks can be stopped (SIGTERM to the workers)."""

    kind = "local processes"

    def __init__(self, jobs):
        import concurrent.futures
        import multiprocessing

        self.jobs = jobs
        ctx = multiprocessing.get_context("forkserver")
        # the fork server imports the heavy modules once; workers fork from it ready to run.
        # Not econ.reports itself when it is the command being run (python -m econ.reports):
        # the server re-runs the main module under its own name, which must not be loaded yet.
        main_name = getattr(getattr(sys.modules.get("__main__"), "__spec__", None), "name", None)
        preload = ["econ", "papermill", "nbconvert", "vl_convert"]
        if main_name != __name__:
            preload.insert(1, __name__)
        ctx.set_forkserver_preload(preload)
        self._ex = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=_worker_init)

    def submit(self, fn, arg, on_done):
        fut = self._ex.submit(fn, arg)
        fut.add_done_callback(on_done)
        return fut

    def close(self, abort=False):
        if abort:
            procs = list(getattr(self._ex, "_processes", {}).values())
            for p in procs:
                with contextlib.suppress(Exception):
                    p.terminate()
            deadline = time.monotonic() + 15
            for p in procs:
                p.join(max(0.1, deadline - time.monotonic()))
                if p.is_alive():
                    with contextlib.suppress(Exception):
                        p.kill()
        self._ex.shutdown(wait=True, cancel_futures=True)


class _DaskPool:
    """Tasks on a Dask cluster (``distributed.Client``); the workers need the notebooks' folder
    and the ``econ`` package at the same paths (a shared file system)."""

    kind = "Dask workers"

    def __init__(self, address, jobs):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise ReportError("--dask-address needs the 'distributed' package") from None
        m = re.fullmatch(r"(?:tcp://)?\[?([^\]/]+?)\]?:(\d+)/?", address.strip())
        if m:  # a refused or unreachable address: say so at once, not after the timeout
            import socket

            try:
                socket.create_connection((m.group(1), int(m.group(2))), timeout=5).close()
            except OSError as exc:
                raise ReportError(f"cannot connect to the Dask scheduler at {address!r}: "
                                  f"{exc.strerror or exc}") from None
        try:
            self.client = Client(address, timeout="20s")
        except Exception as exc:
            raise ReportError(f"cannot connect to the Dask scheduler at {address!r}: "
                              f"{type(exc).__name__}: {exc}") from None
        # one notebook at a time per worker process (papermill changes the working directory)
        self.jobs = jobs or max(1, len(self.client.nthreads()))
        self._futures = []

    def submit(self, fn, arg, on_done):
        fut = self.client.submit(fn, arg, pure=False,
                                 key=f"econ-report-{arg['scenario']}-{arg['name']}-"
                                     f"{uuid.uuid4().hex[:8]}")
        fut.add_done_callback(on_done)
        self._futures.append(fut)
        return fut

    def close(self, abort=False):
        if abort:
            with contextlib.suppress(Exception):
                self.client.cancel(self._futures)
        with contextlib.suppress(Exception):
            self.client.close()


# --------------------------------------------------------------------------------------------
# Signals and atomic folder swap
# --------------------------------------------------------------------------------------------

class Interrupted(BaseException):
    """Raised in the main process on SIGINT/SIGTERM."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGINT/SIGTERM raise :class:`Interrupted`, except inside :meth:`critical` (deferred)."""

    def __init__(self):
        self._old = {}
        self._depth = 0
        self._pending = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)
        return False

    def _handle(self, signum, frame):
        if self._depth:
            self._pending = signum
            return
        raise Interrupted(signum)

    @contextlib.contextmanager
    def critical(self):
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._pending is not None:
                s, self._pending = self._pending, None
                raise Interrupted(s)


_RENAME_EXCHANGE = 2


def _exchange(a, b):
    """Swap two paths atomically (Linux renameat2); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return rc == 0


def _replace_dir(new, final):
    """Put folder ``new`` at ``final``; whatever was at ``final`` is removed afterwards."""
    final = Path(final)
    if not final.exists():
        os.rename(new, final)
        return
    if _exchange(new, final):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old report
        return
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    os.rename(final, old)
    try:
        os.rename(new, final)
    except OSError:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_bytes(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def _clean_stale(out):
    """Remove partial folders left by runs that no longer exist (killed with SIGKILL)."""
    for p in out.glob(".*.partial-*"):
        m = re.search(r"\.partial-(\d+)-", p.name)
        if not m:
            continue
        pid = int(m.group(1))
        alive = True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            alive = False
        except PermissionError:
            pass
        if not alive:
            shutil.rmtree(p, ignore_errors=True)
    for p in out.glob(".*.old-*"):
        shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

def _default_jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _is_exclusive(path):
    """A notebook that asks to run alone (metadata ``{"econ": {"run_alone": true}}``):
    live timings are not disturbed by the other notebooks."""
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return False
    return bool(meta.get("econ", {}).get("run_alone"))


class _Scheduler:
    """Runs tasks with dependencies on a pool; ``run_alone`` tasks get the pool to themselves."""

    def __init__(self, pool, signals, log):
        self.pool, self.signals, self.log = pool, signals, log
        self.q = queue.Queue()
        self.running = {}
        self.running_alone = False

    def submit(self, key, task, alone=False):
        self.running[key] = alone
        if alone:
            self.running_alone = True
        self.pool.submit(_run_notebook, task, lambda fut, key=key: self.q.put((key, fut)))

    def can_start(self, alone):
        if self.running_alone:
            return False
        if alone:
            return not self.running
        return len(self.running) < self.pool.jobs

    def next_done(self):
        while True:
            try:
                key, fut = self.q.get(timeout=0.25)
            except queue.Empty:
                continue
            alone = self.running.pop(key)
            if alone:
                self.running_alone = False
            try:
                return key, fut.result(), None
            except BaseException as exc:  # noqa: BLE001 - a worker that died
                return key, None, f"{type(exc).__name__}: {exc}"


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
    notebooks_dir : str or Path, optional
        Folder of the notebooks (default :data:`NOTEBOOKS_DIR`); kernels start there.
    scenarios_dir : str or Path, optional
        Folder of the scenario files (default ``<notebooks_dir>/scenarios``).
    notebooks : iterable of str, optional
        Only these notebooks (file stems).
    jobs : int, optional
        Notebooks run at once (default: the machine's cores; with Dask: its threads).
    dask_address : str, optional
        A Dask scheduler (``tcp://host:8786``) to run the notebooks on instead of local
        processes.
    images : tuple of str
        Static image formats written for each chart (``"svg"``, ``"png"``).
    cell_timeout : float or None
        Seconds a single cell may run before the notebook is failed.
    log : callable
        Receives each progress line.

    Returns
    -------
    list of ScenarioOutcome

    Raises
    ------
    ReportError
        Before anything runs: a bad scenario, notebook name or parameter; an output folder
        that cannot be written.
    Interrupted
        SIGINT/SIGTERM: the partial output was removed; previous reports are untouched.
    """
    t_start = time.perf_counter()
    nb_dir = Path(notebooks_dir).resolve() if notebooks_dir else NOTEBOOKS_DIR
    sc_dir = Path(scenarios_dir).resolve() if scenarios_dir else nb_dir / "scenarios"
    paths = discover_notebooks(nb_dir, notebooks)
    # a scenario file is for the whole suite: check it against every notebook's parameters,
    # also when only some notebooks run
    per, union = suite_schema(discover_notebooks(nb_dir))
    loaded = load_scenarios(scenarios, union, sc_dir)
    check_setups(loaded, per, [Path(p).stem for p in paths])
    images = tuple(dict.fromkeys(images or ()))
    bad = [f for f in images if f not in ("svg", "png")]
    if bad:
        raise ReportError(f"image formats must be 'svg' or 'png', got {bad}")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ReportError(f"jobs must be a whole number >= 1, got {jobs!r}")

    out = Path(out).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ReportError(f"cannot write to the output folder {str(out)!r}: "
                          f"{exc.strerror or exc}") from None
    _clean_stale(out)

    names = [p.stem for p in paths]
    others = [n for n in names if n != SUMMARY_NOTEBOOK]
    alone = {p.stem: _is_exclusive(p) for p in paths}
    nav = ('<a href="index.html">&larr; report index</a> · scenario '
           '<code>{scenario}</code>')
    state = {}
    for sc in loaded:
        tmp = out / f".{sc.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        state[sc.name] = {"scenario": sc, "tmp": tmp, "outcomes": {}, "results": {},
                          "t0": None}

    def task_for(sc, name, results_inputs=None):
        return {"scenario": sc.name, "name": name, "path": str(nb_dir / f"{name}.ipynb"),
                "cwd": str(nb_dir), "parameters": sc.for_schema(per[name]),
                "results_path": "results_path" in per[name],
                "results_inputs": results_inputs if "results_dir" in per[name] else None,
                "html": True, "images": images, "cell_timeout": cell_timeout,
                "nav_html": nav.format(scenario=html.escape(sc.name))}

    total = len(names) * len(loaded)
    done = started = 0
    finished = []
    pool = None
    with _Signals() as signals:
        try:
            for st in state.values():
                st["tmp"].mkdir()
            pool = _DaskPool(dask_address, jobs) if dask_address else \
                _LocalPool(min(jobs or _default_jobs(), total))
            log(f"running {len(names)} notebook(s) x {len(loaded)} scenario(s) "
                f"({', '.join(state)}) on {pool.jobs} {pool.kind}")
            sched = _Scheduler(pool, signals, log)
            waiting = [(sc.name, n) for sc in loaded for n in others]
            summaries = [(sc.name, SUMMARY_NOTEBOOK) for sc in loaded
                         if SUMMARY_NOTEBOOK in names]
            # run_alone notebooks first, then the rest; a scenario's summary after its others
            waiting.sort(key=lambda k: not alone[k[1]])
            while done < total:
                ready = []
                for key in list(summaries):
                    st = state[key[0]]
                    if all(n in st["outcomes"] for n in others):
                        ready.append(key)
                for key in waiting + ready:
                    if not sched.can_start(alone[key[1]]):
                        if alone[key[1]]:
                            break  # keep the order: wait until the pool is empty
                        continue
                    st = state[key[0]]
                    st["t0"] = st["t0"] or time.perf_counter()
                    inputs = None
                    if key[1] == SUMMARY_NOTEBOOK:
                        inputs = dict(st["results"])
                        summaries.remove(key)
                    else:
                        waiting.remove(key)
                    sched.submit(key, task_for(st["scenario"], key[1], inputs), alone[key[1]])
                    started += 1
                    log(f"-> {key[0]}/{key[1]} started ({started} of {total})")
                if not sched.running:
                    break  # nothing can start (cannot happen); avoid waiting forever
                key, res, crash = sched.next_done()
                done += 1
                st = state[key[0]]
                outcome = _store(st, key[1], res, crash)
                mark = "ok" if outcome.ok else f"FAILED: {outcome.error}"
                log(f"[{done}/{total} {_bar(done, total)}] {key[0]}/{key[1]}: {mark} "
                    f"({outcome.seconds:.1f} s)")
                if len(st["outcomes"]) == len(names):
                    with signals.critical():
                        finished.append(_finish(st, names, union, out, log,
                                                compare=len(loaded) > 1))
        except BaseException as exc:
            if isinstance(exc, Interrupted):
                name = signal.Signals(exc.signum).name
                log(f"interrupted by {name}: stopping the notebooks; no partial report is kept")
            if pool is not None:
                pool.close(abort=True)
                pool = None
            for st in state.values():
                shutil.rmtree(st["tmp"], ignore_errors=True)
            raise
        finally:
            if pool is not None:
                pool.close()
    if len(finished) > 1:
        _write_compare(out, loaded, finished, log)
    _print_times(finished, time.perf_counter() - t_start, log)
    return finished


#: The page, beside the reports, that shows the scenarios of one run side by side.
COMPARE_PAGE = "compare.html"


def _stamp():
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _write_compare(out, loaded, finished, log):
    """``<out>/compare.html``: the run's scenarios side by side (written atomically)."""
    done = {s.name: s for s in finished}
    cols = [(sc.name, _scenario_description(sc.path), done[sc.name].ok,
             f"{done[sc.name].report_dir.name}/index.html", done[sc.name].notebooks)
            for sc in loaded if sc.name in done]
    page = _pages.compare_html(cols, stamp=_stamp())
    fd, tmpf = tempfile.mkstemp(dir=out, prefix=".compare-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmpf, out / COMPARE_PAGE)
    log(f"scenarios compared: {out / COMPARE_PAGE}")


def _bar(done, total, width=12):
    """A text progress bar: ``####........``."""
    full = int(round(width * done / max(total, 1)))
    return "#" * full + "." * (width - full)


def _store(st, name, res, crash):
    """Write one notebook's files into the scenario's partial folder; return its outcome."""
    tmp = st["tmp"]
    if res is None:
        o = NotebookOutcome(st["scenario"].name, name, False,
                            error=f"the worker running it died ({crash})")
        st["outcomes"][name] = o
        return o
    o = NotebookOutcome(st["scenario"].name, name, res["ok"], error=res["error"],
                        seconds=res["seconds"], execute_seconds=res["execute_seconds"],
                        cpu_seconds=res.get("cpu_seconds", 0.0),
                        execute_cpu_seconds=res.get("execute_cpu_seconds", 0.0),
                        charts=res["charts"], warnings=list(res["warnings"]),
                        title=res.get("title", ""), answers=list(res.get("answers", [])))
    if res["notebook"]:
        _write_bytes(tmp / f"{name}.ipynb", res["notebook"])
    if res["html"]:
        _write_bytes(tmp / f"{name}.html", res["html"])
    for fname, data in res["files"].items():
        _write_bytes(tmp / fname, data)
        o.images.append(fname)
    if res["results_csv"] is not None:
        try:
            frame = _results.read_results(io.StringIO(res["results_csv"]))
            st["results"][name] = res["results_csv"]
            st.setdefault("frames", {})[name] = frame
            o.results_rows = len(frame)
        except ValueError as exc:
            o.ok = False
            o.error = f"its results table is invalid: {exc}"
    st["outcomes"][name] = o
    return o


def _finish(st, names, union, out, log, compare=False):
    """Collect results, write the index, and swap the report into place (or keep it as failed)."""
    import pandas as pd

    sc, tmp = st["scenario"], st["tmp"]
    outcomes = [st["outcomes"][n] for n in names]
    ok = all(o.ok for o in outcomes)
    frames = [st.get("frames", {})[n] for n in names if n in st.get("frames", {})]
    collected = (pd.concat(frames, ignore_index=True) if frames else
                 pd.DataFrame(columns=_results.RESULT_COLUMNS))
    try:
        collected = _results.validate_results(collected) if len(collected) else collected
    except ValueError as exc:  # e.g. two notebooks writing the same row
        ok = False
        outcomes[-1].warnings.append(f"collected results invalid: {exc}")
        log(f"{sc.name}: the collected results are invalid: {exc}")
    collected.to_csv(tmp / "results.csv", index=False)
    seconds = time.perf_counter() - (st["t0"] or time.perf_counter())
    final = out / sc.name
    failed_dir = out / f"{sc.name}.failed"
    (tmp / "scenario.yaml").write_text(
        sc.path.read_text(encoding="utf-8") if sc.path else "", encoding="utf-8")
    manifest = {
        "scenario": sc.name, "complete": ok, "parameters": sc.values,
        "finished_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 2),
        "notebooks": [dataclasses.asdict(o) for o in outcomes],
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str),
                                       encoding="utf-8")
    (tmp / "index.html").write_text(_pages.index_html(
        sc, outcomes, collected, complete=ok, params=sc.values, schema=union,
        description=_scenario_description(sc.path), reserved=RESERVED_PARAMETERS,
        good_report=sc.name if final.exists() else None, run_seconds=seconds,
        compare_href=f"../{COMPARE_PAGE}" if compare else None, stamp=_stamp()),
        encoding="utf-8")
    if ok:
        _replace_dir(tmp, final)
        if failed_dir.exists():
            shutil.rmtree(failed_dir, ignore_errors=True)
        log(f"{sc.name}: report complete: {final / 'index.html'}")
        report = final
    else:
        _replace_dir(tmp, failed_dir)
        for o in outcomes:
            if not o.ok:
                log(f"{sc.name}: notebook {o.name!r} failed: {o.error}")
        kept = f"the previous report {final} is unchanged" if final.exists() else \
            "there is no previous report"
        log(f"{sc.name}: run FAILED; partial output kept in {failed_dir} (failing cells "
            f"marked); {kept}")
        report = failed_dir
    return ScenarioOutcome(sc.name, ok, report, outcomes, seconds)


def _print_times(finished, total_seconds, log):
    for so in finished:
        log(f"time per notebook ({so.name}):")
        for o in sorted(so.notebooks, key=lambda o: -o.seconds):
            state = "ok" if o.ok else "FAILED"
            log(f"  {o.name:<36} {o.seconds:7.1f} s  (execute {o.execute_seconds:5.1f} s)  "
                f"{state}")
    log(f"total {total_seconds:.1f} s")


# --------------------------------------------------------------------------------------------
# In place (make notebooks)
# --------------------------------------------------------------------------------------------

def run_in_place(*, notebooks_dir=None, notebooks=None, jobs=None, cell_timeout=600,
                 failed_dir="reports/in-place-failed", log=print):
    """Re-execute the stored notebooks with their defaults and save them where they are.

    A notebook is replaced only when it ran to the end; a failing one stays as it was and its
    partial copy (failing cell marked) goes to ``failed_dir``. Run metadata (timestamps) is
    left out so that re-running changes only what the code computes.

    Returns
    -------
    list of NotebookOutcome
    """
    t_start = time.perf_counter()
    nb_dir = Path(notebooks_dir).resolve() if notebooks_dir else NOTEBOOKS_DIR
    paths = discover_notebooks(nb_dir, notebooks)
    suite_schema(paths)  # readable parameters cells, before anything runs
    names = [p.stem for p in paths]
    if SUMMARY_NOTEBOOK in names:
        # the stored summary reads the stored result rows: refresh them first
        refresh_stored_results(notebooks_dir=nb_dir, jobs=jobs, cell_timeout=cell_timeout,
                               log=log)
    alone = {p.stem: _is_exclusive(p) for p in paths}
    outcomes = []
    pool = None
    with _Signals() as signals:
        try:
            pool = _LocalPool(min(jobs or _default_jobs(), len(names)))
            log(f"re-executing {len(names)} notebook(s) in place on {pool.jobs} {pool.kind}")
            sched = _Scheduler(pool, signals, log)
            waiting = sorted(names, key=lambda n: (not alone[n], n == SUMMARY_NOTEBOOK))
            done = 0
            while done < len(names):
                for n in list(waiting):
                    if n == SUMMARY_NOTEBOOK and len(waiting) > 1:
                        continue
                    if n == SUMMARY_NOTEBOOK and sched.running:
                        continue
                    if not sched.can_start(alone[n]):
                        if alone[n]:
                            break
                        continue
                    waiting.remove(n)
                    sched.submit(("in-place", n), {
                        "scenario": "in-place", "name": n, "path": str(nb_dir / f"{n}.ipynb"),
                        "cwd": str(nb_dir), "parameters": {}, "results_path": False,
                        "results_inputs": None, "html": False, "images": (),
                        "cell_timeout": cell_timeout, "strip_metadata": True}, alone[n])
                key, res, crash = sched.next_done()
                done += 1
                n = key[1]
                if res is None:
                    o = NotebookOutcome("in-place", n, False, error=f"worker died ({crash})")
                else:
                    o = NotebookOutcome("in-place", n, res["ok"], error=res["error"],
                                        seconds=res["seconds"],
                                        execute_seconds=res["execute_seconds"])
                with signals.critical():
                    if res is not None and res["ok"]:
                        target = nb_dir / f"{n}.ipynb"
                        fd, tmpf = tempfile.mkstemp(dir=nb_dir, prefix=f".{n}.", suffix=".tmp")
                        with os.fdopen(fd, "w", encoding="utf-8") as fh:
                            fh.write(res["notebook"])
                        os.replace(tmpf, target)
                    elif res is not None and res["notebook"]:
                        _write_bytes(Path(failed_dir) / f"{n}.ipynb", res["notebook"])
                outcomes.append(o)
                mark = "saved" if o.ok else f"FAILED (kept as it was): {o.error}"
                log(f"[{done}/{len(names)} {_bar(done, len(names))}] {n}: {mark} "
                    f"({o.seconds:.1f} s)")
        except BaseException:
            if pool is not None:
                pool.close(abort=True)
                pool = None
            raise
        finally:
            if pool is not None:
                pool.close()
    log(f"total {time.perf_counter() - t_start:.1f} s")
    return outcomes


#: Folder (inside the notebooks folder) of the result rows the stored summary reads.
STORED_RESULTS_DIR = "results"


def refresh_stored_results(*, notebooks_dir=None, jobs=None, cell_timeout=600, log=print):
    """Run every notebook but the summary with its defaults and store its result rows.

    The rows go to ``<notebooks_dir>/results/<notebook>.csv`` (one file per notebook, written
    atomically), the folder the stored ``summary`` notebook reads by default; the run itself
    is a ``base`` report in a temporary folder, so the notebooks stay as they are.

    Raises
    ------
    ReportError
        A notebook failed; the stored rows are left as they were.
    """
    nb_dir = Path(notebooks_dir).resolve() if notebooks_dir else NOTEBOOKS_DIR
    others = [p.stem for p in discover_notebooks(nb_dir) if p.stem != SUMMARY_NOTEBOOK]
    with tempfile.TemporaryDirectory(prefix="econ-results-") as tmp:
        done = run_reports(["base"], out=tmp, notebooks_dir=nb_dir, notebooks=others,
                           jobs=jobs, images=(), cell_timeout=cell_timeout, log=log)
        bad = [o for sc in done for o in sc.notebooks if not o.ok]
        if not done or bad or not (Path(tmp) / "base" / "results.csv").exists():
            raise ReportError("stored result rows not refreshed: "
                              + ("; ".join(f"{o.name}: {o.error}" for o in bad) or "no report"))
        collected = _results.read_results(Path(tmp) / "base" / "results.csv")
    out_dir = nb_dir / STORED_RESULTS_DIR
    out_dir.mkdir(exist_ok=True)
    for name, rows in collected.groupby("notebook", sort=True):
        _results.write_results(rows.reset_index(drop=True), out_dir / f"{name}.csv")
    for stale in out_dir.glob("*.csv"):
        if stale.stem not in set(collected["notebook"]):
            stale.unlink()
    log(f"stored the result rows of {collected['notebook'].nunique()} notebook(s) in {out_dir}")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def _parser():
    p = argparse.ArgumentParser(
        prog="python -m econ.reports",
        description="Execute every notebook under one or more scenarios and write "
                    "reports/<scenario>/: executed notebooks, offline HTML, static chart "
                    "images, results.csv and index.html.",
        epilog="Scenario files are notebooks/scenarios/<name>.yaml ('name: value  # why' "
               "lines); --list shows them and every parameter they may set. Exit status: 0 "
               "all reports complete; 1 a notebook failed (the previous report is kept); 2 a "
               "bad scenario, notebook name or output folder (nothing ran); 130/143 "
               "interrupted.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario name(s), or 'all' (default: base)")
    p.add_argument("--out", default="reports", help="folder of the reports (default: reports)")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="notebooks run at once (default: the machine's cores)")
    p.add_argument("--dask-address", default=None, metavar="ADDR",
                   help="run the notebooks on this Dask scheduler (tcp://host:8786) instead "
                        "of local processes; workers need the repository at the same path")
    p.add_argument("--notebooks", nargs="+", metavar="NAME", default=None,
                   help="only these notebooks (file names without .ipynb)")
    p.add_argument("--notebooks-dir", default=None, metavar="DIR",
                   help=f"folder of the notebooks (default: {NOTEBOOKS_DIR})")
    p.add_argument("--scenarios-dir", default=None, metavar="DIR",
                   help="folder of the scenario files (default: <notebooks-dir>/scenarios)")
    p.add_argument("--images", default="svg,png", metavar="FORMATS",
                   help="static images of each chart: 'svg,png' (default), 'svg', 'png' or "
                        "'none'")
    p.add_argument("--cell-timeout", type=float, default=600.0, metavar="SECONDS",
                   help="fail a notebook whose cell runs longer (default: 600)")
    p.add_argument("--check", action="store_true",
                   help="validate the scenario files against the notebooks and exit")
    p.add_argument("--list", action="store_true",
                   help="list the scenarios and every parameter a scenario may set, and exit")
    p.add_argument("--in-place", action="store_true",
                   help="re-execute the stored notebooks with their defaults and save them "
                        "in place (make notebooks); a failing one is left as it was")
    return p


def main(argv=None):
    """Command line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    log = _printer()
    try:
        images = () if args.images.strip() == "none" else tuple(
            f.strip() for f in args.images.split(",") if f.strip())
        if args.jobs is not None and args.jobs < 1:
            raise ReportError(f"--jobs must be >= 1, got {args.jobs}")
        if args.cell_timeout <= 0:
            raise ReportError(f"--cell-timeout must be > 0, got {args.cell_timeout:g}")
        nb_dir = Path(args.notebooks_dir) if args.notebooks_dir else NOTEBOOKS_DIR
        sc_dir = Path(args.scenarios_dir) if args.scenarios_dir else nb_dir / "scenarios"
        if args.in_place:
            if args.scenarios:
                raise ReportError("--in-place runs the notebooks with their defaults; give no "
                                  "scenario")
            outs = run_in_place(notebooks_dir=nb_dir, notebooks=args.notebooks, jobs=args.jobs,
                                cell_timeout=args.cell_timeout,
                                failed_dir=Path(args.out) / "in-place-failed", log=log)
            bad = [o for o in outs if not o.ok]
            for o in bad:
                log(f"error: notebook {o.name!r} failed: {o.error}")
            return EXIT_FAILED if bad else EXIT_OK
        if args.list or args.check:
            paths = discover_notebooks(nb_dir, args.notebooks)
            per, union = suite_schema(discover_notebooks(nb_dir))
            if args.list:
                log(f"scenarios in {sc_dir}: {', '.join(_scenarios.scenario_names(sc_dir)) or '(none)'}")
                log(f"parameters of {len(paths)} notebook(s) in {nb_dir}:")
                for k in sorted(union):
                    p = union[k]
                    tag = "  (set by the report run)" if k in RESERVED_PARAMETERS else ""
                    log(f"  {k}: {p.allowed()} = {p.default!r}  # {p.help}{tag}")
            if args.check:
                loaded = load_scenarios(args.scenarios or ["base"], union, sc_dir)
                check_setups(loaded, per, [Path(p).stem for p in paths])
                log(f"ok: {', '.join(s.name for s in loaded)} valid for {len(paths)} notebook(s)")
            return EXIT_OK
        done = run_reports(args.scenarios or ["base"], out=args.out, notebooks_dir=nb_dir,
                           scenarios_dir=sc_dir, notebooks=args.notebooks, jobs=args.jobs,
                           dask_address=args.dask_address, images=images,
                           cell_timeout=args.cell_timeout, log=log)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # disk full, folder removed under the run ...
        print(f"error: cannot write the report: {exc}; no partial report was kept and the "
              f"previous reports are unchanged", file=sys.stderr)
        return EXIT_FAILED
    except Interrupted as exc:
        print(f"interrupted ({signal.Signals(exc.signum).name}): no report written; previous "
              f"reports kept", file=sys.stderr)
        return 128 + exc.signum
    failed = [(s.name, o) for s in done for o in s.notebooks if not o.ok]
    for scen, o in failed:
        print(f"error: scenario {scen!r}: notebook {o.name!r} failed: {o.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _printer():
    def log(msg):
        print(msg, flush=True)
    return log


if __name__ == "__main__":
    sys.exit(main())
