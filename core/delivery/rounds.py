"""What a round of turns stores, in one transaction: states, done marks, replies to send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from core.delivery.conversations import Person, save_sealed_on, sealed_states
from core.delivery.inbox import DONE, FAILED, QUARANTINED, finish_events_on
from core.delivery.outbox import (
    NewOutgoing,
    Outgoing,
    SealedSending,
    add_sealed_on,
    mark_all_sent_on,
    seal_sending,
    unsent_before_on,
)
from core.storage.crypto import Vault
from core.storage.db import on_connection

Chat = tuple[str, str]  # (channel, chat_id)


@dataclass(slots=True)
class Round:
    """The outcome of a round's turns, to be stored together."""

    done: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    states: dict[Person, dict[str, Any] | None] = field(default_factory=dict)
    replies: list[NewOutgoing] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Stored:
    sending: list[Outgoing]  # the replies, to send now
    older: list[tuple[Chat, int]]  # unsent batches of the same chats stored before them


async def store_round(
    session: AsyncSession,
    vault: Vault,
    result: Round,
    sent: list[int],
    now: datetime,
    lease: timedelta,
) -> Stored:
    """Store a round's outcome, and mark sent what earlier rounds delivered (`sent`)."""
    sealed = seal_round(vault, result, now, lease)
    store = partial(store_sealed_on, sealed=sealed, sent=sent, now=now)
    return await on_connection(session, store)


@dataclass(frozen=True, slots=True)
class SealedRound:
    """A round's outcome with its states and replies encrypted, ready to store."""

    result: Round
    states: list[dict[str, Any]]
    sending: SealedSending


def seal_round(vault: Vault, result: Round, now: datetime, lease: timedelta) -> SealedRound:
    """The costly part of storing a round, done before taking the write lock."""
    states = sealed_states(vault, list(result.states.items()), now)
    return SealedRound(result, states, seal_sending(vault, result.replies, now, lease))


def store_sealed_on(
    connection: Connection, sealed: SealedRound, sent: list[int], now: datetime
) -> Stored:
    result = sealed.result
    save_sealed_on(connection, sealed.states)
    for ids, status in ((result.done, DONE), (result.failed, FAILED)):
        finish_events_on(connection, ids, now, status=status)
    finish_events_on(connection, result.quarantined, now, status=QUARANTINED)
    mark_all_sent_on(connection, sent, now)
    sending = add_sealed_on(connection, sealed.sending)
    if not sending:
        return Stored([], [])
    chats = {(outgoing.channel, outgoing.chat_id) for outgoing in sending}
    return Stored(sending, unsent_before_on(connection, chats, sending[0].id, now))
