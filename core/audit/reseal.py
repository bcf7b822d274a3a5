"""Sealing the audit chain again under a new key, once it is checked intact under the old.

After a key rotation the old secret key is removed; rows chained under it would no longer
verify. The rotation holds the chain head (writers wait), checks every row under the keys
it knows, and only then seals each row again under the current key: a chain changed
behind our back is reported, never laundered.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.chain import HEAD_ID, ChainKey
from core.audit.verify import ChainBroken, _batches, verify_chain
from core.storage.models import AuditChain, AuditEvent


async def reseal_chain(
    session: AsyncSession, current: ChainKey, older: Sequence[ChainKey]
) -> int | ChainBroken:
    """In the caller's transaction: the number of rows sealed again, or where it is broken."""
    head = await session.scalar(
        select(AuditChain).where(AuditChain.id == HEAD_ID).with_for_update()
    )
    if head is None:
        return ChainBroken(None, "the chain head (table audit_chain) is missing", 0)
    verdict = await verify_chain(session, [current, *older])
    if isinstance(verdict, ChainBroken):
        return verdict
    previous, resealed = current.start(head.start_id), 0
    async for rows in _batches(session, head.start_id):
        for row in rows:
            sealed = current.seal(row._asdict(), previous)
            if (row.previous_hash, row.chain_hash) != (previous, sealed):
                await session.execute(
                    update(AuditEvent)
                    .where(AuditEvent.id == row.id)
                    .values(previous_hash=previous, chain_hash=sealed)
                )
                resealed += 1
            previous = sealed
    if head.last_id is not None and head.last_hash != previous:
        await session.execute(
            update(AuditChain).where(AuditChain.id == HEAD_ID).values(last_hash=previous)
        )
    return resealed
