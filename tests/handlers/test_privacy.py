"""The national ID is never kept or shown in plain: not in the database, logs or messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.handlers.chat import Chat
from tests.handlers.transcripts import NATIONAL_ID, STAFF, play

# The ID as people type it, and its long runs: none may appear anywhere in plain.
FORMS_OF_THE_ID = [
    NATIONAL_ID,
    "1 1037 00123 45 8",
    "1-1037-00123-45-8",
    NATIONAL_ID[:10],
    NATIONAL_ID[3:],
    "๑๑๐๓๗๐๐๑๒๓๔๕๘",
]


@pytest.fixture
async def submitted(chat: Chat, caplog: pytest.LogCaptureFixture) -> Chat:
    caplog.set_level(logging.DEBUG)  # everything
    # SQLAlchemy keeps its own logger at WARNING: INFO shows every statement and its parameters.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")
    assert chat.reply_keys == ["apply.submitted"]
    return chat


async def test_the_national_id_is_not_in_any_log_line(
    submitted: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    records = caplog.get_records("setup")  # the application was made while setting up
    logged = "\n".join(record.getMessage() for record in records)
    assert logged  # the capture did see the run
    for form in FORMS_OF_THE_ID:
        assert form not in logged


async def test_the_national_id_is_shown_in_full_only_on_its_owners_summary(
    submitted: Chat,
) -> None:
    summaries = [reply for reply in submitted.history if reply.key == "apply.summary_title"]
    assert "เลขประจำตัวประชาชน: 1-1037-00123-45-8" in summaries[-1].text  # to check it
    said = "\n".join(
        f"{reply.title}\n{reply.text}"
        for reply in submitted.history
        if reply.key != "apply.summary_title"
    )
    for form in FORMS_OF_THE_ID:
        assert form not in said


async def test_the_national_id_is_not_in_the_database(
    submitted: Chat, engine: AsyncEngine, database_url: str
) -> None:
    stored = await _everything_stored(engine, database_url)
    assert len(stored) > 1000
    for form in FORMS_OF_THE_ID:
        assert form.encode() not in stored


async def test_the_national_id_is_not_in_the_document_files(
    submitted: Chat, tmp_path: Path
) -> None:
    files = [path for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        assert b"\xff\xd8\xff" not in content[:16]  # encrypted, not a JPEG
        for form in FORMS_OF_THE_ID:
            assert form.encode() not in content


async def _everything_stored(engine: AsyncEngine, database_url: str) -> bytes:
    """SQLite: the raw bytes of the database and its journal files; else every row as text."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(str(url.database))
        paths = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        return b"".join(path.read_bytes() for path in paths if path.exists())
    async with engine.connect() as connection:
        tables = (
            await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        ).scalars()
        rows = []
        for table in list(tables):
            result = await connection.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t'))
            rows.extend(result.scalars())
    return "\n".join(rows).encode()
