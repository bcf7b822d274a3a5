"""Servers sharing one PostgreSQL database read different people's events, never the same.

Each server is a PersonClaims of its own (its own connection, as a process has); the
events are stored once, as any server's webhook stores them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.clock import ManualClock
from core.delivery.inbox import NewEvent, store_events
from core.delivery.person_claims import PersonClaims, person_claims
from core.storage.crypto import Vault
from core.storage.db import Sessions

CHANNELS = ["line"]
LIMIT = 2


def said(key: str, user_id: str) -> NewEvent:
    return NewEvent(f"line:{key}", "line", user_id, {"text": key})


async def stored(sessions: Sessions, vault: Vault, clock: ManualClock, *events: NewEvent) -> None:
    async with sessions.begin() as session:
        await store_events(session, vault, list(events), clock.now())


async def read(server: PersonClaims, vault: Vault, skip: list[str] | None = None) -> list[str]:
    events = await server.next_events(vault, CHANNELS, LIMIT, skip or [])
    return [event.key for event in events]


async def test_two_servers_read_the_oldest_people_each_other_does_not_hold(
    two_servers: tuple[PersonClaims, PersonClaims],
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
) -> None:
    first, second = two_servers
    await stored(
        sessions, vault, clock, said("a1", "A"), said("b1", "B"), said("a2", "A"), said("c1", "C")
    )

    assert await read(first, vault) == ["line:a1", "line:b1"]  # each person's oldest event
    assert await read(second, vault) == ["line:c1"]  # A and B are the first server's
    assert (first.held, second.held) == ({("line", "A"), ("line", "B")}, {("line", "C")})


async def test_people_given_back_are_read_by_any_server(
    two_servers: tuple[PersonClaims, PersonClaims],
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
) -> None:
    first, second = two_servers
    await stored(sessions, vault, clock, said("a1", "A"), said("b1", "B"))
    assert await read(first, vault) == ["line:a1", "line:b1"]

    await first.give_back([("line", "A")])

    assert await read(second, vault) == ["line:a1"]
    assert first.held == {("line", "B")}


async def test_a_server_that_goes_away_lets_go_of_its_people(
    two_servers: tuple[PersonClaims, PersonClaims],
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
) -> None:
    first, second = two_servers
    await stored(sessions, vault, clock, said("a1", "A"))
    assert await read(first, vault) == ["line:a1"]

    await first.close()  # a process that dies closes its connection the same way

    assert await read(second, vault) == ["line:a1"]


async def test_a_person_read_again_while_held_is_let_go_with_one_give_back(
    two_servers: tuple[PersonClaims, PersonClaims],
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
) -> None:
    """A photo's person is held while the photo is checked (their event is skipped), then
    read again with it: still one give-back lets every server read them."""
    first, second = two_servers
    await stored(sessions, vault, clock, said("a1", "A"))
    assert await read(first, vault) == ["line:a1"]  # a photo: checked before its turn
    assert await read(first, vault, skip=["line:a1"]) == []  # A sits out meanwhile, held
    assert await read(second, vault) == []
    assert await read(first, vault) == ["line:a1"]  # checked: read again, held twice

    await first.give_back([("line", "A")])

    assert await read(second, vault) == ["line:a1"]


async def test_a_server_whose_connection_drops_reads_again_on_a_new_one(
    two_servers: tuple[PersonClaims, PersonClaims],
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
) -> None:
    """PostgreSQL restarted, say: the locks went with the connection, and so are forgotten;
    that round fails (read again later), the next one opens a connection and holds again."""
    first, second = two_servers
    await stored(sessions, vault, clock, said("a1", "A"), said("b1", "B"))
    assert await read(first, vault) == ["line:a1", "line:b1"]
    async with sessions.begin() as session:  # only the claims' connection holds a lock
        await session.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'")
        )

    with pytest.raises(DBAPIError):
        await read(first, vault)
    assert first.held == frozenset()
    assert await read(second, vault) == ["line:a1", "line:b1"]  # let go with the connection
    await second.give_back([("line", "A"), ("line", "B")])
    assert await read(first, vault) == ["line:a1", "line:b1"]


async def test_on_sqlite_one_process_serves_and_nobody_is_held(sessions: Sessions) -> None:
    claims = person_claims(sessions)
    assert (claims is None) == (sessions.engine.dialect.name == "sqlite")
    if claims is not None:
        await claims.close()
