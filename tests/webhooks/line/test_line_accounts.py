"""Approval over LINE creates the account in the directory and sends it by SMS, once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from core.directory.port import PasswordCheck
from core.storage.models import Application, Job
from tests.webhooks.line.test_line_review import APPLICANT, GROUP, REVIEWER, press, submitted
from tests.webhooks.line_world import LineWorld, line_world
from webhooks.appkeys import SERVICES


@pytest.fixture
async def world(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[LineWorld]:
    async with line_world(
        database_url,
        tmp_path / "data",
        clock,
        line_review_group_id=GROUP,
        reviewers=f"line:{REVIEWER}",
        sms_outbox=tmp_path / "sms.jsonl",
    ) as running:
        yield running


def sms_sent(tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_approval_creates_the_account_and_sends_one_sms(
    world: LineWorld, tmp_path: Path
) -> None:
    await submitted(world)
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()

    entry = world.directory.entry("somchai.j")
    assert entry["mail"] == ["somchai.j@bangkok.go.th"]
    assert entry["employeeNumber"] == ["A69-00001"]
    assert "1103700123458" not in json.dumps(entry, ensure_ascii=False)
    messages = sms_sent(tmp_path)
    assert [(m["to"], m["sender"]) for m in messages] == [("+66812345678", "BMA mail")]
    assert "somchai.j" in messages[0]["message"]
    assert len(messages[0]["message"]) <= 160
    assert "081-xxx-5678" in world.emulator.texts(APPLICANT)[-1]
    assert "สร้างบัญชี somchai.j" in world.emulator.texts(GROUP)[-1]


async def test_a_directory_that_is_down_is_retried_until_it_works(
    world: LineWorld, tmp_path: Path
) -> None:
    await submitted(world)
    world.directory.available = False
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()
    assert sms_sent(tmp_path) == []

    world.clock.advance(seconds=30)
    world.directory.available = True
    world.clock.advance(minutes=5)
    await world.settle()

    assert len(sms_sent(tmp_path)) == 1
    async with world.app[SERVICES].sessions() as session:
        assert await session.scalar(select(Application.status)) == "account_created"


async def test_a_permanent_failure_tells_the_group_with_a_retry_button(
    world: LineWorld, tmp_path: Path
) -> None:
    await submitted(world)
    (tmp_path / "sms.jsonl").mkdir()  # the outbox cannot be written: every send fails
    await press(world, REVIEWER, "rv:a:1")
    for _ in range(12):
        await world.settle()
        world.clock.advance(hours=2)

    group = [entry["message"] for entry in world.emulator.received(GROUP)]
    failed = [m for m in group if "ล้มเหลวถาวร" in m.get("text", "")]
    assert len(failed) == 1
    retry = failed[0]["quickReply"]["items"][0]["action"]["data"]
    assert retry.startswith("rv:jr:")

    (tmp_path / "sms.jsonl").rmdir()
    await press(world, REVIEWER, retry)
    await world.settle()
    assert len(sms_sent(tmp_path)) == 1
    async with world.app[SERVICES].sessions() as session:
        statuses = set(
            await session.scalars(select(Job.status).where(Job.kind == "account.create"))
        )
    assert statuses == {"done"}


async def test_a_reviewer_suspends_and_lifts_an_account(world: LineWorld, tmp_path: Path) -> None:
    await submitted(world)
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()

    await world.emulator.send_text(REVIEWER, "/suspend somchai.j ส่งสแปม", group_id=GROUP)
    await world.settle()
    assert await world.directory.check_password("somchai.j", "whatever") is PasswordCheck.LOCKED
    assert "ถูกระงับ" in world.emulator.texts(APPLICANT)[-1]
    assert "รับคำสั่งระงับบัญชี somchai.j" in world.emulator.texts(GROUP)[-2]
    assert "ระงับบัญชี somchai.j ในระบบเรียบร้อยแล้ว" in world.emulator.texts(GROUP)[-1]

    await world.emulator.send_text(REVIEWER, "/unsuspend somchai.j", group_id=GROUP)
    await world.settle()
    assert "กลับมาใช้งานได้" in world.emulator.texts(APPLICANT)[-1]
    assert await world.directory.check_password("somchai.j", "whatever") is PasswordCheck.WRONG
    texts = [m["message"] for m in sms_sent(tmp_path)[1:]]  # after the credentials
    assert texts == [
        "บัญชี somchai.j ถูกระงับชั่วคราวค่ะ สอบถามโทร 0 2203 2751",
        "บัญชี somchai.j ใช้งานได้ตามปกติแล้วค่ะ",
    ]
