"""`bmabot directory import-roster FILE.csv` on the real slapd: a dry run, then the import; a
report by line number, an audit row and a security-log line, and no ID anywhere in them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from core.directory.port import AccountRequest
from core.rules.validation import national_id_check_digit
from core.storage.crypto import Vault
from core.storage.models import ApplicationKind, AuditEvent
from tests.core.directory.test_directory_contract import LdapHarness, slapd
from tests.webhooks.admin_world import Sessions, admin, bmabot

__all__ = ["admin", "slapd"]

PEOPLE = 20


def staff_id(number: int) -> str:
    first12 = f"32{number:010d}"
    return first12 + national_id_check_digit(first12)


def made_before_the_bot(number: int) -> AccountRequest:
    name = "abcdefghijklmnopqrstuvwxyz"[number]
    return AccountRequest(
        application_reference=f"HR-{number}",
        kind=ApplicationKind.STAFF,
        first_name_en=f"Staff{name}",
        last_name_en="Krungthep",
        first_name_th="มานี",
        last_name_th="มีสุข",
        display_name_th="นางสาวมานี มีสุข",
        mobile_e164="+66891234567",
        position="นักจัดการงานทั่วไป",
        unit="สำนักงานเขตพระนคร",
    )


@pytest.fixture
async def ldap(slapd: dict[str, str], admin: Path, monkeypatch: pytest.MonkeyPatch) -> LdapHarness:
    """bmabot pointed at its own organisational unit on the throwaway slapd."""
    harness = LdapHarness(slapd)
    for name, value in {
        "BMABOT_DIRECTORY": "ldap",
        "BMABOT_LDAP_URL": slapd["LDAP_URL"],
        "BMABOT_LDAP_BIND_DN": slapd["LDAP_BIND_DN"],
        "BMABOT_LDAP_PASSWORD": slapd["LDAP_BIND_PASSWORD"],
        "BMABOT_LDAP_USERS_DN": harness.users_dn,
    }.items():
        monkeypatch.setenv(name, value)
    return harness


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_dry_run_then_import_marks_the_entries_and_tells_problems_by_line(
    ldap: LdapHarness,
    tmp_path: Path,
    sessions: Sessions,
    vault: Vault,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    uids = [
        (await ldap.directory.create_account(made_before_the_bot(n))).uid for n in range(PEOPLE)
    ]
    lines = ["national_id,user_name", *(f"{staff_id(n)},{uid}" for n, uid in enumerate(uids))]
    lines += [f"{staff_id(PEOPLE)[:-1]}0,staffz.k", f"{staff_id(PEOPLE + 1)},nobody.here"]
    roster = write(tmp_path / "roster.csv", lines)
    assert staff_id(PEOPLE)[-1] != "0"  # line 22 has a wrong check digit

    assert await bmabot("directory", "import-roster", str(roster), "--dry-run") == 1
    dry = capsys.readouterr().out
    assert f"22 line(s) read: {PEOPLE} would be marked, 0 already marked, 2 with a problem" in dry
    assert (
        await ldap.directory.find_by_national_id_digest([vault.national_id_digest(staff_id(0))])
        is None
    )

    assert await bmabot("directory", "import-roster", str(roster)) == 1

    said = capsys.readouterr().out
    assert f"22 line(s) read: {PEOPLE} marked, 0 already marked, 2 with a problem" in said
    assert "line 22: national ID invalid" in said
    assert "line 23: user name not in the directory" in said
    for n, uid in enumerate(uids):
        found = await ldap.directory.find_by_national_id_digest(
            [vault.national_id_digest(staff_id(n))]
        )
        assert found is not None
        assert found.uid == uid
    async with sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "directory.roster_imported")
            )
        )
    assert [a["dry_run"] for a in audited] == [True, False]
    security = [r.getMessage() for r in caplog.records if r.name == "bmabot.security"]
    assert any("event=roster_import" in line and f"marked={PEOPLE}" in line for line in security)
    every_id = [staff_id(n) for n in range(PEOPLE + 2)]
    shown = dry + said + caplog.text + str(audited)
    assert [i for i in every_id if i in shown] == []


async def test_the_memory_directory_is_refused(
    admin: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BMABOT_DIRECTORY", "memory")
    roster = write(tmp_path / "roster.csv", [f"{staff_id(1)},somchai.j"])

    assert await bmabot("directory", "import-roster", str(roster)) == 2

    assert "BMABOT_DIRECTORY=ldap" in capsys.readouterr().out


async def test_a_file_that_is_not_csv_is_refused_plainly(
    ldap: LdapHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = write(tmp_path / "roster.csv", [f'"{staff_id(1)}"x,somchai.j'])

    assert await bmabot("directory", "import-roster", str(roster)) == 2

    said = capsys.readouterr().out
    assert "is not a CSV file" in said
    assert staff_id(1) not in said
