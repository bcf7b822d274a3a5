"""Two `bmabot serve` on one PostgreSQL: every event handled once, every person in order."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.models import InboxEvent
from tests.emulators.line import LineEmulator
from tests.webhooks.serve_world import Start, emulator, free_port, serve_env, start

__all__ = ["emulator", "start"]  # fixtures: the LINE emulator, and what kills what a test started
pytestmark = pytest.mark.skipif(
    not os.environ.get("BMABOT_TEST_DATABASE_URL"),
    reason="scale-out is PostgreSQL's (SQLite serves one process); the PostgreSQL run has it",
)

# What a person types quickly, one message after the other, and what each answer says,
# in order: the terms, the PDPA notice, the kind question, the terms again, the kind
# question again, the question whether to cancel.
WALK = ["สมัคร", "ค่ะ", "ย้อนกลับ", "ใช่", "ยกเลิก"]
ANSWERED_IN_ORDER = ["ประเภทใดคะ", "การคุ้มครองข้อมูลส่วนบุคคล", "ประเภทใดคะ", "ยกเลิก"]


async def test_two_servers_handle_each_event_once_and_each_person_in_order(
    emulator: tuple[LineEmulator, str],
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    start: Start,
) -> None:
    line, api_url = emulator
    ports = [free_port(), free_port()]
    servers = []
    for number, port in enumerate(ports):
        env = serve_env(tmp_path / f"server{number}", api_url, port)
        env["BMABOT_DATABASE_URL"] = database_url
        env["BMABOT_DATA_DIR"] = str(tmp_path / "shared-documents")
        env["BMABOT_SEND_LEASE_SECONDS"] = "20"  # as in production: nobody is killed here
        servers.append(await start(env, "--no-worker"))
    urls = [f"http://127.0.0.1:{port}/webhooks/line" for port in ports]
    people = [f"U{n:032x}" for n in range(200)]

    async def walk(number: int, person: str) -> None:
        """Each message to the other server than the last; each one delivered again
        (the same webhookEventId) to the server that did not take it."""
        for step, text in enumerate(WALK):
            event = line.make_text_event(person, text)
            line.webhook_url = urls[(number + step) % 2]
            assert await line.post_events([event]) == 200
            line.webhook_url = urls[(number + step + 1) % 2]
            assert (await line.redeliver(event))[0] == 200

    await asyncio.gather(*(walk(number, person) for number, person in enumerate(people)))
    async with asyncio.timeout(120):
        await line.wait_until(lambda: all(len(line.texts(p)) >= 7 for p in people))
    for server in servers:
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), timeout=60) == 0

    for person in people:
        texts = line.texts(person)
        shown = [text[:25] for text in texts]
        assert len(texts) == 7, (person, shown)  # nothing said twice
        answers = [texts[2], texts[4], texts[5], texts[6]]
        for answer, expected in zip(answers, ANSWERED_IN_ORDER, strict=True):
            assert expected in answer, (person, shown)
    counted = select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
    async with sessions() as session:
        statuses = {status: count for status, count in await session.execute(counted)}
    assert statuses == {"done": len(people) * len(WALK)}  # each event once, redeliveries dropped
