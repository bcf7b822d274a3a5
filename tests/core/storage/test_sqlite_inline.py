"""The async engine's SQLite driver runs each statement where it is called, and behaves as
a DBAPI should: errors, rollback, many rows at once."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.storage.db import make_engine

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(16), unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_a_statement_runs_on_the_event_loops_own_thread(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        raw.driver_connection._conn.create_function("thread", 0, threading.get_ident)
        ran_on = (await connection.execute(text("SELECT thread()"))).scalar()
    assert engine.dialect.driver == "bmabot_inline"
    assert ran_on == threading.get_ident()  # no hand-off to a thread and back


async def test_many_rows_in_one_statement_with_returning(engine: AsyncEngine) -> None:
    rows = [{"key": f"k{number}"} for number in range(50)]
    async with engine.begin() as connection:
        returned = await connection.execute(insert(notes).returning(notes.c.key), rows)
        assert sorted(returned.scalars()) == sorted(row["key"] for row in rows)


async def test_a_broken_constraint_is_sqlalchemys_error_and_rolls_back(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(notes).values(key="taken"))

    async def add_new_then_taken() -> None:
        async with engine.begin() as connection:
            await connection.execute(insert(notes).values(key="new"))
            await connection.execute(insert(notes).values(key="taken"))

    with pytest.raises(IntegrityError):
        await add_new_then_taken()
    async with engine.connect() as connection:
        keys = (await connection.execute(select(notes.c.key))).scalars().all()
    assert keys == ["taken"]  # "new" went with the failed transaction
