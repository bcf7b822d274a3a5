"""The audit trail: who did what to which application, and when (never personal data)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditEvent


def record(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    at: datetime,
    application_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add an event to the session: it is written with the change it describes, or not at all."""
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action,
            application_id=application_id,
            detail=dict(detail or {}),
        )
    )
