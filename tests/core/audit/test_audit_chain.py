"""The audit trail as a hash chain: each row sealed with the one before it, checked end to end."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.audit import trail as audit
from core.audit.chain import AuditKeyMissingError, ChainKey, sign_with
from core.audit.verify import ChainBroken, ChainIntact, verify_chain
from core.clock import ManualClock
from core.storage.db import (
    Sessions,
    downgrade_database_async,
    make_engine,
    make_sessions,
    upgrade_database_async,
)
from core.storage.models import AuditEvent
from tests.conftest import TEST_SECRET_KEY

KEY = ChainKey(TEST_SECRET_KEY)
NEW_SECRET_KEY = "a-new-secret-key-after-a-rotation-9876543210"


async def write(sessions: Sessions, clock: ManualClock, *actions: str) -> None:
    """One unit of work that records these actions, one second apart."""
    async with sessions.begin() as session:
        for action in actions:
            clock.advance(seconds=1)
            audit.record(session, action, actor="line:U1", at=clock.now(), detail={"n": 1})


async def verdict(sessions: Sessions, *keys: ChainKey) -> ChainIntact | ChainBroken:
    async with sessions() as session:
        return await verify_chain(session, keys or (KEY,))


async def by_hand(engine: AsyncEngine, *statements: str) -> None:
    """What someone with the database alone can do."""
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


@pytest.fixture
async def five_rows(sessions: Sessions, clock: ManualClock) -> None:
    """Rows 1-5, written in three units of work."""
    await write(sessions, clock, "application.submitted")
    await write(sessions, clock, "document.viewed", "application.approved")
    await write(sessions, clock, "account.created", "sms.sent")


async def test_rows_written_in_several_units_of_work_form_one_intact_chain(
    sessions: Sessions, five_rows: None
) -> None:
    found = await verdict(sessions)

    assert isinstance(found, ChainIntact)
    assert (found.checked, found.newest_id, found.before_chain) == (5, 5, 0)


async def test_an_empty_trail_is_intact(sessions: Sessions) -> None:
    assert await verdict(sessions) == ChainIntact(0, None, None, 0)


async def test_a_row_changed_in_the_database_is_found(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    await by_hand(engine, "UPDATE audit_events SET actor = 'line:U2' WHERE id = 3")

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert (found.row_id, found.checked) == (3, 2)
    assert "changed" in found.problem


async def test_a_deleted_row_is_found_at_the_row_after_it(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    await by_hand(engine, "DELETE FROM audit_events WHERE id = 2")

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert found.row_id == 3
    assert "does not link to row 1" in found.problem


async def test_the_newest_row_deleted_is_found_by_the_head(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    await by_hand(engine, "DELETE FROM audit_events WHERE id = 5")

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert (found.row_id, found.checked) == (5, 4)
    assert "missing" in found.problem


async def test_a_copy_of_a_sealed_row_slipped_in_between_is_found(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    # Make room after row 2 (ids 3-5 become 13-15, the head follows), then copy row 2 there:
    # its hash is genuine, made with the key, but it follows the wrong row.
    await by_hand(
        engine,
        "UPDATE audit_events SET id = id + 10 WHERE id > 2",
        "UPDATE audit_chain SET last_id = last_id + 10",
        "INSERT INTO audit_events (id, at, actor, action, application_id, detail, previous_hash,"
        " chain_hash) SELECT 3, at, actor, action, application_id, detail, previous_hash,"
        " chain_hash FROM audit_events WHERE id = 2",
    )

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert (found.row_id, found.checked) == (3, 2)
    assert "does not link to row 2" in found.problem


async def test_a_row_added_with_a_made_up_hash_is_found(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    async with sessions() as session:
        newest = await session.scalar(select(AuditEvent.chain_hash).where(AuditEvent.id == 5))
    await by_hand(
        engine,
        "INSERT INTO audit_events (at, actor, action, detail, previous_hash, chain_hash)"
        " VALUES ('2026-11-25 04:00:00', 'cli:root', 'account.created', '{}',"
        f" '{newest}', '{'0' * 64}')",
    )

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert found.row_id == 6
    assert "changed" in found.problem


async def test_a_chain_rebuilt_without_the_secret_key_is_found(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    """Change row 3, then seal it and every row after it again with a guessed key."""
    await by_hand(engine, "UPDATE audit_events SET actor = 'line:U2' WHERE id = 3")
    guessed = ChainKey("what-someone-without-the-secret-key-would-guess")
    previous = ""
    async with sessions.begin() as session:
        rows = list(await session.scalars(select(AuditEvent).where(AuditEvent.id >= 3)))
        for row in sorted(rows, key=lambda row: row.id):
            fields = {name: getattr(row, name) for name in ("at", "actor", "action")}
            fields |= {"application_id": row.application_id, "detail": row.detail}
            if row.id > 3:
                row.previous_hash = previous
            row.chain_hash = previous = guessed.seal(fields, str(row.previous_hash))
    await by_hand(engine, f"UPDATE audit_chain SET last_hash = '{previous}'")

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert found.row_id == 3


async def test_a_head_moved_back_by_hand_is_found(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    await by_hand(
        engine,
        "UPDATE audit_chain SET last_id = 4,"
        " last_hash = (SELECT chain_hash FROM audit_events WHERE id = 4)",
    )

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert found.row_id == 5
    assert "head" in found.problem


async def test_a_chain_start_moved_by_hand_is_found(
    sessions: Sessions, engine: AsyncEngine, five_rows: None
) -> None:
    await by_hand(engine, "UPDATE audit_chain SET start_id = 2")  # "rows 1-2 are pre-chain"

    found = await verdict(sessions)

    assert isinstance(found, ChainBroken)
    assert found.row_id == 3
    assert "the start of the chain" in found.problem


async def test_a_head_deleted_by_hand_is_found_and_writers_carry_on(
    sessions: Sessions, engine: AsyncEngine, clock: ManualClock, five_rows: None
) -> None:
    await by_hand(engine, "DELETE FROM audit_chain")
    missing = await verdict(sessions)

    await write(sessions, clock, "application.rejected")  # a decision is never refused
    found = await verdict(sessions)

    assert missing == ChainBroken(None, "the chain head (table audit_chain) is missing", 0)
    assert isinstance(found, ChainBroken)
    assert (found.row_id, found.checked) == (6, 5)  # the head started again, after row 0
    assert "does not link to row 5" in found.problem


async def test_another_key_does_not_verify_the_chain(sessions: Sessions, five_rows: None) -> None:
    found = await verdict(sessions, ChainKey(NEW_SECRET_KEY))

    assert isinstance(found, ChainBroken)
    assert found.row_id == 1


async def test_rows_written_before_and_after_a_key_rotation_verify_with_both_keys(
    sessions: Sessions, engine: AsyncEngine, clock: ManualClock, five_rows: None
) -> None:
    sign_with(engine, NEW_SECRET_KEY)
    await write(sessions, clock, "keys.rotated", "application.submitted")

    assert isinstance(await verdict(sessions, ChainKey(NEW_SECRET_KEY), KEY), ChainIntact)
    found = await verdict(sessions, ChainKey(NEW_SECRET_KEY))
    assert isinstance(found, ChainBroken)
    assert found.row_id == 1


async def test_what_a_rolled_back_unit_of_work_recorded_is_not_written(
    sessions: Sessions, clock: ManualClock, five_rows: None
) -> None:
    async def failing_decision() -> None:
        async with sessions.begin() as session:
            audit.record(session, "application.approved", actor="line:R1", at=clock.now())
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        await failing_decision()
    await write(sessions, clock, "application.rejected")

    found = await verdict(sessions)

    assert isinstance(found, ChainIntact)
    assert found.checked == 6


async def test_what_a_rolled_back_savepoint_recorded_is_not_written(
    sessions: Sessions, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        audit.record(session, "kept.before", actor="system", at=clock.now())
        savepoint = await session.begin_nested()
        audit.record(session, "rolled.back", actor="system", at=clock.now())
        await savepoint.rollback()
        async with session.begin_nested():
            audit.record(session, "kept.released", actor="system", at=clock.now())

    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["kept.before", "kept.released"]
    assert isinstance(await verdict(sessions), ChainIntact)


async def test_recording_without_the_chain_key_fails_at_once(
    database_url: str, engine: AsyncEngine, clock: ManualClock
) -> None:
    unsigned = make_engine(database_url)  # an engine no composition root gave a key
    try:
        async with make_sessions(unsigned).begin() as session:
            with pytest.raises(AuditKeyMissingError):
                audit.record(session, "application.submitted", actor="line:U1", at=clock.now())
    finally:
        await unsigned.dispose()


async def test_a_unit_of_work_that_records_costs_one_statement_more(
    sessions: Sessions, engine: AsyncEngine, clock: ManualClock, five_rows: None
) -> None:
    """One read of the chain head (locked on PostgreSQL) per transaction, however many rows;
    the inserts are the ones the rows always needed, and the trigger moves the head."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()[:3]))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        await write(sessions, clock, "application.approved", "account.created", "sms.sent")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)

    statements = [statement for statement in statements if not statement.startswith("BEGIN")]
    assert statements[0] == "SELECT audit_chain.start_id, audit_chain.last_hash"
    assert set(statements[1:]) == {"INSERT INTO audit_events"}


async def test_a_unit_of_work_that_records_nothing_never_reads_the_chain(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with sessions.begin() as session:
            await session.execute(select(AuditEvent.id))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)

    assert not any("audit_chain" in statement for statement in statements)


@pytest.mark.timeout(60)
async def test_units_of_work_at_once_keep_one_chain(
    sessions: Sessions, clock: ManualClock
) -> None:
    """Sixty at once: on PostgreSQL each on a connection of its own, so they meet at the
    head's row lock; on SQLite they take turns at the write gate. (Separate processes:
    tests/webhooks/test_scale_out.py.)"""

    async def unit_of_work(number: int) -> None:
        async with sessions.begin() as session:
            at = clock.now() + timedelta(seconds=number)
            audit.record(session, "application.submitted", actor=f"line:U{number}", at=at)
            await asyncio.sleep(0)  # the others run meanwhile
            await session.execute(select(AuditEvent.id).limit(1))
            audit.record(session, "document.viewed", actor=f"line:R{number}", at=at)

    await asyncio.gather(*(unit_of_work(number) for number in range(60)))

    found = await verdict(sessions)
    assert isinstance(found, ChainIntact)
    assert found.checked == 2 * 60


async def test_rows_from_before_the_chain_are_counted_and_the_chain_starts_after_them(
    database_url: str, engine: AsyncEngine, sessions: Sessions, clock: ManualClock
) -> None:
    await downgrade_database_async(database_url, "0007")
    try:
        await by_hand(
            engine,
            *(
                "INSERT INTO audit_events (at, actor, action, detail) VALUES"
                f" ('2026-11-2{day} 03:00:00', 'line:U1', 'application.submitted', '{{}}')"
                for day in (1, 2, 3)
            ),
        )
    finally:
        await upgrade_database_async(database_url)
    await write(sessions, clock, "application.approved", "account.created")

    found = await verdict(sessions)

    assert found == ChainIntact(2, 5, found.newest_hash, before_chain=3)
    async with sessions() as session:
        first = await session.scalar(select(AuditEvent).where(AuditEvent.id == 4))
    assert first is not None
    assert first.previous_hash == KEY.start(3)
