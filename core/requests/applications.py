"""Submitting account applications and listing a user's applications."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import trail as audit
from core.clock import buddhist_year
from core.storage.crypto import NATIONAL_ID, Vault
from core.storage.db import dialect_insert, one_of, table_of
from core.storage.models import (
    PERSONAL_KINDS,
    Application,
    ApplicationStatus,
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


@dataclass(frozen=True, slots=True)
class NewApplication:
    channel: str
    user_id: str
    form: ApplicationForm

    @property
    def actor(self) -> str:
        return f"{self.channel}:{self.user_id}"


async def submit_application(
    session: AsyncSession,
    vault: Vault,
    *,
    channel: str,
    user_id: str,
    form: ApplicationForm,
    now: datetime,
) -> Submitted | AlreadyActive:
    """Store a new pending application in the caller's transaction, or name the active one."""
    [result] = await submit_applications(
        session, vault, [NewApplication(channel, user_id, form)], now
    )
    return result


async def submit_applications(
    session: AsyncSession, vault: Vault, new: Sequence[NewApplication], now: datetime
) -> list[Submitted | AlreadyActive]:
    """Store new pending applications in the caller's transaction, or name the active ones;
    each application's result in order. A round of applicants submitting together takes a
    handful of statements, not seven each one after the other (issue 13: with the whole
    form in the launch-day load, those rounds held the drain at 180-280 turns a second).

    Duplicates are decided by the database: the unique active_national_id_digest refuses a
    second active application of one person, even when both arrive at the same moment.
    """
    for each in new:
        _check_form(each.form)
    documents = await _unattached_documents_of(session, new)
    results: list[Submitted | AlreadyActive | None] = [None] * len(new)
    conflicts = 0
    while waiting := [number for number, result in enumerate(results) if result is None]:
        filing = await _free_to_file(session, vault, new, waiting, results)
        if not filing:
            continue
        try:
            async with session.begin_nested():  # on a duplicate, no reference number is used
                filed = await _insert_applications(session, vault, [new[n] for n in filing], now)
        except IntegrityError:
            conflicts += 1
            if conflicts == ATTEMPTS:
                raise
            continue  # filed meanwhile by another transaction: its holder is read again
        for number, submitted in zip(filing, filed, strict=True):
            results[number] = submitted
    done = [result for result in results if result is not None]
    await _attach_and_record(session, new, done, documents, now)
    return done


ATTEMPTS = 3  # duplicates filed by other transactions meanwhile: their holders read again


async def _free_to_file(
    session: AsyncSession,
    vault: Vault,
    new: Sequence[NewApplication],
    waiting: Sequence[int],
    results: list[Submitted | AlreadyActive | None],
) -> list[int]:
    """Which of the waiting applications to file now: those of a national ID nobody holds
    (the others' results are set here), one per national ID (a second one of the same
    person finds the first as its holder on the next reading)."""
    digests = {number: _digests(vault, new[number]) for number in waiting}
    holders = await active_holders(session, [d for each in digests.values() for d in each])
    filing, claimed = [], set()
    for number in waiting:
        each, theirs = new[number], digests[number]
        held = holders.holder(theirs, each.channel, each.user_id)
        if held is not None:
            results[number] = held
        elif not theirs or theirs[0] not in claimed:
            claimed.update(theirs[:1])
            filing.append(number)
    return filing


def _digests(vault: Vault, new: NewApplication) -> list[str]:
    """Under the current key first (the one a new application holds), then the old ones."""
    national_id = new.form.national_id
    return [] if national_id is None else vault.national_id_digests(national_id)


async def _insert_applications(
    session: AsyncSession, vault: Vault, new: Sequence[NewApplication], now: datetime
) -> list[Submitted]:
    """The applications with the next reference numbers: one statement for the numbers,
    one for the rows."""
    if not new:
        return []
    year = buddhist_year(now)
    last = await _next_number(session, year, len(new))
    references = [
        format_reference(year, number) for number in range(last - len(new) + 1, last + 1)
    ]
    table = table_of(Application)
    rows = [
        _row(vault, each, reference, now) for each, reference in zip(new, references, strict=True)
    ]
    inserted = await session.execute(insert(table).returning(table.c.reference, table.c.id), rows)
    ids = {str(reference): int(application_id) for reference, application_id in inserted}
    return [Submitted(reference, ids[reference]) for reference in references]


def _row(vault: Vault, new: NewApplication, reference: str, now: datetime) -> dict[str, Any]:
    form, national_id = new.form, new.form.national_id
    digest = None if national_id is None else vault.national_id_digest(national_id)
    encrypted = None
    if national_id is not None:
        context = national_id_context(reference)
        encrypted = vault.encrypt(national_id.encode("ascii"), context=context)
    consent = form.consent
    return {
        "reference": reference,
        "channel": new.channel,
        "user_id": new.user_id,
        "kind": form.kind,
        "status": ApplicationStatus.PENDING.value,
        "form": dict(form.fields),
        "national_id_encrypted": encrypted,
        "national_id_digest": digest,
        "active_national_id_digest": digest,
        "submitted_at": now,
        "updated_at": now,
        "terms_version": None if consent is None else consent.terms_version,
        "terms_accepted_at": None if consent is None else consent.accepted_at,
    }


async def _attach_and_record(
    session: AsyncSession,
    new: Sequence[NewApplication],
    results: Sequence[Submitted | AlreadyActive],
    documents: Sequence[Sequence[int]],
    now: datetime,
) -> None:
    attached: list[dict[str, int]] = []
    for each, result, their_documents in zip(new, results, documents, strict=True):
        if not isinstance(result, Submitted):
            continue
        attached.extend(
            {"document": d, "application": result.application_id} for d in their_documents
        )
        detail = {"kind": each.form.kind}  # never personal data
        audit.record(
            session,
            "application.submitted",
            actor=each.actor,
            at=now,
            application_id=result.application_id,
            detail=detail,
        )
    if attached:
        table = table_of(Document)
        statement = (
            update(table)
            .where(table.c.id == bindparam("document"))
            .values(application_id=bindparam("application"))
        )
        await session.execute(statement, attached)


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


async def _unattached_documents_of(
    session: AsyncSession, new: Sequence[NewApplication]
) -> list[list[int]]:
    """Each application's documents, this user's and not attached to anything yet, locked
    for the attaching: one statement for all of them."""
    wanted = [document_id for each in new for document_id in each.form.document_ids.values()]
    if not wanted:
        return [[] for _ in new]
    table = table_of(Document)
    found = await session.execute(
        select(table.c.id, table.c.channel, table.c.user_id, table.c.slot)
        .where(
            one_of(session.get_bind().dialect.name, table.c.id, wanted),
            table.c.application_id.is_(None),
            table.c.deleted_at.is_(None),
        )
        .with_for_update()
    )
    by_id = {row.id: row for row in found}
    taken: set[int] = set()
    documents = []
    for each in new:
        for slot, document_id in each.form.document_ids.items():
            row = by_id.get(document_id)
            if (
                row is None
                or (row.channel, row.user_id, row.slot) != (each.channel, each.user_id, slot)
                or document_id in taken
            ):
                raise ValueError(f"document {document_id} is not this user's unattached {slot}")
            taken.add(document_id)
        documents.append(list(each.form.document_ids.values()))
    return documents


async def _next_number(session: AsyncSession, year: int, count: int = 1) -> int:
    """The last of `count` new numbers. One statement that both reads and increments:
    concurrent submissions queue on the counter row (PostgreSQL row lock, SQLite write
    lock) and never share a number."""
    insert = dialect_insert(session, ReferenceCounter).values(year=year, last_number=count)
    upsert = insert.on_conflict_do_update(
        index_elements=["year"], set_={"last_number": ReferenceCounter.last_number + count}
    ).returning(ReferenceCounter.last_number)
    return int((await session.execute(upsert)).scalar_one())


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
