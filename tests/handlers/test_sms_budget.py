"""The hour's SMS budget: approvals beyond it wait for the next hour, nothing is lost."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.handlers.conversation import Services
from core.clock import ManualClock
from core.delivery.outbox import due_for_chat
from core.directory.port import MemoryDirectory
from core.sms.budget import BudgetedSms, with_budget
from core.sms.port import OutboxSms
from tests.handlers.test_account_jobs import approved, worker_on


async def told(services: Services, user_id: str) -> list[str]:
    async with services.sessions() as session:
        batches = await due_for_chat(
            session, services.vault, "test", user_id, services.clock.now()
        )
    return [message["key"] for batch in batches for message in batch.messages]


async def test_approvals_over_the_hours_sms_budget_wait_and_are_sent_the_next_hour(
    services: Services, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bmabot.security")
    outbox = OutboxSms(tmp_path / "sms.jsonl", clock=clock)
    sms, directory = BudgetedSms(outbox, per_hour=2, clock=clock), MemoryDirectory()
    await approved(services, 5)
    worker = worker_on(services, directory, sms)  # one worker process all along

    await worker.drain()
    assert len(outbox.messages()) == 2
    waiting = [n for n in range(5) if "account.ready" not in await told(services, f"U{n}")]
    assert len(waiting) == 3
    for n in waiting:
        assert await told(services, f"U{n}") == ["account.sms_waits"]

    for _ in range(4):  # the next hours: the budget has room again, the jobs try again
        clock.advance(minutes=61)
        await worker.drain()

    assert len(outbox.messages()) == 5
    for n in range(5):
        keys = await told(services, f"U{n}")
        assert keys.count("account.ready") == 1
        assert keys.count("account.sms_waits") <= 1  # told once, whatever the attempts
    refusals = [r.getMessage() for r in caplog.records if "limit=sms" in r.getMessage()]
    assert refusals
    assert all("66812345678" not in line for line in refusals)


def test_no_budget_is_the_gateway_itself(tmp_path: Path) -> None:
    outbox = OutboxSms(tmp_path / "sms.jsonl")
    assert with_budget(outbox, 0, ManualClock()) is outbox
