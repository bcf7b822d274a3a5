"""Outside the form: greeting, support, terms and the status of one's own requests."""

from __future__ import annotations

from tests.handlers.chat import Chat
from tests.handlers.transcripts import STAFF, play, until


async def test_status_without_application(chat: Chat) -> None:
    await chat.send("สถานะค่ะ")
    assert chat.reply_keys == ["status.none"]


async def test_status_lists_the_submitted_application(chat: Chat) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")

    await chat.press("menu:status")

    assert chat.reply_keys == ["status.title"]
    assert "A69-00001 — รอตรวจสอบ (ยื่นเมื่อ 25/11/2569)" in chat.text


async def test_status_shows_only_ones_own_requests(chat: Chat) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")
    stranger = Chat(chat.handler, chat.media, user_id="U-stranger")

    await stranger.send("สถานะ")

    assert stranger.reply_keys == ["status.none"]


async def test_status_in_the_middle_of_the_form_asks_the_question_again(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))
    await chat.send("/status")
    assert chat.reply_keys == ["status.none", "apply.ask_position"]


async def test_terms_from_the_menu(chat: Chat) -> None:
    await chat.press("menu:terms")
    assert chat.reply_keys == ["apply.terms"]


async def test_anything_else_gets_the_main_menu_never_silence(chat: Chat) -> None:
    for text in ["อยากได้อีเมล", "???", "12345"]:
        await chat.send(text)
        assert chat.reply_keys == ["menu.not_understood"]
        assert chat.button_labels == ["ขอบัญชีผู้ใช้ กทม.", "ติดต่อเจ้าหน้าที่"]
