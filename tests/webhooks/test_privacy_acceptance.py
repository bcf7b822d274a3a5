"""Issue 15's acceptance: a whole LINE application approved, then `bmabot privacy purge` with
the default settings. No photo is left, the minimal record and the audit trail are, and no
national ID, temporary password or token is anywhere in plain text."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from core.storage.models import Application, AuditEvent, Document
from tests.conftest import TEST_SECRET_KEY
from tests.handlers.chat import sample_photo
from tests.handlers.test_privacy import FORMS_OF_THE_ID, _everything_stored
from tests.sms_text import credentials
from tests.webhooks.admin_world import Sessions, admin, bmabot
from tests.webhooks.line.test_line_review import APPLICANT, GROUP, REVIEWER, group_messages, press
from tests.webhooks.line.test_line_review import submitted as apply_and_send
from tests.webhooks.line_world import ACCESS_TOKEN, CHANNEL_SECRET, LineWorld, line_world

__all__ = ["admin"]


@pytest.fixture
async def world(
    admin: Path, database_url: str, engine: AsyncEngine, clock: ManualClock
) -> AsyncIterator[LineWorld]:
    """The bot on the same database and data folder as `bmabot` (the admin environment)."""
    async with line_world(
        database_url, admin, clock, line_review_group_id=GROUP, reviewers=f"line:{REVIEWER}"
    ) as running:
        yield running


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy's INFO shows every statement with its parameters: the values written too.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    return caplog


async def approved(world: LineWorld) -> str:
    """Somchai applies with his ID card photo, a reviewer approves, the account is made;
    the temporary password, as the SMS carried it."""
    await apply_and_send(world)
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()
    sent = [json.loads(line) for line in sms_lines()]
    return credentials(sent[-1]["message"])[1]


def sms_lines() -> list[str]:
    return Path("sms.jsonl").read_text().splitlines()  # BMABOT_SMS_OUTBOX (admin_world)


def everything_in(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def media_tokens(world: LineWorld) -> list[str]:
    urls = [str(m.get("originalContentUrl", "")) for m in group_messages(world)]
    return [url.rsplit("/", 1)[-1] for url in urls if "/media/" in url]


async def test_after_approval_and_purge_no_photo_and_no_secret_is_left(
    world: LineWorld,
    admin: Path,
    sessions: Sessions,
    engine: AsyncEngine,
    database_url: str,
    everything_logged: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    password = await approved(world)
    tokens = media_tokens(world)
    assert tokens  # the reviewers were shown the photo through signed links
    capsys.readouterr()

    assert await bmabot("privacy", "purge") == 0
    assert await bmabot("audit", "verify") == 0

    out = capsys.readouterr().out
    assert "requests reduced to the minimal record: 0" in out  # kept a year, as promised
    assert "audit trail intact" in out
    assert [path for path in (admin / "documents").rglob("*") if path.is_file()] == []
    async with sessions() as session:
        kept = await session.scalars(select(Document).where(Document.deleted_at.is_(None)))
        application = (await session.scalars(select(Application))).one()
        trail = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.application_id == application.id)
            )
        )
    assert list(kept) == []
    assert (application.reference, application.status) == ("A69-00001", "account_created")
    story = ["application.submitted", "application.approve", "account.created"]
    assert [action for action in trail if action in story] == story
    assert trail[-1] == "documents.deleted"  # with the account made, in its transaction

    secrets = [*FORMS_OF_THE_ID, password, *tokens, ACCESS_TOKEN, CHANNEL_SECRET, TEST_SECRET_KEY]
    stored = await _everything_stored(engine, database_url)
    in_files = everything_in(admin)
    logged = "\n".join(
        record.getMessage()
        for phase in ("setup", "call")
        for record in everything_logged.get_records(phase)
    )
    assert logged
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret.encode() not in in_files
        assert secret not in logged
    assert APPLICANT  # the applicant's LINE id may be kept: it is how they ask their status


def photo_files(data: Path) -> list[Path]:
    return [path for path in (data / "documents").rglob("*") if path.is_file()]


async def test_a_rejection_deletes_the_photos_at_the_decision(
    world: LineWorld, admin: Path, sessions: Sessions
) -> None:
    await apply_and_send(world)
    assert len(photo_files(admin)) == 1

    await press(world, REVIEWER, "rv:r:1")
    await press(world, REVIEWER, "rv:rr:1:blurry")
    await world.settle()

    async with sessions() as session:
        status = await session.scalar(select(Application.status))
    assert status == "rejected"
    assert photo_files(admin) == []


async def test_a_photo_replaced_in_a_correction_leaves_the_disk_at_once(
    world: LineWorld, admin: Path
) -> None:
    applicant = await apply_and_send(world)
    first = photo_files(admin)
    for data in ["rv:t:1", "rv:tf:1:doc_id_card", "rv:td:1"]:
        await press(world, REVIEWER, data)
    await world.emulator.send_text(REVIEWER, "รูปไม่ชัดค่ะ", group_id=GROUP)
    await applicant.answers()
    await applicant.photo(sample_photo())
    await applicant.tap("ถูกต้อง ส่งคำขอ")

    now = photo_files(admin)
    assert len(first) == len(now) == 1
    assert first != now  # the new photo only
