"""Reads never wait for a writer; the writers of one process queue instead of failing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit import trail as audit
from core.clock import ManualClock
from core.storage.models import AuditEvent


async def audit_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_a_read_does_not_wait_for_an_open_write_transaction(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with sessions.begin() as writer:
        audit.record(writer, "test.written", actor="test", at=clock.now())
        await writer.flush()
        async with sessions() as reader:
            # Were the read to ask SQLite for the write lock, it would wait 30 s here.
            seen = await asyncio.wait_for(audit_count(reader), timeout=10)
    assert seen == 0  # the writer has not committed yet


async def test_fifty_writers_that_read_first_all_commit(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async def read_then_write(number: int) -> None:
        async with sessions.begin() as session:
            before = await audit_count(session)
            await asyncio.sleep(0)  # let the others in between the read and the write
            detail = {"seen": before}
            audit.record(
                session, "test.counted", actor=f"w{number}", at=clock.now(), detail=detail
            )

    await asyncio.gather(*(read_then_write(n) for n in range(50)))

    async with sessions() as session:
        assert await audit_count(session) == 50
        seen = [event.detail["seen"] for event in await session.scalars(select(AuditEvent))]
    if session.bind.dialect.name == "sqlite":  # PostgreSQL lets writers overlap, by design
        assert sorted(seen) == list(range(50))  # each saw all the writes before it
