"""`bmabot serve` as a real process: SIGKILL loses no acknowledged event, SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import TEST_SECRET_KEY
from tests.emulators.line import LineEmulator
from tests.webhooks.line_world import ACCESS_TOKEN, CHANNEL_SECRET

BMABOT = Path(sys.executable).parent / "bmabot"
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("BMABOT_TEST_DATABASE_URL")),
    reason="runs the server on its own SQLite file; the PostgreSQL run covers the same code",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[LineEmulator, str]]:
    line = LineEmulator(channel_secret=CHANNEL_SECRET, access_token=ACCESS_TOKEN)
    server = TestServer(line.app, host="127.0.0.1")
    await server.start_server()
    yield line, str(server.make_url("")).rstrip("/")
    await server.close()
    line.assert_no_violations()


async def start(env: dict[str, str], *arguments: str) -> asyncio.subprocess.Process:
    """Start `bmabot serve` and wait for its 'serving' log line (no polling, no sleeping)."""
    process = await asyncio.create_subprocess_exec(
        str(BMABOT), "serve", *arguments, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        assert line, "bmabot serve exited before serving"
        if b"bmabot serving on" in line:
            return process


async def test_acknowledged_events_survive_sigkill_and_are_handled_once(
    emulator: tuple[LineEmulator, str], tmp_path: Path
) -> None:
    line, api_url = emulator
    port = free_port()
    database = tmp_path / "bmabot.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")},
        "BMABOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BMABOT_DATA_DIR": str(tmp_path / "data"),
        "BMABOT_SECRET_KEY": TEST_SECRET_KEY,
        "BMABOT_PORT": str(port),
        "BMABOT_LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "BMABOT_LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "BMABOT_LINE_API_URL": api_url,
        "BMABOT_LINE_DATA_API_URL": api_url,
    }
    line.webhook_url = f"http://127.0.0.1:{port}/webhooks/line"
    people = [f"U{n:032x}" for n in range(3)]

    # A receiver only: it acknowledges and stores, and nobody handles yet.
    receiver = await start(env, "--receive-only")
    for person in people:
        assert (await line.send_text(person, "สมัคร"))[0] == 200
        assert (await line.send_text(person, "ค่ะ"))[0] == 200
    receiver.kill()
    await receiver.wait()
    assert all(line.received(person) == [] for person in people)

    server = await start(env)
    async with asyncio.timeout(60):
        await line.wait_until(lambda: all(len(line.received(p)) == 3 for p in people))
    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.wait(), timeout=60) == 0

    for person in people:
        texts = line.texts(person)
        assert len(texts) == 3  # terms, PDPA notice, the kind question: each exactly once
        assert "ประเภทใดคะ" in texts[-1]
    with sqlite3.connect(database) as connection:
        statuses = {row[0] for row in connection.execute("SELECT status FROM inbox_events")}
        unsent = connection.execute(
            "SELECT count(*) FROM outbox_messages WHERE status != 'sent'"
        ).fetchone()[0]
    assert (statuses, unsent) == ({"done"}, 0)
