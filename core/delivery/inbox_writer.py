"""Group commit for the inbox: the events of every webhook waiting at once share one commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.delivery.inbox import NewEvent, store_events, store_events_on
from core.storage.crypto import Vault
from core.storage.db import SqliteThreads

MAX_BATCH = 500  # events in one INSERT: well under SQLite's limit of bound parameters


class InboxWriter:
    """Stores events durably before a webhook is answered, many webhooks per transaction.

    A caller waits until its events are committed (or the commit failed: then it is told,
    and the platform delivers again). While one commit runs, the next callers gather for
    the one after it, so the commits per second stay few however many webhooks arrive.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        clock: Clock,
        threads: SqliteThreads | None = None,
    ) -> None:
        self._sessions = sessions
        self._threads = threads  # SQLite: each commit in one hand-off to its writer thread
        self._vault = vault
        self._clock = clock
        self._waiting: list[tuple[Sequence[NewEvent], asyncio.Future[int]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def __call__(self, events: Sequence[NewEvent]) -> int:
        """Store the events not seen before; how many were new."""
        if not events:
            return 0
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await asyncio.shield(future)  # a caller that goes away leaves the batch whole

    async def close(self) -> None:
        """Finish the commit under way and those waiting for it."""
        if self._flushing is not None:
            await self._flushing

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._take_batch()
            try:
                await self._store(batch)
            except Exception as error:
                if len(batch) == 1:
                    _fail(batch[0][1], error)
                    continue
                for alone in batch:  # one bad event must not fail the webhooks beside it
                    try:
                        await self._store([alone])
                    except Exception as error_alone:
                        _fail(alone[1], error_alone)

    async def _store(self, batch: list[tuple[Sequence[NewEvent], asyncio.Future[int]]]) -> None:
        every = [event for events, _ in batch for event in events]
        stored = await self._insert(every)
        for events, future in batch:
            # A key sent by two webhooks at once counts as new for the first only.
            new = [event.key for event in events if event.key in stored]
            stored.difference_update(new)
            if not future.done():
                future.set_result(len(new))

    async def _insert(self, events: list[NewEvent]) -> set[str]:
        now = self._clock.now()
        if self._threads is not None:
            work = partial(store_events_on, vault=self._vault, events=events, now=now)
            return await self._threads.write(work)
        async with self._sessions.begin() as session:
            return await store_events(session, self._vault, events, now)

    def _take_batch(self) -> list[tuple[Sequence[NewEvent], asyncio.Future[int]]]:
        batch: list[tuple[Sequence[NewEvent], asyncio.Future[int]]] = []
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0][0]) <= MAX_BATCH):
            events, future = self._waiting.pop(0)
            batch.append((events, future))
            size += len(events)
        return batch


def _fail(future: asyncio.Future[int], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)
