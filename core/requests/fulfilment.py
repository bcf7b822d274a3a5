"""An approved request carried out: approved -> account created, approved -> completed;
or its job failed for good (the status says so) until a person tries it again.

The jobs that carry out an approval may run more than once; these conditional updates make
the change, and its audit record, happen once. The caller tells people in the same
transaction, and only when the change was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.delivery.jobs import retry
from core.storage.db import dialect_insert, table_of
from core.storage.models import Application, ApplicationStatus, GrantedRight, Job

FAILED = "request.failed"  # the job that carries out an approval failed for good
RETRIED = "request.retried"  # and a person set it going again


async def mark_account_created(
    session: AsyncSession, application_id: int, *, uid: str, now: datetime
) -> bool:
    """The account of an approved application is in the directory; False if already said."""
    return await _carried_out(
        session,
        application_id,
        ApplicationStatus.ACCOUNT_CREATED,
        action="account.created",
        detail={"uid": uid},
        now=now,
    )


async def complete_request(
    session: AsyncSession,
    application_id: int,
    *,
    action: str,
    detail: Mapping[str, str],
    now: datetime,
) -> bool:
    """An approved short request (handover, rights) is carried out; False if already said."""
    return await _carried_out(
        session, application_id, ApplicationStatus.COMPLETED, action=action, detail=detail, now=now
    )


async def fulfilment_failed(
    session: AsyncSession, application_id: int, *, job_kind: str, now: datetime
) -> bool:
    """The job of an approved request failed for good: recorded for its status. False when
    the request is not waiting for a job (a card's job, or already carried out)."""
    if not await _approved(session, application_id):
        return False
    audit.record(
        session,
        FAILED,
        actor="system",
        at=now,
        application_id=application_id,
        detail={"job": job_kind},
    )
    return True


async def retry_fulfilment(
    session: AsyncSession, job_id: int, *, actor: str, now: datetime
) -> bool:
    """A person's retry of a job (core.delivery.jobs.retry); the approved request it carries
    out is on its way again. False when the job cannot be retried now."""
    if not await retry(session, job_id, now):
        return False
    job = await session.get(Job, job_id)
    application_id = None if job is None else job.payload.get("application_id")
    if job is None or application_id is None:
        return True
    if await _approved(session, int(application_id)):
        audit.record(
            session,
            RETRIED,
            actor=actor,
            at=now,
            application_id=int(application_id),
            detail={"job": job.kind},
        )
    return True


async def _approved(session: AsyncSession, application_id: int) -> bool:
    status = await session.scalar(
        select(Application.status).where(Application.id == application_id)
    )
    return status == ApplicationStatus.APPROVED


async def grant_right(
    session: AsyncSession,
    application_id: int,
    *,
    uid: str,
    right: str,
    group_dn: str | None,
    now: datetime,
) -> None:
    """Keep the right an approved rights request gave; a right held already stays as it is."""
    granted = dialect_insert(session, GrantedRight).values(
        uid=uid, name=right, application_id=application_id, group_dn=group_dn, granted_at=now
    )
    await session.execute(granted.on_conflict_do_nothing(index_elements=["uid", "name"]))


async def _carried_out(
    session: AsyncSession,
    application_id: int,
    status: ApplicationStatus,
    *,
    action: str,
    detail: Mapping[str, str],
    now: datetime,
) -> bool:
    # Core, on the table: the ORM's bulk update would also look for loaded copies of the row
    # to refresh, and the callers hold none in this session (issue 13: approvals per worker).
    applications = table_of(Application)
    changed = await session.scalar(
        update(applications)
        .where(
            applications.c.id == application_id,
            applications.c.status == ApplicationStatus.APPROVED,
        )
        .values(status=status, updated_at=now)
        .returning(applications.c.id)
    )
    if changed is None:
        return False
    audit.record(
        session, action, actor="system", at=now, application_id=application_id, detail=detail
    )
    return True
