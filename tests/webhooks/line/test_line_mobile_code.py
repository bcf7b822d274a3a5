"""Over LINE: no request goes in until the code sent by SMS to the typed number comes back.

The bot runs with BMABOT_VERIFY_MOBILE on; the SMS gateway is the outbox file (the fake
provider), so every code SMS the bot sends can be counted and read.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.handlers.mobile_codes import MobileCodeSender
from core.clock import ManualClock
from core.delivery.jobs import ClaimedJob
from core.requests.mobile_codes import issue_code
from core.sms.port import OutboxSms, SmsReceipt, SmsUnavailableError
from core.storage.models import Application, Job, MobileCode
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import STAFF_FORM
from tests.webhooks.line.test_line_review import APPLICANT, GROUP, REVIEWER
from tests.webhooks.line_world import LineUser, LineWorld, line_world
from webhooks.appkeys import SERVICES

UP_TO_MOBILE = [("say", "สมัคร"), *STAFF_FORM[:-1]]  # the last answer typed is 0812345678
EMAIL = STAFF_FORM[-1][1]
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


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
        verify_mobile=True,
    ) as running:
        yield running


def code_sms(tmp_path: Path, to: str = "+66812345678") -> list[str]:
    """The codes texted to this number, oldest first."""
    path = tmp_path / "sms.jsonl"
    sent = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [re.findall(r"[0-9]{6}", m["message"])[0] for m in sent if m["to"] == to]


def said(user: LineUser) -> str:
    """Everything the bot answered to the user's last message (a hint may follow it)."""
    return "\n".join(user.texts)


async def up_to_the_code(user: LineUser) -> None:
    for action, value in UP_TO_MOBILE:
        await (user.say(value) if action == "say" else user.tap(value))


async def finish_and_submit(user: LineUser) -> None:
    await user.say(EMAIL)
    await user.photo(sample_photo())
    await user.tap("ถูกต้อง ส่งคำขอ")


async def applications(world: LineWorld) -> list[Application]:
    async with world.app[SERVICES].sessions() as session:
        return list(await session.scalars(select(Application)))


async def test_the_request_waits_for_the_code_sent_to_the_typed_number(
    world: LineWorld, tmp_path: Path
) -> None:
    applicant = world.user(APPLICANT)
    await up_to_the_code(applicant)

    assert len(code_sms(tmp_path)) == 1
    sms = json.loads((tmp_path / "sms.jsonl").read_text())
    assert sms["sender"] == "BMA mail"
    assert "ใช้ได้ 10 นาที" in sms["message"]
    assert len(sms["message"].encode("utf-16-le")) // 2 <= 70  # one Thai SMS part
    assert "081-234-5678" in said(applicant)
    assert "ส่งรหัสอีกครั้ง" in [action["label"] for action in applicant.actions()]

    # Anything but the code keeps the form here: the e-mail typed early, a short code.
    await applicant.say(EMAIL)
    assert "ตัวเลข 6 หลัก" in said(applicant)
    await applicant.say("12345")
    assert "ตัวเลข 6 หลัก" in said(applicant)
    assert await applications(world) == []

    code = code_sms(tmp_path)[0]
    await applicant.say(code.translate(THAI_DIGITS))  # Thai digits, as a Thai keyboard types
    assert "ยืนยันเบอร์มือถือเรียบร้อยแล้ว" in applicant.texts[0]
    assert "อีเมล" in applicant.last_text
    await finish_and_submit(applicant)

    [application] = await applications(world)
    assert application.form["mobile"] == "+66812345678"
    assert application.form["mobile_verified"] is True
    card = json.dumps(world.emulator.received(GROUP), ensure_ascii=False)
    assert "เบอร์มือถือยืนยันแล้ว ✓" in card
    assert len(code_sms(tmp_path)) == 1  # one code, one SMS
    async with world.app[SERVICES].sessions() as session:
        row = await session.get(MobileCode, 1)
        assert row is not None
        assert row.sealed is None  # sent: the encrypted copy for the job is gone
        assert code not in json.dumps([row.code_digest, row.mobile_digest, row.issue_key])


async def test_five_wrong_codes_lock_the_number(world: LineWorld, tmp_path: Path) -> None:
    applicant = world.user(APPLICANT)
    await up_to_the_code(applicant)
    code = code_sms(tmp_path)[0]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for left in (4, 3, 2, 1):
        await applicant.say(wrong)
        assert f"พิมพ์ผิดได้อีก {left} ครั้ง" in said(applicant)
    await applicant.say(wrong)
    assert "ครบ 5 ครั้ง" in said(applicant)
    assert "11:00 น." in said(applicant)  # 10:00 in Bangkok now, locked for an hour

    await applicant.say(code)  # the right code, too late
    assert "ครบ 5 ครั้ง" in said(applicant)
    await applicant.tap("ส่งรหัสอีกครั้ง")
    assert "ครบ 5 ครั้ง" in said(applicant)
    # Someone else typing the same number gets no code either.
    other = world.user("U" + "e5" * 16)
    await up_to_the_code(other)
    assert "ครบ 5 ครั้ง" in said(other)
    assert len(code_sms(tmp_path)) == 1
    assert await applications(world) == []

    world.clock.advance(hours=1, minutes=1)
    await applicant.tap("ส่งรหัสอีกครั้ง")
    assert len(code_sms(tmp_path)) == 2
    await applicant.say(code_sms(tmp_path)[-1])
    assert "ยืนยันเบอร์มือถือเรียบร้อยแล้ว" in applicant.texts[0]


async def test_a_resend_sends_one_new_code_and_only_three_times(
    world: LineWorld, tmp_path: Path
) -> None:
    applicant = world.user(APPLICANT)
    await up_to_the_code(applicant)
    await applicant.tap("ส่งรหัสอีกครั้ง")
    assert "เพิ่งส่งรหัสไปเมื่อครู่" in said(applicant)
    assert len(code_sms(tmp_path)) == 1

    for left in (2, 1, 0):
        world.clock.advance(seconds=31)
        await applicant.tap("ส่งรหัสอีกครั้ง")
        assert f"ขอรหัสใหม่ได้อีก {left} ครั้ง" in said(applicant)
    world.clock.advance(seconds=31)
    await applicant.tap("ส่งรหัสอีกครั้ง")
    assert "ครบ 3 ครั้ง" in said(applicant)
    codes = code_sms(tmp_path)
    assert len(codes) == 4  # the first and three resends, one SMS each

    if codes[0] != codes[-1]:  # the replaced code no longer works
        await applicant.say(codes[0])
        assert "รหัสไม่ถูกต้อง" in said(applicant)
    await applicant.say(codes[-1])
    assert "ยืนยันเบอร์มือถือเรียบร้อยแล้ว" in applicant.texts[0]


async def test_a_mobile_changed_at_the_summary_is_verified_again(
    world: LineWorld, tmp_path: Path
) -> None:
    applicant = world.user(APPLICANT)
    await up_to_the_code(applicant)
    await applicant.say(code_sms(tmp_path)[0])
    await applicant.say(EMAIL)
    await applicant.photo(sample_photo())
    old_send = applicant.button("ถูกต้อง ส่งคำขอ")

    await applicant.tap("แก้ไขข้อมูล")
    await applicant.tap("เบอร์มือถือ")  # every item on one list
    await applicant.say("089-876-5432")
    assert "089-876-5432" in said(applicant)
    assert len(code_sms(tmp_path, "+66898765432")) == 1

    # The old summary's button cannot skip the new code.
    status, _ = await world.emulator.postback(applicant.user_id, old_send)
    assert status == 200
    await applicant.answers()
    assert await applications(world) == []

    await applicant.say(code_sms(tmp_path, "+66898765432")[0])
    assert "ยืนยันเบอร์มือถือเรียบร้อยแล้ว" in applicant.texts[0]
    assert "089-876-5432" in json.dumps(applicant.replies[-1], ensure_ascii=False)  # summary
    await applicant.tap("ถูกต้อง ส่งคำขอ")

    [application] = await applications(world)
    assert application.form["mobile"] == "+66898765432"
    assert application.form["mobile_verified"] is True
    assert len(code_sms(tmp_path)) == 1
    assert len(code_sms(tmp_path, "+66898765432")) == 1


async def test_submission_refuses_a_mobile_with_no_proof(world: LineWorld, tmp_path: Path) -> None:
    applicant = world.user(APPLICANT)
    await up_to_the_code(applicant)
    await applicant.say(code_sms(tmp_path)[0])
    await applicant.say(EMAIL)
    await applicant.photo(sample_photo())
    async with world.app[SERVICES].sessions.begin() as session:
        await session.execute(delete(MobileCode))  # the proof is gone (say, purged)

    await applicant.tap("ถูกต้อง ส่งคำขอ")
    assert "ยังไม่ได้ยืนยันเบอร์มือถือนี้" in said(applicant)
    assert await applications(world) == []


@dataclass
class AnswerLost:
    """A gateway that sends, then loses its answer once: the job will run again."""

    outbox: OutboxSms
    lost: list[str] = field(default_factory=list)

    async def send(self, to_e164: str, message: str, *, idempotency_key: str) -> SmsReceipt:
        receipt = await self.outbox.send(to_e164, message, idempotency_key=idempotency_key)
        if not self.lost:
            self.lost.append(idempotency_key)
            raise SmsUnavailableError("timeout after the gateway took the message")
        return receipt


async def test_a_retried_code_job_never_sends_twice(
    world: LineWorld, tmp_path: Path, clock: ManualClock
) -> None:
    services = world.app[SERVICES]
    outbox = OutboxSms(tmp_path / "retried.jsonl", clock=clock)
    sender = MobileCodeSender(services, AnswerLost(outbox))
    async with services.sessions.begin() as session:
        await issue_code(
            session,
            services.vault,
            chat=f"line:{APPLICANT}",
            mobile="+66812345678",
            now=clock.now(),
        )
        job = await session.scalar(select(Job).where(Job.kind == MobileCodeSender.kind))
        assert job is not None
        claimed = ClaimedJob(job.id, job.kind, job.key, dict(job.payload), 1, job.max_attempts)

    with pytest.raises(SmsUnavailableError):
        await sender(claimed)
    await sender(claimed)  # the worker's retry, same job
    await sender(claimed)  # and once more after it was done: nothing left to send

    assert len(outbox.messages()) == 1
    async with services.sessions() as session:
        assert (
            await session.scalar(
                select(func.count(MobileCode.id)).where(MobileCode.sealed.is_not(None))
            )
            == 0
        )
