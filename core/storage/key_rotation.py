"""Moving every stored ciphertext to the current key version (`bmabot keys rotate`).

What is encrypted: conversation states, inbox and outbox payloads, reviewers' names, the
national IDs of applications, and the document files. Each row is rewritten in a short
transaction of its batch, with a conditional update (only if the token is still the one
read), so a server running meanwhile loses nothing; each file is replaced atomically. A
crash halfway leaves every token under the old version or the new one, both readable while
the old key is kept (BMABOT_OLD_SECRET_KEYS); running the rotation again finishes the rest.

The national-ID digests are recomputed under the current digest key in the same update as
the national ID they belong to, so one row never mixes key versions, and duplicate
detection (core.requests.applications) also looks for the digests of the old keys meanwhile.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from core.audit import trail as audit
from core.audit.chain import ChainKey
from core.audit.reseal import reseal_chain
from core.audit.security_log import Event, security_event
from core.audit.verify import ChainBroken
from core.delivery.conversations import _context as conversation_context
from core.delivery.inbox import _context as inbox_context
from core.delivery.outbox import _context as outbox_context
from core.requests.applications import national_id_context
from core.requests.reviewer_names import name_context as reviewer_name_context
from core.storage.crypto import Vault, VaultError, token_version
from core.storage.documents import DocumentStore
from core.storage.models import (
    Application,
    Base,
    Conversation,
    InboxEvent,
    OutboxMessage,
    ReviewerName,
)

BATCH = 200  # rows per transaction


@dataclass(frozen=True, slots=True)
class _Column:
    """An encrypted column and the context its module binds each token to."""

    name: str
    model: type[Base]
    column: InstrumentedAttribute[Any]
    context: Callable[[Row[Any]], str]
    context_columns: tuple[InstrumentedAttribute[Any], ...]


COLUMNS = (
    _Column(
        "conversations",
        Conversation,
        Conversation.state,
        lambda row: conversation_context(row.channel, row.user_id),
        (Conversation.channel, Conversation.user_id),
    ),
    _Column(
        "inbox",
        InboxEvent,
        InboxEvent.payload,
        lambda row: inbox_context(row.key),
        (InboxEvent.key,),
    ),
    _Column(
        "outbox",
        OutboxMessage,
        OutboxMessage.payload,
        lambda row: outbox_context(row.retry_key),
        (OutboxMessage.retry_key,),
    ),
    _Column(
        "reviewer_names",
        ReviewerName,
        ReviewerName.name,
        lambda row: reviewer_name_context(row.reviewer),
        (ReviewerName.reviewer,),
    ),
)
NATIONAL_IDS = "national_ids"
DOCUMENTS = "documents"


@dataclass(slots=True)
class Rotation:
    """What a run did, by store: moved to the current version, already there, unreadable."""

    version: int
    moved: Counter[str] = field(default_factory=Counter)
    current: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)  # "<store> <id or name>": no data
    digests_without_id: int = 0  # digests of requests whose national ID was erased
    audit_resealed: int = 0  # audit rows sealed again under the current chain key
    audit_broken: ChainBroken | None = None  # the chain was changed: left as it is

    @property
    def complete(self) -> bool:
        return not self.unreadable and self.audit_broken is None


async def rotate_keys(
    sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    store: DocumentStore,
    chain: Sequence[ChainKey],
    *,
    now: datetime,
    actor: str = "cli",
) -> Rotation:
    """Re-encrypt everything not under vault's current key version, then seal the audit chain
    under chain[0] (the current key's; the others are the old keys'); restartable."""
    rotation = Rotation(vault.version)
    for column in COLUMNS:
        await _rotate_column(sessions, vault, column, rotation)
    await _rotate_national_ids(sessions, vault, rotation)
    await asyncio.to_thread(_rotate_documents, store, rotation)
    async with sessions.begin() as session:
        resealed = await reseal_chain(session, chain[0], chain[1:])
    if isinstance(resealed, ChainBroken):
        rotation.audit_broken = resealed
    else:
        rotation.audit_resealed = resealed
    async with sessions.begin() as session:
        rotation.digests_without_id = await _digests_without_id(session)
        audit.record(
            session,
            "keys.rotated",
            actor=actor,
            at=now,
            detail={
                "version": vault.version,
                "moved": dict(rotation.moved),
                "unreadable": len(rotation.unreadable),
                "audit_resealed": rotation.audit_resealed,
            },
        )
    security_event(
        Event.KEY_ROTATION,
        version=vault.version,
        moved=sum(rotation.moved.values()),
        unreadable=len(rotation.unreadable),
        audit_chain="broken" if rotation.audit_broken else "resealed",
        outcome="done" if rotation.complete else "incomplete",
    )
    return rotation


async def _rotate_column(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, spec: _Column, rotation: Rotation
) -> None:
    primary = spec.model.id  # type: ignore[attr-defined]
    after = 0
    while True:
        async with sessions.begin() as session:
            rows = (
                await session.execute(
                    select(primary, spec.column.label("token"), *spec.context_columns)
                    .where(primary > after, spec.column.is_not(None))
                    .order_by(primary)
                    .limit(BATCH)
                )
            ).all()
            for row in rows:
                try:
                    sealed = vault.reencrypt(row.token, context=spec.context(row))
                except VaultError:
                    rotation.unreadable.append(f"{spec.name} {row.id}")
                    continue
                if sealed is None:
                    rotation.current[spec.name] += 1
                    continue
                changed = await session.execute(
                    update(spec.model)
                    .where(primary == row.id, spec.column == row.token)
                    .values({spec.column.key: sealed})
                )
                # 0: changed meanwhile by the server, under the current key already.
                rotation.moved[spec.name] += changed.rowcount  # type: ignore[attr-defined]
        if len(rows) < BATCH:
            return
        after = rows[-1].id


async def _rotate_national_ids(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, rotation: Rotation
) -> None:
    after = 0
    while True:
        async with sessions.begin() as session:
            rows = (
                await session.execute(
                    select(
                        Application.id,
                        Application.reference,
                        Application.national_id_encrypted,
                        Application.active_national_id_digest,
                    )
                    .where(Application.id > after, Application.national_id_encrypted.is_not(None))
                    .order_by(Application.id)
                    .limit(BATCH)
                )
            ).all()
            for row in rows:
                await _rotate_national_id(session, vault, row, rotation)
        if len(rows) < BATCH:
            return
        after = rows[-1].id


async def _rotate_national_id(
    session: AsyncSession, vault: Vault, row: Any, rotation: Rotation
) -> None:
    token: bytes = row.national_id_encrypted
    if token_version(token) == vault.version:
        rotation.current[NATIONAL_IDS] += 1
        return
    context = national_id_context(row.reference)
    try:
        national_id = vault.decrypt(token, context=context).decode("ascii")
    except VaultError:
        rotation.unreadable.append(f"{NATIONAL_IDS} {row.id}")
        return
    digest = vault.national_id_digest(national_id)
    changed = await session.execute(
        update(Application)
        .where(Application.id == row.id, Application.national_id_encrypted == token)
        .values(
            national_id_encrypted=vault.encrypt(national_id.encode("ascii"), context=context),
            national_id_digest=digest,
            # Only a request that holds its person's place keeps holding it.
            active_national_id_digest=None if row.active_national_id_digest is None else digest,
        )
    )
    rotation.moved[NATIONAL_IDS] += changed.rowcount  # type: ignore[attr-defined]


def _rotate_documents(store: DocumentStore, rotation: Rotation) -> None:
    for name in store.stored_names():
        try:
            moved = store.reencrypt(name)
        except VaultError:
            rotation.unreadable.append(f"{DOCUMENTS} {name}")
            continue
        rotation.moved[DOCUMENTS] += moved
        rotation.current[DOCUMENTS] += not moved


async def _digests_without_id(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Application)
        .where(
            Application.national_id_digest.is_not(None),
            Application.national_id_encrypted.is_(None),
        )
    )
    return int(count or 0)


async def key_versions(
    sessions: async_sessionmaker[AsyncSession], store: DocumentStore
) -> dict[str, Counter[int]]:
    """How many tokens each store holds under each key version (`bmabot keys status`)."""
    found: dict[str, Counter[int]] = {}
    specs = [(spec.name, spec.column) for spec in COLUMNS]
    specs.append((NATIONAL_IDS, Application.national_id_encrypted))
    async with sessions() as session:
        for name, column in specs:
            first = func.substr(column, 1, 1)
            rows = await session.execute(
                select(first, func.count()).where(column.is_not(None)).group_by(first)
            )
            found[name] = Counter({bytes(byte)[0]: count for byte, count in rows.all()})
    found[DOCUMENTS] = await asyncio.to_thread(_document_versions, store)
    return found


def _document_versions(store: DocumentStore) -> Counter[int]:
    versions: Counter[int] = Counter()
    for name in store.stored_names():
        version = store.key_version_of(name)
        if version is not None:
            versions[version] += 1
    return versions
