"""Telegram's flood limits kept on our side: per chat, per group and overall sliding windows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

POLL = 0.05  # how often to look again while every slot of a window is still being sent
PATIENCE = 5.0  # seconds worth waiting in line; a longer wait goes back to the outbox


class FloodWaitError(Exception):
    """Sending now would break a flood limit, and the wait is longer than worth holding for."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood limit: next slot in {seconds:.1f}s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Telegram's published limits; `scaled` shrinks the periods for tests."""

    per_chat: Rate = Rate(1, 1.0)  # one message a second in one chat
    per_group: Rate = Rate(20, 60.0)  # twenty a minute in a group
    overall: Rate = Rate(30, 1.0)  # about thirty a second for the whole bot

    def scaled(self, factor: float) -> FloodLimits:
        def scale(rate: Rate) -> Rate:
            return Rate(rate.count, rate.seconds * factor)

        return FloodLimits(scale(self.per_chat), scale(self.per_group), scale(self.overall))


@dataclass(slots=True)
class _Slot:
    started: float
    ended: float | None = None  # None while the request is on its way


@dataclass(slots=True)
class _Window:
    rate: Rate
    slots: list[_Slot] = field(default_factory=list)

    def delay(self, now: float) -> float:
        """How long until one more send fits; a send counts until `seconds` after it ended.

        Counting from the end (not the start) keeps the window true where Telegram measures
        it, on arrival: a request never arrives after its answer came back.
        """
        cutoff = now - self.rate.seconds
        self.slots = [s for s in self.slots if s.ended is None or s.ended > cutoff]
        if len(self.slots) < self.rate.count:
            return 0.0
        ended = [s.ended for s in self.slots if s.ended is not None]
        return min(ended) - cutoff if ended else min(POLL, self.rate.seconds)


class Throttle:
    """Waits before each message so that no window of FloodLimits is ever exceeded."""

    def __init__(
        self,
        limits: FloodLimits | None = None,
        *,
        patience: float = PATIENCE,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or FloodLimits()
        self.patience = patience
        self._now = now
        self._sleep = sleep
        self._overall = _Window(self.limits.overall)
        self._chats: dict[str, _Window] = {}
        self._groups: dict[str, _Window] = {}

    @asynccontextmanager
    async def slot(self, chat_id: str) -> AsyncIterator[None]:
        """Hold a place in every window that applies to this chat while the message is sent.

        Raises FloodWaitError rather than wait longer than `patience` (a group's minute
        quota): the caller hands the message back to be sent later, and other chats go on.
        """
        taken = await self._acquire(chat_id)
        try:
            yield
        finally:
            taken.ended = self._now()

    async def _acquire(self, chat_id: str) -> _Slot:
        windows = self._windows(chat_id)
        while True:
            now = self._now()
            wait = max(window.delay(now) for window in windows)
            if wait > self.patience:
                raise FloodWaitError(wait)
            if wait <= 0:
                taken = _Slot(now)
                for window in windows:
                    window.slots.append(taken)
                return taken
            await self._sleep(wait)

    def _windows(self, chat_id: str) -> list[_Window]:
        self._forget_idle()
        windows = [self._overall, self._window(self._chats, chat_id, self.limits.per_chat)]
        if is_group(chat_id):
            windows.append(self._window(self._groups, chat_id, self.limits.per_group))
        return windows

    @staticmethod
    def _window(windows: dict[str, _Window], chat_id: str, rate: Rate) -> _Window:
        if chat_id not in windows:
            windows[chat_id] = _Window(rate)
        return windows[chat_id]

    def _forget_idle(self) -> None:
        """Chats with nothing in their window are dropped, so memory follows activity."""
        if len(self._chats) + len(self._groups) < 1000:
            return
        now = self._now()
        for windows in (self._chats, self._groups):
            for chat_id in [c for c, w in windows.items() if w.delay(now) == 0 and not w.slots]:
                del windows[chat_id]


def is_group(chat_id: str) -> bool:
    """Group and supergroup ids are negative; a private chat has the user's positive id."""
    return chat_id.startswith(("-", "@"))
