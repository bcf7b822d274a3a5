"""Time as a port: the system clock in production, a clock the tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
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


def buddhist_year(moment: datetime) -> int:
    """The Thai (Buddhist era) year of a moment, in Bangkok time."""
    return moment.astimezone(BANGKOK).year + 543


def thai_date(moment: datetime) -> str:
    """'25/11/2569': day, month and Buddhist-era year, in Bangkok time."""
    local = moment.astimezone(BANGKOK)
    return f"{local.day}/{local.month}/{local.year + 543}"


def thai_date_time(moment: datetime) -> str:
    """'25/11/2569 10:00 น.': a Thai date and time of day, in Bangkok time."""
    local = moment.astimezone(BANGKOK)
    return f"{thai_date(moment)} {local:%H:%M} น."
