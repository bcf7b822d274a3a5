"""Generated answers at every step of every dialogue: Thai, emoji, zero-width characters,
5,000 characters, control characters, injection strings, forged button data.

The states come from whole applications played through the real handler (each kind of
request, and the short requests of the menu). The bulk of the answers go through the pure
turn the dispatcher plans (plan, then render); a few hundred through the whole handler with
its database. Never an exception, always an answer, nothing hidden stored in a form, and no
request written but a whole one.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import SubmitApplication
from bot.handlers.conversation import ConversationHandler, Services
from core.delivery.conversations import load_conversation
from core.storage.models import Application
from tests.fuzzing import COUNTS, counting_failures, examples, seed, timeout
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.transcripts import MAIN_LABELS, TRANSCRIPTS, Turn, play

pytestmark = [pytest.mark.fuzz, timeout()]

PURE = 19_800  # answers through the planned turn in CI
WHOLE = 4  # answers through the whole handler at each step: with PURE, 20,000 in all
FORGED_DATA = ["pick:99", "pick:-1", "pick:x", "ap:1", "rj:1", "", "x" * 300, "kind:nope"]
PIECES = {
    "thai": ["สมชาย", "ใจดี", "นักวิชาการ", "ไทย", "ค่ะ", "ใช่", "บางรัก", "๑๒๓", "ำ", "\u0e48"],
    "command": ["ยกเลิก", "ย้อนกลับ", "แก้ไข", "สมัคร", "สถานะ", "ติดต่อ", "/start", "help"],
    "valid": ["1103700123458", "0812345678", "somchai@gmail.com", "Somchai", "081-234-5678"],
    "emoji": ["😀", "👍🏽", "👨‍👩‍👧", "🇹🇭", "\ufe0f"],
    "zero width": ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060"],
    "control": ["\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\x7f", "\x85", "\u2028"],
    "bidi": ["\u202e", "\u2066", "\u200f"],
    "injection": [
        "'; DROP TABLE applications;--",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "{{7*7}}",
        "${jndi:ldap://x/a}",
        "%s%n%x",
        "../../etc/passwd",
        "=cmd|' /C calc'!A0",
        "' OR '1'='1",
    ],
    "long": ["ก" * 5000, "a" * 5000, "ก่" * 2500, "1" * 5000],
}
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Answers:
    """Answers made from a seed, cheaply: pieces of each family joined, random characters."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.pieces = [piece for family in PIECES.values() for piece in family]

    def text(self) -> str:
        if self.random.random() < 0.1:
            return "".join(chr(self.random.randint(1, 0x10FFFF)) for _ in range(8))
        count = self.random.randint(1, 4)
        return " ".join(self.random.choice(self.pieces) for _ in range(count))

    def incoming(self, user_id: str, buttons: list[str]) -> Incoming:
        roll = self.random.random()
        if roll < 0.15 and buttons:
            return Incoming(
                CHANNEL, user_id, user_id, Kind.BUTTON, data=self.random.choice(buttons)
            )
        if roll < 0.25:
            data = self.random.choice(FORGED_DATA)
            return Incoming(CHANNEL, user_id, user_id, Kind.BUTTON, data=data)
        if roll < 0.28:
            return Incoming(CHANNEL, user_id, user_id, Kind.STICKER)
        return Incoming(CHANNEL, user_id, user_id, Kind.TEXT, text=self.text())


def hidden_in(value: Any) -> list[str]:
    """Characters no stored answer may hold: controls, bidi overrides, lone surrogates."""
    if isinstance(value, str):
        return [c for c in value if unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS]
    if isinstance(value, dict):
        return [c for item in value.values() for c in hidden_in(item)]
    if isinstance(value, list | tuple):
        return [c for item in value for c in hidden_in(item)]
    return []


async def saved(services: Services, user_id: str) -> dict[str, Any] | None:
    async with services.sessions.begin() as session:
        return await load_conversation(session, services.vault, CHANNEL, user_id)


async def states(services: Services, chat: Chat) -> list[tuple[dict[str, Any] | None, list[str]]]:
    """The saved state at every step, and the data of the buttons the person sees there."""
    found: list[tuple[dict[str, Any] | None, list[str]]] = [(None, [])]
    for name, transcript in TRANSCRIPTS.items():
        chat.user_id = f"U-{name}"
        for turn in transcript:
            await turn.play(chat)
            found.append((await saved(services, chat.user_id), buttons(chat)))
    for number, label in enumerate(MAIN_LABELS):  # the short requests of the menu
        chat.user_id = f"U-menu-{number}"
        await chat.send("สวัสดี")
        await chat.tap(label)
        found.append((await saved(services, chat.user_id), buttons(chat)))
    return found


def buttons(chat: Chat) -> list[str]:
    return [str(getattr(button, "data", "")) for button in chat.buttons]


def assert_answered(handler: ConversationHandler, incoming: Incoming, state: Any) -> None:
    """The planned turn for an answer: an answer, nothing hidden kept, whole requests only."""
    turn = handler.plan(incoming, state)
    assert turn.messages or turn.effects, (incoming, state)
    if turn.state is not None:
        assert hidden_in(dict(turn.state.answers)) == [], (incoming.text, turn.state.step)
    for effect in turn.effects:
        if isinstance(effect, SubmitApplication):
            assert effect.answers, "a request without its answers"
            assert effect.document_ids, "a request without its documents"
    if not turn.effects:
        assert handler.settle(turn).replies
    COUNTS["answers through the planned turn"] += 1


async def test_generated_answers_at_every_step_are_answered_and_keep_nothing_hidden(
    services: Services, handler: ConversationHandler, chat: Chat
) -> None:
    steps = await states(services, chat)
    answers = Answers(seed())
    for number in range(examples(PURE)):
        state, shown = steps[number % len(steps)]
        with counting_failures():
            assert_answered(handler, answers.incoming("U-fuzz", shown), state)


def prefixes() -> Iterator[tuple[str, list[Turn]]]:
    for name, transcript in TRANSCRIPTS.items():
        for number in range(len(transcript)):
            yield f"{name}-{number}", transcript[:number]


async def test_generated_answers_through_the_whole_handler_leave_no_half_written_request(
    services: Services, chat: Chat
) -> None:
    answers = Answers(seed() + 1)
    for user_id, before in prefixes():
        chat.user_id = f"U-{user_id}"
        await play(chat, before)
        for _ in range(WHOLE):
            incoming = answers.incoming(chat.user_id, buttons(chat))
            with counting_failures():
                replies = chat.replies = await chat.handler.handle(incoming)
            assert replies, (user_id, incoming)
            state = await saved(services, chat.user_id)
            assert hidden_in(state or {}) == [], (user_id, incoming.text)
            COUNTS["answers through the whole handler"] += 1
    async with services.sessions() as session:
        written = await session.scalar(select(func.count()).select_from(Application))
    assert written == 0  # no generated answer made a request out of a form not confirmed
