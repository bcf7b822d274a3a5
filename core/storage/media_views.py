"""Opening a document photo through a media link: refused once the request is decided or the
photo deleted, and every view audited in the name of the one the link was issued to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.audit.security_log import Event, loggable, security_event
from core.storage.media_links import Link, Refused
from core.storage.models import Application, Document


class Closed(StrEnum):
    """Why a genuine link no longer opens its photo."""

    DELETED = "deleted"  # the photo is gone (retention, replaced, withdrawn)
    DECIDED = "decided"  # the request was decided: the review window is over


@dataclass(frozen=True, slots=True)
class Viewable:
    storage_name: str
    application_id: int | None


async def view_document(
    session: AsyncSession, link: Link, *, remote: str, at: datetime
) -> Viewable | Closed:
    """The photo a link opens now, its view recorded in the caller's transaction."""
    row = (
        await session.execute(
            select(
                Document.storage_name,
                Document.deleted_at,
                Document.application_id,
                Application.decided_at,
            )
            .outerjoin(Application, Application.id == Document.application_id)
            .where(Document.id == link.document_id)
        )
    ).first()
    if row is None or row.deleted_at is not None or row.decided_at is not None:
        # A decided request's photos are deleted soon after: say why, not only that it is gone.
        decided = row is not None and row.decided_at is not None
        closed = Closed.DECIDED if decided else Closed.DELETED
        refused_view(closed, remote=remote, document_id=link.document_id, issued_to=link.issued_to)
        return closed
    audit.record(
        session,
        "document.viewed",
        actor=link.issued_to,
        at=at,
        application_id=row.application_id,
        detail={"document": str(link.document_id), "via": "link", "remote": remote},
    )
    security_event(
        Event.MEDIA_VIEW,
        level=logging.INFO,
        outcome="shown",
        document=link.document_id,
        application=row.application_id or "-",
        issued_to=loggable(link.issued_to),
        remote=loggable(remote),
    )
    return Viewable(row.storage_name, row.application_id)


def refused_view(
    why: Refused | Closed, *, remote: str, document_id: int | None = None, issued_to: str = "-"
) -> None:
    """A link that opened nothing, in the security log (a forged one names no document)."""
    security_event(
        Event.MEDIA_VIEW,
        outcome=why.value,
        document=document_id if document_id is not None else "-",
        issued_to=loggable(issued_to),
        remote=loggable(remote),
    )
