"""Review decisions, one per application round.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_decisions_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint(
            "application_id", "round", name=op.f("uq_decisions_application_id_round")
        ),
    )
    op.create_index(op.f("ix_decisions_application_id"), "decisions", ["application_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_decisions_application_id"), table_name="decisions")
    op.drop_table("decisions")
