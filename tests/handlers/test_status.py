"""Status: one's own requests newest first with their story, the draft, and typed references."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.handlers.accounts import AccountMaker
from bot.handlers.services import Services
from core.clock import ManualClock
from core.delivery.jobs import ClaimedJob
from core.directory.port import MemoryDirectory
from core.requests.applications import ApplicationForm, Submitted, submit_application
from core.requests.corrections import resubmit_application
from core.requests.decisions import decide
from core.rules.validation import national_id_check_digit
from core.sms.port import OutboxSms
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.transcripts import STAFF, play, until

STAFF_KIND = "บัญชีผู้ใช้ กทม. (บุคลากรประจำ กทม.)"
DRAFT = "ร่าง — ยังกรอกไม่เสร็จ ยังไม่ได้ส่ง"


def national_id(n: int) -> str:
    first = f"1{n:011d}"
    return first + national_id_check_digit(first)


def staff_form(n: int) -> ApplicationForm:
    fields = {
        "first_name_en": "Somchai",
        "last_name_en": "Jaidee",
        "first_name_th": "สมชาย",
        "last_name_th": "ใจดี",
        "title_th": "นาย",
        "mobile": "+66812345678",
        "position": "นักวิชาการ",
        "unit": ["district-1004"],
        "unit_note": None,
    }
    return ApplicationForm("staff", fields, national_id(n), {})


async def submitted(services: Services, n: int, user_id: str = "U1001") -> Submitted:
    """Request number n of a person, submitted now on the chat's channel."""
    async with services.sessions.begin() as session:
        result = await submit_application(
            session,
            services.vault,
            channel=CHANNEL,
            user_id=user_id,
            form=staff_form(n),
            now=services.clock.now(),
        )
    assert isinstance(result, Submitted)
    return result


async def decided(services: Services, request: Submitted, outcome: str, **more: object) -> None:
    async with services.sessions.begin() as session:
        await decide(
            session,
            application_id=request.application_id,
            outcome=outcome,
            reviewer="test:R1" if outcome != "expire" else "system",
            now=services.clock.now(),
            **more,  # type: ignore[arg-type]
        )


async def resubmitted(services: Services, request: Submitted, n: int) -> None:
    async with services.sessions.begin() as session:
        await resubmit_application(
            session,
            services.vault,
            reference=request.reference,
            channel=CHANNEL,
            user_id="U1001",
            form=staff_form(n),
            now=services.clock.now(),
        )


async def account_made(services: Services, request: Submitted, tmp_path: Path) -> None:
    sms = OutboxSms(tmp_path / "sms.jsonl", clock=services.clock)
    maker = AccountMaker(services, MemoryDirectory(), sms)
    payload = {"application_id": request.application_id}
    await maker(ClaimedJob(1, "account.create", "account.create:1", payload, 1, 5))


def lines(chat: Chat) -> list[str]:
    (card,) = chat.replies
    return card.text.splitlines()


# --- the list of one's requests -----------------------------------------------------------


async def test_status_without_any_request(chat: Chat) -> None:
    await chat.send("สถานะค่ะ")
    assert chat.reply_keys == ["status.none"]
    assert chat.button_labels == ["ขอบัญชีผู้ใช้ กทม.", "เมนูหลัก"]


async def test_requests_are_listed_newest_first_each_with_its_story_in_buddhist_era_dates(
    chat: Chat, services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    first = await submitted(services, 1)  # 25/11/2569
    clock.advance(days=1)
    await decided(services, first, "reject", reason="blurry")
    clock.advance(days=1)
    second = await submitted(services, 2)  # 27/11/2569
    clock.advance(days=1)
    await decided(services, second, "return", items=("mobile",))
    clock.advance(days=1)
    await resubmitted(services, second, 2)
    clock.advance(days=1)
    await decided(services, second, "approve")
    clock.advance(hours=1)
    await account_made(services, second, tmp_path)
    clock.advance(days=1)
    await submitted(services, 3)  # 1/12/2569

    await chat.press("menu:status")

    assert chat.reply_keys == ["status.title"]
    assert lines(chat) == [
        "A69-00003 — รอตรวจสอบ",
        STAFF_KIND,
        "• 1/12/2569 ยื่นคำขอ",
        "A69-00002 — สร้างบัญชีแล้ว",
        STAFF_KIND,
        "• 27/11/2569 ยื่นคำขอ",
        "• 28/11/2569 เจ้าหน้าที่ขอข้อมูลเพิ่ม",
        "• 29/11/2569 ส่งข้อมูลที่แก้ไขแล้ว",
        "• 30/11/2569 อนุมัติ",
        "• 30/11/2569 สร้างบัญชีแล้ว ส่งทาง SMS จาก BMA mail",
        "A69-00001 — ไม่อนุมัติ",
        STAFF_KIND,
        "• 25/11/2569 ยื่นคำขอ",
        "• 26/11/2569 ไม่อนุมัติ เหตุผล: รูปเอกสารไม่ชัดหรือไม่ใช่เอกสารที่กำหนด",
    ]
    assert chat.button_labels == ["เมนูหลัก"]  # no draft to go on with: the menu is a tap away


@pytest.mark.parametrize(
    ("outcome", "more", "state", "event"),
    [
        ("approve", {}, "อนุมัติแล้ว (กำลังดำเนินการ)", "อนุมัติ"),
        ("return", {"items": ("mobile",)}, "ขอข้อมูลเพิ่ม", "เจ้าหน้าที่ขอข้อมูลเพิ่ม"),
        ("expire", {}, "หมดอายุ", "หมดอายุ ไม่ได้รับการพิจารณาในเวลาที่กำหนด"),
        (
            "reject",
            {"reason": "ใช้อีเมลส่วนตัวแทนอีเมลหน่วยงาน"},
            "ไม่อนุมัติ",
            "ไม่อนุมัติ เหตุผล: ใช้อีเมลส่วนตัวแทนอีเมลหน่วยงาน",
        ),
    ],
)
async def test_each_state_reads_in_plain_thai(
    chat: Chat,
    services: Services,
    clock: ManualClock,
    outcome: str,
    more: dict[str, object],
    state: str,
    event: str,
) -> None:
    request = await submitted(services, 1)
    clock.advance(days=2)
    await decided(services, request, outcome, **more)

    await chat.send("สถานะ")

    assert lines(chat) == [
        f"A69-00001 — {state}",
        STAFF_KIND,
        "• 25/11/2569 ยื่นคำขอ",
        f"• 27/11/2569 {event}",
    ]


async def test_only_the_five_newest_are_shown_with_a_note_of_how_many_there_are(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    for n in range(1, 7):
        await submitted(services, n)
        clock.advance(hours=1)

    await chat.send("สถานะ")

    shown = [line.split(" — ")[0] for line in lines(chat) if " — " in line]
    assert shown == ["A69-00006", "A69-00005", "A69-00004", "A69-00003", "A69-00002"]
    assert lines(chat)[-1].startswith("แสดง 5 คำขอล่าสุดจากทั้งหมด 6 คำขอค่ะ")


async def test_status_shows_only_ones_own_requests(chat: Chat, services: Services) -> None:
    await submitted(services, 1, user_id="U-stranger")
    await chat.send("สถานะ")
    assert chat.reply_keys == ["status.none"]


async def test_the_status_answer_fits_a_chat_message(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    for n in range(1, 9):
        request = await submitted(services, n)
        clock.advance(days=1)
        await decided(services, request, "reject", reason="ข้อความเหตุผลยาว " * 15)
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send("สถานะ")

    assert len(chat.text.encode("utf-16-le")) // 2 < 4096  # Telegram's limit; LINE's is 5000


# --- the draft: a form in progress -------------------------------------------------------


async def test_a_form_in_progress_shows_as_a_draft_with_buttons_to_go_on_or_cancel(
    chat: Chat,
) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send("/status")

    assert chat.reply_keys == ["status.title"]
    assert lines(chat) == [DRAFT, STAFF_KIND]
    assert chat.button_labels == ["กรอกร่างต่อ", "ยกเลิกร่าง"]


async def test_the_draft_comes_before_the_submitted_requests(
    chat: Chat, services: Services
) -> None:
    await submitted(services, 1)
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send("สถานะ")

    assert lines(chat)[:3] == [DRAFT, STAFF_KIND, "A69-00001 — รอตรวจสอบ"]


async def test_going_on_with_the_draft_asks_the_same_question_again(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))
    await chat.send("สถานะ")

    await chat.tap("กรอกร่างต่อ")
    assert chat.reply_keys == ["apply.ask_position"]

    await chat.send("นักวิชาการคอมพิวเตอร์ปฏิบัติการ")
    assert chat.last_key == "apply.ask_title_th"


async def test_cancelling_the_draft_from_the_status_asks_to_confirm_first(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_position"))
    await chat.send("สถานะ")

    await chat.tap("ยกเลิกร่าง")
    assert chat.reply_keys == ["common.confirm_cancel"]
    await chat.press("nav:yes")
    assert chat.reply_keys == ["apply.cancelled"]

    await chat.send("สถานะ")
    assert chat.reply_keys == ["status.none"]


async def test_a_stale_go_on_button_without_a_draft_says_so(chat: Chat) -> None:
    await chat.press("status:continue")
    assert chat.reply_keys == ["status.no_draft"]


# --- a typed reference --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "A69-00001",
        "a69-00001",
        "a69 00001",
        "A6900001",
        "A๖๙-๐๐๐๐๑",
        "a69–00001 ค่ะ",
        "สถานะ A69-00001",
        "/status a69-1",
    ],
)
async def test_a_reference_typed_in_any_usual_form_shows_that_request(
    chat: Chat, services: Services, typed: str
) -> None:
    await submitted(services, 1)

    await chat.send(typed)

    assert chat.reply_keys == ["status.one_title"]
    assert chat.replies[0].title == "รายละเอียดคำขอเลขที่ A69-00001 ค่ะ"
    assert lines(chat) == ["A69-00001 — รอตรวจสอบ", STAFF_KIND, "• 25/11/2569 ยื่นคำขอ"]


async def test_someone_elses_reference_is_answered_like_one_that_does_not_exist(
    chat: Chat, services: Services, catalog: Catalog
) -> None:
    await submitted(services, 1, user_id="U-stranger")

    await chat.send("A69-00001")
    someone_elses = chat.replies
    await chat.send("A69-00002")
    unknown = chat.replies

    assert [r.key for r in someone_elses] == [r.key for r in unknown] == ["status.not_found"]
    assert someone_elses[0].text == catalog.text("status.not_found", {"reference": "A69-00001"})
    assert unknown[0].text == catalog.text("status.not_found", {"reference": "A69-00002"})
    assert someone_elses[0].buttons == unknown[0].buttons
    assert "รอตรวจสอบ" not in someone_elses[0].text


async def test_the_same_user_id_on_another_channel_is_someone_else(
    chat: Chat, services: Services
) -> None:
    async with services.sessions.begin() as session:
        await submit_application(
            session,
            services.vault,
            channel="line",
            user_id=chat.user_id,
            form=staff_form(1),
            now=services.clock.now(),
        )
    await chat.send("A69-00001")
    assert chat.reply_keys == ["status.not_found"]


async def test_inside_the_form_a_bare_reference_is_the_answer_to_the_question(
    chat: Chat, services: Services
) -> None:
    await submitted(services, 1)
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send("A69-00001")

    assert not [key for key in chat.reply_keys if key.startswith("status.")]
    assert chat.last_key == "invalid.position.no_letters"  # read as the (wrong) position


async def test_inside_the_form_status_and_a_reference_show_it_with_a_way_back(
    chat: Chat, services: Services
) -> None:
    await submitted(services, 1)
    await play(chat, until(STAFF, "apply.ask_position"))

    await chat.send("สถานะ A69-00001")
    assert chat.reply_keys == ["status.one_title"]
    assert chat.button_labels == ["กรอกร่างต่อ"]

    await chat.tap("กรอกร่างต่อ")
    assert chat.reply_keys == ["apply.ask_position"]
