"""python -m bench: launch-day throughput of bmabot beside a line-bot-sdk peer and a bare server.

Every cell (server x database x concurrency) starts its server afresh on 127.0.0.1, drives
signed LINE webhooks of applicants walking the real staff form for --duration seconds, waits
for the replies to drain, and reads the server's CPU time, memory and log. The fake LINE API
and the load driver share this process (and its clock); each server is its own process.
The approvals cell (one per database) runs `bmabot worker` on approved requests against a
real slapd and a fake SMS gateway and counts the accounts it makes per second.
The tables are printed at the end and written to bench/results/latest.md and latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from tqdm import tqdm

from bench.applicant import STAFF_FORM
from bench.approvals import ApprovalsCell, run_approvals
from bench.cell import Cell, Result, Settings, run_cell
from bench.fake_line import FakeLine
from bench.fake_sms import FakeSms
from bench.load import Load
from bench.provenance import code_version
from bench.report import add_ratios, approvals_table, table, write
from bench.servers import Line
from bench.slapd import INSTALL_HINT, installed
from bench.wrk_load import wrk_path

SERVERS = ("bare", "peer", "bmabot")
APPROVALS = "approvals"  # --only approvals: the approvals cell alone
NOTES = (
    "acks/s: webhooks answered 200 during the load; ack latency: webhook sent → HTTP answer.",
    "turns/s: replies (or pushes) that reached the fake LINE API during the load ÷ duration; "
    "turn latency: webhook sent → its reply received, drain included.",
    "backlog: events acknowledged but not yet answered when the load stopped; drain s: "
    "how long after the load the last of them was answered.",
    "CPU ms/turn: the server process's utime+stime from the start of the load to the end of "
    "the drain ÷ turns answered (bare: ÷ acks). RSS at the end.",
    "locked / log errors: 'database is locked' lines and Traceback/ERROR lines in the log.",
    "form walked: each bmabot cell first walks one pilot applicant through the whole form "
    f"({len(STAFF_FORM)} steps, reading the buttons) and files it (its reference); then how "
    "far the load's "
    "applicants got and how many filed (a reply with a reference such as A69-00042).",
    "users done in N s: every applicant filed before the time was up; rates are over N s.",
    "The peer replies before answering the webhook (the SDK example's way), "
    "so its acks are turns.",
    "×2: two `bmabot serve` processes on one PostgreSQL database (docs/deploy.md's scale-out "
    "on one machine), each taking half of the users and of the senders; CPU ms/turn is both "
    "processes' together, RSS the larger one's.",
)
DRIVERS = {
    "wrk": "wrk, one thread and connection per sender, bench/walk.lua holding each user's next "
    "webhook until the previous one is answered; the webhooks signed beforehand",
    "aiohttp": "aiohttp client in the driver's process (wrk not installed, or --driver aiohttp)",
}
APPROVAL_NOTES = (
    "approvals: N staff applications filed and approved (the review handler's turn on the "
    "approve button) before one `bmabot worker` process starts; it creates each account in a "
    "fresh OpenLDAP slapd (scripts/test-slapd.sh), sets the temporary password and sends it "
    "to a fake SMS gateway (HTTP, loopback, in the driver's process).",
    "accounts/s: SMS received after the first one ÷ seconds from the first SMS to the last "
    "(the worker's start and imports are left out; 'first SMS after start' shows them).",
    "CPU ms/account: utime+stime between the first and the last SMS ÷ accounts, of the "
    "worker, of slapd and (PostgreSQL) of the server processes of the worker's connections "
    "(those read within 20 ms of the SMS); worker RSS when the last SMS landed.",
    "once each: one LDAP entry per request (by reference), distinct user names, one SMS per "
    "request and number naming that entry, every account.create job done, every "
    "application account_created, and the last SMS's password must be changed at log-in.",
)


def arguments() -> argparse.Namespace:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    top.add_argument("--quick", action="store_true", help="c=1,4, 2 s, 50 users, SQLite")
    top.add_argument("--duration", type=float, help="seconds of load per cell (default 10)")
    top.add_argument("--users", type=int, help="applicants per cell (default 1000)")
    top.add_argument("--concurrency", help="senders in flight, e.g. 1,16,64 (the default)")
    top.add_argument("--databases", help="bmabot's databases: sqlite,postgres (the default)")
    top.add_argument("--postgres", action="store_true", help="with --quick: PostgreSQL too")
    top.add_argument(
        "--only",
        default=",".join((*SERVERS, APPROVALS)),
        help="cells: bmabot,peer,bare,approvals (all by default)",
    )
    top.add_argument("--accounts", type=int, help="approved requests per approvals cell (500)")
    top.add_argument("--drain", type=float, default=30.0, help="longest wait for the backlog")
    top.add_argument(
        "--processes",
        type=int,
        help="also bmabot on PostgreSQL as this many serve processes sharing the database, "
        "at the highest concurrency (default 2; --quick: none)",
    )
    top.add_argument(
        "--driver",
        choices=("wrk", "aiohttp"),
        help="the load's sender: wrk where installed (the default), else an aiohttp client",
    )
    options = top.parse_args()
    quick = options.quick
    options.duration = options.duration or (2.0 if quick else 10.0)
    options.users = options.users or (50 if quick else 1000)
    options.accounts = options.accounts or (50 if quick else 500)
    options.processes = options.processes or (1 if quick else 2)
    options.concurrency = options.concurrency or ("1,4" if quick else "1,16,64")
    default_databases = "sqlite,postgres" if options.postgres or not quick else "sqlite"
    options.databases = options.databases or default_databases
    options.wrk = wrk_path() if options.driver in (None, "wrk") else None
    if options.driver == "wrk" and options.wrk is None:
        raise SystemExit("--driver wrk: wrk is not installed (apt-get install wrk)")
    return options


def plan(options: argparse.Namespace) -> list[Cell]:
    """Interleaved: at each concurrency every server once, so they share the machine's state."""
    only, databases = _only(options), _databases(options)
    cells = []
    levels = [int(c) for c in options.concurrency.split(",")]
    for concurrency in levels:
        for server in (name for name in SERVERS if name in only):
            for database in databases if server == "bmabot" else ["-"]:
                cells.append(Cell(server, database, concurrency))
    processes, highest = options.processes, max(levels)
    if processes > 1 and "bmabot" in only and "postgres" in databases and highest >= processes:
        cells.append(Cell("bmabot", "postgres", highest, processes))  # scale-out: one machine
    return cells


def plan_approvals(options: argparse.Namespace) -> list[ApprovalsCell]:
    if APPROVALS not in _only(options):
        return []
    return [ApprovalsCell(database, options.accounts) for database in _databases(options)]


def _only(options: argparse.Namespace) -> list[str]:
    only = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(only) - {*SERVERS, APPROVALS}
    if unknown:
        raise SystemExit(f"--only: unknown cells {sorted(unknown)}")
    return only


def _databases(options: argparse.Namespace) -> list[str]:
    databases = [name.strip() for name in options.databases.split(",") if name.strip()]
    if set(databases) - {"sqlite", "postgres"}:
        raise SystemExit("--databases: sqlite and/or postgres")
    return databases


async def main(options: argparse.Namespace) -> int:
    cells, approval_cells = plan(options), plan_approvals(options)
    load_before = os.getloadavg()[0]  # other work on the machine skews every number
    code = await asyncio.to_thread(code_version)  # when it starts; each cell records its own
    results = await run_load_cells(cells, options) if cells else []
    approvals = await run_approval_cells(approval_cells) if approval_cells else []
    add_ratios(results)
    setup = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after, "
        f"Python {platform.python_version()}",
        "users": options.users,
        "duration": options.duration,
        "concurrency": options.concurrency,
        "accounts": options.accounts if approval_cells else None,
        "bmabot_code": code,
        "driver": DRIVERS["wrk" if options.wrk else "aiohttp"],
        "notes": list(NOTES),
        "approval_notes": list(APPROVAL_NOTES),
    }
    path = write(results, setup, approvals=approvals if approval_cells else None)
    if approvals:  # first: CI shows the last lines, the load table's
        print(approvals_table(approvals) + ("\n" if results else ""))
    if results:
        print(table(results))
    print(f"\nwritten: {path} and {path.with_suffix('.json')}")
    failed = [result["cell"] for result in [*results, *approvals] if "error" in result]
    failed += [r["cell"] for r in approvals if "error" not in r and r.get("once_each") is False]
    if failed:
        print(f"failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


async def run_approval_cells(cells: list[ApprovalsCell]) -> list[Result]:
    """Each approvals cell with its own slapd and database; one fake SMS gateway for all."""
    if not installed():
        if os.environ.get("CI"):  # CI installs slapd: a silent skip there would hide the cell
            return [
                {"cell": cell.name, "server": APPROVALS, "error": INSTALL_HINT} for cell in cells
            ]
        return [
            {"cell": cell.name, "server": APPROVALS, "skipped": INSTALL_HINT} for cell in cells
        ]
    sms = FakeSms(secrets.token_urlsafe(24), time.monotonic)
    runner = web.AppRunner(sms.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bmabot-bench-approvals-") as temporary:
            for number, cell in enumerate(cells, start=1):
                print(f"{cell.name}: preparing and running", file=sys.stderr)
                folder = Path(temporary) / f"{number:02d}-{cell.database}"
                try:
                    results.append(
                        await run_approvals(cell, folder, sms, f"http://{host}:{port}/sms")
                    )
                except Exception as error:  # reported; the other cells still run
                    message = f"{type(error).__name__}: {error}".replace("\n", " ")
                    results.append({"cell": cell.name, "server": APPROVALS, "error": message})
                    print(f"{cell.name} failed: {message[:500]}", file=sys.stderr)
    finally:
        await runner.cleanup()
    return results


async def run_load_cells(cells: list[Cell], options: argparse.Namespace) -> list[Result]:
    line = Line("", secrets.token_hex(16), secrets.token_urlsafe(32))
    fake = FakeLine(line.access_token, time.monotonic)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    line = Line(f"http://{host}:{port}", line.channel_secret, line.access_token)
    settings = Settings(options.duration, options.users, options.drain, options.wrk)
    results: list[Result] = []
    bar = tqdm(total=len(cells) * options.duration, unit="s", file=sys.stderr, leave=True)
    bar.bar_format = "{l_bar}{bar}| {n:.0f}/{total:.0f} s of load [{elapsed}] {postfix}"
    try:
        with tempfile.TemporaryDirectory(prefix="bmabot-bench-") as temporary:
            for number, cell in enumerate(cells, start=1):
                base = (number - 1) * options.duration
                bar.set_postfix_str(f"{cell.name}: starting")

                def tick(
                    elapsed: float, load: Load, cell: Cell = cell, base: float = base
                ) -> None:
                    bar.n = base + elapsed
                    acked = f"{len(load.acked)} acked" if load.acked else "load running"
                    bar.set_postfix_str(f"{cell.name}: {acked}")

                folder = Path(temporary) / f"{number:02d}-{cell.name.replace('/', '-')}"
                try:
                    results.append(
                        await run_cell(cell, number, line, fake, folder, settings, tick)
                    )
                except Exception as error:  # one broken cell is reported, the rest still run
                    message = f"{type(error).__name__}: {error}".replace("\n", " ")
                    results.append({"cell": cell.name, "server": cell.server, "error": message})
                    bar.write(f"{cell.name} failed: {message[:500]}")
                bar.n = number * options.duration
                bar.refresh()
    finally:
        bar.close()
        await runner.cleanup()
    return results


if __name__ == "__main__":
    sys.exit(asyncio.run(main(arguments())))
