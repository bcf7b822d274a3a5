"""The outbox: what to say to which chat, kept until the channel confirms it was delivered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.models import OutboxMessage

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
    retry_key = str(uuid.uuid4())
    row = OutboxMessage(
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
    session.add(row)
    await session.flush()
    return row.id


async def due_for_chat(
    session: AsyncSession, vault: Vault, channel: str, chat_id: str, now: datetime
) -> list[Outgoing]:
    """A chat's unsent batches in order; one not yet due holds back the ones after it."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
        )
        .order_by(OutboxMessage.id)
    )
    due: list[Outgoing] = []
    for row in rows:
        if row.next_attempt_at > now:
            break
        due.append(_outgoing(row, vault))
    return due


async def chats_with_due(session: AsyncSession, now: datetime) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.chat_id)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
        .order_by(func.min(OutboxMessage.id))
    )
    return [(channel, chat_id) for channel, chat_id in rows]


async def mark_sent(session: AsyncSession, outgoing_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outgoing_id)
        .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1)
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
    )
