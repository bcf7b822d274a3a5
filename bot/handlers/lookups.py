"""The status look-ups: a person's own applications as plain values, dates already in Thai."""

from __future__ import annotations

from bot.flows.incoming import Incoming
from bot.flows.kinds import KINDS
from bot.flows.outgoing import (
    ApplicationFound,
    ApplicationLookedUp,
    ApplicationsFound,
    LookUpApplication,
    LookUpApplications,
    Milestone,
)
from core.clock import thai_date
from core.requests.application_status import StatusReport, status_of, statuses_of
from core.storage.db import Session


async def applications_found(
    session: Session, incoming: Incoming, effect: LookUpApplications
) -> ApplicationsFound:
    reports, total = await statuses_of(
        session, incoming.channel, incoming.user_id, limit=effect.newest, completed=_completed()
    )
    return ApplicationsFound(tuple(_found(report) for report in reports), total)


async def application_looked_up(
    session: Session, incoming: Incoming, effect: LookUpApplication
) -> ApplicationLookedUp:
    # Owner only: another person's reference is answered like one that does not exist.
    report = await status_of(
        session, incoming.channel, incoming.user_id, effect.reference, completed=_completed()
    )
    return ApplicationLookedUp(effect.reference, None if report is None else _found(report))


def _completed() -> list[str]:
    """What each request kind's job records once it carried the request out."""
    return [kind.done for kind in KINDS]


def _found(report: StatusReport) -> ApplicationFound:
    history = tuple(
        Milestone(milestone.what, thai_date(milestone.at), milestone.reason or "")
        for milestone in report.history
    )
    return ApplicationFound(report.reference, report.kind, report.status, history)
