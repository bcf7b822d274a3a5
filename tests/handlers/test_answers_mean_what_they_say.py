"""Answers that are not what was asked never get into a request (issue 16)."""

from __future__ import annotations

from tests.handlers.chat import Chat
from tests.handlers.transcripts import TRANSCRIPTS, play, until


async def test_a_question_typed_at_the_title_is_answered_and_the_title_asked_again(
    chat: Chat,
) -> None:
    await play(chat, until(TRANSCRIPTS["staff"], "apply.ask_title_th"))

    await chat.send("ลืมรหัสผ่านทำยังไงคะ")

    assert chat.reply_keys == ["faq.forgot_password", "apply.ask_title_th"]
    await chat.tap("นาย")
    assert chat.last_key == "apply.ask_name_th"  # the question was never the answer


async def test_words_that_are_no_title_are_refused_with_an_example(chat: Chat) -> None:
    await play(chat, until(TRANSCRIPTS["staff"], "apply.ask_title_th"))

    await chat.send("สวัสดีค่ะ")

    assert chat.reply_keys == ["invalid.title_th.unknown"]
    assert "ว่าที่ ร.ต." in chat.text


async def test_a_name_typed_with_its_title_is_refused_naming_the_name_alone(
    chat: Chat,
) -> None:
    await play(chat, until(TRANSCRIPTS["staff"], "apply.ask_title_th"))
    await chat.tap("นางสาว")

    await chat.send("นางสาวมาลี ใจดี")

    assert chat.reply_keys == ["invalid.name_th.has_title", "common.did_you_mean"]
    assert "มาลี ใจดี" in chat.text
    await chat.send("มาลี ใจดี")
    assert chat.last_key == "apply.ask_name_en"


async def test_a_national_id_typed_as_the_nationality_is_refused(chat: Chat) -> None:
    await play(chat, until(TRANSCRIPTS["contract"], "apply.ask_nationality"))

    await chat.send("3 1012 00456 78 9")

    assert chat.reply_keys == ["invalid.nationality.digits"]
    await chat.send("สัญชาติไทย")
    assert chat.last_key == "apply.ask_mobile"


async def test_a_position_typed_inside_the_form_that_names_a_topic_stays_an_answer(
    chat: Chat,
) -> None:
    await play(chat, until(TRANSCRIPTS["staff"], "apply.ask_position"))

    await chat.send("นิติกร (กฎหมาย)")  # faq.rules knows กฎหมาย, but this is no question

    assert chat.last_key == "apply.ask_title_th"
