"""What the suspension jobs read and record: the directory as asked, then the news, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit import trail as audit
from core.delivery.job_kinds import SUSPENSION_SMS
from core.delivery.jobs import enqueue
from core.directory.port import Directory
from core.requests.suspensions import SuspensionEvent
from core.storage.models import Application, Suspension

SETTLE_ROUNDS = 3  # directory writes per job before it waits for the suspensions to stop moving


@dataclass(frozen=True, slots=True)
class SuspensionView:
    id: int
    uid: str
    reason: str | None
    channel: str | None  # where the account's application was made, to tell the person
    user_id: str | None
    lifted: bool  # this suspension
    account_suspended: bool  # the account, by this suspension or a later one

    def still_true(self, event: SuspensionEvent) -> bool:
        """Whether news of this event, sent late, would still tell the person the truth."""
        if event is SuspensionEvent.SUSPENDED:
            return not self.lifted
        return not self.account_suspended


class SuspensionChangingError(Exception):
    """The suspensions of an account changed during every round: try again later."""


async def suspension(session: AsyncSession, suspension_id: int) -> SuspensionView | None:
    row = (
        await session.execute(
            select(Suspension, Application.channel, Application.user_id)
            .outerjoin(Application, Application.id == Suspension.application_id)
            .where(Suspension.id == suspension_id)
        )
    ).first()
    if row is None:
        return None
    found, channel, user_id = row
    open_one = await session.scalar(
        select(Suspension.id).where(Suspension.active_uid == found.uid)
    )
    return SuspensionView(
        found.id,
        found.uid,
        found.reason,
        channel,
        user_id,
        lifted=found.lifted_at is not None,
        account_suspended=open_one is not None,
    )


async def settle_lock(
    sessions: async_sessionmaker[AsyncSession], directory: Directory, uid: str
) -> bool:
    """Lock or unlock the account as its suspensions now ask; True when it is locked.

    Run by the lock and unlock jobs whatever order they run in. A suspension that changes
    while the directory is written is read again after the write, and written again: two
    workers running a lock and an unlock at once still leave the state of the last change.
    """
    for _ in range(SETTLE_ROUNDS):
        wanted = await _open_reason(sessions, uid)
        await (directory.unlock(uid) if wanted is None else directory.lock(uid, wanted))
        if await _open_reason(sessions, uid) == wanted:
            return wanted is not None
    raise SuspensionChangingError(f"suspensions of {uid} kept changing")


async def _open_reason(sessions: async_sessionmaker[AsyncSession], uid: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Suspension.reason).where(Suspension.active_uid == uid))


async def confirm_locked(
    session: AsyncSession, suspension_id: int, now: datetime, *, max_attempts: int | None = None
) -> bool:
    """The lock of a suspension still in force is done: record it and queue the SMS, once."""
    changed = await session.execute(
        update(Suspension)
        .where(
            Suspension.id == suspension_id,
            Suspension.locked_at.is_(None),
            Suspension.lifted_at.is_(None),
        )
        .values(locked_at=now)
        .returning(Suspension.uid, Suspension.application_id)
    )
    return await _confirmed(
        session,
        changed.first(),
        suspension_id,
        SuspensionEvent.SUSPENDED,
        now,
        max_attempts,
    )


async def confirm_unlocked(
    session: AsyncSession, suspension_id: int, now: datetime, *, max_attempts: int | None = None
) -> bool:
    """The unlock after a lifted suspension is done: record it and queue the SMS, once.

    False also when the account was never locked for this suspension (lifted before its
    lock job ran): the person was never told it was suspended, so is not told it is lifted.
    """
    changed = await session.execute(
        update(Suspension)
        .where(
            Suspension.id == suspension_id,
            Suspension.unlocked_at.is_(None),
            Suspension.locked_at.is_not(None),
            Suspension.lifted_at.is_not(None),
        )
        .values(unlocked_at=now)
        .returning(Suspension.uid, Suspension.application_id)
    )
    return await _confirmed(
        session, changed.first(), suspension_id, SuspensionEvent.LIFTED, now, max_attempts
    )


async def _confirmed(
    session: AsyncSession,
    changed: Row[str, int | None] | None,
    suspension_id: int,
    event: SuspensionEvent,
    now: datetime,
    max_attempts: int | None,
) -> bool:
    if changed is None:
        return False
    uid, application_id = changed
    action = "account.locked" if event is SuspensionEvent.SUSPENDED else "account.unlocked"
    audit.record(
        session,
        action,
        actor="system",
        at=now,
        application_id=application_id,
        detail={"uid": uid, "suspension": suspension_id},
    )
    await enqueue(
        session,
        kind=SUSPENSION_SMS,
        key=SUSPENSION_SMS.key(suspension_id, event.value),
        payload={"suspension_id": suspension_id, "event": event.value},
        now=now,
        max_attempts=max_attempts,
    )
    return True
