"""Questions typed in free text are answered when idle; inside the form, text is an answer."""

from __future__ import annotations

from tests.handlers.chat import Chat
from tests.handlers.transcripts import MAIN_LABELS, STAFF, play, until


async def test_an_idle_question_gets_its_answer_and_the_main_choices(chat: Chat) -> None:
    await chat.send("ลืมรหัสผ่านค่ะ")
    assert chat.reply_keys == ["faq.forgot_password"]
    assert "0 2203 2751" in chat.text
    assert chat.button_labels == MAIN_LABELS


async def test_a_question_in_the_middle_of_the_form_is_read_as_the_answer(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))
    await chat.send("ต้องใช้เอกสารอะไรบ้างคะ")
    assert "faq.documents" not in chat.reply_keys
