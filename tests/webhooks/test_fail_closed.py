"""Nothing starts on guesses: `serve` needs its reviewer list, every command on stored data
needs the configured key (and makes none), weak keys and secrets are refused at start.
Only `bmabot demo` and `bmabot chat` make a key, each in a folder of its own."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.webhooks.serve_world import BMABOT, free_port
from tests.webhooks.telegram_world import TOKEN
from webhooks.cli import main

MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
REVIEW_GROUP = "C" + "4" * 32
REVIEWERS = "line:U" + "a1" * 16
LINE_SECRET, LINE_TOKEN = "9c9364b93bcee3886c6215bac64b9161", "line-access-token"
WEAK_KEYS = {
    "a x 32": "a" * 32,
    "32 digits": "81297244681336251934607384802184",
    "password x 4": "password" * 4,
    "32 spaces": " " * 32,
}
ON_STORED_DATA = {
    "worker": ["worker"],
    "jobs": ["jobs"],
    "jobs retry": ["jobs", "retry", "1"],
    "audit": ["audit", "--ref", "A69-00001"],
    "audit verify": ["audit", "verify"],
    "accounts": ["accounts", "suspend", "somchai.j", "--reason", "test"],
    "applications list": ["applications", "list"],
    "applications show": ["applications", "show", "A69-00001"],
    "applications export": ["applications", "export", "--format", "csv"],
    "stats": ["stats"],
    "serve": ["serve"],
}


@pytest.fixture
def workplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder to run bmabot in, with no BMABOT_* variable and no .env."""
    for name in list(os.environ):
        if name.startswith("BMABOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def made_nothing(workplace: Path) -> bool:
    """No key file, no database, no data folder: the command stopped before all of them."""
    return not any(workplace.rglob("*"))


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")}
    return env | {f"BMABOT_{name.upper()}": value for name, value in settings.items()}


@pytest.mark.parametrize("command", ON_STORED_DATA.values(), ids=ON_STORED_DATA.keys())
def test_a_command_on_stored_data_without_the_key_does_not_start_and_makes_none(
    workplace: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("BMABOT_REVIEWERS", REVIEWERS)  # only the key is missing

    assert main(command) == 2

    said = capsys.readouterr().err
    assert "BMABOT_SECRET_KEY: required" in said
    assert MAKE_A_KEY in said
    assert made_nothing(workplace)


def test_telegram_polling_without_the_key_does_not_start(
    workplace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BMABOT_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BMABOT_REVIEWERS", REVIEWERS)

    assert main(["telegram", "poll"]) == 2

    assert "BMABOT_SECRET_KEY: required" in capsys.readouterr().err
    assert made_nothing(workplace)


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_a_weak_key_is_refused_at_start_with_how_to_make_a_good_one(
    workplace: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str,
) -> None:
    monkeypatch.setenv("BMABOT_SECRET_KEY", key)

    assert main(["worker"]) == 2

    said = capsys.readouterr().err
    assert "BMABOT_SECRET_KEY: too weak" in said
    assert MAKE_A_KEY in said
    assert made_nothing(workplace)


def test_serve_without_a_reviewer_list_does_not_start(workplace: Path) -> None:
    # As an operator would run it: a separate process that must end by itself, at once.
    done = subprocess.run(
        [str(BMABOT), "serve"],
        env=clean_env(secret_key=TEST_SECRET_KEY, line_review_group_id=REVIEW_GROUP),
        cwd=workplace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "BMABOT_REVIEWERS: required" in done.stderr
    assert "group:any" in done.stderr  # how to let every member decide, when that is meant
    assert "Traceback" not in done.stderr
    assert made_nothing(workplace)


def test_serve_names_the_key_and_the_reviewers_at_once(
    workplace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve"]) == 2

    said = capsys.readouterr().err
    assert "BMABOT_SECRET_KEY: required" in said
    assert "BMABOT_REVIEWERS: required" in said


def test_telegram_polling_without_a_reviewer_list_does_not_start(
    workplace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BMABOT_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BMABOT_SECRET_KEY", TEST_SECRET_KEY)

    assert main(["telegram", "poll"]) == 2

    assert "BMABOT_REVIEWERS: required" in capsys.readouterr().err
    assert made_nothing(workplace)


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("line_channel_secret", "a", "a LINE channel secret is 32 hexadecimal characters"),
        ("line_channel_secret", "0" * 32, "too weak"),
        ("telegram_webhook_secret", "a", "too weak (it has 1 of the 32 characters needed)"),
        ("telegram_webhook_secret", "x" * 40, "too weak"),
    ],
    ids=["line one character", "line zeros", "telegram one character", "telegram x 40"],
)
def test_serve_refuses_a_weak_channel_secret(
    workplace: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    value: str,
    said: str,
) -> None:
    for name, good in clean_env(
        secret_key=TEST_SECRET_KEY,
        reviewers=REVIEWERS,
        line_channel_secret=LINE_SECRET,
        line_channel_access_token=LINE_TOKEN,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret="1WG-r20i3cPJy699S3Mi9h8LfcWj4aEFBcoN_Mk2",
    ).items():
        if name.startswith("BMABOT_"):
            monkeypatch.setenv(name, good)
    monkeypatch.setenv(f"BMABOT_{setting.upper()}", value)

    assert main(["serve"]) == 2

    error = capsys.readouterr().err
    assert f"BMABOT_{setting.upper()}: {said}" in error
    assert made_nothing(workplace)


@pytest.mark.skipif(
    bool(os.environ.get("BMABOT_TEST_DATABASE_URL")),
    reason="runs serve on its own SQLite file; the PostgreSQL run covers the same code",
)
async def test_serve_with_group_any_starts_and_names_the_group_in_the_log(
    workplace: Path,
) -> None:
    env = clean_env(
        secret_key=TEST_SECRET_KEY,
        reviewers="group:any",
        line_review_group_id=REVIEW_GROUP,
        port=str(free_port()),
    )
    process = await asyncio.create_subprocess_exec(
        str(BMABOT), "serve", env=env, cwd=workplace, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log = b""
    try:
        while b"bmabot serving on" not in log:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, f"serve ended before it was ready:\n{log.decode()}"
            log += line
        process.send_signal(signal.SIGTERM)
        log += await asyncio.wait_for(process.stderr.read(), timeout=60)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.wait_for(process.wait(), timeout=30)
    said = log.decode()
    assert "BMABOT_REVIEWERS=group:any: every member of these groups may decide" in said
    assert f"LINE review group {REVIEW_GROUP}" in said


def test_the_terminal_chat_makes_its_own_key_in_its_own_folder(
    workplace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/quit\n"))

    assert main(["chat", "--user", "somchai"]) == 0

    key = workplace / "var" / "chat" / "data" / "secret.key"
    assert key.exists()
    assert key.stat().st_mode & 0o777 == 0o600
    assert (workplace / "var" / "chat" / "bmabot.db").exists()
    assert sorted(p.name for p in (workplace / "var").iterdir()) == ["chat"]  # nothing else


def test_the_demo_makes_its_own_key_in_its_own_folder(workplace: Path) -> None:
    with socket.socket() as taken:  # the demo stops at the busy port, once it is set up
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        assert main(["demo", "--port", str(taken.getsockname()[1])]) == 1

    assert (workplace / "var" / "demo" / "data" / "secret.key").exists()
    assert sorted(p.name for p in (workplace / "var").iterdir()) == ["demo"]
