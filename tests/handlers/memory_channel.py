"""MemoryChannel: the Channel port in memory, for dispatcher tests (a fake, like MemoryMedia)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.channels import DeliveryError
from bot.handlers.media import MemoryMedia
from bot.handlers.rendering import Rendered, from_json
from core.delivery.inbox import NewEvent
from core.delivery.outbox import Outgoing

CHANNEL = "memory"


def text_event(key: str, user_id: str, text: str) -> NewEvent:
    return NewEvent(f"{CHANNEL}:{key}", CHANNEL, user_id, {"user": user_id, "text": text})


def button_event(key: str, user_id: str, data: str) -> NewEvent:
    return NewEvent(f"{CHANNEL}:{key}", CHANNEL, user_id, {"user": user_id, "data": data})


def photo_event(key: str, user_id: str, ref: str) -> NewEvent:
    """A photo the channel keeps under ref (MemoryChannel.media.add): fetched when handled."""
    return NewEvent(f"{CHANNEL}:{key}", CHANNEL, user_id, {"user": user_id, "photo": ref})


@dataclass
class MemoryChannel:
    """Reads {"user", "text" | "data" | "photo"} payloads; records what it sends, or fails
    as told."""

    name: str = CHANNEL
    sent: dict[str, list[list[str]]] = field(default_factory=dict)  # chat: keys per batch
    broken_chats: set[str] = field(default_factory=set)  # sending to these raises ValueError
    refusing: dict[str, DeliveryError] = field(default_factory=dict)  # chat: the refusal
    media: MemoryMedia = field(default_factory=MemoryMedia)  # the photos people sent
    # Told of every batch delivered, as the person's phone shows it.
    on_delivery: Callable[[str, list[Rendered]], None] | None = None

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        # Like a platform parser meeting a shape it never saw: it raises.
        user, token = payload["user"], f"r-{payload['user']}"
        if "data" in payload:
            return Incoming(
                CHANNEL, user, user, Kind.BUTTON, data=payload["data"], reply_token=token
            )
        if "photo" in payload:
            media = MediaRef(payload["photo"])
            return Incoming(CHANNEL, user, user, Kind.PHOTO, media=media, reply_token=token)
        return Incoming(CHANNEL, user, user, Kind.TEXT, text=payload["text"], reply_token=token)

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        return await self.media.fetch(media, limit)

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        if outgoing.chat_id in self.broken_chats:
            raise ValueError("a row this channel cannot read")
        refusal = self.refusing.get(outgoing.chat_id)
        if refusal is not None:
            raise refusal
        replies = [from_json(raw) for raw in outgoing.messages]
        self.sent.setdefault(outgoing.chat_id, []).append([reply.key for reply in replies])
        if self.on_delivery is not None:
            self.on_delivery(outgoing.chat_id, replies)

    async def show_loading(self, incoming: Incoming) -> None:
        return None

    def keys(self, chat_id: str) -> list[str]:
        return [key for batch in self.sent.get(chat_id, []) for key in batch]
