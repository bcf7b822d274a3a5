"""Issue 13: a thousand applicants filling in the whole form at once, none lost, none crossed.

The real bot in one process: webhooks store events in the inbox (group commit), the
dispatcher's rounds mix everyone's turns, replies go through the outbox and the sender to
each applicant's phone (the in-memory channel). Every applicant answers only after the
bot's previous answer arrived, as a person does, and all of them are at it at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import BATCH_SIZE, Dispatcher
from bot.handlers.rendering import Rendered
from core.delivery.inbox import NewEvent
from core.delivery.inbox_writer import InboxWriter
from core.requests.applications import national_id_context
from core.rules.organisation import Organisation
from core.storage.db import sqlite_threads
from core.storage.images import CheckedImage, check_image
from core.storage.models import Application, Document, InboxEvent, Job, OutboxMessage
from tests.handlers.crowd import Applicant, Waiting, Webhook, crowd, staff_form
from tests.handlers.memory_channel import CHANNEL, MemoryChannel

APPLICANTS = 1_000
REFERENCE = re.compile(r"A69-\d{5}")  # filed in B.E. 2569 by the test clock


@dataclass(frozen=True)
class Filed:
    """A stored request as a reviewer would see it: decrypted, with its photos."""

    reference: str
    kind: str
    status: str
    form: dict[str, object]
    national_id: str | None
    photos: dict[str, str]  # slot: a fingerprint of the stored image


@asynccontextmanager
async def the_bot(services: Services, channel: MemoryChannel) -> AsyncIterator[Webhook]:
    """The bot as `bmabot serve` wires it (SQLite's own threads, or none on PostgreSQL).
    Yields its webhook: store one event in the inbox, wake the dispatcher. On the way out
    it stops taking events and finishes sending what it handled, as at a shutdown."""
    threads = sqlite_threads(services.sessions)
    handler = ConversationHandler(services, {CHANNEL: channel})
    dispatcher = Dispatcher(handler, {CHANNEL: channel}, threads=threads)
    inbox = InboxWriter(services.sessions, services.vault, services.clock, threads)

    async def webhook(event: NewEvent) -> None:
        assert await inbox([event]) == 1
        dispatcher.wake()

    running = asyncio.create_task(dispatcher.run())
    try:
        yield webhook
    finally:
        await dispatcher.stop()
        await running
        await inbox.close()
        if threads is not None:
            await threads.close()


async def filed_requests(services: Services) -> dict[str, Filed]:
    """Every stored request by the user who filed it."""
    vault, documents = services.vault, services.documents
    async with services.sessions() as session:
        applications = list(await session.scalars(select(Application)))
        photos = list(await session.scalars(select(Document)))
    by_application: dict[int, dict[str, str]] = {}
    for photo in photos:
        slots = by_application.setdefault(photo.application_id or 0, {})
        assert photo.slot not in slots, f"two {photo.slot} photos in request {photo.id}"
        slots[photo.slot] = fingerprint(documents.read(photo.storage_name))
    filed: dict[str, Filed] = {}
    for application in applications:
        assert application.channel == CHANNEL
        assert application.user_id not in filed, f"two requests of {application.user_id}"
        sealed = application.national_id_encrypted
        context = national_id_context(application.reference)
        filed[application.user_id] = Filed(
            application.reference,
            application.kind,
            application.status,
            dict(application.form),
            None if sealed is None else vault.decrypt(sealed, context=context).decode(),
            by_application.get(application.id, {}),
        )
    assert 0 not in by_application, "a photo attached to no request"
    return filed


async def statuses(
    services: Services, table: type[InboxEvent] | type[OutboxMessage]
) -> Counter[str]:
    async with services.sessions() as session:
        rows = await session.execute(select(table.status, func.count()).group_by(table.status))
    return Counter({status: count for status, count in rows})


def stored_photo(sent: bytes) -> str:
    """What the bot keeps of a photo (the same picture, re-encoded without metadata)."""
    checked = check_image(sent)
    assert isinstance(checked, CheckedImage)
    return fingerprint(checked.content)


def staged_files(folder: Path) -> list[Path]:
    """Photos staged for a turn (".tmp-…" beside the documents) and never kept."""
    return list(folder.rglob(".tmp-*"))


def fingerprint(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def text_of(answer: list[Rendered]) -> str:
    return "\n".join(f"{reply.title or ''}\n{reply.text}" for reply in answer)


# About 15 s on SQLite and 30 s on PostgreSQL on a shared 2-core machine.
@pytest.mark.timeout(180)
async def test_a_thousand_applicants_at_once_each_file_their_own_request(
    services: Services, organisation: Organisation, tmp_path: Path
) -> None:
    waiting = Waiting()
    applicants = {
        person.user_id: Applicant(person, staff_form(person), waiting)
        for person in crowd(organisation, APPLICANTS)
    }
    channel = MemoryChannel(
        on_delivery=lambda chat, replies: applicants[chat].answers.put_nowait(replies)
    )

    started = time.perf_counter()
    async with the_bot(services, channel) as webhook, asyncio.TaskGroup() as everyone:
        for applicant in applicants.values():
            everyone.create_task(applicant.fill_in(webhook, channel.media.add))
    seconds = time.perf_counter() - started
    turns = sum(len(applicant.moves) for applicant in applicants.values())
    print(f"\n{APPLICANTS} applicants, {turns} turns in {seconds:.1f} s, {waiting.most} at once")

    # They were at it together: more people waited at once than a round takes.
    assert waiting.most > BATCH_SIZE

    # Each got one answer per thing they did, in order (checked on the way), and no more.
    for applicant in applicants.values():
        assert len(applicant.seen) == len(applicant.moves)
        assert applicant.answers.empty(), f"applicant {applicant.person.number}: extra answers"

    # Each summary shows that applicant's own answers.
    for applicant in applicants.values():
        person, summary = applicant.person, text_of(applicant.answer_to("apply.summary_title"))
        n = person.national_id
        own_id = f"{n[0]}-{n[1:5]}-{n[5:10]}-{n[10:12]}-{n[12]}"  # their own, in full
        unit = f"{person.district.name_th} › {person.section.name_th}"
        if person.unit_note:
            unit += f" › {person.unit_note}"
        for own in (person.name_th, person.name_en, own_id, person.mobile, unit):
            assert own in summary, f"applicant {person.number}: {own!r} not in {summary}"

    # A thousand requests, a thousand references, each told to the one who filed it.
    filed = await filed_requests(services)
    assert set(filed) == set(applicants)
    told = {
        user_id: REFERENCE.findall(text_of(applicant.answer_to("apply.submitted")))
        for user_id, applicant in applicants.items()
    }
    assert len({request.reference for request in filed.values()}) == APPLICANTS
    for user_id, request in filed.items():
        assert told[user_id] == [request.reference]

    # Each request holds exactly its applicant's data and photo.
    for user_id, request in filed.items():
        person = applicants[user_id].person
        assert (request.kind, request.status) == ("staff", "pending")
        assert request.form == person.form, f"applicant {person.number}"
        assert request.national_id == person.national_id, f"applicant {person.number}"
        assert request.photos == {"id_card": stored_photo(person.photo)}, (
            f"applicant {person.number}: the stored photo is not theirs"
        )

    # Nothing left behind: every event handled, every answer sent, every card to post queued,
    # no photo staged and never kept.
    assert await statuses(services, InboxEvent) == {"done": turns}
    assert staged_files(tmp_path) == []
    assert await statuses(services, OutboxMessage) == {"sent": turns}
    async with services.sessions() as session:
        cards = list(await session.scalars(select(Job.payload).where(Job.kind == "card.post")))
        requests = list(await session.scalars(select(Application.id)))
    assert sorted(card["application_id"] for card in cards) == sorted(requests)
