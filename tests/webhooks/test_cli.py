"""The bmabot command line: database upgrade and clear errors for bad settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from webhooks.cli import main


def test_db_upgrade_creates_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "bmabot.db"
    monkeypatch.setenv("BMABOT_DATABASE_URL", f"sqlite+aiosqlite:///{database}")

    assert main(["db", "upgrade"]) == 0

    assert "up to date" in capsys.readouterr().out
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"conversations", "applications", "documents", "audit_events"} <= tables


def test_bad_settings_exit_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BMABOT_PORT", "not-a-port")

    assert main(["db", "upgrade"]) == 2

    assert "BMABOT_PORT" in capsys.readouterr().err
