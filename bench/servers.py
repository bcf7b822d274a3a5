"""The servers under test, each its own process on 127.0.0.1, and what /proc says about them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

VENV_BIN = Path(sys.executable).parent
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Dropped and made again for every bmabot cell; BENCH_POSTGRES_DATABASE names another one.
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "bmabot_bench")
POSTGRES_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"
START_LIMIT = 90.0  # seconds a server may take to answer /healthz
TICKS = os.sysconf("SC_CLK_TCK")
LOCKED = re.compile(r"database is locked", re.IGNORECASE)
FAULT = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")


class ServerStartError(RuntimeError):
    """A server did not start, or stopped on its own."""


@dataclass(frozen=True, slots=True)
class Line:
    """The fake LINE API the servers call, and the channel they all share."""

    api_url: str
    channel_secret: str
    access_token: str


@dataclass(slots=True)
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    notes: list[str] = field(default_factory=list)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.process.pid)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log_faults(self) -> tuple[int, int, list[str]]:
        """'database is locked' lines, Traceback/ERROR lines, and the first few of them."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        lines = text.splitlines()
        locked = sum(1 for line in lines if LOCKED.search(line))
        faults = [line for line in lines if FAULT.search(line)]
        return locked, len(faults), faults[:12]

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.notes.append("did not stop within 30 s of SIGTERM: killed")
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bmabot_command(
    line: Line, database_url: str, folder: Path, port: int, secret_key: str
) -> tuple[list[str], dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BMABOT_")}
    env |= {
        "BMABOT_DATABASE_URL": database_url,
        "BMABOT_DATA_DIR": str(folder / "data"),
        "BMABOT_SECRET_KEY": secret_key,
        "BMABOT_LINE_CHANNEL_SECRET": line.channel_secret,
        "BMABOT_LINE_CHANNEL_ACCESS_TOKEN": line.access_token,
        "BMABOT_REVIEWERS": "group:any",  # serve needs a list; the load decides nothing
        "BMABOT_LINE_API_URL": line.api_url,
        "BMABOT_LINE_DATA_API_URL": line.api_url,
        "BMABOT_HOST": "127.0.0.1",
        "BMABOT_PORT": str(port),
        "BMABOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BMABOT_SMS_OUTBOX": str(folder / "sms-outbox.jsonl"),
        # The walk stays the form the numbers were measured on: the mobile code's SMS is a
        # job beside the turns, and the applicants here cannot read an SMS to type it back.
        "BMABOT_VERIFY_MOBILE": "false",
    }
    return [str(VENV_BIN / "bmabot"), "serve"], env


def module_command(module: str, line: Line, port: int) -> tuple[list[str], dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BMABOT_")}
    env |= {
        "LINE_CHANNEL_SECRET": line.channel_secret,
        "LINE_CHANNEL_ACCESS_TOKEN": line.access_token,
    }
    command = [sys.executable, "-m", f"bench.{module}", "--port", str(port)]
    if module == "peer_bot":
        command += ["--api-url", line.api_url, "--data-api-url", line.api_url]
    return command, env


@dataclass(frozen=True, slots=True)
class Deployment:
    """What the bmabot processes of one cell share: database, photo folder (the cell's) and key."""

    database_url: str | None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(36))  # 48 characters


def launch(name: str, line: Line, folder: Path, deployment: Deployment, copy: int = 1) -> Server:
    """Start one server in its own process, its output in a log file of the cell's folder."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    if name == "bmabot":
        database_url, key = deployment.database_url, deployment.secret_key
        assert database_url is not None
        command, env = bmabot_command(line, database_url, folder, port, key)
        cwd = folder  # no .env of the project's folder is read
    else:
        module = f"{name}_server" if name == "bare" else "peer_bot"
        command, env = module_command(module, line, port)
        cwd = Path(__file__).resolve().parent.parent
    log = folder / (f"{name}.log" if copy == 1 else f"{name}-{copy}.log")
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
    return Server(name, process, f"http://127.0.0.1:{port}", log)


async def start(
    name: str, line: Line, folder: Path, deployment: Deployment, copy: int = 1
) -> Server:
    """Start one server and wait until GET /healthz answers 200."""
    server = launch(name, line, folder, deployment, copy)
    await _wait_healthy(server)
    return server


async def _wait_healthy(server: Server) -> None:
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() - started < START_LIMIT:
            if server.process.poll() is not None:
                tail = server.log.read_text(errors="replace")[-1500:]
                raise ServerStartError(
                    f"{server.name} exited ({server.process.returncode}): {tail}"
                )
            try:
                async with http.get(f"{server.url}/healthz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    await server.stop()
    raise ServerStartError(
        f"{server.name}: /healthz did not answer 200 within {START_LIMIT:.0f} s"
    )


async def fresh_postgres() -> str:
    """Drop and create the benchmark's own database; the URL bmabot uses for it."""
    connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
    finally:
        await connection.close()
    return POSTGRES_URL


async def drop_postgres() -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
    finally:
        await connection.close()


async def postgres_backends() -> list[int]:
    """The server processes connected to the benchmark's database (bmabot's connections)."""
    connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", POSTGRES_DATABASE
        )
    finally:
        await connection.close()
    return [int(row["pid"]) for row in rows]


def cpu_of(pids: list[int]) -> float:
    """utime + stime of these processes so far; one that has gone counts no more."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += proc_cpu_seconds(pid)
    return total


async def scrape_metrics(server: Server) -> str:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"{server.url}/metrics") as response,
    ):
        return f"# HTTP {response.status}\n{await response.text()}"
