"""A stored message due for a retry is sent by one process only, and waits its lease."""

from __future__ import annotations

from datetime import timedelta

from core.clock import ManualClock
from core.delivery.outbox import add_outgoing, claim_for_sending
from core.storage.crypto import Vault
from core.storage.db import Sessions


async def test_of_two_processes_reading_the_same_due_row_one_takes_it(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        row = await add_outgoing(
            session, vault, channel="line", chat_id="U1", messages=[], now=clock.now()
        )
    lease = timedelta(seconds=20)

    async with sessions.begin() as session:
        first = await claim_for_sending(session, row, clock.now(), lease)
    async with sessions.begin() as session:
        second = await claim_for_sending(session, row, clock.now(), lease)
    clock.advance(seconds=21)  # past the lease: the first process never said it was sent
    async with sessions.begin() as session:
        after_the_lease = await claim_for_sending(session, row, clock.now(), lease)

    assert (first, second, after_the_lease) == (True, False, True)
