"""`bmabot serve` and `bmabot worker` as real processes for the tests: started, waited for,
killed at the end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import TEST_SECRET_KEY
from tests.emulators.line import LineEmulator
from tests.webhooks.line_world import ACCESS_TOKEN, CHANNEL_SECRET

BMABOT = Path(sys.executable).parent / "bmabot"
REVIEWER = "U" + "a1" * 16  # the one person BMABOT_REVIEWERS lets decide (serve needs a list)
# The log line each command writes once it is ready.
READY = {"serve": b"bmabot serving on", "worker": b"bmabot worker running"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Start = Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[LineEmulator, str]]:
    """The LINE emulator on a loopback port, and its address for BMABOT_LINE_API_URL."""
    line = LineEmulator(channel_secret=CHANNEL_SECRET, access_token=ACCESS_TOKEN)
    server = TestServer(line.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield line, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
    line.assert_no_violations()


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Starts `bmabot serve` (or `command="worker"`); whatever still runs at the end is killed."""
    started: list[asyncio.subprocess.Process] = []
    reading: list[asyncio.Task[None]] = []

    async def launch(
        env: dict[str, str], *arguments: str, command: str = "serve"
    ) -> asyncio.subprocess.Process:
        process = await serving(env, *arguments, command=command)
        assert process.stderr is not None
        # Its log is read on, or a full pipe would stop the server mid-sentence.
        reading.append(asyncio.create_task(_read_to_the_end(process.stderr)))
        started.append(process)
        return process

    try:
        yield launch
    finally:
        await _stop(started, reading)


async def _stop(
    started: list[asyncio.subprocess.Process], reading: list[asyncio.Task[None]]
) -> None:
    """Kill what still runs; its log is read to the end, but never waited for past 30 s."""
    for process in started:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                process.kill()
    waiting = [process.wait() for process in started]
    # A grandchild holding the log pipe open would keep the reading going for ever.
    await asyncio.wait_for(asyncio.gather(*waiting, *reading), timeout=30)


async def _read_to_the_end(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def serving(
    env: dict[str, str], *arguments: str, command: str = "serve"
) -> asyncio.subprocess.Process:
    """Start `bmabot serve` (or worker) and wait for its ready log line (no polling or sleep)."""
    process = await asyncio.create_subprocess_exec(
        str(BMABOT), command, *arguments, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, f"bmabot {command} exited before it was ready"
            if READY[command] in line:
                return process
    except BaseException:
        # Never ready (or the test was stopped meanwhile): it must not outlive the test.
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await asyncio.wait_for(process.wait(), timeout=30)
        raise


def serve_env(tmp_path: Path, api_url: str, port: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")},
        "BMABOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bmabot.db'}",
        "BMABOT_DATA_DIR": str(tmp_path / "data"),
        "BMABOT_SECRET_KEY": TEST_SECRET_KEY,
        "BMABOT_REVIEWERS": f"line:{REVIEWER}",
        "BMABOT_PORT": str(port),
        "BMABOT_LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "BMABOT_LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "BMABOT_LINE_API_URL": api_url,
        "BMABOT_LINE_DATA_API_URL": api_url,
        # What a killed process leased is taken over after this, instead of 20 s.
        "BMABOT_SEND_LEASE_SECONDS": "3",
        # The whole-form transcripts here type no one-time code (tests/conftest.py).
        "BMABOT_VERIFY_MOBILE": "false",
    }
