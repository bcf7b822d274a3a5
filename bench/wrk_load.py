"""The load driven by wrk: the same walk as bench/load.py's aiohttp senders, in C.

The Python driver cost about 0.7 ms of CPU a webhook (building, signing, aiohttp's client),
on the same two cores as the server under test. wrk (issue 13: "wrk where installed") runs
one thread per connection with bench/walk.lua, which holds each user's next webhook until
the previous one is answered 200. The webhooks are built and signed here beforehand: a
user's whole walk, with the buttons the pilot found, split over the connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.applicant import STAFF_FORM, Applicant
from bench.load import Acked, Load, clock

WALK = Path(__file__).with_name("walk.lua")
TICK = 0.25  # seconds between progress ticks
STOP_LIMIT = 30.0  # seconds wrk may run past its duration before it is killed


def wrk_path() -> str | None:
    return shutil.which("wrk")


async def drive_wrk(
    wrk: str,
    url: str,
    secret: str,
    applicants: Sequence[Applicant],
    taps: dict[int, str],
    concurrency: int,
    duration: float,
    folder: Path,
    tick: Callable[[float, Load], None],
) -> Load:
    connections = max(1, min(concurrency, len(applicants)))
    seconds = max(1, math.ceil(duration))  # wrk takes whole seconds
    users = _write_walks(folder, secret, applicants, taps, connections)
    command = [wrk, f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(WALK), url, "--", str(folder)]
    load = Load(clock(), float(seconds))
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output = await _wait(process, load, tick)
    if process.returncode != 0 or not _read_acks(folder / "acks.tsv", load, users):
        raise RuntimeError(f"wrk failed ({process.returncode}): {output[-500:]}")
    if all(applicant.done for applicant in applicants) and load.acked:
        load.ran_out = True  # every user filed before the time was up: rate over less
        load.duration = max(ack.acked_at for ack in load.acked) - load.started
    return load


def _write_walks(
    folder: Path,
    secret: str,
    applicants: Sequence[Applicant],
    taps: dict[int, str],
    connections: int,
) -> dict[str, Applicant]:
    """walk-<n>.tsv for wrk's thread n: its users' webhooks, each user's in form order."""
    users: dict[str, Applicant] = {}
    folder.mkdir(parents=True, exist_ok=True)
    files = [(folder / f"walk-{n}.tsv").open("w") for n in range(1, connections + 1)]
    try:
        for index, applicant in enumerate(applicants):
            users[applicant.user_id] = applicant
            out = files[index % connections]
            start = applicant.step
            for step in range(start, len(STAFF_FORM)):
                applicant.step = step
                token, body, signature = applicant.webhook(secret, taps)
                out.write(f"{applicant.user_id}\t{token}\t{signature}\t{body.decode()}\n")
            applicant.step = start  # moved on by the answers wrk records
    finally:
        for out in files:
            out.close()
    return users


async def _wait(
    process: asyncio.subprocess.Process, load: Load, tick: Callable[[float, Load], None]
) -> str:
    assert process.stdout is not None
    reading = asyncio.ensure_future(process.stdout.read())
    limit = load.duration + STOP_LIMIT
    while not reading.done():
        await asyncio.wait([reading], timeout=TICK)
        elapsed = clock() - load.started
        tick(min(elapsed, load.duration), load)
        if elapsed > limit:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    await process.wait()
    return (await reading).decode(errors="replace")


def _read_acks(path: Path, load: Load, users: dict[str, Applicant]) -> bool:
    """What walk.lua's done() wrote into the load; False when it wrote nothing."""
    if not path.exists():
        return False
    acked: list[Acked] = []
    for line in path.read_text().splitlines():
        kind, *fields = line.split("\t")
        if kind == "ack":
            token, user_id, step, sent_at, acked_at = fields
            acked.append(Acked(token, user_id, int(step), float(sent_at), float(acked_at)))
        elif kind == "status":
            load.statuses[int(fields[0])] += int(fields[1])
        elif kind == "resent" and int(fields[0]):
            load.errors["sent again after a broken connection"] += int(fields[0])
    acked.sort(key=lambda ack: ack.sent_at)
    load.acked = acked
    if acked:
        load.started = acked[0].sent_at  # wrk's clock starts once its threads are ready
    steps = Counter[str]()
    for ack in acked:
        steps[ack.user_id] += 1
    for user_id, applicant in users.items():
        applicant.step += steps[user_id]
    return True
