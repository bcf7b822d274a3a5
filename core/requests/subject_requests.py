"""A person's rights under the PDPA (s.30-33): everything held about them, and its erasure.

A person is found by a request reference or by their national ID (its keyed digest); with
it come their other requests of the same national ID and the chats they applied from.
Erasure removes what the law lets us remove: photos, personal fields, the chat's state and
draft photos. It keeps what it requires: the minimal audit record of each decided request
and the audit trail (PDPC B.E. 2565 security measures: a trail of access, changes and
deletions). A request still being decided is not erased: it is the public task the data was
given for (s.24(4)); the clerk decides it first, then erases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import BANGKOK
from core.delivery.conversations import load_conversation, save_conversation
from core.requests.applications import national_id_of
from core.requests.retention import ERASED_USER, FINAL_STATUSES, delete_documents, reduce_record
from core.storage.crypto import Vault
from core.storage.documents import DocumentStore, delete_draft_documents
from core.storage.models import (
    Application,
    AuditEvent,
    Decision,
    Document,
    GrantedRight,
)


@dataclass(frozen=True, slots=True)
class Photo:
    filename: str  # "<reference>-<slot>-<id>.jpg": what the export folder calls it
    content: bytes


@dataclass(frozen=True, slots=True)
class PersonExport:
    """What is held about one person: JSON-able records, and the photos decrypted."""

    references: tuple[str, ...]
    records: dict[str, Any]
    photos: tuple[Photo, ...]


@dataclass(frozen=True, slots=True)
class Erased:
    references: tuple[str, ...]  # left as minimal audit records
    in_progress: tuple[str, ...]  # not erased: still being decided
    documents: int  # photos deleted, draft ones included


async def find_person(
    session: AsyncSession,
    vault: Vault,
    *,
    reference: str | None = None,
    national_id: str | None = None,
) -> list[Application]:
    """The requests of one person, oldest first; empty when nothing is held."""
    digest = None if national_id is None else vault.national_id_digest(national_id)
    if reference is not None:
        found = await session.scalar(
            select(Application).where(Application.reference == reference.strip().upper())
        )
        if found is None:
            return []
        digest = digest or found.national_id_digest or found.active_national_id_digest
        if digest is None:
            return [found]
    if digest is None:
        return []
    return list(
        await session.scalars(
            select(Application)
            .where(
                or_(
                    Application.national_id_digest == digest,
                    Application.active_national_id_digest == digest,
                )
            )
            .order_by(Application.id)
        )
    )


async def export_person(
    session: AsyncSession, vault: Vault, store: DocumentStore, applications: list[Application]
) -> PersonExport:
    """Everything held: each request in full, its decisions, photos, audit trail, and the
    state of each chat it came from. The caller audits the export."""
    records: list[dict[str, Any]] = []
    photos: list[Photo] = []
    for application in applications:
        record, kept = await _request_record(session, vault, store, application)
        records.append(record)
        photos += kept
    chats = []
    for channel, user_id in sorted({(a.channel, a.user_id) for a in applications}):
        if user_id == ERASED_USER:
            continue
        state = await load_conversation(session, vault, channel, user_id)
        chats.append({"channel": channel, "user_id": user_id, "form_in_progress": state})
    return PersonExport(
        tuple(a.reference for a in applications),
        {"requests": records, "chats": chats},
        tuple(photos),
    )


async def erase_person(
    session: AsyncSession,
    vault: Vault,
    store: DocumentStore,
    applications: list[Application],
    *,
    actor: str,
    now: datetime,
) -> Erased:
    """Erase what may be erased, in the caller's transaction; audited per request."""
    done: list[str] = []
    waiting: list[str] = []
    deleted = 0
    for application in applications:
        if application.status not in FINAL_STATUSES:
            waiting.append(application.reference)
            continue
        deleted += await delete_documents(
            session, store, application.id, now=now, actor=actor, why="erasure"
        )
        chat = (application.channel, application.user_id)
        await reduce_record(session, application, now=now, actor=actor, why="erasure")
        if chat[1] != ERASED_USER:
            deleted += await _forget_chat(session, vault, store, chat, now)
        done.append(application.reference)
    return Erased(tuple(done), tuple(waiting), deleted)


async def _forget_chat(
    session: AsyncSession,
    vault: Vault,
    store: DocumentStore,
    chat: tuple[str, str],
    now: datetime,
) -> int:
    channel, user_id = chat
    await save_conversation(session, vault, channel, user_id, None, now)
    return await delete_draft_documents(session, store, channel=channel, user_id=user_id, now=now)


async def _request_record(
    session: AsyncSession, vault: Vault, store: DocumentStore, application: Application
) -> tuple[dict[str, Any], list[Photo]]:
    decisions = await session.scalars(
        select(Decision).where(Decision.application_id == application.id).order_by(Decision.id)
    )
    events = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == application.id)
        .order_by(AuditEvent.id)
    )
    rights = await session.scalars(
        select(GrantedRight).where(GrantedRight.application_id == application.id)
    )
    documents, photos = await _documents(session, store, application)
    record = {
        "reference": application.reference,
        "kind": application.kind,
        "status": application.status,
        "channel": application.channel,
        "user_id": application.user_id,
        "form": dict(application.form),
        "national_id": national_id_of(application, vault),
        "submitted_at": _when(application.submitted_at),
        "updated_at": _when(application.updated_at),
        "decided_at": _when(application.decided_at),
        "terms_version": application.terms_version,
        "terms_accepted_at": _when(application.terms_accepted_at),
        "reduced_at": _when(application.reduced_at),
        "decisions": [
            {
                "round": d.round,
                "outcome": d.outcome,
                "reviewer": d.reviewer,
                "reason": d.reason,
                "items": d.fields.get("items", []),
                "note": d.note,
                "decided_at": _when(d.decided_at),
            }
            for d in decisions
        ],
        "documents": documents,
        "rights": [
            {"uid": r.uid, "right": r.name, "granted_at": _when(r.granted_at)} for r in rights
        ],
        "audit_trail": [
            {"at": _when(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in events
        ],
    }
    return record, photos


async def _documents(
    session: AsyncSession, store: DocumentStore, application: Application
) -> tuple[list[dict[str, Any]], list[Photo]]:
    found = await session.scalars(
        select(Document).where(Document.application_id == application.id).order_by(Document.id)
    )
    listed: list[dict[str, Any]] = []
    photos: list[Photo] = []
    for document in found:
        filename = None
        if document.deleted_at is None:
            extension = "png" if document.content_type == "image/png" else "jpg"
            filename = f"{application.reference}-{document.slot}-{document.id}.{extension}"
            try:
                photos.append(Photo(filename, store.read(document.storage_name)))
            except FileNotFoundError:
                filename = None
        listed.append(
            {
                "slot": document.slot,
                "content_type": document.content_type,
                "created_at": _when(document.created_at),
                "deleted_at": _when(document.deleted_at),
                "file": filename,
            }
        )
    return listed, photos


def _when(moment: datetime | None) -> str | None:
    """ISO 8601 for a machine to read, in Bangkok time (+07:00) as everything a person sees."""
    return None if moment is None else moment.astimezone(BANGKOK).isoformat()
