"""Group commit: every webhook waits for its events to be stored; many share one commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.delivery.inbox import NewEvent, claim, finish_events, next_events
from core.delivery.inbox_writer import InboxWriter
from core.storage.crypto import Vault
from core.storage.models import InboxEvent


def text(key: str, user: str = "U1") -> NewEvent:
    return NewEvent(f"line:{key}", "line", user, {"type": "message", "text": key})


@pytest.fixture
def writer(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, clock: ManualClock
) -> InboxWriter:
    return InboxWriter(sessions, vault, clock)


async def stored_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxEvent)) or 0)


async def test_a_hundred_webhooks_at_once_are_stored_in_a_few_commits(
    writer: InboxWriter, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    commits = 0

    def count(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    try:
        answers = await asyncio.gather(*(writer([text(f"e{n}", f"U{n}")]) for n in range(100)))
    finally:
        event.remove(engine.sync_engine, "commit", count)

    assert answers == [1] * 100
    assert await stored_count(sessions) == 100
    assert commits <= 3  # the first alone, the rest gathered behind it


async def test_a_redelivered_event_is_stored_once_and_counted_for_the_first_sender(
    writer: InboxWriter, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, again = await asyncio.gather(writer([text("same")]), writer([text("same")]))
    later = await writer([text("same")])

    assert (first, again, later) == (1, 0, 0)
    assert await stored_count(sessions) == 1


async def test_an_event_that_cannot_be_stored_fails_its_own_webhook_only(
    writer: InboxWriter, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unstorable = NewEvent("line:odd", "line", "U1", {"text": object()})  # not JSON

    results = await asyncio.gather(
        writer([text("a")]), writer([unstorable]), writer([text("b")]), return_exceptions=True
    )

    assert results[0] == 1
    assert isinstance(results[1], TypeError)  # answered 500: the platform sends it again
    assert results[2] == 1
    assert await stored_count(sessions) == 2


async def test_each_person_is_read_once_a_round_with_their_oldest_event(
    writer: InboxWriter, sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    await writer([text("a1", "A"), text("b1", "B"), text("a2", "A")])

    async with sessions() as session:
        round_one = await next_events(session, vault, ["line"], limit=10)
    assert [(e.user_id, e.payload["text"]) for e in round_one] == [("A", "a1"), ("B", "b1")]

    async with sessions.begin() as session:
        assert await claim(session, [e.id for e in round_one]) == {e.id for e in round_one}
        await finish_events(session, [e.id for e in round_one], ManualClock().now())
        assert await claim(session, [e.id for e in round_one]) == set()  # done: not again

    async with sessions() as session:
        round_two = await next_events(session, vault, ["line"], limit=10)
    assert [(e.user_id, e.payload["text"]) for e in round_two] == [("A", "a2")]
