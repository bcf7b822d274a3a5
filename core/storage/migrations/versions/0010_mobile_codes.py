"""One-time codes that verify the mobile number before a request is submitted (issue 16).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mobile_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat", sa.String(80), nullable=False),
        sa.Column("mobile_digest", sa.String(64), nullable=False),
        sa.Column("issue_key", sa.String(32), nullable=False),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mobile_codes")),
        sa.UniqueConstraint("issue_key", name=op.f("uq_mobile_codes_issue_key")),
    )
    op.create_index(op.f("ix_mobile_codes_mobile_digest"), "mobile_codes", ["mobile_digest"])
    op.create_index("ix_mobile_codes_chat_issued", "mobile_codes", ["chat", "issued_at"])
    op.create_table(
        "mobile_locks",
        sa.Column("mobile_digest", sa.String(64), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("last_wrong_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("mobile_digest", name=op.f("pk_mobile_locks")),
    )


def downgrade() -> None:
    op.drop_table("mobile_locks")
    op.drop_index("ix_mobile_codes_chat_issued", table_name="mobile_codes")
    op.drop_index(op.f("ix_mobile_codes_mobile_digest"), table_name="mobile_codes")
    op.drop_table("mobile_codes")
