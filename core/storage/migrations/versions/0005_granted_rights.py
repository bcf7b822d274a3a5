"""Rights given to accounts by approved rights requests (rule 2.6).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "granted_rights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("group_dn", sa.String(300), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_granted_rights_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_granted_rights")),
        sa.UniqueConstraint("uid", "name", name=op.f("uq_granted_rights_uid_name")),
    )
    op.create_index(op.f("ix_granted_rights_application_id"), "granted_rights", ["application_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_granted_rights_application_id"), table_name="granted_rights")
    op.drop_table("granted_rights")
