"""Review decisions: a conditional update, so two reviewers pressing at once make one decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.storage.models import Application, ApplicationStatus, Decision

OUTCOMES = {
    "approve": ApplicationStatus.APPROVED,
    "reject": ApplicationStatus.REJECTED,
    "return": ApplicationStatus.RETURNED,
    "expire": ApplicationStatus.EXPIRED,
}
ENDING = frozenset({"reject", "expire"})  # these free the national ID for a new application


@dataclass(frozen=True, slots=True)
class Decided:
    application_id: int
    reference: str
    outcome: str
    channel: str  # where the applicant applied, and so is told
    user_id: str


@dataclass(frozen=True, slots=True)
class AlreadyDecided:
    reference: str
    outcome: str  # what happened first (a decision, or the status it is in)
    reviewer: str
    decided_at: datetime


async def decide(
    session: AsyncSession,
    *,
    application_id: int,
    outcome: str,
    reviewer: str,
    now: datetime,
    reason: str | None = None,
    items: Sequence[str] = (),
    note: str | None = None,
) -> Decided | AlreadyDecided | None:
    """Decide a pending application; None when there is no such application."""
    values: dict[str, object] = {"status": OUTCOMES[outcome].value, "decided_at": now}
    if outcome in ENDING:
        values["active_national_id_digest"] = None
    changed = await session.execute(
        update(Application)
        .where(Application.id == application_id, Application.status == "pending")
        .values(updated_at=now, **values)
        .returning(
            Application.reference, Application.channel, Application.user_id, Application.version
        )
    )
    row = changed.first()
    if row is None:
        return await _first_decision(session, application_id)
    reference, channel, user_id, round_ = row
    session.add(
        Decision(
            application_id=application_id,
            round=round_,
            outcome=outcome,
            reviewer=reviewer,
            reason=reason,
            fields={"items": list(items)},
            note=note,
            decided_at=now,
        )
    )
    audit.record(
        session,
        f"application.{outcome}",
        actor=reviewer,
        at=now,
        application_id=application_id,
        detail={"items": ",".join(items)} if items else {},
    )
    return Decided(application_id, reference, outcome, channel, user_id)


async def _first_decision(session: AsyncSession, application_id: int) -> AlreadyDecided | None:
    application = await session.get(Application, application_id)
    if application is None:
        return None
    decision = await session.scalar(
        select(Decision)
        .where(Decision.application_id == application_id)
        .order_by(Decision.id.desc())
        .limit(1)
    )
    if decision is None:
        return AlreadyDecided(
            application.reference, application.status, "system", application.updated_at
        )
    return AlreadyDecided(
        application.reference, decision.outcome, decision.reviewer, decision.decided_at
    )


async def latest_decision(session: AsyncSession, application_id: int) -> Decision | None:
    return await session.scalar(
        select(Decision)
        .where(Decision.application_id == application_id)
        .order_by(Decision.id.desc())
        .limit(1)
    )
