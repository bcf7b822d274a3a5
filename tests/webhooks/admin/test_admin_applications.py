"""`bmabot applications list | show | export`: what an administrator sees and hands on."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.catalog import Catalog
from core.clock import ManualClock
from core.storage.crypto import Vault
from core.storage.models import ApplicationStatus, AuditEvent
from tests.webhooks.admin_world import (
    AGENCY_FORM,
    SOMCHAI,
    SOMSRI,
    SOMSRI_FORM,
    Sessions,
    admin,
    bmabot,
    decide_now,
    id_card_photo,
    submit,
)
from webhooks.admin.export import NATIONAL_ID_EXPORTED
from webhooks.admin.spreadsheet import EXCEL_CELL_MAX, STATUS_KEYS
from webhooks.cli import main

__all__ = ["admin"]

UTF8_BOM = b"\xef\xbb\xbf"
SOMCHAI_MASKED = "x-xxxx-xxxxx-45-8"
SOMCHAI_FULL = "1-1037-00123-45-8"


@pytest.fixture
async def two_people(sessions: Sessions, vault: Vault, clock: ManualClock) -> list[str]:
    """Somchai (staff), then an hour later a unit mailbox; their references, oldest first."""
    staff = await submit(sessions, vault, clock)
    clock.advance(hours=1)
    agency = await submit(sessions, vault, clock, kind="agency", fields=AGENCY_FORM, user_id="U2")
    return [staff.reference, agency.reference]


async def test_list_shows_applications_newest_first(
    admin: Path, two_people: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("applications", "list") == 0

    out = capsys.readouterr().out
    staff, agency = two_people
    assert out.index(agency) < out.index(staff)
    assert "สำนักงานเขตบางรัก" in out
    assert "สมชาย จ." in out  # the last name only as an initial
    assert "2 application(s)" in out


async def test_list_filters_by_status_and_kind(
    admin: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    somchai = await submit(sessions, vault, clock)
    somsri = await submit(sessions, vault, clock, fields=SOMSRI_FORM, national_id=SOMSRI)
    await decide_now(sessions, clock, somsri.application_id, "reject", reason="not_staff")

    assert await bmabot("applications", "list", "--status", "rejected", "--kind", "staff") == 0

    out = capsys.readouterr().out
    assert somsri.reference in out
    assert somchai.reference not in out


async def test_show_has_the_form_with_a_masked_id_decisions_and_documents(
    admin: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    photo = await id_card_photo(sessions, vault, clock, admin)
    submitted = await submit(sessions, vault, clock, documents={"id_card": photo})
    clock.advance(hours=3)
    await decide_now(sessions, clock, submitted.application_id, "return", items=["mobile"])

    assert await bmabot("applications", "show", submitted.reference.lower()) == 0

    out = capsys.readouterr().out
    assert f"{submitted.reference}  staff  returned" in out
    assert SOMCHAI_MASKED in out
    assert SOMCHAI not in out
    assert "081-234-5678" in out
    assert "round 1  25/11/2569 13:00 น.  return  by line:R1" in out
    assert f"#{photo}  id_card" in out
    assert "1200x800" in out


async def test_show_of_an_unknown_reference_exits_1(
    admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("applications", "show", "A69-99999") == 1
    assert "no application A69-99999" in capsys.readouterr().out


async def test_csv_starts_with_a_byte_order_mark_and_keeps_thai(
    admin: Path, two_people: list[str], tmp_path: Path
) -> None:
    output = tmp_path / "applications.csv"

    assert await bmabot("applications", "export", "--format", "csv", "--output", str(output)) == 0

    raw = output.read_bytes()
    assert raw.startswith(UTF8_BOM)
    header, staff, agency = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header[:3] == ["เลขที่คำขอ", "วันที่ยื่น (เวลาไทย)", "สถานะ"]
    assert [staff[0], staff[1], staff[2]] == [two_people[0], "25/11/2569 10:00 น.", "รอตรวจสอบ"]
    assert "สมชาย" in staff
    assert "บัญชีของหน่วยงาน" in agency


async def test_export_masks_national_ids_and_audits_nothing_by_default(
    admin: Path, two_people: list[str], sessions: Sessions, tmp_path: Path
) -> None:
    output = tmp_path / "applications.csv"

    assert await bmabot("applications", "export", "--format", "csv", "--output", str(output)) == 0

    text = output.read_text(encoding="utf-8-sig")
    staff, agency = list(csv.DictReader(io.StringIO(text)))
    assert staff["เลขประจำตัวประชาชน"] == SOMCHAI_MASKED
    assert agency["เลขประจำตัวประชาชน"] == ""  # a unit mailbox has no national ID
    assert SOMCHAI not in text
    assert await audit_events(sessions) == []


async def test_export_with_full_national_ids_records_who_and_how_many(
    admin: Path, two_people: list[str], sessions: Sessions, tmp_path: Path
) -> None:
    output = tmp_path / "applications.csv"

    exported = await bmabot(
        "applications", "export", "--format", "csv", f"--output={output}", "--include-national-id"
    )

    assert exported == 0
    staff = next(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    assert staff["เลขประจำตัวประชาชน"] == SOMCHAI_FULL
    (event,) = await audit_events(sessions)
    assert event.actor.startswith("cli:")
    assert event.detail == {"count": 2, "format": "csv"}


async def test_every_export_is_one_line_in_the_security_log(
    admin: Path,
    two_people: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    output = tmp_path / "applications.csv"
    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        assert await bmabot("applications", "export", "--format", "csv", f"--output={output}") == 0

    (line,) = [r.getMessage() for r in caplog.records if r.name == "bmabot.security"]
    assert line.startswith("security event=export what=applications rows=2 national_ids=masked")


async def test_xlsx_opens_in_openpyxl_with_thai_and_real_dates(
    admin: Path, two_people: list[str], tmp_path: Path
) -> None:
    output = tmp_path / "applications.xlsx"

    assert await bmabot("applications", "export", "--format", "xlsx", "--output", str(output)) == 0

    sheet = load_workbook(output, read_only=True)["คำขอบัญชี"]
    header, staff, _agency = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[0] == "เลขที่คำขอ"
    assert staff[:2] == [two_people[0], datetime(2026, 11, 25, 10, 0)]
    assert "สมชาย" in staff
    assert SOMCHAI_MASKED in staff


async def test_xlsx_shows_its_dates_with_the_buddhist_era_year(
    admin: Path, two_people: list[str], tmp_path: Path
) -> None:
    output = tmp_path / "applications.xlsx"

    assert await bmabot("applications", "export", "--format", "xlsx", "--output", str(output)) == 0

    submitted = load_workbook(output)["คำขอบัญชี"]["B2"]
    assert submitted.is_date  # sortable and filterable as a date in Excel
    assert submitted.number_format == "d/m/bbbb hh:mm"  # Excel's bbbb: the year + 543


async def test_text_that_looks_like_a_formula_stays_text(
    admin: Path, sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    trap = '=HYPERLINK("http://example.invalid","click")'
    await submit(sessions, vault, clock, fields={**SOMSRI_FORM, "position": trap})
    output = tmp_path / "applications.xlsx"

    assert await bmabot("applications", "export", "--format", "xlsx", "--output", str(output)) == 0

    rows = list(load_workbook(output).active.iter_rows(values_only=True))
    assert "'" + trap in rows[1]


# A row stored before answers were checked (issue 15's probe): escapes, bidi, HTML, a bare mark.
HOSTILE_FORM = {
    **SOMSRI_FORM,
    "position": "\x07\x1b[31mred",
    "nationality": "<script>alert(1)</script>",
    "first_name_th": "สม\u202eศรี",
    "title_th": "\u0e48",
    "unit_note": "ฝ่าย\x1b]0;owned\x07",
}
RAW_CONTROLS = ("\x07", "\x1b", "\u202e")


async def test_xlsx_export_succeeds_over_a_stored_row_with_control_characters(
    admin: Path, sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    await submit(sessions, vault, clock)
    await submit(sessions, vault, clock, fields=HOSTILE_FORM, national_id=SOMSRI, user_id="U2")
    output = tmp_path / "applications.xlsx"

    assert await bmabot("applications", "export", "--format", "xlsx", "--output", str(output)) == 0

    _header, somchai, hostile = list(load_workbook(output).active.iter_rows(values_only=True))
    assert "สมชาย" in somchai  # everyone else's row is there as before
    assert "\\x07\\x1b[31mred" in hostile  # shown as escapes, not obeyed
    assert "สม\\u202eศรี" in hostile
    assert "<script>alert(1)</script>" in hostile  # a spreadsheet cell is plain text


async def test_csv_export_shows_a_stored_row_escaped(
    admin: Path, sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    await submit(sessions, vault, clock, fields=HOSTILE_FORM, national_id=SOMSRI)
    output = tmp_path / "applications.csv"

    assert await bmabot("applications", "export", "--format", "csv", "--output", str(output)) == 0

    text = output.read_text(encoding="utf-8-sig")
    assert not any(control in text for control in RAW_CONTROLS)
    hostile = next(csv.DictReader(io.StringIO(text)))
    assert hostile["ตำแหน่ง"] == "\\x07\\x1b[31mred"


async def test_xlsx_export_cuts_a_stored_answer_longer_than_a_cell_holds(
    admin: Path, sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    fields = {**SOMSRI_FORM, "position": "ก" * 40_000, "nationality": "😀" * 20_000}
    await submit(sessions, vault, clock, fields=fields, national_id=SOMSRI)
    output = tmp_path / "applications.xlsx"

    assert await bmabot("applications", "export", "--format", "xlsx", "--output", str(output)) == 0

    _header, row = list(load_workbook(output).active.iter_rows(values_only=True))
    assert "ก" * EXCEL_CELL_MAX in row
    emoji = next(cell for cell in row if isinstance(cell, str) and cell.startswith("😀"))
    assert len(emoji.encode("utf-16-le")) // 2 <= EXCEL_CELL_MAX


async def test_show_prints_a_stored_row_escaped_never_its_terminal_controls(
    admin: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    submitted = await submit(sessions, vault, clock, fields=HOSTILE_FORM, national_id=SOMSRI)
    await decide_now(sessions, clock, submitted.application_id, "reject", reason="\x1b[2Jgone")

    assert await bmabot("applications", "show", submitted.reference) == 0

    out = capsys.readouterr().out
    assert not any(control in out for control in RAW_CONTROLS)
    assert re.search(r"position: +\\x07\\x1b\[31mred\n", out)
    assert "\\x1b[2Jgone" in out
    assert "ฝ่าย\\x1b]0;owned\\x07" in out


async def test_list_prints_a_stored_name_escaped(
    admin: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await submit(sessions, vault, clock, fields=HOSTILE_FORM, national_id=SOMSRI)

    assert await bmabot("applications", "list") == 0

    out = capsys.readouterr().out
    assert not any(control in out for control in RAW_CONTROLS)
    assert "สม\\u202eศรี ร." in out


async def test_export_names_its_file_by_date_when_no_output_is_given(
    admin: Path, two_people: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("applications", "export", "--format", "csv") == 0

    written = list(admin.parent.glob("applications-*.csv"))
    assert len(written) == 1
    assert f"wrote 2 application(s) to {written[0].name}" in capsys.readouterr().out


async def test_export_to_a_missing_folder_exits_1_and_leaves_nothing(
    admin: Path, two_people: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "no-such-folder" / "applications.csv"

    assert await bmabot("applications", "export", "--format", "csv", f"--output={output}") == 1

    assert f"cannot write {output}" in capsys.readouterr().err
    assert not output.parent.exists()


def test_export_without_a_known_format_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["applications", "export", "--format", "pdf"])
    assert exit_info.value.code == 2


def test_every_status_has_a_thai_word_in_the_spreadsheet() -> None:
    messages = Catalog.load().messages
    missing = [status for status in ApplicationStatus if not messages.get(STATUS_KEYS[status])]
    assert missing == []


async def audit_events(sessions: Sessions) -> list[AuditEvent]:
    async with sessions() as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == NATIONAL_ID_EXPORTED)
        )
        return list(found)
