"""Review in the Telegram reviewers' group: cards with inline buttons, protected document
photos, one decision however many press, and the card settled once it is decided."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.directory.port import MemoryDirectory
from core.storage.db import make_sessions
from core.storage.models import Application, AuditEvent, Decision, Job
from tests.emulators.line import LineEmulator
from tests.handlers.chat import sample_photo
from tests.webhooks.line.test_line_channel import apply as apply_on_line
from tests.webhooks.line_world import ACCESS_TOKEN, CHANNEL_SECRET, LineWorld
from tests.webhooks.telegram.test_telegram_channel import APPLY_AS_STAFF, fill_in_the_form
from tests.webhooks.telegram_world import TelegramUser, TelegramWorld, telegram_world
from webhooks.appkeys import SERVICES
from webhooks.telegram.setup import commands as telegram_commands

GROUP = -1001234567890
REVIEWER, SECOND, OUTSIDER = 777, 778, 779
APPLICANT = 5551001
Json = dict[str, Any]


def review_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "telegram_review_chat_id": str(GROUP),
        "reviewers": f"telegram:{REVIEWER},telegram:{SECOND}",
        "sms_outbox": tmp_path / "sms.jsonl",
    }


@pytest.fixture(params=[False, True], ids=["webhook", "polling"])
async def world(
    request: pytest.FixtureRequest,
    database_url: str,
    engine: AsyncEngine,
    tmp_path: Path,
    clock: ManualClock,
) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(
        database_url, tmp_path / "data", clock, polling=request.param, **review_settings(tmp_path)
    ) as running:
        running.emulator.add_group(GROUP)
        yield running


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


async def submitted(world: TelegramWorld, user_id: int = APPLICANT) -> TelegramUser:
    applicant = world.user(user_id)
    await fill_in_the_form(applicant)
    await applicant.photo(sample_photo())
    await applicant.tap("ถูกต้อง ส่งคำขอ")
    return applicant


def card_of(world: TelegramWorld, reference: str = "A69-00001") -> Json:
    """The card of an application in the review group, as it is shown now."""
    for message in world.emulator.messages(GROUP):
        if message.get("text", "").startswith(f"คำขอใหม่ {reference}"):
            return message
    raise AssertionError(f"no card for {reference} in {world.emulator.texts(GROUP)}")


def with_button(world: TelegramWorld, data: str) -> Json:
    for message in reversed(world.emulator.messages(GROUP)):
        if data in [d for _, d in world.emulator.buttons(message)]:
            return message
    raise AssertionError(f"no button {data!r} in the group")


async def press(world: TelegramWorld, user_id: int, message: Json, data: str) -> None:
    await world.arrived(await world.emulator.tap(message, data, user_id=user_id))


async def decisions(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


async def test_the_card_reaches_the_group_with_buttons_and_protected_photos(
    world: TelegramWorld,
) -> None:
    await submitted(world)

    card = card_of(world)
    assert [data for _, data in world.emulator.buttons(card)] == ["rv:a:1", "rv:r:1", "rv:t:1"]
    assert "x-xxxx-xxxxx-45-8" in card["text"]
    assert "1103700123458" not in json.dumps(world.emulator.messages(GROUP), ensure_ascii=False)
    photos = [m for m in world.emulator.messages(GROUP) if "photo" in m]
    assert [m["caption"] for m in photos] == ["A69-00001: สำเนาบัตรประชาชน"]
    assert photos[0]["has_protected_content"] is True
    assert "photo_url" not in photos[0]  # uploaded from the store, not a link to fetch
    uploaded = world.emulator.file_content(photos[0]["photo"][-1]["file_id"])
    assert uploaded[:3] == b"\xff\xd8\xff"


async def test_an_approval_creates_the_account_and_settles_the_card(
    world: TelegramWorld, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    applicant = await submitted(world)
    world.emulator.names[REVIEWER] = "มาลี"

    await press(world, REVIEWER, card_of(world), "rv:a:1")
    await applicant.answers()

    directory = world.app[SERVICES].directory
    assert isinstance(directory, MemoryDirectory)
    assert directory.entry("somchai.j")["employeeNumber"] == ["A69-00001"]
    sms = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert [m["to"] for m in sms] == ["+66812345678"]
    assert any("ได้รับการอนุมัติแล้ว" in text for text in applicant.texts)
    assert "081-xxx-5678" in applicant.last_text
    card = card_of(world)
    assert world.emulator.buttons(card) == []
    assert card["text"].endswith("ผู้ตรวจ มาลี อนุมัติคำขอ A69-00001 แล้วค่ะ")
    assert "edit_date" in card
    async with sessions() as session:
        status = await session.scalar(select(Application.status))
    assert status == "account_created"
    assert world.emulator.unanswered() == []


async def test_find_answers_the_card_with_its_photos(world: TelegramWorld) -> None:
    await submitted(world)
    posted = len(world.emulator.messages(GROUP))

    await world.arrived(await world.emulator.send_text(REVIEWER, "/find A69-00001", chat_id=GROUP))
    await world.settle()

    card, photo = world.emulator.messages(GROUP)[posted:]
    assert card["text"].startswith("คำขอใหม่ A69-00001")
    assert [data for _, data in world.emulator.buttons(card)] == ["rv:a:1", "rv:r:1", "rv:t:1"]
    assert photo["caption"] == "A69-00001: สำเนาบัตรประชาชน"
    assert world.emulator.file_content(photo["photo"][-1]["file_id"])[:3] == b"\xff\xd8\xff"


async def test_two_reviewers_press_approve_at_once(
    world: TelegramWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submitted(world)
    card = card_of(world)

    await asyncio.gather(
        press(world, REVIEWER, card, "rv:a:1"), press(world, SECOND, card, "rv:a:1")
    )
    await world.settle()

    assert await decisions(sessions) == 1
    async with sessions() as session:
        jobs = await session.scalar(select(func.count()).where(Job.kind == "account.create"))
    assert jobs == 1
    assert world.emulator.unanswered() == []
    pressed = [q for q in world.emulator.callback_queries.values() if q.data == "rv:a:1"]
    assert sorted(q.user_id for q in pressed if q.answers) == [REVIEWER, SECOND]
    assert world.emulator.buttons(card_of(world)) == []
    texts = world.emulator.texts(GROUP)
    assert sum("ไปแล้วโดยผู้ตรวจ" in text for text in texts) == 1
    edits = [m for m, _ in world.emulator.calls if m == "editMessageReplyMarkup"]
    assert len(edits) == 1


async def test_a_rejection_from_the_reasons_settles_the_card_and_the_question(
    world: TelegramWorld,
) -> None:
    applicant = await submitted(world)

    await press(world, REVIEWER, card_of(world), "rv:r:1")
    await world.settle()
    reasons = with_button(world, "rv:rr:1:blurry")
    await press(world, REVIEWER, reasons, "rv:rr:1:blurry")
    await applicant.answers()

    assert "ไม่ได้รับการอนุมัติ" in applicant.last_text
    assert world.emulator.buttons(card_of(world)) == []
    shown = {m["message_id"]: m for m in world.emulator.messages(GROUP)}
    assert world.emulator.buttons(shown[reasons["message_id"]]) == []
    assert "ไม่อนุมัติคำขอ A69-00001" in card_of(world)["text"]


async def test_a_typed_reason_still_settles_the_card(world: TelegramWorld) -> None:
    applicant = await submitted(world)

    await press(world, REVIEWER, card_of(world), "rv:r:1")
    await world.settle()
    await press(world, REVIEWER, with_button(world, "rv:ro:1"), "rv:ro:1")
    await world.settle()
    await world.arrived(await world.emulator.send_text(REVIEWER, "บัตรหมดอายุแล้ว", chat_id=GROUP))
    await applicant.answers()

    assert "เหตุผล: บัตรหมดอายุแล้ว" in applicant.last_text
    assert world.emulator.buttons(card_of(world)) == []


async def test_someone_not_listed_changes_nothing_and_the_card_keeps_its_buttons(
    world: TelegramWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submitted(world)

    await press(world, OUTSIDER, card_of(world), "rv:a:1")
    await world.settle()

    assert await decisions(sessions) == 0
    assert len(world.emulator.buttons(card_of(world))) == 3
    assert "เท่านั้น" in world.emulator.texts(GROUP)[-1]
    assert world.emulator.unanswered() == []
    async with sessions() as session:
        refused = list(
            await session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action == "reviewer.press_refused")
            )
        )
    assert refused == [f"telegram:{OUTSIDER}"]


async def test_uploading_a_document_to_the_group_is_audited(
    world: TelegramWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submitted(world)
    async with sessions() as session:
        viewers = list(
            await session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action == "document.viewed")
            )
        )
    assert viewers == [f"telegram:{GROUP}"]


async def test_polling_sets_the_thai_command_list(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with telegram_world(database_url, tmp_path / "data", clock, polling=True) as world:
        await world.user(5551002).say("/start")
        commands = world.emulator.commands[("default", "")]
    assert [c["command"] for c in commands] == list(telegram_commands())
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in c["description"]) for c in commands)


# --- one app serving LINE and Telegram: each applicant reviewed and told in their own channel


@dataclass
class BothWorlds(LineWorld):
    """The LINE side of an app that serves Telegram too: settling runs the whole app."""

    telegram: TelegramWorld | None = None

    async def settle(self) -> None:
        assert self.telegram is not None
        await self.telegram.settle()


@asynccontextmanager
async def both_worlds(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BothWorlds]:
    line = LineEmulator(
        channel_secret=CHANNEL_SECRET,
        access_token=ACCESS_TOKEN,
        clock=lambda: clock.now().timestamp(),
    )
    async with TestServer(line.app, host="127.0.0.1") as line_server:
        line_api = str(line_server.make_url("")).rstrip("/")
        async with telegram_world(
            database_url,
            tmp_path / "data",
            clock,
            line_channel_secret=CHANNEL_SECRET,
            line_channel_access_token=ACCESS_TOKEN,
            line_api_url=line_api,
            line_data_api_url=line_api,
            line_review_group_id=LINE_GROUP,
            public_url="https://bmabot.test",
            **review_settings(tmp_path)
            | {"reviewers": f"telegram:{REVIEWER},line:{LINE_REVIEWER}"},
        ) as telegram:
            telegram.emulator.add_group(GROUP)
            line.webhook_url = f"{telegram.url}/webhooks/line"
            yield BothWorlds(line, telegram.app, clock, telegram.url, telegram)
    line.assert_no_violations()


LINE_GROUP = "C" + "5" * 32
LINE_APPLICANT, LINE_REVIEWER = "U" + "e5" * 16, "U" + "f6" * 16


async def test_each_applicant_is_reviewed_and_told_in_their_own_channel(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with both_worlds(database_url, tmp_path, clock) as world:
        assert world.telegram is not None
        telegram = world.telegram
        by_line = world.user(LINE_APPLICANT)
        await apply_on_line(by_line)
        await by_line.tap("ถูกต้อง ส่งคำขอ")
        by_telegram = telegram.user(APPLICANT)
        for action, value in APPLY_AS_STAFF:
            value = "1103700123466" if value == "1103700123458" else value
            await (by_telegram.say(value) if action == "say" else by_telegram.tap(value))
        await by_telegram.photo(sample_photo())
        await by_telegram.tap("ถูกต้อง ส่งคำขอ")

        line_group = [entry["message"] for entry in world.emulator.received(LINE_GROUP)]
        assert [m.get("altText") for m in line_group if m["type"] == "flex"] == [
            "คำขอใหม่ A69-00001"
        ]
        assert card_of(telegram, "A69-00002")
        assert not any("A69-00001" in text for text in telegram.emulator.texts(GROUP))

        status, _ = await world.emulator.postback(LINE_REVIEWER, "rv:a:1", group_id=LINE_GROUP)
        assert status == 200
        await press(telegram, REVIEWER, card_of(telegram, "A69-00002"), "rv:r:2")
        await world.settle()
        await press(telegram, REVIEWER, with_button(telegram, "rv:rr:2:blurry"), "rv:rr:2:blurry")
        await world.settle()

        assert any("A69-00001 ได้รับการอนุมัติแล้ว" in t for t in world.emulator.texts(LINE_APPLICANT))
        told = telegram.emulator.texts(APPLICANT)
        assert "A69-00002 ไม่ได้รับการอนุมัติ" in told[-1]
        assert not any("A69-00002" in t for t in world.emulator.texts(LINE_APPLICANT))
        assert not any("A69-00001" in t for t in told)
        assert any("อนุมัติคำขอ A69-00001" in t for t in world.emulator.texts(LINE_GROUP))
