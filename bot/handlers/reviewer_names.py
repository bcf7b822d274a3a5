"""Reviewers named as their platform shows them (a LINE profile, a Telegram name): learned
outside any transaction, kept in the database, read by the review handler. The groups never
read a platform id; without a name they read a polite neutral label."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.flows.incoming import Incoming
from bot.handlers.services import Services
from core.audit.security_log import loggable
from core.requests.reviewer_names import KnownName, clean_name, known_names, remember_name
from core.storage.db import Session

logger = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=7)  # a reviewer changes a name rarely
RETRY_AFTER = timedelta(minutes=10)  # a profile the platform would not give: not asked at once
MAX_TRIED = 1000  # reviewers remembered as just tried, at most


@runtime_checkable
class ProfileSource(Protocol):
    """A channel that can say a person's name (LINE's profile API)."""

    async def display_name(self, incoming: Incoming) -> str | None:
        """The sender's name as the platform shows it; None when it will not say."""
        ...


def reviewer_of(incoming: Incoming) -> str:
    """The reviewer as decisions and the audit trail record them: "line:U…"."""
    return f"{incoming.channel}:{incoming.user_id}"


class ReviewerNames:
    def __init__(self, services: Services, sources: Mapping[str, ProfileSource]) -> None:
        self.services = services
        self.sources = sources
        self._tried: dict[str, datetime] = {}

    async def learn(self, incomings: Iterable[Incoming]) -> None:
        """Before the transaction that handles these events: each reviewer's name known and
        fresh. Never raises: a name is a courtesy, and the decision must not wait on it."""
        for incoming in incomings:
            if not self.services.policy.may_decide(incoming):
                continue  # talk in a group by someone who is not a reviewer: not kept
            try:
                await self._learn(incoming)
            except Exception as error:
                logger.warning(
                    "name of reviewer %s not learned: %s",
                    loggable(reviewer_of(incoming)),
                    type(error).__name__,
                )

    async def _learn(self, incoming: Incoming) -> None:
        reviewer, now = reviewer_of(incoming), self.services.clock.now()
        async with self.services.sessions() as session:
            known = (await known_names(session, self.services.vault, [reviewer])).get(reviewer)
        offered = clean_name(incoming.sender_name)  # Telegram says it with every event
        if offered is not None:
            if known is None or known.name != offered or self._stale(known, now):
                await self._remember(reviewer, offered, now)
            return
        source = self.sources.get(incoming.channel)
        if source is None or (known is not None and not self._stale(known, now)):
            return
        tried = self._tried.get(reviewer)
        if tried is not None and now - tried < RETRY_AFTER:
            return
        if len(self._tried) >= MAX_TRIED:
            self._tried.clear()
        self._tried[reviewer] = now
        name = clean_name(await source.display_name(incoming))
        if name is not None:
            await self._remember(reviewer, name, now)

    @staticmethod
    def _stale(known: KnownName, now: datetime) -> bool:
        return now - known.seen_at >= REFRESH_AFTER

    async def _remember(self, reviewer: str, name: str, now: datetime) -> None:
        async with self.services.sessions.begin() as session:
            await remember_name(session, self.services.vault, reviewer, name, now)


async def reviewer_labels(
    session: Session, services: Services, reviewers: Iterable[str]
) -> dict[str, str]:
    """How the groups name each reviewer: "ผู้ตรวจ <name>", or the neutral label."""
    wanted = set(reviewers)
    known = await known_names(session, services.vault, wanted)
    catalog = services.catalog
    return {
        reviewer: (
            catalog.text("review.reviewer.named", {"name": known[reviewer].name})
            if reviewer in known
            else catalog.text("review.reviewer.unnamed")
        )
        for reviewer in wanted
    }
