"""The dispatcher: inbox events handled in order per person, many people per transaction.

A round takes the oldest pending event of each of up to `batch_size` people (a photo joins
once it is fetched and checked, beside the rounds: photo_checks.py); it plans their turns
from the states read (the pure part, outside any lock),
then stores them in one transaction that claims the events, checks nobody's state changed
meanwhile, runs the effects and reviewers' decisions, and stores the states, the replies
(outbox) and the "done" marks together. A turn that raises undoes its transaction; the
round's events are then handled one at a time, the failing one answered with an apology.
The replies go to the Sender (sender.py) after the commit, while the next round runs.
A crash in between sends late, never loses, never handles an event twice.

With a backlog, the next round is read and planned while one is stored (run()): it leaves
out the people whose events are in the round being stored, so each person still has one
turn in hand at a time, and the rounds are stored one after the other, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from bot.flows.engine import Turn
from bot.flows.incoming import Incoming
from bot.handlers.channels import Channel
from bot.handlers.conversation import ConversationHandler, Step
from bot.handlers.effects import Ahead
from bot.handlers.photo_checks import NOT_READY, PhotoChecks
from bot.handlers.rate_limits import RateLimits
from bot.handlers.rendering import Rendered, to_json
from bot.handlers.sender import Observer, Sender, Unobserved
from core.delivery.conversations import Person, load_sealed, load_sealed_on, unseal
from core.delivery.inbox import (
    FAILED,
    QUARANTINED,
    NewEvent,
    StoredEvent,
    claim,
    claim_on,
    next_events_on,
)
from core.delivery.outbox import (
    SENDING_LEASE,
    NewOutgoing,
)
from core.delivery.person_claims import PersonClaims
from core.delivery.rounds import (
    Round,
    SealedRound,
    Stored,
    seal_round,
    store_round,
    store_sealed_on,
)
from core.storage.db import Session, SqliteThreads, SyncConnection, on_connection
from core.storage.documents import Photo, settle_files

logger = logging.getLogger(__name__)

REPLY_WINDOW = timedelta(seconds=50)  # LINE's reply tokens last about a minute
# People whose turns share one round (one read, one transaction), at most. On PostgreSQL
# every statement is a round trip on the event loop, and a round costs about as much for
# 128 people as for 64: measured (issue 13, c=64), 1,048-1,055 finished turns/s against
# 737-784 with 64, about the same at c=16. On SQLite's threads 128 gave no more turns
# (1,035-1,178 against 902-1,079) and 9 MB more memory, 256-512 up to 24 MB
# (bench/README.md, fifth session).
BATCH_SIZE = 128
SQLITE_BATCH_SIZE = 64
PLANS_BETWEEN_BREATHS = 8  # turns planned before webhooks get the event loop again
T = TypeVar("T")


@dataclass(slots=True, eq=False)  # each reading is itself: a key by identity
class Reading:
    """A stored event as the channel reads it; quarantined when it cannot be read at all."""

    event: StoredEvent
    incoming: Incoming | None
    quarantined: bool = False
    photo: Photo = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A person's turn as planned from the state read before the transaction."""

    turn: Turn
    settled: Step | None  # the turn asks for no effect: its outcome, ready
    seconds: float  # how long planning took
    outcome: str = "done"  # or "throttled": over a rate limit, the turn changes nothing


@dataclass(slots=True, eq=False)
class PlannedRound:
    """A round read and planned, to be stored; its events stay in hand until then."""

    readings: list[Reading]
    notice: asyncio.Task[None]  # "loading" shown to its people if storing it is slow
    plans: dict[Reading, Plan] | None = None  # None: planning failed, one at a time then
    states: Mapping[Person, bytes | None] | None = None


class StateChangedError(Exception):
    """Someone's state changed between reading it and storing their turn."""


class Dispatcher:
    def __init__(
        self,
        handler: ConversationHandler,
        channels: Mapping[str, Channel],
        *,
        loading_after: float = 1.0,
        poll_interval: float = 2.0,
        batch_size: int | None = None,  # by default BATCH_SIZE, SQLITE_BATCH_SIZE with threads
        observer: Observer | None = None,
        send_lease: timedelta = SENDING_LEASE,
        threads: SqliteThreads | None = None,
        limits: RateLimits | None = None,
        claims: PersonClaims | None = None,
    ) -> None:
        self.handler = handler
        self.channels = channels
        self.loading_after = loading_after
        self.poll_interval = poll_interval
        self.batch_size = batch_size or (BATCH_SIZE if threads is None else SQLITE_BATCH_SIZE)
        # Rounds smaller than this are stored before the next is read: overlapping them
        # pays only with a backlog (measured: at c=1 and c=16 it cost 20-70 % more CPU a
        # turn, in reads that found little or nothing new).
        self.overlap_from = max(1, self.batch_size // 2)
        self.observer = observer or Unobserved()
        self.send_lease = send_lease
        self._threads = threads  # SQLite: a round's reads and writes, one hand-off each
        self._claims = claims  # PostgreSQL: the people this server reads, no other server
        self.limits = limits or RateLimits.unlimited()
        self._services = handler.services
        self._wake = asyncio.Event()
        self.sender = Sender(handler.services, channels, self.observer, self.wake, send_lease)
        self._one_round = asyncio.Lock()  # reading and planning: one round at a time
        self._in_hand: set[str] = set()  # keys of events read and not yet stored
        self._empty_hand = asyncio.Event()  # set while _in_hand is empty
        self._empty_hand.set()
        self._photos = PhotoChecks(ready=self.wake, discard=handler.discard)
        self._stopping = False
        self._stopped = asyncio.Event()  # set while run() is not running
        self._stopped.set()
        self._last_retry_round = float("-inf")

    def wake(self) -> None:
        self._wake.set()

    def received(self, events: Sequence[NewEvent]) -> None:
        """Events just stored by a webhook: handled in the rounds; a photo's fetching and
        checking starts now, while the person's earlier events are handled."""
        for event in events:
            channel = self.channels.get(event.channel)
            try:
                incoming = None if channel is None else channel.to_incoming(event.payload)
            except Exception:
                continue  # the round that reads it quarantines it
            if incoming is None or not incoming.media:
                continue
            if not self.limits.over_photos(incoming, self._now()):
                self._photos.start(event.key, partial(self.handler.checked_photo, incoming))
        self.wake()

    async def run(self) -> None:
        """Until stopped: handle what waits, round after round; retry deliveries when due."""
        self._stopped.clear()
        try:
            await self._settle_files()
            await self._run()
        finally:
            self._stopped.set()

    async def _settle_files(self) -> None:
        """The photos' files made to agree with their rows (what a crash left behind). The
        rounds go on without it when it cannot be done (the next start tries again)."""
        try:
            await settle_files(self._services.sessions, self._services.documents)
        except Exception:
            logger.exception("could not settle the photos' files with their rows")

    async def _run(self) -> None:
        """Round after round; the next is read and planned while a large one is stored.

        Measured (issue 13, c=64): reading and planning a round took about as long as
        storing one, each waiting for its thread in turn; overlapping them is what keeps
        the turns up with the webhooks. A small round (no backlog) is stored first.
        """
        loop = asyncio.get_running_loop()
        storing: asyncio.Task[None] | None = None
        try:
            while not self._stopping:
                self._wake.clear()
                handled, was_storing = 0, storing is not None
                try:
                    async with self._one_round:
                        handled, planned = await self._plan_round()
                    try:
                        if storing is not None:
                            await storing  # stored in order, one round after the other
                    except BaseException:  # cancelled: nothing of the planned round stays
                        if planned is not None:  # in hand, its events are read again
                            self._let_go(planned)
                        raise
                    storing = None
                    if planned is not None and len(planned.readings) >= self.overlap_from:
                        storing = asyncio.create_task(self._store_round(planned))
                    elif planned is not None:  # a small round: no backlog to read meanwhile
                        await self._store_round(planned)
                    idle = not handled and not was_storing
                    if idle or loop.time() - self._last_retry_round > self.poll_interval:
                        self._last_retry_round = loop.time()
                        await self.sender.mark_sent()
                        await self.sender.deliver_due()
                except Exception:  # the database away, say: try again after a while
                    logger.exception("dispatcher round failed; trying again")
                    handled, was_storing = 0, False
                if handled or was_storing:  # the round stored may have let its people on
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            if storing is not None:
                await storing

    async def _rounds_in_hand_stored(self) -> bool:
        """Wait until the rounds run() has read are stored; whether there were any."""
        if not self._in_hand:
            return False
        await self._empty_hand.wait()
        return True

    async def deliver_due(self) -> None:
        await self.sender.deliver_due()

    async def deliver(self, channel_name: str, chat_id: str) -> None:
        await self.sender.deliver(channel_name, chat_id)

    async def stop(self) -> None:
        """Take no new events; finish sending what was handled and mark it sent."""
        self._stopping = True
        self._wake.set()
        await self._stopped.wait()  # the round in hand, and its deliveries, end first
        await self._photos.close()
        await self.sender.settle()
        await self.sender.mark_sent()

    async def drain(self) -> None:
        """Handle everything pending now and deliver what is due (for tests and shutdown)."""
        while (
            await self.handle_round()
            or await self._photos.wait()
            or await self._rounds_in_hand_stored()
        ):
            pass
        await self.sender.settle()
        await self.sender.mark_sent()
        await self.sender.deliver_due()

    # Turns ------------------------------------------------------------------------------

    async def handle_round(self) -> int:
        """One round: up to batch_size people's next events. Returns how many were read.

        One round at a time (drain() beside run()): a person's next event is read only
        after the round that handled their last one is stored.
        """
        async with self._one_round:
            handled, planned = await self._plan_round()
            if planned is not None:
                await self._store_round(planned)
            return handled

    async def _plan_round(self) -> tuple[int, PlannedRound | None]:
        """Read up to batch_size people's next events and plan their turns: (events read,
        the round to store). People with an event in a round not yet stored sit it out."""
        self._photos.forget_unclaimed(asyncio.get_running_loop().time())
        vault, limit = self._services.vault, self.batch_size
        skip = [*self._photos.waiting(), *self._in_hand]
        if self._claims is not None:  # held until stored (a photo's person: until its turn)
            events = await self._claims.next_events(vault, self.channels, limit, skip)
        else:
            read = partial(
                next_events_on, vault=vault, channels=self.channels, limit=limit, skip=skip
            )
            events = await self._reading(read)
        readings = [r for r in map(self._read, events) if self._photo_ready(r)]
        if not readings:
            return len(events), None  # photos now on their way: their people sit out a while
        planned = PlannedRound(readings, asyncio.create_task(self._loading_notice(readings)))
        self._in_hand.update(reading.event.key for reading in readings)
        self._empty_hand.clear()
        try:
            planned.plans, planned.states = await self._planned(readings)
        except Exception:
            logger.exception("a round of %d events failed; one at a time now", len(readings))
        except BaseException:  # cancelled: nothing of the round stays in hand
            self._let_go(planned)
            raise
        return len(events), planned

    async def _store_round(self, planned: PlannedRound) -> None:
        """Store a planned round (never raises: a round that fails is read again later)."""
        readings = planned.readings
        try:
            if planned.plans is None or planned.states is None:
                await self._one_at_a_time(readings)
            else:
                try:
                    await self._store_turns(readings, planned.plans, planned.states)
                except Exception:
                    logger.exception(
                        "a round of %d events failed; one at a time now", len(readings)
                    )
                    await self._one_at_a_time(readings)
        except Exception:
            logger.exception("dispatcher round failed; its events are read again")
        finally:
            try:  # stored, or to be read again: their next events are any server's
                if self._claims is not None:
                    await self._claims.give_back({_owner(reading) for reading in readings})
            finally:  # only then read again here, so never planned here while unheld
                self._let_go(planned)

    def _let_go(self, planned: PlannedRound) -> None:
        planned.notice.cancel()
        for reading in planned.readings:
            self._in_hand.discard(reading.event.key)
            self.handler.discard(reading.photo)  # staged and not kept by its turn
        if not self._in_hand:
            self._empty_hand.set()

    def _read(self, event: StoredEvent) -> Reading:
        if event.unreadable:  # stored, but not decryptable: logged once, never read again
            logger.warning(
                "event %s on %s cannot be decrypted: quarantined", event.id, event.channel
            )
            return Reading(event, None, quarantined=True)
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

    def _photo_ready(self, reading: Reading) -> bool:
        """Whether a reading can be played now: it has no photo, or its photo is ready.

        Photos are fetched, checked and staged beside the rounds, never inside one: slow
        work holds no lock and keeps nobody else waiting.
        """
        incoming = reading.incoming
        if incoming is None or not incoming.media:
            return True
        key = reading.event.key
        if key not in self._photos and self.limits.over_photos(
            incoming, reading.event.received_at
        ):
            return True  # a photo over the limit is refused unseen: no need to fetch it
        photo = self._photos.take(key, partial(self.handler.checked_photo, incoming))
        if photo is NOT_READY:
            return False
        reading.photo = photo
        return True

    async def _run_turns(self, readings: list[Reading]) -> None:
        plans, read = await self._planned(readings)
        await self._store_turns(readings, plans, read)

    async def _planned(
        self, readings: list[Reading]
    ) -> tuple[dict[Reading, Plan], Mapping[Person, bytes | None]]:
        """Plan the round's turns without the write lock: (the plans, the states read)."""
        reviewers = [r.incoming for r in readings if r.incoming and not self._is_own_turn(r)]
        if reviewers:  # their names, before any transaction: LINE may have to be asked
            await self.handler.names.learn(reviewers)
        people = [_person(r.incoming) for r in readings if self._is_own_turn(r)]
        read = await self._reading(partial(load_sealed_on, people=people, lock=False))
        return await self._plan(readings, read), read

    async def _store_turns(
        self,
        readings: list[Reading],
        plans: Mapping[Reading, Plan],
        read: Mapping[Person, bytes | None],
    ) -> None:
        """Store the planned turns: on SQLite those that need nothing but storing in one
        hand-off to the writer thread, the others (effects, reviewers' decisions) in a
        transaction of the session. A turn that raises undoes its transaction."""
        rest = readings
        if self._threads is not None:  # SQLite: what needs only storing, in one hand-off
            quick = [reading for reading in readings if _settled(reading, plans)]
            rest = [reading for reading in readings if not _settled(reading, plans)]
            if quick:
                try:
                    await self._settle_quickly(self._threads, quick, plans, read)
                except StateChangedError:
                    rest = readings  # then all of it the general way, below
        if rest:
            with self.sender.marking() as sent:
                async with self._services.sessions.begin() as session:
                    stored, played = await self._play_round(session, rest, plans, read, sent)
            self._after_commit(stored, played, plans)

    async def _settle_quickly(
        self,
        threads: SqliteThreads,
        readings: list[Reading],
        plans: Mapping[Reading, Plan],
        read: Mapping[Person, bytes | None],
    ) -> None:
        """Turns that need nothing but storing: their outcome is built and encrypted here,
        then claimed, checked and stored by the writer thread in one hand-off."""
        result = Round()
        for reading in readings:
            self._settled_turn(reading, plans.get(reading), result)
        now = self._now()
        sealed = seal_round(self._services.vault, result, now, self.send_lease)
        people = sorted(set(result.states))
        expected = {person: read.get(person) for person in people}
        ids = [reading.event.id for reading in readings]
        with self.sender.marking() as sent:
            store = partial(_store_settled, ids=ids, expected=expected, sealed=sealed, sent=sent)
            stored = await threads.write(partial(store, now=now))
        self._after_commit(stored, readings, plans)

    async def _reading(self, work: Callable[[SyncConnection], T]) -> T:
        if self._threads is not None:
            return await self._threads.read(work)
        async with self._services.sessions() as session:
            return await on_connection(session, work)

    async def _play_round(
        self,
        session: Session,
        readings: list[Reading],
        plans: Mapping[Reading, Plan],
        read: Mapping[Person, bytes | None],
        sent: list[int],
    ) -> tuple[Stored, list[Reading]]:
        """Any round: reviewers' decisions and effects run in the transaction. With the
        readings this process played: another process may have claimed some (PostgreSQL)."""
        claimed = await claim(session, [reading.event.id for reading in readings])
        todo = [reading for reading in readings if reading.event.id in claimed]
        result = Round()
        for reading in todo:  # first reviewers: a decision may change an applicant's state
            if reading not in plans:
                await self._turn(session, reading, None, result)
        planned = [reading for reading in todo if reading in plans]
        now = await load_sealed(session, [_person(r.incoming) for r in planned])
        mine = dict(plans)
        for reading in planned:
            person = _person(reading.incoming)
            if now.get(person) != read.get(person):  # changed since it was read: again
                mine[reading] = self._plan_one(reading, now.get(person))
        ahead = await self._ahead(session, planned, mine)
        for reading in planned:
            await self._turn(session, reading, mine[reading], result, ahead)
        vault = self._services.vault
        stored = await store_round(session, vault, result, sent, self._now(), self.send_lease)
        return stored, todo

    async def _ahead(
        self, session: Session, planned: list[Reading], plans: Mapping[Reading, Plan]
    ) -> Ahead | None:
        """What the round's effects look up and write, for all its turns at once: each
        person's first turn of the round (a second one waits for the next round, _turn)."""
        turns, people = [], set()
        for reading in planned:
            person, plan = _person(reading.incoming), plans[reading]
            if reading.incoming and person not in people and plan.settled is None:
                turns.append((reading.incoming, reading.photo, plan.turn))
            people.add(person)
        return await self.handler.ahead_of(session, turns) if turns else None

    async def _plan(
        self, readings: list[Reading], read: Mapping[Person, bytes | None]
    ) -> dict[Reading, Plan]:
        """Each person's turn from the state read: the pure part, done before taking the
        write lock; a turn without effects is finished here, rendered and all."""
        plans: dict[Reading, Plan] = {}
        for number, reading in enumerate(readings):
            if self._is_own_turn(reading):
                assert reading.incoming is not None
                plans[reading] = self._plan_one(reading, read.get(_person(reading.incoming)))
            if number % PLANS_BETWEEN_BREATHS == PLANS_BETWEEN_BREATHS - 1:
                await asyncio.sleep(0)  # let waiting webhooks in: they must be answered soon
        return plans

    def _plan_one(self, reading: Reading, sealed: bytes | None) -> Plan:
        assert reading.incoming is not None
        started = time.perf_counter()
        saved = unseal(self._services.vault, _person(reading.incoming), sealed)
        plan = partial(self.handler.plan, reading.incoming, saved)
        admitted = self.limits.admit(reading.incoming, reading.event.received_at, saved, plan)
        turn = admitted.turn
        settled = None if turn.effects else self.handler.settle(turn)
        outcome = "done" if admitted.refused is None else "throttled"
        return Plan(turn, settled, time.perf_counter() - started, outcome)

    def _is_own_turn(self, reading: Reading) -> bool:
        incoming = reading.incoming
        return incoming is not None and not self.handler.wants_review(incoming)

    async def _turn(
        self,
        session: Session,
        reading: Reading,
        plan: Plan | None,
        result: Round,
        ahead: Ahead | None = None,
    ) -> None:
        incoming = reading.incoming
        if (plan is not None and plan.settled is not None) or incoming is None:
            self._settled_turn(reading, plan, result)
            return
        if (person := _person(incoming)) in result.states:
            return  # the same conversation twice in one round: the second waits for the next
        if plan is None:  # a reviewer's event: in the transaction, it decides
            replies = await self.handler.turn(session, incoming, reading.photo)
        else:
            turn = plan.turn
            step = await self.handler.carry_through(session, incoming, reading.photo, turn, ahead)
            result.states[person] = step.state
            replies = step.replies
        _done(result, reading, replies)

    def _settled_turn(self, reading: Reading, plan: Plan | None, result: Round) -> None:
        event, incoming = reading.event, reading.incoming
        if reading.quarantined:
            result.quarantined.append(event.id)
        elif incoming is None:
            result.done.append(event.id)  # nothing to answer (an edit, a sticker pack, ...)
        else:
            assert plan is not None, "a reviewer's event"
            assert plan.settled is not None, "a turn with effects"
            if (person := _person(incoming)) in result.states:
                return  # the same conversation twice in one round: the second waits
            result.states[person] = plan.settled.state
            _done(result, reading, plan.settled.replies)

    def _after_commit(
        self, stored: Stored, readings: list[Reading], plans: Mapping[Reading, Plan]
    ) -> None:
        ours = self.sender.ours()
        behind = {chat for chat, row_id in stored.older if row_id not in ours}
        for reading in readings:
            channel, plan = reading.event.channel, plans.get(reading)
            if reading.quarantined:
                self.observer.handled(channel, QUARANTINED, 0.0)
            elif reading.incoming is not None:
                outcome, seconds = (plan.outcome, plan.seconds) if plan else ("done", 0.0)
                self.observer.handled(channel, outcome, seconds)
        self.sender.send_later(stored.sending, behind)

    def _now(self) -> datetime:
        return self._services.clock.now()

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
            vault = self._services.vault
            stored = await store_round(session, vault, result, [], self._now(), self.send_lease)
        self.observer.handled(event.channel, FAILED, 0.0)
        self._after_commit(stored, [], {})

    async def _loading_notice(self, readings: list[Reading]) -> None:
        """When a round is slow, the people waiting for it see that the bot is working."""
        await asyncio.sleep(self.loading_after)
        waiting = [
            (self.channels[r.event.channel], r.incoming)
            for r in readings
            if r.incoming is not None and not r.incoming.in_group
        ]
        # The channel's call is made inside _quietly: a round that ends (and cancels this)
        # before a notice started leaves no coroutine that was never awaited.
        await asyncio.gather(
            *(_quietly(channel.show_loading, incoming) for channel, incoming in waiting)
        )


def _store_settled(
    connection: SyncConnection,
    ids: list[int],
    expected: dict[Person, bytes | None],
    sealed: SealedRound,
    sent: list[int],
    now: datetime,
) -> Stored:
    """On the writer thread: every event still pending, nobody's state changed since it
    was read, or nothing is stored (StateChangedError: the round goes the general way)."""
    if claim_on(connection, ids) != set(ids) or load_sealed_on(connection, expected) != expected:
        raise StateChangedError
    return store_sealed_on(connection, sealed, sent, now)


def _settled(reading: Reading, plans: Mapping[Reading, Plan]) -> bool:
    """Whether a reading needs nothing but storing: no effect, no reviewer's decision."""
    if reading.quarantined or reading.incoming is None:
        return True
    plan = plans.get(reading)
    return plan is not None and plan.settled is not None


def _done(result: Round, reading: Reading, replies: list[Rendered]) -> None:
    result.done.append(reading.event.id)
    if replies and reading.incoming is not None:
        result.replies.append(_replies(reading.event, reading.incoming, replies))


def _owner(reading: Reading) -> Person:
    """Whose conversation the reading's event belongs to, as the inbox files it."""
    return (reading.event.channel, reading.event.user_id)


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


async def _quietly(show: Callable[[Incoming], Awaitable[None]], incoming: Incoming) -> None:
    with contextlib.suppress(Exception):
        await show(incoming)
