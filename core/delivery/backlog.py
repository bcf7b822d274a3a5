"""How much work waits: the inbox, the outbox and the jobs, for /metrics and /healthz."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.delivery.inbox import oldest_pending, pending_count
from core.delivery.jobs import FAILED
from core.delivery.outbox import unsent_count
from core.storage.models import Job

# Past these the service is degraded: events wait longer than people will (LINE's reply
# token lasts a minute), or a job failed for good and waits for a person to retry it.
INBOX_OLDEST_SECONDS = 30.0
INBOX_PENDING = 5000


@dataclass(frozen=True, slots=True)
class Backlog:
    inbox_pending: int
    inbox_oldest_seconds: float
    outbox_unsent: int
    jobs: dict[tuple[str, str], int]  # (kind, state): how many

    @property
    def jobs_failed(self) -> int:
        return sum(count for (_, state), count in self.jobs.items() if state == FAILED)

    def problems(self) -> list[str]:
        found = []
        if self.inbox_oldest_seconds > INBOX_OLDEST_SECONDS or self.inbox_pending > INBOX_PENDING:
            found.append("inbox_backlog")
        if self.jobs_failed:
            found.append("jobs_failed")
        return found

    def gauges(self) -> dict[str, float]:
        return {
            "bmabot_inbox_pending": self.inbox_pending,
            "bmabot_inbox_oldest_seconds": self.inbox_oldest_seconds,
            "bmabot_outbox_unsent": self.outbox_unsent,
        }


async def read_backlog(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> Backlog:
    async with sessions() as session:
        oldest = await oldest_pending(session)
        jobs = await session.execute(
            select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
        )
        return Backlog(
            inbox_pending=await pending_count(session),
            inbox_oldest_seconds=0.0
            if oldest is None
            else max(0.0, (clock.now() - oldest).total_seconds()),
            outbox_unsent=await unsent_count(session),
            jobs={(kind, state): int(count) for kind, state, count in jobs},
        )
