"""Questions typed in free text: a small table of topics, matched by phrase or near phrase."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from bot.flows.incoming import Incoming, Kind
from bot.flows.menu import main_choices
from bot.flows.outgoing import Message, Text
from bot.flows.reading import PARTICLES, clean

# Spaces, dashes, dots and question marks carry no meaning here: "e-GP" = "egp", "พ.ร.บ." = "พรบ".
NOISE = re.compile(r"[\s\-_.?!,~\"'()/:;]+")
# A typo is forgiven in phrases long enough that one wrong letter still leaves them unique.
FUZZY_MIN_LENGTH = 10
FUZZY_SCORE = 80.0


@dataclass(frozen=True, slots=True)
class Topic:
    answer: str  # the message key
    phrases: tuple[str, ...]


TOPICS = (
    Topic(
        "faq.uses",
        (
            "ใช้ทำอะไร",
            "ใช้อะไรได้",
            "ใช้กับอะไร",
            "ใช้ได้กับ",
            "เอาไปใช้",
            "ไว้ใช้",
            "wifi",
            "ไวไฟ",
            "bmaap",
            "อินเทอร์เน็ต",
            "อินเตอร์เน็ต",
            "ใช้เน็ต",
            "เล่นเน็ต",
            "เครือข่าย",
        ),
    ),
    Topic(
        "faq.documents",
        (
            "เอกสาร",
            "ต้องเตรียม",
            "หลักฐาน",
            "สำเนา",
            "หนังสือรับรอง",
            "บันทึกข้อความ",
            "ใช้บัตรประชาชน",
            "ถ่ายรูปบัตร",
        ),
    ),
    Topic(
        "faq.review_time",
        (
            "กี่วัน",
            "นานไหม",
            "นานมั้ย",
            "นานแค่ไหน",
            "นานเท่าไร",
            "นานเท่าไหร่",
            "ใช้เวลา",
            "เมื่อไหร่จะได้",
            "เมื่อไรจะได้",
            "จะได้เมื่อไหร่",
            "จะได้เมื่อไร",
            "รอนาน",
            "อนุมัติเมื่อไหร่",
            "ยังไม่ได้บัญชี",
        ),
    ),
    Topic(
        "faq.sms",
        (
            "sms",
            "เอสเอ็มเอส",
            "bmamail",
            "แจ้งทางไหน",
            "ได้รับทางไหน",
            "ส่งมาทางไหน",
            "รู้ได้ยังไง",
            "รู้ได้อย่างไร",
            "รหัสผ่านจะส่ง",
            "รับรหัสผ่าน",
            "ได้รับรหัส",
            "รหัสผ่านชั่วคราว",
        ),
    ),
    Topic(
        "faq.rules",
        (
            "กฎ",
            "ระเบียบ",
            "ข้อปฏิบัติ",
            "ข้อห้าม",
            "พรบ",
            "กฎหมาย",
            "ความผิดเกี่ยวกับคอมพิวเตอร์",
            "ระงับบัญชี",
            "โดนระงับ",
            "ถูกระงับ",
            "ให้คนอื่นใช้",
            "ให้เพื่อนใช้",
            "ยืมบัญชี",
            "บอกรหัส",
            "แชร์รหัส",
        ),
    ),
    Topic(
        "faq.forgot_password",
        (
            "ลืมรหัส",
            "ลืมพาส",
            "ลืมpassword",
            "รีเซ็ต",
            "รีเซต",
            "reset",
            "เปลี่ยนรหัส",
            "รหัสผ่านหาย",
            "รหัสผ่านผิด",
            "รหัสไม่ถูก",
            "เข้าระบบไม่ได้",
            "ล็อกอินไม่ได้",
            "ล็อคอินไม่ได้",
            "loginไม่ได้",
            "รหัสหมดอายุ",
        ),
    ),
    Topic(
        "faq.rights",
        (
            "egp",
            "อีจีพี",
            "จัดซื้อจัดจ้าง",
            "webportal",
            "เว็บพอร์ทัล",
            "เว็บพอทัล",
            "พอร์ทัล",
            "portal",
            "ขอสิทธิ",
            "สิทธิ์",
        ),
    ),
)


def compact(text: str) -> str:
    """Lower case, no trailing particle, no spaces or punctuation: what the phrases are made of."""
    text = clean(text).lower()
    stripped = True
    while stripped:
        stripped = False
        for particle in PARTICLES:
            shorter = text.removesuffix(particle).rstrip(" !.~?")
            if shorter and shorter != text:
                text, stripped = shorter, True
    return NOISE.sub("", text)


def match(text: str) -> Topic | None:
    """The best-fitting topic: an exact phrase beats a near one, a long phrase a short one."""
    said = compact(text)
    if not said:
        return None
    best: tuple[float, int, Topic] | None = None
    for phrase, topic in _phrases():
        score = _score(phrase, said)
        if score is None:
            continue
        candidate = (score, len(phrase), topic)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


@cache
def _phrases() -> tuple[tuple[str, Topic], ...]:
    return tuple((compact(phrase), topic) for topic in TOPICS for phrase in topic.phrases)


def _score(phrase: str, said: str) -> float | None:
    if phrase in said:
        return 100.0
    if len(phrase) < FUZZY_MIN_LENGTH or len(said) < len(phrase) - 1:
        return None
    score = fuzz.partial_ratio(phrase, said)
    return score if score >= FUZZY_SCORE else None


def answer(incoming: Incoming) -> tuple[Message, ...] | None:
    """The answer to a typed question, with the main choices; None when no topic fits."""
    if incoming.kind is not Kind.TEXT:
        return None
    topic = match(incoming.text)
    return (Text(topic.answer, choices=main_choices()),) if topic else None


# How a typed question ends in Thai (after its particle): inside the form, only such text
# is read as a question, so a position such as "นิติกร (กฎหมาย)" stays an answer.
QUESTION_ENDINGS = (
    *("ไหม", "มั้ย", "มั๊ย", "ไม๊", "หรือไม่", "หรือเปล่า", "รึเปล่า", "ป่าว", "ยังไง"),
    *("ยังงัย", "อย่างไร", "ทำไง", "อะไร", "อะไรบ้าง", "บ้าง", "ที่ไหน", "ตรงไหน"),
    *("เมื่อไร", "เมื่อไหร่", "กี่วัน", "ได้ป่ะ"),
)


def question_in_form(incoming: Incoming) -> tuple[Message, ...] | None:
    """A question typed in the middle of a form: its answer (without the menu), else None."""
    if incoming.kind is not Kind.TEXT:
        return None
    text = clean(incoming.text)
    said = compact(text)
    if not (text.endswith("?") or said.endswith(QUESTION_ENDINGS)):
        return None
    topic = match(text)
    return None if topic is None else (Text(topic.answer),)
