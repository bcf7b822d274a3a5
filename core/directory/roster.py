"""Accounts made before the bot: a roster of (national ID, user name) from BMA's HR marks each
existing directory entry with its person's keyed national-ID digest, so rule 2.1 finds them.

The IDs are hashed as each line is read and never kept, printed or logged: problems are told
by line number and reason only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from core.directory.port import Directory
from core.rules.validation import Invalid, parse_national_id
from core.storage.crypto import Vault


class Problem(StrEnum):
    COLUMNS = "not two columns (national ID, user name)"
    NATIONAL_ID = "national ID invalid (13 digits with a matching check digit)"
    USER_NAME = "user name empty"
    REPEATED_ID = "national ID repeated from an earlier line"
    REPEATED_USER = "user name repeated from an earlier line"
    UNKNOWN_USER = "user name not in the directory"
    OTHER_ACCOUNT = "national ID already marked on another user name"


@dataclass(frozen=True, slots=True)
class RosterLine:
    line: int
    digests: tuple[str, ...]  # the current key's first, then older keys' (a rotation)
    uid: str


@dataclass(frozen=True, slots=True)
class RosterProblem:
    line: int
    problem: Problem


@dataclass(slots=True)
class RosterReport:
    dry_run: bool
    lines: int = 0
    marked: int = 0  # written (or, in a dry run, would be)
    unchanged: int = 0  # the entry carried this digest already
    problems: list[RosterProblem] = field(default_factory=list)


def read_roster(text_lines: Iterable[str], vault: Vault) -> Iterator[RosterLine | RosterProblem]:
    """Each data line as its digests and user name, or its problem; a header line is skipped."""
    seen_ids: dict[str, int] = {}
    seen_users: dict[str, int] = {}
    reader = csv.reader(text_lines, strict=True)  # a malformed file is refused, not guessed
    for row in reader:
        cells = [cell.strip() for cell in row]
        if not any(cells) or (reader.line_num == 1 and not any(c.isdigit() for c in cells[0])):
            continue
        yield _read_line(reader.line_num, cells, vault, seen_ids, seen_users)


def _read_line(
    line: int, cells: list[str], vault: Vault, seen_ids: dict[str, int], seen: dict[str, int]
) -> RosterLine | RosterProblem:
    if len(cells) != 2:
        return RosterProblem(line, Problem.COLUMNS)
    national_id, uid = parse_national_id(cells[0]), cells[1].lower()
    if isinstance(national_id, Invalid):
        return RosterProblem(line, Problem.NATIONAL_ID)
    if not uid:
        return RosterProblem(line, Problem.USER_NAME)
    digests = tuple(vault.national_id_digests(national_id))
    if digests[0] in seen_ids:
        return RosterProblem(line, Problem.REPEATED_ID)
    if uid in seen:
        return RosterProblem(line, Problem.REPEATED_USER)
    seen_ids[digests[0]], seen[uid] = line, line
    return RosterLine(line, digests, uid)


async def import_roster(
    directory: Directory, vault: Vault, text_lines: Iterable[str], *, dry_run: bool
) -> RosterReport:
    """Mark every listed entry; safe to run again (a marked entry counts as unchanged).

    DirectoryUnavailableError stops the import where it is: running it again continues.
    """
    report = RosterReport(dry_run)
    for item in read_roster(text_lines, vault):
        report.lines += 1
        if isinstance(item, RosterProblem):
            report.problems.append(item)
            continue
        await _mark(directory, item, report)
    return report


async def _mark(directory: Directory, item: RosterLine, report: RosterReport) -> None:
    if await directory.find_user(item.uid) is None:
        report.problems.append(RosterProblem(item.line, Problem.UNKNOWN_USER))
        return
    holder = await directory.find_by_national_id_digest(item.digests)
    if holder is not None and holder.uid != item.uid:
        report.problems.append(RosterProblem(item.line, Problem.OTHER_ACCOUNT))
        return
    current = await directory.find_by_national_id_digest(item.digests[:1])
    if current is not None:
        report.unchanged += 1
        return
    if not report.dry_run:
        await directory.set_national_id_digest(item.uid, item.digests[0])
    report.marked += 1


def describe_report(report: RosterReport) -> list[str]:
    """The report an administrator reads: counts, then problems by line number (never an ID)."""
    verb = "would be marked" if report.dry_run else "marked"
    lines = [
        f"{report.lines} line(s) read: {report.marked} {verb}, {report.unchanged} already "
        f"marked, {len(report.problems)} with a problem"
    ]
    lines += [f"  line {p.line}: {p.problem.value}" for p in report.problems]
    if report.dry_run:
        lines.append("dry run: nothing was written to the directory")
    return lines
