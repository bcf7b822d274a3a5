"""Where a person's requests stand: their status and what happened to them, and when.

Only the owner (the chat channel and user that submitted) ever gets an application here:
asking for someone else's reference looks exactly like asking for one that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Application, ApplicationStatus, AuditEvent, Decision

# A reviewer's decision as a milestone (Decision rows carry the reason of a rejection).
DECIDED = {
    "approve": "approved",
    "reject": "rejected",
    "return": "returned",
    "expire": "expired",
}
FAILED = "failed"  # a status of the answer only: approved, and its job failed for good
# Milestones that only the audit trail records; a request kind's "done" action (the job
# that carries it out records it) is passed in by the caller as `completed`.
RECORDED = {
    "application.resubmitted": "resubmitted",
    "account.created": "account_created",
    "request.failed": FAILED,  # the job carrying out an approval failed for good
    "request.retried": "retried",  # and a person set it going again
}


@dataclass(frozen=True, slots=True)
class Milestone:
    what: str  # submitted | returned | resubmitted | approved | account_created | rejected | ...
    at: datetime
    reason: str | None = None  # a rejection's: a reason code or the reviewer's own words


@dataclass(frozen=True, slots=True)
class StatusReport:
    reference: str
    kind: str
    status: str
    submitted_at: datetime
    history: tuple[Milestone, ...]  # oldest first, starting with the submission


async def statuses_of(
    session: AsyncSession,
    channel: str,
    user_id: str,
    *,
    limit: int,
    completed: Iterable[str] = (),
) -> tuple[list[StatusReport], int]:
    """The person's newest `limit` applications, newest first, and how many they have in all."""
    owned = (Application.channel == channel, Application.user_id == user_id)
    total = await session.scalar(select(func.count()).select_from(Application).where(*owned))
    rows = await session.scalars(
        select(Application)
        .where(*owned)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(limit)
    )
    return await _with_history(session, list(rows), completed), int(total or 0)


async def status_of(
    session: AsyncSession,
    channel: str,
    user_id: str,
    reference: str,
    *,
    completed: Iterable[str] = (),
) -> StatusReport | None:
    """The person's own application with this reference; None for anyone else's, or none."""
    application = await session.scalar(
        select(Application).where(
            Application.reference == reference,
            Application.channel == channel,
            Application.user_id == user_id,
        )
    )
    if application is None:
        return None
    (found,) = await _with_history(session, [application], completed)
    return found


async def _with_history(
    session: AsyncSession, applications: Sequence[Application], completed: Iterable[str]
) -> list[StatusReport]:
    ids = [application.id for application in applications]
    history: dict[int, list[Milestone]] = defaultdict(list)
    recorded = {**RECORDED, **dict.fromkeys(completed, "completed")}
    found = (
        [*await _decisions(session, ids), *await _recorded(session, ids, recorded)] if ids else []
    )
    for application_id, milestone in found:
        history[application_id].append(milestone)
    return [
        StatusReport(
            application.reference,
            application.kind,
            _status(application.status, history[application.id]),
            application.submitted_at,
            _in_order(Milestone("submitted", application.submitted_at), history[application.id]),
        )
        for application in applications
    ]


async def _decisions(session: AsyncSession, ids: list[int]) -> list[tuple[int, Milestone]]:
    decisions = await session.scalars(
        select(Decision).where(Decision.application_id.in_(ids)).order_by(Decision.id)
    )
    return [
        (d.application_id, Milestone(DECIDED[d.outcome], d.decided_at, _reason(d)))
        for d in decisions
        if d.outcome in DECIDED
    ]


def _reason(decision: Decision) -> str | None:
    return decision.reason if decision.outcome == "reject" else None


async def _recorded(
    session: AsyncSession, ids: list[int], recorded: Mapping[str, str]
) -> list[tuple[int, Milestone]]:
    events = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id.in_(ids), AuditEvent.action.in_(list(recorded)))
        .order_by(AuditEvent.id)
    )
    return [
        (event.application_id, Milestone(recorded[event.action], event.at))
        for event in events
        if event.application_id is not None  # always, for these ids: for the type checker
    ]


def _status(status: str, milestones: Sequence[Milestone]) -> str:
    """Approved, and its job failed for good with no retry since: "failed", said as it is."""
    if status != ApplicationStatus.APPROVED:
        return status
    # sorted() is stable: of two at the same moment, the one written later comes last.
    tries = sorted((m for m in milestones if m.what in (FAILED, "retried")), key=lambda m: m.at)
    return FAILED if tries and tries[-1].what == FAILED else status


def _in_order(submitted: Milestone, later: list[Milestone]) -> tuple[Milestone, ...]:
    # sorted() is stable: milestones at the same moment keep the order they were written in.
    return (submitted, *sorted(later, key=lambda milestone: milestone.at))
