import os

from hypothesis import HealthCheck, settings

# CI machines are small and shared: no per-example deadline, fewer examples, same checks.
settings.register_profile("ci", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

import collections

import pytest

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
