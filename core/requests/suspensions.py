"""Suspending an account that puts the system at risk (rule 2.9), and lifting it.

Suspending and lifting are state changes with their audit record and their job, written in
the caller's transaction: account.lock or account.unlock brings the directory to the state
the suspensions ask for; once it is there, the person is told in chat and an sms.suspension
job texts them, the job's key being the SMS's idempotency key. Every key carries the
suspension's id: a retry or a repeated command never locks, tells or texts twice, and a
later suspension of the same account gets keys of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.delivery.job_kinds import ACCOUNT_LOCK, ACCOUNT_UNLOCK, JobKind
from core.delivery.jobs import enqueue
from core.directory.port import Directory
from core.storage.db import dialect_insert
from core.storage.models import Application, Suspension


class SuspensionOutcome(StrEnum):
    RECORDED = "recorded"  # the state changed; its job is queued
    ALREADY_SUSPENDED = "already_suspended"
    NOT_SUSPENDED = "not_suspended"
    UNKNOWN = "unknown"  # no such account in the directory


class SuspensionEvent(StrEnum):
    """What the person is told about, in chat and by SMS."""

    SUSPENDED = "suspended"
    LIFTED = "unsuspended"


@dataclass(frozen=True, slots=True)
class Origin:
    """The chat a command came from: told there once the directory has done it."""

    channel: str
    chat_id: str


async def suspend_account(
    session: AsyncSession,
    directory: Directory,
    *,
    uid: str,
    reason: str,
    actor: str,
    now: datetime,
    origin: Origin | None = None,
    max_attempts: int | None = None,
) -> SuspensionOutcome:
    """Record a suspension and queue the directory lock; one open suspension per account."""
    person = await directory.find_user(uid)
    if person is None:
        return SuspensionOutcome.UNKNOWN
    application_id = await _application_id(session, person.application_reference)
    inserted = dialect_insert(session, Suspension).values(
        uid=uid,
        active_uid=uid,
        application_id=application_id,
        reason=reason[:300],
        suspended_by=actor,
        suspended_at=now,
    )
    suspension_id = await session.scalar(
        inserted.on_conflict_do_nothing(index_elements=["active_uid"]).returning(Suspension.id)
    )
    if suspension_id is None:
        return SuspensionOutcome.ALREADY_SUSPENDED
    audit.record(
        session,
        "account.suspended",
        actor=actor,
        at=now,
        application_id=application_id,
        detail={"uid": uid, "reason": reason[:200], "suspension": suspension_id},
    )
    await _enqueue_change(session, ACCOUNT_LOCK, suspension_id, origin, now, max_attempts)
    return SuspensionOutcome.RECORDED


async def lift_suspension(
    session: AsyncSession,
    directory: Directory,
    *,
    uid: str,
    actor: str,
    now: datetime,
    origin: Origin | None = None,
    max_attempts: int | None = None,
) -> SuspensionOutcome:
    """End the account's suspension and queue the unlock.

    An account locked in the directory without a suspension here (by an administrator, or
    before suspensions were recorded) is lifted too: it gets a suspension record, lifted now.
    """
    lifted = await session.execute(
        update(Suspension)
        .where(Suspension.active_uid == uid)
        .values(active_uid=None, lifted_by=actor, lifted_at=now)
        .returning(Suspension.id, Suspension.application_id)
    )
    row = lifted.first()
    found = None if row is None else (row[0], row[1])
    if found is None:
        outcome, found = await _lift_found_locked(session, directory, uid, actor, now)
        if found is None:
            return outcome
    suspension_id, application_id = found
    audit.record(
        session,
        "account.unsuspended",
        actor=actor,
        at=now,
        application_id=application_id,
        detail={"uid": uid, "suspension": suspension_id},
    )
    await _enqueue_change(session, ACCOUNT_UNLOCK, suspension_id, origin, now, max_attempts)
    return SuspensionOutcome.RECORDED


async def _lift_found_locked(
    session: AsyncSession, directory: Directory, uid: str, actor: str, now: datetime
) -> tuple[SuspensionOutcome, tuple[int, int | None] | None]:
    person = await directory.find_user(uid)
    if person is None:
        return SuspensionOutcome.UNKNOWN, None
    if not person.locked:
        return SuspensionOutcome.NOT_SUSPENDED, None
    application_id = await _application_id(session, person.application_reference)
    found = Suspension(
        uid=uid,
        application_id=application_id,
        locked_at=now,  # the person has a locked account: tell them once it is open again
        lifted_by=actor,
        lifted_at=now,
    )
    session.add(found)
    await session.flush()
    return SuspensionOutcome.RECORDED, (found.id, application_id)


async def _application_id(session: AsyncSession, reference: str | None) -> int | None:
    if not reference:
        return None  # an account that came with the roster, not through bmabot
    return await session.scalar(select(Application.id).where(Application.reference == reference))


async def _enqueue_change(
    session: AsyncSession,
    kind: JobKind,
    suspension_id: int,
    origin: Origin | None,
    now: datetime,
    max_attempts: int | None,
) -> None:
    payload: dict[str, Any] = {"suspension_id": suspension_id}
    if origin is not None:
        payload |= {"channel": origin.channel, "chat_id": origin.chat_id}
    await enqueue(
        session,
        kind=kind,
        key=kind.key(suspension_id),
        payload=payload,
        now=now,
        max_attempts=max_attempts,
    )
