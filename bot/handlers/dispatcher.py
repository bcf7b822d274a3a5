"""The dispatcher: inbox events handled in order per person, concurrently across people.

Each event is handled in one transaction that locks the person's conversation, checks the
event is still their oldest pending one, runs the turn, stores the replies in the outbox
and marks the event done. Delivery happens after the commit: a crash in between sends the
replies late (from the outbox), never loses them, and never handles an event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.incoming import Incoming
from bot.handlers.channels import Channel, DeliveryError
from bot.handlers.conversation import ConversationHandler
from bot.handlers.locks import KeyedLocks
from bot.handlers.rendering import Rendered, to_json
from core.conversations import load_conversation
from core.images import CheckedImage, ImageRefused
from core.inbox import StoredEvent, finish_event, next_event, people_waiting
from core.outbox import (
    Outgoing,
    add_outgoing,
    chats_with_due,
    due_for_chat,
    give_up,
    mark_sent,
    try_later,
)

logger = logging.getLogger(__name__)

REPLY_WINDOW = timedelta(seconds=50)  # LINE's reply tokens last about a minute
MAX_DELIVERY_ATTEMPTS = 8
Photo = CheckedImage | ImageRefused | None


class Dispatcher:
    def __init__(
        self,
        handler: ConversationHandler,
        channels: Mapping[str, Channel],
        *,
        loading_after: float = 1.0,
        poll_interval: float = 2.0,
    ) -> None:
        self.handler = handler
        self.channels = channels
        self.loading_after = loading_after
        self.poll_interval = poll_interval
        self._services = handler.services
        self._active: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._chats = KeyedLocks()
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until stopped: start work for everyone waiting, and retry deliveries that are due."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self._start_waiting_people()
                await self.deliver_due()
            except Exception:
                logger.exception("dispatcher round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def stop(self) -> None:
        """Finish the events being handled, take no new ones."""
        self._stopping = True
        self._wake.set()
        await asyncio.gather(*self._active.values(), return_exceptions=True)

    async def drain(self) -> None:
        """Handle everything pending now and deliver what is due (for tests and shutdown)."""
        while True:
            await self._start_waiting_people()
            if not self._active:
                break
            await asyncio.gather(*list(self._active.values()), return_exceptions=True)
        await self.deliver_due()

    async def _start_waiting_people(self) -> None:
        async with self._services.sessions() as session:
            waiting = await people_waiting(session)
        for person in waiting:
            if person in self._active or person[0] not in self.channels or self._stopping:
                continue
            task = asyncio.create_task(self._serve_person(*person))
            self._active[person] = task
            task.add_done_callback(partial(self._forget, person))

    def _forget(self, person: tuple[str, str], task: asyncio.Task[None]) -> None:
        self._active.pop(person, None)

    async def _serve_person(self, channel: str, user_id: str) -> None:
        while not self._stopping and await self._handle_next(channel, user_id):
            pass

    async def _handle_next(self, channel_name: str, user_id: str) -> bool:
        services, channel = self._services, self.channels[channel_name]
        async with services.sessions() as session:
            event = await next_event(session, services.vault, channel_name, user_id)
        if event is None:
            return False
        incoming = channel.to_incoming(event.payload)
        photo = await self.handler.checked_photo(incoming) if incoming else None
        notice = self._loading_notice(channel, incoming)
        try:
            replied = await self._turn(event, incoming, photo)
        except Exception:
            logger.exception("event %s on %s could not be handled", event.id, channel_name)
            replied = await self._give_up_on(event, incoming)
        finally:
            notice.cancel()
        if replied and incoming is not None:
            await self.deliver(channel_name, incoming.chat_id)
        return True

    async def _turn(self, event: StoredEvent, incoming: Incoming | None, photo: Photo) -> bool:
        services = self._services
        async with services.sessions.begin() as session:
            await load_conversation(session, services.vault, event.channel, event.user_id)
            current = await next_event(session, services.vault, event.channel, event.user_id)
            if current is None or current.id != event.id:
                return False  # another process handled it meanwhile
            replies = [] if incoming is None else await self.handler.turn(session, incoming, photo)
            await self._queue(session, event, incoming, replies)
            await finish_event(session, event.id, services.clock.now())
        return bool(replies)

    async def _give_up_on(self, event: StoredEvent, incoming: Incoming | None) -> bool:
        async with self._services.sessions.begin() as session:
            replies = self.handler.apology() if incoming else []
            await self._queue(session, event, incoming, replies)
            await finish_event(session, event.id, self._services.clock.now(), failed=True)
        return bool(replies)

    async def _queue(
        self,
        session: AsyncSession,
        event: StoredEvent,
        incoming: Incoming | None,
        replies: list[Rendered],
    ) -> None:
        if not replies or incoming is None:
            return
        await add_outgoing(
            session,
            self._services.vault,
            channel=event.channel,
            chat_id=incoming.chat_id,
            messages=[to_json(reply) for reply in replies],
            now=self._services.clock.now(),
            reply_token=incoming.reply_token,
            reply_by=event.received_at + REPLY_WINDOW,
            inbox_event_id=event.id,
        )

    def _loading_notice(self, channel: Channel, incoming: Incoming | None) -> asyncio.Task[None]:
        async def notice() -> None:
            await asyncio.sleep(self.loading_after)
            if incoming is not None and not incoming.in_group:
                with contextlib.suppress(Exception):
                    await channel.show_loading(incoming)

        return asyncio.create_task(notice())

    # Delivery ---------------------------------------------------------------------------

    async def deliver_due(self) -> None:
        async with self._services.sessions() as session:
            chats = await chats_with_due(session, self._services.clock.now())
        for channel, chat_id in chats:
            if channel in self.channels:
                await self.deliver(channel, chat_id)

    async def deliver(self, channel_name: str, chat_id: str) -> None:
        """Send a chat's batches in order; one that must wait holds back those after it."""
        services = self._services
        async with self._chats.hold((channel_name, chat_id)):
            async with services.sessions() as session:
                batches = await due_for_chat(
                    session, services.vault, channel_name, chat_id, services.clock.now()
                )
            for outgoing in batches:
                if not await self._send(self.channels[channel_name], outgoing):
                    return

    async def _send(self, channel: Channel, outgoing: Outgoing) -> bool:
        now = self._services.clock.now()
        try:
            await channel.send(outgoing, now)
        except DeliveryError as error:
            await self._after_failure(outgoing, error)
            return not error.retryable
        async with self._services.sessions.begin() as session:
            await mark_sent(session, outgoing.id, now)
        return True

    async def _after_failure(self, outgoing: Outgoing, error: DeliveryError) -> None:
        now = self._services.clock.now()
        async with self._services.sessions.begin() as session:
            if error.retryable and outgoing.attempts + 1 < MAX_DELIVERY_ATTEMPTS:
                await try_later(
                    session, outgoing.id, now, backoff(outgoing.attempts, error), str(error)
                )
                logger.warning("delivery %s will be retried: %s", outgoing.id, error)
            else:
                await give_up(session, outgoing.id, now, str(error))
                logger.error("delivery %s failed for good: %s", outgoing.id, error)


def backoff(attempts: int, error: DeliveryError) -> timedelta:
    if error.retry_after is not None:
        return timedelta(seconds=error.retry_after)
    base = min(300.0, 2.0 ** (attempts + 1))
    return timedelta(seconds=base + random.uniform(0, base / 4))  # jitter spreads retries
