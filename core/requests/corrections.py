"""Resubmitting an application a reviewer returned for correction: same reference, new round."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.requests.applications import (
    AlreadyActive,
    ApplicationForm,
    NewApplication,
    _active_one,
    _check_form,
    _unattached_documents_of,
    national_id_context,
)
from core.storage.crypto import Vault
from core.storage.models import Application, Document


@dataclass(frozen=True, slots=True)
class Resubmitted:
    reference: str
    application_id: int
    changed: tuple[str, ...]  # the answers and documents that differ from the last round


async def resubmit_application(
    session: AsyncSession,
    vault: Vault,
    *,
    reference: str,
    channel: str,
    user_id: str,
    form: ApplicationForm,
    now: datetime,
) -> Resubmitted | AlreadyActive | None:
    """Replace the answers of a returned application; None if it is not this person's to fix."""
    _check_form(form)
    application = await session.scalar(
        select(Application)
        .where(
            Application.reference == reference,
            Application.channel == channel,
            Application.user_id == user_id,
            Application.status == "returned",
        )
        .with_for_update()
    )
    if application is None:
        return None
    await _unattached_documents_of(session, [NewApplication(channel, user_id, form)])
    changed = _changes(application, form, vault) + tuple(form.document_ids)
    if "national_id" in changed and form.national_id is not None and vault.old_versions:
        # A key rotation under way: another request may still hold an old key's digest.
        old = vault.old_national_id_digests(form.national_id)
        if await _active_one(session, old, channel, user_id) is not None:
            return AlreadyActive(reference, owned=True)  # as below: never another's reference
    try:
        async with session.begin_nested():
            _apply(application, form, vault, now)
            await session.flush()
    except IntegrityError:
        return AlreadyActive(reference, owned=True)  # its own request's reference
    await _replace_documents(session, application.id, form.document_ids, now)
    audit.record(
        session,
        "application.resubmitted",
        actor=f"{channel}:{user_id}",
        at=now,
        application_id=application.id,
        detail={"changed": ",".join(changed)},
    )
    return Resubmitted(reference, application.id, changed)


def _changes(application: Application, form: ApplicationForm, vault: Vault) -> tuple[str, ...]:
    keys = sorted(set(application.form) | set(form.fields))
    changed = [k for k in keys if application.form.get(k) != form.fields.get(k)]
    if form.national_id is not None:
        same = [vault.national_id_digest(form.national_id)]
        same += vault.old_national_id_digests(form.national_id)  # a key rotation under way
        if application.national_id_digest not in same:
            changed.append("national_id")
    return tuple(changed)


def _apply(application: Application, form: ApplicationForm, vault: Vault, now: datetime) -> None:
    application.form = dict(form.fields)
    application.status = "pending"
    application.version += 1
    application.updated_at = now
    application.decided_at = None
    if form.national_id is not None:
        digest = vault.national_id_digest(form.national_id)
        application.national_id_digest = application.active_national_id_digest = digest
        application.national_id_encrypted = vault.encrypt(
            form.national_id.encode("ascii"), context=national_id_context(application.reference)
        )


async def _replace_documents(
    session: AsyncSession, application_id: int, document_ids: Mapping[str, int], now: datetime
) -> None:
    """New photos take their slot; the ones they replace are marked deleted."""
    if not document_ids:
        return
    await session.execute(
        update(Document)
        .where(
            Document.application_id == application_id,
            Document.slot.in_(list(document_ids)),
            Document.deleted_at.is_(None),
        )
        .values(deleted_at=now)
    )
    await session.execute(
        update(Document)
        .where(Document.id.in_(list(document_ids.values())))
        .values(application_id=application_id)
    )
