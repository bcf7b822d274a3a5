"""`bmabot applications list | show | export`: applications seen from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.flows.apply_form import FORMS
from bot.flows.unit import unit_path_text
from core.clock import thai_date_time
from core.requests.application_records import (
    ApplicationDetails,
    ApplicationListing,
    application_details,
    list_applications,
)
from core.rules.organisation import Organisation
from core.rules.plain_text import escape_hidden
from core.rules.validation import format_mobile
from core.settings import Settings, require_secret_key
from core.storage.models import ApplicationKind, ApplicationStatus
from webhooks.admin.arguments import add_command, positive_int
from webhooks.admin.export import export_command
from webhooks.admin.text_table import table
from webhooks.compose import open_services

HIDDEN_FIELDS = frozenset(
    {"unit_done", "unit_note", "unit_typed", "terms_accepted"}
)  # shown in unit or not
THAI_LEADING_VOWELS = "เแโใไ"  # written before the consonant an initial is made of


def add_applications_parser(commands: Any) -> None:
    applications = add_command(
        commands,
        "applications",
        summary="list, show or export applications",
        description="""
            The requests people filed (account applications, changes of responsible person,
            rights) as the clerks need them: a table, one request in full, or a spreadsheet.
            National IDs are masked unless asked for, and asking is recorded.
        """,
        examples=[
            "bmabot applications list --status pending",
            "bmabot applications show A69-00042",
            "bmabot applications export --format xlsx",
        ],
    )
    actions = applications.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = add_command(
        actions,
        "list",
        summary="a table of applications, newest first",
        description="A table of requests, newest first: reference, kind, status, unit, dates.",
        examples=[
            "bmabot applications list",
            "bmabot applications list --status pending --kind staff --limit 20",
        ],
    )
    listing.add_argument("--status", choices=[status.value for status in ApplicationStatus])
    listing.add_argument("--kind", choices=[kind.value for kind in ApplicationKind])
    listing.add_argument("--limit", type=positive_int, default=50, help="at most this many (50)")
    show = add_command(
        actions,
        "show",
        summary="one application: form, decisions and documents",
        description="""
            One request in full: the answers of the form (the national ID masked), each
            decision with its reviewer, and the documents kept.
        """,
        examples=["bmabot applications show A69-00042"],
    )
    show.add_argument("reference", help="such as A69-00042")
    export = add_command(
        actions,
        "export",
        summary="every application in a spreadsheet file",
        description="""
            Every request in one spreadsheet, a row each, in Thai. National IDs are masked;
            --include-national-id writes them in full and the audit trail records who did.
        """,
        examples=[
            "bmabot applications export --format xlsx",
            "bmabot applications export --format csv --output applications.csv",
        ],
    )
    export.add_argument(
        "--format",
        required=True,
        choices=["csv", "xlsx"],
        dest="file_format",
        help="csv (UTF-8 with a byte order mark: Excel shows the Thai) or xlsx",
    )
    export.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the file to write (default: applications-YYYYMMDD.FORMAT here)",
    )
    export.add_argument(
        "--include-national-id",
        action="store_true",
        help="full national IDs instead of masked ones (recorded in the audit trail)",
    )


async def applications_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "export":
        return await export_command(
            settings,
            file_format=args.file_format,
            output=args.output,
            include_national_id=args.include_national_id,
        )
    key = require_secret_key(settings)
    async with open_services(settings, secret_key=key) as services, services.sessions() as session:
        if args.action == "list":
            found = await list_applications(
                session, status=args.status, kind=args.kind, limit=args.limit
            )
            lines = list_lines(found, services.organisation)
        else:
            details = await application_details(session, services.vault, args.reference)
            if details is None:
                print(f"no application {args.reference}")
                return 1
            lines = show_lines(details, services.organisation)
    # Each line once more: whatever a stored row holds, no ESC or BEL reaches the terminal.
    print("\n".join(escape_hidden(line) for line in lines))
    return 0


def list_lines(found: Sequence[ApplicationListing], organisation: Organisation) -> list[str]:
    rows = [
        [a.reference, a.kind, a.status, _when(a.submitted_at), _unit(organisation, a.form), name]
        for a in found
        for name in (escape_hidden(_name(a.form)),)
    ]
    header = ["REFERENCE", "KIND", "STATUS", "SUBMITTED", "UNIT", "NAME"]
    return [*(table([header, *rows]) if rows else []), f"{len(rows)} application(s)"]


def show_lines(details: ApplicationDetails, organisation: Organisation) -> list[str]:
    lines = [
        f"{details.reference}  {details.kind}  {details.status}  (round {details.round})",
        f"channel    {details.channel} {details.user_id}",
        f"submitted  {_when(details.submitted_at)} (Bangkok time, Buddhist-era years)",
        f"updated    {_when(details.updated_at)}",
        f"consent    {_consent(details)}",
        *(
            [f"reduced    {_when(details.reduced_at)} (personal fields gone)"]
            if details.reduced_at
            else []
        ),
        "form:",
    ]
    # Escaped before the table measures them, so that the columns still line up.
    fields = [(k, escape_hidden(_field(k, details, organisation))) for k in _field_order(details)]
    lines += ["  " + line for line in table([[f"{k}:", v] for k, v in fields])]
    lines.append("decisions:" if details.decisions else "decisions: none")
    for d in details.decisions:
        why = "; ".join(x for x in (d.reason, ",".join(d.items), d.note) if x)
        lines.append(f"  round {d.round}  {_when(d.decided_at)}  {d.outcome:<7} by {d.reviewer}")
        lines += [f"    {why}"] if why else []
    lines.append("documents:" if details.documents else "documents: none")
    for doc in details.documents:
        size = f"{doc.width}x{doc.height}" if doc.width and doc.height else "-"
        deleted = "  (deleted)" if doc.deleted else ""
        lines.append(
            f"  #{doc.id}  {doc.slot:<20} {doc.content_type:<11} {size:<10} "
            f"{_size(doc.size_bytes)}  {_when(doc.created_at)}{deleted}"
        )
    return lines


def _consent(details: ApplicationDetails) -> str:
    if details.terms_version is None or details.terms_accepted_at is None:
        return "none recorded (a request with no terms, or from before consent was kept)"
    version = details.terms_version[:12]
    return f"terms and notice {version} accepted {_when(details.terms_accepted_at)}"


def _field_order(details: ApplicationDetails) -> list[str]:
    asked = [step.value for step in FORMS.get(details.kind, ())]
    keys = [k for k in details.form if k not in HIDDEN_FIELDS]
    if details.masked_national_id is not None:
        keys.append("national_id")
    return sorted(keys, key=lambda k: asked.index(k) if k in asked else len(asked))


def _field(key: str, details: ApplicationDetails, organisation: Organisation) -> str:
    if key == "national_id":
        return details.masked_national_id or ""
    if key == "unit":
        return _unit(organisation, details.form)
    value = details.form.get(key)
    if key == "mobile":
        try:
            return format_mobile(str(value))
        except ValueError:
            pass
    return "" if value is None else str(value)


def _unit(organisation: Organisation, form: Mapping[str, Any]) -> str:
    return escape_hidden(unit_path_text(organisation, form)) or "-"


def _name(form: Mapping[str, Any]) -> str:
    """'สมชาย ใ.' would be odd: Thai initials skip a leading vowel, so 'สมชาย จ.'."""
    first = str(form.get("first_name_th") or "")
    last = str(form.get("last_name_th") or "").lstrip(THAI_LEADING_VOWELS)
    return f"{first} {last[:1]}." if first and last else first or "-"


def _size(size_bytes: int) -> str:
    return f"{size_bytes} B" if size_bytes < 1024 else f"{size_bytes // 1024} KB"


def _when(moment: datetime) -> str:
    return thai_date_time(moment)
