"""Sending replies: each chat's in order, chats side by side, every failure kept to its row.

A round's replies are sent from memory right after its commit (and marked sent with the
next one); what must wait, or was stored by another process or before a restart, is sent
from the outbox by the retry round, in order, a chat at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from functools import partial
from typing import Final, Literal, Protocol

from bot.handlers.channels import Channel, DeliveryError
from bot.handlers.locks import KeyedLocks
from bot.handlers.services import Services
from core.delivery.outbox import (
    SENDING_LEASE,
    Outgoing,
    chat_queue,
    chats_with_due,
    claim_for_sending,
    give_up,
    mark_all_sent,
    release,
    try_later,
)

logger = logging.getLogger(__name__)

MAX_DELIVERY_ATTEMPTS = 8
SENDING_AT_ONCE = 64  # chats being sent to at the same time
# A person's last answer being sent by another process holds their next one back; it is
# looked at again this often, so long (then the retry round takes over).
WAIT_FOR_ANOTHER, WAITS_FOR_ANOTHER = 0.05, 40
Sending = Literal["sent", "held", "elsewhere"]
SENT: Final = "sent"
HELD: Final = "held"
ELSEWHERE: Final = "elsewhere"
Chat = tuple[str, str]  # (channel, chat_id)


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


class Sender:
    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        observer: Observer,
        wake: Callable[[], None],
        lease: timedelta = SENDING_LEASE,
    ) -> None:
        self._services = services
        self._lease = lease
        self.channels = channels
        self.observer = observer
        self._wake = wake  # the dispatcher's loop: marks what went out with its next commit
        self._chats = KeyedLocks()
        self._at_once = asyncio.Semaphore(SENDING_AT_ONCE)
        self._queues: dict[Chat, deque[Outgoing | int]] = {}  # int: first what is stored
        self._senders: dict[Chat, asyncio.Task[None]] = {}
        self.waits_for_another = WAITS_FOR_ANOTHER  # then the retry round takes over
        self.sent: list[int] = []  # delivered, to be marked in the next transaction
        self._marking: set[int] = set()  # delivered, being marked by a transaction now

    def send_later(self, sending: list[Outgoing], behind: set[Chat]) -> None:
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
        self._wake()  # mark what went out soon

    async def _send_queue(self, chat: Chat, queue: deque[Outgoing | int]) -> None:
        channel = self.channels[chat[0]]
        waits = 0
        try:
            while queue:
                item = queue[0]
                async with self._chats.hold(chat), self._at_once:
                    if isinstance(item, int):
                        sent = await self._deliver_stored(*chat, before_id=item)
                    elif self._lease_over(item):
                        sent = HELD  # another process may be sending it now: the retry round
                    elif await self._send(channel, item):
                        sent = SENT
                        self.sent.append(item.id)
                    else:
                        sent = HELD
                if sent == ELSEWHERE and waits < self.waits_for_another:
                    waits += 1  # another process is sending this person's last answer
                    await asyncio.sleep(WAIT_FOR_ANOTHER)
                    continue
                if sent == ELSEWHERE:
                    await self._let_go(queue)
                if sent != SENT:
                    break  # what is left waits behind it: the retry round sends it
                queue.popleft()
        except Exception:
            logger.exception("sending to a chat failed; the retry round takes over")
        finally:
            # Both at once, before the task ends: replies queued after this start a new one.
            self._queues.pop(chat, None)
            self._senders.pop(chat, None)

    async def _let_go(self, queue: deque[Outgoing | int]) -> None:
        """Another process is still sending the chat's earlier batch after our wait: the
        batches queued behind it are left to the next retry round (seconds), not kept
        leased to this process until the lease ends (20 s; a reviewers' group that several
        processes answer at once waited that long, issue 13's scale-out test)."""
        ours = [item.id for item in queue if not isinstance(item, int)]
        if ours:
            async with self._services.sessions.begin() as session:
                await release(session, ours, self._services.clock.now())

    def _lease_over(self, outgoing: Outgoing) -> bool:
        lease = outgoing.leased_until
        return lease is not None and self._services.clock.now() >= lease

    def ours(self) -> frozenset[int]:
        """Rows this process has sent (not yet marked) or is about to send."""
        queued = (
            item.id for q in self._queues.values() for item in q if not isinstance(item, int)
        )
        return frozenset((*self.sent, *self._marking, *queued))

    @contextlib.contextmanager
    def marking(self) -> Iterator[list[int]]:
        """The rows delivered so far, for the caller's transaction to mark sent.

        Taken whole: transactions that overlap (a round being stored beside the retry round)
        never mark the same rows, nor drop another's. They stay ours until the transaction
        ends, and come back to be marked by the next one if it fails.
        """
        taken, self.sent = self.sent, []
        self._marking.update(taken)
        try:
            yield taken
        except BaseException:
            self.sent[:0] = taken
            raise
        finally:
            self._marking.difference_update(taken)

    async def settle(self) -> None:
        while self._senders:
            await asyncio.gather(*list(self._senders.values()), return_exceptions=True)

    async def mark_sent(self) -> None:
        if not self.sent:
            return
        with self.marking() as sent:
            async with self._services.sessions.begin() as session:
                await mark_all_sent(session, sent, self._services.clock.now())

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
    ) -> Sending:
        """Send what is due: SENT when nothing (older than before_id) is left waiting."""
        services = self._services
        async with services.sessions() as session:
            due = await chat_queue(
                session,
                services.vault,
                channel_name,
                chat_id,
                services.clock.now(),
                before_id,
                self.ours(),
            )
        for outgoing in due.batches:
            # Another process's retry round may have read the same rows: one of them sends
            # each row, and the one that finds a row taken leaves it and those after it.
            async with services.sessions.begin() as session:
                mine = await claim_for_sending(
                    session, outgoing.id, services.clock.now(), self._lease
                )
            if not mine:
                return ELSEWHERE
            if not await self._send(self.channels[channel_name], outgoing):
                return HELD
            async with services.sessions.begin() as session:
                await mark_all_sent(session, [outgoing.id], services.clock.now())
        if due.held_back:
            return ELSEWHERE if due.elsewhere else HELD
        return SENT

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


def backoff(attempts: int, error: DeliveryError) -> timedelta:
    if error.retry_after is not None:
        return timedelta(seconds=error.retry_after)
    base = min(300.0, 2.0 ** (attempts + 1))
    return timedelta(seconds=base + random.uniform(0, base / 4))  # jitter spreads retries
