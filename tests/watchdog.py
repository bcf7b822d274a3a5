"""The last guard against a run that hangs: hooks that tests/conftest.py takes in.

pytest-timeout fails a test that overruns its limit (120 s, or its own
@pytest.mark.timeout) by raising inside it, once. If the teardown that follows hangs too (a
browser or a server that never closes), nothing would stop it and the run would print
nothing more, for ever. So each test also has a watchdog thread: still running GRACE_SECONDS
after its limit, the run ends with exit status 1, naming the test and printing every
thread's stack. `--timeout=0` (or a debugger) turns it off with the limits.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from collections.abc import Generator

import pytest

GRACE_SECONDS = 60.0
_watchdogs: list[threading.Timer] = []


def time_limit(item: pytest.Item) -> float:
    """The item's pytest-timeout limit in seconds (0: none): --timeout, its mark, the ini."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and (marker.args or "timeout" in marker.kwargs):
        return float(marker.args[0] if marker.args else marker.kwargs["timeout"])
    option = item.config.getoption("timeout", None)
    if option is not None:
        return float(option)
    return float(item.config.getini("timeout") or 0)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    limit = time_limit(item)
    if limit <= 0 or item.config.getoption("usepdb", False):
        return (yield)
    watchdog = threading.Timer(limit + GRACE_SECONDS, _end_the_run, (item, limit))
    watchdog.daemon = True
    watchdog.name = f"watchdog {item.nodeid}"
    _watchdogs.append(watchdog)
    watchdog.start()
    try:
        return (yield)
    finally:
        watchdog.cancel()
        _watchdogs.remove(watchdog)


@pytest.hookimpl(tryfirst=True)
def pytest_enter_pdb() -> None:
    """Someone is debugging: the watchdog must not end their session."""
    for watchdog in _watchdogs:
        watchdog.cancel()


def _end_the_run(item: pytest.Item, limit: float) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)  # the real stderr again, not the test's
    sys.stderr.write(
        f"\n\n{item.nodeid} is still running {GRACE_SECONDS:.0f} s after its {limit:.0f} s "
        "limit (its teardown hangs): ending the run. The stacks of every thread:\n"
    )
    sys.stderr.flush()
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    sys.stderr.flush()
    os._exit(1)
