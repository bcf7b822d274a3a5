"""One outbox row that cannot be shown or sent fails alone, as a DeliveryError, never a crash."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bot.handlers.channels import DeliveryError
from bot.handlers.rendering import Button, Rendered, to_json
from core.clock import ManualClock
from core.delivery.outbox import Outgoing
from tests.webhooks.line_world import LineWorld
from tests.webhooks.telegram_world import TelegramWorld
from webhooks.line.channel import LineChannel
from webhooks.telegram.channel import TelegramChannel

LINE_USER = "U" + "c" * 32
TELEGRAM_USER = "5550200"
BROKEN_MESSAGES: list[Any] = [
    "not an object",
    {"key": "k"},
    {"key": "k", "text": 5},
    {"key": "k", "text": "x", "buttons": "ab"},
    {"key": "k", "text": "x", "buttons": [["only a label"]]},
    {"key": "k", "text": "x", "document_id": "7"},
    {"key": "k", "text": "x", "title": ["a"]},
]


def row(channel: str, chat_id: str, *messages: Any) -> Outgoing:
    return Outgoing(1, channel, chat_id, list(messages), None, None, str(uuid.uuid4()), 0)


async def retryable(channel: LineChannel | TelegramChannel, outgoing: Outgoing) -> bool:
    """Whether the DeliveryError the row fails with says to try again."""
    with pytest.raises(DeliveryError) as held:
        await channel.send(outgoing, ManualClock().now())
    return held.value.retryable


def line_channel(world: LineWorld) -> LineChannel:
    channel = world.dispatcher.channels["line"]
    assert isinstance(channel, LineChannel)
    return channel


# --- Telegram --------------------------------------------------------------------------------


NOT_CHAT_NUMBERS = ["1.5", "abc", "", " 5", "+5", "1_000", "5" * 30]


async def test_a_telegram_row_whose_chat_id_is_not_a_number_fails_for_good(
    telegram: TelegramWorld,
) -> None:
    hello = to_json(Rendered("k", "สวัสดี"))
    rows = [row("telegram", chat_id, hello) for chat_id in NOT_CHAT_NUMBERS]
    assert [await retryable(telegram.channel, outgoing) for outgoing in rows] == [False] * len(
        rows
    )
    assert [method for method, _ in telegram.emulator.calls if method == "sendMessage"] == []


async def test_a_telegram_row_with_a_broken_stored_message_fails_for_good(
    telegram: TelegramWorld,
) -> None:
    rows = [row("telegram", TELEGRAM_USER, message) for message in BROKEN_MESSAGES]
    outcomes = [await retryable(telegram.channel, outgoing) for outgoing in rows]
    assert outcomes == [False] * len(BROKEN_MESSAGES)


async def test_an_unexpected_error_while_sending_a_telegram_row_is_a_retryable_delivery_error(
    telegram: TelegramWorld,
) -> None:
    async def unreadable(document_id: int, shown_in: str) -> bytes | None:
        raise OSError("the document store cannot be read")

    channel = TelegramChannel(telegram.channel.bot, pictures=unreadable)
    outgoing = row("telegram", TELEGRAM_USER, to_json(Rendered("k", "บัตร", document_id=7)))
    assert await retryable(channel, outgoing)


# --- LINE ------------------------------------------------------------------------------------


async def test_a_line_row_with_a_broken_stored_message_fails_for_good(line: LineWorld) -> None:
    rows = [row("line", LINE_USER, message) for message in BROKEN_MESSAGES]
    outcomes = [await retryable(line_channel(line), outgoing) for outgoing in rows]
    assert outcomes == [False] * len(BROKEN_MESSAGES)
    assert line.emulator.received(LINE_USER) == []


async def test_a_line_row_breaking_a_line_limit_fails_for_good(line: LineWorld) -> None:
    too_long = Rendered("k", "เลือก", (Button("ตกลง", "d" * 400),))
    assert not await retryable(line_channel(line), row("line", LINE_USER, to_json(too_long)))


async def test_a_200_from_line_is_a_delivery_whatever_its_body_says(line: LineWorld) -> None:
    # LINE took the messages: sending them again would say them twice.
    line.emulator.fail_next("/v2/bot/message/push", status=200, body={"unexpected": True})
    outgoing = row("line", LINE_USER, to_json(Rendered("k", "สวัสดี")))
    await line_channel(line).send(outgoing, line.clock.now())
