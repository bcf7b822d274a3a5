"""The audit trail: who did what to which application, and when (never personal data)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.audit import chain as audit_chain
from core.storage.models import AuditEvent


def record(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    at: datetime,
    application_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record an event in the session's transaction: it is written at the commit, chained to
    the rows before (core.audit.chain), with the change it describes, or not at all."""
    if isinstance(session.bind, AsyncEngine):
        audit_chain.key_of(session.bind)  # no key: fail here, where the caller is
    row = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        application_id=application_id,
        detail=dict(detail or {}),
    )
    audit_chain.queue(session.sync_session, row)
