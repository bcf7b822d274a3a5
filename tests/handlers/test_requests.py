"""The short requests of the circular: a unit mailbox's new responsible person (rule 2.2) and
e-GP / Web Portal rights (rule 2.6), each checked against the directory as it is typed."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.media import MemoryMedia
from core.directory.port import MemoryDirectory
from core.storage.models import Application, Document
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.people import seed


@pytest.fixture
async def directory() -> MemoryDirectory:
    directory = MemoryDirectory()
    await seed(directory)
    return directory


@pytest.fixture
def chat(services: Services, media: MemoryMedia, directory: MemoryDirectory) -> Chat:
    services = dataclasses.replace(services, directory=directory)
    return Chat(ConversationHandler(services, {CHANNEL: media}), media)


async def handover_until_photos(chat: Chat) -> None:
    await chat.send("เปลี่ยนผู้รับผิดชอบค่ะ")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send("Bangrak.Registration")
    await chat.send("malee.s@bangkok.go.th")


async def test_a_handover_request_is_submitted_with_its_two_documents(
    chat: Chat, services: Services
) -> None:
    await handover_until_photos(chat)
    assert chat.last_key == "handover.ask_memo"
    await chat.photo()
    assert chat.last_key == "handover.ask_id_card"
    await chat.photo()

    assert chat.last_key == "handover.summary_title"
    assert "บัญชีหน่วยงาน: bangrak.registration" in chat.text
    assert "ผู้รับผิดชอบเดิม: somchai.j" in chat.text
    assert "ผู้รับผิดชอบคนใหม่: malee.s นางสาวมาลี ศรีสุข" in chat.text
    await chat.tap("📨 ส่งคำขอ")

    assert chat.reply_keys == ["request.submitted"]
    assert "A69-00001" in chat.text
    async with services.sessions() as session:
        application = await session.scalar(select(Application))
        slots = set(await session.scalars(select(Document.slot)))
    assert application is not None
    assert (application.kind, application.status) == ("handover", "pending")
    assert application.form["responsible_username"] == "malee.s"
    assert application.national_id_encrypted is None
    assert slots == {"memo", "responsible_id_card"}


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("no.such.box", "handover.mailbox_unknown"),
        ("malee.s", "handover.not_a_mailbox"),  # a person, not a unit mailbox
        ("ชื่อไทย", "invalid.mailbox_name.format"),
    ],
)
async def test_a_mailbox_that_will_not_do_is_asked_again(
    chat: Chat, typed: str, answer: str
) -> None:
    await chat.send("เปลี่ยนผู้รับผิดชอบ")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send(typed)
    assert chat.reply_keys[0] == answer
    assert "bangrak.registration" in chat.text  # every refusal shows an example


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("nobody.here", "handover.person_unknown"),
        ("kanda.p", "handover.person_not_staff"),  # a contract employee
        ("somchai.j", "handover.person_same"),  # already responsible
        ("bangrak.registration", "handover.person_not_staff"),  # a mailbox is no person
    ],
)
async def test_a_new_responsible_person_must_be_another_civil_servant(
    chat: Chat, typed: str, answer: str
) -> None:
    await chat.send("เปลี่ยนผู้รับผิดชอบ")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send("bangrak.registration")
    await chat.send(typed)
    assert chat.reply_keys[0] == answer


async def test_a_locked_account_cannot_become_responsible(
    chat: Chat, directory: MemoryDirectory
) -> None:
    await directory.lock("malee.s", "test")
    await handover_until_photos(chat)
    assert chat.reply_keys[0] == "handover.person_locked"


async def test_when_the_directory_is_down_the_answer_is_kept_for_the_reviewers(
    chat: Chat, directory: MemoryDirectory
) -> None:
    directory.available = False
    await handover_until_photos(chat)
    assert chat.reply_keys == ["request.checked_later", "handover.ask_memo"]


async def test_back_and_cancel_work_in_a_request_too(chat: Chat) -> None:
    await handover_until_photos(chat)
    await chat.tap("ย้อนกลับ")
    assert chat.last_key == "handover.ask_person"
    await chat.send("ยกเลิก")
    await chat.tap("ใช่ ยกเลิกคำขอ")
    assert chat.reply_keys == ["request.cancelled"]
    await chat.send("สวัสดี")
    assert chat.reply_keys == ["menu.greeting"]


async def test_a_rights_request_is_submitted_for_an_existing_account(
    chat: Chat, services: Services
) -> None:
    await chat.send("ขอสิทธิ์")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send("somchai.j")
    assert chat.last_key == "rights.ask_right"
    await chat.send("ขอ e-GP ค่ะ")
    await chat.send("จัดทำรายงานจัดซื้อจัดจ้างของสำนักงานเขต")
    await chat.send("081 234 5678")

    assert chat.last_key == "rights.summary_title"
    assert "บัญชี: somchai.j นายสมชาย ใจดี" in chat.text
    assert "สิทธิ์ที่ขอ: ระบบ e-GP กทม." in chat.text
    assert "เบอร์ติดต่อ: 081-234-5678" in chat.text
    await chat.send("ยืนยัน")

    assert chat.reply_keys == ["request.submitted"]
    async with services.sessions() as session:
        application = await session.scalar(select(Application))
    assert application is not None
    assert application.kind == "rights"
    assert application.form == {
        "user_name": "somchai.j",
        "account_name": "นายสมชาย ใจดี",
        "right": "egp",
        "purpose": "จัดทำรายงานจัดซื้อจัดจ้างของสำนักงานเขต",
        "mobile": "+66812345678",
    }


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("nobody.here", "rights.user_unknown"),
        ("bangrak.registration", "rights.user_is_mailbox"),
    ],
)
async def test_rights_are_only_for_an_existing_personal_account(
    chat: Chat, typed: str, answer: str
) -> None:
    await chat.send("ขอสิทธิ์")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send(typed)
    assert chat.reply_keys[0] == answer


@pytest.mark.parametrize(
    ("typed", "right"),
    [("Web Portal", "webportal"), ("เว็บพอร์ทัล", "webportal"), ("e-GP", "egp"), ("อีจีพี", "egp")],
)
async def test_the_right_can_be_typed(chat: Chat, typed: str, right: str) -> None:
    await chat.send("ขอสิทธิ์")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send("malee.s")
    await chat.send(typed)
    assert chat.last_key == "rights.ask_purpose"


async def test_a_right_that_is_neither_is_asked_again_with_the_buttons(chat: Chat) -> None:
    await chat.send("ขอสิทธิ์")
    await chat.tap("เริ่มกรอกคำขอ")
    await chat.send("malee.s")
    await chat.send("ขอทั้งหมด")
    assert chat.reply_keys == ["rights.right_pick"]
    assert chat.button_labels[:2] == ["e-GP กทม.", "Web Portal"]


async def test_starting_another_request_mid_way_keeps_the_one_in_progress(chat: Chat) -> None:
    await handover_until_photos(chat)
    await chat.send("ขอสิทธิ์")
    assert chat.reply_keys == ["apply.already_in_progress", "handover.ask_memo"]


async def test_the_main_menu_offers_both_requests(chat: Chat) -> None:
    await chat.send("สวัสดีค่ะ")
    assert "เปลี่ยนผู้รับผิดชอบ" in chat.button_labels
    await chat.tap("ขอสิทธิ์ e-GP/Portal")
    assert chat.reply_keys == ["rights.intro", "request.pdpa"]


async def test_after_a_request_is_sent_the_menu_is_one_tap_away_and_send_is_not_pressed_twice(
    chat: Chat,
) -> None:
    await handover_until_photos(chat)
    await chat.photo()
    await chat.photo()
    await chat.tap("📨 ส่งคำขอ")
    assert chat.button_labels == ["สถานะคำขอ", "เมนูหลัก"]

    await chat.press("req:send")

    assert chat.reply_keys == ["status.form_closed", "status.title"]
    assert "A69-00001" in chat.text
