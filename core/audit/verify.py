"""Checking the audit chain: each row unchanged, none taken out or slipped in, the head in step."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.chain import HEAD_ID, ChainKey
from core.storage.models import AuditChain, AuditEvent

BATCH = 2000  # rows read at a time


@dataclass(frozen=True, slots=True)
class ChainIntact:
    checked: int  # rows checked
    newest_id: int | None
    newest_hash: str | None
    before_chain: int  # rows written before the chain started (migration 0008): unchecked


@dataclass(frozen=True, slots=True)
class ChainBroken:
    row_id: int | None  # the first row whose link is broken; None: the head itself
    problem: str  # what is wrong, in a sentence
    checked: int  # rows found intact before it


async def verify_chain(
    session: AsyncSession, keys: Sequence[ChainKey]
) -> ChainIntact | ChainBroken:
    """Walk the chain in id order; the first broken link, if any. keys: the current chain key
    first, then older ones (rows written before a key rotation)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # One snapshot: the rows and the head as they were at one moment, whoever writes now.
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = await session.get(AuditChain, HEAD_ID)
    if head is None:
        return ChainBroken(None, "the chain head (table audit_chain) is missing", 0)
    walk = _Walk(keys, head)
    async for rows in _batches(session, head.start_id):
        for row in rows:
            problem = walk.step(row)
            if problem is not None:
                return ChainBroken(row.id, problem, walk.checked)
    problem = walk.end()
    if problem is not None:
        return ChainBroken(head.last_id, problem, walk.checked)
    before = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= head.start_id)
    )
    return ChainIntact(walk.checked, walk.last_id, walk.last_hash, int(before or 0))


class _Walk:
    """The chain followed one row at a time."""

    def __init__(self, keys: Sequence[ChainKey], head: AuditChain) -> None:
        self.keys = keys
        self.head = head
        self.checked = 0
        self.last_id: int | None = None
        self.last_hash: str | None = None

    def step(self, row: Row[Any]) -> str | None:
        newest = self.head.last_id
        if newest is None or row.id > newest:
            named = f"row {newest}" if newest is not None else "no row"
            return f"it is newer than the chain head, which names {named}: the head was moved back"
        if not row.chain_hash:
            return "it has no hash: it was written around the chain"
        if not self._follows(row.previous_hash):
            return f"it does not link to {self._before()}: {_MISSING_OR_SLIPPED_IN}"
        fields = row._asdict()
        if not any(
            _same(key.seal(fields, row.previous_hash), row.chain_hash) for key in self.keys
        ):
            return "its content does not match its hash: it was changed after it was written"
        self.checked += 1
        self.last_id, self.last_hash = row.id, row.chain_hash
        return None

    def end(self) -> str | None:
        """The head names the last row walked, with its hash; step() saw none beyond it."""
        if self.head.last_id == self.last_id:
            if _same(self.head.last_hash, self.last_hash):
                return None
            return "the chain head holds another hash for it: the head was changed"
        newest = f"row {self.last_id}" if self.last_id is not None else "none"
        return f"it is missing (the chain head names it as the newest; the newest is {newest})"

    def _follows(self, previous: str | None) -> bool:
        if self.last_hash is not None:
            return _same(previous, self.last_hash)
        return any(_same(previous, key.start(self.head.start_id)) for key in self.keys)

    def _before(self) -> str:
        if self.last_id is None:
            return f"the start of the chain (after row {self.head.start_id})"
        return f"row {self.last_id} before it"


_MISSING_OR_SLIPPED_IN = "a row before it was deleted, or this one was inserted"


def _same(left: str | None, right: str | None) -> bool:
    if left is None or right is None:
        return left is right
    return hmac.compare_digest(left.encode("ascii", "replace"), right.encode("ascii", "replace"))


async def _batches(session: AsyncSession, start_id: int) -> Any:
    after = start_id
    while True:
        rows = (
            await session.execute(
                select(
                    AuditEvent.id,
                    AuditEvent.at,
                    AuditEvent.actor,
                    AuditEvent.action,
                    AuditEvent.application_id,
                    AuditEvent.detail,
                    AuditEvent.previous_hash,
                    AuditEvent.chain_hash,
                )
                .where(AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id
