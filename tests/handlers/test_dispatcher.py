"""The dispatcher: each person in order, many people a transaction, one bad event stalls nobody."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.incoming import MediaRef
from bot.handlers.channels import DeliveryError
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.media import MemoryMedia
from bot.handlers.sender import MAX_DELIVERY_ATTEMPTS
from core.clock import ManualClock
from core.delivery.inbox import NewEvent
from core.delivery.inbox_writer import InboxWriter
from core.delivery.outbox import (
    NewOutgoing,
    add_outgoing,
    add_sending,
    claim_for_sending,
    mark_all_sent,
)
from core.rules.validation import national_id_check_digit as check
from core.storage.db import sqlite_threads
from core.storage.models import Conversation, Document, InboxEvent, OutboxMessage
from tests.handlers.chat import Chat, sample_photo
from tests.handlers.memory_channel import (
    CHANNEL,
    MemoryChannel,
    button_event,
    photo_event,
    text_event,
)
from tests.handlers.transcripts import STAFF, Turn, play, until

WALK = ["สมัคร", "ค่ะ", "ย้อนกลับ", "ใช่", "ยกเลิก"]  # quick, as people type
NATIONAL_ID_ASKED = "apply.ask_national_id"


@pytest.fixture
def channel() -> MemoryChannel:
    return MemoryChannel()


@pytest.fixture
def dispatcher(handler: ConversationHandler, channel: MemoryChannel) -> Dispatcher:
    return Dispatcher(handler, {CHANNEL: channel})


async def store(services: Services, *events: NewEvent) -> None:
    writer = InboxWriter(services.sessions, services.vault, services.clock)
    await writer(list(events))


@dataclass
class Counts:
    statements: int = 0
    commits: int = 0
    texts: list[str] = field(default_factory=list)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Counts]:
    counts = Counts()

    def statement(_connection: object, _cursor: object, text: str, *_: object) -> None:
        counts.statements += 1
        counts.texts.append(text)

    def commit(*_: object) -> None:
        counts.commits += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "commit", commit)
    try:
        yield counts
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", statement)
        event.remove(engine.sync_engine, "commit", commit)


async def walk_together(
    services: Services,
    dispatcher: Dispatcher,
    channel: MemoryChannel,
    people: list[str],
    turns: list[Turn],
) -> None:
    """Each of these people says or taps the same, one step after the other, all of them at
    each step at once: a crowd moving through the form together, as on launch day."""
    buttons: dict[str, str] = {}  # label: data, the same for everyone
    channel.on_delivery = lambda _, replies: buttons.update(
        {b.label: b.data for reply in replies for b in reply.buttons}
    )
    for number, turn in enumerate(turns):
        for person in people:
            key = f"{person}-{number}"
            if turn.action == "send":
                await store(services, text_event(key, person, turn.value))
            else:
                await store(services, button_event(key, person, buttons[turn.value]))
        await dispatcher.drain()
    assert {channel.keys(person)[-1] for person in people} == {turns[-1].then}


async def statuses(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(InboxEvent.status).order_by(InboxEvent.id)))


async def test_each_persons_messages_get_the_answers_of_one_at_a_time(
    services: Services, dispatcher: Dispatcher, channel: MemoryChannel, chat: Chat
) -> None:
    people = [f"U{n}" for n in range(5)]
    for step, text in enumerate(WALK):  # all of them at once, before anything is handled
        await store(services, *(text_event(f"{p}-{step}", p, text) for p in people))
    await dispatcher.drain()

    one_at_a_time = []
    for text in WALK:
        await chat.send(text)
        one_at_a_time.extend(chat.reply_keys)
    assert one_at_a_time[-1] == "common.confirm_cancel"
    for person in people:
        assert channel.keys(person) == one_at_a_time


async def test_a_round_of_forty_people_is_one_transaction_of_few_statements(
    services: Services, dispatcher: Dispatcher, channel: MemoryChannel, engine: AsyncEngine
) -> None:
    await store(services, *(text_event(f"k{n}", f"U{n}", "สวัสดี") for n in range(40)))

    with counting(engine) as counts:
        await dispatcher.drain()

    assert all(channel.keys(f"U{n}") for n in range(40))
    # One round: the events and the states read (no lock), then claim, states again to
    # compare, save, done marks, outbox, older replies in one commit; then one commit
    # marking the replies sent; then the retry round's read. BEGINs are counted too.
    assert counts.commits <= 3
    assert counts.statements <= 18


async def test_a_round_takes_128_people_at_most_and_64_on_sqlites_threads(
    services: Services, handler: ConversationHandler, channel: MemoryChannel
) -> None:
    await store(services, *(text_event(f"k{n}", f"U{n}", "สวัสดี") for n in range(130)))
    threads = sqlite_threads(services.sessions)  # None on PostgreSQL

    if threads is not None:  # SQLite: the rounds on its threads take fewer people
        on_threads = Dispatcher(handler, {CHANNEL: channel}, threads=threads)
        try:
            assert await on_threads.handle_round() == 64
        finally:
            await threads.close()
    sessions_only = Dispatcher(handler, {CHANNEL: channel})
    assert await sessions_only.handle_round() == (128 if threads is None else 66)
    await sessions_only.drain()
    assert all(channel.keys(f"U{n}") for n in range(130))


async def test_a_rounds_national_id_checks_ask_the_database_once_and_each_gets_its_answer(
    services: Services,
    dispatcher: Dispatcher,
    channel: MemoryChannel,
    chat: Chat,
    engine: AsyncEngine,
) -> None:
    """Effects run one after the other in a round's transaction, each statement a round
    trip: 128 applicants at this step made a store of 250-765 ms on PostgreSQL (issue 13)."""
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")  # 1 1037 00123 45 8 is now held by a request
    people = [f"U{n}" for n in range(12)]
    await walk_together(services, dispatcher, channel, people, until(STAFF, NATIONAL_ID_ASKED))
    held, *free = people
    await store(services, text_event("id-held", held, "1 1037 00123 45 8"))
    for number, person in enumerate(free):
        first12 = f"31012{number:05d}47"
        await store(services, text_event(f"id-{person}", person, first12 + check(first12)))

    with counting(engine) as counts:
        await dispatcher.drain()

    assert channel.keys(held)[-1] == "apply.refused.already_held"
    assert {channel.keys(person)[-1] for person in free} == {"apply.ask_mobile"}
    lookups = [text for text in counts.texts if text.startswith("SELECT applications.")]
    assert len(lookups) == 1  # one statement for the twelve


async def test_an_event_no_channel_can_read_is_quarantined_once_and_the_person_goes_on(
    services: Services,
    dispatcher: Dispatcher,
    channel: MemoryChannel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    secret = "1103700123458"
    await store(services, NewEvent(f"{CHANNEL}:odd", CHANNEL, "U7", {"user": "U7", "x": secret}))
    await store(services, text_event("next", "U7", "สวัสดี"))

    await dispatcher.drain()
    await dispatcher.drain()

    assert await statuses(services) == ["quarantined", "done"]
    assert channel.keys("U7")  # the next message was answered
    quarantined = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(quarantined) == 1
    assert secret not in caplog.text


async def test_an_event_no_key_decrypts_is_quarantined_once_and_the_others_go_on(
    services: Services,
    dispatcher: Dispatcher,
    channel: MemoryChannel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A row written under another secret key (or damaged) is set aside, not every round."""
    caplog.set_level(logging.WARNING)
    await store(services, text_event("a", "U1", "สวัสดี"), text_event("b", "U2", "สวัสดี"))
    await store(services, text_event("c", "U1", "สวัสดี"))
    async with services.sessions.begin() as session:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.key == f"{CHANNEL}:a")
            .values(payload=b"\x01" + b"x" * 40)
        )

    await dispatcher.drain()
    await dispatcher.drain()

    assert await statuses(services) == ["quarantined", "done", "done"]
    assert channel.keys("U1")
    assert channel.keys("U2")
    assert len([r for r in caplog.records if "cannot be decrypted" in r.getMessage()]) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_row_no_channel_can_send_does_not_delay_another_chats_retry(
    services: Services, dispatcher: Dispatcher, channel: MemoryChannel, clock: ManualClock
) -> None:
    channel.broken_chats.add("poisoned")
    async with services.sessions.begin() as session:
        for chat in ("poisoned", "fine"):
            await add_outgoing(
                session,
                services.vault,
                channel=CHANNEL,
                chat_id=chat,
                messages=[{"key": "common.error", "text": "ขออภัยค่ะ"}],
                now=clock.now(),
            )

    await dispatcher.deliver_due()

    assert channel.keys("fine") == ["common.error"]
    async with services.sessions() as session:
        poisoned = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.chat_id == "poisoned")
        )
    assert poisoned is not None
    assert (poisoned.status, poisoned.attempts) == ("pending", 1)
    assert poisoned.last_error == "unexpected ValueError"


def test_rows_delivered_while_a_transaction_marks_others_are_left_to_the_next_one(
    dispatcher: Dispatcher,
) -> None:
    """A round being stored and the retry round mark what went out; neither takes the
    other's rows nor drops rows delivered meanwhile, and a failed one gives its rows back."""
    sender = dispatcher.sender
    sender.sent.extend([1, 2])
    with sender.marking() as first:
        sender.sent.append(3)  # delivered while the first transaction runs
        with sender.marking() as second:
            assert (first, second) == ([1, 2], [3])
            assert sender.ours() == {1, 2, 3}  # being marked: never sent again meanwhile
    assert sender.sent == []
    assert sender.ours() == set()

    def failing_transaction() -> None:
        with sender.marking() as taken:
            assert taken == [4]
            sender.sent.append(5)
            raise RuntimeError("the transaction failed")

    sender.sent.append(4)
    with pytest.raises(RuntimeError):
        failing_transaction()
    assert sender.sent == [4, 5]  # marked by the next transaction


async def test_a_row_that_keeps_failing_ends_failed_with_its_error_kept(
    services: Services, dispatcher: Dispatcher, channel: MemoryChannel, clock: ManualClock
) -> None:
    channel.refusing["U9"] = DeliveryError("LINE 500: busy", retryable=True)
    await store(services, text_event("one", "U9", "สวัสดี"))
    await dispatcher.drain()
    for _ in range(MAX_DELIVERY_ATTEMPTS):
        clock.advance(hours=1)
        await dispatcher.deliver_due()

    async with services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        MAX_DELIVERY_ATTEMPTS,
        "LINE 500: busy",
    )


async def test_a_turn_that_fails_is_apologised_for_and_the_others_of_its_round_go_on(
    services: Services, dispatcher: Dispatcher, channel: MemoryChannel, clock: ManualClock
) -> None:
    async with services.sessions.begin() as session:  # a state no key can read any more
        session.add(Conversation(channel=CHANNEL, user_id="U0", state=b"\x01" + b"x" * 40))
    await store(services, *(text_event(f"k{n}", f"U{n}", "สวัสดี") for n in range(4)))

    await dispatcher.drain()

    assert channel.keys("U0") == ["common.error"]
    assert all(channel.keys(f"U{n}") == ["menu.greeting"] for n in range(1, 4))
    assert await statuses(services) == ["failed", "done", "done", "done"]


# Photos: fetched, checked and staged beside the rounds ----------------------------------


@dataclass
class SlowPhone:
    """Photos that arrive only when the test lets them through (a slow phone network)."""

    media: MemoryMedia
    through: asyncio.Event = field(default_factory=asyncio.Event)
    asked: asyncio.Event = field(default_factory=asyncio.Event)  # a photo was asked for

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        self.asked.set()
        await self.through.wait()
        return await self.media.fetch(media, limit)


@pytest.fixture
def slow_phone(media: MemoryMedia) -> SlowPhone:
    return SlowPhone(media)


@pytest.fixture
def slow_dispatcher(
    services: Services, slow_phone: SlowPhone, channel: MemoryChannel
) -> Dispatcher:
    handler = ConversationHandler(services, {CHANNEL: slow_phone})
    return Dispatcher(handler, {CHANNEL: channel})


def document_files(tmp_path: Path) -> list[str]:
    """Every file under the document store, staged ones (".tmp-…") included."""
    return sorted(p.name for p in (tmp_path / "data").rglob("*") if p.is_file())


async def test_a_photo_on_its_way_keeps_nobody_else_waiting_and_its_sender_in_order(
    services: Services,
    slow_dispatcher: Dispatcher,
    slow_phone: SlowPhone,
    channel: MemoryChannel,
    chat: Chat,
) -> None:
    slow_phone.media.add("U0-card", sample_photo())
    await store(
        services,
        photo_event("p0", "U0", "U0-card"),
        text_event("t0", "U0", "สวัสดี"),  # sent after the photo: answered after it
        text_event("t1", "U1", "สวัสดี"),
    )

    while await slow_dispatcher.handle_round():  # the photo still on its way
        pass
    await slow_dispatcher.sender.settle()
    assert channel.keys("U1") == ["menu.greeting"]
    assert channel.keys("U0") == []
    assert await statuses(services) == ["pending", "pending", "done"]

    slow_phone.through.set()
    await slow_dispatcher.drain()

    expected = [*[r.key for r in await chat.photo()], *[r.key for r in await chat.send("สวัสดี")]]
    assert channel.keys("U0") == expected
    assert await statuses(services) == ["done", "done", "done"]


async def test_a_photo_is_fetched_as_soon_as_it_is_received_before_any_round(
    services: Services, slow_dispatcher: Dispatcher, slow_phone: SlowPhone
) -> None:
    slow_phone.media.add("U0-card", sample_photo())
    events = [text_event("t0", "U0", "สวัสดี"), photo_event("p0", "U0", "U0-card")]
    await store(services, *events)

    slow_dispatcher.received(events)  # as the webhook does once they are stored

    await slow_phone.asked.wait()  # no round ran: the photo is on its way already
    assert await statuses(services) == ["pending", "pending"]
    slow_phone.through.set()
    await slow_dispatcher.drain()
    assert await statuses(services) == ["done", "done"]


async def test_a_photo_its_turn_does_not_keep_leaves_no_file_behind(
    services: Services,
    slow_dispatcher: Dispatcher,
    slow_phone: SlowPhone,
    tmp_path: Path,
) -> None:
    slow_phone.media.add("U0-card", sample_photo())  # not asked for: nobody is at a photo step
    slow_phone.through.set()
    await store(services, photo_event("p0", "U0", "U0-card"))

    await slow_dispatcher.drain()

    assert await statuses(services) == ["done"]
    assert document_files(tmp_path) == []


async def test_a_photo_kept_by_its_turn_is_one_encrypted_document_and_no_staged_file(
    services: Services,
    slow_dispatcher: Dispatcher,
    slow_phone: SlowPhone,
    channel: MemoryChannel,
    chat: Chat,
    tmp_path: Path,
) -> None:
    buttons: dict[str, str] = {}  # label: data, of the last message that had buttons
    channel.on_delivery = lambda _, replies: buttons.update(
        {b.label: b.data for reply in replies for b in reply.buttons}
    )
    slow_phone.through.set()
    for number, turn in enumerate(STAFF):  # the whole form, the ID card's photo last
        key = f"k{number}"
        if turn.action == "send":
            await store(services, text_event(key, "U0", turn.value))
        elif turn.action == "tap":
            await store(services, button_event(key, "U0", buttons[turn.value]))
        else:
            slow_phone.media.add("the-card", card := sample_photo())
            await store(services, photo_event(key, "U0", "the-card"))
        await slow_dispatcher.drain()
        assert channel.keys("U0")[-1] == turn.then

    async with services.sessions() as session:
        names = list(await session.scalars(select(Document.storage_name)))
    assert len(names) == 1
    assert document_files(tmp_path) == names  # nothing staged is left over
    assert services.documents.read(names[0]).startswith(b"\xff\xd8")  # the JPEG, re-encoded
    on_disk = next((tmp_path / "data").rglob(names[0])).read_bytes()
    assert b"JFIF" not in on_disk  # encrypted at rest
    assert card[:64] not in on_disk


async def test_a_rounds_photos_are_kept_in_one_statement_each_as_its_senders_document(
    services: Services,
    slow_dispatcher: Dispatcher,
    slow_phone: SlowPhone,
    channel: MemoryChannel,
    engine: AsyncEngine,
) -> None:
    """Applicants move through the form together: a round's photos were one INSERT each,
    one after the other, 0.6-1.2 s for 128 of them on PostgreSQL (issue 13)."""
    people = [f"U{n}" for n in range(8)]
    slow_phone.through.set()
    *form, last = STAFF
    assert last.action == "photo"
    await walk_together(services, slow_dispatcher, channel, people, form)
    for person in people:
        slow_phone.media.add(f"{person}-card", sample_photo())
        await store(services, photo_event(f"{person}-photo", person, f"{person}-card"))

    with counting(engine) as counts:
        await slow_dispatcher.drain()

    assert {channel.keys(person)[-1] for person in people} == {last.then}
    inserts = [text for text in counts.texts if text.startswith("INSERT INTO documents")]
    assert len(inserts) < len(people)  # one a round: the photos come ready in one or two
    async with services.sessions() as session:
        documents = (await session.execute(select(Document.user_id, Document.slot))).all()
    assert sorted(documents) == [(person, "id_card") for person in people]


async def test_stopping_while_a_photo_is_on_its_way_loses_nothing_and_leaves_no_file(
    services: Services,
    slow_dispatcher: Dispatcher,
    slow_phone: SlowPhone,
    tmp_path: Path,
) -> None:
    slow_phone.media.add("U0-card", sample_photo())
    await store(services, photo_event("p0", "U0", "U0-card"))
    await slow_dispatcher.handle_round()  # the photo's work started

    await slow_dispatcher.stop()

    assert await statuses(services) == ["pending"]  # handled after the restart
    assert document_files(tmp_path) == []


async def test_a_reply_held_behind_another_processs_batch_goes_with_the_next_retry_round(
    services: Services, dispatcher: Dispatcher, channel: MemoryChannel, clock: ManualClock
) -> None:
    async with services.sessions.begin() as session:  # the group's earlier answer...
        earlier = await add_outgoing(
            session,
            services.vault,
            channel=CHANNEL,
            chat_id="group",
            messages=[{"key": "review.approved", "text": "อนุมัติแล้วค่ะ"}],
            now=clock.now(),
        )
    async with services.sessions.begin() as session:  # ...in another process's hands
        assert await claim_for_sending(session, earlier, clock.now())
    async with services.sessions.begin() as session:  # this process's round answers next
        [later] = await add_sending(
            session,
            services.vault,
            [
                NewOutgoing(
                    CHANNEL,
                    "group",
                    [{"key": "common.error", "text": "ขออภัยค่ะ"}],
                    None,
                    None,
                    None,
                )
            ],
            clock.now(),
        )
    dispatcher.sender.waits_for_another = 0  # in production it waits 2 s for the other first
    dispatcher.sender.send_later([later], behind={(CHANNEL, "group")})
    await dispatcher.sender.settle()
    assert channel.keys("group") == []  # in order: not before the earlier one

    async with services.sessions.begin() as session:  # the other process sent it
        await mark_all_sent(session, [earlier], clock.now())
    await dispatcher.deliver_due()  # this process's next retry round, no time later

    assert channel.keys("group") == ["common.error"]
