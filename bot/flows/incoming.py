"""What a person did, in no platform's terms: the one input every flow understands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    FILE = "file"  # a document that is not a photo (PDF, Word, ...)
    STICKER = "sticker"
    OTHER = "other"  # voice, video, location: nothing a form can use
    BUTTON = "button"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    JOIN = "join"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Where a channel can fetch the bytes of a photo: a message id, a file id or a path."""

    ref: str
    content_type: str | None = None
    size: int | None = None  # bytes, as the platform announced them (none for LINE photos)


@dataclass(frozen=True, slots=True)
class Incoming:
    channel: str
    user_id: str
    chat_id: str
    kind: Kind
    text: str = ""
    data: str = ""  # button data: short ASCII, never a Thai label
    media: MediaRef | None = None
    in_group: bool = False
    reply_token: str | None = None
    origin: str | None = None  # the bot's message whose button was pressed, where one can tell
    sender_name: str = ""  # in a group, the sender's name where the event carries it (Telegram)
