"""Every morning: expire what nobody decided in time, remind the reviewers, tidy drafts."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from bot.flows.outgoing import Card, Text
from bot.handlers.drafts import tidy_drafts
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.clock import BANGKOK
from core.delivery.job_kinds import MORNING_ROUND
from core.delivery.jobs import ClaimedJob, enqueue
from core.requests.decisions import Decided, decide
from core.requests.retention import documents_decided, purge
from core.requests.review_queries import waiting
from core.storage.db import Session

logger = logging.getLogger(__name__)
MORNING = time(8, 0)


def next_morning(now: datetime) -> datetime:
    local = now.astimezone(BANGKOK)
    today = datetime.combine(local.date(), MORNING, tzinfo=BANGKOK)
    return today if local < today else today + timedelta(days=1)


async def plan_next_morning(session: Session, now: datetime) -> None:
    """One morning job a day, whoever plans it: the key is the date."""
    morning = next_morning(now)
    await enqueue(
        session,
        kind=MORNING_ROUND,
        key=MORNING_ROUND.key(morning.date().isoformat()),
        payload={},
        now=now,
        run_at=morning,
    )


class Morning:
    def __init__(
        self, services: Services, remind_after: timedelta, expire_after: timedelta
    ) -> None:
        self.services = services
        self.remind_after = remind_after
        self.expire_after = expire_after

    async def __call__(self, job: ClaimedJob) -> None:
        services, now = self.services, self.services.clock.now()
        async with services.sessions.begin() as session:
            await self._expire(session, now)
            await self._remind(session, now)
            await tidy_drafts(session, services, now)
            purged = await purge(session, services.documents, services.retention, now)
            logger.info(
                "retention: %d photo(s) of %d request(s) deleted, %d request(s) reduced",
                purged.documents,
                len(purged.documents_of),
                len(purged.reduced),
            )
            await plan_next_morning(session, now + timedelta(minutes=1))

    async def _expire(self, session: Session, now: datetime) -> None:
        for late in await waiting(session, submitted_before=now - self.expire_after):
            decided = await decide(
                session,
                application_id=late.application_id,
                outcome="expire",
                reviewer="system",
                now=now,
            )
            if isinstance(decided, Decided):
                services = self.services
                await documents_decided(
                    session, services.documents, services.retention, decided.application_id, now
                )
                told = Text("review.applicant.expired", {"reference": decided.reference})
                await tell(session, self.services, decided.channel, decided.user_id, [told])

    async def _remind(self, session: Session, now: datetime) -> None:
        late = await waiting(session, submitted_before=now - self.remind_after)
        policy = self.services.policy
        chats = {(channel, chat) for channel, chat in policy.review_chats.items()}
        chats |= set(policy.rights_chats.items())
        for channel, chat in sorted(chats):
            mine = [w for w in late if policy.chat_for(w.channel, w.kind) == chat]
            if not mine:
                continue
            lines = tuple(
                Text(
                    "review.pending_line",
                    {
                        "reference": w.reference,
                        "hours": str(int((now - w.submitted_at) / timedelta(hours=1))),
                    },
                )
                for w in mine
            )
            digest = Card(Text("review.digest_title", {"count": str(len(mine))}), lines)
            await tell(session, self.services, channel, chat, [digest])
