"""The short requests in the terminal chat, end to end: one terminal asks, the reviewers'
terminal approves or rejects, and the directory changes only on approval."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.rendering import Rendered
from bot.handlers.review_policy import ReviewPolicy
from core.clock import ManualClock
from core.directory.port import MemoryDirectory
from core.settings import ANY_MEMBER, Settings
from core.sms.port import OutboxSms
from core.storage.models import Application, GrantedRight
from tests.handlers.chat import sample_photo
from tests.handlers.people import seed
from webhooks.compose import build_worker
from webhooks.console.channel import CHANNEL, ConsoleMedia, Seat, run_console, take_mail
from webhooks.runtime import CONSOLE_REVIEW_CHAT

EGP_GROUP = "cn=egp,ou=groups,dc=bangkok,dc=go,dc=th"
Terminal = Callable[[Seat, list[str]], Awaitable[str]]


@pytest.fixture
async def directory() -> MemoryDirectory:
    directory = MemoryDirectory()
    await seed(directory)
    directory.groups[EGP_GROUP] = set()
    return directory


@pytest.fixture
def terminal(services: Services, directory: MemoryDirectory, tmp_path: Path) -> Terminal:
    """Type lines into a terminal seat and read what it printed (jobs run in between)."""
    services = dataclasses.replace(
        services,
        policy=ReviewPolicy({CHANNEL: CONSOLE_REVIEW_CHAT}, frozenset({ANY_MEMBER})),
        directory=directory,
    )
    handler = ConversationHandler(services, {CHANNEL: ConsoleMedia()})
    settings = Settings(rights_groups={"egp": EGP_GROUP})  # type: ignore[call-arg]
    sms = OutboxSms(tmp_path / "sms.jsonl")
    worker = build_worker(settings, services, Dispatcher(handler, {}), sms)

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


def handover_answers(tmp_path: Path) -> list[str]:
    photo = tmp_path / "memo.jpg"
    photo.write_bytes(sample_photo())
    return [
        "เปลี่ยนผู้รับผิดชอบ",
        "เริ่มกรอกคำขอ",
        "bangrak.registration",
        "malee.s",
        str(photo),
        str(photo),
        "📨 ส่งคำขอ",
    ]


RIGHTS_ANSWERS = ["ขอสิทธิ์", "เริ่มกรอกคำขอ", "somchai.j", "e-GP กทม.", "ใช้จัดทำรายงานจัดซื้อจัดจ้าง"]
RIGHTS_ANSWERS += ["0812345678", "📨 ส่งคำขอ"]


async def test_an_approved_handover_gives_the_mailbox_its_new_responsible_person(
    terminal: Terminal, directory: MemoryDirectory, services: Services, tmp_path: Path
) -> None:
    applicant, clerk = Seat.applicant("district"), Seat.reviewer("clerk")
    assert "A69-00001" in await terminal(applicant, handover_answers(tmp_path))

    desk = await terminal(clerk, ["✅ อนุมัติ"])

    assert "ประเภท: เปลี่ยนผู้รับผิดชอบบัญชีหน่วยงาน" in desk
    assert "ผู้รับผิดชอบคนใหม่: malee.s นางสาวมาลี ศรีสุข" in desk
    assert "บันทึกผู้รับผิดชอบ bangrak.registration เป็น malee.s ในระบบแล้วค่ะ" in desk
    mailbox = await directory.find_user("bangrak.registration")
    assert mailbox is not None
    assert mailbox.responsible_uid == "malee.s"
    told = await terminal(applicant, [])
    assert "มีผู้รับผิดชอบคนใหม่คือ malee.s" in told
    async with services.sessions() as session:
        assert await session.scalar(select(Application.status)) == "completed"


async def test_a_rejected_handover_changes_nothing_and_says_why(
    terminal: Terminal, directory: MemoryDirectory, tmp_path: Path
) -> None:
    applicant, clerk = Seat.applicant("district"), Seat.reviewer("clerk")
    await terminal(applicant, handover_answers(tmp_path))

    await terminal(clerk, ["❌ ไม่อนุมัติ", "เอกสารไม่ชัด/ไม่ถูก"])

    mailbox = await directory.find_user("bangrak.registration")
    assert mailbox is not None
    assert mailbox.responsible_uid == "somchai.j"
    told = await terminal(applicant, [])
    assert "ไม่ได้รับการอนุมัติ เหตุผล: เอกสารไม่ชัด/ไม่ถูก" in told


async def test_an_approved_rights_request_records_the_right_and_its_group(
    terminal: Terminal, directory: MemoryDirectory, services: Services
) -> None:
    applicant, clerk = Seat.applicant("somchai"), Seat.reviewer("clerk")
    await terminal(applicant, RIGHTS_ANSWERS)

    desk = await terminal(clerk, ["✅ อนุมัติ"])

    assert "สิทธิ์ที่ขอ: ระบบ e-GP กทม." in desk
    assert "⚠" not in desk  # the account is there and the mobile is its own
    assert directory.groups[EGP_GROUP] == {"somchai.j"}
    async with services.sessions() as session:
        granted = await session.scalar(select(GrantedRight))
    assert granted is not None
    assert (granted.uid, granted.name, granted.group_dn) == ("somchai.j", "egp", EGP_GROUP)
    told = await terminal(applicant, [])
    assert "บัญชี somchai.j ได้รับสิทธิ์ระบบ e-GP กทม. แล้ว" in told


async def test_a_rejected_rights_request_grants_nothing(
    terminal: Terminal, directory: MemoryDirectory, services: Services
) -> None:
    applicant, clerk = Seat.applicant("somchai"), Seat.reviewer("clerk")
    await terminal(applicant, RIGHTS_ANSWERS)

    await terminal(clerk, ["❌ ไม่อนุมัติ", "เหตุผลอื่น (พิมพ์)", "ต้องมีบันทึกข้อความจากผู้อำนวยการ"])

    assert directory.groups[EGP_GROUP] == set()
    async with services.sessions() as session:
        assert await session.scalar(select(GrantedRight)) is None
        assert await session.scalar(select(Application.status)) == "rejected"
    told = await terminal(applicant, [])
    assert "เหตุผล: ต้องมีบันทึกข้อความจากผู้อำนวยการ" in told
    assert "ฝ่ายโปรแกรมระบบ โทร 0 2203 2754" in told


async def test_a_request_card_cannot_be_returned_for_correction(
    terminal: Terminal, tmp_path: Path
) -> None:
    await terminal(Seat.applicant("somchai"), RIGHTS_ANSWERS)
    desk = await terminal(Seat.reviewer("clerk"), ["/pending"])
    card = desk.split("คำขอใหม่ A69-00001")[-1]
    assert "✅ อนุมัติ" in card
    assert "ขอข้อมูลเพิ่ม" not in card


async def test_a_directory_that_is_down_delays_the_handover_but_loses_nothing(
    terminal: Terminal,
    directory: MemoryDirectory,
    services: Services,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    applicant, clerk = Seat.applicant("district"), Seat.reviewer("clerk")
    await terminal(applicant, handover_answers(tmp_path))
    directory.available = False

    await terminal(clerk, ["✅ อนุมัติ"])
    async with services.sessions() as session:
        assert await session.scalar(select(Application.status)) == "approved"

    directory.available = True
    clock.advance(hours=1)  # past the job's back-off
    await terminal(clerk, [])

    mailbox = await directory.find_user("bangrak.registration")
    assert mailbox is not None
    assert mailbox.responsible_uid == "malee.s"
    async with services.sessions() as session:
        assert await session.scalar(select(Application.status)) == "completed"
    told = await terminal(applicant, [])
    assert told.count("มีผู้รับผิดชอบคนใหม่คือ malee.s") == 1
