"""What a reviewer types as a reason or a note is held to the same rules as an applicant's text."""

from __future__ import annotations

import pytest

from bot.flows.review import Ask, Decide, on_text

ASKED_FOR_A_REASON = {"mode": "reason_text", "app": 7}


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("\x1b[2Jบัตรไม่ชัด", "review.text_hidden"),
        ("บัตรไม่ชัด\u202e", "review.text_hidden"),
        ("<b>บัตรไม่ชัด</b>", "review.text_markup"),
    ],
)
def test_a_reason_with_hidden_characters_or_markup_is_asked_again(typed: str, key: str) -> None:
    step = on_text(typed, ASKED_FOR_A_REASON)

    assert isinstance(step, Ask)
    assert [message.key for message in step.messages] == [key]
    assert step.state == ASKED_FOR_A_REASON


def test_a_plain_reason_decides() -> None:
    step = on_text("บัตร\u200bไม่ชัด", ASKED_FOR_A_REASON)

    assert step == Decide("reject", 7, reason="บัตรไม่ชัด")
