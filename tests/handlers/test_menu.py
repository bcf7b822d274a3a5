"""Outside the form: greeting, support, terms and the status of one's own requests."""

from __future__ import annotations

import pytest

from tests.handlers.chat import Chat
from tests.handlers.transcripts import MAIN_LABELS, STAFF, play, until


async def test_status_lists_the_request_just_submitted(chat: Chat) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")

    await chat.press("menu:status")

    assert chat.reply_keys == ["status.title"]
    assert "A69-00001 — รอตรวจสอบ\n" in chat.text  # more in test_status.py


@pytest.mark.parametrize("typed", ["ติดต่อ", "/help", "ช่วยเหลือค่ะ"])
async def test_support_gives_both_sections_numbers_and_office_hours(
    chat: Chat, typed: str
) -> None:
    await chat.send(typed)

    assert chat.reply_keys == ["support.contacts"]
    for words in ("ฝ่ายฐานข้อมูล", "0 2203 2751", "ฝ่ายโปรแกรมระบบ", "0 2203 2754"):
        assert words in chat.text
    assert "+66 2 203 2751" in chat.text  # the form Telegram makes tappable
    assert "จันทร์–ศุกร์ 08:30–16:30 น." in chat.text


async def test_support_has_buttons_that_call_each_section(chat: Chat) -> None:
    await chat.press("menu:support")
    calls = [(b.label, b.data) for b in chat.buttons]  # type: ignore[attr-defined]
    assert calls[:2] == [
        ("โทร ฝ่ายฐานข้อมูล", "tel:022032751"),
        ("โทร ฝ่ายโปรแกรมระบบ", "tel:022032754"),
    ]


async def test_support_in_the_middle_of_the_form_asks_the_question_again(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))
    await chat.send("ติดต่อ")
    assert chat.reply_keys == ["support.contacts", "apply.ask_position"]


async def test_terms_from_the_menu(chat: Chat) -> None:
    await chat.press("menu:terms")
    assert chat.reply_keys == ["apply.terms"]


async def test_anything_else_gets_the_main_menu_never_silence(chat: Chat) -> None:
    for text in ["ฝนตกหนักมาก", "???", "12345"]:
        await chat.send(text)
        assert chat.reply_keys == ["menu.not_understood"]
        assert chat.button_labels == MAIN_LABELS


# --- the menu one tap away, and buttons of a form that is over -------------------------------

AFTER_FILING = ["สถานะคำขอ", "เมนูหลัก"]


async def test_after_submitting_the_status_and_the_menu_are_one_tap_away(chat: Chat) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")
    assert chat.reply_keys == ["apply.submitted"]
    assert chat.button_labels == AFTER_FILING

    await chat.tap("เมนูหลัก")
    assert chat.reply_keys == ["menu.greeting"]
    assert chat.button_labels == MAIN_LABELS


async def test_every_status_reply_leaves_the_menu_one_tap_away(chat: Chat) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")

    await chat.tap("สถานะคำขอ")
    assert chat.reply_keys == ["status.title"]
    assert chat.button_labels == ["เมนูหลัก"]
    await chat.send("A69-00001")
    assert chat.reply_keys == ["status.one_title"]
    assert chat.button_labels == ["ดูคำขอทั้งหมด", "เมนูหลัก"]
    await chat.send("A69-00099")
    assert chat.reply_keys == ["status.not_found"]
    assert chat.button_labels == ["ดูคำขอทั้งหมด", "เมนูหลัก"]


@pytest.mark.parametrize("stale", ["apply:submit", "apply:edit"])
async def test_a_summary_button_pressed_after_submitting_says_the_request_is_filed(
    chat: Chat, stale: str
) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")

    await chat.press(stale)

    assert chat.reply_keys == ["status.form_closed", "status.title"]
    assert "ไม่ต้องกดซ้ำ" in chat.text
    assert "A69-00001 — รอตรวจสอบ" in chat.text
    assert chat.button_labels == ["เมนูหลัก"]


async def test_wanting_an_email_is_told_how_to_apply(chat: Chat) -> None:
    await chat.send("อยากได้อีเมลค่ะ")
    assert chat.reply_keys == ["faq.apply_how"]
    assert chat.button_labels == MAIN_LABELS
