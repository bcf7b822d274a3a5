"""Reviewers' display names, so that groups read a name instead of a platform id (issue 17).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewer_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(80), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewer_names")),
        sa.UniqueConstraint("reviewer", name=op.f("uq_reviewer_names_reviewer")),
    )


def downgrade() -> None:
    op.drop_table("reviewer_names")
