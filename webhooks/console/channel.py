"""The terminal chat: the real handlers on a console channel, for trying bmabot in a shell."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.conversation import ConversationHandler
from bot.handlers.media import MediaFetchError
from bot.handlers.rendering import Button, Rendered, from_json
from bot.handlers.services import Services
from core.delivery.outbox import due_for_chat, mark_sent
from webhooks.runtime import CONSOLE_REVIEW_CHAT

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


@dataclass(frozen=True, slots=True)
class Seat:
    """Who sits at this terminal: an applicant in a private chat, or a reviewer in the group."""

    user_id: str
    chat_id: str
    in_group: bool = False

    @classmethod
    def applicant(cls, user_id: str) -> Seat:
        return cls(user_id, user_id)

    @classmethod
    def reviewer(cls, user_id: str) -> Seat:
        return cls(user_id, CONSOLE_REVIEW_CHAT, in_group=True)


def to_incoming(line: str, seat: Seat | str, buttons: Sequence[Button]) -> Incoming:
    """A number or a label picks a button; a file path sends that file; the rest is text."""
    seat = Seat.applicant(seat) if isinstance(seat, str) else seat
    event = partial(
        Incoming,
        CHANNEL,
        seat.user_id,
        seat.chat_id,
        in_group=seat.in_group,
        sender_name=seat.user_id if seat.in_group else "",  # the name given by --user
    )
    text = line.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(buttons):
        return event(Kind.BUTTON, data=buttons[int(text) - 1].data)
    labelled = next((button for button in buttons if button.label == text), None)
    if labelled is not None:
        return event(Kind.BUTTON, data=labelled.data)
    path = Path(text.strip("'\"")).expanduser()
    if text and path.is_file():
        kind = Kind.PHOTO if path.suffix.lower() in IMAGE_SUFFIXES else Kind.FILE
        return event(kind, media=MediaRef(str(path)))
    return event(Kind.TEXT, text=line.rstrip("\n"))


def show(replies: Sequence[Rendered], out: TextIO) -> tuple[Button, ...]:
    """Print the bot's messages; the buttons of the last one are numbered for picking."""
    buttons: tuple[Button, ...] = ()
    for reply in replies:
        if reply.title:
            out.write(f"\n🤖 ── {reply.title} ──\n{_indent(reply.text)}\n")
        else:
            out.write(f"\n🤖 {_indent(reply.text)}\n")
        if reply.image_url:
            out.write(f"     🖼  {reply.image_url}\n")
        pressable = tuple(button for button in reply.buttons if button.number is None)
        buttons = pressable or buttons  # a picture after a card keeps the card's buttons
        for number, button in enumerate(pressable, start=1):
            out.write(f"   [{number}] {button.label}\n")
        for button in reply.buttons:
            if button.number is not None:  # a call button: a terminal can only show the number
                out.write(f"   📞 {button.label}: {button.number}\n")
    out.flush()
    return buttons


def _indent(text: str) -> str:
    return text.replace("\n", "\n     ")


Mail = Callable[[], Awaitable[list[Rendered]]]


class Keyboard:
    """A person typing at a terminal: line editing and history from the standard library's
    readline, and Ctrl-C or Ctrl-D to leave.

    `read` blocks the event loop's thread on purpose. readline edits only a line read on the
    main thread, and only there does Ctrl-C interrupt the read: a line read on a worker
    thread could not be edited, and Ctrl-C would leave that thread waiting for a line that
    never comes. Nothing else runs in the terminal chat while it waits for the person.
    """

    def __init__(self, prompt: str) -> None:
        with contextlib.suppress(ImportError):  # not every Python is built with it
            import readline  # noqa: F401  (importing it is what gives input() line editing)
        self.prompt = prompt

    def read(self) -> str | None:
        """The next line, or None when the person leaves with Ctrl-C or Ctrl-D."""
        # asyncio's own Ctrl-C handler only cancels the running task, which does not end a
        # read in progress: while reading, Ctrl-C interrupts the read itself.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return input(self.prompt) + "\n"
        except (KeyboardInterrupt, EOFError):
            return None
        finally:
            signal.signal(signal.SIGINT, previous)


async def run_console(
    handler: ConversationHandler,
    seat: Seat | str,
    source: TextIO,
    out: TextIO,
    *,
    mail: Mail | None = None,
) -> int:
    """Read lines until /quit; `mail` brings what others said to this chat (decisions, cards)."""
    seat = Seat.applicant(seat) if isinstance(seat, str) else seat
    catalog = handler.services.catalog
    out.write(catalog.text("console.banner") + "\n")
    # A reviewer sits in the group: their own draft as an applicant is no business of it.
    opening = (
        handler.review.welcome() if seat.in_group else await handler.resume(CHANNEL, seat.user_id)
    )
    buttons = show(opening, out)
    keyboard = Keyboard(f"\n{catalog.text('console.you')}: ") if source.isatty() else None
    while True:
        if mail is not None:
            buttons = show(await mail(), out) or buttons
        line = keyboard.read() if keyboard else await asyncio.to_thread(source.readline)
        if not line or line.strip() in QUIT_WORDS:
            out.write(f"\n{catalog.text('console.goodbye')}\n")
            return 0
        if not line.strip():
            continue
        if not source.isatty():
            out.write(f"\n{catalog.text('console.you')}: {line.strip()}\n")
        # A reply without buttons leaves the last ones pressable (a card's, say).
        buttons = show(await handler.handle(to_incoming(line, seat, buttons)), out) or buttons


async def take_mail(services: Services, chat_id: str) -> list[Rendered]:
    """What waits in the outbox for this terminal's chat, taken as delivered."""
    now = services.clock.now()
    async with services.sessions.begin() as session:
        batches = await due_for_chat(session, services.vault, CHANNEL, chat_id, now)
        for batch in batches:
            await mark_sent(session, batch.id, now)
    return [from_json(raw) for batch in batches for raw in batch.messages]
