"""SQLite for SQLAlchemy's async engine, run on the event loop's own thread.

A SQLite statement on a local file takes microseconds. aiosqlite hands each one to a
thread of its own and back through the event loop; under load every hand-off waits behind
all else the loop has to do, so a unit of work of twenty statements held SQLite's write
lock for a hundred milliseconds while webhooks waited to store their events behind it.
Here a statement runs where it is called, through SQLAlchemy's own asyncio adapter
classes (the same ones aiosqlite's dialect uses), with coroutines that never suspend.

Writers of this process never wait inside SQLite: they queue on the engine's write gate
(core.storage.db.write_gate) first. Only another process's writer (an admin command beside
`serve`) can make a statement wait, for as long as that short transaction lasts.

`sqlite+aiosqlite://` URLs keep working: core.storage.db.make_engine uses this driver for them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import pool
from sqlalchemy.connectors.asyncio import (
    AsyncAdapt_dbapi_connection,
    AsyncAdapt_dbapi_cursor,
    AsyncAdapt_dbapi_module,
    AsyncIODBAPIConnection,
)
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL

DRIVER = "bmabot_inline"


class _Cursor:
    """A sqlite3 cursor behind the awaitable interface SQLAlchemy's adapter expects."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def __aenter__(self) -> _Cursor:
        return self

    async def execute(self, operation: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, parameters: Any) -> _Cursor:
        self._cursor.executemany(operation, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()


class _Connection:
    """A sqlite3 connection behind the awaitable interface SQLAlchemy's adapter expects."""

    __slots__ = ("_conn",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()


class _AdaptedConnection(AsyncAdapt_dbapi_connection):
    __slots__ = ()

    _cursor_cls = AsyncAdapt_dbapi_cursor

    @property
    def _sqlite(self) -> sqlite3.Connection:
        return self._connection._conn  # type: ignore[no-any-return]

    @property
    def isolation_level(self) -> str | None:
        return self._sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._sqlite.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._sqlite.create_function(*args, **kwargs)


class _Dbapi(AsyncAdapt_dbapi_module):
    """The sqlite3 module as an "async" DBAPI: its errors, its types, connect()."""

    paramstyle = "qmark"

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        for name in (
            "DatabaseError",
            "Error",
            "IntegrityError",
            "InterfaceError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "sqlite_version",
            "sqlite_version_info",
            "PARSE_COLNAMES",
            "PARSE_DECLTYPES",
            "Binary",
        ):
            setattr(self, name, getattr(sqlite3, name))

    def connect(self, *args: Any, **kwargs: Any) -> _AdaptedConnection:
        # Opening a local file: microseconds, like the statements after it.
        connection = _Connection(sqlite3.connect(*args, **kwargs))
        return _AdaptedConnection(self, cast(AsyncIODBAPIConnection, connection))


class InlineSqliteDialect(SQLiteDialect_pysqlite):
    driver = DRIVER
    is_async = True  # driven through SQLAlchemy's greenlet bridge; nothing in it suspends
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return _Dbapi()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection._connection

    def do_executemany(
        self, cursor: Any, statement: str, parameters: Sequence[Any], context: Any = None
    ) -> None:
        cursor.executemany(statement, parameters)


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSqliteDialect")

__all__ = ["DRIVER", "InlineSqliteDialect"]
