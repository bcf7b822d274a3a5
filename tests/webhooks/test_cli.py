"""The bmabot command line: database upgrade and clear errors for bad settings."""

from __future__ import annotations

import platform
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY
from webhooks.cli import main, return_large_buffers


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


@pytest.fixture
def local_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "bmabot.db"
    monkeypatch.setenv("BMABOT_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("BMABOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BMABOT_SMS_OUTBOX", str(tmp_path / "sms.jsonl"))
    monkeypatch.setenv("BMABOT_SECRET_KEY", TEST_SECRET_KEY)
    return database


def test_jobs_lists_what_waits_and_retry_needs_an_id(
    local_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs"]) == 0
    assert "0 job(s)" in capsys.readouterr().out
    assert main(["jobs", "retry"]) == 2
    assert main(["jobs", "retry", "99"]) == 1
    assert "cannot be retried" in capsys.readouterr().out


def test_audit_of_an_unknown_reference_says_so(
    local_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--ref", "A69-99999"]) == 1
    assert "no application A69-99999" in capsys.readouterr().out


def test_suspending_an_unknown_account_says_so(
    local_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "suspend", "nobody.x", "--reason", "test"]) == 1
    assert "no account nobody.x" in capsys.readouterr().out


def test_demo_on_a_busy_port_says_so_and_suggests_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo keeps its data in ./var/demo
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        assert main(["demo", "--port", str(port)]) == 1

    said = capsys.readouterr().err
    assert "Traceback" not in said
    assert f"พอร์ต {port} มีโปรแกรมอื่นใช้อยู่" in said
    assert f"Port {port} is in use" in said
    assert "bmabot demo --port " in said


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt() only")
def test_serve_has_glibc_give_large_freed_buffers_back_at_once() -> None:
    # Photos' pixels freed by the threads that checked them must not stay resident
    # (measured by `python -m bench`: RSS at the end of the c=64 cell).
    assert return_large_buffers() is True
