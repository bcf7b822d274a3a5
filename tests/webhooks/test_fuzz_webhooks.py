"""Generated webhook bodies, thousands of them: valid, truncated, wrong types, huge strings,
deep nesting, unknown fields, invalid UTF-8, lone surrogates.

The bulk goes through what a webhook does with a signed body, in-process (parse, store as
the inbox stores it, read back as the dispatcher reads it, plan and render the person's
turn); a few hundred go over HTTP to the running app. Never a 5xx, never an exception but
the refusals the channels name, and a readable event always gets an answer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot

from bot.flows.incoming import Incoming, Kind
from bot.handlers.channels import UnreadableEventError
from bot.handlers.conversation import ConversationHandler
from core.delivery.inbox import NewEvent
from core.storage.crypto import Vault
from tests.conftest import TEST_SECRET_KEY
from tests.fuzzing import COUNTS, counting_failures, examples, seed, timeout
from tests.webhooks.line_world import LineWorld
from tests.webhooks.telegram_world import TelegramWorld
from tests.webhooks.test_hostile_input import (
    DELETE,
    LINE_PATHS,
    TELEGRAM_PATHS,
    TG_USER,
    Json,
    KeyPath,
    assert_clean,
    chats_named,
    drawn,
    line_body,
    line_event,
    mutated,
    post_line,
    post_telegram,
    read_back,
    server_errors,
    telegram,
    telegram_update,
    values,
)
from webhooks.line.channel import parse_line_events
from webhooks.line.channel import to_incoming as line_incoming
from webhooks.telegram.updates import parse_telegram_update
from webhooks.telegram.updates import to_incoming as telegram_incoming

__all__ = ["telegram"]  # the Telegram world less refusals of made-up ids (not bugs)
pytestmark = [pytest.mark.fuzz, timeout()]

IN_PROCESS = 10_000  # bodies per channel in CI: with those over HTTP, 20,000 in all
OVER_HTTP = 150  # bodies per channel posted to the running app
VAULT = Vault(TEST_SECRET_KEY)
BOT = Bot("123456:fuzz-token-never-used-offline")
ANSWERED = frozenset({Kind.TEXT, Kind.BUTTON, Kind.PHOTO, Kind.FILE, Kind.STICKER, Kind.OTHER})
LINE_KINDS = ["text", "image", "postback", "join", "group"]
TELEGRAM_KINDS = ["text", "photo", "document", "button", "member"]

# Values no platform sends, now and then in place of one that it does.
HUGE = ["ก" * 100_000, "x" * 1_000_000, "😀" * 50_000]
DEEP = [json.loads("[" * depth + "]" * depth) for depth in (30, 200)]
DEEPER = [900, 100_000]  # put into the body's text: too deep for copying as objects
ODD = ["\x00", "\u202e", "\u200b" * 10, "\ud800", "a\udfffb", 2**64, -1, 1e308, [], {}, True]
UNKNOWN_KEYS = ["x", "__proto__", "mode", "extra", "ü", "\ud800", ""]
BAD_BYTES = [
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\x80",
    b"\xf4\x90\x80\x80",
    b"\x00",
    b"\\ud800",
]


class Bodies:
    """Webhook bodies made from a seed, cheaply: hypothesis draws the pool of odd values
    once (its own shapes: wrong types, nesting, surrogates); each body is a platform's
    event with one to three values changed, unknown keys, and now and then cut short or
    given bytes that are not UTF-8. The same seed makes the same bodies."""

    def __init__(self, seed: int, paths: list[KeyPath], make: Callable[[str, int], Json]) -> None:
        self.random = random.Random(seed)
        self.paths, self.make = paths, make
        self.values: list[Any] = [*drawn(values, 300), *ODD, *DEEP]

    def value(self) -> Any:
        if self.random.random() < 0.002:
            return self.random.choice(HUGE)  # rare: each costs milliseconds to store
        if self.random.random() < 0.05:
            return DELETE
        return self.random.choice(self.values)

    def event(self, kinds: list[str], number: int) -> Json:
        base = self.make(self.random.choice(kinds), number)
        if self.random.random() < 0.1:
            return base  # as the platform sends it
        count = self.random.randint(1, 3)
        changes = [(self.random.choice(self.paths), self.value()) for _ in range(count)]
        event = mutated(base, changes)
        if self.random.random() < 0.2:
            event[self.random.choice(UNKNOWN_KEYS)] = self.random.choice(self.values)
        return event

    def damaged(self, body: bytes) -> bytes:
        roll = self.random.random()
        if roll < 0.05:
            return body[: self.random.randint(0, len(body))]  # truncated
        if roll < 0.1:
            at = self.random.randint(0, len(body))
            return body[:at] + self.random.choice(BAD_BYTES) + body[at:]  # not UTF-8
        if roll < 0.11 and body.startswith(b"{"):
            depth = self.random.choice(DEEPER)
            return b'{"deep": ' + b"[" * depth + b"]" * depth + b", " + body[1:]
        return body


def line_bodies(seed: int, count: int) -> Iterator[bytes]:
    made = Bodies(seed, LINE_PATHS, lambda kind, number: line_event(kind))
    for number in range(count):
        events = [made.event(LINE_KINDS, number) for _ in range(made.random.randint(0, 3))]
        yield made.damaged(line_body(*events))


def telegram_bodies(seed: int, count: int) -> Iterator[bytes]:
    made = Bodies(seed, TELEGRAM_PATHS, telegram_update)
    for number in range(1, count + 1):
        yield made.damaged(json.dumps(made.event(TELEGRAM_KINDS, number)).encode())


def as_stored(event: NewEvent) -> dict[str, Any]:
    """The payload as the inbox keeps it (encrypted JSON) and the dispatcher reads it back."""
    context = f"inbox:{event.key}"
    stored: dict[str, Any] = VAULT.decrypt_json(
        VAULT.encrypt_json(dict(event.payload), context=context), context=context
    )
    return stored


def answer(handler: ConversationHandler, incoming: Incoming | None) -> None:
    """The person's turn, planned and rendered as the dispatcher does for a new person."""
    assert_clean(incoming)
    if incoming is None or handler.wants_review(incoming):
        return  # nothing to answer; reviewers' presses are decided in a transaction
    turn = handler.plan(incoming, None)
    if turn.effects:
        return  # done in the transaction (looked up, stored): not a pure turn
    replies = handler.settle(turn).replies
    if incoming.kind in ANSWERED and not incoming.in_group:
        assert replies, incoming.kind  # a person who wrote is always answered
    COUNTS["webhook events answered in-process"] += 1


def take(
    body: bytes,
    parse: Callable[[bytes], list[NewEvent]],
    read: Callable[[dict[str, Any]], Incoming | None],
    handler: ConversationHandler,
) -> None:
    """What the webhook and then the dispatcher do with a signed body: 400, or stored, read
    (or set aside) and answered. Any other exception would be a 5xx or a failed turn."""
    COUNTS["webhook bodies generated"] += 1
    try:
        events = parse(body)
    except ValueError:
        COUNTS["webhook bodies refused with 400"] += 1
        return
    for event in events:
        assert_storable(event)
        try:
            incoming = read(as_stored(event))
        except UnreadableEventError:
            COUNTS["webhook events set aside"] += 1
            continue
        answer(handler, incoming)


def readable(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def assert_storable(event: NewEvent) -> None:
    """The inbox row's text columns take it on every database (PostgreSQL refuses NUL)."""
    for text in (event.key, event.user_id, event.channel):
        assert "\x00" not in text, event.key
        assert text.isprintable(), event.key


def telegram_events(body: bytes) -> list[NewEvent]:
    event = parse_telegram_update(body)
    return [] if event is None else [event]


def read_telegram(payload: dict[str, Any]) -> Incoming | None:
    return telegram_incoming(payload, BOT, "bmabot")


def test_generated_line_bodies_are_refused_or_stored_read_and_answered(
    handler: ConversationHandler,
) -> None:
    for body in line_bodies(seed(), examples(IN_PROCESS)):
        with counting_failures():
            take(body, parse_line_events, line_incoming, handler)


def test_generated_telegram_updates_are_refused_or_stored_read_and_answered(
    handler: ConversationHandler,
) -> None:
    for body in telegram_bodies(seed(), examples(IN_PROCESS)):
        with counting_failures():
            take(body, telegram_events, read_telegram, handler)


async def test_generated_line_bodies_over_http_never_get_a_5xx(
    line: LineWorld, engine: AsyncEngine
) -> None:
    bodies = list(line_bodies(seed() + 1, OVER_HTTP))
    statuses = [await post_line(line, body) for body in bodies]
    assert set(statuses) <= {200, 400}, server_errors(bodies, statuses)
    await read_back(engine, "line", line_incoming)
    await line.settle()  # every stored event handled: none left to fail later
    # A made-up user id (LINE sends none) answered by push: LINE refuses it, not a bug.
    refused = line.emulator.violations
    refused[:] = [v for v in refused if not v.endswith("Must be a user, group or room id")]


async def test_generated_telegram_updates_over_http_never_get_a_5xx(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    bodies = list(telegram_bodies(seed() + 1, OVER_HTTP))
    # A signed update comes from Telegram: the chats it names are chats Telegram has.
    assert (await telegram.emulator.send_text(TG_USER["id"], "สวัสดี"))[0] == 200
    for chat_id in {chat for body in bodies for chat in chats_named(readable(body))}:
        if chat_id != TG_USER["id"]:
            telegram.emulator.add_group(chat_id)
    statuses = [await post_telegram(telegram, body) for body in bodies]
    assert set(statuses) <= {200, 400}, server_errors(bodies, statuses)
    await read_back(engine, "telegram", telegram.channel.to_incoming)
    await telegram.settle()
