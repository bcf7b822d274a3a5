"""Support and status on the real channels: call buttons on LINE, tappable numbers on Telegram."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from tests.handlers.transcripts import STAFF_FORM
from tests.webhooks.line_world import line_world
from tests.webhooks.telegram_world import telegram_world

UNTIL_POSITION = STAFF_FORM[:5]  # the staff form up to "what is your position?"


async def test_support_on_line_has_buttons_that_call_each_section(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with line_world(database_url, tmp_path / "data", clock) as world:
        person = world.user("U" + "1" * 32)
        (contacts,) = await person.say("ติดต่อ")
    # line_world has checked every message against LINE's rules (uri: http, https, line, tel).
    assert "0 2203 2751" in contacts["text"]
    calls = [a for a in person.actions() if a["type"] == "uri"]
    assert calls == [
        {"type": "uri", "label": "โทร ฝ่ายฐานข้อมูล", "uri": "tel:022032751"},
        {"type": "uri", "label": "โทร ฝ่ายโปรแกรมระบบ", "uri": "tel:022032754"},
    ]


async def test_support_on_telegram_gives_numbers_telegram_links(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with telegram_world(database_url, tmp_path / "data", clock) as world:
        person = world.user(5550001)
        (contacts,) = await person.say("/help")
        buttons = world.emulator.buttons(contacts)
    # The emulator refuses tel: in a URL button, as Telegram does; the numbers are in the text.
    assert "+66 2 203 2751" in contacts["text"]
    assert "+66 2 203 2754" in contacts["text"]
    assert buttons == [("ขอบัญชีผู้ใช้ กทม.", "menu:apply")]


async def test_status_of_a_draft_on_line_goes_on_with_the_form(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with line_world(database_url, tmp_path / "data", clock) as world:
        person = world.user("U" + "2" * 32)
        await person.say("สมัคร")
        for action, value in UNTIL_POSITION:
            await (person.say(value) if action == "say" else person.tap(value))
        (card,) = await person.say("สถานะ")
        (asked,) = await person.tap("กรอกร่างต่อ")
    assert card["type"] == "flex"
    assert "ร่าง" in str(card["contents"]["body"])
    assert "ตำแหน่ง" in asked["text"]


async def test_status_of_a_draft_on_telegram_goes_on_with_the_form(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with telegram_world(database_url, tmp_path / "data", clock) as world:
        person = world.user(5550002)
        await person.say("สมัคร")
        for action, value in UNTIL_POSITION:
            await (person.say(value) if action == "say" else person.tap(value))
        (card,) = await person.say("/status")
        (asked,) = await person.tap("กรอกร่างต่อ")
    assert card["text"].startswith("คำขอของท่าน (ล่าสุดก่อน) ค่ะ\nร่าง")
    assert "ตำแหน่ง" in asked["text"]
