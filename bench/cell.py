"""One cell of the benchmark: a fresh server (and database), the load, the drain, the numbers."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.applicant import STAFF_FORM, Applicant, walk_pilot
from bench.fake_line import FakeLine
from bench.load import Load, drain, drive, finish_times, merge
from bench.provenance import code_version
from bench.servers import (
    Deployment,
    Line,
    Server,
    drop_postgres,
    fresh_postgres,
    scrape_metrics,
    start,
)
from bench.wrk_load import drive_wrk

Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Cell:
    server: str  # bmabot | peer | bare
    database: str  # sqlite | postgres; "-" for the servers without one
    concurrency: int
    processes: int = 1  # bmabot on PostgreSQL: serve processes, each taking its share of users

    @property
    def name(self) -> str:
        database = "" if self.database == "-" else f"/{self.database}"
        processes = f" ×{self.processes}" if self.processes > 1 else ""
        return f"{self.server}{database}{processes} c={self.concurrency}"


@dataclass(frozen=True, slots=True)
class Settings:
    duration: float
    users: int
    drain_limit: float
    wrk: str | None  # wrk's path: the load is wrk's; None: bench/load.py's aiohttp senders


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile; None when there is nothing to rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


async def run_cell(
    cell: Cell,
    number: int,
    line: Line,
    fake: FakeLine,
    folder: Path,
    settings: Settings,
    tick: Callable[[float, Load], None],
) -> Result:
    fake.reset()
    database_url = None
    if cell.database == "sqlite":
        database_url = f"sqlite+aiosqlite:///{folder}/bmabot.db"
    elif cell.database == "postgres":
        database_url = await fresh_postgres()
    code = await asyncio.to_thread(code_version) if cell.server == "bmabot" else None
    result: Result = {"cell": cell.name, "server": cell.server, "database": cell.database}
    result |= {"concurrency": cell.concurrency, "processes": cell.processes, "code": code}
    deployment, servers = Deployment(database_url), list[Server]()
    try:
        try:
            for copy in range(1, cell.processes + 1):  # one by one: the first migrates
                servers.append(await start(cell.server, line, folder, deployment, copy))
            result |= await _measure(cell, servers, number, line, fake, folder, settings, tick)
        finally:
            for server in servers:
                await server.stop()
    finally:
        if cell.database == "postgres":
            await drop_postgres()
    return result | _log(servers) | {"server_notes": [n for s in servers for n in s.notes]}


async def _measure(
    cell: Cell,
    servers: list[Server],
    number: int,
    line: Line,
    fake: FakeLine,
    folder: Path,
    settings: Settings,
    tick: Callable[[float, Load], None],
) -> Result:
    """The pilot (bmabot), the load, the drain; then the numbers, read before the servers stop.

    With several processes each takes its share of the users and of the senders (as a load
    balancer keeping a person on one server would); CPU is theirs together, RSS the largest.
    """
    result: Result = {}
    urls = [f"{server.url}/webhooks/line" for server in servers]
    taps: dict[int, str] = {}
    if cell.server == "bmabot":
        pilot = await walk_pilot(
            _sender(urls[0]), fake, Applicant.make(number, 0), line.channel_secret
        )
        taps = pilot.taps
        result["pilot"] = {"reference": pilot.reference, "seconds": round(pilot.seconds, 2)}
        fake.reset()  # the numbers are the load's only
    applicants = [Applicant.make(number, n) for n in range(1, settings.users + 1)]
    cpu_before = sum(server.cpu_seconds() for server in servers)
    shares = len(servers)
    loads = await asyncio.gather(
        *(
            _drive(
                settings, urls[n], line.channel_secret, applicants[n::shares], taps,
                cell.concurrency // shares, folder / f"wrk-{n + 1}", tick if n == 0 else _quiet,
            )
            for n in range(shares)
        )
    )  # fmt: skip
    load = merge(loads)
    drained: tuple[float | None, int] = (0.0, 0)
    if cell.server != "bare":
        drained = await drain(load, fake, settings.drain_limit)
    cpu = sum(server.cpu_seconds() for server in servers) - cpu_before
    result |= _numbers(load, fake, cell.server, cpu)
    result |= {"drain_s": _round(drained[0]), "not_drained": drained[1]}
    rss = max(server.rss_mb() for server in servers)
    result |= {"rss_mb": round(rss, 1), "users": len(applicants)}
    if cell.server == "bmabot":
        result["metrics"] = await scrape_metrics(servers[0])
    return result


async def _drive(
    settings: Settings,
    url: str,
    secret: str,
    applicants: Sequence[Applicant],
    taps: dict[int, str],
    concurrency: int,
    folder: Path,
    tick: Callable[[float, Load], None],
) -> Load:
    duration = settings.duration
    if settings.wrk:
        return await drive_wrk(
            settings.wrk, url, secret, applicants, taps, concurrency, duration, folder, tick
        )
    return await drive(url, secret, applicants, taps, concurrency, duration, tick)


def _quiet(elapsed: float, load: Load) -> None:
    """The progress of a second share of the load: the first one's ticks show it."""


def _numbers(load: Load, fake: FakeLine, server: str, cpu: float) -> Result:
    finished = finish_times(load, fake)
    turns = [(ack, at) for ack, at in zip(load.acked, finished, strict=True) if at is not None]
    in_window = sum(1 for _, at in turns if at <= load.stopped)
    backlog = sum(1 for at in finished if at is None or at > load.stopped)
    per = len(turns) if server != "bare" else len(load.acked)
    last_step = len(STAFF_FORM) - 1
    replies = list(fake.replies.values())
    pushed = [delivery for deliveries in fake.pushes.values() for delivery in deliveries]
    return {
        "duration_s": round(load.duration, 3),
        "ran_out_of_users": load.ran_out,
        "acked": len(load.acked),
        "acks_per_s": round(len(load.acks_in_window()) / load.duration, 1),
        "ack_p50_ms": ms(percentile([a.acked_at - a.sent_at for a in load.acked], 0.5)),
        "ack_p99_ms": ms(percentile([a.acked_at - a.sent_at for a in load.acked], 0.99)),
        "turns": len(turns),
        "turns_per_s": round(in_window / load.duration, 1),
        "turn_p50_ms": ms(percentile([at - ack.sent_at for ack, at in turns], 0.5)),
        "turn_p99_ms": ms(percentile([at - ack.sent_at for ack, at in turns], 0.99)),
        "backlog": backlog,
        "cpu_ms_per_turn": round(cpu * 1000 / per, 2) if per else None,
        "cpu_s": round(cpu, 2),
        "http_5xx": sum(n for status, n in load.statuses.items() if status >= 500),
        "statuses": {str(status): n for status, n in sorted(load.statuses.items())},
        "errors": dict(load.errors),
        "pushes": len(pushed),
        "at_summary": sum(1 for ack in load.acked if ack.step == last_step),
        "deepest_step": max((ack.step + 1 for ack in load.acked), default=0),
        "filed": sum(1 for d in [*replies, *pushed] if d.reference),
        "steps": len(STAFF_FORM),
        "line_calls": dict(fake.calls),
        "line_problems": dict(fake.problems),
    }


def _log(servers: list[Server]) -> Result:
    found = [server.log_faults() for server in servers]
    locked, faults = sum(f[0] for f in found), sum(f[1] for f in found)
    return {
        "db_locked": locked,
        "log_errors": faults,
        "log_error_lines": [line for f in found for line in f[2]][:12],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _sender(url: str) -> Callable[[str, bytes, str], Any]:
    async def send(token: str, body: bytes, signature: str) -> int:
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.post(url, data=body, headers=headers) as response,
        ):
            await response.read()
            return response.status

    return send
