"""The database tables as SQLAlchemy 2 typed ORM classes; every datetime is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one (UTC)")
        utc = value.astimezone(UTC)
        # SQLite keeps no offset: store the UTC wall time, read back as UTC.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")

# Named constraints let later migrations alter them (SQLite batch mode needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
    }


class ApplicationKind(StrEnum):
    STAFF = "staff"
    CONTRACT = "contract"
    AGENCY = "agency"
    HANDOVER = "handover"  # a unit mailbox gets a new responsible person (rule 2.2)
    RIGHTS = "rights"  # e-GP BMA or Web Portal rights for an existing account (rule 2.6)


# Kinds that make an account for one person: they carry that person's national ID.
PERSONAL_KINDS = frozenset({ApplicationKind.STAFF, ApplicationKind.CONTRACT})


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    RETURNED = "returned"
    APPROVED = "approved"
    ACCOUNT_CREATED = "account_created"
    REJECTED = "rejected"
    EXPIRED = "expired"
    COMPLETED = "completed"  # a handover or rights request carried out in the directory


# While an application is in one of these, it holds its person's active_national_id_digest.
ACTIVE_STATUSES = frozenset(
    {
        ApplicationStatus.PENDING,
        ApplicationStatus.RETURNED,
        ApplicationStatus.APPROVED,
        ApplicationStatus.ACCOUNT_CREATED,
    }
)


class DocumentSlot(StrEnum):
    ID_CARD = "id_card"
    WORK_CERTIFICATE = "work_certificate"
    MEMO = "memo"
    RESPONSIBLE_ID_CARD = "responsible_id_card"


class Conversation(Base):
    """One chat user's dialogue; state is encrypted JSON (it holds answers such as the ID)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


def _in_active_statuses() -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in sorted(ACTIVE_STATUSES)) + ")"


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_owner", "channel", "user_id"),
        # The database, not the code, keeps "one person, one active application or account".
        CheckConstraint(
            f"active_national_id_digest IS NULL OR {_in_active_statuses()}",
            name="active_digest_only_while_active",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(
        String(16), default=ApplicationStatus.PENDING.value, server_default="pending"
    )
    form: Mapped[dict[str, Any]]
    national_id_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    active_national_id_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The consent record: a hash of the terms and PDPA notice the applicant accepted, and when.
    terms_version: Mapped[str | None] = mapped_column(String(64))
    terms_accepted_at: Mapped[datetime | None]
    # When core.requests.retention left only the minimal audit record of this request.
    reduced_at: Mapped[datetime | None]


class Document(Base):
    """An uploaded file; application_id stays NULL while the form is still a draft."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_owner", "channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(32))
    storage_name: Mapped[str] = mapped_column(String(128), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what and when; detail never holds personal data.

    Each row is a link of a hash chain (core.audit.chain): chain_hash is the HMAC of its
    fields and previous_hash, the chain_hash of the row before. Rows from before migration
    0008 have neither. A trigger moves AuditChain's head on every insert: a migration that
    rebuilds this table (SQLite batch mode) must create the trigger again.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class AuditChain(Base):
    """The head of the audit chain, one row: the newest row and where the chain starts.

    Writers lock this row to take turns; rows up to start_id were written before the chain
    (migration 0008) and cannot be checked.
    """

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    start_id: Mapped[int]
    last_id: Mapped[int | None]
    last_hash: Mapped[str | None] = mapped_column(String(64))


class ReferenceCounter(Base):
    """The last reference number given out in one Buddhist-era year."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int]


class InboxEvent(Base):
    """A platform event as received (encrypted: it holds what people typed), handled once."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        Index("ix_inbox_events_pending", "status", "channel", "user_id", "id"),
        Index("ix_inbox_events_arrival", "status", "id"),  # the oldest pending first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # "line:<webhookEventId>"
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))  # whose conversation it belongs to
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    handled_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """The messages of one turn for one chat, kept until the channel confirms delivery."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    inbox_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id"))
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted: summaries hold names
    reply_token: Mapped[str | None] = mapped_column(String(256))
    reply_by: Mapped[datetime | None]
    retry_key: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))


class Decision(Base):
    """A reviewer's decision on one round of an application (a resubmission is a new round)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("application_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))  # approve | reject | return | expire
    reviewer: Mapped[str] = mapped_column(String(80))  # "line:U123", or "system"
    reason: Mapped[str | None] = mapped_column(String(300))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [...]} to redo
    note: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime]


class Job(Base):
    """A side effect to do once (create an account, send an SMS), retried until it works."""

    __tablename__ = "jobs"
    __table_args__ = (
        # Claiming looks for pending jobs that are due and running jobs whose lease expired.
        Index("ix_jobs_due", "status", "run_at"),
        Index("ix_jobs_lease", "status", "locked_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))  # "account.create", "sms.credentials"
    key: Mapped[str] = mapped_column(String(160), unique=True)  # idempotency key
    payload: Mapped[dict[str, Any]]  # ids and references only: never secrets
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    max_attempts: Mapped[int]
    run_at: Mapped[datetime]  # due time of the next attempt
    locked_until: Mapped[datetime | None]  # lease of a running job
    locked_by: Mapped[str | None] = mapped_column(String(64))  # the worker holding the lease
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class GrantedRight(Base):
    """A right (e-GP BMA, Web Portal) given to an account by an approved rights request."""

    __tablename__ = "granted_rights"
    __table_args__ = (UniqueConstraint("uid", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(32))  # "egp" | "webportal"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    group_dn: Mapped[str | None] = mapped_column(String(300))  # the directory group, if any
    granted_at: Mapped[datetime]


class Suspension(Base):
    """An account suspended by an administrator (rule 2.9), and its lifting.

    The directory lock, the person's chat notice and SMS follow as jobs keyed by this id.
    """

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64))
    # The uid while the suspension is in force: one open suspension per account, kept by
    # the database (NULL once lifted, so the account may be suspended again later).
    active_uid: Mapped[str | None] = mapped_column(String(64), unique=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(300))  # None: found locked, not by us
    suspended_by: Mapped[str | None] = mapped_column(String(80))
    suspended_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]  # the directory lock done and the person told
    lifted_by: Mapped[str | None] = mapped_column(String(80))
    lifted_at: Mapped[datetime | None]
    unlocked_at: Mapped[datetime | None]  # the directory unlock done and the person told


class MobileCode(Base):
    """One one-time code sent by SMS to prove a chat holds the mobile number it typed.

    Only keyed digests (Vault.mobile_code_digest): of the number, and of the code bound to
    it. `sealed` holds the number and code encrypted for the SMS job, and is emptied as soon
    as the gateway has the message (or the code is closed).
    """

    __tablename__ = "mobile_codes"
    __table_args__ = (Index("ix_mobile_codes_chat_issued", "chat", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat: Mapped[str] = mapped_column(String(80))  # "line:U123…": who asked for it
    mobile_digest: Mapped[str] = mapped_column(String(64), index=True)
    issue_key: Mapped[str] = mapped_column(String(32), unique=True)  # the SMS idempotency key
    code_digest: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    wrong: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]  # replaced by a resend, or the number was locked
    verified_at: Mapped[datetime | None]


class MobileLock(Base):
    """Wrong codes typed for one number; at the limit the number is locked for a while."""

    __tablename__ = "mobile_locks"

    mobile_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    wrong: Mapped[int] = mapped_column(Integer, default=0)
    last_wrong_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class ReviewerName(Base):
    """A reviewer's name as their chat platform shows it (a LINE profile, a Telegram name),
    encrypted; what the groups read instead of the platform id, which stays in the audit."""

    __tablename__ = "reviewer_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(80), unique=True)  # "line:U123…"
    name: Mapped[bytes] = mapped_column(LargeBinary)
    seen_at: Mapped[datetime]  # when the platform last said it: refreshed after a while
