"""A channel as a port: turn its stored events into Incoming, fetch photos, deliver replies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from bot.flows.incoming import Incoming, MediaRef
from core.delivery.outbox import Outgoing


class DeliveryError(Exception):
    """The channel did not take the messages; `retryable` says whether trying later may help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class UnreadableEventError(ValueError):
    """A stored event of a shape its platform never sends: the dispatcher quarantines it
    (kept, counted, logged once without its content) and the person's next events go on.
    The message names what is wrong, never what the event says."""


class Channel(Protocol):
    name: str

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        """The neutral event for a stored platform event; None for one nobody needs to answer;
        raises UnreadableEventError for one of a shape the platform never sends."""
        ...

    async def fetch(self, media: MediaRef, limit: int) -> bytes: ...

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        """Deliver one batch (raises DeliveryError); a retry must not deliver it twice."""
        ...

    async def show_loading(self, incoming: Incoming) -> None:
        """Tell the person the bot is working on a slow answer (where the platform can)."""
        ...
