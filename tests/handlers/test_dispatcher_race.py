"""Another server stores for a person between a round's read and its store: the round sees it.

A round reads the people's states and plans their turns without a lock, then stores them;
when the stored state changed meanwhile (SQLite's writer thread: StateChangedError, then
the general path; PostgreSQL: the locked read in the transaction), the turn is planned
again from what is stored now, or left to whoever took its event.

The other server is real: its own engine, sessions and dispatcher (or morning job) on the
same database. It acts at the one moment the race needs, as the round begins the
transaction that writes (a SQLAlchemy "begin" event): nothing of ours is replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.incoming import Incoming
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.drafts import tidy_drafts
from bot.handlers.media import MemoryMedia
from core.audit.chain import sign_with
from core.clock import ManualClock
from core.delivery.conversations import load_states
from core.delivery.inbox import NewEvent
from core.delivery.inbox_writer import InboxWriter
from core.storage.db import READ_ONLY, make_engine, make_sessions, sqlite_threads
from core.storage.models import InboxEvent
from tests.conftest import TEST_SECRET_KEY
from tests.handlers.chat import Chat
from tests.handlers.memory_channel import CHANNEL, MemoryChannel, text_event

P, Q = "U-race-p", "U-race-q"
Delivered = dict[str, list[list[str]]]  # chat: reply keys, batch by batch, as delivered


@pytest.fixture
def delivered() -> Delivered:
    """What reached each chat, from whichever server sent it, in the order it arrived."""
    return {}


@pytest.fixture
async def ours(
    handler: ConversationHandler, services: Services, delivered: Delivered
) -> AsyncIterator[Dispatcher]:
    """The dispatcher as `bmabot serve` wires it: on SQLite with its reader and writer threads."""
    threads = sqlite_threads(services.sessions)
    yield Dispatcher(handler, {CHANNEL: MemoryChannel(sent=delivered)}, threads=threads)
    if threads is not None:
        await threads.close()


@pytest.fixture
async def other(database_url: str, services: Services) -> AsyncIterator[Services]:
    """A second server's services: an engine and sessions of its own on the same database."""
    engine = make_engine(database_url)
    sign_with(engine, TEST_SECRET_KEY)
    yield replace(services, sessions=make_sessions(engine))
    await engine.dispose()


@contextmanager
def before_storing(
    database: AsyncEngine, act: Callable[[], Awaitable[object]]
) -> Iterator[list[str]]:
    """Run `act` once, when the next transaction that writes to this database begins: a
    round has read the states and planned by then, and has claimed and stored nothing.

    `act` runs to its end before that transaction's BEGIN is sent, so the round holds no
    lock the act could wait for. Listened to on every Engine: SQLite's writer thread has one
    of its own. The act's own transactions begin after it started, and pass.
    """
    loop = asyncio.get_running_loop()
    outcome: list[str] = []

    def begin(connection: Connection) -> None:
        if outcome or connection.engine.url.database != database.url.database:
            return
        if connection.get_execution_options().get(READ_ONLY, False):
            return  # a read: the round's, before it plans
        outcome.append("acting")
        try:
            driver = connection.connection.dbapi_connection
            if isinstance(driver, AdaptedConnection):  # asyncpg, aiosqlite: in the loop
                driver.run_async(lambda _: act())
            else:  # SQLite's writer thread; the loop waits for it, free to run the act
                asyncio.run_coroutine_threadsafe(act(), loop).result(timeout=60)
        except Exception as error:
            outcome[0] = f"failed: {error!r}"
        else:
            outcome[0] = "acted"

    event.listen(Engine, "begin", begin, insert=True)  # before BEGIN IMMEDIATE
    try:
        yield outcome
    finally:
        event.remove(Engine, "begin", begin)


async def store(services: Services, *events: NewEvent) -> None:
    writer = InboxWriter(services.sessions, services.vault, services.clock)
    await writer(list(events))


async def statuses(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(InboxEvent.status).order_by(InboxEvent.id)))


async def one_at_a_time(
    handler: ConversationHandler, user_id: str, *texts: str
) -> list[list[str]]:
    """What a person saying these, one after the other, is answered: batch by batch."""
    chat = Chat(handler, MemoryMedia(), user_id=f"reference-{user_id}")
    return [[reply.key for reply in await chat.send(text)] for text in texts]


@pytest.mark.parametrize(
    "walk",
    [["สมัคร", "ค่ะ", "ย้อนกลับ"], ["สวัสดี", "สมัคร", "ค่ะ"]],
    ids=["its first turn starts a form", "its first turn leaves it idle: only the claim tells"],
)
async def test_a_turn_another_server_stores_meanwhile_is_neither_lost_nor_taken_twice(
    services: Services,
    handler: ConversationHandler,
    ours: Dispatcher,
    other: Services,
    delivered: Delivered,
    engine: AsyncEngine,
    walk: list[str],
) -> None:
    await store(services, text_event("p0", P, walk[0]), text_event("q0", Q, "สวัสดี"))
    await store(services, *(text_event(f"p{n}", P, text) for n, text in enumerate(walk) if n))
    # The other server takes the person who waited longest: P's first message.
    channel = MemoryChannel(sent=delivered)
    second = Dispatcher(ConversationHandler(other, {}), {CHANNEL: channel}, batch_size=1)

    with before_storing(engine, second.handle_round) as acted:
        assert await ours.handle_round() == 2  # P's first message and Q's, read and planned
    assert acted == ["acted"]
    await second.sender.settle()  # the other server sends its answer and marks it sent
    await second.sender.mark_sent()
    await ours.drain()  # P's next messages, from the state the other server stored

    assert delivered[P] == await one_at_a_time(handler, P, *walk)  # each turn once, in order
    assert delivered[Q] == await one_at_a_time(handler, Q, "สวัสดี")
    assert await statuses(services) == ["done"] * 4


async def test_a_state_another_server_changes_meanwhile_is_planned_from_again(
    services: Services,
    handler: ConversationHandler,
    ours: Dispatcher,
    other: Services,
    delivered: Delivered,
    engine: AsyncEngine,
    clock: ManualClock,
) -> None:
    await store(services, text_event("p0", P, "สมัคร"))
    await ours.drain()  # P is at the form's first question
    clock.advance(days=31)  # and says nothing for a month: the draft is due to expire
    await store(services, text_event("p1", P, "ค่ะ"), text_event("q0", Q, "สวัสดี"))

    async def morning() -> None:
        """The morning job of another server (`bmabot worker`) tidies the drafts."""
        async with other.sessions.begin() as session:
            await tidy_drafts(session, other, clock.now())

    with before_storing(engine, morning) as acted:
        assert await ours.handle_round() == 2  # planned from the form, stored after it expired
    assert acted == ["acted"]
    await ours.drain()

    # The expiry was stored first, so the message is answered as one that came after it:
    # from no form at all, and the expired form is not brought back.
    [form] = await one_at_a_time(handler, P, "สมัคร")
    [idle] = await one_at_a_time(handler, "idle", "ค่ะ")
    stale = (await one_at_a_time(handler, "stale", "สมัคร", "ค่ะ"))[1]
    assert idle != stale  # what the plan made from the state read would have said
    assert delivered[P] == [form, idle]
    assert delivered[Q] == await one_at_a_time(handler, Q, "สวัสดี")
    async with services.sessions() as session:
        assert await load_states(session, services.vault, [(CHANNEL, P)], lock=False) == {
            (CHANNEL, P): None
        }
    assert await statuses(services) == ["done"] * 3


@dataclass
class ReadingChannel(MemoryChannel):
    """A MemoryChannel that keeps who each event it read was from, as the rounds read them."""

    readers: list[str] = field(default_factory=list)
    more: asyncio.Event = field(default_factory=asyncio.Event)

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        self.readers.append(payload["user"])
        self.more.set()
        return super().to_incoming(payload)

    async def read_from(self, *people: str, times: int = 1) -> None:
        while not all(self.readers.count(who) >= times for who in people):
            self.more.clear()
            await self.more.wait()


async def test_the_next_round_is_planned_while_one_is_stored_leaving_its_people_out(
    services: Services, handler: ConversationHandler, delivered: Delivered, engine: AsyncEngine
) -> None:
    people = ["U-a", "U-b", "U-c", "U-d"]
    walk = ["สมัคร", "ค่ะ"]
    for step, text in enumerate(walk):  # everyone's first message, then everyone's second
        await store(services, *(text_event(f"{who}-{step}", who, text) for who in people))
    channel = ReadingChannel(sent=delivered)
    threads = sqlite_threads(services.sessions)
    dispatcher = Dispatcher(handler, {CHANNEL: channel}, threads=threads, batch_size=2)
    read_meanwhile: list[str] = []

    async def next_round_planned() -> None:
        await asyncio.wait_for(channel.read_from("U-c", "U-d"), timeout=30)
        read_meanwhile.extend(channel.readers)

    try:
        with before_storing(engine, next_round_planned) as acted:
            running = asyncio.create_task(dispatcher.run())
            # Until every message is read: a person's second only after their first round
            # was stored, so that store began in here, however early the next round read.
            await asyncio.wait_for(channel.read_from(*people, times=len(walk)), timeout=30)
        await dispatcher.stop()
        await running
        await dispatcher.drain()
    finally:
        if threads is not None:
            await threads.close()

    # While the first round (a's and b's first messages) was being stored, the second was
    # read: c's and d's first messages, not a's or b's second, still behind the first.
    assert acted == ["acted"]
    assert sorted(read_meanwhile) == people
    for who in people:  # each turn once, in order
        assert delivered[who] == await one_at_a_time(handler, who, *walk)
    assert await statuses(services) == ["done"] * 8
