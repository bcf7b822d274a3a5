"""Inbox of platform events (deduplicated, handled once) and outbox of messages to send.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("handled_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_events")),
        sa.UniqueConstraint("key", name=op.f("uq_inbox_events_key")),
    )
    op.create_index(
        "ix_inbox_events_pending", "inbox_events", ["status", "channel", "user_id", "id"]
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("inbox_event_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reply_token", sa.String(256), nullable=True),
        sa.Column("reply_by", UTC_DATETIME, nullable=True),
        sa.Column("retry_key", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbox_event_id"],
            ["inbox_events.id"],
            name=op.f("fk_outbox_messages_inbox_event_id_inbox_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index("ix_inbox_events_pending", table_name="inbox_events")
    op.drop_table("inbox_events")
