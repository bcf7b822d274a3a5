"""`bmabot privacy purge | export | erase`: the retention run now, and data-subject requests.

What these print names requests by reference and counts: never a name or a national ID. A
national ID is typed at a hidden prompt, never given on the command line (shell history,
the process list).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from core.audit import trail as audit
from core.audit.security_log import Event, security_event
from core.requests.retention import purge
from core.requests.subject_requests import erase_person, export_person, find_person
from core.rules.validation import parse_national_id
from core.settings import Settings, require_secret_key
from webhooks.admin.arguments import add_command
from webhooks.admin.export import cli_actor
from webhooks.compose import open_services


def add_privacy_parser(commands: Any) -> None:
    privacy = add_command(
        commands,
        "privacy",
        summary="the retention run now, and people's requests for their data (PDPA)",
        description="""
            The PDPA side: apply the retention periods now (the worker does it every
            morning), and answer a person's request to see or erase what is held about
            them. A national ID is asked at a hidden prompt, never typed on the command line.
        """,
        examples=[
            "bmabot privacy purge",
            "bmabot privacy export --ref A69-00042 --out somchai-data",
            "bmabot privacy erase --national-id",
        ],
    )
    actions = privacy.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_command(
        actions,
        "purge",
        summary="delete what the retention settings no longer keep",
        description="""
            Delete the photos past BMABOT_DOCUMENT_RETENTION_DAYS and reduce the requests
            past BMABOT_RECORD_RETENTION_DAYS to their minimal record, now; prints counts
            and references.
        """,
        examples=["bmabot privacy purge"],
    )
    for action, help_text, description, examples in (
        (
            "export",
            "everything held about one person, as JSON plus the photos",
            "Write everything held about one person into a new folder: their requests as "
            "JSON and the decrypted photos. The export is recorded in the audit trail.",
            (
                "bmabot privacy export --ref A69-00042 --out somchai-data",
                "bmabot privacy export --national-id --out somchai-data",
            ),
        ),
        (
            "erase",
            "erase one person's data, keeping the minimal record the law requires",
            "Erase what may be erased of one person's requests, keeping the minimal record "
            "(reference, kind, unit, status, dates, decisions, consent). A request still "
            "being decided is left for the clerk to decide first.",
            ("bmabot privacy erase --ref A69-00042", "bmabot privacy erase --national-id"),
        ),
    ):
        sub = add_command(
            actions,
            action,
            summary=help_text,
            description=description,
            examples=examples,
        )
        who = sub.add_mutually_exclusive_group(required=True)
        who.add_argument("--ref", help="a request reference, such as A69-00042")
        who.add_argument(
            "--national-id",
            action="store_true",
            help="ask for the person's national ID at a hidden prompt",
        )
        if action == "export":
            sub.add_argument("--out", type=Path, required=True, metavar="DIR", help="new folder")


async def privacy_command(settings: Settings, args: argparse.Namespace) -> int:
    key = require_secret_key(settings)
    if args.action == "purge":
        return await _purge(settings, key)
    national_id = None
    if args.national_id:
        typed = parse_national_id(getpass.getpass("National ID (not shown): "))
        if not isinstance(typed, str):
            print("not a national ID: 13 digits, such as 1-1037-00123-45-8", file=sys.stderr)
            return 2
        national_id = typed
    if args.action == "export":
        return await _export(settings, key, args.ref, national_id, args.out)
    return await _erase(settings, key, args.ref, national_id)


async def _purge(settings: Settings, key: str) -> int:
    async with (
        open_services(settings, secret_key=key) as services,
        services.sessions.begin() as session,
    ):
        purged = await purge(session, services.documents, services.retention, services.clock.now())
    print(
        f"photos deleted: {purged.documents} of {len(purged.documents_of)} request(s)"
        + "".join(f" {reference}" for reference in purged.documents_of)
    )
    print(f"files of earlier deleted photos removed: {purged.files}")
    print(f"one-time mobile codes and lock counters removed: {purged.mobile_codes}")
    print(
        f"requests reduced to the minimal record: {len(purged.reduced)}"
        + "".join(f" {reference}" for reference in purged.reduced)
    )
    security_event(
        Event.PRIVACY_REQUEST,
        right="retention",
        photos=purged.documents,
        reduced=len(purged.reduced),
    )
    return 0


async def _export(
    settings: Settings, key: str, reference: str | None, national_id: str | None, out: Path
) -> int:
    if not _fresh(out):
        print(f"{out} is not empty: name a new folder", file=sys.stderr)
        return 2
    async with (
        open_services(settings, secret_key=key) as services,
        services.sessions.begin() as session,
    ):
        found = await find_person(
            session, services.vault, reference=reference, national_id=national_id
        )
        if not found:
            print("nothing is held about this person")
            return 1
        held = await export_person(session, services.vault, services.documents, found)
        for application in found:
            audit.record(
                session,
                "privacy.exported",
                actor=cli_actor(),
                at=services.clock.now(),
                application_id=application.id,
                detail={"photos": len(held.photos)},
            )
    _write(out, held.records, {photo.filename: photo.content for photo in held.photos})
    logged = "+".join(held.references)  # the security log's tokens hold no comma
    security_event(Event.EXPORT, what="subject_data", refs=logged, photos=len(held.photos))
    security_event(Event.PRIVACY_REQUEST, right="access", refs=logged)
    references = ",".join(held.references)
    print(f"{len(held.references)} request(s) {references} and {len(held.photos)} photo(s)")
    print(f"written to {out} (decrypted: hand it over securely, then delete it)")
    return 0


async def _erase(
    settings: Settings, key: str, reference: str | None, national_id: str | None
) -> int:
    async with (
        open_services(settings, secret_key=key) as services,
        services.sessions.begin() as session,
    ):
        found = await find_person(
            session, services.vault, reference=reference, national_id=national_id
        )
        if not found:
            print("nothing is held about this person")
            return 1
        erased = await erase_person(
            session,
            services.vault,
            services.documents,
            found,
            actor=cli_actor(),
            now=services.clock.now(),
        )
    done = ",".join(erased.references) or "-"
    logged = "+".join(erased.references) or "-"
    security_event(Event.PRIVACY_REQUEST, right="erasure", refs=logged, photos=erased.documents)
    print(f"erased: {done} ({erased.documents} photo(s)); each keeps its minimal record")
    if erased.in_progress:
        print(
            f"not erased, still being decided: {','.join(erased.in_progress)} "
            "(decide them first, then erase again)"
        )
        return 1
    return 0


def _fresh(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def _write(out: Path, records: dict[str, Any], photos: dict[str, bytes]) -> None:
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = {"person.json": json.dumps(records, ensure_ascii=False, indent=2).encode()}
    for name, content in {**files, **photos}.items():
        descriptor = os.open(out / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
