"""The outbox: what to say to which chat, kept until the channel confirms it was delivered."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.crypto import Vault
from core.storage.db import on_connection, one_of, pair_in, table_of
from core.storage.entropy import random_bytes
from core.storage.models import OutboxMessage

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    channel: str
    chat_id: str
    messages: list[dict[str, Any]]
    reply_token: str | None
    reply_by: datetime | None
    retry_key: str
    attempts: int
    # Written by a process that was about to send it, and never marked after: it may have
    # gone out before that process stopped. A channel that can tell (LINE's reply token)
    # checks; one that cannot errs on the side of not saying it twice.
    maybe_sent: bool = False
    # Stored by this process to send at once: past this, another process may take it over,
    # so this one must not send it from memory any more (the retry round checks first).
    leased_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewOutgoing:
    """The replies of one turn, to be sent at once by the process that stores them."""

    channel: str
    chat_id: str
    messages: list[dict[str, Any]]
    reply_token: str | None
    reply_by: datetime | None
    inbox_event_id: int | None


# How long the process that stored a turn's replies has to send them before the retry
# round may take them over (after a crash): no two processes send the same row at once.
SENDING_LEASE = timedelta(seconds=20)


def _context(row_id: int | str) -> str:
    return f"outbox:{row_id}"


async def add_outgoing(
    session: AsyncSession,
    vault: Vault,
    *,
    channel: str,
    chat_id: str,
    messages: list[dict[str, Any]],
    now: datetime,
    reply_token: str | None = None,
    reply_by: datetime | None = None,
    inbox_event_id: int | None = None,
) -> int:
    retry_key = _retry_key()
    # Core, not session.add and a flush: the unit of work costs more than the INSERT.
    table = table_of(OutboxMessage)
    row_id = await session.scalar(
        insert(table)
        .values(
            channel=channel,
            chat_id=chat_id,
            inbox_event_id=inbox_event_id,
            payload=vault.encrypt_json(messages, context=_context(retry_key)),
            reply_token=reply_token,
            reply_by=reply_by,
            retry_key=retry_key,
            next_attempt_at=now,
            created_at=now,
        )
        .returning(table.c.id)
    )
    return int(row_id)


async def add_sending(
    session: AsyncSession,
    vault: Vault,
    batches: Sequence[NewOutgoing],
    now: datetime,
    lease: timedelta = SENDING_LEASE,
) -> list[Outgoing]:
    store = partial(add_sending_on, vault=vault, batches=batches, now=now, lease=lease)
    return await on_connection(session, store)


def add_sending_on(
    connection: Connection,
    vault: Vault,
    batches: Sequence[NewOutgoing],
    now: datetime,
    lease: timedelta = SENDING_LEASE,
) -> list[Outgoing]:
    """Store the replies of many turns in one statement, leased to this process to send now."""
    return add_sealed_on(connection, seal_sending(vault, batches, now, lease))


@dataclass(frozen=True, slots=True)
class SealedSending:
    """Replies ready to store: encrypting is the costly part, done beforehand."""

    batches: Sequence[NewOutgoing]
    keys: list[str]
    rows: list[dict[str, Any]]


def seal_sending(
    vault: Vault, batches: Sequence[NewOutgoing], now: datetime, lease: timedelta = SENDING_LEASE
) -> SealedSending:
    keys = [_retry_key() for _ in batches]
    rows = [
        {
            "channel": batch.channel,
            "chat_id": batch.chat_id,
            "inbox_event_id": batch.inbox_event_id,
            "payload": vault.encrypt_json(batch.messages, context=_context(key)),
            "reply_token": batch.reply_token,
            "reply_by": batch.reply_by,
            "retry_key": key,
            "next_attempt_at": now + lease,
            "created_at": now,
            # Every column given: no default computed row by row at insert.
            "status": PENDING,
            "attempts": 0,
            "sent_at": None,
            "last_error": None,
        }
        for batch, key in zip(batches, keys, strict=True)
    ]
    return SealedSending(batches, keys, rows)


def add_sealed_on(connection: Connection, sealed: SealedSending) -> list[Outgoing]:
    if not sealed.rows:
        return []
    # Matched by retry key, not by order: SQLite cannot promise RETURNING's order, and
    # asking SQLAlchemy for it would insert row by row.
    table = table_of(OutboxMessage)
    returned = connection.execute(
        insert(table).returning(table.c.retry_key, table.c.id), sealed.rows
    )
    ids: dict[str, int] = {key: row_id for key, row_id in returned}
    return [
        Outgoing(
            ids[key],
            b.channel,
            b.chat_id,
            b.messages,
            b.reply_token,
            b.reply_by,
            key,
            0,
            leased_until=row["next_attempt_at"],
        )
        for b, key, row in zip(sealed.batches, sealed.keys, sealed.rows, strict=True)
    ]


async def unsent_before(
    session: AsyncSession, chats: Iterable[tuple[str, str]], before_id: int, now: datetime
) -> list[tuple[tuple[str, str], int]]:
    read = partial(unsent_before_on, chats=chats, before_id=before_id, now=now)
    return await on_connection(session, read)


def unsent_before_on(
    connection: Connection, chats: Iterable[tuple[str, str]], before_id: int, now: datetime
) -> list[tuple[tuple[str, str], int]]:
    """The unsent batches of these chats older than before_id: ((channel, chat_id), id)."""
    wanted = sorted(set(chats))
    if not wanted:
        return []
    table = table_of(OutboxMessage)
    rows = connection.execute(
        select(table.c.channel, table.c.chat_id, table.c.id).where(
            table.c.status == PENDING,
            table.c.id < before_id,
            pair_in(connection.dialect.name, (table.c.channel, table.c.chat_id), wanted),
        )
    )
    return [((channel, chat_id), row_id) for channel, chat_id, row_id in rows]


@dataclass(frozen=True, slots=True)
class Due:
    batches: list[Outgoing]  # to send now, in order
    held_back: bool  # an earlier batch must wait: these wait behind it
    elsewhere: bool = False  # held back by a batch another process is sending right now


async def due_for_chat(
    session: AsyncSession, vault: Vault, channel: str, chat_id: str, now: datetime
) -> list[Outgoing]:
    """A chat's unsent batches in order; one not yet due holds back the ones after it."""
    return (await chat_queue(session, vault, channel, chat_id, now)).batches


async def chat_queue(
    session: AsyncSession,
    vault: Vault,
    channel: str,
    chat_id: str,
    now: datetime,
    before_id: int | None = None,
    skip: frozenset[int] = frozenset(),
) -> Due:
    """A chat's unsent batches (older than before_id) that are due, and whether one waits.

    Those in skip are being sent by this process: neither sent again nor waited for.
    """
    query = select(OutboxMessage).where(
        OutboxMessage.status == PENDING,
        OutboxMessage.channel == channel,
        OutboxMessage.chat_id == chat_id,
    )
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    due: list[Outgoing] = []
    for row in await session.scalars(query.order_by(OutboxMessage.id)):
        if row.id in skip:
            continue
        if row.next_attempt_at > now:
            return Due(due, held_back=True, elsewhere=_being_sent(row, now))
        due.append(_outgoing(row, vault))
    return Due(due, held_back=False)


async def chats_with_due(session: AsyncSession, now: datetime) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.chat_id)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
        .order_by(func.min(OutboxMessage.id))
    )
    return [(channel, chat_id) for channel, chat_id in rows]


async def claim_for_sending(
    session: AsyncSession, outgoing_id: int, now: datetime, lease: timedelta = SENDING_LEASE
) -> bool:
    """Take a due row to send it now: False when another process took it (or sent it) first.

    The row is then leased to this process, as the replies a process stores to send at once
    are: no two processes send the same row, and the next one of the chat waits behind it.
    """
    claimed = await session.scalar(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outgoing_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease)
        .returning(OutboxMessage.id)
    )
    return claimed is not None


async def mark_sent(session: AsyncSession, outgoing_id: int, now: datetime) -> None:
    await mark_all_sent(session, [outgoing_id], now)


async def mark_all_sent(session: AsyncSession, outgoing_ids: Sequence[int], now: datetime) -> None:
    await on_connection(session, partial(mark_all_sent_on, outgoing_ids=outgoing_ids, now=now))


def mark_all_sent_on(connection: Connection, outgoing_ids: Sequence[int], now: datetime) -> None:
    if not outgoing_ids:
        return
    table = table_of(OutboxMessage)
    connection.execute(
        update(table)
        .where(one_of(connection.dialect.name, table.c.id, outgoing_ids))
        .values(status=SENT, sent_at=now, attempts=table.c.attempts + 1)
    )


async def release(session: AsyncSession, outgoing_ids: Sequence[int], now: datetime) -> None:
    """Give up the lease on rows this process will not send after all: due now, for the
    retry round of whichever process comes first (claim_for_sending lets one take each)."""
    if not outgoing_ids:
        return
    table = table_of(OutboxMessage)
    released = one_of(session.get_bind().dialect.name, table.c.id, outgoing_ids)
    await session.execute(
        update(table).where(released, table.c.status == PENDING).values(next_attempt_at=now)
    )


async def try_later(
    session: AsyncSession, outgoing_id: int, now: datetime, delay: timedelta, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outgoing_id)
        .values(
            next_attempt_at=now + delay,
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:300],
        )
    )


async def give_up(session: AsyncSession, outgoing_id: int, now: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outgoing_id)
        .values(status=FAILED, attempts=OutboxMessage.attempts + 1, last_error=error[:300])
    )


async def unsent_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
    )
    return int(count or 0)


def _being_sent(row: OutboxMessage, now: datetime) -> bool:
    """Leased to the process that stored it, which is sending it now."""
    return row.attempts == 0 and row.created_at < row.next_attempt_at and now < row.next_attempt_at


def _outgoing(row: OutboxMessage, vault: Vault) -> Outgoing:
    messages = vault.decrypt_json(row.payload, context=_context(row.retry_key))
    return Outgoing(
        row.id,
        row.channel,
        row.chat_id,
        messages,
        row.reply_token,
        row.reply_by,
        row.retry_key,
        row.attempts,
        maybe_sent=row.attempts == 0 and row.next_attempt_at > row.created_at,
    )


def _retry_key() -> str:
    """A random (version 4) UUID: LINE's X-Line-Retry-Key for a batch of replies."""
    return str(uuid.UUID(bytes=random_bytes(16), version=4))
