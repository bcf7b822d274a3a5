"""Rule 2.1 against the directory: 1,000 accounts made before the bot, marked from HR's roster,
are refused at the national-ID step without showing anyone's data; a new ID goes on."""

from __future__ import annotations

import logging
import string
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.media import MemoryMedia
from core.directory.port import AccountRequest, MemoryDirectory
from core.directory.roster import import_roster
from core.rules.validation import national_id_check_digit
from core.storage.crypto import Vault
from core.storage.models import ApplicationKind, Base
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.transcripts import NATIONAL_ID, TRANSCRIPTS, Turn, play

ROSTER_SIZE = 1000


def staff_id(number: int) -> str:
    """A valid national ID of one of the staff (check digit from core.rules.validation)."""
    first12 = f"31{number:010d}"
    return first12 + national_id_check_digit(first12)


def letters(number: int) -> str:
    """0 -> 'aa', 1 -> 'ab', ...: English names made of letters only, all different."""
    first, second = divmod(number, 26)
    return string.ascii_lowercase[first % 26] * (1 + first // 26) + string.ascii_lowercase[second]


def existing(number: int) -> AccountRequest:
    """An account made before the bot: no digest in the directory yet."""
    return AccountRequest(
        application_reference=f"HR-{number:05d}",
        kind=ApplicationKind.STAFF,
        first_name_en=f"Staff{letters(number)}",
        last_name_en="Krungthep",
        first_name_th="มานี",
        last_name_th=f"มีสุข{letters(number)}",
        display_name_th=f"นางสาวมานี มีสุข{letters(number)}",
        mobile_e164="+66891234567",
        position="นักจัดการงานทั่วไป",
        unit="สำนักงานเขตพระนคร",
    )


@pytest.fixture
async def roster(tmp_path: Path, directory: MemoryDirectory, vault: Vault) -> Path:
    """The 1,000 existing accounts, and HR's file of their IDs and user names, imported."""
    rows = ["national_id,user_name"]
    for number in range(ROSTER_SIZE):
        account = await directory.create_account(existing(number))
        rows.append(f"{staff_id(number)},{account.uid}")
    path = tmp_path / "hr-roster.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = await import_roster(directory, vault, path.read_text().splitlines(), dry_run=False)
    assert (report.lines, report.marked, report.problems) == (ROSTER_SIZE, ROSTER_SIZE, [])
    return path


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory()


@pytest.fixture
def handler(
    services: Services, media: MemoryMedia, directory: MemoryDirectory
) -> ConversationHandler:
    return ConversationHandler(replace(services, directory=directory), {CHANNEL: media})


def _read(path: Path) -> str:
    return path.read_text()


def _remove(path: Path) -> None:
    path.unlink()


def _every_file(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def _up_to_the_national_id() -> list[Turn]:
    turns = TRANSCRIPTS["staff"]
    asked = next(i for i, turn in enumerate(turns) if turn.then == "apply.ask_national_id")
    return turns[: asked + 1]


async def test_an_id_of_an_account_made_before_the_bot_is_refused_at_its_step(
    roster: Path, chat: Chat, directory: MemoryDirectory
) -> None:
    await play(chat, _up_to_the_national_id())

    await chat.send(staff_id(737))

    assert chat.reply_keys == ["apply.refused.has_account"]
    assert "เลขนี้มีบัญชีอยู่แล้วค่ะ" in chat.text
    assert chat.button_labels[:2] == ["ลืมรหัสผ่าน", "ไม่ใช่บัญชีของฉัน"]
    holder = next(u for u in directory.users() if u.application_reference == "HR-00737")
    for their_data in (holder.uid, holder.display_name, "มีสุข", "Krungthep", "+6689", "4567"):
        assert their_data not in chat.text  # nobody's data, not even the user name


async def test_the_options_say_what_to_do_and_name_no_account(roster: Path, chat: Chat) -> None:
    await play(chat, _up_to_the_national_id())
    await chat.send(staff_id(3))

    await chat.tap("ลืมรหัสผ่าน")
    assert chat.reply_keys == ["apply.has_account.forgot_help"]
    assert "0 2203 2751" in chat.text
    await chat.tap("ไม่ใช่บัญชีของฉัน")
    assert chat.reply_keys == ["apply.has_account.not_me_help"]
    assert "0 2203 2751" in chat.text
    assert "staff" not in chat.text.lower()

    await chat.send("1 1037 00123 45 8")  # a new person's ID: the form goes on
    assert chat.last_key == "apply.ask_mobile"


async def test_a_new_id_passes_and_the_request_is_submitted(roster: Path, chat: Chat) -> None:
    await play(chat, TRANSCRIPTS["staff"])  # NATIONAL_ID is nobody's in the roster
    assert NATIONAL_ID not in _read(roster)

    await chat.tap("ถูกต้อง ส่งคำขอ")

    assert chat.reply_keys == ["apply.submitted"]


async def test_an_account_marked_while_the_form_was_open_stops_the_submission(
    chat: Chat, directory: MemoryDirectory, vault: Vault
) -> None:
    await play(chat, TRANSCRIPTS["staff"])  # at the summary
    account = await directory.create_account(existing(1))
    await import_roster(directory, vault, [f"{NATIONAL_ID},{account.uid}"], dry_run=False)

    await chat.tap("ถูกต้อง ส่งคำขอ")

    assert chat.reply_keys == ["apply.refused.has_account"]
    assert account.uid not in chat.text


async def test_an_unreachable_directory_does_not_block_the_applicant(
    chat: Chat, directory: MemoryDirectory
) -> None:
    directory.available = False
    await play(chat, _up_to_the_national_id())

    await chat.send(NATIONAL_ID)

    assert chat.last_key == "apply.ask_mobile"


async def test_the_roster_ids_are_stored_and_logged_nowhere(
    roster: Path,
    chat: Chat,
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await play(chat, TRANSCRIPTS["staff"])
    await chat.tap("ถูกต้อง ส่งคำขอ")
    ids = [staff_id(number) for number in range(ROSTER_SIZE)]
    _remove(roster)  # the administrator's copy; the question is what bmabot kept

    files = _every_file(tmp_path)  # the SQLite file, the data folder (photos), anything else
    async with sessions() as session:
        rows = [
            str(row) for table in Base.metadata.sorted_tables
            for row in await session.execute(select(table))
        ]  # fmt: skip
    database, said = "\n".join(rows), caplog.text
    assert "A69-00001" in database  # the rows were read
    assert [i for i in ids if i.encode() in files or i in database or i in said] == []
