"""The affiliation question as people answer it: one exact match, "not this one", a school."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.storage.models import Application
from tests.handlers.chat import Chat
from tests.handlers.transcripts import PERSON, STAFF, START, play, send, tap, until


async def test_one_exact_match_is_taken_and_not_this_one_goes_back_to_the_unit(
    chat: Chat,
) -> None:
    await play(chat, [*START, tap("บุคลากรประจำ กทม.", "apply.ask_unit")])

    await chat.send("บางรัก")

    assert chat.reply_keys == ["apply.ask_subunit"]  # no "หมายถึงหน่วยงานใดคะ" with one button
    assert "สำนักงานเขตบางรัก" in chat.text
    assert chat.button_labels[0] == "ไม่ใช่ ↩"
    await chat.tap("ไม่ใช่ ↩")
    assert chat.reply_keys == ["apply.ask_unit"]
    await chat.send("บางกะปิ")
    assert "สำนักงานเขตบางกะปิ" in chat.text


async def test_not_this_one_is_offered_only_right_after_the_unit_was_taken(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_unit_note"))  # a section tapped after Bang Rak
    assert "ไม่ใช่ ↩" not in chat.button_labels
    assert "ย้อนกลับ" in chat.button_labels


async def test_a_teacher_types_the_school_and_the_request_is_flagged_for_reviewers(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await play(chat, [*START, tap("บุคลากรประจำ กทม.", "apply.ask_unit")])

    await chat.send("โรงเรียนวัดหัวลำโพง")

    assert chat.reply_keys == ["apply.unit_not_found"]
    assert "โรงเรียนวัดหัวลำโพง" in chat.text
    await chat.tap("ใช้ชื่อที่พิมพ์")
    assert chat.last_key == "apply.ask_position"
    turns = STAFF[STAFF.index(PERSON[0]) :]
    await play(chat, turns)
    assert "สังกัด: โรงเรียนวัดหัวลำโพง" in chat.replies[-1].text
    await chat.tap("ถูกต้อง ส่งคำขอ")

    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
    assert application.form["unit_note"] == "โรงเรียนวัดหัวลำโพง"
    assert application.form["unit_typed"] is True
    assert "unit_unmatched" not in application.form


async def test_a_school_not_in_the_list_under_a_district_is_kept_under_it(chat: Chat) -> None:
    await play(chat, [*START, tap("บุคลากรประจำ กทม.", "apply.ask_unit")])
    await play(chat, [send("บางรัก", "apply.ask_subunit")])

    await chat.send("โรงเรียนวัดหัวลำโพง")

    assert chat.reply_keys == ["apply.unit_not_found_under"]
    await chat.tap("ใช้ชื่อที่พิมพ์")
    assert chat.last_key == "apply.ask_position"
