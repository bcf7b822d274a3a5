"""The inbox: platform events stored once under their platform id, then handled in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.db import dialect_insert
from core.models import InboxEvent

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True, slots=True)
class NewEvent:
    key: str  # unique per platform event: "line:<webhookEventId>", "telegram:<update_id>"
    channel: str
    user_id: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    channel: str
    user_id: str
    payload: dict[str, Any]
    received_at: datetime
    attempts: int


def _context(key: str) -> str:
    return f"inbox:{key}"


async def store_events(
    session: AsyncSession, vault: Vault, events: Iterable[NewEvent], now: datetime
) -> int:
    """Insert the events not seen before; a redelivered one is dropped. Returns how many new."""
    stored = 0
    for event in events:
        insert = dialect_insert(session, InboxEvent).values(
            key=event.key,
            channel=event.channel,
            user_id=event.user_id,
            payload=vault.encrypt_json(dict(event.payload), context=_context(event.key)),
            received_at=now,
        )
        result = await session.execute(insert.on_conflict_do_nothing(index_elements=["key"]))
        stored += result.rowcount or 0  # type: ignore[attr-defined]
    return stored


async def people_waiting(session: AsyncSession, limit: int = 500) -> list[tuple[str, str]]:
    """Whose events are pending, the longest-waiting first."""
    rows = await session.execute(
        select(InboxEvent.channel, InboxEvent.user_id)
        .where(InboxEvent.status == PENDING)
        .group_by(InboxEvent.channel, InboxEvent.user_id)
        .order_by(func.min(InboxEvent.id))
        .limit(limit)
    )
    return [(channel, user_id) for channel, user_id in rows]


async def next_event(
    session: AsyncSession, vault: Vault, channel: str, user_id: str
) -> StoredEvent | None:
    """The oldest pending event of one person: events are handled in the order received."""
    row = await session.scalar(
        select(InboxEvent)
        .where(
            InboxEvent.status == PENDING,
            InboxEvent.channel == channel,
            InboxEvent.user_id == user_id,
        )
        .order_by(InboxEvent.id)
        .limit(1)
    )
    if row is None:
        return None
    payload = vault.decrypt_json(row.payload, context=_context(row.key))
    return StoredEvent(row.id, row.channel, row.user_id, payload, row.received_at, row.attempts)


async def finish_event(
    session: AsyncSession, event_id: int, now: datetime, *, failed: bool = False
) -> None:
    await session.execute(
        update(InboxEvent)
        .where(InboxEvent.id == event_id)
        .values(
            status=FAILED if failed else DONE,
            handled_at=now,
            attempts=InboxEvent.attempts + 1,
        )
    )


async def pending_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(InboxEvent).where(InboxEvent.status == PENDING)
    )
    return int(count or 0)
