"""An approval whose job fails for good (issue 16): the applicant is told the truth and the
status says so; the reviewers get the failed job with a button that tries it again, and a
retry that works goes back to the normal path (the account made, the applicant told)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.flows.incoming import Incoming, Kind
from bot.handlers.accounts import AccountMaker
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.failed_jobs import cause_of, job_failed
from bot.handlers.media import MemoryMedia
from bot.handlers.rendering import Rendered
from bot.handlers.review_policy import ReviewPolicy
from core.delivery.job_kinds import ACCOUNT_CREATE as ACCOUNT_JOB
from core.delivery.jobs import FAILED, list_jobs
from core.delivery.outbox import due_for_chat, mark_sent
from core.delivery.worker import Worker
from core.directory.port import MemoryDirectory
from core.sms.port import OutboxSms
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.people import MAILBOX, seed
from tests.handlers.test_agency_requests import AGENCY_FORM, FREE_MAILBOX
from tests.handlers.transcripts import play

GROUP, REVIEWER = "G-review", "R1"
SAYS_FAILED = "ดำเนินการไม่สำเร็จ เจ้าหน้าที่กำลังตรวจสอบ"


@dataclasses.dataclass
class World:
    bot: ConversationHandler
    chat: Chat
    directory: MemoryDirectory
    sms: OutboxSms

    @property
    def services(self) -> Services:
        return self.bot.services

    async def run_jobs(self) -> None:
        """The worker as webhooks/compose.py builds it for accounts: failures go to job_failed."""
        maker = AccountMaker(self.services, self.directory, self.sms)
        worker = Worker(
            self.services.sessions,
            {ACCOUNT_JOB: maker},
            self.services.clock,
            worker_id="t",
            on_failed=partial(job_failed, self.services),
        )
        for _ in range(3):  # each attempt after its back-off
            await worker.drain()
            self.services.clock.advance(hours=2)  # type: ignore[attr-defined]

    async def press(self, data: str) -> list[Rendered]:
        incoming = Incoming(CHANNEL, REVIEWER, GROUP, Kind.BUTTON, data=data, in_group=True)
        return await self.bot.handle(incoming)

    async def taken(self, chat_id: str) -> list[dict[str, Any]]:
        """The messages queued for a chat since the last look (taken as delivered)."""
        now = self.services.clock.now()
        async with self.services.sessions.begin() as session:
            batches = await due_for_chat(session, self.services.vault, CHANNEL, chat_id, now)
            for batch in batches:
                await mark_sent(session, batch.id, now)
        return [message for batch in batches for message in batch.messages]


@pytest.fixture
async def world(services: Services, media: MemoryMedia, tmp_path: Path) -> World:
    directory = await seed(MemoryDirectory())
    services = dataclasses.replace(
        services,
        directory=directory,
        policy=ReviewPolicy({CHANNEL: GROUP}, frozenset({f"{CHANNEL}:{REVIEWER}"})),
        job_max_attempts=2,
    )
    bot = ConversationHandler(services, {CHANNEL: media})
    return World(bot, Chat(bot, media), directory, OutboxSms(tmp_path / "sms.jsonl"))


async def approved_agency_request(world: World) -> None:
    await play(world.chat, AGENCY_FORM)
    await world.chat.tap("ถูกต้อง ส่งคำขอ")
    assert world.chat.reply_keys == ["apply.submitted"]
    replies = await world.press("rv:a:1")
    assert replies[-1].key == "review.decided.approve"
    assert [m["key"] for m in await world.taken(world.chat.user_id)] == [
        "review.applicant.approved"
    ]
    await world.taken(GROUP)  # the card and the decision, read


async def status_text(chat: Chat) -> str:
    await chat.send("สถานะ")
    return chat.text


async def test_a_mailbox_name_taken_after_approval_tells_the_applicant_the_truth(
    world: World,
) -> None:
    await approved_agency_request(world)
    # Meanwhile someone else's mailbox got the name (the check while typing was passed).
    await world.directory.create_account(
        replace(MAILBOX, application_reference="A69-09999", mailbox_name=FREE_MAILBOX)
    )

    await world.run_jobs()

    (news,) = await world.taken(world.chat.user_id)
    assert news["key"] == "request.applicant.failed"
    assert SAYS_FAILED in news["text"]
    assert "0 2203 2751" in news["text"]
    assert "SMS" not in news["text"]
    status = await status_text(world.chat)
    assert f"A69-00001 — {SAYS_FAILED}" in status
    assert "กำลังดำเนินการ" not in status
    assert world.sms.messages() == []


async def test_the_reviewers_get_the_failed_job_with_its_cause_and_a_retry_button(
    world: World,
) -> None:
    await approved_agency_request(world)
    await world.directory.create_account(
        replace(MAILBOX, application_reference="A69-09999", mailbox_name=FREE_MAILBOX)
    )

    await world.run_jobs()

    (card,) = await world.taken(GROUP)
    assert card["key"] == "account.job_failed"
    assert "ชื่อบัญชีนี้มีผู้ใช้ในระบบแล้วค่ะ" in card["text"]
    assert "A69-00001" in card["text"]
    async with world.services.sessions() as session:
        (job,) = await list_jobs(session, (FAILED,))
    assert card["buttons"] == [["ลองใหม่", f"rv:jr:{job.id}"]]


async def test_a_retry_that_works_makes_the_account_and_tells_the_applicant(
    world: World,
) -> None:
    await approved_agency_request(world)
    world.directory.available = False  # down for every attempt: they run out
    await world.run_jobs()
    assert [m["key"] for m in await world.taken(world.chat.user_id)] == [
        "request.applicant.failed"
    ]
    (card,) = await world.taken(GROUP)
    assert "ติดต่อระบบบัญชีผู้ใช้ (LDAP) ไม่ได้" in card["text"]

    world.directory.available = True
    (retry,) = card["buttons"]
    replies = await world.press(retry[1])
    assert [reply.key for reply in replies] == ["review.job_retried"]
    status = await status_text(world.chat)
    assert "A69-00001 — อนุมัติแล้ว (กำลังดำเนินการ)" in status  # on its way again
    assert "เจ้าหน้าที่สั่งดำเนินการอีกครั้ง" in status

    await world.run_jobs()

    assert [m["key"] for m in await world.taken(world.chat.user_id)] == ["account.ready"]
    assert [m["key"] for m in await world.taken(GROUP)] == ["account.created_in_group"]
    assert (await world.directory.find_user(FREE_MAILBOX)) is not None
    assert len(world.sms.messages()) == 1
    status = await status_text(world.chat)
    assert "A69-00001 — สร้างบัญชีแล้ว" in status
    assert "ดำเนินการไม่สำเร็จ ส่งให้เจ้าหน้าที่ตรวจสอบ" in status  # the story keeps it


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        ("PermanentJobError: UserNameTakenError", "account.job_cause.name_taken"),
        ("PermanentJobError: UnknownUserError", "account.job_cause.unknown_user"),
        (
            "DirectoryUnavailableError: ldap://10.0.0.5 timed out",
            "account.job_cause.directory_down",
        ),
        ("LeaseExpired: a worker stopped in the last attempt", "account.job_cause.unknown"),
    ],
)
def test_the_cause_shown_to_reviewers_is_the_errors_class_never_its_message(
    error: str, cause: str
) -> None:
    assert cause_of(error) == cause
