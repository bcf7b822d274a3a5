"""Keeping the PDPA notice's word: photos and personal fields of decided requests deleted on time.

The notice (locale apply.pdpa) promises what BMABOT_DOCUMENT_RETENTION_DAYS and
BMABOT_RECORD_RETENTION_DAYS keep. A photo goes with its file and its row marked deleted; a
request's personal fields go with the row kept as the minimal audit record: reference, kind,
unit, status, dates, decisions and who made them, the consent record. The audit trail stays
as it is: it is chained (core.audit.chain) and holds no personal data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.storage.documents import DocumentStore
from core.storage.models import (
    Application,
    ApplicationStatus,
    Decision,
    Document,
    MobileCode,
    MobileLock,
)

# A request that nothing will happen to any more. An approval counts once carried out:
# the account job still reads the form and may need the reviewers to look again.
FINAL_STATUSES = frozenset(
    {
        ApplicationStatus.ACCOUNT_CREATED,
        ApplicationStatus.COMPLETED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.EXPIRED,
    }
)
MINIMAL_FORM_KEYS = ("unit", "unit_done", "unit_note")  # the unit: ids from the organisation
REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")  # a reason button's code, not typed words
ERASED_USER = ""  # no chat user: a reduced request answers nobody's status question


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    document_days: int = 0
    record_days: int = 365


@dataclass(frozen=True, slots=True)
class Purged:
    """What one purge removed: counts and references only, never personal data."""

    documents: int  # photos deleted now (files and rows)
    files: int  # files of photos deleted earlier (replaced ones) removed from disk now
    documents_of: tuple[str, ...]  # the requests whose photos went
    reduced: tuple[str, ...]  # the requests left as minimal audit records
    mobile_codes: int = 0  # one-time codes and lock counters no longer needed


async def delete_documents(
    session: AsyncSession,
    store: DocumentStore,
    application_id: int,
    *,
    now: datetime,
    actor: str,
    why: str,
) -> int:
    """Delete every photo of a request, files and rows, audited; how many were still kept.

    Rows are marked first, files removed after the flush: a failure before the flush leaves
    every photo as it was; a rollback after it leaves rows whose files are gone, which read
    and link as deleted photos (FileNotFoundError, 404) and never a file that no row names.
    """
    found = list(
        await session.scalars(select(Document).where(Document.application_id == application_id))
    )
    kept = [document for document in found if document.deleted_at is None]
    for document in kept:
        document.deleted_at = now
    await session.flush()
    for document in found:  # replaced ones too: their rows were marked, their files stayed
        store.delete(document.storage_name)
    if kept:
        audit.record(
            session,
            "documents.deleted",
            actor=actor,
            at=now,
            application_id=application_id,
            detail={"count": len(kept), "why": why},
        )
    return len(kept)


async def documents_decided(
    session: AsyncSession,
    store: DocumentStore,
    policy: RetentionPolicy,
    application_id: int,
    now: datetime,
) -> int:
    """Call where a request is decided for good: with a retention of 0 days its photos go now;
    with more, the daily purge takes them."""
    if policy.document_days:
        return 0
    status = await session.scalar(
        select(Application.status).where(Application.id == application_id)
    )
    if status not in FINAL_STATUSES:
        return 0
    return await delete_documents(
        session, store, application_id, now=now, actor="system", why="decided"
    )


async def remove_replaced_files(
    session: AsyncSession, store: DocumentStore, application_id: int
) -> int:
    """The files of photos a correction replaced (their rows are marked deleted already)."""
    names = await session.scalars(
        select(Document.storage_name).where(
            Document.application_id == application_id, Document.deleted_at.is_not(None)
        )
    )
    removed = 0
    for name in names:
        removed += store.remove_file(name)
    return removed


async def reduce_record(
    session: AsyncSession, application: Application, *, now: datetime, actor: str, why: str
) -> bool:
    """Leave only the minimal audit record of a decided request; False if it was already."""
    if application.reduced_at is not None:
        return False
    application.form = {k: application.form[k] for k in MINIMAL_FORM_KEYS if k in application.form}
    application.national_id_encrypted = None
    application.national_id_digest = None
    if application.status != ApplicationStatus.ACCOUNT_CREATED:
        # An account that exists keeps its keyed digest: one person, one account (terms
        # rule 1) cannot be kept without it. It is no national ID without the secret key.
        application.active_national_id_digest = None
    application.user_id = ERASED_USER
    application.reduced_at = now
    application.updated_at = now
    decisions = await session.scalars(
        select(Decision).where(Decision.application_id == application.id)
    )
    for decision in decisions:
        decision.note = None
        if decision.reason is not None and not REASON_CODE.fullmatch(decision.reason):
            decision.reason = None  # typed by a reviewer: it may name the person
    audit.record(
        session,
        "application.reduced",
        actor=actor,
        at=now,
        application_id=application.id,
        detail={"why": why},
    )
    await session.flush()
    return True


async def purge(
    session: AsyncSession, store: DocumentStore, policy: RetentionPolicy, now: datetime
) -> Purged:
    """Apply the retention now, in the caller's transaction."""
    documents_of: list[str] = []
    deleted = 0
    document_cutoff = now - timedelta(days=policy.document_days)
    for application in await _decided_before(session, document_cutoff, with_documents=True):
        count = await delete_documents(
            session, store, application.id, now=now, actor="system", why="retention"
        )
        deleted += count
        documents_of.append(application.reference)
    files = await _sweep_deleted_files(session, store)
    reduced: list[str] = []
    record_cutoff = now - timedelta(days=policy.record_days)
    for application in await _decided_before(session, record_cutoff, with_documents=False):
        await reduce_record(session, application, now=now, actor="system", why="retention")
        reduced.append(application.reference)
    codes = await _forget_mobile_codes(session, now)
    return Purged(deleted, files, tuple(documents_of), tuple(reduced), codes)


# A verified code proves the mobile at submission: kept as long as the draft may wait.
MOBILE_CODES_KEPT = timedelta(days=31)
MOBILE_LOCKS_KEPT = timedelta(days=1)  # wrong-code counters once no lock is running


async def _forget_mobile_codes(session: AsyncSession, now: datetime) -> int:
    """Delete one-time codes past any use (they name a chat) and spent wrong-code counters."""
    codes = await session.execute(
        delete(MobileCode).where(MobileCode.issued_at <= now - MOBILE_CODES_KEPT)
    )
    locks = await session.execute(
        delete(MobileLock).where(
            MobileLock.last_wrong_at <= now - MOBILE_LOCKS_KEPT,
            or_(MobileLock.locked_until.is_(None), MobileLock.locked_until <= now),
        )
    )
    return int(codes.rowcount or 0) + int(locks.rowcount or 0)  # type: ignore[attr-defined]


async def _decided_before(
    session: AsyncSession, cutoff: datetime, *, with_documents: bool
) -> Sequence[Application]:
    """Final requests decided by the cutoff: those that still keep a photo, or those whose
    personal fields were not reduced yet."""
    query = select(Application).where(
        Application.status.in_([status.value for status in FINAL_STATUSES]),
        Application.decided_at <= cutoff,
    )
    if with_documents:
        kept = select(Document.application_id).where(Document.deleted_at.is_(None))
        query = query.where(Application.id.in_(kept.scalar_subquery()))
    else:
        query = query.where(Application.reduced_at.is_(None))
    return list(await session.scalars(query.order_by(Application.id)))


async def _sweep_deleted_files(session: AsyncSession, store: DocumentStore) -> int:
    """Files still on disk under a deleted row: a correction's replaced photo, or a crash
    between marking a row and removing its file."""
    names = await session.scalars(
        select(Document.storage_name).where(Document.deleted_at.is_not(None))
    )
    return sum(store.remove_file(name) for name in names)
