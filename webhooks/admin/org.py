"""`bmabot org import FILE`: check a new organisation tree, say what changes, install it."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from core.rules.organisation import Organisation, OrganisationError, Unit
from core.rules.organisation_changes import (
    OrganisationChanges,
    all_units,
    applications_in_units,
    compare,
)
from core.settings import Settings
from core.storage.db import make_engine, make_sessions, upgrade_database_async
from webhooks.admin.arguments import add_command
from webhooks.runtime import INSTALLED_ORG_FILE, organisation_file


def add_org_parser(commands: Any) -> None:
    org = add_command(
        commands,
        "org",
        summary="the BMA organisation tree of the affiliation question",
        description="""
            The BMA organisation tree the form's unit question searches (core/rules/
            bma-org.yaml, or the one installed as DATA_DIR/org.yaml or ORG_FILE).
        """,
        examples=["bmabot org import bma-org-2570.yaml --dry-run"],
    )
    actions = org.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = add_command(
        actions,
        "import",
        summary="check a YAML organisation file, report the changes and install it",
        description="""
            Check a new organisation file, report the units added, renamed, moved and
            removed (and the requests filed in removed ones), then install it as
            DATA_DIR/org.yaml, or over ORG_FILE when that is set. Restart the server to use
            it.
        """,
        examples=[
            "bmabot org import bma-org-2570.yaml --dry-run",
            "bmabot org import bma-org-2570.yaml",
        ],
    )
    load.add_argument("file", type=Path, help="same shape as core/rules/bma-org.yaml")
    load.add_argument("--dry-run", action="store_true", help="check and report, install nothing")


async def org_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        new = Organisation.load(args.file)
    except OrganisationError as error:
        print(f"not installed: {error}", file=sys.stderr)
        return 1
    current_file = organisation_file(settings)
    current = _current(current_file)
    changes = compare(current, new)
    affected = await _applications_in(settings, [unit.id for unit in changes.removed])
    print(
        f"{args.file}: valid, {_count(new)} units (in use now: {_count(current)}, "
        f"from {current_file or 'the packaged core/rules/bma-org.yaml'})"
    )
    print("\n".join(report(changes, current, new, affected)))
    if args.dry_run:
        print("dry run: nothing installed")
        return 0
    target = settings.org_file or Path(settings.data_dir) / INSTALLED_ORG_FILE
    try:
        _install(args.file, target)
    except OSError as error:
        print(f"not installed: cannot write {target}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"installed as {target}; restart `bmabot serve` and the workers to use it")
    return 0


def report(
    changes: OrganisationChanges, current: Organisation, new: Organisation, affected: int
) -> list[str]:
    if changes.unchanged:
        return ["no unit added, removed, renamed or moved"]
    lines = [f"added {len(changes.added)}:"] if changes.added else []
    lines += [f"  + {u.id}  {u.name_th}  (under {_parent(new, u)})" for u in changes.added]
    lines += [f"removed {len(changes.removed)}:"] if changes.removed else []
    lines += [f"  - {u.id}  {u.name_th}" for u in changes.removed]
    lines += [f"renamed {len(changes.renamed)}:"] if changes.renamed else []
    lines += [f"  ~ {was.id}  {was.name_th} -> {now.name_th}" for was, now in changes.renamed]
    lines += [f"moved {len(changes.moved)}:"] if changes.moved else []
    lines += [
        f"  > {was.id}  {_parent(current, was)} -> {_parent(new, now)}"
        for was, now in changes.moved
    ]
    if affected:
        lines.append(
            f"note: {affected} application(s) name a removed unit; "
            "their affiliation will show only the units that remain"
        )
    return lines


def _current(path: Path | None) -> Organisation:
    try:
        return Organisation.load(path)
    except OrganisationError as error:  # a broken tree in use is what an import repairs
        print(f"the tree in use does not load ({error}): every unit counts as new")
        return Organisation([])


async def _applications_in(settings: Settings, unit_ids: list[str]) -> int:
    if not unit_ids:
        return 0  # no need to touch the database
    await upgrade_database_async(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessions(engine)() as session:
            return await applications_in_units(session, unit_ids)
    finally:
        await engine.dispose()


def _install(source: Path, target: Path) -> None:
    """Copy beside the target and rename: a server starting now reads the old or the new."""
    if target.exists() and target.resolve() == source.resolve():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.copyfile(target, target.with_name(f"{target.stem}.previous{target.suffix}"))
    part = target.with_name(target.name + ".part")
    shutil.copyfile(source, part)
    os.replace(part, target)


def _parent(organisation: Organisation, unit: Unit) -> str:
    if unit.parent_id is None:
        return "top level"
    return f"{unit.parent_id} {organisation.unit(unit.parent_id).name_th}"


def _count(organisation: Organisation) -> int:
    return sum(1 for _ in all_units(organisation))
