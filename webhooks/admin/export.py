"""`bmabot applications export`: every application in a CSV or xlsx file for the clerks."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path

from tqdm import tqdm

from bot.handlers.services import Services
from core.audit import trail as audit
from core.audit.security_log import Event, loggable, security_event
from core.clock import BANGKOK
from core.requests.application_export import count_applications, export_rows
from core.settings import Settings, require_secret_key
from webhooks.admin.spreadsheet import cells, headers, open_sheet
from webhooks.compose import open_services

NATIONAL_ID_EXPORTED = "applications.exported_with_national_id"


def cli_actor() -> str:
    """Who runs this command, as the audit trail names them: 'cli:<login>'."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in this environment (some containers)
        return "cli:unknown"


async def export_command(
    settings: Settings, *, file_format: str, output: Path | None, include_national_id: bool
) -> int:
    async with open_services(settings, secret_key=require_secret_key(settings)) as services:
        today = services.clock.now().astimezone(BANGKOK)
        target = output or Path(f"applications-{today:%Y%m%d}.{file_format}")
        part = target.with_name(target.name + ".part")
        try:
            written = await _write(services, part, file_format, include_national_id)
        except OSError as error:
            part.unlink(missing_ok=True)
            print(f"cannot write {target}: {error.strerror or error}", file=sys.stderr)
            return 1
        except BaseException:
            part.unlink(missing_ok=True)  # no half-written file of personal data stays behind
            raise
        if include_national_id:
            # Recorded before the file takes its name: no file of full IDs without its trace.
            await _record_export(services, written, file_format)
        os.replace(part, target)
    security_event(
        Event.EXPORT,
        level=logging.INFO,
        what="applications",
        rows=written,
        national_ids="full" if include_national_id else "masked",
        by=loggable(cli_actor()),
    )
    shown = "full national IDs" if include_national_id else "national IDs masked"
    print(f"wrote {written} application(s) to {target} ({shown})")
    return 0


async def _write(
    services: Services, path: Path, file_format: str, include_national_id: bool
) -> int:
    catalog, organisation = services.catalog, services.organisation
    sheet = open_sheet(path, file_format, catalog.text("export.sheet_title"))
    written = 0
    try:
        sheet.append(headers(catalog))
        async with services.sessions() as session:
            total = await count_applications(session)
            rows = export_rows(session, services.vault, reveal_national_id=include_national_id)
            with tqdm(total=total, file=sys.stderr, unit=" applications", disable=None) as bar:
                async for row in rows:
                    sheet.append(cells(row, catalog, organisation))
                    written += 1
                    bar.update()
    finally:
        sheet.close()
    return written


async def _record_export(services: Services, count: int, file_format: str) -> None:
    async with services.sessions.begin() as session:
        audit.record(
            session,
            NATIONAL_ID_EXPORTED,
            actor=cli_actor(),
            at=services.clock.now(),
            detail={"count": count, "format": file_format},  # a number, never an ID
        )
