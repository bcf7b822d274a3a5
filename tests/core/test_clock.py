"""What a person reads of a moment: Bangkok time with the Buddhist-era year (core.clock)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from core.clock import buddhist_year, thai_date, thai_date_time, thai_day, thai_time

# 2026-11-25 03:00 UTC is 10:00 in Bangkok, B.E. 2569.
MORNING = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_a_moment_reads_as_bangkok_time_with_the_buddhist_year() -> None:
    assert thai_date_time(MORNING) == "25/11/2569 10:00 น."


def test_the_time_of_day_is_bangkok_time_for_sentences_that_add_the_unit() -> None:
    assert thai_time(MORNING) == "10:00"
    assert thai_time(MORNING + timedelta(seconds=5), seconds=True) == "10:00:05"


def test_a_utc_evening_is_already_the_next_day_and_year_in_bangkok() -> None:
    new_year = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert thai_date(new_year) == "1/1/2570"
    assert buddhist_year(new_year) == 2570
    assert thai_date_time(new_year) == "1/1/2570 00:30 น."


def test_a_moment_from_another_zone_is_shown_in_bangkok_all_the_same() -> None:
    in_london = MORNING.astimezone(timezone(timedelta(hours=0), "Europe/London"))
    assert thai_date_time(in_london) == thai_date_time(MORNING)


def test_a_calendar_day_gets_its_buddhist_year() -> None:
    assert thai_day(date(2024, 2, 29)) == "29/2/2567"


# Where a date is formatted outside core.clock on purpose: none of these is read by a person.
NOT_FOR_PEOPLE = {
    "core/audit/chain.py": "the canonical UTC form that the audit hashes sign",
    "webhooks/admin/export.py": "the default file name, sortable by its ISO date",
    "webhooks/admin/stats_chart.py": "the chart's axis (its Thai labels are a separate change)",
}
TIME_FORMAT = re.compile(r"strftime\(|:%[YymdHMSbB]")


def test_every_time_a_person_reads_comes_from_core_clock() -> None:
    root = Path(__file__).resolve().parents[2]
    formatting = sorted(
        str(path.relative_to(root))
        for package in ("core", "bot", "webhooks")
        for path in (root / package).rglob("*.py")
        if TIME_FORMAT.search(path.read_text(encoding="utf-8"))
    )
    assert [path for path in formatting if path not in NOT_FOR_PEOPLE] == ["core/clock.py"]
