"""The inbox: platform events stored once under their platform id, then handled in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.db import dialect_insert, table_of
from core.models import InboxEvent

PENDING, DONE, FAILED = "pending", "done", "failed"
LOOK_AHEAD = 20  # events looked at per person wanted in a round
QUARANTINED = "quarantined"  # stored, but no channel could read it: kept for a look, not retried


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
) -> set[str]:
    """Insert the events not seen before in one statement; a redelivered one is dropped.

    Returns the keys stored now: a key given twice is stored once.
    """
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        rows.setdefault(
            event.key,
            {
                "key": event.key,
                "channel": event.channel,
                "user_id": event.user_id,
                "payload": vault.encrypt_json(dict(event.payload), context=_context(event.key)),
                "received_at": now,
            },
        )
    if not rows:
        return set()
    table = table_of(InboxEvent)
    insert = dialect_insert(session, table).values(list(rows.values()))
    stored = await session.scalars(
        insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    )
    return set(stored)


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


async def next_events(
    session: AsyncSession, vault: Vault, channels: Iterable[str], limit: int
) -> list[StoredEvent]:
    """The oldest pending event of each of up to `limit` people, the longest-waiting first.

    One event a person: their next one is read once this one is handled, so each person's
    events are handled in the order received.
    """
    # Only the oldest events are looked at: a round's work stays the same however long
    # the backlog (index ix_inbox_events_arrival).
    window = (
        select(InboxEvent.id, InboxEvent.channel, InboxEvent.user_id)
        .where(InboxEvent.status == PENDING, InboxEvent.channel.in_(list(channels)))
        .order_by(InboxEvent.id)
        .limit(limit * LOOK_AHEAD)
        .subquery()
    )
    oldest = (
        select(func.min(window.c.id))
        .group_by(window.c.channel, window.c.user_id)
        .order_by(func.min(window.c.id))
        .limit(limit)
    )
    ids = list(await session.scalars(oldest))
    if not ids:
        return []
    rows = await session.scalars(
        select(InboxEvent).where(InboxEvent.id.in_(ids)).order_by(InboxEvent.id)
    )
    return [_stored(row, vault) for row in rows]


async def claim(session: AsyncSession, event_ids: Sequence[int]) -> set[int]:
    """Which of these events are still pending, locked for this transaction.

    On PostgreSQL the rows are locked and the ones another process holds are skipped, so
    two servers never handle the same event; SQLite has one writer at a time anyway.
    """
    if not event_ids:
        return set()
    query = select(InboxEvent.id).where(
        InboxEvent.id.in_(list(event_ids)), InboxEvent.status == PENDING
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return set(await session.scalars(query))


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
    return None if row is None else _stored(row, vault)


def _stored(row: InboxEvent, vault: Vault) -> StoredEvent:
    payload = vault.decrypt_json(row.payload, context=_context(row.key))
    return StoredEvent(row.id, row.channel, row.user_id, payload, row.received_at, row.attempts)


async def finish_event(
    session: AsyncSession, event_id: int, now: datetime, *, failed: bool = False
) -> None:
    await finish_events(session, [event_id], now, status=FAILED if failed else DONE)


async def finish_events(
    session: AsyncSession, event_ids: Sequence[int], now: datetime, *, status: str = DONE
) -> None:
    """Mark events handled (done, failed or quarantined) in one statement."""
    if not event_ids:
        return
    await session.execute(
        update(InboxEvent)
        .where(InboxEvent.id.in_(list(event_ids)))
        .values(status=status, handled_at=now, attempts=InboxEvent.attempts + 1)
    )


async def pending_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(InboxEvent).where(InboxEvent.status == PENDING)
    )
    return int(count or 0)


async def oldest_pending(session: AsyncSession) -> datetime | None:
    """When the longest-waiting pending event arrived (None: nothing waits)."""
    oldest: datetime | None = await session.scalar(
        select(func.min(InboxEvent.received_at)).where(InboxEvent.status == PENDING)
    )
    return oldest
