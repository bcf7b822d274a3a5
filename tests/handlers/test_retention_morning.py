"""The worker's morning round applies the retention every day, on the injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.handlers.review_morning import Morning
from bot.handlers.services import Services
from core.clock import ManualClock
from core.delivery.jobs import ClaimedJob
from core.requests.decisions import decide
from core.requests.retention import RetentionPolicy
from core.storage.models import Application
from tests.handlers.chat import Chat
from tests.handlers.transcripts import STAFF, play


async def run_morning(services: Services) -> None:
    morning = Morning(services, timedelta(hours=24), timedelta(days=14))
    await morning(ClaimedJob(1, "morning.round", "morning.round:test", {}, 1, 10))


def photo_files(tmp_path: Path) -> int:
    return sum(path.is_file() for path in (tmp_path / "data" / "documents").rglob("*"))


async def rejected(chat: Chat, services: Services) -> int:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")
    async with services.sessions.begin() as session:
        application_id = await session.scalar(select(Application.id))
        assert application_id is not None
        await decide(
            session,
            application_id=application_id,
            outcome="reject",
            reviewer="line:R1",
            now=services.clock.now(),
            reason="not_staff",
        )
    return application_id


async def test_photos_go_on_the_morning_the_document_period_ends(
    chat: Chat, services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    services = replace(services, retention=RetentionPolicy(document_days=3))
    await rejected(chat, services)
    assert photo_files(tmp_path) == 1

    clock.advance(days=2)
    await run_morning(services)
    kept = photo_files(tmp_path)
    clock.advance(days=1)
    await run_morning(services)

    assert kept == 1
    assert photo_files(tmp_path) == 0


async def test_a_year_after_the_decision_the_request_is_a_minimal_record(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    application_id = await rejected(chat, services)

    clock.advance(days=364)
    await run_morning(services)
    async with services.sessions() as session:
        before = await session.get_one(Application, application_id)
    clock.advance(days=1)
    await run_morning(services)
    async with services.sessions() as session:
        after = await session.get_one(Application, application_id)

    assert before.reduced_at is None
    assert "first_name_th" in before.form
    assert after.reduced_at == clock.now()
    assert set(after.form) <= {"unit", "unit_done", "unit_note"}
