"""Reviewers' names: cleaned for a chat line, stored encrypted, refreshed in place."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.requests.reviewer_names import MAX_NAME, clean_name, known_names, remember_name
from core.storage.crypto import Vault
from core.storage.models import ReviewerName

Sessions = async_sessionmaker[AsyncSession]
CLERK = "line:U" + "a1" * 16


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("สมศรี ใจงาม", "สมศรี ใจงาม"),
        ("  สมศรี\t\nใจงาม  ", "สมศรี ใจงาม"),
        ("\u200bสม\u200bศรี\u202e", "สมศรี"),  # zero-width and direction marks go
        ("👩\u200d💻 Nok", "👩\u200d💻 Nok"),  # the joiner inside an emoji stays
        ("ก" * 60, "ก" * MAX_NAME),
        ("\u200b \u0007", None),
        ("", None),
        (None, None),
    ],
)
def test_a_name_is_cleaned_for_a_chat_line(given: str | None, kept: str | None) -> None:
    assert clean_name(given) == kept


async def test_a_name_is_stored_encrypted_and_read_back(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        await remember_name(session, vault, CLERK, "สมศรี ใจงาม", clock.now())

    async with sessions() as session:
        known = await known_names(session, vault, [CLERK, "line:Unknown"])
        stored = await session.scalar(select(ReviewerName.name))
    assert list(known) == [CLERK]
    assert (known[CLERK].name, known[CLERK].seen_at) == ("สมศรี ใจงาม", clock.now())
    assert stored is not None
    assert "สมศรี".encode() not in stored


async def test_remembering_again_refreshes_the_one_row(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        await remember_name(session, vault, CLERK, "สมศรี", clock.now())
    clock.advance(days=8)

    async with sessions.begin() as session:
        await remember_name(session, vault, CLERK, "สมศรี ใจงาม", clock.now())

    async with sessions() as session:
        known = await known_names(session, vault, [CLERK])
        rows = (await session.scalars(select(ReviewerName))).all()
    assert len(rows) == 1
    assert (known[CLERK].name, known[CLERK].seen_at) == ("สมศรี ใจงาม", clock.now())


async def test_two_processes_remembering_at_once_both_succeed(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    async def remember(name: str) -> None:
        async with sessions.begin() as session:
            await remember_name(session, vault, CLERK, name, clock.now())

    await asyncio.gather(remember("สมศรี"), remember("สมศรี ใจงาม"))

    async with sessions() as session:
        known = await known_names(session, vault, [CLERK])
    assert known[CLERK].name in ("สมศรี", "สมศรี ใจงาม")
