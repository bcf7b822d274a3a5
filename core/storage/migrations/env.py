"""Alembic environment: the migrations of core.storage.models on core.storage.db's engine."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import JSON
from sqlalchemy.engine import Connection

from core.storage.db import make_engine
from core.storage.models import Base, UTCDateTime


def main() -> None:
    config = context.config
    if config.config_file_name is not None:  # the alembic command line, with alembic.ini
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    connection = config.attributes.get("connection")
    if context.is_offline_mode():
        run_migrations_offline(database_url())
    elif connection is not None:  # core.storage.db.upgrade_database*: a connection is lent to us
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations(database_url()))


def database_url() -> str:
    # `alembic -x url=... revision --autogenerate` overrides the URL in alembic.ini.
    override: str | None = context.get_x_argument(as_dictionary=True).get("url")
    url = override or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or pass -x url=...")
    return url


def run_migrations_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite,  # SQLite cannot ALTER most things: copy-and-move
        # core.storage.db makes SQLite emit a real BEGIN, so DDL is transactional there too.
        transactional_ddl=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
        if is_sqlite:  # the migration ran with foreign keys off: check them now
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    # Migrations are frozen history: spell our column types in plain SQLAlchemy so that
    # they never import core.storage.models.
    if kind != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSON) and "postgresql" in obj._variant_mapping:
        autogen.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


async def run_async_migrations(url: str) -> None:
    engine = make_engine(url, foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


main()
