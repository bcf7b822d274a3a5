"""The terminal chat: the real handlers on a console channel, for trying bmabot in a shell."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.conversation import ConversationHandler
from bot.handlers.media import MediaFetchError
from bot.handlers.rendering import Button, Rendered

CHANNEL = "console"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".bmp", ".tif"})
QUIT_WORDS = frozenset({"/quit", "/exit", "ออก"})


class ConsoleMedia:
    """A photo on the console is a file path; read at most limit + 1 bytes of it."""

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        try:
            return await asyncio.to_thread(_read_head, Path(media.ref), limit + 1)
        except OSError as error:
            raise MediaFetchError(str(error)) from None


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def to_incoming(line: str, user_id: str, buttons: Sequence[Button]) -> Incoming:
    """A number or a label picks a button; a file path sends that file; the rest is text."""
    text = line.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(buttons):
        return Incoming(CHANNEL, user_id, user_id, Kind.BUTTON, data=buttons[int(text) - 1].data)
    labelled = next((button for button in buttons if button.label == text), None)
    if labelled is not None:
        return Incoming(CHANNEL, user_id, user_id, Kind.BUTTON, data=labelled.data)
    path = Path(text.strip("'\"")).expanduser()
    if text and path.is_file():
        kind = Kind.PHOTO if path.suffix.lower() in IMAGE_SUFFIXES else Kind.FILE
        return Incoming(CHANNEL, user_id, user_id, kind, media=MediaRef(str(path)))
    return Incoming(CHANNEL, user_id, user_id, Kind.TEXT, text=line.rstrip("\n"))


def show(replies: Sequence[Rendered], out: TextIO) -> tuple[Button, ...]:
    """Print the bot's messages; the buttons of the last one are numbered for picking."""
    buttons: tuple[Button, ...] = ()
    for reply in replies:
        if reply.title:
            out.write(f"\nบอท: ── {reply.title} ──\n{_indent(reply.text)}\n")
        else:
            out.write(f"\nบอท: {_indent(reply.text)}\n")
        buttons = reply.buttons
        for number, button in enumerate(buttons, start=1):
            out.write(f"   [{number}] {button.label}\n")
    out.flush()
    return buttons


def _indent(text: str) -> str:
    return text.replace("\n", "\n     ")


async def run_console(
    handler: ConversationHandler, user_id: str, source: TextIO, out: TextIO
) -> int:
    out.write("bmabot — แชตทดลองในเทอร์มินัล (พิมพ์ตัวเลขเพื่อกดปุ่ม, พิมพ์ที่อยู่ไฟล์รูปเพื่อส่งรูป, /quit เพื่อออก)\n")
    buttons = show(await handler.resume(CHANNEL, user_id), out)
    while True:
        line = await asyncio.to_thread(source.readline)
        if not line or line.strip() in QUIT_WORDS:
            out.write("\n")
            return 0
        if not line.strip():
            continue
        if not source.isatty():
            out.write(f"\nคุณ: {line.strip()}\n")
        buttons = show(await handler.handle(to_incoming(line, user_id, buttons)), out)
