"""A complete application for each kind of applicant, through the real handlers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.requests.applications import national_id_context
from core.storage.crypto import Vault
from core.storage.models import Application, AuditEvent, Document
from tests.handlers.chat import Chat
from tests.handlers.transcripts import NATIONAL_ID, TRANSCRIPTS, Turn, play


@pytest.mark.parametrize("kind", list(TRANSCRIPTS))
async def test_a_complete_application_is_submitted(
    kind: str, chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await play(chat, TRANSCRIPTS[kind])
    await chat.tap("ถูกต้อง ส่งคำขอ")

    assert chat.reply_keys == ["apply.submitted"]
    assert "A69-00001" in chat.text
    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
        documents = (await session.scalars(select(Document))).all()
    assert (application.reference, application.kind, application.status) == (
        "A69-00001",
        kind,
        "pending",
    )
    assert all(document.application_id == application.id for document in documents)
    assert len(documents) == {"staff": 1, "contract": 2, "agency": 2}[kind]


async def test_staff_form_keeps_every_answer(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    await play(chat, TRANSCRIPTS["staff"])
    await chat.tap("ถูกต้อง ส่งคำขอ")

    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
    assert application.form == {
        "kind": "staff",
        "unit": ["district-1004", "district-1004-registration"],
        "unit_note": None,
        "position": "นักวิชาการคอมพิวเตอร์ปฏิบัติการ",
        "title_th": "นาย",
        "first_name_th": "สมชาย",
        "last_name_th": "ใจดี",
        "title_en": "Mr.",
        "first_name_en": "Somchai",
        "last_name_en": "Jaidee",
        "nationality": "ไทย",
        "mobile": "+66812345678",
        "email": "somchai.j@gmail.com",
    }
    assert application.national_id_encrypted is not None
    context = national_id_context(application.reference)
    plain = vault.decrypt(application.national_id_encrypted, context=context)
    assert plain == NATIONAL_ID.encode()


async def test_summary_shows_every_answer_and_the_applicants_own_national_id(
    chat: Chat,
) -> None:
    await play(chat, TRANSCRIPTS["staff"])

    summary = chat.replies[-1]
    assert summary.title == "กรุณาตรวจสอบข้อมูลก่อนส่งคำขอค่ะ"
    assert "สำนักงานเขตบางรัก › ฝ่ายทะเบียน" in summary.text
    assert "นายสมชาย ใจดี" in summary.text
    assert "Mr. Somchai Jaidee" in summary.text
    assert "1-1037-00123-45-8" in summary.text  # their own, in full, to check it
    assert "สัญชาติ: ไทย" in summary.text  # a staff member's: settled by the kind
    assert "081-234-5678" in summary.text
    assert [b.label for b in summary.buttons] == ["ถูกต้อง ส่งคำขอ", "แก้ไขข้อมูล", "ยกเลิก"]


async def test_submission_is_recorded_in_the_audit_trail(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await play(chat, TRANSCRIPTS["contract"])
    await chat.tap("ถูกต้อง ส่งคำขอ")

    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[0] == "application.started"
    assert actions[-1] == "application.submitted"


def _up_to_the_national_id(kind: str = "staff") -> list[Turn]:
    turns = TRANSCRIPTS[kind]
    asked = next(i for i, turn in enumerate(turns) if turn.then == "apply.ask_national_id")
    return turns[: asked + 1]


async def test_someone_elses_national_id_is_caught_at_its_own_step_naming_nobody(
    chat: Chat,
) -> None:
    await play(chat, TRANSCRIPTS["staff"])
    await chat.tap("ถูกต้อง ส่งคำขอ")
    other = Chat(chat.handler, chat.media, user_id="U2002")
    await play(other, _up_to_the_national_id())

    await other.send("1 1037 00123 45 8")  # the first applicant's

    assert other.reply_keys == ["apply.refused.already_held"]
    assert "A69-00001" not in other.text  # someone else's request is not revealed (PDPA)
    assert "สมชาย" not in other.text
    assert "0 2203 2751" in other.text
    await other.send("3 1012 00456 78 9")  # a typo corrected: the form goes on
    assert other.last_key == "apply.ask_mobile"


async def test_ones_own_national_id_again_names_the_request_already_filed(chat: Chat) -> None:
    await play(chat, TRANSCRIPTS["staff"])
    await chat.tap("ถูกต้อง ส่งคำขอ")
    await play(chat, _up_to_the_national_id())

    await chat.send("1 1037 00123 45 8")

    assert chat.reply_keys == ["apply.refused.already_active"]
    assert "A69-00001" in chat.text  # their own


async def test_an_id_filed_by_another_while_the_form_was_open_is_refused_at_submission(
    chat: Chat,
) -> None:
    other = Chat(chat.handler, chat.media, user_id="U2002")
    await play(other, TRANSCRIPTS["staff"])  # at the summary, not sent yet
    await play(chat, TRANSCRIPTS["staff"])
    await chat.tap("ถูกต้อง ส่งคำขอ")

    await other.tap("ถูกต้อง ส่งคำขอ")

    assert other.reply_keys == ["apply.refused.already_held"]
    assert "A69-00001" not in other.text


async def test_pressing_submit_twice_submits_once(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await play(chat, TRANSCRIPTS["staff"])
    await chat.press("apply:submit")
    await chat.press("apply:submit")

    assert chat.reply_keys == ["status.form_closed", "status.title"]
    async with sessions() as session:
        assert len((await session.scalars(select(Application))).all()) == 1
