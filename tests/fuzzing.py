"""What the fuzz tests generated and checked, counted for the summary at the end of the run.

`pytest -m fuzz` runs them alone; `--hypothesis-profile long` makes each draw many more.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import settings

COUNTS: Counter[str] = Counter()
SERVER_ERRORS = "webhook bodies answered with a 5xx"
UNHANDLED = "unhandled exceptions"
LONG_RUN = 200_000  # examples of each fuzz test under --hypothesis-profile long

settings.register_profile("long", max_examples=LONG_RUN, deadline=None)


def is_long() -> bool:
    return settings.default.max_examples >= LONG_RUN


def examples(in_ci: int) -> int:
    """How many examples a fuzz test makes: in_ci, or LONG_RUN under the long profile."""
    return LONG_RUN if is_long() else in_ci


def seed() -> int:
    """The seed of a fuzz test's generator: fixed in CI (the same every run), new when long."""
    return random.SystemRandom().randrange(2**32) if is_long() else 15


def timeout() -> Any:
    """A fuzz test's time limit: the suite's in CI, an hour a test when long."""
    return pytest.mark.timeout(3600 if is_long() else 120)


@contextmanager
def counting_failures() -> Iterator[None]:
    """Counts an exception out of the code under test (the test then fails on it)."""
    try:
        yield
    except AssertionError:
        raise  # a property that does not hold: the test says which
    except Exception:
        COUNTS[UNHANDLED] += 1
        raise


def summary() -> list[str]:
    """The lines for the terminal summary, when any fuzz test ran."""
    if not COUNTS:
        return []
    counts = {SERVER_ERRORS: 0, UNHANDLED: 0} | dict(COUNTS)
    return [f"fuzz: {name}: {count}" for name, count in sorted(counts.items())]
