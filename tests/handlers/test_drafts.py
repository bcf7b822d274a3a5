"""Unfinished forms: one reminder after a quiet day, gone with their photos after 30 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.handlers.review_morning import Morning
from bot.handlers.services import Services
from core.clock import ManualClock
from core.delivery.jobs import ClaimedJob
from core.delivery.outbox import due_for_chat
from core.storage.models import Document
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.transcripts import STAFF, play


async def run_morning(services: Services, expire_after: timedelta = timedelta(days=14)) -> None:
    morning = Morning(services, timedelta(hours=24), expire_after)
    await morning(ClaimedJob(1, "morning.round", "morning.round:test", {}, 1, 10))


async def reminders(services: Services, chat: Chat) -> list[str]:
    """The keys of everything queued for the person's chat, in order."""
    async with services.sessions.begin() as session:
        queued = await due_for_chat(
            session, services.vault, CHANNEL, chat.user_id, services.clock.now()
        )
    return [message["key"] for batch in queued for message in batch.messages]


async def draft_documents(services: Services) -> list[Document]:
    async with services.sessions.begin() as session:
        return list(await session.scalars(select(Document).order_by(Document.id)))


async def test_a_fresh_draft_gets_no_reminder(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    await play(chat, STAFF)
    clock.advance(hours=23)
    await run_morning(services)
    assert await reminders(services, chat) == []


async def test_a_draft_quiet_for_a_day_is_reminded_once(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    await play(chat, STAFF)
    clock.advance(hours=25)

    await run_morning(services)
    clock.advance(days=1)
    await run_morning(services)

    assert await reminders(services, chat) == ["draft.reminder", chat.last_key]


async def test_the_reminder_does_not_postpone_the_expiry(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    await play(chat, STAFF)
    for _ in range(30):
        clock.advance(days=1)
        await run_morning(services)

    assert [d.deleted_at for d in await draft_documents(services)] == [clock.now()]


async def test_an_expired_draft_loses_its_photos_and_starts_fresh(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    await play(chat, STAFF)
    (photo,) = await draft_documents(services)
    assert services.documents.read(photo.storage_name)
    clock.advance(days=30, hours=1)

    await run_morning(services)

    (deleted,) = await draft_documents(services)
    assert deleted.deleted_at == clock.now()
    with pytest.raises(FileNotFoundError):
        services.documents.read(deleted.storage_name)
    await chat.send("สวัสดีค่ะ")
    assert chat.reply_keys == ["menu.greeting"]


async def test_a_submitted_application_keeps_its_photos(
    chat: Chat, services: Services, clock: ManualClock
) -> None:
    await play(chat, STAFF)
    await chat.tap("ถูกต้อง ส่งคำขอ")
    clock.advance(days=31)

    # Still waiting for a decision (the reviewers' limit is longer here): an expired or
    # decided request's photos go by the retention settings instead (test_retention).
    await run_morning(services, expire_after=timedelta(days=60))

    assert [d.deleted_at for d in await draft_documents(services)] == [None]
