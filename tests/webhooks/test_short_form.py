"""A staff application takes at most 16 messages and taps, on LINE and on Telegram (issue 17).

The bot runs as in production: the mobile number is proved by the one-time code sent by SMS
(BMABOT_VERIFY_MOBILE, on by default), here written to the SMS outbox file. Each thing the
applicant does is counted, from asking to apply to the tap that files the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from core.storage.models import Application
from tests.handlers.chat import sample_photo
from tests.webhooks.line_world import line_world
from tests.webhooks.telegram_world import telegram_world
from webhooks.appkeys import SERVICES

MOST = 16  # issue 17: a staff application with one photo
PROGRESS = re.compile(r"ข้อ (\d+) จาก (\d+)")


class Person(Protocol):
    async def say(self, text: str) -> list[Any]: ...
    async def tap(self, label: str) -> list[Any]: ...
    async def photo(self, content: bytes) -> list[Any]: ...
    @property
    def texts(self) -> list[str]: ...
    @property
    def replies(self) -> list[Any]: ...


@dataclass
class Counted:
    """The applicant's hand: every message, tap and photo goes through here and is counted."""

    person: Person
    done: int = 0
    said: list[str] | None = None  # everything the bot answered, in order

    async def say(self, text: str) -> None:
        await self._count(self.person.say(text))

    async def tap(self, label: str) -> None:
        await self._count(self.person.tap(label))

    async def photo(self) -> None:
        await self._count(self.person.photo(sample_photo()))

    async def _count(self, action: Awaitable[list[Any]]) -> None:
        await action
        self.done += 1
        self.said = [*(self.said or []), *self.person.texts]

    @property
    def last_text(self) -> str:
        return self.person.texts[-1]

    @property
    def last_reply(self) -> str:
        """The last answer as the platform got it (a LINE Flex card's lines are inside)."""
        return json.dumps(self.person.replies[-1], ensure_ascii=False)


def codes_sent(outbox: Path) -> list[str]:
    sent = [json.loads(line) for line in outbox.read_text().splitlines()]
    return [re.findall(r"[0-9]{6}", sms["message"])[0] for sms in sent]


async def fill_in_as_staff(applicant: Counted, outbox: Path) -> None:
    """The staff form with one photo, as a person answers it: taps where a button fits."""
    await applicant.tap("ยอมรับและเริ่มกรอก")
    await applicant.tap("บุคลากรประจำ กทม.")
    await applicant.say("บางรัก")  # one exact match: taken at once
    await applicant.tap("ฝ่ายทะเบียน")
    await applicant.tap("ไม่มี/ข้าม")
    await applicant.say("นักวิชาการคอมพิวเตอร์ปฏิบัติการ")
    await applicant.tap("นาย")  # settles the English title too: Mr.
    await applicant.say("สมชาย ใจดี")
    await applicant.say("Somchai Jaidee")
    await applicant.say("1 1037 00123 45 8")  # a staff member is a Thai national by law
    await applicant.say("081-234-5678")
    await applicant.say(codes_sent(outbox)[-1])  # the code the SMS brought
    await applicant.say("somchai.j@gmail.com")
    await applicant.photo()
    assert "1-1037-00123-45-8" in applicant.last_reply  # the summary: their own ID in full
    await applicant.tap("ถูกต้อง ส่งคำขอ")
    assert "A69-00001" in applicant.last_text


def assert_progress_is_truthful(said: list[str]) -> None:
    """Each question is numbered; the numbers run 1, 2, ... and the last is "N จาก N"."""
    shown = [(int(n), int(of)) for text in said for n, of in PROGRESS.findall(text)]
    numbers = [n for n, _ in shown]
    assert numbers == sorted(numbers)
    assert numbers[0] == 1
    assert shown[-1][0] == shown[-1][1]  # the last question says so: 10 of 10
    assert set(numbers) == set(range(1, shown[-1][1] + 1))  # none skipped, none promised


async def submitted_kind(app: Any) -> str:
    async with app[SERVICES].sessions() as session:
        [application] = list(await session.scalars(select(Application)))
    assert application.form["mobile_verified"] is True
    assert application.form["title_en"] == "Mr."
    assert application.form["nationality"] == "ไทย"
    return str(application.kind)


async def test_a_staff_application_takes_at_most_16_messages_and_taps_on_line(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    outbox = tmp_path / "sms.jsonl"
    async with line_world(
        database_url, tmp_path / "data", clock, sms_outbox=outbox, verify_mobile=True
    ) as world:
        applicant = Counted(world.user("U" + "7" * 32))
        await applicant.say("สมัคร")
        await fill_in_as_staff(applicant, outbox)

        assert applicant.done <= MOST, f"{applicant.done} messages and taps"
        assert applicant.done == 16  # what it is today: a change shows here
        assert await submitted_kind(world.app) == "staff"
        assert_progress_is_truthful(applicant.said or [])


async def test_a_staff_application_takes_at_most_16_messages_and_taps_on_telegram(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    outbox = tmp_path / "sms.jsonl"
    async with telegram_world(
        database_url, tmp_path / "data", clock, sms_outbox=outbox, verify_mobile=True
    ) as world:
        user = world.user(5550017)
        await user.say("/start")  # opening the bot, as adding it as a friend on LINE: no apply
        applicant = Counted(user)
        await applicant.tap("ขอบัญชีผู้ใช้ กทม.")
        await fill_in_as_staff(applicant, outbox)

        assert applicant.done <= MOST, f"{applicant.done} messages and taps"
        assert applicant.done == 16
        assert await submitted_kind(world.app) == "staff"
        assert_progress_is_truthful(applicant.said or [])
