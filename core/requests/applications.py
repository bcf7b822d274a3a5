"""Submitting account applications and listing a user's applications."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.clock import buddhist_year
from core.storage.crypto import NATIONAL_ID, Vault
from core.storage.db import dialect_insert, one_of, table_of
from core.storage.models import (
    PERSONAL_KINDS,
    Application,
    Document,
    ReferenceCounter,
)

KIND_NAME = re.compile(r"[a-z][a-z_]{1,31}")  # "staff", "handover", a new kind's name


@dataclass(frozen=True, slots=True)
class Consent:
    """The terms and PDPA notice accepted: their version (a hash of the text) and when."""

    terms_version: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class ApplicationForm:
    kind: str
    fields: Mapping[str, Any]  # non-secret answers, JSON-able
    national_id: str | None  # 13 ASCII digits for personal kinds; None for the others
    document_ids: Mapping[str, int]  # slot -> Document.id, stored by this user, not attached
    consent: Consent | None = None  # kept with the request; a correction keeps the first


@dataclass(frozen=True, slots=True)
class Submitted:
    reference: str
    application_id: int


@dataclass(frozen=True, slots=True)
class AlreadyActive:
    reference: str  # the active application or account of the same national ID
    owned: bool  # filed from this same chat: only then may its reference be shown


def format_reference(year_be: int, number: int) -> str:
    """(2569, 42) -> "A69-00042": the last two digits of the Buddhist-era year, then the number."""
    return f"A{year_be % 100:02d}-{number:05d}"


async def submit_application(
    session: AsyncSession,
    vault: Vault,
    *,
    channel: str,
    user_id: str,
    form: ApplicationForm,
    now: datetime,
) -> Submitted | AlreadyActive:
    """Store a new pending application in the caller's transaction, or name the active one.

    Duplicates are decided by the database: the unique active_national_id_digest refuses a
    second active application of one person, even when both arrive at the same moment.
    """
    _check_form(form)
    documents = await _unattached_documents(session, channel, user_id, form.document_ids)
    digest = None if form.national_id is None else vault.national_id_digest(form.national_id)
    if form.national_id is not None and vault.old_versions:
        # A key rotation is under way: a request not yet rotated holds an old key's digest.
        old = vault.old_national_id_digests(form.national_id)
        earlier = await _active_one(session, old, channel, user_id)
        if earlier is not None:
            return earlier
    application = _new_application(channel, user_id, form, digest, now)
    try:
        async with session.begin_nested():  # on a duplicate, the reference number is not used
            await _insert_application(session, vault, application, form.national_id)
    except IntegrityError:
        active = await _active_one(session, [digest] if digest else [], channel, user_id)
        if active is None:
            raise
        return active
    await _attach_and_record(session, application, documents, f"{channel}:{user_id}", form, now)
    return Submitted(application.reference, application.id)


async def _attach_and_record(
    session: AsyncSession,
    application: Application,
    documents: Sequence[Document],
    actor: str,
    form: ApplicationForm,
    now: datetime,
) -> None:
    for document in documents:
        document.application_id = application.id
    detail = {"kind": form.kind}  # never personal data
    audit.record(
        session,
        "application.submitted",
        actor=actor,
        at=now,
        application_id=application.id,
        detail=detail,
    )
    await session.flush()


def _check_form(form: ApplicationForm) -> None:
    # Messages never include the national ID itself.
    # The application's kinds (ApplicationKind) and the request kinds the bot registers
    # (bot.flows.kinds): a name of code, never of input.
    if not KIND_NAME.fullmatch(form.kind):
        raise ValueError(f"not a request kind's name: {form.kind!r}")
    if (form.kind in PERSONAL_KINDS) == (form.national_id is None):
        raise ValueError("a national ID is required for personal applications, only for them")
    if form.national_id is not None and not NATIONAL_ID.fullmatch(form.national_id):
        raise ValueError("the national ID must be 13 ASCII digits")
    if "national_id" in form.fields:
        raise ValueError("the national ID goes in ApplicationForm.national_id, never in fields")


async def _unattached_documents(
    session: AsyncSession, channel: str, user_id: str, document_ids: Mapping[str, int]
) -> Sequence[Document]:
    if not document_ids:
        return []
    found = await session.scalars(
        select(Document)
        .where(
            Document.id.in_(document_ids.values()),
            Document.channel == channel,
            Document.user_id == user_id,
            Document.application_id.is_(None),
            Document.deleted_at.is_(None),
        )
        .with_for_update()
    )
    by_id = {document.id: document for document in found}
    for slot, document_id in document_ids.items():
        document = by_id.get(document_id)
        if document is None or document.slot != slot:
            raise ValueError(f"document {document_id} is not this user's unattached {slot}")
    return list(by_id.values())


def _new_application(
    channel: str, user_id: str, form: ApplicationForm, digest: str | None, now: datetime
) -> Application:
    return Application(
        channel=channel,
        user_id=user_id,
        kind=form.kind,
        form=dict(form.fields),
        national_id_digest=digest,
        active_national_id_digest=digest,
        submitted_at=now,
        updated_at=now,
        terms_version=None if form.consent is None else form.consent.terms_version,
        terms_accepted_at=None if form.consent is None else form.consent.accepted_at,
    )


async def _insert_application(
    session: AsyncSession, vault: Vault, application: Application, national_id: str | None
) -> None:
    year = buddhist_year(application.submitted_at)
    application.reference = format_reference(year, await _next_number(session, year))
    if national_id is not None:
        application.national_id_encrypted = vault.encrypt(
            national_id.encode("ascii"), context=national_id_context(application.reference)
        )
    session.add(application)
    await session.flush()


async def _next_number(session: AsyncSession, year: int) -> int:
    # One statement that both reads and increments: concurrent submissions queue on the
    # counter row (PostgreSQL row lock, SQLite write lock) and never share a number.
    insert = dialect_insert(session, ReferenceCounter).values(year=year, last_number=1)
    upsert = insert.on_conflict_do_update(
        index_elements=["year"], set_={"last_number": ReferenceCounter.last_number + 1}
    ).returning(ReferenceCounter.last_number)
    return (await session.execute(upsert)).scalar_one()


async def holder_of(
    session: AsyncSession,
    vault: Vault,
    national_id: str,
    channel: str,
    user_id: str,
    known: ActiveHolders | None = None,
) -> AlreadyActive | None:
    """The active request or account of this national ID, if any (checked while typing).

    `known`: the holders a round read for many national IDs at once (active_holders); the
    database is asked only for an ID it did not cover. The check is a courtesy: the unique
    active digest decides at submission.
    """
    digests = vault.national_id_digests(national_id)
    if known is None or not known.covers(digests):
        known = await active_holders(session, digests)
    return known.holder(digests, channel, user_id)


async def _active_one(
    session: AsyncSession, digests: Sequence[str], channel: str, user_id: str
) -> AlreadyActive | None:
    return (await active_holders(session, digests)).holder(digests, channel, user_id)


@dataclass(frozen=True, slots=True)
class ActiveHolders:
    """Which chats' active requests hold some national ID digests, read in one statement."""

    looked_up: frozenset[str]
    holders: Mapping[str, tuple[str, str, str]]  # digest -> (reference, channel, user_id)

    def covers(self, digests: Sequence[str]) -> bool:
        return self.looked_up.issuperset(digests)

    def holder(self, digests: Sequence[str], channel: str, user_id: str) -> AlreadyActive | None:
        for digest in digests:
            if (held := self.holders.get(digest)) is not None:
                reference, held_channel, held_user = held
                return AlreadyActive(reference, (held_channel, held_user) == (channel, user_id))
        return None


async def active_holders(session: AsyncSession, digests: Sequence[str]) -> ActiveHolders:
    """The active requests holding any of these digests: one statement for a round's
    national-ID checks, instead of one each in turn (issue 13: a round of 128 applicants at
    that step took 250-765 ms to store on PostgreSQL, each check a round trip)."""
    looked_up = frozenset(digests)
    if not looked_up:
        return ActiveHolders(looked_up, {})
    table = table_of(Application)
    digest = table.c.active_national_id_digest
    rows = await session.execute(
        select(digest, table.c.reference, table.c.channel, table.c.user_id).where(
            one_of(session.get_bind().dialect.name, digest, [*looked_up])
        )
    )
    holders = {str(held): (reference, channel, user) for held, reference, channel, user in rows}
    return ActiveHolders(looked_up, holders)


def national_id_of(application: Application, vault: Vault) -> str | None:
    """The decrypted 13 digits; keep them out of logs and screens unless masked."""
    if application.national_id_encrypted is None:
        return None
    context = national_id_context(application.reference)
    return vault.decrypt(application.national_id_encrypted, context=context).decode("ascii")


def national_id_context(reference: str) -> str:
    """Binds an encrypted national ID to its application: it cannot be moved to another."""
    return f"application:{reference}:national_id"
