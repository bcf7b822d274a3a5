"""The words outside any form: the greeting with the main choices, and whom to call."""

from __future__ import annotations

from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Choice, Message, Text
from bot.flows.reading import readings

APPLY = Choice("menu.apply", "menu:apply")
SUPPORT = Choice("menu.support", "menu:support")
MAIN_CHOICES = (APPLY, SUPPORT)
TERMS_BUTTON = "menu:terms"

APPLY_WORDS = frozenset({"สมัคร", "สมัครบัญชี", "ขอบัญชี", "ขอบัญชีผู้ใช้", "ยื่นคำขอ", "apply", "/apply"})
SUPPORT_WORDS = frozenset({"ติดต่อ", "ติดต่อเจ้าหน้าที่", "ช่วยเหลือ", "help", "/help", "support"})
GREETING_WORDS = frozenset({"/start", "สวัสดี", "hello", "hi", "เมนู", "menu"})


def wants_apply(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == APPLY.data
    return bool(typed(incoming) & (APPLY_WORDS | {"/start apply"}))


def wants_support(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == SUPPORT.data
    return bool(typed(incoming) & SUPPORT_WORDS)


def greeting() -> tuple[Message, ...]:
    return (Text("menu.greeting", choices=MAIN_CHOICES),)


def main_menu() -> tuple[Message, ...]:
    return (Text("menu.not_understood", choices=MAIN_CHOICES),)


def support() -> tuple[Message, ...]:
    return (Text("support.contacts", choices=(APPLY,)),)


def wants_terms(incoming: Incoming) -> bool:
    return incoming.kind is Kind.BUTTON and incoming.data == TERMS_BUTTON


def terms() -> tuple[Message, ...]:
    return (Text("apply.terms", choices=MAIN_CHOICES),)


def typed(incoming: Incoming) -> set[str]:
    """What a typed message may mean, with and without a polite particle; nothing for a tap."""
    return readings(incoming.text) if incoming.kind is Kind.TEXT else set()
