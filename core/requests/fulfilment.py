"""An approved request carried out: approved -> account created, approved -> completed.

The jobs that carry out an approval may run more than once; these conditional updates make
the change, and its audit record, happen once. The caller tells people in the same
transaction, and only when the change was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.storage.db import dialect_insert
from core.storage.models import Application, ApplicationStatus, GrantedRight


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
    changed = await session.scalar(
        update(Application)
        .where(Application.id == application_id, Application.status == ApplicationStatus.APPROVED)
        .values(status=status, updated_at=now)
        .returning(Application.id)
    )
    if changed is None:
        return False
    audit.record(
        session, action, actor="system", at=now, application_id=application_id, detail=detail
    )
    return True
