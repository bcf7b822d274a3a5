"""Hostile uploads at the ID-card step, on every channel that takes photos: each is refused
with a Thai answer, and nothing is kept (no document row, no file, nothing staged left)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import Catalog
from bot.handlers.conversation import ConversationHandler, Services
from core.clock import ManualClock
from core.storage.models import Document
from tests.core.storage.test_documents import png_declaring
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import STAFF_ANSWERS, STAFF_FORM
from tests.webhooks.line_world import line_world
from tests.webhooks.telegram_world import telegram_world
from tests.webhooks.web_world import web_world
from webhooks.console.channel import CHANNEL as CONSOLE
from webhooks.console.channel import ConsoleMedia, run_console

MB = 1024 * 1024
CATALOG = Catalog.load()
# What each attack is, and the refusal it gets (invalid.document.<reason>).
ATTACKS: dict[str, tuple[bytes, str]] = {
    "a PDF renamed .jpg": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "pdf"),
    "a PNG decompression bomb": (png_declaring(20_000, 20_000), "too_many_pixels"),
    "a 30 MB JPEG": (sample_photo() + b"\0" * (30 * MB), "too_large"),
    "an HTML page": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not_image"),
    "an SVG with a script": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "not_image",
    ),
    "zero bytes": (b"", "not_image"),
}
# Sends the file at the ID-card step, returns all the bot said after it.
Upload = Callable[[bytes], Awaitable[str]]


@asynccontextmanager
async def on_line(database_url: str, root: Path, clock: ManualClock) -> AsyncIterator[Upload]:
    async with line_world(database_url, root / "data", clock) as world:
        user = world.user("U" + "7" * 32)
        for action, value in [("say", "สมัคร"), *STAFF_FORM]:
            await (user.say(value) if action == "say" else user.tap(value))

        async def upload(content: bytes) -> str:
            await world.emulator.send_image(user.user_id, content)
            return "\n".join(message.get("text", "") for message in await user.answers())

        yield upload


@asynccontextmanager
async def on_telegram(database_url: str, root: Path, clock: ManualClock) -> AsyncIterator[Upload]:
    """A file "card.jpg" that says it is a JPEG (Telegram re-encodes real photos itself)."""
    async with telegram_world(database_url, root / "data", clock) as world:
        user = world.user(5550021)
        form = [("say", "/start"), ("tap", "ขอบัญชีผู้ใช้ กทม."), *STAFF_FORM]
        for action, value in form:
            await (user.say(value) if action == "say" else user.tap(value))

        async def upload(content: bytes) -> str:
            sent = world.emulator.send_document(
                user.user_id, content, "card.jpg", mime_type="image/jpeg"
            )
            await world.arrived(await sent)
            said = "\n".join(message.get("text", "") for message in await user.answers())
            fetched = [params for method, params in world.emulator.calls if method == "getFile"]
            assert len(content) <= 20 * MB or not fetched  # over 20 MB: not even asked for
            return said

        yield upload


@asynccontextmanager
async def on_the_web(database_url: str, root: Path, clock: ManualClock) -> AsyncIterator[Upload]:
    async with web_world(database_url, root / "demo", clock) as world:
        person = world.applicant("somchai")
        for text in STAFF_ANSWERS:
            await person.answer(text)

        async def upload(content: bytes) -> str:
            before = len(await person.bot_texts())
            url = f"/web/chats/{person.chat}/photos?user={person.user}"
            response = await world.client.post(url, data=io.BytesIO(content))  # streamed
            assert response.status == 200
            await world.settle()
            return "\n".join((await person.bot_texts())[before:])

        yield upload


@asynccontextmanager
async def in_the_terminal(services: Services, root: Path) -> AsyncIterator[Upload]:
    """A path typed in the terminal chat sends that file: here one named card.jpg."""
    handler = ConversationHandler(services, {CONSOLE: ConsoleMedia()})
    lines = io.StringIO("".join(f"{answer}\n" for answer in STAFF_ANSWERS))
    await run_console(handler, "somchai", lines, io.StringIO())

    async def upload(content: bytes) -> str:
        card = root / "card.jpg"
        card.write_bytes(content)
        out = io.StringIO()
        await run_console(handler, "somchai", io.StringIO(f"{card}\n"), out)
        return out.getvalue()

    yield upload


CHANNELS = ["line", "telegram", "web", "terminal"]


def document_files(root: Path) -> list[Path]:
    """Every file of a document store under root, staged ones (".tmp-…") included."""
    return [p for p in root.rglob("*") if p.is_file() and "documents" in p.parts]


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_hostile_upload_is_refused_in_thai_and_nothing_is_kept(
    channel: str,
    attack: str,
    database_url: str,
    engine: AsyncEngine,
    services: Services,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    content, reason = ATTACKS[attack]
    opened = {
        "line": lambda: on_line(database_url, tmp_path, clock),
        "telegram": lambda: on_telegram(database_url, tmp_path, clock),
        "web": lambda: on_the_web(database_url, tmp_path, clock),
        "terminal": lambda: in_the_terminal(services, tmp_path),
    }[channel]()
    async with opened as upload:
        said = await upload(content)

    assert CATALOG.text(f"invalid.document.{reason}") in said
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0
    assert document_files(tmp_path) == []  # no document file, nothing staged left behind
