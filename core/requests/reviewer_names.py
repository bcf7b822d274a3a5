"""Reviewers' names as their chat platform shows them, kept encrypted beside the platform id:
what the groups read instead of the id (the audit trail keeps the id)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.crypto import Vault
from core.storage.db import dialect_insert
from core.storage.models import ReviewerName

MAX_NAME = 40  # characters kept of a name: a LINE display name may have up to 20, Telegram's
# first and last names 64 each


@dataclass(frozen=True, slots=True)
class KnownName:
    name: str
    seen_at: datetime  # when the platform last said it


def name_context(reviewer: str) -> str:
    """What each stored name is bound to: it cannot be moved to another reviewer's row."""
    return f"reviewer_name:{reviewer}"


def clean_name(name: str | None) -> str | None:
    """A name fit to show in a chat line: NFC, without controls or invisible characters,
    spaces collapsed, at most MAX_NAME characters; None when nothing is left."""
    if not name:
        return None
    kept = "".join(
        " " if letter.isspace() else letter
        for letter in unicodedata.normalize("NFC", name)
        if letter.isspace()
        or unicodedata.category(letter) not in ("Cc", "Cf", "Co", "Cs")
        or letter == "\u200d"  # the joiner inside emoji such as 👩‍💻
    )
    words = " ".join(kept.split())
    return words[:MAX_NAME].rstrip() or None


async def known_names(
    session: AsyncSession, vault: Vault, reviewers: Iterable[str]
) -> dict[str, KnownName]:
    wanted = sorted(set(reviewers))
    if not wanted:
        return {}
    rows = await session.execute(
        select(ReviewerName.reviewer, ReviewerName.name, ReviewerName.seen_at).where(
            ReviewerName.reviewer.in_(wanted)
        )
    )
    return {
        reviewer: KnownName(vault.decrypt(name, context=name_context(reviewer)).decode(), seen)
        for reviewer, name, seen in rows
    }


async def remember_name(
    session: AsyncSession, vault: Vault, reviewer: str, name: str, now: datetime
) -> None:
    """Store a reviewer's name, or refresh it; two processes at once both succeed."""
    sealed = vault.encrypt(name.encode(), context=name_context(reviewer))
    insert = dialect_insert(session, ReviewerName).values(
        reviewer=reviewer, name=sealed, seen_at=now
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["reviewer"], set_={"name": sealed, "seen_at": now}
        )
    )
