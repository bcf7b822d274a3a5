"""A chat harness over the real handlers: tests read as a conversation."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from bot.flows.incoming import Incoming, Kind
from bot.handlers.conversation import ConversationHandler
from bot.handlers.media import MemoryMedia
from bot.handlers.rendering import Rendered

CHANNEL = "test"


def sample_photo(size: tuple[int, int] = (900, 570)) -> bytes:
    """A card-shaped JPEG with some drawing on it, like a phone photo of a document."""
    image = Image.new("RGB", size, (235, 240, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, size[0] - 40, size[1] - 40), outline=(20, 60, 140), width=6)
    for row in range(6):
        draw.line((80, 120 + row * 60, size[0] - 200, 120 + row * 60), fill=(30, 30, 30), width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Chat:
    handler: ConversationHandler
    media: MemoryMedia
    user_id: str = "U1001"
    replies: list[Rendered] = field(default_factory=list)
    history: list[Rendered] = field(default_factory=list)  # everything the bot said
    _photos: int = 0

    async def send(self, text: str) -> list[Rendered]:
        return await self._event(Kind.TEXT, text=text)

    async def tap(self, label: str) -> list[Rendered]:
        """Press the button with this label on the last message that has buttons."""
        for button in self.buttons:
            if button.label == label:
                return await self._event(Kind.BUTTON, data=button.data)
        raise AssertionError(f"no button {label!r} among {self.button_labels}")

    async def press(self, data: str) -> list[Rendered]:
        """Press a button by its data, even one that is no longer shown (a stale button)."""
        return await self._event(Kind.BUTTON, data=data)

    async def photo(self, content: bytes | None = None) -> list[Rendered]:
        self._photos += 1
        ref = f"{self.user_id}-photo-{self._photos}"
        media = self.media.add(ref, sample_photo() if content is None else content)
        return await self._event(Kind.PHOTO, media=media)

    async def file(self) -> list[Rendered]:
        return await self._event(Kind.FILE, media=self.media.add("a.pdf", b"%PDF-1.7\n"))

    async def sticker(self) -> list[Rendered]:
        return await self._event(Kind.STICKER)

    async def _event(self, kind: Kind, **fields: object) -> list[Rendered]:
        incoming = Incoming(CHANNEL, self.user_id, self.user_id, kind, **fields)  # type: ignore[arg-type]
        self.replies = await self.handler.handle(incoming)
        self.history.extend(self.replies)
        return self.replies

    @property
    def reply_keys(self) -> list[str]:
        return [reply.key for reply in self.replies]

    @property
    def last_key(self) -> str:
        return self.replies[-1].key

    @property
    def text(self) -> str:
        return "\n".join(f"{reply.title or ''}\n{reply.text}" for reply in self.replies)

    @property
    def buttons(self) -> Sequence[object]:
        for reply in reversed(self.replies):
            if reply.buttons:
                return reply.buttons
        return ()

    @property
    def button_labels(self) -> list[str]:
        return [button.label for button in self.buttons]  # type: ignore[attr-defined]
