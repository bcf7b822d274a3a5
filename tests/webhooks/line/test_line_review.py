"""Review in the LINE reviewers' group: cards, buttons, and decisions that happen exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.storage.db import make_sessions
from core.storage.models import Application, AuditEvent, Decision, Document, Job
from tests.handlers.chat import sample_photo
from tests.webhooks.line.test_line_channel import apply
from tests.webhooks.line_world import LineUser, LineWorld, line_world

GROUP = "C" + "0" * 32
REVIEWER, SECOND, OUTSIDER = "U" + "a1" * 16, "U" + "b2" * 16, "U" + "c3" * 16
APPLICANT = "U" + "d4" * 16


@pytest.fixture
async def world(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[LineWorld]:
    async with line_world(
        database_url,
        tmp_path / "data",
        clock,
        line_review_group_id=GROUP,
        reviewers=f"line:{REVIEWER},line:{SECOND}",
    ) as running:
        yield running


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


def group_messages(world: LineWorld) -> list[dict[str, Any]]:
    return [entry["message"] for entry in world.emulator.received(GROUP)]


def postback_data(message: dict[str, Any]) -> list[str]:
    items = (message.get("quickReply") or {}).get("items") or []
    return [item["action"]["data"] for item in items]


async def submitted(world: LineWorld) -> LineUser:
    applicant = world.user(APPLICANT)
    await apply(applicant)
    await applicant.tap("ถูกต้อง ส่งคำขอ")
    return applicant


async def press(world: LineWorld, user: str, data: str, *, group: str | None = GROUP) -> int:
    status, _ = await world.emulator.postback(user, data, group_id=group)
    return status


async def test_the_card_reaches_the_group_with_buttons_and_image_links(world: LineWorld) -> None:
    await submitted(world)

    card, caption, image = group_messages(world)[-3:]
    assert card["type"] == "flex"
    assert card["altText"] == "คำขอใหม่ A69-00001"
    assert postback_data(card) == ["rv:a:1", "rv:r:1", "rv:t:1"]
    assert "x-xxxx-xxxxx-45-8" in str(card["contents"])
    assert "1103700123458" not in str(card)
    assert caption["text"] == "A69-00001: สำเนาบัตรประชาชน"
    assert image["type"] == "image"
    assert image["originalContentUrl"].startswith("https://bmabot.test/media/")


async def test_a_listed_reviewer_approves_and_the_applicant_is_told(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    applicant = await submitted(world)

    await press(world, REVIEWER, "rv:a:1")
    await world.settle()

    assert any("อนุมัติคำขอ A69-00001 แล้วค่ะ" in text for text in world.emulator.texts(GROUP))
    assert any("ได้รับการอนุมัติแล้ว" in text for text in world.emulator.texts(APPLICANT))
    async with sessions() as session:
        status = await session.scalar(select(Application.status))
        jobs = list(await session.scalars(select(Job.kind).where(Job.kind == "account.create")))
    assert (status, jobs) == ("account_created", ["account.create"])
    assert applicant.user_id == APPLICANT


@pytest.mark.parametrize(("first", "second"), [("rv:a:1", "rv:a:1"), ("rv:a:1", "rv:rr:1:blurry")])
async def test_two_reviewers_at_once_make_one_decision(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession], first: str, second: str
) -> None:
    await submitted(world)
    await press(world, SECOND, "rv:r:1")  # the second reviewer opens the reasons first
    await world.settle()

    await asyncio.gather(press(world, REVIEWER, first), press(world, SECOND, second))
    await world.settle()

    async with sessions() as session:
        decisions = await session.scalar(select(func.count()).select_from(Decision))
        jobs = await session.scalar(select(func.count()).where(Job.kind == "account.create"))
    assert decisions == 1
    assert jobs in (0, 1)
    texts = [m.get("text", "") for m in group_messages(world)[-2:]]
    assert sum("ไปแล้วโดยผู้ตรวจ" in text for text in texts) == 1


async def test_a_late_press_is_told_when_the_decision_was_made_in_bangkok_time(
    world: LineWorld,
) -> None:
    await submitted(world)  # 25/11/2569 10:00 in Bangkok, 03:00 UTC
    world.clock.advance(hours=1)
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()
    world.clock.advance(days=1)

    await press(world, SECOND, "rv:a:1")  # the next day, from an old card
    await world.settle()

    assert "ไปแล้วโดยผู้ตรวจ" in world.emulator.texts(GROUP)[-1]
    assert world.emulator.texts(GROUP)[-1].endswith("เมื่อ 25/11/2569 11:00 น. ค่ะ")


async def test_a_non_reviewer_and_a_forged_private_press_change_nothing(
    world: LineWorld,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await submitted(world)

    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        await press(world, OUTSIDER, "rv:a:1")
        await press(world, REVIEWER, "rv:a:1", group=None)  # the same data, from a private chat
        await world.settle()

    async with sessions() as session:
        status = await session.scalar(select(Application.status))
        refused = list(
            await session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action == "reviewer.press_refused")
            )
        )
    assert status == "pending"
    assert sorted(refused) == sorted([f"line:{OUTSIDER}", f"line:{REVIEWER}"])
    logged = [r.getMessage() for r in caplog.records if r.name == "bmabot.security"]
    assert f"security event=reviewer_refused channel=line who=line:{OUTSIDER}" in logged
    assert "เท่านั้น" in world.emulator.texts(REVIEWER)[-1]


async def test_a_rejection_with_a_typed_reason_reaches_the_applicant(world: LineWorld) -> None:
    await submitted(world)

    await press(world, REVIEWER, "rv:r:1")
    await press(world, REVIEWER, "rv:ro:1")
    await world.emulator.send_text(REVIEWER, "บัตรหมดอายุแล้ว", group_id=GROUP)
    await world.settle()

    assert "เหตุผล: บัตรหมดอายุแล้ว" in world.emulator.texts(APPLICANT)[-1]


async def test_return_for_correction_reasks_only_the_flagged_items(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    applicant = await submitted(world)
    for data in ["rv:t:1", "rv:tf:1:mobile", "rv:tf:1:doc_id_card", "rv:td:1"]:
        await press(world, REVIEWER, data)
    await world.emulator.send_text(REVIEWER, "เบอร์โทรไม่ครบค่ะ", group_id=GROUP)
    await applicant.answers()

    assert "ขอให้แก้ไขคำขอ A69-00001" in applicant.texts[0]
    assert "เบอร์โทรศัพท์มือถือ" in applicant.last_text
    await applicant.say("0899999999")
    await applicant.photo(sample_photo())
    assert applicant.replies[-1]["type"] == "flex"  # straight back to the summary
    await applicant.tap("ถูกต้อง ส่งคำขอ")

    card = group_messages(world)[-3]
    assert card["altText"] == "คำขอใหม่ A69-00001"
    assert "แก้ไขจากรอบก่อน" in str(card["contents"])
    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
        live = await session.scalar(
            select(func.count()).select_from(Document).where(Document.deleted_at.is_(None))
        )
    assert (application.status, application.version, application.form["mobile"]) == (
        "pending",
        2,
        "+66899999999",
    )
    assert live == 1


async def test_reviewer_commands(world: LineWorld) -> None:
    await submitted(world)
    world.clock.advance(hours=5)
    for command in ["/pending", "/find A69-00001", "/stats"]:
        await world.emulator.send_text(REVIEWER, command, group_id=GROUP)
    await world.settle()

    texts = world.emulator.texts(GROUP)
    assert any("A69-00001 — รอมาแล้ว 5 ชั่วโมง" in str(m) for m in group_messages(world))
    assert "คำขอใหม่ A69-00001" in texts
    assert "สถิติ 7 วันที่ผ่านมาค่ะ" in texts[-1]


async def test_find_answers_the_card_with_its_photos(world: LineWorld) -> None:
    await submitted(world)
    posted = len(group_messages(world))

    await world.emulator.send_text(REVIEWER, "/find A69-00001", group_id=GROUP)
    await world.settle()

    card, caption, image = group_messages(world)[posted:]
    assert card["altText"] == "คำขอใหม่ A69-00001"
    assert postback_data(card) == ["rv:a:1", "rv:r:1", "rv:t:1"]
    assert caption["text"] == "A69-00001: สำเนาบัตรประชาชน"
    assert image["originalContentUrl"].startswith("https://bmabot.test/media/")


async def test_media_links_refuse_forged_expired_and_deleted(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submitted(world)
    url = next(m for m in group_messages(world) if m["type"] == "image")["originalContentUrl"]
    path = url.removeprefix("https://bmabot.test")
    async with aiohttp.ClientSession(world.url) as client:
        async with client.get(path) as good:
            assert (good.status, good.content_type) == (200, "image/jpeg")
            assert (await good.read())[:3] == b"\xff\xd8\xff"
        async with client.get(path[:-3] + "AAA") as forged:
            assert (forged.status, forged.content_type) == (403, "text/html")
            assert "ลิงก์นี้ไม่ถูกต้องค่ะ" in await forged.text()
        world.clock.advance(hours=24)  # the review window (BMABOT_MEDIA_LINK_HOURS) is over
        async with client.get(path) as expired:
            assert expired.status == 410
            assert "หมดอายุแล้วค่ะ" in await expired.text()
        world.clock.advance(hours=-24)
        async with sessions.begin() as session:
            document = (await session.scalars(select(Document))).one()
            document.deleted_at = world.clock.now()
        async with client.get(path) as deleted:
            assert deleted.status == 404
            assert "ถูกลบแล้วค่ะ" in await deleted.text()
    async with sessions() as session:
        views = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "document.viewed"))
        ).all()
    assert [view.actor for view in views] == [f"line:group:{GROUP}"]  # the card went there


async def test_the_review_window_of_media_links_is_a_setting(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with line_world(
        database_url,
        tmp_path / "data",
        clock,
        line_review_group_id=GROUP,
        reviewers=f"line:{REVIEWER}",
        media_link_hours=2,
    ) as world:
        await submitted(world)
        image = next(m for m in group_messages(world) if m["type"] == "image")
        path = image["originalContentUrl"].removeprefix("https://bmabot.test")
        async with aiohttp.ClientSession(world.url) as client:
            clock.advance(hours=1, minutes=59)
            async with client.get(path) as still:
                assert still.status == 200
            clock.advance(minutes=1)
            async with client.get(path) as over:
                assert over.status == 410


async def test_a_media_link_dies_with_the_decision(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submitted(world)
    await world.emulator.send_text(REVIEWER, "/find A69-00001", group_id=GROUP)
    await world.settle()
    url = [m for m in group_messages(world) if m["type"] == "image"][-1]["originalContentUrl"]
    path = url.removeprefix("https://bmabot.test")
    async with aiohttp.ClientSession(world.url) as client:
        async with client.get(path) as before:
            assert before.status == 200
        await press(world, REVIEWER, "rv:a:1")
        await world.settle()
        async with client.get(path) as after:
            assert after.status == 410
            assert "พิจารณาเสร็จแล้วค่ะ" in await after.text()
    async with sessions() as session:
        views = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "document.viewed"))
        ).all()
    assert [view.actor for view in views] == [f"line:{REVIEWER}"]  # who typed /find


async def test_the_morning_digest_names_applications_waiting_too_long(world: LineWorld) -> None:
    await submitted(world)  # 25/11 10:00 Bangkok
    world.clock.advance(hours=22)  # 26/11 08:00: waiting 22 hours, not yet too long
    await world.settle()
    assert not any("เช้า" in text for text in world.emulator.texts(GROUP))

    world.clock.advance(days=1)  # 27/11 08:00: waiting 46 hours
    await world.settle()
    digest = world.emulator.texts(GROUP)[-1]
    assert "มีคำขอรอตรวจนานเกินกำหนด 1 รายการ" in digest


async def test_an_application_nobody_decides_expires_and_the_applicant_is_told(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submitted(world)
    for _ in range(15):  # every morning for fifteen days
        world.clock.advance(days=1)
        await world.settle()

    assert "หมดอายุแล้ว" in world.emulator.texts(APPLICANT)[-1]
    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
    assert (application.status, application.active_national_id_digest) == ("expired", None)
    await press(world, REVIEWER, "rv:a:1")  # an old card's button stays harmless
    await world.settle()
    assert "หมดอายุไปแล้ว" in world.emulator.texts(GROUP)[-1]
