"""The consent record of each request (terms version, time of acceptance), and when its
personal fields were reduced to the minimal audit record (core.requests.retention).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default) on both databases: no table rebuild, so the
    # applications table keeps its constraints and nothing else is touched.
    op.add_column("applications", sa.Column("terms_version", sa.String(64), nullable=True))
    op.add_column(
        "applications", sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "applications", sa.Column("reduced_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("reduced_at")
        batch.drop_column("terms_accepted_at")
        batch.drop_column("terms_version")
