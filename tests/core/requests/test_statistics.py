"""The numbers behind `bmabot stats`: nearest-rank percentiles and day windows."""

from __future__ import annotations

from datetime import date

import pytest

from core.requests.statistics import percentile, window


def test_p90_of_ten_values_is_the_ninth() -> None:
    assert percentile([float(n) for n in range(10, 0, -1)], 0.9) == 9.0


def test_a_percentile_of_one_value_is_that_value() -> None:
    assert percentile([5.0], 0.9) == 5.0


def test_a_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.9) is None


def test_a_window_ends_on_its_last_day() -> None:
    assert window(date(2026, 11, 26), 3) == (date(2026, 11, 24), date(2026, 11, 26))


def test_a_window_has_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        window(date(2026, 11, 26), 0)
