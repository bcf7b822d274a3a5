"""Photos fetched, checked and staged ahead of their turns: a round never waits for one.

A photo event's turn needs the picture from the channel's servers, checked, re-encoded and
written encrypted (the slow part of the form). That work starts when the webhook has stored
the event (platforms keep sent photos only for a while: fetch on receipt), or else when a
round first reads it; the person sits out the rounds until their photo is ready, everyone
else's turns go on meanwhile, and the photo's turn joins the next round after it is ready.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.storage.documents import Photo

logger = logging.getLogger(__name__)

FORGET_AFTER = 600.0  # seconds a ready photo may wait unclaimed (its event handled elsewhere)
# Photos fetched and checked at a time, each holding its upload (10 MB at most) in memory.
# Most of a photo's time is waiting: for the platform to send it, then for one of the
# executor's threads (which bound the CPU work). With 8, the backlog after a launch-day load
# was the photos' queue, the machine a quarter idle: it drained in 4.2-6.7 s, with 16 in
# 1.8-1.9 s (issue 13, PostgreSQL, the whole form in 12 s).
AT_ONCE = 16


class Preparing(enum.Enum):
    """The photo of an event is still being fetched, checked and staged."""

    NOT_READY = enum.auto()


NOT_READY = Preparing.NOT_READY


@dataclass(slots=True)
class _Check:
    task: asyncio.Task[Photo]
    ready_at: float | None = None


class PhotoChecks:
    """The photo work in flight, by inbox event key; at most `at_once` photos at a time."""

    def __init__(
        self, ready: Callable[[], None], discard: Callable[[Photo], None], at_once: int = AT_ONCE
    ) -> None:
        self._ready = ready  # a photo is ready: its person can be read again
        self._discard = discard
        self._checks: dict[str, _Check] = {}
        self._fresh = False  # a photo became ready since wait() last answered
        self._at_once = asyncio.Semaphore(at_once)

    def waiting(self) -> list[str]:
        """Events whose photo is still being prepared: their people sit out the rounds."""
        return [key for key, check in self._checks.items() if not check.task.done()]

    def __contains__(self, key: str) -> bool:
        """Whether this event's photo is being prepared, or ready and not taken yet."""
        return key in self._checks

    def start(self, key: str, prepare: Callable[[], Awaitable[Photo]]) -> None:
        """Begin preparing the photo of this event, unless that is under way or done."""
        if key not in self._checks:
            task = asyncio.get_running_loop().create_task(self._prepared(prepare))
            self._checks[key] = check = _Check(task)
            task.add_done_callback(lambda _: self._done(check))

    def take(self, key: str, prepare: Callable[[], Awaitable[Photo]]) -> Photo | Preparing:
        """The photo of this event once ready (then forgotten here); NOT_READY while it is
        being prepared, begun now if it was not."""
        self.start(key, prepare)
        check = self._checks[key]
        if not check.task.done():
            return NOT_READY
        del self._checks[key]
        return check.task.result()

    async def wait(self) -> bool:
        """Until a photo is ready that was not when this was last asked; False when none is
        being prepared (a photo that became ready just before counts: its person was left
        out of the round that was reading then)."""
        if self._fresh:
            self._fresh = False
            return True
        tasks = [check.task for check in self._checks.values() if not check.task.done()]
        if not tasks:
            return False
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        self._fresh = False
        return True

    def forget_unclaimed(self, now: float) -> None:
        """Ready photos nobody came for (another server handled the event): discarded."""
        for key, check in list(self._checks.items()):
            if check.ready_at is not None and now - check.ready_at > FORGET_AFTER:
                del self._checks[key]
                self._discard(check.task.result())

    async def close(self) -> None:
        """Stop the work in flight and discard what was staged and never taken."""
        checks, self._checks = list(self._checks.values()), {}
        for check in checks:
            check.task.cancel()
        outcomes = await asyncio.gather(*(c.task for c in checks), return_exceptions=True)
        for outcome in outcomes:
            if not isinstance(outcome, BaseException):
                self._discard(outcome)

    async def _prepared(self, prepare: Callable[[], Awaitable[Photo]]) -> Photo:
        async with self._at_once:
            try:
                return await prepare()
            except Exception:
                logger.exception("a photo could not be fetched or checked")
                return None

    def _done(self, check: _Check) -> None:
        check.ready_at = asyncio.get_running_loop().time()
        self._fresh = True
        self._ready()
