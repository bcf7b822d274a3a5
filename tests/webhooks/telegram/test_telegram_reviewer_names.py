"""Reviewers named in the Telegram group by the name each update carries (first and last name,
else @username): a change shows at once, the id never."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import User

from core.clock import ManualClock
from core.requests.reviewer_names import known_names
from tests.webhooks.telegram.test_telegram_review import (
    GROUP,
    REVIEWER,
    SECOND,
    card_of,
    press,
    review_settings,
    submitted,
)
from tests.webhooks.telegram_world import TelegramWorld, telegram_world
from webhooks.appkeys import SERVICES
from webhooks.telegram.updates import sender_name


@pytest.fixture
async def world(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(
        database_url, tmp_path / "data", clock, **review_settings(tmp_path)
    ) as running:
        running.emulator.add_group(GROUP)
        yield running


async def stored_name(world: TelegramWorld, reviewer: int) -> str | None:
    services = world.app[SERVICES]
    async with services.sessions() as session:
        known = await known_names(session, services.vault, [f"telegram:{reviewer}"])
    found = known.get(f"telegram:{reviewer}")
    return None if found is None else found.name


async def in_group(world: TelegramWorld, user_id: int, text: str) -> None:
    await world.arrived(await world.emulator.send_text(user_id, text, chat_id=GROUP))
    await world.settle()


async def test_the_second_reviewer_is_told_by_name_who_decided_first(
    world: TelegramWorld,
) -> None:
    world.emulator.names |= {REVIEWER: "มาลี", SECOND: "มานะ"}
    await submitted(world)
    card = card_of(world)
    await press(world, REVIEWER, card, "rv:a:1")
    await world.settle()

    await press(world, SECOND, card, "rv:a:1")  # a moment too late
    await world.settle()

    late = world.emulator.texts(GROUP)[-1]
    assert late.startswith("คำขอ A69-00001 ได้รับการอนุมัติไปแล้วโดยผู้ตรวจ มาลี เมื่อ ")
    assert str(REVIEWER) not in "\n".join(world.emulator.texts(GROUP))


async def test_a_changed_telegram_name_shows_at_the_next_event(world: TelegramWorld) -> None:
    world.emulator.names[REVIEWER] = "มาลี"
    await in_group(world, REVIEWER, "/pending")
    assert await stored_name(world, REVIEWER) == "มาลี"

    world.emulator.names[REVIEWER] = "มาลี ศรีสุข"
    await in_group(world, REVIEWER, "/pending")

    assert await stored_name(world, REVIEWER) == "มาลี ศรีสุข"


def test_the_name_is_first_and_last_name_else_the_username() -> None:
    assert sender_name(User(1, "มาลี", False, last_name="ศรีสุข")) == "มาลี ศรีสุข"
    assert sender_name(User(1, "มาลี", False, username="malee_s")) == "มาลี"
    assert sender_name(User(1, " ", False, username="malee_s")) == "@malee_s"
    assert sender_name(User(1, "", False)) == ""  # then the polite neutral label
