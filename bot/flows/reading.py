"""Reading what people type: polite particles off, and the few words every step understands."""

from __future__ import annotations

import unicodedata
from enum import Enum

from bot.flows.incoming import Incoming, Kind

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))
# Longest first, so that "นะคะ" goes before "คะ".
PARTICLES = ("นะครับ", "นะคะ", "นะค่ะ", "ครับผม", "ครับ", "คับ", "ค่ะ", "คะ", "จ้า", "จ้ะ", "ค่า")


class Intent(Enum):
    YES = "yes"
    NO = "no"
    BACK = "back"
    CANCEL = "cancel"
    RESTART = "restart"
    NEXT_PAGE = "next"
    PREVIOUS_PAGE = "prev"


BUTTONS = {f"nav:{intent.value}": intent for intent in Intent}
WORDS = {
    Intent.YES: ("ใช่", "ถูกต้อง", "โอเค", "ตกลง", "ได้", "ok", "okay", "yes", "ยืนยัน"),
    Intent.NO: ("ไม่", "ไม่ใช่", "ผิด", "no", "ไม่ต้อง", "ทำต่อ"),
    Intent.BACK: ("ย้อนกลับ", "กลับ", "back"),
    Intent.CANCEL: ("ยกเลิก", "cancel", "/cancel"),
    Intent.RESTART: ("เริ่มใหม่", "restart"),
    Intent.NEXT_PAGE: ("ถัดไป", "หน้าถัดไป", "next"),
    Intent.PREVIOUS_PAGE: ("ก่อนหน้า", "หน้าก่อน"),
}
TYPED = {word: intent for intent, words in WORDS.items() for word in words}


def clean(text: str) -> str:
    """NFC, no zero-width characters, single spaces, trimmed (never NFKC: it splits ำ)."""
    text = unicodedata.normalize("NFC", text).translate(ZERO_WIDTH)
    return " ".join(text.split())


def readings(text: str) -> set[str]:
    """The text as typed and without a trailing polite particle, lower-cased.

    Every way of cutting a particle is kept, since 'สถานะค่ะ' is สถานะ + ค่ะ, not สถา + นะค่ะ;
    the caller looks each reading up in its own words. A lone particle ('ค่ะ') stays.
    """
    text = clean(text).lower()
    found = {text}
    for particle in PARTICLES:
        stem = text.removesuffix(particle).rstrip(" !.~")
        if stem and stem != text:
            found.add(stem)
    return found


def read_intent(incoming: Incoming) -> Intent | None:
    if incoming.kind is Kind.BUTTON:
        return BUTTONS.get(incoming.data)
    if incoming.kind is not Kind.TEXT:
        return None
    text = clean(incoming.text).lower()
    if text in PARTICLES:
        return Intent.YES
    intents = {TYPED[reading] for reading in readings(text) if reading in TYPED}
    return intents.pop() if len(intents) == 1 else None
