"""A run whose test overruns its limit and then hangs in its teardown ends, and says where."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

HANGING = """
import threading

import pytest


@pytest.fixture
def stuck():
    yield
    threading.Event().wait()  # a teardown that never ends, like a browser that never closes


@pytest.mark.timeout(1)
def test_overruns_then_hangs(stuck):
    threading.Event().wait()


def test_never_reached():
    pass
"""

CONFTEST = """
import tests.watchdog
from tests.watchdog import pytest_enter_pdb, pytest_runtest_protocol

tests.watchdog.GRACE_SECONDS = 1.0
"""
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def test_a_teardown_hanging_after_the_time_limit_ends_the_run_naming_the_test(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_hanging.py").write_text(HANGING)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "pytest.ini").write_text(INI)
    env = os.environ | {"PYTHONPATH": str(PROJECT)}
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_hanging.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert time.monotonic() - started < 30
    assert "test_hanging.py::test_overruns_then_hangs is still running 1 s after its 1 s" in (
        run.stderr
    )
    assert "in stuck" in run.stderr  # the stack shows where it hangs
    assert "test_never_reached" not in run.stdout + run.stderr
