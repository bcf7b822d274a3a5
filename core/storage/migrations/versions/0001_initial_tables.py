"""Initial tables: conversations, applications, documents, audit events, reference counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ACTIVE_STATUSES = "'account_created', 'approved', 'pending', 'returned'"


def upgrade() -> None:
    create_conversations()
    create_applications()
    create_documents()
    create_audit_events()
    op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_reference_counters")),
    )


def downgrade() -> None:
    op.drop_table("reference_counters")
    op.drop_table("audit_events")
    op.drop_table("documents")
    op.drop_table("applications")
    op.drop_table("conversations")


def create_conversations() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("channel", "user_id", name=op.f("uq_conversations_channel_user_id")),
    )


def create_applications() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("form", JSON_DOCUMENT, nullable=False),
        sa.Column("national_id_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("national_id_digest", sa.String(length=64), nullable=True),
        sa.Column("active_national_id_digest", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            f"active_national_id_digest IS NULL OR status IN ({ACTIVE_STATUSES})",
            name=op.f("ck_applications_active_digest_only_while_active"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint(
            "active_national_id_digest", name=op.f("uq_applications_active_national_id_digest")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_applications_reference")),
    )
    op.create_index(
        op.f("ix_applications_national_id_digest"), "applications", ["national_id_digest"]
    )
    op.create_index("ix_applications_owner", "applications", ["channel", "user_id"])


def create_documents() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("storage_name", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_documents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_documents_storage_name")),
    )
    op.create_index(op.f("ix_documents_application_id"), "documents", ["application_id"])
    op.create_index("ix_documents_owner", "documents", ["channel", "user_id"])


def create_audit_events() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("detail", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_audit_events_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_application_id"), "audit_events", ["application_id"])
