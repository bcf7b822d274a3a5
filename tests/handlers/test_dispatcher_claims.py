"""Servers on one PostgreSQL database: a person another server holds is left to it.

Every server's dispatcher reads the oldest pending events; each plans only the people it
holds (core.delivery.person_claims), and lets them go once their round is stored.
The other server here is a PersonClaims of its own, holding a person as a round of its
would while planning.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from core.delivery.inbox import NewEvent
from core.delivery.inbox_writer import InboxWriter
from core.delivery.person_claims import PersonClaims
from core.storage.models import InboxEvent
from tests.handlers.memory_channel import CHANNEL, MemoryChannel, text_event

P, Q = "U-held-p", "U-held-q"


async def store(services: Services, *events: NewEvent) -> None:
    writer = InboxWriter(services.sessions, services.vault, services.clock)
    await writer(list(events))


async def statuses(services: Services) -> dict[str, str]:
    async with services.sessions() as session:
        rows = await session.execute(select(InboxEvent.user_id, InboxEvent.status))
        return {user_id: status for user_id, status in rows}


async def test_a_person_another_server_holds_is_handled_here_once_it_lets_go(
    handler: ConversationHandler,
    services: Services,
    two_servers: tuple[PersonClaims, PersonClaims],
) -> None:
    ours, other = two_servers  # this server's, and another's
    dispatcher = Dispatcher(handler, {CHANNEL: MemoryChannel(sent={})}, claims=ours)
    await store(services, text_event("p0", P, "สวัสดี"), text_event("q0", Q, "สวัสดี"))
    held = await other.next_events(services.vault, [CHANNEL], 1, [])
    assert [event.user_id for event in held] == [P]  # the oldest: the other server's now

    assert await dispatcher.handle_round() == 1  # Q's: P is left to the other server
    assert await statuses(services) == {P: "pending", Q: "done"}
    assert ours.held == frozenset()  # Q's round is stored: Q is anyone's again

    await other.give_back([(CHANNEL, P)])  # say its round failed: P's event is read again
    assert await dispatcher.handle_round() == 1
    assert await statuses(services) == {P: "done", Q: "done"}
    await dispatcher.sender.settle()
