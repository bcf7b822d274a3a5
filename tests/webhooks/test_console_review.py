"""The terminal chat on both sides: one terminal applies, another reviews in the group."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.review_policy import ReviewPolicy
from core.directory import MemoryDirectory
from core.media_links import MediaLinks
from core.settings import Settings
from core.sms import OutboxSms
from tests.conftest import TEST_SECRET_KEY
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import STAFF_ANSWERS
from webhooks.console import CHANNEL, ConsoleMedia, Seat, run_console, take_mail
from webhooks.runtime import CONSOLE_REVIEW_CHAT
from webhooks.work import build_worker


async def test_apply_in_one_terminal_and_approve_in_another(
    services: Services, tmp_path: Path
) -> None:
    services = dataclasses.replace(
        services, policy=ReviewPolicy({CHANNEL: CONSOLE_REVIEW_CHAT}), directory=MemoryDirectory()
    )
    handler = ConversationHandler(services, {CHANNEL: ConsoleMedia()})
    sms = OutboxSms(tmp_path / "sms.jsonl")
    links = MediaLinks.from_secret(TEST_SECRET_KEY, "http://127.0.0.1:8080")
    worker = build_worker(Settings(), services, links, Dispatcher(handler, {}), sms)  # type: ignore[call-arg]
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
