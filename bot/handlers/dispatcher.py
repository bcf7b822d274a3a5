"""The dispatcher: inbox events handled in order per person, many people per transaction.

A round takes the oldest pending event of each of up to `batch_size` people, fetches their
photos, then runs all their turns in one transaction: it claims the events, loads every
conversation at once, runs each turn (a failing one is undone alone and answered with an
apology), and stores the states, the replies (outbox) and the "done" marks together. The
replies are sent after the commit while the next round runs; marking them sent rides on
the next commit. A crash in between sends late (from the outbox), never loses, and never
handles an event twice: see core/outbox.py for how a reply is not said twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.incoming import Incoming
from bot.handlers.channels import Channel, DeliveryError
from bot.handlers.conversation import ConversationHandler
from bot.handlers.locks import KeyedLocks
from bot.handlers.rendering import Rendered, to_json
from core.conversations import Person, load_states, save_states
from core.images import CheckedImage, ImageRefused
from core.inbox import FAILED, QUARANTINED, StoredEvent, claim, finish_events, next_events
from core.outbox import (
    SENDING_LEASE,
    NewOutgoing,
    Outgoing,
    add_sending,
    chat_queue,
    chats_with_due,
    give_up,
    mark_all_sent,
    try_later,
    unsent_before,
)

logger = logging.getLogger(__name__)

REPLY_WINDOW = timedelta(seconds=50)  # LINE's reply tokens last about a minute
MAX_DELIVERY_ATTEMPTS = 8
BATCH_SIZE = 64  # people whose turns share one transaction, at most
# Turns of one round take about this long, so webhooks waiting for SQLite's write lock
# are answered soon: the round's size follows how long turns have been taking.
ROUND_SECONDS = 0.015
SENDING_AT_ONCE = 64  # chats being sent to at the same time
Photo = CheckedImage | ImageRefused | None
Chat = tuple[str, str]  # (channel, chat_id)


@dataclass(slots=True)
class Reading:
    """A stored event as the channel reads it; quarantined when it cannot be read at all."""

    event: StoredEvent
    incoming: Incoming | None
    quarantined: bool = False
    photo: Photo = None


@dataclass(slots=True)
class Round:
    """What a round's transaction stores at its end."""

    done: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    states: dict[Person, dict[str, Any] | None] = field(default_factory=dict)
    replies: list[NewOutgoing] = field(default_factory=list)
    observed: list[tuple[str, str, float]] = field(default_factory=list)  # told once committed


class Observer(Protocol):
    """Told what happens, for /metrics."""

    def handled(self, channel: str, outcome: str, seconds: float) -> None:
        """An event's outcome (done, failed, quarantined) and its turn's time."""

    def delivered(self, channel: str, outcome: str) -> None:
        """A reply batch sent, to be retried, or failed for good."""


class Unobserved:
    def handled(self, channel: str, outcome: str, seconds: float) -> None:
        return None

    def delivered(self, channel: str, outcome: str) -> None:
        return None


class Dispatcher:
    def __init__(
        self,
        handler: ConversationHandler,
        channels: Mapping[str, Channel],
        *,
        loading_after: float = 1.0,
        poll_interval: float = 2.0,
        batch_size: int = BATCH_SIZE,
        observer: Observer | None = None,
        send_lease: timedelta = SENDING_LEASE,
        round_seconds: float | None = ROUND_SECONDS,
    ) -> None:
        self.handler = handler
        self.channels = channels
        self.loading_after = loading_after
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.observer = observer or Unobserved()
        self.send_lease = send_lease
        self.round_seconds = round_seconds  # None: every round batch_size people, if waiting
        self._services = handler.services
        self._chats = KeyedLocks()
        self._at_once = asyncio.Semaphore(SENDING_AT_ONCE)
        self._queues: dict[Chat, deque[Outgoing | int]] = {}  # int: first what is stored
        self._senders: dict[Chat, asyncio.Task[None]] = {}
        self._sent: list[int] = []  # delivered, to be marked in the next transaction
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_retry_round = float("-inf")
        self._turn_seconds = 0.001  # a running average of how long one turn takes

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until stopped: handle what waits, round after round; retry deliveries when due."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            handled = 0
            try:
                handled = await self.handle_round()
                if not handled or loop.time() - self._last_retry_round > self.poll_interval:
                    self._last_retry_round = loop.time()
                    await self._mark_sent()
                    await self.deliver_due()
            except Exception:
                logger.exception("dispatcher round failed; trying again")
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def stop(self) -> None:
        """Take no new events; finish sending what was handled and mark it sent."""
        self._stopping = True
        self._wake.set()
        await self._settle_sending()
        await self._mark_sent()

    async def drain(self) -> None:
        """Handle everything pending now and deliver what is due (for tests and shutdown)."""
        while await self.handle_round():
            pass
        await self._settle_sending()
        await self._mark_sent()
        await self.deliver_due()

    # Turns ------------------------------------------------------------------------------

    async def handle_round(self) -> int:
        """One round: up to batch_size people's next events. Returns how many were read."""
        services = self._services
        async with services.sessions() as session:
            events = await next_events(session, services.vault, self.channels, self._round_size())
        if not events:
            return 0
        readings = [self._read(event) for event in events]
        notice = asyncio.create_task(self._loading_notice(readings))
        try:
            await self._fetch_photos(readings)
            try:
                await self._run_turns(readings)
            except Exception:
                logger.exception("a round of %d events failed; one at a time now", len(events))
                await self._one_at_a_time(readings)
        finally:
            notice.cancel()
        return len(events)

    def _round_size(self) -> int:
        if self.round_seconds is None:
            return self.batch_size
        fits = int(self.round_seconds / max(self._turn_seconds, 1e-4))
        return max(1, min(self.batch_size, fits))

    def _read(self, event: StoredEvent) -> Reading:
        try:
            incoming = self.channels[event.channel].to_incoming(event.payload)
        except Exception as error:
            # Logged once: a quarantined event is never read again. No payload: it is personal.
            logger.warning(
                "event %s on %s cannot be read (%s): quarantined",
                event.id,
                event.channel,
                type(error).__name__,
            )
            return Reading(event, None, quarantined=True)
        return Reading(event, incoming)

    async def _fetch_photos(self, readings: list[Reading]) -> None:
        """Photos are fetched and checked before the transaction: slow work holds no lock."""

        async def fetch(reading: Reading) -> None:
            assert reading.incoming is not None
            try:
                reading.photo = await self.handler.checked_photo(reading.incoming)
            except Exception:
                logger.exception("a photo on %s could not be fetched", reading.event.channel)

        await asyncio.gather(
            *(fetch(r) for r in readings if r.incoming is not None and r.incoming.media)
        )

    async def _run_turns(self, readings: list[Reading]) -> None:
        """The round's turns in one transaction; any turn that raises undoes the round."""
        services = self._services
        loop = asyncio.get_running_loop()
        async with services.sessions.begin() as session:
            claimed = await claim(session, [reading.event.id for reading in readings])
            todo = [reading for reading in readings if reading.event.id in claimed]
            people = [_person(r.incoming) for r in todo if self._is_own_turn(r)]
            saved = await load_states(session, services.vault, people)
            result = Round()
            started = loop.time()
            for reading in todo:
                await self._turn(session, reading, saved, result)
            if result.done:
                took = (loop.time() - started) / len(result.done)
                self._turn_seconds = 0.8 * self._turn_seconds + 0.2 * took
            await self._store(session, result)
            sent = list(self._sent)
            await mark_all_sent(session, sent, services.clock.now())
            sending, behind = await self._queue(session, result.replies)
        del self._sent[: len(sent)]
        for channel, outcome, seconds in result.observed:
            self.observer.handled(channel, outcome, seconds)
        self._send_later(sending, behind)

    async def _queue(
        self, session: AsyncSession, replies: list[NewOutgoing]
    ) -> tuple[list[Outgoing], set[Chat]]:
        """Store replies to send after the commit, and which of their chats have older ones."""
        services = self._services
        now = services.clock.now()
        sending = await add_sending(session, services.vault, replies, now, self.send_lease)
        if not sending:
            return [], set()
        chats = {(outgoing.channel, outgoing.chat_id) for outgoing in sending}
        older = await unsent_before(session, chats, sending[0].id, now)
        ours = self._ours()
        return sending, {chat for chat, row_id in older if row_id not in ours}

    def _is_own_turn(self, reading: Reading) -> bool:
        incoming = reading.incoming
        return incoming is not None and not self.handler.wants_review(incoming)

    async def _turn(
        self,
        session: AsyncSession,
        reading: Reading,
        saved: Mapping[Person, dict[str, Any] | None],
        result: Round,
    ) -> None:
        event, incoming = reading.event, reading.incoming
        if reading.quarantined:
            result.quarantined.append(event.id)
            result.observed.append((event.channel, QUARANTINED, 0.0))
            return
        if incoming is None:
            result.done.append(event.id)  # nothing to answer (an edit, a sticker pack, ...)
            return
        person = _person(incoming)
        if person in result.states:
            return  # the same conversation twice in one round: the second waits for the next
        started = asyncio.get_running_loop().time()
        if self.handler.wants_review(incoming):
            replies = await self.handler.turn(session, incoming, reading.photo)
        else:
            step = await self.handler.step(session, incoming, reading.photo, saved.get(person))
            result.states[person] = step.state
            replies = step.replies
        result.done.append(event.id)
        took = asyncio.get_running_loop().time() - started
        result.observed.append((event.channel, "done", took))
        if replies:
            result.replies.append(_replies(event, incoming, replies))

    async def _store(self, session: AsyncSession, result: Round) -> None:
        services, now = self._services, self._services.clock.now()
        await save_states(session, services.vault, list(result.states.items()), now)
        await finish_events(session, result.done, now)
        await finish_events(session, result.failed, now, status=FAILED)
        await finish_events(session, result.quarantined, now, status=QUARANTINED)

    async def _one_at_a_time(self, readings: list[Reading]) -> None:
        """After a round failed as a whole: each event alone, so one cannot stop the others."""
        for reading in readings:
            try:
                await self._run_turns([reading])
            except Exception:
                logger.exception(
                    "event %s on %s could not be handled", reading.event.id, reading.event.channel
                )
                await self._give_up_on(reading)

    async def _give_up_on(self, reading: Reading) -> None:
        """Mark the event failed and tell the person, in a transaction of its own."""
        event = reading.event
        async with self._services.sessions.begin() as session:
            if not await claim(session, [event.id]):
                return
            result = Round(failed=[event.id])
            if reading.incoming is not None:
                result.replies.append(_replies(event, reading.incoming, self.handler.apology()))
            await self._store(session, result)
            sending, behind = await self._queue(session, result.replies)
        self.observer.handled(event.channel, FAILED, 0.0)
        self._send_later(sending, behind)

    async def _loading_notice(self, readings: list[Reading]) -> None:
        """When a round is slow, the people waiting for it see that the bot is working."""
        await asyncio.sleep(self.loading_after)
        waiting = [
            (self.channels[r.event.channel], r.incoming)
            for r in readings
            if r.incoming is not None and not r.incoming.in_group
        ]
        await asyncio.gather(
            *(_quietly(channel.show_loading(incoming)) for channel, incoming in waiting)
        )

    # Delivery ---------------------------------------------------------------------------

    def _send_later(self, sending: list[Outgoing], behind: set[Chat]) -> None:
        """Queue a round's replies: each chat's in order, after what it was sent before."""
        for outgoing in sending:
            chat = (outgoing.channel, outgoing.chat_id)
            queue = self._queues.setdefault(chat, deque())
            if chat in behind:
                behind.discard(chat)
                queue.append(outgoing.id)  # first the chat's older stored batches
            queue.append(outgoing)
            if chat not in self._senders:
                task = asyncio.create_task(self._send_queue(chat, queue))
                self._senders[chat] = task
                task.add_done_callback(partial(self._sender_done, chat))

    def _sender_done(self, chat: Chat, task: asyncio.Task[None]) -> None:
        self._senders.pop(chat, None)
        self._wake.set()  # mark what went out soon

    async def _send_queue(self, chat: Chat, queue: deque[Outgoing | int]) -> None:
        channel = self.channels[chat[0]]
        try:
            while queue:
                item = queue[0]
                async with self._chats.hold(chat), self._at_once:
                    if isinstance(item, int):
                        sent = await self._deliver_stored(*chat, before_id=item)
                    elif sent := await self._send(channel, item):
                        self._sent.append(item.id)
                if not sent:
                    break  # what is left waits behind it: the retry round sends it
                queue.popleft()
        except Exception:
            logger.exception("sending to a chat failed; the retry round takes over")
        finally:
            self._queues.pop(chat, None)

    def _ours(self) -> frozenset[int]:
        """Rows this process has sent (not yet marked) or is about to send."""
        queued = (
            item.id for q in self._queues.values() for item in q if not isinstance(item, int)
        )
        return frozenset((*self._sent, *queued))

    async def _settle_sending(self) -> None:
        while self._senders:
            await asyncio.gather(*list(self._senders.values()), return_exceptions=True)

    async def _mark_sent(self) -> None:
        if not self._sent:
            return
        sent = list(self._sent)
        async with self._services.sessions.begin() as session:
            await mark_all_sent(session, sent, self._services.clock.now())
        del self._sent[: len(sent)]

    async def deliver_due(self) -> None:
        async with self._services.sessions() as session:
            chats = await chats_with_due(session, self._services.clock.now())
        for channel, chat_id in chats:
            if channel in self.channels:
                await self.deliver(channel, chat_id)

    async def deliver(self, channel_name: str, chat_id: str) -> None:
        """Send a chat's stored batches in order; one that must wait holds back those after it."""
        async with self._chats.hold((channel_name, chat_id)):
            await self._deliver_stored(channel_name, chat_id)

    async def _deliver_stored(
        self, channel_name: str, chat_id: str, before_id: int | None = None
    ) -> bool:
        """Send what is due; True when nothing (older than before_id) is left waiting."""
        services = self._services
        async with services.sessions() as session:
            due = await chat_queue(
                session,
                services.vault,
                channel_name,
                chat_id,
                services.clock.now(),
                before_id,
                self._ours(),
            )
        for outgoing in due.batches:
            if not await self._send(self.channels[channel_name], outgoing):
                return False
            async with services.sessions.begin() as session:
                await mark_all_sent(session, [outgoing.id], services.clock.now())
        return not due.held_back

    async def _send(self, channel: Channel, outgoing: Outgoing) -> bool:
        """Deliver one batch; False when it must wait (and so must the chat's later ones)."""
        try:
            await channel.send(outgoing, self._services.clock.now())
        except DeliveryError as error:
            await self._after_failure(outgoing, error)
            return not error.retryable
        except Exception as error:  # an odd row must not stop the others: retried, then failed
            logger.exception("delivery %s failed unexpectedly", outgoing.id)
            await self._after_failure(
                outgoing, DeliveryError(f"unexpected {type(error).__name__}", retryable=True)
            )
            return False
        self.observer.delivered(outgoing.channel, "sent")
        return True

    async def _after_failure(self, outgoing: Outgoing, error: DeliveryError) -> None:
        now = self._services.clock.now()
        async with self._services.sessions.begin() as session:
            if error.retryable and outgoing.attempts + 1 < MAX_DELIVERY_ATTEMPTS:
                await try_later(
                    session, outgoing.id, now, backoff(outgoing.attempts, error), str(error)
                )
                logger.warning("delivery %s will be retried: %s", outgoing.id, error)
                self.observer.delivered(outgoing.channel, "retry")
            else:
                await give_up(session, outgoing.id, now, str(error))
                logger.error("delivery %s failed for good: %s", outgoing.id, error)
                self.observer.delivered(outgoing.channel, "failed")


def _person(incoming: Incoming | None) -> Person:
    assert incoming is not None
    return (incoming.channel, incoming.user_id)


def _replies(event: StoredEvent, incoming: Incoming, replies: list[Rendered]) -> NewOutgoing:
    return NewOutgoing(
        channel=event.channel,
        chat_id=incoming.chat_id,
        messages=[to_json(reply) for reply in replies],
        reply_token=incoming.reply_token,
        reply_by=event.received_at + REPLY_WINDOW,
        inbox_event_id=event.id,
    )


async def _quietly(call: Awaitable[None]) -> None:
    with contextlib.suppress(Exception):
        await call


def backoff(attempts: int, error: DeliveryError) -> timedelta:
    if error.retry_after is not None:
        return timedelta(seconds=error.retry_after)
    base = min(300.0, 2.0 ** (attempts + 1))
    return timedelta(seconds=base + random.uniform(0, base / 4))  # jitter spreads retries
