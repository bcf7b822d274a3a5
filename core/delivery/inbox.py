"""The inbox: platform events stored once under their platform id, then handled in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Select, Subquery, Table, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from core.storage.crypto import Vault, VaultError
from core.storage.db import insert_for, on_connection, one_of, table_of
from core.storage.models import InboxEvent

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
    key: str
    channel: str
    user_id: str
    payload: dict[str, Any]
    received_at: datetime
    attempts: int
    unreadable: bool = False  # its payload cannot be decrypted: quarantined, never retried


def _context(key: str) -> str:
    return f"inbox:{key}"


async def store_events(
    session: AsyncSession, vault: Vault, events: Iterable[NewEvent], now: datetime
) -> set[str]:
    """Insert the events not seen before; a redelivered one is dropped.

    Returns the keys stored now: a key given twice is stored once.
    """
    rows = event_rows(vault, events, now)
    if not rows:
        return set()
    return set(await session.scalars(events_insert(session.get_bind().dialect.name), rows))


def store_events_on(
    connection: Connection, vault: Vault, events: Iterable[NewEvent], now: datetime
) -> set[str]:
    """store_events on a synchronous connection (SQLite's writer thread)."""
    rows = event_rows(vault, events, now)
    if not rows:
        return set()
    return set(connection.scalars(events_insert(connection.dialect.name), rows))


def event_rows(vault: Vault, events: Iterable[NewEvent], now: datetime) -> list[dict[str, Any]]:
    """One row per key, its payload encrypted; every column given, so that no default is
    computed row by row."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.key not in rows:
            rows[event.key] = {
                "key": event.key,
                "channel": event.channel,
                "user_id": event.user_id,
                "payload": vault.encrypt_json(dict(event.payload), context=_context(event.key)),
                "received_at": now,
                "status": PENDING,
                "attempts": 0,
                "handled_at": None,
            }
    return list(rows.values())


@cache
def events_insert(dialect: str) -> ReturningInsert[tuple[str]]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING key, run with a list of rows.

    Compiled once and kept in SQLAlchemy's statement cache; SQLAlchemy sends the rows as
    one multi-row INSERT ("insertmanyvalues"). A statement built with .values([...rows])
    would be compiled anew for every batch.
    """
    table = table_of(InboxEvent)
    insert = insert_for(dialect, table).on_conflict_do_nothing(index_elements=["key"])
    return insert.returning(table.c.key)


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
    return await on_connection(
        session, partial(next_events_on, vault=vault, channels=channels, limit=limit)
    )


def next_events_on(
    connection: Connection,
    vault: Vault,
    channels: Iterable[str],
    limit: int,
    skip: Sequence[str] = (),
) -> list[StoredEvent]:
    """The oldest pending event of each of up to `limit` people, the longest-waiting first.

    One event a person: their next one is read once this one is handled, so each person's
    events are handled in the order received. A person whose oldest pending event's key is
    in `skip` (its photo still on its way) is left out, with all their later events.
    """
    table = table_of(InboxEvent)
    window = _window(table, channels, limit, skip)
    oldest = (
        select(func.min(window.c.id))
        .group_by(window.c.channel, window.c.user_id)
        .order_by(func.min(window.c.id))
        .limit(limit)
    )
    if skip:
        oldest = oldest.having(func.min(window.c.id).not_in(_ids_of(connection, table, skip)))
    ids = list(connection.scalars(oldest))
    if not ids:
        return []
    chosen = one_of(connection.dialect.name, table.c.id, ids)
    rows = connection.execute(select(table).where(chosen).order_by(table.c.id))
    return [_stored(row, vault) for row in rows]


def _window(table: Table, channels: Iterable[str], limit: int, skip: Sequence[str]) -> Subquery:
    """The oldest pending events, as many as `limit` people's next ones may need.

    Only the oldest are looked at: a round's work stays the same however long the backlog
    (index ix_inbox_events_arrival).
    """
    return (
        select(table.c.id, table.c.channel, table.c.user_id)
        .where(table.c.status == PENDING, table.c.channel.in_(list(channels)))
        .order_by(table.c.id)
        .limit((limit + len(skip)) * LOOK_AHEAD)  # the skipped have their events too
        .subquery()
    )


def _ids_of(connection: Connection, table: Table, keys: Sequence[str]) -> Select[tuple[int]]:
    """The ids of the events with these keys (the people whose oldest one it is sit out)."""
    return select(table.c.id).where(one_of(connection.dialect.name, table.c.key, keys))


def hold_next_events_on(
    connection: Connection,
    vault: Vault,
    channels: Iterable[str],
    limit: int,
    skip: Sequence[str] = (),
) -> tuple[list[StoredEvent], dict[tuple[str, str], int]]:
    """PostgreSQL: next_events_on, of people no other connection holds; each now held by
    this one (a session-level advisory lock on a hash of the person), with its lock's key.

    People are tried in the order their oldest event came, and only until `limit` are held:
    servers reading the same oldest events each take people the others have not.
    """
    table = table_of(InboxEvent)
    window = _window(table, channels, limit, skip)
    first = func.min(window.c.id)
    people = (
        select(
            first.label("first"),
            window.c.channel,
            window.c.user_id,
            func.hashtextextended(window.c.channel + ":" + window.c.user_id, 0).label("lock"),
        )
        .group_by(window.c.channel, window.c.user_id)
        .order_by(first)
    )
    if skip:
        people = people.having(first.not_in(_ids_of(connection, table, skip)))
    # The lock is tried in the outer query, row by row as its LIMIT takes them, so nobody
    # past the limit is locked. The subquery's own LIMIT keeps PostgreSQL from merging the
    # two (it would lock everyone in the window before sorting: measured, EXPLAIN).
    ordered = people.limit((limit + len(skip)) * LOOK_AHEAD).subquery()
    held = select(ordered).where(func.pg_try_advisory_lock(ordered.c.lock)).limit(limit)
    chosen = connection.execute(held).all()
    if not chosen:
        return [], {}
    locks = {(row.channel, row.user_id): int(row.lock) for row in chosen}
    ids = one_of(connection.dialect.name, table.c.id, [row.first for row in chosen])
    rows = connection.execute(select(table).where(ids).order_by(table.c.id))
    return [_stored(row, vault) for row in rows], locks


async def claim(session: AsyncSession, event_ids: Sequence[int]) -> set[int]:
    return await on_connection(session, partial(claim_on, event_ids=event_ids))


def claim_on(connection: Connection, event_ids: Sequence[int]) -> set[int]:
    """Which of these events are still pending, locked for this transaction.

    On PostgreSQL the rows are locked and the ones another process holds are skipped, so
    two servers never handle the same event; SQLite has one writer at a time anyway.
    """
    if not event_ids:
        return set()
    table = table_of(InboxEvent)
    pending = (one_of(connection.dialect.name, table.c.id, event_ids), table.c.status == PENDING)
    query = select(table.c.id).where(*pending)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return set(connection.scalars(query))


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


def _stored(row: Any, vault: Vault) -> StoredEvent:  # an InboxEvent or a row of its table
    """The event as stored; one whose payload cannot be decrypted (another key, a damaged
    row) comes back unreadable and empty, so that it alone is set aside, not the round."""
    try:
        payload = vault.decrypt_json(row.payload, context=_context(row.key))
    except (VaultError, ValueError):
        payload, unreadable = {}, True
    else:
        unreadable = False
    return StoredEvent(
        row.id,
        row.key,
        row.channel,
        row.user_id,
        payload,
        row.received_at,
        row.attempts,
        unreadable,
    )


async def finish_event(
    session: AsyncSession, event_id: int, now: datetime, *, failed: bool = False
) -> None:
    await finish_events(session, [event_id], now, status=FAILED if failed else DONE)


async def finish_events(
    session: AsyncSession, event_ids: Sequence[int], now: datetime, *, status: str = DONE
) -> None:
    await on_connection(
        session, partial(finish_events_on, event_ids=event_ids, now=now, status=status)
    )


def finish_events_on(
    connection: Connection, event_ids: Sequence[int], now: datetime, *, status: str = DONE
) -> None:
    """Mark events handled (done, failed or quarantined) in one statement."""
    if not event_ids:
        return
    table = table_of(InboxEvent)
    connection.execute(
        update(table)
        .where(one_of(connection.dialect.name, table.c.id, event_ids))
        .values(status=status, handled_at=now, attempts=table.c.attempts + 1)
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
