"""Each chat user's dialogue state, encrypted, loaded under a row lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.crypto import Vault
from core.storage.db import dialect_insert, insert_for, on_connection, pair_in, table_of
from core.storage.models import Conversation


async def load_conversation(
    session: AsyncSession, vault: Vault, channel: str, user_id: str
) -> dict[str, Any] | None:
    """The user's state (None when idle), locking the row until the session's transaction ends.

    The lock (PostgreSQL; SQLite has one writer anyway) keeps one user's messages in order
    across processes: save in the same transaction.
    """
    insert = dialect_insert(session, Conversation).values(channel=channel, user_id=user_id)
    await session.execute(insert.on_conflict_do_nothing(index_elements=["channel", "user_id"]))
    token = await session.scalar(
        select(Conversation.state)
        .where(Conversation.channel == channel, Conversation.user_id == user_id)
        .with_for_update()
    )
    if token is None:
        return None
    return cast(dict[str, Any], vault.decrypt_json(token, context=_context(channel, user_id)))


async def save_conversation(
    session: AsyncSession,
    vault: Vault,
    channel: str,
    user_id: str,
    state: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Store the state (None = idle); never in plain text: it holds answers such as the ID."""
    token = (
        None if state is None else vault.encrypt_json(state, context=_context(channel, user_id))
    )
    insert = dialect_insert(session, Conversation).values(
        channel=channel, user_id=user_id, state=token, created_at=now, updated_at=now
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["channel", "user_id"], set_={"state": token, "updated_at": now}
        )
    )


Person = tuple[str, str]  # (channel, user_id)


async def load_states(
    session: AsyncSession, vault: Vault, people: Iterable[Person], *, lock: bool = True
) -> dict[Person, dict[str, Any] | None]:
    """The states of many people in one statement (None: idle); see load_sealed."""
    sealed = await load_sealed(session, people, lock=lock)
    return {person: unseal(vault, person, token) for person, token in sealed.items()}


async def load_sealed(
    session: AsyncSession, people: Iterable[Person], *, lock: bool = True
) -> dict[Person, bytes | None]:
    return await on_connection(session, partial(load_sealed_on, people=people, lock=lock))


def load_sealed_on(
    connection: Connection, people: Iterable[Person], *, lock: bool = True
) -> dict[Person, bytes | None]:
    """The states of many people as stored, encrypted; locked like load_conversation.

    Compared byte for byte, they tell whether a state changed since it was read.
    A person without a row yet has none to lock: their events are held by the inbox claim.
    """
    wanted = sorted(set(people))  # one order for every process: no deadlock between them
    sealed: dict[Person, bytes | None] = dict.fromkeys(wanted)
    if not wanted:
        return sealed
    table = table_of(Conversation)
    query = (
        select(table.c.channel, table.c.user_id, table.c.state)
        .where(pair_in(connection.dialect.name, (table.c.channel, table.c.user_id), wanted))
        .order_by(table.c.channel, table.c.user_id)
    )
    for channel, user_id, token in connection.execute(query.with_for_update() if lock else query):
        sealed[(channel, user_id)] = token
    return sealed


def unseal(vault: Vault, person: Person, token: bytes | None) -> dict[str, Any] | None:
    if token is None:
        return None
    return cast(dict[str, Any], vault.decrypt_json(token, context=_context(*person)))


async def save_states(
    session: AsyncSession,
    vault: Vault,
    states: Sequence[tuple[Person, dict[str, Any] | None]],
    now: datetime,
) -> None:
    await on_connection(session, partial(save_states_on, vault=vault, states=states, now=now))


def save_states_on(
    connection: Connection,
    vault: Vault,
    states: Sequence[tuple[Person, dict[str, Any] | None]],
    now: datetime,
) -> None:
    """save_conversation for many people in one statement."""
    save_sealed_on(connection, sealed_states(vault, states, now))


def sealed_states(
    vault: Vault, states: Sequence[tuple[Person, dict[str, Any] | None]], now: datetime
) -> list[dict[str, Any]]:
    """The rows save_sealed_on writes: encrypting is the costly part, done beforehand."""
    return [
        {
            "channel": channel,
            "user_id": user_id,
            "state": None
            if state is None
            else vault.encrypt_json(state, context=_context(channel, user_id)),
            "created_at": now,
            "updated_at": now,
        }
        for (channel, user_id), state in states
    ]


def save_sealed_on(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    insert = insert_for(connection.dialect.name, table_of(Conversation))
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["channel", "user_id"],
            set_={"state": insert.excluded.state, "updated_at": insert.excluded.updated_at},
        ),
        rows,
    )


@dataclass(frozen=True, slots=True)
class QuietConversation:
    channel: str
    user_id: str
    updated_at: datetime
    state: dict[str, Any]


async def quiet_conversations(
    session: AsyncSession, vault: Vault, before: datetime
) -> list[QuietConversation]:
    """Conversations with a state (a form in progress) untouched since before, locked."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.state.is_not(None), Conversation.updated_at < before)
        .order_by(Conversation.id)
        .with_for_update()
    )
    return [
        QuietConversation(
            row.channel,
            row.user_id,
            row.updated_at,
            cast(
                dict[str, Any],
                vault.decrypt_json(row.state, context=_context(row.channel, row.user_id)),
            ),
        )
        for row in rows
        if row.state is not None
    ]


async def replace_state_quietly(
    session: AsyncSession, vault: Vault, channel: str, user_id: str, state: dict[str, Any]
) -> None:
    """Store a new state but keep updated_at: the bot touching a state is not the person."""
    token = vault.encrypt_json(state, context=_context(channel, user_id))
    await session.execute(
        update(Conversation)
        .where(Conversation.channel == channel, Conversation.user_id == user_id)
        .values(state=token)
    )


def _context(channel: str, user_id: str) -> str:
    # Binds the ciphertext to its row: copied onto another user, it no longer decrypts.
    return f"conversation:{channel}:{user_id}"
