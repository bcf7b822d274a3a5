"""MemoryChannel: the Channel port in memory, for dispatcher tests (a fake, like MemoryMedia)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.channels import DeliveryError
from bot.handlers.rendering import from_json
from core.inbox import NewEvent
from core.outbox import Outgoing

CHANNEL = "memory"


def text_event(key: str, user_id: str, text: str) -> NewEvent:
    return NewEvent(f"{CHANNEL}:{key}", CHANNEL, user_id, {"user": user_id, "text": text})


@dataclass
class MemoryChannel:
    """Reads {"user", "text"} payloads; records what it sends, or fails as told."""

    name: str = CHANNEL
    sent: dict[str, list[list[str]]] = field(default_factory=dict)  # chat: keys per batch
    broken_chats: set[str] = field(default_factory=set)  # sending to these raises ValueError
    refusing: dict[str, DeliveryError] = field(default_factory=dict)  # chat: the refusal

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        # Like a platform parser meeting a shape it never saw: it raises.
        user, text = payload["user"], payload["text"]
        return Incoming(CHANNEL, user, user, Kind.TEXT, text=text, reply_token=f"r-{user}")

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        raise NotImplementedError("no photos in memory")

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        if outgoing.chat_id in self.broken_chats:
            raise ValueError("a row this channel cannot read")
        refusal = self.refusing.get(outgoing.chat_id)
        if refusal is not None:
            raise refusal
        keys = [from_json(raw).key for raw in outgoing.messages]
        self.sent.setdefault(outgoing.chat_id, []).append(keys)

    async def show_loading(self, incoming: Incoming) -> None:
        return None

    def keys(self, chat_id: str) -> list[str]:
        return [key for batch in self.sent.get(chat_id, []) for key in batch]
