"""The consent record: each request keeps which terms and PDPA notice were accepted, and when."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.flows.apply_form import terms_version
from core.clock import ManualClock
from core.storage.models import Application
from tests.handlers.chat import Chat
from tests.handlers.transcripts import STAFF, START, play


async def the_request(sessions: async_sessionmaker[AsyncSession]) -> Application:
    async with sessions() as session:
        return (await session.scalars(select(Application))).one()


async def test_the_request_keeps_the_terms_version_and_the_time_they_were_accepted(
    chat: Chat,
    clock: ManualClock,
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await play(chat, START)
    accepted = clock.now()
    clock.advance(minutes=20)  # the form takes a while
    await play(chat, STAFF[len(START) :])
    await chat.tap("ถูกต้อง ส่งคำขอ")

    application = await the_request(sessions)
    assert application.terms_accepted_at == accepted
    assert application.terms_version == terms_version(catalog.messages)
    assert application.submitted_at == accepted + timedelta(minutes=20)


def test_any_change_to_the_terms_or_the_notice_is_a_new_version(catalog: Catalog) -> None:
    today = terms_version(catalog.messages)
    notice = {**catalog.messages, "apply.pdpa": catalog.messages["apply.pdpa"] + " "}
    terms = {**catalog.messages, "apply.terms": catalog.messages["apply.terms"] + " "}
    other = {**catalog.messages, "apply.ask_kind": "?"}
    assert len(today) == 64
    assert terms_version(notice) != today
    assert terms_version(terms) != today
    assert terms_version(other) == today  # other texts are no part of what was accepted
