"""The applications spreadsheet: Thai headers and values, written as CSV (for Excel) or xlsx."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from bot.catalog import Catalog
from bot.flows.unit import unit_path_text
from core.clock import BANGKOK, thai_date_time
from core.requests.application_export import ExportRow
from core.rules.organisation import Organisation
from core.rules.plain_text import escape_hidden
from core.rules.validation import format_mobile

Cell = str | datetime | None
# xlsx keeps a real date and time (sortable, filterable); Excel's "bbbb" shows its Buddhist-era
# year. CSV is text: the same words as everywhere else (core.clock.thai_date_time).
XLSX_DATE_FORMAT = "d/m/bbbb hh:mm"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such text
EXCEL_CELL_MAX = 32_767  # characters (UTF-16 code units) a cell holds; Excel repairs longer

# Column id and the catalog key of its Thai header; form columns reuse the question names.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("reference", "export.column.reference"),
    ("submitted_at", "export.column.submitted_at"),
    ("status", "export.column.status"),
    ("decided_at", "export.column.decided_at"),
    ("kind", "apply.field.kind"),
    ("unit", "apply.field.unit"),
    ("position", "apply.field.position"),
    ("title_th", "apply.field.title_th"),
    ("first_name_th", "apply.field.first_name_th"),
    ("last_name_th", "apply.field.last_name_th"),
    ("title_en", "apply.field.title_en"),
    ("first_name_en", "apply.field.first_name_en"),
    ("last_name_en", "apply.field.last_name_en"),
    ("national_id", "apply.field.national_id"),
    ("nationality", "apply.field.nationality"),
    ("mobile", "apply.field.mobile"),
    ("email", "apply.field.email"),
    ("purpose", "apply.field.purpose"),
    ("mailbox_name", "apply.field.mailbox_name"),
    ("responsible_username", "apply.field.responsible_username"),
    ("channel", "export.column.channel"),
)
STATUS_KEYS = {
    "pending": "export.status.pending",
    "returned": "export.status.returned",
    "approved": "export.status.approved",
    "account_created": "export.status.account_created",
    "rejected": "export.status.rejected",
    "expired": "export.status.expired",
    "completed": "export.status.completed",
}


class Sheet(Protocol):
    def append(self, values: Sequence[Cell]) -> None: ...

    def close(self) -> None: ...


def headers(catalog: Catalog) -> list[str]:
    return [catalog.text(key) for _, key in COLUMNS]


def cells(row: ExportRow, catalog: Catalog, organisation: Organisation) -> list[Cell]:
    """One application's values in COLUMNS order; times in Bangkok, without a zone."""
    special: dict[str, Callable[[], Cell]] = {
        "reference": lambda: row.reference,
        "submitted_at": lambda: _local(row.submitted_at),
        "status": lambda: _label(catalog, STATUS_KEYS.get(row.status), row.status),
        "decided_at": lambda: None if row.decided_at is None else _local(row.decided_at),
        "kind": lambda: _label(catalog, f"status.kind.{row.kind}", row.kind),
        "unit": lambda: unit_path_text(organisation, row.form),
        "national_id": lambda: row.national_id,
        "mobile": lambda: _mobile(row.form.get("mobile")),
        "channel": lambda: row.channel,
    }
    return [special[c]() if c in special else _text(row.form.get(c)) for c, _ in COLUMNS]


def open_sheet(path: Path, file_format: str, title: str) -> Sheet:
    """A new file readable by its owner only: it holds names and mobile numbers."""
    handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
    if file_format == "xlsx":
        return XlsxSheet(handle, title)
    return CsvSheet(handle)


class CsvSheet:
    """UTF-8 with a byte order mark: without it Excel reads Thai as Windows-874 gibberish."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._file = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)

    def append(self, values: Sequence[Cell]) -> None:
        self._writer.writerow([_csv_text(value) for value in values])

    def close(self) -> None:
        self._file.close()


class XlsxSheet:
    """openpyxl's write-only mode: rows go out as they come, however many there are."""

    def __init__(self, handle: IO[bytes], title: str) -> None:
        from openpyxl import Workbook  # only an xlsx export pays for importing openpyxl

        self._handle = handle
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)
        self._sheet.freeze_panes = "A2"  # the headers stay in view
        self._rows = 0

    def append(self, values: Sequence[Cell]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        row = []
        for value in values:
            cell = WriteOnlyCell(self._sheet, value=_fitted(_safe(value)))
            if isinstance(value, datetime):
                cell.number_format = XLSX_DATE_FORMAT
            if self._rows == 0:
                cell.font = Font(bold=True)
            row.append(cell)
        self._sheet.append(row)
        self._rows += 1

    def close(self) -> None:
        self._book.save(self._handle)
        self._handle.close()


def _label(catalog: Catalog, key: str | None, code: str) -> str:
    """The Thai word for a status or kind; its code if a newer one has no word yet."""
    return catalog.messages.get(key or "") or code


def _local(moment: datetime) -> datetime:
    return moment.astimezone(BANGKOK).replace(tzinfo=None)


def _mobile(value: Any) -> str:
    try:
        return format_mobile(str(value))
    except ValueError:  # stored before numbers were normalised, or not given
        return _text(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_text(value: Cell) -> str:
    if isinstance(value, datetime):
        return thai_date_time(value.replace(tzinfo=BANGKOK))
    return str(_safe(value) or "")


def _safe(value: Cell) -> Cell:
    """Text shown as stored, never obeyed: hidden characters escaped (openpyxl refuses control
    characters, a bidi override would reorder the cell), and text that a spreadsheet would
    take for a formula kept as text (CSV injection)."""
    if not isinstance(value, str):
        return value
    value = escape_hidden(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _fitted(value: Cell) -> Cell:
    """Text cut to what a cell holds: only an answer stored before the checks is that long."""
    if not isinstance(value, str) or len(value) <= EXCEL_CELL_MAX // 2:
        return value
    units = len(value.encode("utf-16-le")) // 2
    # Each character beyond the BMP takes two units: cut that many more characters.
    return value if units <= EXCEL_CELL_MAX else value[: EXCEL_CELL_MAX - (units - len(value))]
