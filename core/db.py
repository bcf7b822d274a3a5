"""Database engine, sessions and Alembic migrations: SQLite by default, PostgreSQL to scale out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).with_name("migrations")

SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL")


def make_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """An async engine; for SQLite, WAL mode and every transaction started as a writer.

    foreign_keys=False is for migrations only: SQLite batch migrations copy and drop
    tables, which foreign keys would refuse or cascade (the migration checks them after).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True)
    _create_parent_folder(parsed)
    engine = create_async_engine(parsed)
    pragmas = (*SQLITE_PRAGMAS, f"foreign_keys={'ON' if foreign_keys else 'OFF'}")
    event.listen(engine.sync_engine, "connect", partial(_on_sqlite_connect, pragmas))
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _create_parent_folder(url: URL) -> None:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(pragmas: tuple[str, ...], dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _begin_immediate): the sqlite3 driver's own
    # transaction handling skips BEGIN before SELECT and SAVEPOINT.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # SQLite has one writer at a time. A transaction that read first and writes later
    # fails at once with "database is locked" when another writer got in between
    # (busy_timeout cannot help); taking the write lock at BEGIN turns that into a wait.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_insert(session: AsyncSession, entity: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT with ON CONFLICT support for the session's database (SQLite or PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(entity)
    if name == "sqlite":
        return sqlite.insert(entity)
    raise NotImplementedError(f"unsupported database dialect: {name}")


def alembic_config(url: str) -> Config:
    """Alembic settings built in code: no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    """Run the migrations to head; from synchronous code (no event loop running)."""
    asyncio.run(upgrade_database_async(url))


async def upgrade_database_async(url: str) -> None:
    """Run the migrations to head from inside a running event loop."""
    await _run_alembic(url, partial(command.upgrade, revision="head"))


async def downgrade_database_async(url: str, revision: str = "base") -> None:
    await _run_alembic(url, partial(command.downgrade, revision=revision))


async def _run_alembic(url: str, action: Callable[[Config], None]) -> None:
    # env.py finds the connection in config.attributes and runs on it (one transaction).
    engine = make_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_on_connection, alembic_config(url), action)
    finally:
        await engine.dispose()


def _run_on_connection(
    connection: Connection, config: Config, action: Callable[[Config], None]
) -> None:
    config.attributes["connection"] = connection
    action(config)
