"""Applications as an administrator looks them up: a filtered list, or one in full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.requests.applications import national_id_of
from core.rules.validation import mask_national_id
from core.storage.crypto import Vault
from core.storage.models import Application, Decision, Document


@dataclass(frozen=True, slots=True)
class ApplicationListing:
    reference: str
    kind: str
    status: str
    submitted_at: datetime
    form: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    round: int
    outcome: str
    reviewer: str
    reason: str | None
    items: tuple[str, ...]
    note: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: int
    slot: str
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    created_at: datetime
    deleted: bool  # replaced by a correction, or deleted after the decision


@dataclass(frozen=True, slots=True)
class ApplicationDetails:
    reference: str
    kind: str
    status: str
    channel: str
    user_id: str
    round: int
    submitted_at: datetime
    updated_at: datetime
    form: dict[str, Any]
    masked_national_id: str | None  # None for agency (unit mailbox) applications
    decisions: tuple[DecisionRecord, ...]
    documents: tuple[DocumentRecord, ...]
    terms_version: str | None = None  # the consent record (None: from before it was kept)
    terms_accepted_at: datetime | None = None
    reduced_at: datetime | None = (
        None  # left as the minimal audit record (core.requests.retention)
    )


async def list_applications(
    session: AsyncSession, *, status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[ApplicationListing]:
    """Applications newest first, optionally of one status and one kind."""
    query = select(Application)
    if status is not None:
        query = query.where(Application.status == status)
    if kind is not None:
        query = query.where(Application.kind == kind)
    found = await session.scalars(
        query.order_by(Application.submitted_at.desc(), Application.id.desc()).limit(limit)
    )
    return [
        ApplicationListing(a.reference, a.kind, a.status, a.submitted_at, dict(a.form))
        for a in found
    ]


async def application_details(
    session: AsyncSession, vault: Vault, reference: str
) -> ApplicationDetails | None:
    """One application with its decisions and documents (never the images themselves)."""
    application = await session.scalar(
        select(Application).where(Application.reference == reference.strip().upper())
    )
    if application is None:
        return None
    national_id = national_id_of(application, vault)
    return ApplicationDetails(
        application.reference,
        application.kind,
        application.status,
        application.channel,
        application.user_id,
        application.version,
        application.submitted_at,
        application.updated_at,
        dict(application.form),
        None if national_id is None else mask_national_id(national_id),
        await _decisions(session, application.id),
        await _documents(session, application.id),
        application.terms_version,
        application.terms_accepted_at,
        application.reduced_at,
    )


async def _decisions(session: AsyncSession, application_id: int) -> tuple[DecisionRecord, ...]:
    found = await session.scalars(
        select(Decision).where(Decision.application_id == application_id).order_by(Decision.id)
    )
    return tuple(
        DecisionRecord(
            d.round,
            d.outcome,
            d.reviewer,
            d.reason,
            tuple(str(item) for item in d.fields.get("items", ())),
            d.note,
            d.decided_at,
        )
        for d in found
    )


async def _documents(session: AsyncSession, application_id: int) -> tuple[DocumentRecord, ...]:
    found = await session.scalars(
        select(Document).where(Document.application_id == application_id).order_by(Document.id)
    )
    return tuple(
        DocumentRecord(
            d.id,
            d.slot,
            d.content_type,
            d.size_bytes,
            d.width,
            d.height,
            d.created_at,
            d.deleted_at is not None,
        )
        for d in found
    )
