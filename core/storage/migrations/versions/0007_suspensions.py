"""Suspensions of accounts (rule 2.9): the state that the lock, unlock and SMS jobs follow.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("active_uid", sa.String(64), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("suspended_by", sa.String(80), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(80), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_suspensions_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
        sa.UniqueConstraint("active_uid", name=op.f("uq_suspensions_active_uid")),
    )
    op.create_index(op.f("ix_suspensions_application_id"), "suspensions", ["application_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_suspensions_application_id"), table_name="suspensions")
    op.drop_table("suspensions")
