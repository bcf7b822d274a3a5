"""Questions in free text: what people actually type reaches the right answer, or the menu."""

from __future__ import annotations

import pytest

from bot.flows import faq
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Text

QUESTIONS = [
    # what the account works for
    ("บัญชีนี้ใช้ทำอะไรได้บ้างคะ", "faq.uses"),
    ("บัญชี กทม. เอาไปใช้อะไรได้บ้างครับ", "faq.uses"),
    ("ใช้ wifi BMAAP ได้ไหมครับ", "faq.uses"),
    ("ใช้ไวไฟในสำนักงานได้มั้ยคะ", "faq.uses"),
    ("ใช้อินเตอเน็ตได้ไหม", "faq.uses"),
    # documents
    ("ต้องใช้เอกสารอะไรบ้างคะ", "faq.documents"),
    ("ลูกจ้างต้องเตรียมอะไรบ้างครับ", "faq.documents"),
    ("ต้องมีหนังสือรับรองการทำงานไหมค่ะ", "faq.documents"),
    ("เอกสา รที่ต้องส่ง มีอะไรบ้าง", "faq.documents"),
    ("ขอบัญชีหน่วยงานต้องใช้บันทึกข้อความไหมคับ", "faq.documents"),
    # how long review takes
    ("อนุมัติกี่วันคะ", "faq.review_time"),
    ("รอนานไหมครับ", "faq.review_time"),
    ("ต้องใช้เวลาตรวจสอบนานเท่าไหร่คะ", "faq.review_time"),
    ("ยื่นไปแล้ว เมื่อไหร่จะได้บัญชีครับ", "faq.review_time"),
    # SMS from BMA mail
    ("จะได้รับรหัสผ่านทางไหนคะ", "faq.sms"),
    ("SMS จาก BMA mail คืออะไรครับ", "faq.sms"),
    ("ได้รับ sms แล้วต้องทำยังไงต่อคะ", "faq.sms"),
    ("รหัสผ่านชั่วคราวส่งมาที่ไหน", "faq.sms"),
    # the rules 2.7-2.9
    ("มีกฎการใช้งานอะไรบ้างครับ", "faq.rules"),
    ("ให้เพื่อนใช้บัญชีแทนได้ไหมคะ", "faq.rules"),
    ("ผิด พ.ร.บ.คอมพิวเตอร์ไหมครับ", "faq.rules"),
    ("ทำไมบัญชีโดนระงับคะ", "faq.rules"),
    # a forgotten password
    ("ลืมรหัสผ่านค่ะ", "faq.forgot_password"),
    ("ลืมรหัสผาน ทำไงดีครับ", "faq.forgot_password"),
    ("ลืม password อีเมล์ค่ะ", "faq.forgot_password"),
    ("ล็อกอินไม่ได้ครับ", "faq.forgot_password"),
    ("อยากเปลี่ยนรหัสผ่านนะคะ", "faq.forgot_password"),
    # e-GP and Web Portal rights
    ("ขอสิทธิ์ e-GP ยังไงคะ", "faq.rights"),
    ("อยากเข้า web portal ครับ", "faq.rights"),
    ("ขอสิทธิ egp กทม ได้ที่ไหน", "faq.rights"),
]

OFF_TOPIC = [
    "ราคาทองวันนี้เท่าไหร่",
    "???",
    "12345",
    "วันนี้อากาศดีจังเลย",
    "กินข้าวหรือยังคะ",
    "555555",
    "ขอบคุณมากครับ",
    "โอนเงินให้แล้วนะ",
    "ร้านกาแฟแถวนี้อยู่ไหน",
    "ฝนตกหนักมาก",
]


@pytest.mark.parametrize(("text", "topic"), QUESTIONS)
def test_a_typed_question_reaches_its_topic(text: str, topic: str) -> None:
    found = faq.match(text)
    assert found is not None, text
    assert found.answer == topic


def test_there_are_thirty_questions() -> None:
    assert len(QUESTIONS) == 30


@pytest.mark.parametrize("text", OFF_TOPIC)
def test_off_topic_text_reaches_no_topic(text: str) -> None:
    assert faq.match(text) is None


def test_the_answer_offers_the_main_choices() -> None:
    said = faq.answer(Incoming("test", "U1", "U1", Kind.TEXT, text="ลืมรหัสผ่านครับ"))
    assert said is not None
    (message,) = said
    assert isinstance(message, Text)
    assert message.key == "faq.forgot_password"
    assert message.choices == faq.main_choices()


def test_a_tap_is_never_a_question() -> None:
    assert faq.answer(Incoming("test", "U1", "U1", Kind.BUTTON, data="egp")) is None
