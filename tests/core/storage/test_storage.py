"""Storage: engine settings, conversations (encrypted, locked per user), aware UTC times, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.audit import trail as audit
from core.clock import ManualClock
from core.delivery.conversations import load_conversation, save_conversation
from core.storage.crypto import Vault, VaultError
from core.storage.db import one_of, pair_in
from core.storage.models import AuditEvent, Conversation

NATIONAL_ID = "1103700123458"
FILLING_THE_FORM = {"flow": "apply", "step": "ask_mobile", "answers": {"national_id": NATIONAL_ID}}

Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


async def save(
    sessions: Sessions, vault: Vault, user_id: str, state: object, at: datetime
) -> None:
    async with sessions.begin() as session:
        await load_conversation(session, vault, "line", user_id)
        await save_conversation(session, vault, "line", user_id, state, at)  # type: ignore[arg-type]


async def load(sessions: Sessions, vault: Vault, user_id: str) -> dict[str, object] | None:
    async with sessions.begin() as session:
        return await load_conversation(session, vault, "line", user_id)


async def everything_stored(engine: AsyncEngine) -> bytes:
    """The raw bytes the database keeps: the SQLite files, or every PostgreSQL row as text."""
    if is_sqlite(engine):
        database = Path(make_url(str(engine.url)).database or "")
        files = [database, database.with_name(database.name + "-wal")]
        return b"".join(path.read_bytes() for path in files if path.exists())
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
        dumps = [
            await connection.scalar(text(f"SELECT string_agg(t::text, '\n') FROM \"{name}\" t"))
            for name in rows.scalars()
        ]
    return "\n".join(dump or "" for dump in dumps).encode()


async def test_a_new_user_has_no_conversation(sessions: Sessions, vault: Vault) -> None:
    assert await load(sessions, vault, "U1") is None


async def test_a_conversation_round_trips(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await save(sessions, vault, "U1", FILLING_THE_FORM, clock.now())

    assert await load(sessions, vault, "U1") == FILLING_THE_FORM


async def test_saving_none_makes_the_conversation_idle(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await save(sessions, vault, "U1", FILLING_THE_FORM, clock.now())

    await save(sessions, vault, "U1", None, clock.now())

    assert await load(sessions, vault, "U1") is None


async def test_save_without_load_creates_the_conversation(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        await save_conversation(session, vault, "telegram", "42", {"step": "x"}, clock.now())

    async with sessions.begin() as session:
        assert await load_conversation(session, vault, "telegram", "42") == {"step": "x"}


async def test_users_of_different_channels_have_separate_conversations(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        await save_conversation(session, vault, "line", "42", {"step": "line"}, clock.now())
        await save_conversation(session, vault, "telegram", "42", {"step": "tg"}, clock.now())

    async with sessions.begin() as session:
        assert await load_conversation(session, vault, "line", "42") == {"step": "line"}
        assert await load_conversation(session, vault, "telegram", "42") == {"step": "tg"}


async def test_the_national_id_in_a_conversation_is_not_stored_in_plain_text(
    engine: AsyncEngine, sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await save(sessions, vault, "U1", FILLING_THE_FORM, clock.now())
    assert await load(sessions, vault, "U1") == FILLING_THE_FORM

    stored = await everything_stored(engine)

    assert b"U1" in stored  # the dump does see the conversation row
    assert b"ask_mobile" not in stored
    assert NATIONAL_ID.encode() not in stored
    assert NATIONAL_ID.encode().hex().encode() not in stored  # PostgreSQL shows bytea as hex


async def test_a_state_copied_onto_another_user_does_not_decrypt(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await save(sessions, vault, "U1", FILLING_THE_FORM, clock.now())
    await save(sessions, vault, "U2", {"step": "start"}, clock.now())
    async with sessions.begin() as session:
        stolen = await session.scalar(
            select(Conversation.state).where(Conversation.user_id == "U1")
        )
        await session.execute(
            update(Conversation).where(Conversation.user_id == "U2").values(state=stolen)
        )

    with pytest.raises(VaultError):
        await load(sessions, vault, "U2")


async def test_a_conversation_is_handled_by_one_session_at_a_time(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await save(sessions, vault, "U1", {"step": "first"}, clock.now())
    async with sessions.begin() as first:
        await load_conversation(first, vault, "line", "U1")
        second = asyncio.create_task(load(sessions, vault, "U1"))
        done, _ = await asyncio.wait({second}, timeout=0.3)
        assert not done  # waits for the first session's transaction
        await save_conversation(first, vault, "line", "U1", {"step": "second"}, clock.now())

    assert await second == {"step": "second"}


async def test_datetimes_come_back_aware_in_utc(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    bangkok_morning = datetime(2026, 11, 25, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    await save(sessions, vault, "U1", {"step": "x"}, bangkok_morning)

    async with sessions() as session:
        row = await session.scalar(select(Conversation).where(Conversation.user_id == "U1"))

    assert row is not None
    assert row.updated_at == datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    assert row.updated_at.tzinfo is UTC
    assert row.created_at.tzinfo is UTC


async def test_refuses_a_naive_datetime(sessions: Sessions, vault: Vault) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await save(sessions, vault, "U1", {"step": "x"}, datetime(2026, 11, 25, 9, 30))


async def test_an_audit_event_is_written_with_the_change(
    sessions: Sessions, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        audit.record(session, "support.shown", actor="line:U1", at=clock.now())
        audit.record(session, "job.failed", actor="system", at=clock.now(), detail={"tries": 3})

    async with sessions() as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()

    assert [(e.action, e.actor, e.detail) for e in events] == [
        ("support.shown", "line:U1", {}),
        ("job.failed", "system", {"tries": 3}),
    ]
    assert events[0].at == clock.now()


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    engine: AsyncEngine,
) -> None:
    if not is_sqlite(engine):
        pytest.skip("SQLite PRAGMAs")
    async with engine.connect() as connection:
        pragmas = {
            name: await connection.scalar(text(f"PRAGMA {name}"))
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }

    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,  # across processes; one process queues on its write gate
        "synchronous": 1,  # NORMAL
    }


@pytest.mark.parametrize("count", [1, 2, 3, 130])
async def test_one_of_and_pair_in_pick_the_rows_in_the_list_on_both_databases(
    sessions: Sessions, vault: Vault, count: int
) -> None:
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    for number in range(140):
        await save(sessions, vault, f"U{number}", {"n": number}, at)
    wanted = [f"U{number}" for number in range(0, 2 * count, 2)]  # every other one
    table = Conversation.__table__

    async with sessions() as session:
        dialect = session.get_bind().dialect.name
        by_one = select(table.c.user_id).where(one_of(dialect, table.c.user_id, wanted))
        by_pair = select(table.c.user_id).where(
            pair_in(
                dialect,
                (table.c.channel, table.c.user_id),
                [("line", user) for user in wanted] + [("telegram", "U1")],  # no such row
            )
        )
        picked = [set((await session.scalars(query)).all()) for query in (by_one, by_pair)]

    assert picked == [set(wanted) & {f"U{n}" for n in range(140)}] * 2
