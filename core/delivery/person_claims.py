"""Which server plans whose turns, when several share one PostgreSQL database.

Every server's dispatcher reads the oldest pending events. Each used to plan all of them,
and all but one lost each event's claim when storing: two servers on one machine planned
most turns twice (issue 13's two-process bench: 1.4 ms of CPU a turn, against 0.8 ms for
one process, and the backlog growing). Now a server reads only people nobody else holds,
and holds them until their round is stored: a session-level advisory lock per person, on
a connection of its own, so a server that dies lets go with its connection.

The claims made when a round is stored still decide which server handles an event; a hold
only saves the work of planning a turn twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from functools import partial

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core.delivery.conversations import Person
from core.delivery.inbox import StoredEvent, hold_next_events_on
from core.storage.crypto import Vault
from core.storage.db import Sessions

logger = logging.getLogger(__name__)

_LET_GO = text("SELECT pg_advisory_unlock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")


class PersonClaims:
    """The people this server holds; PostgreSQL only (SQLite has one process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._held: dict[Person, int] = {}  # person: advisory lock key
        self._one_at_a_time = asyncio.Lock()  # one connection: one statement at a time

    @property
    def held(self) -> frozenset[Person]:
        return frozenset(self._held)

    async def next_events(
        self, vault: Vault, channels: Iterable[str], limit: int, skip: Sequence[str]
    ) -> list[StoredEvent]:
        """The oldest pending event of up to `limit` people nobody else holds, now held here."""
        read = partial(
            hold_next_events_on, vault=vault, channels=list(channels), limit=limit, skip=skip
        )
        async with self._one_at_a_time:
            try:
                connection = await self._connect()
                events, locks = await connection.run_sync(read)
                # Held already (a photo's person, read again once it is checked): a lock
                # taken twice must be let go twice; it is let go once, now.
                again = [key for person, key in locks.items() if person in self._held]
                if again:
                    await connection.execute(_LET_GO, {"keys": again})
            except Exception as error:
                await self._lost(error)
                raise
            self._held |= locks
            return events

    async def give_back(self, people: Iterable[Person]) -> None:
        """Let any server read these people's next events."""
        async with self._one_at_a_time:
            keys = [key for person in people if (key := self._held.pop(person, None)) is not None]
            if not keys or self._connection is None:
                return
            try:
                await self._connection.execute(_LET_GO, {"keys": keys})
            except Exception as error:  # let go with the connection
                await self._lost(error)

    async def close(self) -> None:
        async with self._one_at_a_time:
            self._held.clear()
            if self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            connection = await self._engine.connect()
            # Reads and locks only: no transaction is left open between calls.
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    async def _lost(self, error: Exception) -> None:
        """The connection failed: its locks went with it; the next call opens another."""
        logger.warning("person claims lost their connection: %s", type(error).__name__)
        self._held.clear()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):  # already broken: nothing more to let go
                await connection.invalidate()
                await connection.close()


def person_claims(sessions: async_sessionmaker[AsyncSession]) -> PersonClaims | None:
    """Claims on a PostgreSQL database; None on SQLite (one process, one dispatcher)."""
    if not isinstance(sessions, Sessions) or sessions.engine.dialect.name != "postgresql":
        return None
    return PersonClaims(sessions.engine)
