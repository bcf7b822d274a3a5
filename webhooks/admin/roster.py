"""`bmabot directory import-roster FILE.csv`: mark accounts made before the bot (rule 2.1)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from core.audit import trail as audit
from core.audit.security_log import Event, loggable, security_event
from core.directory.port import DirectoryUnavailableError
from core.directory.roster import describe_report as describe_roster
from core.directory.roster import import_roster
from core.settings import Settings, require_secret_key
from webhooks.admin.arguments import add_command
from webhooks.admin.export import cli_actor
from webhooks.compose import open_services

ACTION = "directory.roster_imported"


def add_directory_parser(commands: Any) -> None:
    directory = add_command(
        commands,
        "directory",
        summary="the account directory (LDAP)",
        description="The account directory (BMABOT_DIRECTORY, LDAP in production).",
        examples=["bmabot directory import-roster roster.csv --dry-run"],
    )
    actions = directory.add_subparsers(dest="action", required=True, metavar="ACTION")
    roster = add_command(
        actions,
        "import-roster",
        summary="mark existing accounts with their person's keyed national-ID digest, from a "
        "CSV of national ID, user name (BMA's HR or registry); the IDs are hashed, never stored",
        description="""
            Mark the accounts made before the bot with their person's keyed national-ID
            digest, from a CSV of national ID, user name (BMA's HR or registry), so that one
            person gets one account (rule 2.1). The IDs are hashed, never stored
            (docs/deploy.md).
        """,
        examples=[
            "bmabot directory import-roster roster.csv --dry-run",
            "bmabot directory import-roster roster.csv",
        ],
    )
    roster.add_argument("file", type=Path, help="the CSV file: national ID, user name")
    roster.add_argument(
        "--dry-run", action="store_true", help="check and count only; write nothing"
    )


async def directory_command(settings: Settings, args: argparse.Namespace) -> int:
    if settings.directory == "memory":
        print("the memory directory lives inside one process: set BMABOT_DIRECTORY=ldap first")
        return 2
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read {args.file}: {type(error).__name__}")
        return 2
    async with open_services(settings, secret_key=require_secret_key(settings)) as services:
        assert services.directory is not None
        try:
            report = await import_roster(
                services.directory, services.vault, text.splitlines(), dry_run=args.dry_run
            )
        except DirectoryUnavailableError:
            print("the directory could not be reached; nothing more was done (safe to run again)")
            return 1
        except csv.Error as error:  # its message names the fault, never a cell
            print(f"{args.file} is not a CSV file ({error}); nothing more was done")
            return 2
        counts = {
            "lines": report.lines,
            "marked": report.marked,
            "unchanged": report.unchanged,
            "problems": len(report.problems),
            "dry_run": report.dry_run,
        }
        async with services.sessions.begin() as session:
            audit.record(
                session, ACTION, actor=cli_actor(), at=services.clock.now(), detail=counts
            )
    security_event(Event.ROSTER_IMPORT, actor=loggable(cli_actor()), **counts)
    print("\n".join(describe_roster(report)))
    return 0 if not report.problems else 1
