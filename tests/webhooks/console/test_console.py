"""The terminal chat: numbers and labels press buttons, file paths send photos."""

from __future__ import annotations

import io
from pathlib import Path

from bot.flows.incoming import Kind
from bot.handlers.conversation import ConversationHandler
from bot.handlers.rendering import Button, Rendered
from webhooks.console.channel import run_console, show, to_incoming

BUTTONS = (Button("นาย", "pick:0"), Button("ย้อนกลับ", "nav:back"))


def test_a_number_presses_that_button() -> None:
    incoming = to_incoming("2\n", "me", BUTTONS)
    assert (incoming.kind, incoming.data) == (Kind.BUTTON, "nav:back")


def test_a_label_presses_that_button() -> None:
    incoming = to_incoming("นาย\n", "me", BUTTONS)
    assert (incoming.kind, incoming.data) == (Kind.BUTTON, "pick:0")


def test_a_number_beyond_the_buttons_is_text() -> None:
    incoming = to_incoming("1103700123458\n", "me", BUTTONS)
    assert (incoming.kind, incoming.text) == (Kind.TEXT, "1103700123458")


def test_an_image_path_is_a_photo_and_a_pdf_path_a_file(tmp_path: Path) -> None:
    (tmp_path / "card.jpg").write_bytes(b"x")
    (tmp_path / "memo.pdf").write_bytes(b"x")
    assert to_incoming(str(tmp_path / "card.jpg"), "me", ()).kind is Kind.PHOTO
    assert to_incoming(str(tmp_path / "memo.pdf"), "me", ()).kind is Kind.FILE


def test_buttons_are_shown_numbered() -> None:
    out = io.StringIO()
    shown = show([Rendered("k", "คำนำหน้าชื่อคะ", BUTTONS)], out)
    assert shown == BUTTONS
    assert "[1] นาย" in out.getvalue()
    assert "[2] ย้อนกลับ" in out.getvalue()


async def test_a_console_session_greets_and_answers(handler: ConversationHandler) -> None:
    out = io.StringIO()
    code = await run_console(handler, "me", io.StringIO("สมัคร\n1\n/quit\n"), out)
    assert code == 0
    text = out.getvalue()
    assert "ยินดีต้อนรับ" in text
    assert "ผู้ขอบัญชีเป็นบุคลากรประเภทใดคะ" in text
