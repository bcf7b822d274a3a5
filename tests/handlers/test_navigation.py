"""Back, cancel, restart and edit-from-summary work at every step of the form."""

from __future__ import annotations

import pytest

from tests.handlers.chat import Chat
from tests.handlers.transcripts import CONTRACT, STAFF, play

# Every question of the staff form, as (how many turns reach it, its key).
STEPS = [(index, turn.then) for index, turn in enumerate(STAFF[:-1], start=1)]
STEP_IDS = [f"{index:02d}-{key}" for index, key in STEPS]


@pytest.mark.parametrize(("reached", "question"), STEPS, ids=STEP_IDS)
async def test_back_returns_to_the_previous_question(
    chat: Chat, reached: int, question: str
) -> None:
    await play(chat, STAFF[:reached])
    # A list of matching units is a view of the unit question, not a question of its own.
    questions = [turn.then for turn in STAFF[:reached] if turn.then != "apply.unit_which"]

    await chat.send("ย้อนกลับ")

    if reached == 1:
        assert chat.reply_keys[0] == "common.back_at_start"
    else:
        assert chat.last_key == questions[-2]


@pytest.mark.parametrize(("reached", "question"), STEPS, ids=STEP_IDS)
async def test_cancel_asks_first_then_forgets_the_form(
    chat: Chat, reached: int, question: str
) -> None:
    await play(chat, STAFF[:reached])

    await chat.send("ยกเลิกค่ะ")
    assert chat.reply_keys == ["common.confirm_cancel"]
    await chat.tap("ใช่ ยกเลิกคำขอ")

    assert chat.reply_keys == ["apply.cancelled"]
    await chat.send("สวัสดี")
    assert chat.reply_keys == ["menu.greeting"]


@pytest.mark.parametrize(("reached", "question"), STEPS, ids=STEP_IDS)
async def test_saying_no_to_cancel_goes_on_at_the_same_question(
    chat: Chat, reached: int, question: str
) -> None:
    await play(chat, STAFF[:reached])

    await chat.tap("ยกเลิก") if "ยกเลิก" in chat.button_labels else await chat.send("ยกเลิก")
    await chat.tap("ไม่ใช่ กรอกต่อ")

    assert chat.last_key == ("apply.ask_unit" if question == "apply.unit_which" else question)


@pytest.mark.parametrize(("reached", "question"), STEPS, ids=STEP_IDS)
async def test_restart_starts_the_form_again_after_the_terms(
    chat: Chat, reached: int, question: str
) -> None:
    await play(chat, STAFF[:reached])

    await chat.send("เริ่มใหม่")
    assert chat.reply_keys == ["common.confirm_restart"]
    await chat.tap("ใช่ เริ่มใหม่")

    first_question = "apply.pdpa" if reached == 1 else "apply.ask_kind"
    assert chat.reply_keys == ["common.restarted", first_question] or chat.reply_keys == [
        "common.restarted",
        "apply.terms",
        "apply.pdpa",
    ]
    assert chat.last_key == first_question


async def test_back_twice_undoes_two_answers(chat: Chat) -> None:
    await play(chat, STAFF[:8])  # at the Thai name

    await chat.send("ย้อนกลับ")
    await chat.send("ย้อนกลับ")

    assert chat.last_key == "apply.ask_position"


async def test_back_from_a_unit_level_returns_to_the_level_above(chat: Chat) -> None:
    await play(chat, STAFF[:4])  # Bang Rak taken at once: asked for its section

    await chat.send("ย้อนกลับ")

    assert chat.last_key == "apply.ask_unit"


# Editing from the summary: (field label, what to do, the line that must then show) ---------

EDITS = [
    (
        "สังกัด",
        [("send", "จตุจักร"), ("tap", "ไม่มี/ข้าม")],
        "สังกัด: สำนักงานเขตจตุจักร",
    ),
    ("ตำแหน่ง", [("send", "นักจัดการงานทั่วไป")], "ตำแหน่ง: นักจัดการงานทั่วไป"),
    (
        "ชื่อ-นามสกุล ไทย",
        [("tap", "นางสาว"), ("send", "สมศรี ใจดี")],
        "ชื่อ-นามสกุล: นางสาวสมศรี ใจดี",
    ),
    (
        "ชื่อ-นามสกุล ไทย",
        [("tap", "นาย"), ("send", "สมชาย สนิทวงศ์ ณ อยุธยา")],
        "นายสมชาย สนิทวงศ์ ณ อยุธยา",
    ),
    ("ชื่อ-นามสกุล อังกฤษ", [("tap", "Dr."), ("send", "somsak jaidee")], "Dr. Somsak Jaidee"),
    (
        "ชื่อ-นามสกุล อังกฤษ",
        [("tap", "Mr."), ("send", "Somchai Na Ayutthaya")],
        "Mr. Somchai Na Ayutthaya",
    ),
    ("เลขประจำตัวประชาชน", [("send", "3100600987659")], "3-1006-00987-65-9"),
    ("สัญชาติ", [("send", "ลาว")], "สัญชาติ: ลาว"),
    ("เบอร์มือถือ", [("send", "+66 91 234 5678")], "เบอร์มือถือ: 091-234-5678"),
    ("อีเมล", [("send", "somchai@bangkok.go.th")], "อีเมล: somchai@bangkok.go.th"),
    ("รูปบัตรประชาชน", [("photo", "")], "สำเนาบัตรประชาชน: แนบแล้ว"),
]


@pytest.mark.parametrize(("field", "actions", "shown"), EDITS, ids=[e[2] for e in EDITS])
async def test_editing_from_the_summary_returns_to_the_summary(
    chat: Chat, field: str, actions: list[tuple[str, str]], shown: str
) -> None:
    await play(chat, STAFF)
    await chat.tap("แก้ไขข้อมูล")
    await chat.tap(field)  # every item on one list

    for action, value in actions:
        await (chat.photo() if action == "photo" else getattr(chat, action)(value))

    assert chat.last_key == "apply.summary_title"
    assert shown in chat.replies[-1].text


async def test_changing_the_kind_asks_only_for_what_the_new_kind_needs(chat: Chat) -> None:
    await play(chat, STAFF)
    await chat.tap("แก้ไขข้อมูล")
    await chat.tap("ประเภทผู้ขอ")
    await chat.tap("ลูกจ้าง/สัญญาจ้าง")

    assert chat.last_key == "apply.ask_nationality"  # a staff member's was Thai by law
    await chat.tap("ไทย")
    assert chat.last_key == "apply.ask_doc_work_certificate"
    await chat.photo()
    assert chat.last_key == "apply.summary_title"
    assert "หนังสือรับรองการปฏิบัติงาน: แนบแล้ว" in chat.replies[-1].text


async def test_back_from_an_edit_keeps_the_old_answer(chat: Chat) -> None:
    await play(chat, CONTRACT)
    await chat.tap("แก้ไขข้อมูล")
    await chat.tap("ตำแหน่ง")

    await chat.send("ย้อนกลับ")
    await chat.tap("กลับไปหน้าสรุป")

    assert chat.last_key == "apply.summary_title"
    assert "ตำแหน่ง: นักวิชาการคอมพิวเตอร์ปฏิบัติการ" in chat.replies[-1].text
