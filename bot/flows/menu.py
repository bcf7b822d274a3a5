"""The words outside any form: the greeting with the main choices, and whom to call."""

from __future__ import annotations

from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS
from bot.flows.outgoing import Choice, Message, Text
from bot.flows.reading import readings

APPLY = Choice("menu.apply", "menu:apply")
SUPPORT = Choice("menu.support", "menu:support")
STATUS = Choice("menu.status", "menu:status")
HOME = Choice("menu.home", "menu:home")  # back to the greeting and its main choices
# Under the words that end a form, so that the next step is never more than a tap away.
AFTER_FILING = (STATUS, HOME)
TERMS_BUTTON = "menu:terms"

APPLY_WORDS = frozenset({"สมัคร", "สมัครบัญชี", "ขอบัญชี", "ขอบัญชีผู้ใช้", "ยื่นคำขอ", "apply", "/apply"})
SUPPORT_WORDS = frozenset({"ติดต่อ", "ติดต่อเจ้าหน้าที่", "ช่วยเหลือ", "help", "/help", "support"})
GREETING_WORDS = frozenset({"/start", "สวัสดี", "hello", "hi", "เมนู", "menu"})


def wants_apply(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == APPLY.data
    return bool(typed(incoming) & (APPLY_WORDS | {"/start apply"}))


def main_choices() -> tuple[Choice, ...]:
    """The main menu: apply, every other request kind (bot.flows.kinds), support."""
    return (APPLY, *KINDS.menu(), SUPPORT)


def wants_greeting(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == HOME.data
    return bool(typed(incoming) & GREETING_WORDS)


def wants_support(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == SUPPORT.data
    return bool(typed(incoming) & SUPPORT_WORDS)


def greeting() -> tuple[Message, ...]:
    return (Text("menu.greeting", choices=main_choices()),)


def main_menu() -> tuple[Message, ...]:
    return (Text("menu.not_understood", choices=main_choices()),)


# Tap to call where the channel can (LINE, the web page); the text gives the numbers too.
CALL_DATABASE = Choice("support.call_database", "tel:022032751")
CALL_PROGRAMS = Choice("support.call_programs", "tel:022032754")


def support() -> tuple[Message, ...]:
    return (Text("support.contacts", choices=(CALL_DATABASE, CALL_PROGRAMS, APPLY)),)


def wants_terms(incoming: Incoming) -> bool:
    return incoming.kind is Kind.BUTTON and incoming.data == TERMS_BUTTON


def terms() -> tuple[Message, ...]:
    return (Text("apply.terms", choices=main_choices()),)


def typed(incoming: Incoming) -> set[str]:
    """What a typed message may mean, with and without a polite particle; nothing for a tap."""
    return readings(incoming.text) if incoming.kind is Kind.TEXT else set()
