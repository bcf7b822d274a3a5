"""The audit trail as a hash chain: a hash per row and the chain's head.

The rows already written cannot be hashed here (the key is derived from the secret key,
which migrations never see): the head's start_id marks them as from before the chain, and
the first chained row links to a value bound to start_id. The trigger moves the head on
every insert; a later migration that rebuilds audit_events on SQLite (batch mode copies the
table) must create it again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only ever forward: a row inserted with a smaller id (by hand) does not move the head back.
ADVANCE = (
    "UPDATE audit_chain SET last_id = NEW.id, last_hash = NEW.chain_hash "
    "WHERE id = 1 AND (last_id IS NULL OR last_id < NEW.id)"
)
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_chain_advance AFTER INSERT ON audit_events FOR EACH ROW "
    f"BEGIN {ADVANCE}; END"
)
POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_chain_advance() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN {ADVANCE}; RETURN NULL; END $$"
)
POSTGRESQL_TRIGGER = (
    "CREATE TRIGGER audit_chain_advance AFTER INSERT ON audit_events FOR EACH ROW "
    "EXECUTE FUNCTION audit_chain_advance()"
)


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("previous_hash", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("chain_hash", sa.String(64), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("start_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(64), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.execute(
        "INSERT INTO audit_chain (id, start_id) SELECT 1, COALESCE(MAX(id), 0) FROM audit_events"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_chain_advance" + _on_table())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_chain_advance()")
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("chain_hash")
        batch.drop_column("previous_hash")


def _on_table() -> str:
    return " ON audit_events" if op.get_bind().dialect.name == "postgresql" else ""
