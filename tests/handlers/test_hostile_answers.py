"""Answers that would carry terminal escapes, bidi overrides or HTML are refused at their step."""

from __future__ import annotations

import pytest

from tests.handlers.chat import Chat
from tests.handlers.transcripts import CONTRACT, STAFF, play, until


def assert_polite_hint_with_an_example(chat: Chat) -> None:
    assert "ค่ะ" in chat.text
    assert "(เช่น " in chat.text


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("\x07\x1b[31mred", "invalid.position.hidden"),
        ("นักวิชาการ\u202eการปฏิบัติ", "invalid.position.hidden"),
        ("<script>", "invalid.position.markup"),
        ("<script>alert(1)</script>", "invalid.position.markup"),
    ],
)
async def test_a_hostile_position_is_refused_with_a_thai_hint(
    chat: Chat, typed: str, hint: str
) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send(typed)

    assert chat.reply_keys == [hint]
    assert_polite_hint_with_an_example(chat)
    await chat.send("นักวิชาการคอมพิวเตอร์ปฏิบัติการ")
    assert chat.last_key == "apply.ask_title_th"


async def test_a_nationality_with_a_bidi_override_is_refused(chat: Chat) -> None:
    await play(chat, until(CONTRACT, "apply.ask_nationality"))

    await chat.send("\u202eไทย")

    assert chat.reply_keys == ["invalid.nationality.hidden"]
    assert_polite_hint_with_an_example(chat)


async def test_a_nationality_in_html_is_refused(chat: Chat) -> None:
    await play(chat, until(CONTRACT, "apply.ask_nationality"))

    await chat.send("<b>ไทย</b>")

    assert chat.reply_keys == ["invalid.nationality.markup"]


async def test_a_thai_title_of_a_bare_tone_mark_is_refused(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_title_th"))

    await chat.send("\u0e48")

    assert chat.reply_keys == ["invalid.title_th.marks"]
    assert_polite_hint_with_an_example(chat)
    await chat.send("พ.ต.อ.")
    assert chat.last_key == "apply.ask_name_th"


async def test_a_thai_title_with_an_escape_sequence_is_refused(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_title_th"))

    await chat.send("นาย\x1b[2J")

    assert chat.reply_keys == ["invalid.title_th.hidden"]


async def test_a_position_copied_with_thai_word_breaks_is_taken_without_them(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send("นักวิชาการ\u200bคอมพิวเตอร์\u200bปฏิบัติการ")

    assert chat.last_key == "apply.ask_title_th"
