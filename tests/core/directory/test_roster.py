"""Importing HR's roster of (national ID, user name): each line checked, hashed on reading,
written onto its existing entry; problems told by line number, never by ID."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.directory.port import AccountRequest, MemoryDirectory
from core.directory.roster import Problem, describe_report, import_roster
from core.rules.validation import national_id_check_digit
from core.storage.crypto import SecretKeys, Vault
from core.storage.models import ApplicationKind

SOMCHAI_ID, MALEE_ID = "1103700123458", "3100600987659"
OTHER_ID = "110370012346" + national_id_check_digit("110370012346")
PERSON = AccountRequest(
    application_reference="HR-1",
    kind=ApplicationKind.STAFF,
    first_name_en="Somchai",
    last_name_en="Jaidee",
    first_name_th="สมชาย",
    last_name_th="ใจดี",
    display_name_th="นายสมชาย ใจดี",
    mobile_e164="+66812345678",
    position="นักวิชาการ",
    unit="กองระบบคอมพิวเตอร์",
)


@pytest.fixture
async def directory() -> MemoryDirectory:
    """Two accounts made before the bot: somchai.j and malee.s, neither marked yet."""
    directory = MemoryDirectory()
    await directory.create_account(PERSON)
    malee = replace(PERSON, application_reference="HR-2", first_name_en="Malee", last_name_en="S")
    await directory.create_account(malee)
    return directory


def with_typo(national_id: str) -> str:
    last = str((int(national_id[-1]) + 1) % 10)
    return national_id[:-1] + last


async def test_each_line_marks_its_entry_and_the_id_finds_it(
    directory: MemoryDirectory, vault: Vault
) -> None:
    lines = ["เลขประจำตัวประชาชน,ชื่อผู้ใช้", f"{SOMCHAI_ID},somchai.j", "๓ ๑๐๐๖ ๐๐๙๘๗ ๖๕ ๙,Malee.S"]

    report = await import_roster(directory, vault, lines, dry_run=False)

    assert (report.lines, report.marked, report.unchanged, report.problems) == (2, 2, 0, [])
    for national_id, uid in ((SOMCHAI_ID, "somchai.j"), (MALEE_ID, "malee.s")):
        found = await directory.find_by_national_id_digest([vault.national_id_digest(national_id)])
        assert found is not None
        assert found.uid == uid


async def test_problems_are_told_by_line_number_and_nothing_wrong_is_written(
    directory: MemoryDirectory, vault: Vault
) -> None:
    lines = [
        f"{with_typo(SOMCHAI_ID)},somchai.j",  # 1: a typo in the ID
        f"{SOMCHAI_ID}",  # 2: one column
        f"{OTHER_ID},nobody.here",  # 3: no such entry
        f"{MALEE_ID},malee.s",  # 4: good
        f"{MALEE_ID},somchai.j",  # 5: the same ID again
        f"{SOMCHAI_ID},malee.s",  # 6: the same user name again
        f"{SOMCHAI_ID},",  # 7: no user name
    ]

    report = await import_roster(directory, vault, lines, dry_run=False)

    assert [(p.line, p.problem) for p in report.problems] == [
        (1, Problem.NATIONAL_ID),
        (2, Problem.COLUMNS),
        (3, Problem.UNKNOWN_USER),
        (5, Problem.REPEATED_ID),
        (6, Problem.REPEATED_USER),
        (7, Problem.USER_NAME),
    ]
    assert report.marked == 1
    said = "\n".join(describe_report(report))
    assert "line 1: national ID invalid" in said
    assert "line 3: user name not in the directory" in said
    assert SOMCHAI_ID not in said
    assert with_typo(SOMCHAI_ID) not in said
    assert MALEE_ID not in said
    assert OTHER_ID not in said


async def test_an_id_already_on_another_entry_is_not_moved(
    directory: MemoryDirectory, vault: Vault
) -> None:
    await import_roster(directory, vault, [f"{SOMCHAI_ID},somchai.j"], dry_run=False)

    report = await import_roster(directory, vault, [f"{SOMCHAI_ID},malee.s"], dry_run=False)

    assert [(p.line, p.problem) for p in report.problems] == [(1, Problem.OTHER_ACCOUNT)]
    found = await directory.find_by_national_id_digest([vault.national_id_digest(SOMCHAI_ID)])
    assert found is not None
    assert found.uid == "somchai.j"


async def test_a_dry_run_counts_and_writes_nothing(
    directory: MemoryDirectory, vault: Vault
) -> None:
    report = await import_roster(directory, vault, [f"{SOMCHAI_ID},somchai.j"], dry_run=True)

    assert (report.marked, report.problems) == (1, [])
    assert describe_report(report)[-1] == "dry run: nothing was written to the directory"
    assert (
        await directory.find_by_national_id_digest([vault.national_id_digest(SOMCHAI_ID)]) is None
    )


async def test_running_again_changes_nothing(directory: MemoryDirectory, vault: Vault) -> None:
    lines = [f"{SOMCHAI_ID},somchai.j", f"{MALEE_ID},malee.s"]
    await import_roster(directory, vault, lines, dry_run=False)

    again = await import_roster(directory, vault, lines, dry_run=False)

    assert (again.marked, again.unchanged, again.problems) == (0, 2, [])


async def test_a_roster_from_before_a_key_rotation_is_marked_under_the_new_key(
    directory: MemoryDirectory,
) -> None:
    old = Vault(SecretKeys("the-old-secret-key-of-the-roster-0123456789abcdef"))
    await import_roster(directory, old, [f"{SOMCHAI_ID},somchai.j"], dry_run=False)
    rotated = Vault(
        SecretKeys(
            "the-new-secret-key-of-the-roster-0123456789abcdef",
            version=2,
            old={1: "the-old-secret-key-of-the-roster-0123456789abcdef"},
        )
    )

    report = await import_roster(directory, rotated, [f"{SOMCHAI_ID},somchai.j"], dry_run=False)

    assert (report.marked, report.problems) == (1, [])
    digest = rotated.national_id_digest(SOMCHAI_ID)
    found = await directory.find_by_national_id_digest([digest])
    assert found is not None
    assert found.uid == "somchai.j"


def test_the_check_digit_function_makes_ids_the_roster_accepts() -> None:
    first12 = "310060098765"
    assert first12 + national_id_check_digit(first12) == MALEE_ID
