"""A request kind is one unit: a kind only these tests know joins in one place (`registered`)
and runs end to end — asked for in chat, carded, approved, carried out by its job, the
applicant told, its status answered — with no production module changed for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from bot.catalog import Catalog
from bot.flows.engine import Accept, Dialogue, FlowState, Reply, Retry
from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS, RequestKind
from bot.flows.outgoing import Card, Choice, SubmitApplication, Text, UserChecked
from bot.flows.requests import confirm_step, notice_step, request_dialogue, user_name_question
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.kinds import JOBS, KindUnit, kind_jobs, registered
from bot.handlers.media import MemoryMedia
from bot.handlers.request_jobs import RequestJob
from bot.handlers.review_cards import card_messages
from bot.handlers.review_policy import ReviewPolicy
from core.delivery.job_kinds import job_kind
from core.delivery.jobs import PENDING, list_jobs
from core.delivery.outbox import due_for_chat, mark_sent
from core.delivery.worker import Worker
from core.directory.port import Directory, MemoryDirectory
from core.settings import Settings
from core.storage.models import Application
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.people import seed

GROUP, REVIEWER = "G-review", "R1"

# More room in a mailbox: the kind, as a later issue might add it.
QUOTA_TEXTS = {
    "menu.quota": "📦 ขอเพิ่มพื้นที่อีเมล",
    "quota.intro": "ขอเพิ่มพื้นที่กล่องอีเมลของบัญชีที่มีอยู่แล้วค่ะ",
    "quota.ask_account": "บัญชีผู้ใช้ที่ต้องการเพิ่มพื้นที่คืออะไรคะ (เช่น somchai.j)",
    "quota.unknown": "ไม่พบบัญชี {uid} ในระบบค่ะ กรุณาพิมพ์ใหม่อีกครั้งนะคะ",
    "quota.summary_title": "ตรวจสอบคำขอเพิ่มพื้นที่อีเมลค่ะ",
    "quota.line.account": "บัญชีผู้ใช้: {value}",
    "apply.line.kind.quota": "ประเภท: ขอเพิ่มพื้นที่อีเมล",
    "request.applicant.approved.quota": "คำขอ {reference} อนุมัติแล้วค่ะ กำลังเพิ่มพื้นที่ให้นะคะ",
    "request.applicant.rejected.quota": "คำขอ {reference} ไม่ได้รับอนุมัติค่ะ เหตุผล: {reason}",
    "request.done.quota": "เพิ่มพื้นที่อีเมลของ {uid} แล้วค่ะ (คำขอ {reference})",
    "request.done_in_group.quota": "{reference}: เพิ่มพื้นที่อีเมลของ {uid} แล้วค่ะ",
    "status.kind.quota": "ขอเพิ่มพื้นที่อีเมล",
}


def judge_account(state: FlowState, found: UserChecked) -> Reply:
    if not found.found:
        return Retry((Text("quota.unknown", {"uid": found.uid}),))
    return Accept({"user_name": found.uid})


def quota_lines(answers: Mapping[str, Any]) -> list[Text]:
    return [Text("quota.line.account", {"value": str(answers.get("user_name", ""))})]


def quota_submission(answers: Mapping[str, Any]) -> SubmitApplication:
    return SubmitApplication("quota", {"user_name": answers["user_name"]}, None, {})


def quota_dialogue() -> Dialogue:
    steps = {
        "notice": notice_step("quota.intro"),
        "user_name": user_name_question("quota.ask_account", "user_name", judge_account),
        "confirm": confirm_step("quota.summary_title", quota_lines, quota_submission),
    }
    return request_dialogue("quota", steps)


QUOTA = RequestKind(
    name="quota",
    dialogue=quota_dialogue,
    menu=Choice("menu.quota", "menu:quota"),
    words=frozenset({"ขอเพิ่มพื้นที่อีเมล"}),
    card_lines=quota_lines,
    documents=(),
    approval_job=job_kind("quota.raise"),
    done="quota.raised",
)


class QuotaJob(RequestJob):
    """Raises the mailbox quota (here: notes whose), then the request is completed."""

    action = QUOTA.done
    raised: ClassVar[list[str]] = []

    async def carry_out(self, form: Mapping[str, Any]) -> dict[str, str]:
        self.raised.append(str(form["user_name"]))
        return {"uid": str(form["user_name"])}

    def news(self, reference: str, detail: Mapping[str, str]) -> tuple[Text, Text]:
        params = {"reference": reference, "uid": detail["uid"]}
        return Text("request.done.quota", params), Text("request.done_in_group.quota", params)


def quota_job(services: Services, directory: Directory, settings: Settings) -> QuotaJob:
    return QuotaJob(services, directory)


@pytest.fixture
def quota() -> Iterator[KindUnit]:
    QuotaJob.raised = []
    with registered(KindUnit(QUOTA, quota_job)) as unit:  # the one place it joins
        yield unit


@pytest.fixture
async def bot(services: Services, media: MemoryMedia, quota: KindUnit) -> ConversationHandler:
    directory = await seed(MemoryDirectory())
    services = dataclasses.replace(
        services,
        directory=directory,
        policy=ReviewPolicy(
            review_chats={CHANNEL: GROUP}, reviewers=frozenset({f"{CHANNEL}:{REVIEWER}"})
        ),
        catalog=Catalog({**services.catalog.messages, **QUOTA_TEXTS}),
    )
    return ConversationHandler(services, {CHANNEL: media})


async def taken(services: Services, chat_id: str) -> list[str]:
    """The keys of the messages queued for a chat since the last look (taken as delivered)."""
    now = services.clock.now()
    async with services.sessions.begin() as session:
        batches = await due_for_chat(session, services.vault, CHANNEL, chat_id, now)
        for batch in batches:
            await mark_sent(session, batch.id, now)
    return [message["key"] for batch in batches for message in batch.messages]


async def test_a_kind_registered_in_one_place_runs_from_chat_to_status(
    bot: ConversationHandler, media: MemoryMedia
) -> None:
    services, chat = bot.services, Chat(bot, media)

    # Its menu button and its words start it; the dialogue is its own.
    await chat.send("สวัสดี")
    assert "📦 ขอเพิ่มพื้นที่อีเมล" in chat.button_labels
    await chat.send("ขอเพิ่มพื้นที่อีเมลค่ะ")
    assert chat.reply_keys[0] == "quota.intro"
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send("nobody.x")
    assert chat.reply_keys[0] == "quota.unknown"
    await chat.send("malee.s")
    assert chat.last_key == "quota.summary_title"
    await chat.tap("📨 ส่งคำขอ")
    assert chat.reply_keys == ["request.submitted"]
    assert "A69-00001" in chat.text

    # The reviewers' card shows its section and only approve / reject.
    async with services.sessions() as session:
        application = await session.scalar(select(Application))
        assert application is not None
        (card, *_) = await card_messages(session, services, application.id, ())
    assert isinstance(card, Card)
    assert [line.key for line in card.lines][:2] == ["apply.line.kind.quota", "quota.line.account"]
    assert [button.data for button in card.buttons] == ["rv:a:1", "rv:r:1"]

    # Approved in the review group: its own job is queued, and the applicant is told.
    pressed = Incoming(CHANNEL, REVIEWER, GROUP, Kind.BUTTON, data="rv:a:1", in_group=True)
    assert [reply.key for reply in await bot.handle(pressed)][-1] == "review.decided.approve"
    async with services.sessions() as session:
        queued = {job.kind for job in await list_jobs(session, (PENDING,))}
    assert QUOTA.approval_job in queued
    assert await taken(services, chat.user_id) == ["request.applicant.approved.quota"]

    # The worker runs it (as webhooks/compose.py builds the worker: every registered kind's job).
    assert services.directory is not None
    jobs = kind_jobs(services, services.directory, Settings())
    await Worker(services.sessions, jobs, services.clock, worker_id="t").drain()
    assert QuotaJob.raised == ["malee.s"]
    assert await taken(services, chat.user_id) == ["request.done.quota"]
    assert await taken(services, GROUP) == ["request.done_in_group.quota"]

    # Its status: completed, named as the kind.
    await chat.send("สถานะ")
    assert "ขอเพิ่มพื้นที่อีเมล" in chat.text
    async with services.sessions() as session:
        assert await session.scalar(select(Application.status)) == "completed"


def test_the_kind_leaves_no_trace_once_unregistered(quota: KindUnit) -> None:
    assert "quota" in KINDS
    assert QUOTA.approval_job in JOBS


def test_after_the_test_only_the_circulars_kinds_are_registered() -> None:
    assert [kind.name for kind in KINDS] == ["handover", "rights"]
    assert sorted(JOBS) == ["handover.apply", "rights.grant"]


def test_a_second_kind_under_a_taken_name_is_refused() -> None:
    other = dataclasses.replace(QUOTA, name="handover")
    with pytest.raises(ValueError, match="handover"):
        KINDS.register(other)
