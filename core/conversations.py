"""Each chat user's dialogue state, encrypted, loaded under a row lock."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.db import dialect_insert
from core.models import Conversation


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


def _context(channel: str, user_id: str) -> str:
    # Binds the ciphertext to its row: copied onto another user, it no longer decrypts.
    return f"conversation:{channel}:{user_id}"
