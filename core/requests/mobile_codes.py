"""One-time codes by SMS: proof that the chat filling in a form holds the mobile number it typed.

The temporary password of a new account goes by SMS to the number on the form, so the
number is verified before the form can be submitted (issue 16). A code is six random
digits, lives ten minutes and is kept only as a keyed digest bound to its issue; the number
too is kept only as a keyed digest. Five wrong codes for a number lock it for an hour, and
sending is capped per chat and number (the first code and three resends), per number
across chats and per chat across numbers, so the bot cannot be used to pump SMS.

The SMS itself is a job (mobile_code.sms) written with the code: the code and number go to
it encrypted in the code's row, which the job empties once the gateway has the message. The
SMS's idempotency key is the issue's own random key, so a retried job never sends twice.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.security_log import Event, loggable, security_event
from core.delivery.job_kinds import job_kind
from core.delivery.jobs import enqueue
from core.storage.crypto import Vault
from core.storage.db import dialect_insert
from core.storage.models import MobileCode, MobileLock

SMS_JOB = job_kind("mobile_code.sms")
CODE_DIGITS = 6
LIFETIME = timedelta(minutes=10)
MAX_WRONG = 5  # wrong codes for one number, then it is locked
LOCK_FOR = timedelta(hours=1)
MAX_RESENDS = 3  # after the first code, for one chat and number within WINDOW
RESEND_AFTER = timedelta(seconds=30)  # between two codes for one chat and number
WINDOW = timedelta(hours=1)  # the span the caps below count in
PER_NUMBER = 6  # codes to one number from every chat
PER_CHAT = 8  # codes one chat asks for, to every number
SMS_ATTEMPTS = 5  # a code dies in ten minutes: retrying longer helps nobody


class Refusal(StrEnum):
    LOCKED = "locked"  # too many wrong codes: the number waits out the lock
    RESENDS_USED = "resends_used"  # this chat used its resends for this number
    TOO_SOON = "too_soon"  # a code went out moments ago
    BUSY = "busy"  # the number or the chat asked for too many codes this hour


class Check(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"
    NO_CODE = "no_code"  # nothing open for this chat and number (closed, or never sent)


@dataclass(frozen=True, slots=True)
class CodeIssued:
    expires_at: datetime
    resends_left: int


@dataclass(frozen=True, slots=True)
class IssueRefused:
    reason: Refusal
    until: datetime  # when asking again can work


@dataclass(frozen=True, slots=True)
class CodeChecked:
    result: Check
    tries_left: int = 0  # after a wrong code, before the number is locked
    until: datetime | None = None  # when a lock ends


@dataclass(frozen=True, slots=True, repr=False)
class CodeMessage:
    """What the SMS job sends: decrypted in memory only, never logged (no repr)."""

    to_e164: str
    code: str
    issue_key: str


def mobile_digest(vault: Vault, mobile: str) -> str:
    return vault.mobile_code_digest("mobile", mobile)


async def issue_code(
    session: AsyncSession,
    vault: Vault,
    *,
    chat: str,
    mobile: str,
    now: datetime,
) -> CodeIssued | IssueRefused:
    """A new code for this chat and number, its SMS job written in the caller's transaction.

    Any code this chat still had open for the number is closed: only the newest works.
    """
    number = mobile_digest(vault, mobile)
    refused = await _refusal(session, chat, number, now)
    if refused is not None:
        security_event(
            Event.RATE_LIMITED, what="mobile_code", reason=refused.reason, chat=loggable(chat)
        )
        return refused
    await _close_open(session, now, MobileCode.chat == chat, MobileCode.mobile_digest == number)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    issue_key = secrets.token_hex(16)
    row = MobileCode(
        chat=chat,
        mobile_digest=number,
        issue_key=issue_key,
        code_digest=vault.mobile_code_digest("code", issue_key, code),
        sealed=vault.encrypt_json({"to": mobile, "code": code}, context=_context(issue_key)),
        issued_at=now,
        expires_at=now + LIFETIME,
        wrong=0,
    )
    session.add(row)
    await session.flush()
    await enqueue(
        session,
        kind=SMS_JOB,
        key=SMS_JOB.key(issue_key),
        payload={"code_id": row.id},
        now=now,
        max_attempts=SMS_ATTEMPTS,
    )
    sent = await _count(session, now, MobileCode.chat == chat, MobileCode.mobile_digest == number)
    return CodeIssued(row.expires_at, max(0, MAX_RESENDS - (sent - 1)))


async def _refusal(
    session: AsyncSession, chat: str, number: str, now: datetime
) -> IssueRefused | None:
    locked_until = await _locked_until(session, number, now)
    if locked_until is not None:
        return IssueRefused(Refusal.LOCKED, locked_until)
    mine = (MobileCode.chat == chat, MobileCode.mobile_digest == number)
    oldest, newest, count = await _span(session, now, *mine)
    if newest is not None and now < newest + RESEND_AFTER:
        return IssueRefused(Refusal.TOO_SOON, newest + RESEND_AFTER)
    if oldest is not None and count > MAX_RESENDS:
        return IssueRefused(Refusal.RESENDS_USED, oldest + WINDOW)
    for cap, where in ((PER_NUMBER, MobileCode.mobile_digest == number), (PER_CHAT, mine[0])):
        oldest, _, count = await _span(session, now, where)
        if oldest is not None and count >= cap:
            return IssueRefused(Refusal.BUSY, oldest + WINDOW)
    return None


async def _span(
    session: AsyncSession, now: datetime, *where: ColumnElement[bool]
) -> tuple[datetime | None, datetime | None, int]:
    """The first and last issue time and the number of codes issued within WINDOW."""
    row = (
        await session.execute(
            select(
                func.min(MobileCode.issued_at),
                func.max(MobileCode.issued_at),
                func.count(MobileCode.id),
            ).where(MobileCode.issued_at > now - WINDOW, *where)
        )
    ).one()
    oldest, newest, count = row
    return _aware(oldest), _aware(newest), int(count)


async def _count(session: AsyncSession, now: datetime, *where: ColumnElement[bool]) -> int:
    return (await _span(session, now, *where))[2]


def _aware(moment: datetime | None) -> datetime | None:
    """min()/max() of a column skip its type on SQLite: give the UTC back."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def check_code(
    session: AsyncSession, vault: Vault, *, chat: str, mobile: str, typed: str, now: datetime
) -> CodeChecked:
    """Compare a typed code (already six ASCII digits) with this chat's open code."""
    number = mobile_digest(vault, mobile)
    locked_until = await _locked_until(session, number, now)
    if locked_until is not None:
        return CodeChecked(Check.LOCKED, until=locked_until)
    row = await session.scalar(
        select(MobileCode)
        .where(
            MobileCode.chat == chat,
            MobileCode.mobile_digest == number,
            MobileCode.closed_at.is_(None),
            MobileCode.verified_at.is_(None),
        )
        .order_by(MobileCode.issued_at.desc(), MobileCode.id.desc())
        .limit(1)
    )
    if row is None:
        return CodeChecked(Check.NO_CODE)
    if now >= row.expires_at:
        row.closed_at, row.sealed = now, None
        return CodeChecked(Check.EXPIRED)
    expected = row.code_digest
    if hmac.compare_digest(expected, vault.mobile_code_digest("code", row.issue_key, typed)):
        row.verified_at, row.sealed = now, None
        await session.execute(
            update(MobileLock).where(MobileLock.mobile_digest == number).values(wrong=0)
        )
        return CodeChecked(Check.VERIFIED)
    row.wrong += 1
    return await _count_wrong(session, chat, number, now)


async def _count_wrong(
    session: AsyncSession, chat: str, number: str, now: datetime
) -> CodeChecked:
    """One more wrong code for the number; at MAX_WRONG within LOCK_FOR it is locked."""
    await session.execute(
        dialect_insert(session, MobileLock)
        .values(mobile_digest=number, wrong=0, last_wrong_at=now, locked_until=None)
        .on_conflict_do_nothing(index_elements=["mobile_digest"])
    )
    lock = await session.scalar(
        select(MobileLock).where(MobileLock.mobile_digest == number).with_for_update()
    )
    assert lock is not None
    if lock.last_wrong_at <= now - LOCK_FOR or lock.locked_until is not None:
        lock.wrong, lock.locked_until = 0, None  # the earlier misses or lock are over
    lock.wrong += 1
    lock.last_wrong_at = now
    if lock.wrong < MAX_WRONG:
        return CodeChecked(Check.WRONG, tries_left=MAX_WRONG - lock.wrong)
    lock.locked_until = now + LOCK_FOR
    await _close_open(session, now, MobileCode.mobile_digest == number)
    security_event(Event.MOBILE_LOCKED, chat=loggable(chat), wrong=lock.wrong)
    return CodeChecked(Check.LOCKED, until=lock.locked_until)


async def _locked_until(session: AsyncSession, number: str, now: datetime) -> datetime | None:
    until = await session.scalar(
        select(MobileLock.locked_until).where(MobileLock.mobile_digest == number)
    )
    return until if until is not None and until > now else None


async def _close_open(session: AsyncSession, now: datetime, *where: ColumnElement[bool]) -> None:
    await session.execute(
        update(MobileCode)
        .where(MobileCode.closed_at.is_(None), MobileCode.verified_at.is_(None), *where)
        .values(closed_at=now, sealed=None)
        .execution_options(synchronize_session=False)
    )


async def is_verified(session: AsyncSession, vault: Vault, *, chat: str, mobile: str) -> bool:
    """Whether this chat has typed back a code sent to this number."""
    found = await session.scalar(
        select(MobileCode.id)
        .where(
            MobileCode.chat == chat,
            MobileCode.mobile_digest == mobile_digest(vault, mobile),
            MobileCode.verified_at.is_not(None),
        )
        .limit(1)
    )
    return found is not None


async def code_to_send(
    session: AsyncSession, vault: Vault, code_id: int, now: datetime
) -> CodeMessage | None:
    """The number and code the SMS job sends; None once sent, replaced, used or expired."""
    row = await session.get(MobileCode, code_id)
    if row is None or row.sealed is None:
        return None
    if row.closed_at is not None or row.verified_at is not None or now >= row.expires_at:
        row.sealed = None
        return None
    sealed = vault.decrypt_json(row.sealed, context=_context(row.issue_key))
    return CodeMessage(str(sealed["to"]), str(sealed["code"]), row.issue_key)


async def code_sent(session: AsyncSession, code_id: int) -> None:
    """The gateway has the SMS: the encrypted code is no longer kept anywhere."""
    await session.execute(update(MobileCode).where(MobileCode.id == code_id).values(sealed=None))


def _context(issue_key: str) -> str:
    return f"mobile_code:{issue_key}"
