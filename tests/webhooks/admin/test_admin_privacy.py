"""`bmabot privacy purge | export | erase` from the command line: what the clerk sees, what
is written, and what the audit trail and the security log keep."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.catalog import Catalog
from bot.flows.apply_form import terms_version
from core.clock import ManualClock
from core.requests.applications import ApplicationForm, Consent, submit_application
from core.storage.crypto import Vault
from core.storage.models import Application, AuditEvent
from tests.webhooks.admin_world import (
    SOMCHAI,
    SOMCHAI_FORM,
    Sessions,
    admin,
    bmabot,
    decide_now,
    id_card_photo,
    submit,
)

__all__ = ["admin"]

PHOTO = b"\xff\xd8 not really a jpeg"


@pytest.fixture
async def rejected(admin: Path, sessions: Sessions, vault: Vault, clock: ManualClock) -> str:
    """Somchai's request with his ID card photo, rejected; the photo is still on disk (a
    decision made outside the bot, so only the purge deletes it)."""
    photo = await id_card_photo(sessions, vault, clock, admin)
    somchai = await submit(sessions, vault, clock, documents={"id_card": photo})
    await decide_now(sessions, clock, somchai.application_id, "reject", reason="not_staff")
    return somchai.reference


def security_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bmabot.security"]


async def test_purge_prints_what_it_removed_by_reference_only(
    rejected: str, admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("privacy", "purge") == 0

    out = capsys.readouterr().out
    assert f"photos deleted: 1 of 1 request(s) {rejected}" in out
    assert "requests reduced to the minimal record: 0" in out
    assert "สมชาย" not in out
    assert [p for p in (admin / "documents").rglob("*") if p.is_file()] == []


async def test_export_by_reference_writes_json_and_the_photos(
    rejected: str,
    tmp_path: Path,
    sessions: Sessions,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bmabot.security")
    out = tmp_path / "for-somchai"

    assert await bmabot("privacy", "export", "--ref", rejected, "--out", str(out)) == 0

    held = json.loads((out / "person.json").read_text(encoding="utf-8"))
    assert held["requests"][0]["national_id"] == SOMCHAI
    assert (out / f"{rejected}-id_card-1.jpg").read_bytes() == PHOTO
    assert (out / "person.json").stat().st_mode & 0o077 == 0  # the clerk's eyes only
    assert "1 request(s) A69-00001 and 1 photo(s)" in capsys.readouterr().out
    assert security_lines(caplog) == [
        "security event=export what=subject_data refs=A69-00001 photos=1",
        "security event=privacy_request right=access refs=A69-00001",
    ]
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert actions[-1] == "privacy.exported"


async def test_export_by_national_id_asks_for_it_at_a_hidden_prompt(
    rejected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def typed(prompt: str = "") -> str:
        asked.append(prompt)
        return "1-1037-00123-45-8"

    monkeypatch.setattr("getpass.getpass", typed)
    out = tmp_path / "by-id"

    assert await bmabot("privacy", "export", "--national-id", "--out", str(out)) == 0

    assert asked == ["National ID (not shown): "]
    held = json.loads((out / "person.json").read_text(encoding="utf-8"))
    assert [r["reference"] for r in held["requests"]] == [rejected]


def test_a_national_id_is_never_taken_from_the_command_line(
    admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from webhooks.cli import main

    with pytest.raises(SystemExit):
        main(["privacy", "export", "--national-id", SOMCHAI, "--out", "x"])
    assert "unrecognized arguments" in capsys.readouterr().err


async def test_erase_keeps_the_minimal_record(
    rejected: str,
    sessions: Sessions,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bmabot.security")

    assert await bmabot("privacy", "erase", "--ref", rejected) == 0
    assert await bmabot("audit", "verify") == 0

    out = capsys.readouterr().out
    assert "erased: A69-00001 (1 photo(s)); each keeps its minimal record" in out
    assert "audit trail intact" in out
    assert security_lines(caplog) == [
        "security event=privacy_request right=erasure refs=A69-00001 photos=1"
    ]
    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
    assert (application.reference, application.status) == (rejected, "rejected")
    assert application.national_id_encrypted is None


async def test_a_request_still_being_decided_is_not_erased(
    admin: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pending = await submit(sessions, vault, clock)

    assert await bmabot("privacy", "erase", "--ref", pending.reference) == 1

    assert "not erased, still being decided: A69-00001" in capsys.readouterr().out


@pytest.mark.parametrize("action", [["purge"], ["erase", "--ref", "A69-00001"]])
def test_privacy_commands_need_the_secret_key(
    admin: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    action: list[str],
) -> None:
    from webhooks.cli import main

    monkeypatch.delenv("BMABOT_SECRET_KEY")

    assert main(["privacy", *action]) == 2
    assert "BMABOT_SECRET_KEY: required" in capsys.readouterr().err
    assert not admin.exists()  # no key file made up, nothing opened


async def test_show_names_the_terms_accepted_and_when(
    admin: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    version = terms_version(Catalog.load().messages)
    form = ApplicationForm("staff", SOMCHAI_FORM, SOMCHAI, {}, Consent(version, clock.now()))
    async with sessions.begin() as session:
        await submit_application(
            session, vault, channel="line", user_id="U1", form=form, now=clock.now()
        )

    assert await bmabot("applications", "show", "A69-00001") == 0

    out = capsys.readouterr().out
    assert f"consent    terms and notice {version[:12]} accepted 25/11/2569 10:00 น." in out


async def test_show_says_when_no_consent_was_recorded_and_when_a_record_was_reduced(
    rejected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("privacy", "erase", "--ref", rejected) == 0
    assert await bmabot("applications", "show", rejected) == 0

    out = capsys.readouterr().out
    assert "consent    none recorded" in out
    assert "(personal fields gone)" in out
    assert "id_card" in out
    assert "(deleted)" in out
    assert "สมชาย" not in out
