"""Every application as plain rows for a spreadsheet; national IDs masked unless asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.requests.applications import national_id_of
from core.rules.validation import mask_national_id
from core.storage.crypto import Vault
from core.storage.models import Application

BATCH_SIZE = 500  # rows read at a time: an export of all BMA stays within a little memory


@dataclass(frozen=True, slots=True)
class ExportRow:
    reference: str
    kind: str
    status: str
    channel: str
    submitted_at: datetime
    decided_at: datetime | None
    form: dict[str, Any]
    national_id: str | None  # grouped like the card, masked unless revealed; None for agency


async def count_applications(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Application)) or 0)


async def export_rows(
    session: AsyncSession, vault: Vault, *, reveal_national_id: bool = False
) -> AsyncIterator[ExportRow]:
    """All applications, oldest first, read in batches (keyset pagination on the id)."""
    last_id = 0
    while True:
        batch = list(
            await session.scalars(
                select(Application)
                .where(Application.id > last_id)
                .order_by(Application.id)
                .limit(BATCH_SIZE)
            )
        )
        if not batch:
            return
        for application in batch:
            yield _row(application, vault, reveal_national_id=reveal_national_id)
        last_id = batch[-1].id
        session.expunge_all()  # done with them: let the identity map forget the batch


def format_national_id(national_id: str) -> str:
    """'1103700123458' -> '1-1037-00123-45-8', grouped as printed on the card.

    The dashes also keep a spreadsheet from reading 13 digits as a number in E notation.
    """
    n = national_id
    return f"{n[0]}-{n[1:5]}-{n[5:10]}-{n[10:12]}-{n[12]}"


def _row(application: Application, vault: Vault, *, reveal_national_id: bool) -> ExportRow:
    national_id = national_id_of(application, vault)
    if national_id is not None:
        show = format_national_id if reveal_national_id else mask_national_id
        national_id = show(national_id)
    return ExportRow(
        application.reference,
        application.kind,
        application.status,
        application.channel,
        application.submitted_at,
        application.decided_at,
        dict(application.form),
        national_id,
    )
