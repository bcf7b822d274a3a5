"""Questions typed in free text are answered when idle, and inside the form when they read as
questions: the answer, then the same step asked again."""

from __future__ import annotations

from tests.handlers.chat import Chat
from tests.handlers.transcripts import MAIN_LABELS, STAFF, play, until


async def test_an_idle_question_gets_its_answer_and_the_main_choices(chat: Chat) -> None:
    await chat.send("ลืมรหัสผ่านค่ะ")
    assert chat.reply_keys == ["faq.forgot_password"]
    assert "0 2203 2751" in chat.text
    assert chat.button_labels == MAIN_LABELS


async def test_a_question_in_the_middle_of_the_form_is_answered_then_the_step_asked_again(
    chat: Chat,
) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))
    await chat.send("ต้องใช้เอกสารอะไรบ้างคะ")
    assert chat.reply_keys == ["faq.documents", "apply.ask_position"]
    await chat.send("นักวิชาการคอมพิวเตอร์")
    assert chat.last_key == "apply.ask_title_th"  # the question was not taken as the position
