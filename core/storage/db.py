"""Database engine, sessions and Alembic migrations: SQLite by default, PostgreSQL to scale out."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from core.storage import sqlite_inline

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # alembic is imported only when a migration runs: 10 MB the server saves
    from alembic.config import Config

# What the handlers are given, by these names: they never import SQLAlchemy themselves.
Session = AsyncSession  # a unit of work (sessions.begin()) or a read (sessions())
SessionMaker = async_sessionmaker[AsyncSession]
SyncConnection = Connection  # the hot path's storage functions run on one

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")

# busy_timeout only matters across processes (an admin command beside `serve`): inside one
# process, writers queue on the write gate below instead of SQLite's sleeping busy handler.
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL")
READ_ONLY = "bmabot_read_only"  # execution option of the sessions that only read


def make_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """An async engine; for SQLite, WAL mode and every transaction but a read started as a writer.

    foreign_keys=False is for migrations only: SQLite batch migrations copy and drop
    tables, which foreign keys would refuse or cascade (the migration checks them after).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True)
    _create_parent_folder(parsed)
    engine = create_async_engine(parsed.set(drivername=f"sqlite+{sqlite_inline.DRIVER}"))
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
    # A read (WAL: it sees a snapshot and blocks nobody) begins deferred, without the lock.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Sessions(async_sessionmaker[AsyncSession]):
    """Sessions of one database: `sessions()` to read, `sessions.begin()` for a unit of work.

    A plain session only reads: on SQLite it takes no write lock. A unit of work on SQLite
    waits its turn on the engine's write gate, so the writers of one process queue in
    order here instead of polling SQLite's lock ("database is locked" under load).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False, execution_options={READ_ONLY: True})
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]  # same use
        async with write_gate(self._engine):
            session = AsyncSession(self._engine, expire_on_commit=False)
            async with session, session.begin():
                yield session


_GATES: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> AbstractAsyncContextManager[object]:
    """One writer at a time per SQLite engine in this process; no gate for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _GATES.setdefault(engine.sync_engine, asyncio.Lock())


def make_sessions(engine: AsyncEngine) -> Sessions:
    return Sessions(engine)


def sqlite_threads(sessions: async_sessionmaker[AsyncSession]) -> SqliteThreads | None:
    """Threads for a file SQLite database; None for PostgreSQL (asyncpg needs none)."""
    if not isinstance(sessions, Sessions):
        return None
    url = sessions.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return SqliteThreads(sessions.engine)


class SqliteThreads:
    """The hot path's SQLite work on two threads of its own (a reader, a writer), each with
    a connection of its own.

    A round's reads and writes (and the inbox's group commits) run here, beside the event
    loop, not on it: measured, running them on the loop (core.storage.sqlite_inline) let the
    webhooks crowd the dispatcher out (turns/s fell by half). A whole unit of work is one
    hand-off. Writes take the engine's write gate like every writer of the process.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = _ThreadConnection(engine.url, "bmabot-sqlite-writer")
        self._reader = _ThreadConnection(engine.url, "bmabot-sqlite-reader")

    async def write(self, work: Callable[[Connection], T]) -> T:
        """work(connection) in one transaction (BEGIN IMMEDIATE) on the writer thread."""
        async with write_gate(self._engine):
            return await self._writer.run(work, read_only=False)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """work(connection) in a read transaction (a WAL snapshot) on the reader thread."""
        return await self._reader.run(work, read_only=True)

    async def close(self) -> None:
        await self._writer.close()
        await self._reader.close()


class _ThreadConnection:
    def __init__(self, url: URL, name: str) -> None:
        sync_url = url.set(drivername="sqlite+pysqlite")
        self._engine = create_engine(sync_url, poolclass=StaticPool)  # one connection
        pragmas = (*SQLITE_PRAGMAS, "foreign_keys=ON")
        event.listen(self._engine, "connect", partial(_on_sqlite_connect, pragmas))
        event.listen(self._engine, "begin", _begin_immediate)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)

    async def run(self, work: Callable[[Connection], T], *, read_only: bool) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._in_transaction, work, read_only)

    def _in_transaction(self, work: Callable[[Connection], T], read_only: bool) -> T:
        with self._engine.connect() as connection:
            if read_only:
                connection = connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                return work(connection)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)


async def on_connection(session: AsyncSession, work: Callable[[Connection], T]) -> T:
    """Synchronous Core work on the session's connection, inside its transaction.

    The hot path's storage functions are written once, for a Connection: the async
    sessions run them through this, SQLite's threads (SqliteThreads) directly.
    """
    return await session.run_sync(lambda sync: work(sync.connection()))


def table_of(entity: type[Any]) -> Table:
    """A mapped class's table: Core statements on it skip the ORM's bulk machinery, which
    costs more than the statement itself on the hot path."""
    return cast(Table, entity.__table__)


def dialect_insert(session: AsyncSession, entity: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT with ON CONFLICT support for the session's database (SQLite or PostgreSQL)."""
    return insert_for(session.get_bind().dialect.name, entity)


def insert_for(name: str, entity: Any) -> sqlite.Insert | postgresql.Insert:
    if name == "postgresql":
        return postgresql.insert(entity)
    if name == "sqlite":
        return sqlite.insert(entity)
    raise NotImplementedError(f"unsupported database dialect: {name}")


def one_of(dialect: str, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL `column = ANY(:array)`: one statement text for
    any number of values, so SQLAlchemy does not write the statement again for each list
    (the rounds of 128 people spent 4.5 % of the event loop on it, issue 13) and asyncpg
    does not prepare it again, a round trip, for each length. SQLite has no arrays."""
    if dialect == "postgresql":
        return column == any_(_array(column, values))
    return column.in_(list(values))


def pair_in(
    dialect: str,
    columns: tuple[ColumnElement[Any], ColumnElement[Any]],
    pairs: Sequence[tuple[Any, Any]],
) -> ColumnElement[bool]:
    """`(a, b) IN (pairs)`; on PostgreSQL from two arrays, for the reason one_of gives."""
    if dialect != "postgresql":
        return tuple_(*columns).in_(list(pairs))
    first, second = columns
    listed = (
        func.unnest(_array(first, [a for a, _ in pairs]), _array(second, [b for _, b in pairs]))
        .table_valued("a", "b")
        .render_derived()
    )
    return tuple_(*columns).in_(select(listed.c.a, listed.c.b))


def _array(column: ColumnElement[Any], values: Sequence[Any]) -> Any:
    return bindparam(None, list(values), type_=postgresql.ARRAY(column.type))


def alembic_config(url: str) -> Config:
    """Alembic settings built in code: no alembic.ini is needed at run time."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest migration, read from the migration files themselves (one line of them)."""
    revisions: set[str] = set()
    replaced: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for field, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if field == "revision" else replaced).add(value)
    heads = revisions - replaced
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have one head, not {sorted(heads)}")
    return heads.pop()


def upgrade_database(url: str) -> None:
    """Run the migrations to head; from synchronous code (no event loop running)."""
    asyncio.run(upgrade_database_async(url))


async def upgrade_database_async(url: str) -> None:
    """Run the migrations to head from inside a running event loop; a database already at
    head is only looked at (the usual start of a server: no alembic to import)."""
    if await _revision_of(url) == head_revision():
        return
    from alembic import command

    await _run_alembic(url, partial(command.upgrade, revision="head"))


class MigrationError(RuntimeError):
    """The migrations in the child process failed; what went wrong is in its output."""


async def upgrade_database_apart(url: str) -> None:
    """Run the migrations to head in a child process (`python -m core.storage.migrate`).

    For a long-running server: alembic's modules stay out of its memory. A database already at
    head is only looked at; the child's output goes where this process's goes.
    """
    if await _revision_of(url) == head_revision():
        return
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.storage.migrate",
        env={**os.environ, "BMABOT_DATABASE_URL": url},  # the environment: not in `ps`
    )
    if await child.wait() != 0:
        raise MigrationError(f"the database upgrade failed (exit {child.returncode})")
    logger.info("database upgraded to revision %s", head_revision())


async def downgrade_database_async(url: str, revision: str = "base") -> None:
    from alembic import command

    await _run_alembic(url, partial(command.downgrade, revision=revision))


async def _revision_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = list(connection.scalars(text("SELECT version_num FROM alembic_version")))
    return versions[0] if len(versions) == 1 else None


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
