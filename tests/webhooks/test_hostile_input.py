"""Hostile but signed bodies: never a 5xx; each one stored reads as nothing or a clean Incoming;
handled, they leave a few log lines, however long the bot runs after."""

from __future__ import annotations

import contextlib
import copy
import gc
import itertools
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.channels import UnreadableEventError
from core.clock import ManualClock
from core.storage.crypto import Vault
from core.storage.db import make_sessions
from core.storage.models import InboxEvent
from tests.conftest import TEST_SECRET_KEY
from tests.emulators.line import new_ulid
from tests.fuzzing import COUNTS, SERVER_ERRORS
from tests.webhooks.line_world import LineWorld
from tests.webhooks.telegram_world import TelegramWorld
from webhooks.appkeys import WORKER
from webhooks.line.channel import to_incoming as line_incoming

Json = dict[str, Any]
KeyPath = tuple[str, ...]
DELETE = object()  # a mutation that takes the key away
EXAMPLES = 120  # generated bodies per channel: a second or two each
USER, GROUP = "U" + "a" * 32, "C" + "b" * 32
TG_USER = {"id": 5550100, "is_bot": False, "first_name": "สมชาย"}
TG_PRIVATE = {"id": 5550100, "type": "private", "first_name": "สมชาย"}
TG_GROUP = {"id": -1001234567890, "type": "supergroup", "title": "ผู้ตรวจ"}
pytestmark = pytest.mark.fuzz


@pytest.fixture
async def telegram(telegram: TelegramWorld) -> AsyncIterator[TelegramWorld]:
    """The running world of conftest.py, less the refusals of made-up callback query ids and
    file ids (Telegram and its emulator refuse them: not a bug)."""
    yield telegram
    await telegram.channel.settle()
    refused = telegram.emulator.violations
    made_up = ("answerCallbackQuery", "getFile: Bad Request: invalid file_id")
    refused[:] = [v for v in refused if not v.startswith(made_up)]


# --- bodies ----------------------------------------------------------------------------------


def line_event(kind: str) -> Json:
    """A LINE event as LINE sends it, of one kind: the base that mutations start from."""
    event: Json = {"type": "message", "mode": "active", "timestamp": 1700000000000}
    event |= {"webhookEventId": new_ulid(), "replyToken": "f" * 32}
    event["source"] = {"type": "user", "userId": USER}
    event["message"] = {"type": "text", "id": "100", "text": "สมัคร"}
    if kind == "image":
        event["message"] = {"type": "image", "id": "101"}
    elif kind == "postback":
        event |= {"type": "postback", "postback": {"data": "ap:1"}}
    elif kind == "join":
        event |= {"type": "join", "source": {"type": "group", "groupId": GROUP}}
    elif kind == "group":
        event["source"] = {"type": "group", "groupId": GROUP, "userId": USER}
    return event


def line_body(*events: Any) -> bytes:
    return json.dumps({"destination": "Ubot", "events": list(events)}).encode()


def telegram_update(kind: str, update_id: int) -> Json:
    """A Telegram update as the Bot API sends it, of one kind."""
    message: Json = {"message_id": 10, "date": 1700000000, "chat": dict(TG_PRIVATE)}
    message |= {"from": dict(TG_USER), "text": "/start apply"}
    message["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
    if kind == "photo":
        message.pop("text")
        message["photo"] = [{"file_id": "L", "file_unique_id": "uL", "width": 9, "height": 9}]
    elif kind == "document":
        message.pop("text")
        message["document"] = {"file_id": "D", "file_unique_id": "uD", "mime_type": "image/png"}
    if kind == "button":
        query = {"id": "4382", "chat_instance": "-77", "from": dict(TG_USER), "data": "ap:1"}
        query["message"] = {"message_id": 42, "date": 1700000000, "chat": dict(TG_GROUP)}
        return {"update_id": update_id, "callback_query": query}
    if kind == "member":
        change = {"chat": dict(TG_GROUP), "from": dict(TG_USER), "date": 1700000000}
        bot = {"id": 7000000001, "is_bot": True, "first_name": "bmabot"}
        change["old_chat_member"] = {"user": bot, "status": "left"}
        change["new_chat_member"] = {"user": bot, "status": "member"}
        return {"update_id": update_id, "my_chat_member": change}
    return {"update_id": update_id, "message": message}


def mutated(base: Json, mutations: list[tuple[KeyPath, Any]]) -> Json:
    """The base with each value put (or taken away) at its path, where the path still leads."""
    document = copy.deepcopy(base)
    for path, value in mutations:
        holder: Any = document
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict):
            continue
        if value is DELETE:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = copy.deepcopy(value)
    return document


# --- what hypothesis draws -------------------------------------------------------------------

# One surrogate in text without others stays lone: json.dumps escapes it as \ud800, and no
# partner escape follows for json.loads to pair it with.
lone_surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
surrogates = st.builds("{}{}{}".format, st.text(max_size=3), lone_surrogate, st.text(max_size=3))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12)
    | surrogates
    | st.sampled_from(["", "group", "room", "user", "private", "kicked", "member", "text"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | surrogates, inner, max_size=3)
        | st.fixed_dictionaries({"id": inner, "type": inner})
        | st.fixed_dictionaries({"type": inner, "offset": inner, "length": inner})
    ),
    max_leaves=6,
)
LINE_PATHS: list[KeyPath] = [
    ("type",),
    ("webhookEventId",),
    ("replyToken",),
    ("source",),
    ("source", "type"),
    ("source", "userId"),
    ("source", "groupId"),
    ("source", "roomId"),
    ("message",),
    ("message", "type"),
    ("message", "text"),
    ("message", "id"),
    ("postback",),
    ("postback", "data"),
]
TELEGRAM_PATHS: list[KeyPath] = [
    *[("message", *rest) for rest in [(), ("chat",), ("chat", "id"), ("chat", "type")]],
    *[("message", *rest) for rest in [("from",), ("from", "id"), ("text",), ("date",)]],
    *[("message", *rest) for rest in [("entities",), ("photo",), ("document",)]],
    ("message", "document", "mime_type"),
    ("message", "document", "file_id"),
    *[("callback_query", *rest) for rest in [(), ("from",), ("data",), ("message",)]],
    ("callback_query", "message", "chat"),
    ("callback_query", "message", "message_id"),
    *[("my_chat_member", *rest) for rest in [(), ("chat",), ("from",), ("new_chat_member",)]],
    ("my_chat_member", "new_chat_member", "status"),
    ("update_id",),
]


def mutations(paths: list[KeyPath]) -> st.SearchStrategy[list[tuple[KeyPath, Any]]]:
    change = st.tuples(st.sampled_from(paths), values | st.just(DELETE))
    return st.lists(change, min_size=1, max_size=3)


def drawn(strategy: st.SearchStrategy[Any], count: int = EXAMPLES) -> list[Any]:
    """Examples of a strategy, the same on every run (the test then posts them all at once)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found


# --- what every stored payload must read as --------------------------------------------------


def assert_clean(incoming: Incoming | None) -> None:
    """None, or an Incoming whose every field has its type and fits where it is stored."""
    if incoming is None:
        return
    assert isinstance(incoming.kind, Kind)
    for chat in (incoming.user_id, incoming.chat_id):
        assert isinstance(chat, str)
        assert 0 < len(chat) <= 64
    assert isinstance(incoming.text, str)
    assert isinstance(incoming.data, str)
    assert isinstance(incoming.in_group, bool)
    assert incoming.reply_token is None or isinstance(incoming.reply_token, str)
    assert incoming.origin is None or isinstance(incoming.origin, str)
    if incoming.media is not None:
        assert isinstance(incoming.media, MediaRef)
        assert isinstance(incoming.media.ref, str)
    (incoming.text + incoming.data).encode("utf-8")


async def stored_payloads(engine: AsyncEngine, channel: str) -> list[Json]:
    vault = Vault(TEST_SECRET_KEY)
    async with make_sessions(engine)() as session:
        rows = await session.scalars(select(InboxEvent).where(InboxEvent.channel == channel))
        return [vault.decrypt_json(row.payload, context=f"inbox:{row.key}") for row in rows]


SET_ASIDE = "set aside"  # the channel says it cannot be read: the dispatcher quarantines it


async def read_back(
    engine: AsyncEngine, channel: str, read: Callable[[Json], Incoming | None]
) -> list[Incoming | str | None]:
    """Each stored payload as the channel reads it: a clean Incoming, None (nothing to
    answer) or SET_ASIDE (UnreadableEventError, and nothing else, raised)."""
    readings: list[Incoming | str | None] = []
    for payload in await stored_payloads(engine, channel):
        try:
            incoming = read(payload)
        except UnreadableEventError:
            readings.append(SET_ASIDE)
            continue
        assert_clean(incoming)
        readings.append(incoming)
    return readings


async def post_line(world: LineWorld, body: bytes) -> int:
    status = await world.emulator.post_events([], raw=body)  # signed with the channel secret
    return posted(status)


async def post_telegram(world: TelegramWorld, body: bytes) -> int:
    status = await world.emulator.post_update({}, raw=body)  # with the secret-token header
    return posted(status)


def posted(status: int) -> int:
    COUNTS["webhook bodies posted over HTTP"] += 1
    if status >= 500:
        COUNTS[SERVER_ERRORS] += 1
    return status


def telegram_body(update: Any) -> bytes:
    return json.dumps(update).encode()


def server_errors(bodies: list[bytes], statuses: list[int]) -> list[bytes]:
    """The bodies answered with a 5xx, to show when the test fails."""
    return [body for body, status in zip(bodies, statuses, strict=True) if status >= 500]


update_ids = itertools.count(1)


# --- LINE ------------------------------------------------------------------------------------


async def test_a_signed_line_body_with_a_string_message_is_answered_200_and_set_aside(
    line: LineWorld, engine: AsyncEngine
) -> None:
    event = line_event("text") | {"message": "สมัคร"}
    assert await post_line(line, line_body(event)) == 200
    assert await read_back(engine, "line", line_incoming) == [SET_ASIDE]


async def test_a_line_event_with_a_number_as_reply_token_is_read_without_one(
    line: LineWorld, engine: AsyncEngine
) -> None:
    event = line_event("text") | {"replyToken": 12345}
    assert await post_line(line, line_body(event)) == 200
    [incoming] = await read_back(engine, "line", line_incoming)
    assert incoming is not None
    assert (incoming.text, incoming.reply_token) == ("สมัคร", None)


LINE_SHAPES: dict[str, list[tuple[KeyPath, Any]]] = {
    "message a list": [(("message",), ["text"])],
    "message type a list": [(("message", "type"), ["text"])],
    "text a number": [(("message", "text"), 7)],
    "image without an id": [(("message",), {"type": "image"})],
    "source a string": [(("source",), USER)],
    "source empty": [(("source",), {})],
    "user id a number": [(("source", "userId"), 7)],
    "group id a dict": [(("source", "groupId"), {"id": GROUP})],
    "user id too long": [(("source", "userId"), "U" * 65)],
    "group id empty beside a user": [(("source", "groupId"), "")],
    "reply token a dict": [(("replyToken",), {"token": "x"})],
    "reply token too long": [(("replyToken",), "t" * 300)],
    "type a list": [(("type",), ["message"])],
    "postback a string": [(("type",), "postback"), (("postback",), "ap:1")],
    "postback data a list": [(("type",), "postback"), (("postback",), {"data": ["ap:1"]})],
    "event id too long": [(("webhookEventId",), "E" * 200)],
    "event id a number": [(("webhookEventId",), 1)],
}


async def test_every_odd_line_event_shape_is_taken_and_read_cleanly_or_set_aside(
    line: LineWorld, engine: AsyncEngine
) -> None:
    bodies = [line_body(mutated(line_event("text"), shape)) for shape in LINE_SHAPES.values()]
    bodies += [b"[]", b'{"events": "x"}', b'{"events": [1, "x", null, []]}']
    statuses = [await post_line(line, body) for body in bodies]
    assert set(statuses) <= {200, 400}
    await read_back(engine, "line", line_incoming)


async def test_generated_signed_line_bodies_never_get_a_5xx_and_each_stored_one_reads_cleanly(
    line: LineWorld, engine: AsyncEngine
) -> None:
    kinds = st.sampled_from(["text", "image", "postback", "join", "group"])
    examples = drawn(st.tuples(kinds, mutations(LINE_PATHS)))
    bodies = [line_body(mutated(line_event(kind), changes)) for kind, changes in examples]
    statuses = [await post_line(line, body) for body in bodies]
    assert set(statuses) <= {200, 400}, server_errors(bodies, statuses)
    readings = await read_back(engine, "line", line_incoming)
    assert any(incoming is not None for incoming in readings)


async def test_lone_surrogates_in_a_line_body_are_stored_as_replacement_characters(
    line: LineWorld, engine: AsyncEngine
) -> None:
    event = line_event("text")
    event["message"] |= {"text": "\ud800 ok", "\udc00": "\udfff"}
    assert await post_line(line, line_body(event)) == 200  # json.dumps escapes them: \ud800
    [payload] = await stored_payloads(engine, "line")
    assert payload["message"]["\ufffd"] == "\ufffd"
    incoming = line_incoming(payload)
    assert incoming is not None
    assert incoming.text == "\ufffd ok"


@pytest.mark.parametrize("depth", [40, 100_000])
async def test_a_line_body_nested_too_deeply_is_refused_with_400(
    line: LineWorld, engine: AsyncEngine, depth: int
) -> None:
    event = json.dumps(line_event("text")).encode()
    body = b'{"events": [' + event[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}]}"
    assert await post_line(line, body) == 400
    assert await stored_payloads(engine, "line") == []


# --- Telegram --------------------------------------------------------------------------------


async def test_a_signed_telegram_update_with_string_entities_is_answered_200_and_set_aside(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    update = mutated(telegram_update("text", next(update_ids)), [(("message", "entities"), "x")])
    assert await post_telegram(telegram, telegram_body(update)) == 200
    assert await read_back(engine, "telegram", telegram.channel.to_incoming) == [SET_ASIDE]


async def test_a_telegram_message_without_a_chat_is_set_aside(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    update = mutated(telegram_update("text", next(update_ids)), [(("message", "chat"), DELETE)])
    assert await post_telegram(telegram, telegram_body(update)) == 200
    assert await read_back(engine, "telegram", telegram.channel.to_incoming) == [SET_ASIDE]


async def test_a_telegram_message_dated_past_any_calendar_is_set_aside(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    update = mutated(telegram_update("text", next(update_ids)), [(("message", "date"), 10**20)])
    assert await post_telegram(telegram, telegram_body(update)) == 200
    assert await read_back(engine, "telegram", telegram.channel.to_incoming) == [SET_ASIDE]


COMMAND = {"type": "bot_command", "offset": 0, "length": 6}
PHOTO = {"file_id": "L", "file_unique_id": "uL", "width": 9, "height": 9}
MESSAGE, QUERY, CHANGE = ("message",), ("callback_query",), ("my_chat_member",)
TELEGRAM_SHAPES: dict[str, tuple[str, list[tuple[KeyPath, Any]]]] = {
    "text a number": ("text", [((*MESSAGE, "text"), 7)]),
    "entity length a string": ("text", [((*MESSAGE, "entities"), [COMMAND | {"length": "6"}])]),
    "entity type a list": ("text", [((*MESSAGE, "entities"), [COMMAND | {"type": []}])]),
    "entity length negative": ("text", [((*MESSAGE, "entities"), [COMMAND | {"length": -3}])]),
    "chat id a string": ("text", [((*MESSAGE, "chat"), {"id": "5", "type": "private"})]),
    "chat type a list": ("text", [((*MESSAGE, "chat"), {"id": 5, "type": ["group"]})]),
    "chat id too large": ("text", [((*MESSAGE, "chat", "id"), 10**40)]),
    "sender a string": ("text", [((*MESSAGE, "from"), "me")]),
    "photo file id a number": ("photo", [((*MESSAGE, "photo"), [PHOTO | {"file_id": 1}])]),
    "document mime a number": ("document", [((*MESSAGE, "document", "mime_type"), 5)]),
    "document file id a list": ("document", [((*MESSAGE, "document", "file_id"), [])]),
    "button data a number": ("button", [((*QUERY, "data"), 5)]),
    "button without a sender": ("button", [((*QUERY, "from"), DELETE)]),
    "button message without a chat": ("button", [((*QUERY, "message", "chat"), DELETE)]),
    "button message id a string": ("button", [((*QUERY, "message", "message_id"), "x")]),
    "membership status a number": ("member", [((*CHANGE, "new_chat_member", "status"), 5)]),
    "membership without a chat": ("member", [((*CHANGE, "chat"), DELETE)]),
    "membership empty": ("member", [(CHANGE, {"from": TG_USER})]),
}


async def test_every_odd_telegram_update_shape_is_taken_and_read_cleanly_or_set_aside(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    shapes = TELEGRAM_SHAPES.values()
    updates = [mutated(telegram_update(k, next(update_ids)), m) for k, m in shapes]
    statuses = [await post_telegram(telegram, telegram_body(update)) for update in updates]
    assert set(statuses) <= {200, 400}
    await read_back(engine, "telegram", telegram.channel.to_incoming)


async def test_generated_signed_telegram_updates_never_get_a_5xx_and_each_stored_one_reads_cleanly(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    kinds = st.sampled_from(["text", "photo", "document", "button", "member"])
    examples = drawn(st.tuples(kinds, mutations(TELEGRAM_PATHS)))
    bodies = [
        telegram_body(mutated(telegram_update(kind, next(update_ids)), changes))
        for kind, changes in examples
    ]
    statuses = [await post_telegram(telegram, body) for body in bodies]
    assert set(statuses) <= {200, 400}, server_errors(bodies, statuses)
    readings = await read_back(engine, "telegram", telegram.channel.to_incoming)
    assert any(incoming is not None for incoming in readings)


async def test_lone_surrogates_in_a_telegram_update_are_read_as_replacement_characters(
    telegram: TelegramWorld, engine: AsyncEngine
) -> None:
    update = telegram_update("text", next(update_ids))
    update["message"] |= {"text": "ok \udbff", "entities": []}
    assert await post_telegram(telegram, telegram_body(update)) == 200
    [incoming] = await read_back(engine, "telegram", telegram.channel.to_incoming)
    assert incoming is not None
    assert incoming.text == "ok \ufffd"


@pytest.mark.parametrize(
    "body",
    [
        b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"}",
        b'{"update_id": 1, "message": ' + b'{"x": ' * 40 + b"1" + b"}" * 41,
        telegram_body(telegram_update("text", 10**200)),
    ],
    ids=["nested past the parser", "nested past the limit", "update id past 64 bits"],
)
async def test_a_telegram_update_no_platform_sends_is_refused_with_400(
    telegram: TelegramWorld, engine: AsyncEngine, body: bytes
) -> None:
    assert await post_telegram(telegram, body) == 400
    assert await stored_payloads(engine, "telegram") == []


# --- both webhooks, and the bot running on for a while after -------------------------------

# The bug this guards against: one bad event read again every 2 s, and the log grew by
# 318,950 lines a minute of "Task exception was never retrieved" tracebacks.
LOGGERS = ("bmabot", "bot", "core", "webhooks", "asyncio")
ROUNDS_AFTER = 30  # the dispatcher's and the sender's rounds once all is handled: an hour
# What the bodies say about the person, none of which a log line may repeat.
PERSONAL = [USER, GROUP, str(TG_USER["id"]), str(TG_GROUP["id"]), "สมชาย", "สมัคร", "/start"]
UNREADABLE_UPDATE = "a stored Telegram update could not be read: %s"


def hostile_line_bodies() -> list[bytes]:
    kinds = st.sampled_from(["text", "image", "postback", "join", "group"])
    examples = drawn(st.tuples(kinds, mutations(LINE_PATHS)))
    bodies = [line_body(mutated(line_event(kind), changes)) for kind, changes in examples]
    bodies += [line_body(mutated(line_event("text"), shape)) for shape in LINE_SHAPES.values()]
    bodies += [b"[]", b'{"events": "x"}', b'{"events": [1, "x", null, []]}']
    return [*bodies, b'{"events": [' + b"[" * 100_000 + b"]}"]


def hostile_telegram_updates() -> list[Json]:
    kinds = st.sampled_from(["text", "photo", "document", "button", "member"])
    examples = drawn(st.tuples(kinds, mutations(TELEGRAM_PATHS)))
    examples += list(TELEGRAM_SHAPES.values())
    return [
        mutated(telegram_update(kind, next(update_ids)), changes) for kind, changes in examples
    ]


def chats_named(node: Any) -> Iterator[int]:
    """The ids of the chats an update names, wherever it names one."""
    if isinstance(node, dict):
        chat = node.get("chat")
        if isinstance(chat, dict) and type(chat.get("id")) is int:
            yield chat["id"]
        for value in node.values():
            yield from chats_named(value)
    elif isinstance(node, list):
        for value in node:
            yield from chats_named(value)


async def one_round(world: LineWorld | TelegramWorld) -> int:
    """What `Dispatcher.run` does each time round, and the job worker's turn, with nothing
    waited for but the work itself. Returns how many events the round read."""
    dispatcher = world.dispatcher
    read = await dispatcher.handle_round()
    await dispatcher.sender.settle()
    await dispatcher.sender.mark_sent()
    await dispatcher.deliver_due()
    if isinstance(world, TelegramWorld):
        await world.channel.settle()  # the answers to callback queries
    await world.app[WORKER].drain()
    return read


async def test_hostile_bodies_on_both_webhooks_leave_a_short_log_however_long_the_bot_runs(
    line: LineWorld,
    telegram: TelegramWorld,
    engine: AsyncEngine,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    updates = hostile_telegram_updates()
    # A signed update comes from Telegram: the chats it names are chats Telegram has.
    assert (await telegram.emulator.send_text(TG_USER["id"], "สวัสดี"))[0] == 200
    for chat_id in {chat for update in updates for chat in chats_named(update)}:
        if chat_id != TG_USER["id"]:
            telegram.emulator.add_group(chat_id)
    line_bodies = hostile_line_bodies()
    telegram_bodies = [telegram_body(update) for update in updates]
    telegram_bodies.append(b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"}")
    hostile = len(line_bodies) + len(telegram_bodies)

    statuses = [await post_line(line, body) for body in line_bodies]
    statuses += [await post_telegram(telegram, body) for body in telegram_bodies]
    assert set(statuses) <= {200, 400}, server_errors(line_bodies + telegram_bodies, statuses)
    for _ in range(hostile):  # one event a person a round: a round per body at most
        if not await one_round(line) + await one_round(telegram):
            break
    else:
        pytest.fail("events are still read after a round per body: some are read again")
    handled = len(caplog.records)
    for _ in range(ROUNDS_AFTER):
        clock.advance(minutes=2)
        assert await one_round(line) + await one_round(telegram) == 0
    assert caplog.records[handled:] == []  # nothing read again, nothing retried and logged
    assert await line.user(USER).say("สวัสดี")  # the same people are answered as ever
    assert await telegram.user(TG_USER["id"]).say("สวัสดี")
    gc.collect()  # a task whose exception nobody retrieved says so when it is collected

    run = list(caplog.records)
    assert [r.getMessage() for r in run if r.levelno >= logging.ERROR] == []
    assert [r.getMessage() for r in run if r.exc_info or r.exc_text or r.stack_info] == []
    assert [r for r in run if "never retrieved" in r.getMessage()] == []
    assert len(run) <= 2 * hostile, Counter(r.msg for r in run).most_common(5)
    for template, count in Counter(r.msg for r in run).items():
        assert count <= hostile, template  # at most about one line an event, of each kind
    # A line about an event or a reply names it by its id: each said once.
    named = Counter((r.msg, r.args[0]) for r in run if isinstance(r.args, tuple) and r.args)
    ids = {key: n for key, n in named.items() if key[0].startswith(("event %s", "delivery %s"))}
    assert all(count == 1 for count in ids.values()), ids
    said = [r.getMessage() for r in run]
    assert [(word, text) for text in said for word in PERSONAL if word in text] == []
    # Each update Telegram's reader cannot take is logged once: read them again to count.
    caplog.clear()
    for payload in await stored_payloads(engine, "telegram"):
        with contextlib.suppress(Exception):  # a reader that raises: the dispatcher's line
            telegram.channel.to_incoming(payload)
    again = sum(1 for r in caplog.records if r.msg == UNREADABLE_UPDATE)
    assert sum(1 for r in run if r.msg == UNREADABLE_UPDATE) <= again
