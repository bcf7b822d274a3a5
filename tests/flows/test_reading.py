"""Reading what people type: particles, yes and no, and the words every step knows."""

from __future__ import annotations

import pytest

from bot.flows.incoming import Incoming, Kind
from bot.flows.reading import Intent, read_intent, readings


def typed(text: str) -> Incoming:
    return Incoming("t", "u", "u", Kind.TEXT, text=text)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ยกเลิก", Intent.CANCEL),
        ("ยกเลิกค่ะ", Intent.CANCEL),
        ("ยกเลิกครับ", Intent.CANCEL),
        (" ยกเลิก\u200b ", Intent.CANCEL),
        ("ย้อนกลับนะคะ", Intent.BACK),
        ("เริ่มใหม่ครับ", Intent.RESTART),
        ("ใช่ค่ะ", Intent.YES),
        ("ค่ะ", Intent.YES),
        ("ครับ", Intent.YES),
        ("OK", Intent.YES),
        ("ไม่ใช่ครับ", Intent.NO),
        ("ถัดไป", Intent.NEXT_PAGE),
        ("สมชาย", None),
        ("ยกเลิกไม่ได้", None),
    ],
)
def test_intents_are_read_with_or_without_particles(text: str, intent: Intent | None) -> None:
    assert read_intent(typed(text)) is intent


def test_a_word_ending_like_a_particle_keeps_its_reading() -> None:
    assert "สถานะ" in readings("สถานะค่ะ")
    assert "สถานะ" in readings("สถานะ")


def test_buttons_are_read_by_their_data_never_their_label() -> None:
    assert read_intent(Incoming("t", "u", "u", Kind.BUTTON, data="nav:cancel")) is Intent.CANCEL
    assert read_intent(Incoming("t", "u", "u", Kind.BUTTON, data="ยกเลิก")) is None
