"""Shared test set-up: hypothesis profiles, the reliability tally, the offline guard.

How the tests are laid out: each module ``econ/<name>.py`` has its tests in
``tests/test_<name>.py`` (``_checks`` in ``test_checks.py``), and only there. The other test
files test something that is not one module: a data table (``test_data_<table>.py``), the
notebooks (``test_notebooks.py``, ``test_notebook_runs.py``, ``test_nbval_tolerance.py``), or the
package as a whole (``test_import``, ``test_layers``, ``test_lint``, ``test_safety``,
``test_offline``, ``test_environment``, ``test_wheel``, ``test_browser``, ``test_lab``,
``test_reliability_inputs``). tests/test_layers.py checks this layout.
"""
import collections
import os

import pytest
import pytest_socket
from hypothesis import HealthCheck, settings

# CI machines are small and shared: no per-example deadline, fewer examples, same checks.
settings.register_profile("ci", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_TALLY = collections.defaultdict(lambda: [0, 0])


@pytest.fixture
def reliability_log():
    """Record one reliability check: ``reliability_log(category, handled: bool)``."""
    def log(category, handled):
        _TALLY[category][0] += 1
        _TALLY[category][1] += bool(handled)
    return log


def pytest_terminal_summary(terminalreporter):
    if not _TALLY:
        return
    tr = terminalreporter
    tr.section("reliability summary")
    for category, (tried, handled) in sorted(_TALLY.items()):
        tr.write_line(f"{category:55s} {handled:6d} of {tried:6d} handled")
    tr.write_line(f"{'offline (sockets past loopback refused in-process)':55s} "
                  f"{'held' if not _BLOCKED else 'BROKEN: ' + ', '.join(sorted(set(_BLOCKED)))}")


@pytest.fixture(autouse=True)
def _tally_marked(request):
    """A test marked ``reliability(category=...)`` counts as one case of that category."""
    yield
    marker = request.node.get_closest_marker("reliability")
    category = marker.kwargs.get("category") if marker else None
    if category:
        rep = getattr(request.node, "rep_call", None)
        _TALLY[category][0] += 1
        _TALLY[category][1] += bool(rep is not None and rep.passed)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (fixtures read ``rep_call``)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# --- offline: nothing in the test process may reach past this machine ------------------------
# pytest-socket refuses connections past loopback (pyproject.toml: --allow-hosts
# 127.0.0.0/8,::1,localhost --allow-unix-socket); kernels and Chromium run in subprocesses and
# reach the test only over loopback. Each refused attempt is recorded here, also when the code
# under test catches the error, so the reliability summary can say whether the guard held.

_BLOCKED = []


class _RecordedBlock(pytest_socket.SocketConnectBlockedError):
    def __init__(self, allowed, host, *args, **kwargs):
        _BLOCKED.append(str(host))
        super().__init__(allowed, host, *args, **kwargs)


_RecordedBlock.seen = _BLOCKED  # for tests/test_offline.py (two conftest modules exist)
pytest_socket.SocketConnectBlockedError = _RecordedBlock


def pytest_configure(config):
    if not config.getoption("--allow-hosts"):
        raise pytest.UsageError("the tests run offline: pass --allow-hosts (pyproject.toml's "
                                "addopts does) so pytest-socket refuses sockets past loopback")


@pytest.fixture
def published_results():
    """A results table of two notebooks: rows within, outside and without a published figure,
    and one whose published figure is 0 (its ratio undefined)."""
    import pandas as pd

    import econ
    a = econ.results_frame("nb_a", [
        dict(metric="training_cost_usd", subject="x", value=100.0, published_value=100.2),
        dict(metric="serving_cost_usd_per_day", subject="x", value=150.0, published_value=100.0),
        dict(metric="decode_tok_per_s", subject="y", value=3.0),
    ])
    b = econ.results_frame("nb_b", [
        dict(metric="cost_usd_per_mtok", subject="z", value=1.0, published_value=0.0),
    ])
    return econ.validate_results(pd.concat([a, b], ignore_index=True))


def _float_array_series(f, x, expected=None):
    """``f`` returns a float for a float, an array for an array and a Series (same index) for
    a Series, with the same values (``expected`` when given, else the float's)."""
    import numpy as np
    import pandas as pd

    out = f(x)
    assert isinstance(out, float) and np.isfinite(out)
    want = out if expected is None else expected
    np.testing.assert_allclose(out, want)
    arr = f(np.array([x, x]))
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)
    np.testing.assert_allclose(arr, want)
    s = f(pd.Series([x, x], index=["a", "b"]))
    assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
    np.testing.assert_allclose(s.to_numpy(), want)


@pytest.fixture
def float_array_series():
    """The check that a public function keeps its input's kind (float, array, Series)."""
    return _float_array_series


@pytest.fixture()
def scen_dir(tmp_path):
    """A scenarios folder holding ``base.yaml`` for the fixture notebooks (scale 1.0)."""
    d = tmp_path / "scenarios"
    d.mkdir()
    (d / "base.yaml").write_text("scale: 1.0  # the default\n")
    return d
