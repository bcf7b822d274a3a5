"""Rate limits per chat user: messages a minute, photos an hour, requests a day.

Each person has a sliding window per limit, in this process's memory: the times of the
events it let through, oldest first. Asking costs O(1) (amortised) and no SQL, so it sits on
the dispatcher's hot path. An event over a limit is still handled, as refused: the person's
state stays as it was, and they are told once a notice period (a minute), not per event;
each notice is one line in the security log with the number refused before it.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.flows.engine import FlowState, Turn
from bot.flows.incoming import Incoming
from bot.flows.outgoing import SubmitApplication, Text
from core.audit.security_log import Event, security_event

NOTICE_EVERY = 60.0  # seconds: at most one notice per person and limit in this time
SWEEP_AT = 4096  # windows kept before idle ones are dropped (then twice as many, ...)


class Limit(StrEnum):
    MESSAGES = "messages"
    PHOTOS = "photos"
    REQUESTS = "requests"


NOTICES = {
    Limit.MESSAGES: "limits.messages",
    Limit.PHOTOS: "limits.photos",
    Limit.REQUESTS: "limits.requests",
}


@dataclass(frozen=True, slots=True)
class Allowance:
    """How many events of a kind a person may send in a period (0: no limit)."""

    most: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Admission:
    """An event's turn; `refused` names the limit it is over (its turn then changes nothing)."""

    turn: Turn
    refused: Limit | None = None


@dataclass(slots=True)
class _Window:
    times: deque[float] = field(default_factory=deque)  # let through, oldest first
    quiet_until: float = float("-inf")  # no notice before this time
    refused: int = 0  # since the last notice


class RateLimits:
    """The limits of this process; `unlimited()` lets everything through."""

    def __init__(
        self, messages_per_minute: int = 30, photos_per_hour: int = 20, requests_per_day: int = 3
    ) -> None:
        self.allowances = {
            Limit.MESSAGES: Allowance(messages_per_minute, 60.0),
            Limit.PHOTOS: Allowance(photos_per_hour, 3600.0),
            Limit.REQUESTS: Allowance(requests_per_day, 86400.0),
        }
        self._windows: dict[tuple[Limit, str, str], _Window] = {}
        self._sweep_at = SWEEP_AT

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls(0, 0, 0)

    def over_photos(self, incoming: Incoming, at: datetime) -> bool:
        """Whether a photo sent at `at` would be refused: asked before fetching it, it changes
        nothing (it may be asked at a later time than the event's own)."""
        allowance = self.allowances[Limit.PHOTOS]
        window = self._windows.get((Limit.PHOTOS, incoming.channel, incoming.user_id))
        if allowance.most <= 0 or window is None:
            return False
        start = at.timestamp() - allowance.seconds
        return sum(1 for time in window.times if time > start) >= allowance.most

    def admit(
        self,
        incoming: Incoming,
        at: datetime,
        saved: dict[str, Any] | None,
        plan: Callable[[], Turn],
    ) -> Admission:
        """The event's turn, made by `plan` unless the event is over the message or photo
        limit; a turn that would submit a request over the day's limit is not played."""
        now = at.timestamp()
        limits = [Limit.MESSAGES]
        if incoming.media is not None:
            limits.append(Limit.PHOTOS)
        for limit in limits:
            if (window := self._over(limit, incoming, now)) is not None:
                return self._refuse(limit, window, incoming, now, saved)
        turn = plan()
        if any(isinstance(effect, SubmitApplication) for effect in turn.effects):
            if (window := self._over(Limit.REQUESTS, incoming, now)) is not None:
                return self._refuse(Limit.REQUESTS, window, incoming, now, saved)
            limits.append(Limit.REQUESTS)
        for limit in limits:
            self._let_through(limit, incoming, now)
        return Admission(turn)

    def _over(self, limit: Limit, incoming: Incoming, now: float) -> _Window | None:
        """The person's window for the limit when it is full now, else None."""
        allowance = self.allowances[limit]
        if allowance.most <= 0:
            return None
        window = self._windows.get((limit, incoming.channel, incoming.user_id))
        if window is None:
            return None
        times, start = window.times, now - allowance.seconds
        while times and times[0] <= start:
            times.popleft()
        return window if len(times) >= allowance.most else None

    def _let_through(self, limit: Limit, incoming: Incoming, now: float) -> None:
        if self.allowances[limit].most <= 0:
            return
        key = (limit, incoming.channel, incoming.user_id)
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self._sweep_at:
                self._sweep(now)
            window = self._windows[key] = _Window()
        window.times.append(now)

    def _refuse(
        self,
        limit: Limit,
        window: _Window,
        incoming: Incoming,
        now: float,
        saved: dict[str, Any] | None,
    ) -> Admission:
        """The refused event's turn: the state as it was; a notice unless one was just sent."""
        state = FlowState.from_json(saved) if saved else None
        if now < window.quiet_until:
            window.refused += 1
            return Admission(Turn(state, (), ()), limit)
        allowance = self.allowances[limit]
        security_event(
            Event.RATE_LIMITED,
            limit=limit.value,
            channel=incoming.channel,
            person=person_digest(incoming),
            most=allowance.most,
            per=f"{allowance.seconds:.0f}s",
            refused_before=window.refused,
        )
        window.quiet_until, window.refused = now + NOTICE_EVERY, 0
        notice = Text(NOTICES[limit], {"most": str(allowance.most)})
        return Admission(Turn(state, (notice,), ()), limit)

    def _sweep(self, now: float) -> None:
        """Drop the windows nobody used for longer than their period: memory stays flat."""
        for key, window in list(self._windows.items()):
            seconds = self.allowances[key[0]].seconds
            newest = window.times[-1] if window.times else float("-inf")
            if newest <= now - seconds and window.quiet_until <= now:
                del self._windows[key]
        self._sweep_at = max(SWEEP_AT, 2 * len(self._windows))


def person_digest(incoming: Incoming) -> str:
    """A short tag for a person in the log: the same person, the same tag; letters only
    (the security log refuses long digit runs, which a Telegram id would be)."""
    digest = hashlib.sha256(f"{incoming.channel}:{incoming.user_id}".encode()).digest()
    return "".join(chr(ord("a") + byte % 26) for byte in digest[:12])
