"""The terminal chat on both sides: one terminal applies, another reviews in the group."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.rendering import Rendered
from bot.handlers.review_policy import ReviewPolicy
from core.directory.port import MemoryDirectory
from core.settings import ANY_MEMBER, Settings
from core.sms.port import OutboxSms
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import STAFF_ANSWERS
from webhooks.compose import build_worker
from webhooks.console.channel import CHANNEL, ConsoleMedia, Seat, run_console, take_mail
from webhooks.runtime import CONSOLE_REVIEW_CHAT


async def test_apply_in_one_terminal_and_approve_in_another(
    services: Services, tmp_path: Path
) -> None:
    services = dataclasses.replace(
        services,
        policy=ReviewPolicy({CHANNEL: CONSOLE_REVIEW_CHAT}, frozenset({ANY_MEMBER})),
        directory=MemoryDirectory(),
    )
    handler = ConversationHandler(services, {CHANNEL: ConsoleMedia()})
    sms = OutboxSms(tmp_path / "sms.jsonl")
    worker = build_worker(Settings(), services, Dispatcher(handler, {}), sms)  # type: ignore[call-arg]
    photo = tmp_path / "card.jpg"
    photo.write_bytes(sample_photo())

    def mail_for(seat: Seat):  # type: ignore[no-untyped-def]
        async def mail():  # type: ignore[no-untyped-def]
            await worker.drain()
            return await take_mail(services, seat.chat_id)

        return mail

    answers = [*STAFF_ANSWERS, str(photo), "ถูกต้อง ส่งคำขอ"]
    applicant, reviewer = Seat.applicant("somchai"), Seat.reviewer("clerk")
    out = io.StringIO()
    await run_console(
        handler, applicant, io.StringIO("\n".join(answers) + "\n"), out, mail=mail_for(applicant)
    )
    assert "A69-00001" in out.getvalue()
    assert "นักวิชาการคอมพิวเตอร์" in out.getvalue()  # every answer met its own question
    assert "ตำแหน่ง: ไม่มี/ข้าม" not in out.getvalue()

    desk = io.StringIO()
    await run_console(
        handler, reviewer, io.StringIO("/pending\n✅ อนุมัติ\n"), desk, mail=mail_for(reviewer)
    )
    assert "คำขอใหม่ A69-00001" in desk.getvalue()
    assert "อนุมัติคำขอ A69-00001 แล้วค่ะ" in desk.getvalue()

    again = io.StringIO()
    await run_console(handler, applicant, io.StringIO(""), again, mail=mail_for(applicant))
    assert "พร้อมใช้งานแล้ว" in again.getvalue()
    assert len(sms.messages()) == 1


Terminal = Callable[[Seat, list[str]], Awaitable[str]]


@pytest.fixture
def terminal(services: Services, tmp_path: Path) -> Terminal:
    """Type lines into a terminal seat and read what it printed (jobs run in between)."""
    services = dataclasses.replace(
        services,
        policy=ReviewPolicy({CHANNEL: CONSOLE_REVIEW_CHAT}, frozenset({ANY_MEMBER})),
        directory=MemoryDirectory(),
    )
    handler = ConversationHandler(services, {CHANNEL: ConsoleMedia()})
    sms = OutboxSms(tmp_path / "sms.jsonl")
    worker = build_worker(Settings(), services, Dispatcher(handler, {}), sms)  # type: ignore[call-arg]

    async def type_in(seat: Seat, lines: list[str]) -> str:
        async def mail() -> list[Rendered]:
            await worker.drain()
            return await take_mail(services, seat.chat_id)

        out = io.StringIO()
        await run_console(
            handler, seat, io.StringIO("".join(f"{x}\n" for x in lines)), out, mail=mail
        )
        return out.getvalue()

    return type_in


def staff_answers(tmp_path: Path) -> list[str]:
    photo = tmp_path / "card.jpg"
    photo.write_bytes(sample_photo())
    return [*STAFF_ANSWERS, str(photo)]


async def test_find_answers_the_card_with_its_photos_in_the_terminal(
    terminal: Terminal, tmp_path: Path
) -> None:
    await terminal(Seat.applicant("somchai"), [*staff_answers(tmp_path), "ถูกต้อง ส่งคำขอ"])
    await terminal(Seat.reviewer("clerk"), [])  # the card posted to the group is read

    desk = await terminal(Seat.reviewer("clerk"), ["/find A69-00001"])

    assert "ระบบขัดข้อง" not in desk
    assert "── คำขอใหม่ A69-00001 ──" in desk
    assert "A69-00001: สำเนาบัตรประชาชน" in desk
    assert "🖼  http://127.0.0.1:8080/media/" in desk


async def test_the_reviewers_terminal_greets_a_reviewer_and_keeps_the_applicants_draft_out(
    terminal: Terminal,
) -> None:
    # `bmabot chat` and `bmabot chat --review` both default to the login name
    await terminal(Seat.applicant("somchai"), STAFF_ANSWERS[:4])  # a draft left half done

    desk = await terminal(Seat.reviewer("somchai"), [])

    assert "กลุ่มผู้ตรวจสอบคำขอ" in desk
    assert "/pending" in desk
    assert "/find" in desk
    assert "ยินดีต้อนรับสู่บริการขอบัญชี" not in desk  # the applicant's greeting
    assert "กรอกค้างไว้" not in desk  # the applicant's draft
    assert "[1]" not in desk  # no applicant's buttons to press


async def test_after_submitting_in_the_terminal_the_numbers_press_the_new_buttons(
    terminal: Terminal, tmp_path: Path
) -> None:
    answers = [*staff_answers(tmp_path), "ถูกต้อง ส่งคำขอ"]

    shown = await terminal(Seat.applicant("somchai"), [*answers, "1", "1"])

    filed = shown.split("ส่งคำขอเรียบร้อยแล้วค่ะ")[1]
    assert "[1] สถานะคำขอ\n   [2] เมนูหลัก" in filed
    assert "A69-00001 — รอตรวจสอบ" in filed  # 1: the status, not the summary's old "send"
    assert "ยังไม่เข้าใจ" not in filed
    assert "ยินดีต้อนรับ" in filed.split("A69-00001 — รอตรวจสอบ")[1]  # 1 again: the menu
