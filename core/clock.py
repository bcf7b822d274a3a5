"""Time as a port: the system clock in production, a clock the tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(slots=True)
class ManualClock:
    """A clock that only moves when told to: tests never sleep."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


# What a person reads: every date and time shown to applicants, reviewers and staff (chat
# replies, cards, the demo page, `bmabot` output, exports) goes through these, so that all of
# them are Bangkok time with Buddhist-era years (พ.ศ. = ค.ศ. + 543), never UTC.


def buddhist_year(moment: datetime) -> int:
    """The Thai (Buddhist era) year of a moment, in Bangkok time."""
    return moment.astimezone(BANGKOK).year + 543


def thai_day(day: date) -> str:
    """'25/11/2569': a calendar day with its Buddhist-era year."""
    return f"{day.day}/{day.month}/{day.year + 543}"


def thai_date(moment: datetime) -> str:
    """'25/11/2569': day, month and Buddhist-era year, in Bangkok time."""
    return thai_day(moment.astimezone(BANGKOK).date())


def thai_time(moment: datetime, *, seconds: bool = False) -> str:
    """'10:00' (or '10:00:05'): the time of day in Bangkok; the Thai sentence adds "น."."""
    local = moment.astimezone(BANGKOK)
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


def thai_date_time(moment: datetime, *, seconds: bool = False) -> str:
    """'25/11/2569 10:00 น.': a Thai date and time of day, in Bangkok time."""
    return f"{thai_date(moment)} {thai_time(moment, seconds=seconds)} น."
