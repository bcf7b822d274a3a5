"""What a reviewer is shown, as plain values (no database types), for the flows to lay out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: int
    slot: str
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class CardData:
    application_id: int
    reference: str
    kind: str
    status: str
    channel: str
    user_id: str
    form: dict[str, Any]
    masked_national_id: str | None
    submitted_at: datetime
    documents: tuple[DocumentView, ...]
    earlier: tuple[tuple[str, str], ...]  # other applications of the same person: (ref, status)
    # The keyed digests of the national ID (current key, older keys): rule 2.1 in the directory.
    national_id_digests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Waiting:
    application_id: int
    reference: str
    kind: str
    submitted_at: datetime
    channel: str
