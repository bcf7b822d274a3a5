"""The load driver: c senders walk applicants through the form with signed LINE webhooks.

A user's next webhook goes only after the previous one was acknowledged (HTTP 200); the
users waiting for their turn form one queue, so users interleave. The load stops by itself
after `duration` seconds: no webhook starts later, and those still in flight are cut off
after a short grace.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.applicant import Applicant
from bench.fake_line import FakeLine

GRACE = 5.0  # seconds a webhook in flight at the end may still take
clock = time.monotonic


@dataclass(frozen=True, slots=True)
class Acked:
    token: str
    user_id: str
    step: int
    sent_at: float
    acked_at: float


@dataclass(slots=True)
class Load:
    started: float
    duration: float
    acked: list[Acked] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    ran_out: bool = False

    @property
    def stopped(self) -> float:
        return self.started + self.duration

    def acks_in_window(self) -> list[Acked]:
        return [ack for ack in self.acked if ack.acked_at <= self.stopped]


async def drive(
    url: str,
    secret: str,
    applicants: Sequence[Applicant],
    taps: dict[int, str],
    concurrency: int,
    duration: float,
    tick: Callable[[float, Load], None],
) -> Load:
    ready = deque(applicants)
    load = Load(clock(), duration)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "LineBotWebhook/2.0",
    }
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=duration + 2 * GRACE)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def sender() -> None:
            while clock() < load.stopped:
                if not ready:
                    if all(applicant.done for applicant in applicants):
                        return
                    await asyncio.sleep(0.005)
                    continue
                applicant = ready.popleft()
                token, body, signature = applicant.webhook(secret, taps)
                sent_at = clock()
                try:
                    async with http.post(
                        url, data=body, headers={**headers, "X-Line-Signature": signature}
                    ) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as error:
                    load.errors[type(error).__name__] += 1
                    ready.append(applicant)  # the same step again, as a new event
                    await asyncio.sleep(0.01)
                    continue
                load.statuses[status] += 1
                if status == 200:
                    load.acked.append(
                        Acked(token, applicant.user_id, applicant.step, sent_at, clock())
                    )
                    applicant.step += 1
                if not applicant.done:
                    ready.append(applicant)

        senders = [asyncio.create_task(sender()) for _ in range(concurrency)]
        while clock() < load.stopped and not all(task.done() for task in senders):
            await asyncio.sleep(0.25)
            tick(min(clock(), load.stopped) - load.started, load)
        if all(applicant.done for applicant in applicants) and load.acked:
            load.ran_out = True  # every user filed before the time was up: rate over less
            load.duration = max(ack.acked_at for ack in load.acked) - load.started
        _, cut = await asyncio.wait(senders, timeout=GRACE)
        for task in cut:
            task.cancel()
        if cut:
            load.errors["cut off at the end"] = len(cut)
        outcomes = await asyncio.gather(*senders, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):  # not CancelledError: a BaseException
            raise outcome  # a fault of the driver itself: the cell failed to run
    return load


def merge(loads: Sequence[Load]) -> Load:
    """Loads that ran side by side (one per server) as one: its acks in the order sent."""
    if len(loads) == 1:
        return loads[0]
    merged = Load(min(load.started for load in loads), max(load.duration for load in loads))
    merged.acked = sorted((ack for load in loads for ack in load.acked), key=lambda a: a.sent_at)
    for load in loads:
        merged.statuses.update(load.statuses)
        merged.errors.update(load.errors)
    merged.ran_out = all(load.ran_out for load in loads)
    return merged


def finish_times(load: Load, fake: FakeLine) -> list[float | None]:
    """When each acknowledged event was answered: its reply token used, else a push to the user.

    A push is matched to the user's oldest unanswered event sent before it (bmabot pushes
    once a reply token is too old); pushes left over are extra messages, not turns.
    """
    pushes = {user: deque(sorted(d.at for d in sent)) for user, sent in fake.pushes.items()}
    finished: list[float | None] = []
    for ack in load.acked:
        reply = fake.replies.get(ack.token)
        if reply is not None:
            finished.append(reply.at)
            continue
        waiting = pushes.get(ack.user_id)
        while waiting and waiting[0] < ack.sent_at:
            waiting.popleft()
        finished.append(waiting.popleft() if waiting else None)
    return finished


async def drain(load: Load, fake: FakeLine, limit: float) -> tuple[float | None, int]:
    """Wait until every acknowledged event is answered: (seconds after the load, left over)."""
    while True:
        left = sum(1 for at in finish_times(load, fake) if at is None)
        if left == 0:
            last = max((at for at in finish_times(load, fake) if at is not None), default=0.0)
            return max(0.0, last - load.stopped), 0
        if clock() - load.stopped > limit:
            return None, left
        await asyncio.sleep(0.2)
