"""Rate limits: a flood from one person is refused politely, handled, and slows nobody else."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.flows.engine import Turn
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import SubmitApplication, Text
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.media import MemoryMedia
from bot.handlers.rate_limits import RateLimits
from core.clock import ManualClock
from core.delivery.inbox import NewEvent
from core.delivery.inbox_writer import InboxWriter
from core.storage.models import InboxEvent
from tests.handlers.chat import Chat, sample_photo
from tests.handlers.memory_channel import CHANNEL, MemoryChannel, photo_event, text_event

WALK = ["สมัคร", "ค่ะ", "ย้อนกลับ", "ใช่", "ยกเลิก"]
FLOOD = 500


class WatchedPhotos(dict[str, bytes]):
    """The platform's photo store, noting each photo the bot fetched."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []

    def __getitem__(self, ref: str) -> bytes:
        self.fetched.append(ref)
        return super().__getitem__(ref)


@pytest.fixture
def channel() -> MemoryChannel:
    return MemoryChannel()


def dispatcher_with(
    handler: ConversationHandler, channel: MemoryChannel, limits: RateLimits
) -> Dispatcher:
    return Dispatcher(handler, {CHANNEL: channel}, limits=limits)


async def store(services: Services, *events: NewEvent) -> None:
    await InboxWriter(services.sessions, services.vault, services.clock)(list(events))


async def statuses(services: Services) -> dict[str, str]:
    async with services.sessions() as session:
        rows = await session.execute(select(InboxEvent.key, InboxEvent.status))
    return {key.removeprefix(f"{CHANNEL}:"): status for key, status in rows}


async def walk_alone(chat: Chat) -> list[str]:
    """The replies one person gets for WALK when nobody else writes."""
    replies = []
    for text in WALK:
        await chat.send(text)
        replies.extend(chat.reply_keys)
    return replies


async def test_a_flood_of_500_messages_a_minute_is_throttled_and_another_person_goes_on(
    services: Services,
    handler: ConversationHandler,
    channel: MemoryChannel,
    clock: ManualClock,
    chat: Chat,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bmabot.security")
    dispatcher = dispatcher_with(handler, channel, RateLimits(messages_per_minute=30))
    calm = iter(WALK)
    for n in range(FLOOD):  # 500 messages in 50 s, the other person's answers among them
        events = [text_event(f"flood-{n}", "Uflood", f"สวัสดี {n}")]
        if n % 100 == 0:
            events.append(text_event(f"calm-{n // 100}", "Ucalm", next(calm)))
        await store(services, *events)
        clock.advance(seconds=0.1)

    await dispatcher.drain()

    flooded = channel.keys("Uflood")
    assert flooded.count("limits.messages") == 1  # told once in the minute, not 470 times
    assert len(flooded) == 30 + 1  # 30 messages answered, then the notice
    assert flooded[30] == "limits.messages"
    assert channel.keys("Ucalm") == await walk_alone(chat)  # in order, none refused
    assert set((await statuses(services)).values()) == {"done"}  # all 505 handled
    logged = [r.getMessage() for r in caplog.records if "rate_limited" in r.getMessage()]
    assert len(logged) == 1
    assert "limit=messages channel=memory" in logged[0]
    assert "Uflood" not in logged[0]


async def test_after_the_minute_the_person_is_answered_again(
    services: Services, handler: ConversationHandler, channel: MemoryChannel, clock: ManualClock
) -> None:
    dispatcher = dispatcher_with(handler, channel, RateLimits(messages_per_minute=3))
    await store(services, *(text_event(f"a{n}", "U1", "สวัสดี") for n in range(5)))
    await dispatcher.drain()
    clock.advance(seconds=61)
    await store(services, text_event("later", "U1", "สวัสดี"))
    await dispatcher.drain()

    keys = channel.keys("U1")
    assert keys.count("limits.messages") == 1
    assert keys[-1] != "limits.messages"  # the message after the minute got its answer


async def test_a_flood_delays_another_persons_turns_by_no_round(
    services: Services, handler: ConversationHandler, channel: MemoryChannel, clock: ManualClock
) -> None:
    """Each round takes the next event of each person: a backlog of 200 is the flooder's."""
    dispatcher = dispatcher_with(handler, channel, RateLimits(messages_per_minute=30))
    await store(services, *(text_event(f"flood-{n}", "Uflood", "สวัสดี") for n in range(200)))
    await store(services, *(text_event(f"calm-{n}", "Ucalm", t) for n, t in enumerate(WALK)))

    for round_number in range(1, len(WALK) + 1):
        await dispatcher.handle_round()
        done = await statuses(services)
        calm_done = [n for n in range(len(WALK)) if done[f"calm-{n}"] == "done"]
        assert calm_done == list(range(round_number))  # one answer a round, in order
    await dispatcher.drain()
    assert set((await statuses(services)).values()) == {"done"}


async def test_photos_over_the_hours_limit_are_refused_unfetched(
    services: Services,
    channel: MemoryChannel,
    tmp_path: Path,
) -> None:
    photos = WatchedPhotos()
    for n in range(4):
        photos[f"card-{n}"] = sample_photo()
    phone = ConversationHandler(services, {CHANNEL: MemoryMedia(photos)})
    dispatcher = dispatcher_with(phone, channel, RateLimits(photos_per_hour=2))
    await store(services, *(photo_event(f"p{n}", "U1", f"card-{n}") for n in range(4)))
    dispatcher.received([])
    await dispatcher.drain()

    keys = channel.keys("U1")
    assert keys.count("limits.photos") == 1
    assert sorted(set(photos.fetched)) == ["card-0", "card-1"]  # the others never fetched
    assert set((await statuses(services)).values()) == {"done"}
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file()] == []  # nothing kept


def submitting() -> Turn:
    submit = SubmitApplication("staff", {}, None, {})
    return Turn(None, (Text("apply.submitted"),), (submit,))


def test_a_request_over_the_days_limit_is_not_played_and_the_form_stays() -> None:
    limits = RateLimits(messages_per_minute=0, requests_per_day=1)
    person = Incoming(CHANNEL, "U1", "U1", Kind.BUTTON, data="submit")
    saved = {"flow": "apply", "step": "confirm", "answers": {}}
    clock = ManualClock()

    first = limits.admit(person, clock.now(), saved, submitting)
    clock.advance(hours=2)
    second = limits.admit(person, clock.now(), saved, submitting)
    clock.advance(hours=23)
    next_day = limits.admit(person, clock.now(), saved, submitting)

    assert first.refused is None
    assert second.refused == "requests"
    assert second.turn.effects == ()
    assert [m.key for m in second.turn.messages if isinstance(m, Text)] == ["limits.requests"]
    assert next_day.refused is None


def test_zero_means_no_limit() -> None:
    limits = RateLimits.unlimited()
    person = Incoming(CHANNEL, "U1", "U1", Kind.TEXT, text="สวัสดี")
    clock = ManualClock()
    admitted = [limits.admit(person, clock.now(), None, lambda: Turn(None)) for _ in range(1000)]
    assert all(a.refused is None for a in admitted)
