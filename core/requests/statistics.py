"""How busy the service is: applications per day and how long a first decision takes."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import BANGKOK
from core.storage.models import Application, Decision


@dataclass(frozen=True, slots=True)
class ServiceStatistics:
    per_day: tuple[tuple[date, int], ...]  # every Bangkok day of the window, zeros included
    decision_hours: tuple[float, ...]  # submission to first decision, decided in the window

    @property
    def submitted(self) -> int:
        return sum(count for _, count in self.per_day)

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.decision_hours) if self.decision_hours else None

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.decision_hours, 0.9)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least `fraction` of all values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def window(last_day: date, days: int) -> tuple[date, date]:
    """The first and last Bangkok day of `days` days ending with last_day."""
    if days < 1:
        raise ValueError("a window has at least one day")
    return last_day - timedelta(days=days - 1), last_day


async def service_statistics(
    session: AsyncSession, first_day: date, last_day: date
) -> ServiceStatistics:
    """Days are Bangkok days; expiry is the system's doing, not a decision, and is left out."""
    start, end = _bangkok_midnight(first_day), _bangkok_midnight(last_day + timedelta(days=1))
    submitted = await session.scalars(
        select(Application.submitted_at).where(
            Application.submitted_at >= start, Application.submitted_at < end
        )
    )
    counts = Counter(moment.astimezone(BANGKOK).date() for moment in submitted)
    days = (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
    decided = await session.execute(
        select(Application.submitted_at, Decision.decided_at)
        .join(Decision, Decision.application_id == Application.id)
        .where(
            Decision.round == 1,  # a later round starts at a resubmission, not at submitted_at
            Decision.outcome != "expire",
            Decision.decided_at >= start,
            Decision.decided_at < end,
        )
    )
    return ServiceStatistics(
        tuple((day, counts[day]) for day in days),
        tuple((done - sent).total_seconds() / 3600 for sent, done in decided),
    )


def _bangkok_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BANGKOK)
