"""The words outside any form: the greeting with the main choices, and whom to call."""

from __future__ import annotations

from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Choice, Message, Text
from bot.flows.reading import clean, without_particles

APPLY = Choice("menu.apply", "menu:apply")
SUPPORT = Choice("menu.support", "menu:support")
MAIN_CHOICES = (APPLY, SUPPORT)

APPLY_WORDS = frozenset({"สมัคร", "สมัครบัญชี", "ขอบัญชี", "ขอบัญชีผู้ใช้", "ยื่นคำขอ", "apply", "/apply"})
SUPPORT_WORDS = frozenset({"ติดต่อ", "ติดต่อเจ้าหน้าที่", "ช่วยเหลือ", "help", "/help", "support"})
GREETING_WORDS = frozenset({"/start", "สวัสดี", "hello", "hi", "เมนู", "menu"})


def wants_apply(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == APPLY.data
    return _typed(incoming) in APPLY_WORDS or _typed(incoming) == "/start apply"


def wants_support(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == SUPPORT.data
    return _typed(incoming) in SUPPORT_WORDS


def greeting() -> tuple[Message, ...]:
    return (Text("menu.greeting", choices=MAIN_CHOICES),)


def main_menu() -> tuple[Message, ...]:
    return (Text("menu.not_understood", choices=MAIN_CHOICES),)


def support() -> tuple[Message, ...]:
    return (Text("support.contacts", choices=(APPLY,)),)


def _typed(incoming: Incoming) -> str:
    if incoming.kind is not Kind.TEXT:
        return ""
    return without_particles(clean(incoming.text)).lower()
