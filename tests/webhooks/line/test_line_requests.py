"""The short requests over LINE: a handover decided in the review group, and rights requests
posted to, and decided only in, the Program System Section's own group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.storage.db import make_sessions
from core.storage.models import Application, GrantedRight
from tests.handlers.chat import sample_photo
from tests.handlers.people import seed
from tests.webhooks.line_world import LineUser, LineWorld, line_world

REVIEW_GROUP, RIGHTS_GROUP = "C" + "0" * 32, "C" + "1" * 32
CLERK, PROGRAMMER = "U" + "a1" * 16, "U" + "b2" * 16
APPLICANT = "U" + "d4" * 16
PORTAL_GROUP = "cn=webportal,ou=groups,dc=bangkok,dc=go,dc=th"


@pytest.fixture
async def world(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[LineWorld]:
    async with line_world(
        database_url,
        tmp_path / "data",
        clock,
        line_review_group_id=REVIEW_GROUP,
        line_rights_group_id=RIGHTS_GROUP,
        rights_groups={"webportal": PORTAL_GROUP},
        reviewers=f"line:{CLERK},line:{PROGRAMMER}",
    ) as running:
        await seed(running.directory)
        running.directory.groups[PORTAL_GROUP] = set()
        yield running


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


async def press(world: LineWorld, user: str, data: str, group: str) -> None:
    status, _ = await world.emulator.postback(user, data, group_id=group)
    assert status == 200
    await world.settle()


async def ask_handover(applicant: LineUser) -> None:
    await applicant.say("เปลี่ยนผู้รับผิดชอบ")
    await applicant.tap("เริ่มกรอกคำขอ")
    await applicant.say("bangrak.registration")
    await applicant.say("malee.s")
    await applicant.photo(sample_photo())
    await applicant.photo(sample_photo())
    await applicant.tap("📨 ส่งคำขอ")


async def ask_for_web_portal(applicant: LineUser) -> None:
    await applicant.say("ขอสิทธิ์ค่ะ")
    await applicant.tap("เริ่มกรอกคำขอ")
    await applicant.say("malee.s")
    await applicant.tap("Web Portal")
    await applicant.say("ดูแลหน้าเว็บไซต์ของสำนักงานเขตบางรัก")
    await applicant.say("0898765432")  # not the mobile malee.s has in the directory
    await applicant.tap("📨 ส่งคำขอ")


async def test_a_handover_approved_in_the_review_group_changes_the_directory(
    world: LineWorld,
) -> None:
    applicant = world.user(APPLICANT)
    await ask_handover(applicant)
    assert "A69-00001" in applicant.last_text

    messages = [entry["message"] for entry in world.emulator.received(REVIEW_GROUP)]
    card, *documents = messages
    assert [m.get("text") for m in documents if m["type"] == "text"] == [
        "A69-00001: บันทึกข้อความ",
        "A69-00001: สำเนาบัตรประชาชนผู้รับผิดชอบ",
    ]
    assert card["altText"] == "คำขอใหม่ A69-00001"
    assert [i["action"]["data"] for i in card["quickReply"]["items"]] == ["rv:a:1", "rv:r:1"]
    await press(world, CLERK, "rv:a:1", REVIEW_GROUP)

    mailbox = await world.directory.find_user("bangrak.registration")
    assert mailbox is not None
    assert mailbox.responsible_uid == "malee.s"
    assert any("มีผู้รับผิดชอบคนใหม่คือ malee.s" in t for t in world.emulator.texts(APPLICANT))


async def test_a_handover_rejected_leaves_the_responsible_person(world: LineWorld) -> None:
    await ask_handover(world.user(APPLICANT))

    await press(world, CLERK, "rv:r:1", REVIEW_GROUP)
    await press(world, CLERK, "rv:rr:1:mismatch", REVIEW_GROUP)

    mailbox = await world.directory.find_user("bangrak.registration")
    assert mailbox is not None
    assert mailbox.responsible_uid == "somchai.j"
    assert "เหตุผล: ข้อมูลไม่ตรงเอกสาร" in world.emulator.texts(APPLICANT)[-1]


async def test_rights_go_to_the_rights_group_and_approval_grants_them(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await ask_for_web_portal(world.user(APPLICANT))

    assert world.emulator.received(REVIEW_GROUP) == []  # not the account reviewers' business
    card = str(world.emulator.received(RIGHTS_GROUP)[-1]["message"])
    assert "สิทธิ์ที่ขอ: Web Portal" in card
    assert "เบอร์มือถือไม่ตรงกับที่บัญชีนี้ลงทะเบียนไว้" in card
    await press(world, PROGRAMMER, "rv:a:1", RIGHTS_GROUP)

    assert world.directory.groups[PORTAL_GROUP] == {"malee.s"}
    async with sessions() as session:
        granted = await session.scalar(select(GrantedRight))
        status = await session.scalar(select(Application.status))
    assert granted is not None
    assert (granted.uid, granted.name) == ("malee.s", "webportal")
    assert status == "completed"
    assert "ได้รับสิทธิ์ Web Portal แล้ว" in world.emulator.texts(APPLICANT)[-1]
    assert any("บันทึกสิทธิ์ Web Portal ให้ malee.s" in t for t in world.emulator.texts(RIGHTS_GROUP))


async def test_a_rights_request_rejected_grants_nothing(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await ask_for_web_portal(world.user(APPLICANT))

    await press(world, PROGRAMMER, "rv:r:1", RIGHTS_GROUP)
    await press(world, PROGRAMMER, "rv:rr:1:not_eligible", RIGHTS_GROUP)

    assert world.directory.groups[PORTAL_GROUP] == set()
    async with sessions() as session:
        assert await session.scalar(select(GrantedRight)) is None
    assert "ไม่ได้รับการอนุมัติ" in world.emulator.texts(APPLICANT)[-1]


async def test_the_account_reviewers_cannot_decide_a_rights_request(
    world: LineWorld, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await ask_for_web_portal(world.user(APPLICANT))

    await press(world, CLERK, "rv:a:1", REVIEW_GROUP)
    await world.emulator.send_text(CLERK, "/find A69-00001", group_id=REVIEW_GROUP)
    await world.settle()

    async with sessions() as session:
        assert await session.scalar(select(Application.status)) == "pending"
    said = world.emulator.texts(REVIEW_GROUP)
    assert "กลุ่มนี้ตัดสินคำขอนี้ไม่ได้ค่ะ" in said[-2]
    assert "Web Portal" not in said[-1]  # /find does not show it either
