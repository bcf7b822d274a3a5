"""`bmabot stats`: applications per day and time to a first decision, in text and a chart."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.storage.crypto import Vault
from tests.webhooks.admin_world import (
    SOMSRI,
    SOMSRI_FORM,
    Sessions,
    admin,
    bmabot,
    decide_now,
    submit,
)
from webhooks.admin.arguments import day
from webhooks.cli import main

__all__ = ["admin"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def busy_days(sessions: Sessions, vault: Vault, clock: ManualClock) -> None:
    """25 Nov: two applications, decided in 2 h and 6 h; 26 Nov: one, expired after 10 h."""
    first = await submit(sessions, vault, clock)  # 25 Nov 10:00 Bangkok
    second = await submit(
        sessions, vault, clock, fields=SOMSRI_FORM, national_id=SOMSRI, user_id="U2"
    )
    clock.advance(hours=2)
    await decide_now(sessions, clock, first.application_id, "approve")
    clock.advance(hours=4)
    await decide_now(sessions, clock, second.application_id, "reject", reason="not_staff")
    clock.advance(hours=18)  # 26 Nov 10:00
    third = await submit(sessions, vault, clock, national_id=SOMSRI, user_id="U3")  # was refused
    clock.advance(hours=10)
    await decide_now(sessions, clock, third.application_id, "expire")  # the system, not a person


async def test_stats_counts_each_day_and_times_the_first_decisions(
    admin: Path, busy_days: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("stats", "--days", "3", "--until", "2569-11-26") == 0

    out = capsys.readouterr().out
    assert "applications per day, 24/11/2569 to 26/11/2569 (Bangkok)" in out
    assert "24/11/2569 Tue  0" in out
    assert "25/11/2569 Wed  2" in out
    assert "26/11/2569 Thu  1" in out
    assert "total 3, 1.0 a day" in out
    assert "time to first decision (2 decision(s)): median 4.0 h, p90 6.0 h" in out


async def test_stats_draws_a_png_chart(
    admin: Path, busy_days: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "stats.png"

    assert await bmabot("stats", "--until", "2026-11-30", "--chart", str(chart)) == 0

    assert chart.read_bytes().startswith(PNG_MAGIC)
    assert f"chart: {chart}" in capsys.readouterr().out


async def test_stats_of_quiet_days_say_there_was_no_decision(
    admin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "quiet.png"

    assert await bmabot("stats", "--days", "1", "--chart", str(chart)) == 0

    assert "time to first decision: no decision in these days" in capsys.readouterr().out
    assert chart.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("days", ["0", "-3", "many"])
def test_stats_refuses_a_window_of_no_days(days: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", "--days", days])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("2569-11-26", date(2026, 11, 26)),  # as the output shows it: Buddhist era
        ("2026-11-26", date(2026, 11, 26)),
        ("2567-02-29", date(2024, 2, 29)),  # a leap day of 2024, though 2567 CE is no leap year
    ],
)
def test_a_day_is_typed_with_a_buddhist_or_christian_year(typed: str, meant: date) -> None:
    assert day(typed) == meant


@pytest.mark.parametrize("typed", ["26/11/2569", "2569-02-30", "yesterday"])
def test_a_day_that_is_no_day_is_refused(typed: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        day(typed)
