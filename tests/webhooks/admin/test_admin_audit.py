"""`bmabot audit`: a request's trail in Bangkok time; `audit verify`: intact, or where broken."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from core.delivery.job_kinds import ACCOUNT_CREATE
from core.delivery.jobs import enqueue
from core.storage.crypto import Vault
from tests.webhooks.admin_world import Sessions, admin, bmabot, decide_now, submit

__all__ = ["admin"]


@pytest.fixture
async def decided(sessions: Sessions, vault: Vault, clock: ManualClock) -> None:
    """Two requests, one approved and one rejected: four audit rows."""
    approved = await submit(sessions, vault, clock)
    rejected = await submit(sessions, vault, clock, national_id="3100600987659", user_id="U2")
    clock.advance(hours=1)
    await decide_now(sessions, clock, approved.application_id, "approve")
    await decide_now(sessions, clock, rejected.application_id, "reject", reason="no_document")


async def test_verify_says_how_many_rows_it_checked(
    admin: Path, decided: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("audit", "verify") == 0

    said = capsys.readouterr().out.strip()
    assert said.startswith("audit trail intact: 4 row(s) checked, the newest is row 4 (hash ")
    assert "\n" not in said


async def test_verify_detects_a_row_changed_directly_in_the_database(
    admin: Path, decided: None, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    async with engine.begin() as connection:  # "it was not me who approved"
        await connection.execute(text("UPDATE audit_events SET actor = 'line:R2' WHERE id = 3"))

    assert await bmabot("audit", "verify") == 1

    assert capsys.readouterr().out == (
        "audit trail broken at row 3: its content does not match its hash: it was changed"
        " after it was written (2 row(s) before it intact)\n"
    )


async def test_verify_detects_a_deleted_row(
    admin: Path, decided: None, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM audit_events WHERE id = 3"))

    assert await bmabot("audit", "verify") == 1

    assert capsys.readouterr().out == (
        "audit trail broken at row 4: it does not link to row 2 before it: a row before it was"
        " deleted, or this one was inserted (2 row(s) before it intact)\n"
    )


async def test_audit_without_a_reference_or_verify_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await bmabot("audit") == 2

    assert "--ref" in capsys.readouterr().err


async def test_a_requests_trail_is_listed_in_bangkok_time_with_the_buddhist_year(
    admin: Path, decided: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("audit", "show", "--ref", "A69-00001") == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("25/11/2569 10:00:00 น.  ")  # submitted at 03:00 UTC
    assert lines[-1].startswith("25/11/2569 11:00:00 น.  ")  # approved an hour later


async def test_jobs_are_due_in_bangkok_time_with_the_buddhist_year(
    admin: Path, sessions: Sessions, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    async with sessions.begin() as session:
        await enqueue(
            session,
            kind=ACCOUNT_CREATE,
            key=ACCOUNT_CREATE.key(1),
            payload={"application_id": 1},
            now=clock.now(),
            run_at=clock.now() + timedelta(hours=15),  # 01:00 on the next day in Bangkok
        )

    assert await bmabot("jobs") == 0

    assert "due 26/11/2569 01:00 น." in capsys.readouterr().out
