"""Job kinds are typed values declared once; what is stored in jobs.kind stays the same string."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.delivery.job_kinds import (
    ACCOUNT_CREATE,
    ACCOUNT_LOCK,
    ACCOUNT_UNLOCK,
    CARD_POST,
    MORNING_ROUND,
    SUSPENSION_SMS,
    JobKind,
    job_kind,
)
from core.delivery.jobs import DONE, PENDING, ClaimedJob, enqueue, list_jobs
from core.delivery.worker import Worker
from core.storage.models import Job

Sessions = async_sessionmaker[AsyncSession]


def test_the_bot_s_job_kinds_keep_the_names_their_rows_were_stored_under() -> None:
    kinds = [
        ACCOUNT_CREATE,
        CARD_POST,
        MORNING_ROUND,
        ACCOUNT_LOCK,
        ACCOUNT_UNLOCK,
        SUSPENSION_SMS,
    ]
    assert kinds == [
        "account.create",
        "card.post",
        "morning.round",
        "account.lock",
        "account.unlock",
        "sms.suspension",
    ]


def test_a_kind_declared_again_by_the_same_name_is_the_same_kind() -> None:
    assert job_kind("card.post") is CARD_POST
    assert JobKind.stored("card.post") is CARD_POST


def test_a_job_s_key_is_its_kind_then_its_parts() -> None:
    assert SUSPENSION_SMS.key(7, "suspended") == "sms.suspension:7:suspended"
    assert MORNING_ROUND.key("2026-11-26") == "morning.round:2026-11-26"


@pytest.mark.parametrize(
    "name", ["card", "Card.Post", "card.post:1", "card post", "a." + "b" * 48]
)
def test_a_kind_named_otherwise_than_thing_dot_action_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"like 'card\.post'"):
        job_kind(name)


async def test_a_row_stored_before_kinds_were_typed_runs_with_its_kind_s_handler(
    sessions: Sessions, clock: ManualClock
) -> None:
    async with sessions.begin() as session:  # as an older release wrote it: a plain string
        await session.execute(
            insert(Job).values(
                kind="card.post",
                key="card.post:1:1",
                payload={},
                max_attempts=3,
                run_at=clock.now(),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        await enqueue(
            session, kind=ACCOUNT_CREATE, key="account.create:A69-1", payload={}, now=clock.now()
        )
    ran: list[ClaimedJob] = []

    async def record(job: ClaimedJob) -> None:
        ran.append(job)

    await Worker(sessions, {CARD_POST: record}, clock, worker_id="t").drain()

    assert [(job.kind, job.key) for job in ran] == [(CARD_POST, "card.post:1:1")]
    assert ran[0].kind is CARD_POST  # decoded to the declared kind
    async with sessions() as session:
        rows = {job.kind: job.status for job in await list_jobs(session, (PENDING, DONE))}
    assert rows == {"card.post": DONE, "account.create": PENDING}  # left to a worker that runs it
