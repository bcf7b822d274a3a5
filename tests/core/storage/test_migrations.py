"""Alembic migrations: they build the schema of core.storage.models and undo it cleanly."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from core.storage.db import (
    MigrationError,
    alembic_config,
    downgrade_database_async,
    head_revision,
    make_engine,
    upgrade_database,
    upgrade_database_apart,
    upgrade_database_async,
)
from core.storage.models import Base

EVERY_TABLE = {*Base.metadata.tables, "alembic_version"}


async def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def schema_differences(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def alembic_modules_after(code: str) -> str:
    """The alembic and mako modules a new interpreter holds after running code."""
    check = (
        f"import sys; {code}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    )
    loaded = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return loaded.stdout.strip()


async def test_upgrade_creates_every_table(database_url: str) -> None:
    await upgrade_database_async(database_url)

    assert await table_names(database_url) == EVERY_TABLE
    assert {"conversations", "applications", "documents", "audit_events"} <= EVERY_TABLE
    assert "reference_counters" in EVERY_TABLE


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await upgrade_database_async(database_url)

    assert await schema_differences(database_url) == []


async def test_downgrade_removes_every_table_and_upgrade_brings_them_back(
    database_url: str,
) -> None:
    await upgrade_database_async(database_url)

    await downgrade_database_async(database_url, "base")
    assert await table_names(database_url) == {"alembic_version"}

    await upgrade_database_async(database_url)
    assert await table_names(database_url) == EVERY_TABLE


async def test_upgrading_a_database_at_head_changes_nothing(database_url: str) -> None:
    await upgrade_database_async(database_url)
    await upgrade_database_async(database_url)

    assert await table_names(database_url) == EVERY_TABLE


async def test_upgrade_records_the_head_revision(database_url: str) -> None:
    await upgrade_database_async(database_url)

    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert version == ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_the_head_read_from_the_files_is_alembics_head(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))

    assert head_revision() == script.get_current_head()


async def test_a_server_starting_on_a_database_at_head_does_not_load_alembic(
    database_url: str,
) -> None:
    await upgrade_database_async(database_url)

    loaded = await alembic_modules_after(
        f"from core.storage.db import upgrade_database; upgrade_database({database_url!r})"
    )

    assert loaded == "[]"


async def test_a_server_upgrades_in_a_child_and_never_loads_alembic_itself(
    database_url: str,
) -> None:
    loaded = await alembic_modules_after(
        "import asyncio; from core.storage.db import upgrade_database_apart; "
        f"asyncio.run(upgrade_database_apart({database_url!r}))"
    )

    assert loaded == "[]"
    assert await table_names(database_url) == EVERY_TABLE
    assert await schema_differences(database_url) == []


async def test_a_failed_upgrade_in_the_child_stops_the_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bmabot.db'}"
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:  # a revision no migration file knows
            await connection.execute(text("CREATE TABLE alembic_version (version_num TEXT)"))
            await connection.execute(text("INSERT INTO alembic_version VALUES ('f00dfeed')"))
    finally:
        await engine.dispose()

    with pytest.raises(MigrationError, match="exit 1"):
        await upgrade_database_apart(url)


async def test_upgrade_database_runs_from_synchronous_code(database_url: str) -> None:
    # upgrade_database() starts its own event loop: call it where none is running.
    await asyncio.to_thread(upgrade_database, database_url)

    assert await table_names(database_url) == EVERY_TABLE


async def test_make_engine_creates_the_folder_of_a_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'folder' / 'bmabot.db'}"

    await upgrade_database_async(url)

    assert (tmp_path / "new" / "folder" / "bmabot.db").is_file()
