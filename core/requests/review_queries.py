"""What reviewers look at: one application's card, the queue, and this week's numbers."""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.requests.applications import national_id_of
from core.requests.review_views import CardData, DocumentView, Waiting
from core.rules.validation import mask_national_id
from core.storage.crypto import Vault
from core.storage.models import Application, Decision, Document, GrantedRight


async def card_data(session: AsyncSession, vault: Vault, application_id: int) -> CardData | None:
    application = await session.get(Application, application_id)
    if application is None:
        return None
    documents = await session.scalars(
        select(Document)
        .where(Document.application_id == application_id, Document.deleted_at.is_(None))
        .order_by(Document.id)
    )
    return CardData(
        application.id,
        application.reference,
        application.kind,
        application.status,
        application.channel,
        application.user_id,
        dict(application.form),
        _masked_id(application, vault),
        application.submitted_at,
        tuple(DocumentView(d.id, d.slot, d.width, d.height) for d in documents),
        await _earlier(session, application),
        _digests(application, vault),
    )


def _masked_id(application: Application, vault: Vault) -> str | None:
    national_id = national_id_of(application, vault)
    return None if national_id is None else mask_national_id(national_id)


def _digests(application: Application, vault: Vault) -> tuple[str, ...]:
    national_id = national_id_of(application, vault)
    if national_id is None:
        return ()
    return tuple(vault.national_id_digests(national_id))


async def _earlier(session: AsyncSession, application: Application) -> tuple[tuple[str, str], ...]:
    if application.national_id_digest is None:
        return ()
    rows = await session.execute(
        select(Application.reference, Application.status)
        .where(
            Application.national_id_digest == application.national_id_digest,
            Application.id != application.id,
        )
        .order_by(Application.id)
    )
    return tuple((reference, status) for reference, status in rows)


async def application_id_of(session: AsyncSession, reference: str) -> int | None:
    return await session.scalar(
        select(Application.id).where(Application.reference == reference.strip().upper())
    )


async def waiting(
    session: AsyncSession, *, submitted_before: datetime | None = None
) -> list[Waiting]:
    """Pending applications, oldest first (optionally only those submitted before a time)."""
    query = select(Application).where(Application.status == "pending")
    if submitted_before is not None:
        query = query.where(Application.submitted_at < submitted_before)
    rows = await session.scalars(query.order_by(Application.submitted_at, Application.id))
    return [Waiting(a.id, a.reference, a.kind, a.submitted_at, a.channel) for a in rows]


async def week_numbers(
    session: AsyncSession, since: datetime
) -> tuple[dict[str, int], float | None]:
    """Applications submitted since a time, by status; and the median hours to a decision."""
    counts = await session.execute(
        select(Application.status, func.count())
        .where(Application.submitted_at >= since)
        .group_by(Application.status)
    )
    decided = await session.execute(
        select(Application.submitted_at, Decision.decided_at)
        .join(Decision, Decision.application_id == Application.id)
        .where(Decision.decided_at >= since, Decision.outcome != "expire")
    )
    hours = [(done - sent).total_seconds() / 3600 for sent, done in decided]
    median = statistics.median(hours) if hours else None
    return {status: int(n) for status, n in counts}, median


async def kind_of(session: AsyncSession, application_id: int) -> str | None:
    """The kind of a request ("staff", "handover", ...); None when there is no such request."""
    kind = await session.scalar(select(Application.kind).where(Application.id == application_id))
    return None if kind is None else str(kind)


async def right_held(session: AsyncSession, uid: str, right: str) -> bool:
    """Whether an earlier request already gave this account this right."""
    held = await session.scalar(
        select(GrantedRight.id).where(GrantedRight.uid == uid, GrantedRight.name == right)
    )
    return held is not None


async def kept_documents(session: AsyncSession, application_id: int) -> list[Document]:
    """The request's photos that are not deleted, oldest first."""
    return list(
        await session.scalars(
            select(Document)
            .where(Document.application_id == application_id, Document.deleted_at.is_(None))
            .order_by(Document.id)
        )
    )
