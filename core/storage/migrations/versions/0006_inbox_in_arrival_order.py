"""Pending inbox events in arrival order: the dispatcher reads the oldest few each round.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_inbox_events_arrival", "inbox_events", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_events_arrival", table_name="inbox_events")
