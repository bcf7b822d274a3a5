"""Fixtures shared by the whole suite: a migrated database per test, sessions, vault, clock.

Each test gets a new SQLite file. With BMABOT_TEST_DATABASE_URL set (for example
postgresql+asyncpg://postgres@127.0.0.1:5432/test) the tests run on that database instead:
its tables are dropped and migrated again once per run, and emptied before every test.
Everything in that database is lost: point it only at a database kept for tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core.audit.chain import sign_with
from core.clock import ManualClock
from core.delivery.person_claims import PersonClaims
from core.storage.crypto import Vault
from core.storage.db import make_engine, make_sessions, upgrade_database_async
from tests import fuzzing
from tests.watchdog import pytest_enter_pdb, pytest_runtest_protocol

__all__ = ["pytest_enter_pdb", "pytest_runtest_protocol"]  # hooks: a hung run ends, see there
TEST_DATABASE_URL = "BMABOT_TEST_DATABASE_URL"
# The whole-form transcripts of the suite run without the one-time code for the mobile
# number; the tests of that code turn it on (verify_mobile=True) where they build the bot.
os.environ.setdefault("BMABOT_VERIFY_MOBILE", "false")
TEST_SECRET_KEY = "test-secret-key-for-the-suite-only-0123456789"
# The audit chain's head as migration 0008 leaves a database without audit rows.
AUDIT_CHAIN_AT_START = "INSERT INTO audit_chain (id, start_id) VALUES (1, 0)"


@pytest.fixture(scope="session")
def shared_database_url() -> str | None:
    """The database of BMABOT_TEST_DATABASE_URL, reset to empty tables at head; else None."""
    url = os.environ.get(TEST_DATABASE_URL) or None
    if url is not None:
        # A thread has its own event loop, out of the way of pytest-asyncio's loops.
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, _recreate_tables(url)).result()
    return url


@pytest.fixture
async def database_url(shared_database_url: str | None, tmp_path: Path) -> str:
    """A database with no rows: a new SQLite file (no tables yet) or the emptied shared one."""
    if shared_database_url is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'bmabot.db'}"
    await _on_each_table(shared_database_url, "TRUNCATE {tables} RESTART IDENTITY CASCADE")
    await _execute(shared_database_url, AUDIT_CHAIN_AT_START)
    return shared_database_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on database_url after the migrations (already at head on PostgreSQL)."""
    await upgrade_database_async(database_url)
    engine = make_engine(database_url)
    sign_with(engine, TEST_SECRET_KEY)  # as the composition root does: audit rows are chained
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


@pytest.fixture
async def two_servers(engine: AsyncEngine) -> AsyncIterator[tuple[PersonClaims, PersonClaims]]:
    """The people two servers hold on one PostgreSQL database: each a connection of its own,
    as a process has (advisory locks; on SQLite one process serves, so these tests skip)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks: PostgreSQL only (on SQLite one process serves)")
    first, second = PersonClaims(engine), PersonClaims(engine)
    yield first, second
    await first.close()
    await second.close()


@pytest.fixture
def vault() -> Vault:
    return Vault(TEST_SECRET_KEY)


@pytest.fixture
def clock() -> ManualClock:
    """2026-11-25 10:00 in Bangkok (B.E. 2569); moves only with clock.advance(...)."""
    return ManualClock()


async def _recreate_tables(url: str) -> None:
    await _on_each_table(url, "DROP TABLE {tables} CASCADE", keep_alembic_version=False)
    await upgrade_database_async(url)


async def _execute(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _on_each_table(url: str, statement: str, *, keep_alembic_version: bool = True) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            tables = await _table_names(connection)
            if keep_alembic_version:
                tables = [table for table in tables if table != "alembic_version"]
            if tables:
                quote = connection.dialect.identifier_preparer.quote
                names = ", ".join(quote(table) for table in tables)
                await connection.execute(text(statement.format(tables=names)))
    finally:
        await engine.dispose()


async def _table_names(connection: AsyncConnection) -> list[str]:
    rows = await connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    )
    return list(rows.scalars())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many webhook bodies and answers the fuzz tests generated, and what they met."""
    for line in fuzzing.summary():
        terminalreporter.write_line(line)
