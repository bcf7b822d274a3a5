"""One-time codes for the mobile number: random, short-lived, hashed, capped and locked."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.requests import mobile_codes
from core.requests.mobile_codes import (
    MAX_RESENDS,
    PER_CHAT,
    PER_NUMBER,
    Check,
    CodeChecked,
    CodeIssued,
    IssueRefused,
    Refusal,
    code_sent,
    code_to_send,
)
from core.rules.validation import Invalid, parse_one_time_code
from core.storage.crypto import Vault
from core.storage.models import Job, MobileCode
from tests.conftest import TEST_SECRET_KEY

Sessions = async_sessionmaker[AsyncSession]
CHAT = "line:U-applicant"
MOBILE = "+66812345678"
OTHER_MOBILE = "+66898765432"


async def issue(
    sessions: Sessions, vault: Vault, clock: ManualClock, chat: str = CHAT, mobile: str = MOBILE
) -> CodeIssued | IssueRefused:
    async with sessions.begin() as session:
        return await mobile_codes.issue_code(
            session, vault, chat=chat, mobile=mobile, now=clock.now()
        )


async def sent_code(sessions: Sessions, vault: Vault, clock: ManualClock) -> str:
    """What the SMS job reads for the newest code, as it sends it; then it is gone."""
    async with sessions.begin() as session:
        code_id = await session.scalar(select(func.max(MobileCode.id)))
        assert code_id is not None
        message = await code_to_send(session, vault, code_id, clock.now())
        assert message is not None
        await code_sent(session, code_id)
    return message.code


async def check(
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    typed: str,
    chat: str = CHAT,
    mobile: str = MOBILE,
) -> CodeChecked:
    async with sessions.begin() as session:
        return await mobile_codes.check_code(
            session, vault, chat=chat, mobile=mobile, typed=typed, now=clock.now()
        )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def is_verified(sessions: Sessions, vault: Vault, chat: str = CHAT) -> bool:
    async with sessions() as session:
        return await mobile_codes.is_verified(session, vault, chat=chat, mobile=MOBILE)


async def test_the_code_typed_back_verifies_the_number_for_this_chat(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    issued = await issue(sessions, vault, clock)
    assert isinstance(issued, CodeIssued)
    assert issued.resends_left == MAX_RESENDS
    assert issued.expires_at == clock.now() + mobile_codes.LIFETIME
    code = await sent_code(sessions, vault, clock)
    assert len(code) == 6
    assert code.isascii()
    assert code.isdigit()

    assert not await is_verified(sessions, vault)
    assert (await check(sessions, vault, clock, code)).result is Check.VERIFIED
    assert await is_verified(sessions, vault)
    assert not await is_verified(sessions, vault, chat="line:U-someone-else")
    # Single use: the code is spent.
    assert (await check(sessions, vault, clock, code)).result is Check.NO_CODE


def test_thai_digits_spaces_and_dashes_are_read_as_the_code() -> None:
    assert parse_one_time_code("๑๒๓๔๕๖") == "123456"
    assert parse_one_time_code(" 123 456 ") == "123456"
    assert parse_one_time_code("123-456") == "123456"
    assert parse_one_time_code("12345") == Invalid("format")
    assert parse_one_time_code("12345a") == Invalid("format")
    assert parse_one_time_code("1234567") == Invalid("format")


async def test_the_code_is_kept_only_as_a_keyed_hash(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await issue(sessions, vault, clock)
    async with sessions() as session:
        job = await session.scalar(select(Job).where(Job.kind == mobile_codes.SMS_JOB))
        assert job is not None
        assert job.payload == {"code_id": 1}
        row = await session.get(MobileCode, 1)
        assert row is not None
        assert row.sealed is not None
    code = await sent_code(sessions, vault, clock)

    async with sessions() as session:
        row = await session.get(MobileCode, 1)
        assert row is not None
        assert row.sealed is None
        assert row.code_digest == vault.mobile_code_digest("code", row.issue_key, code)
        assert row.code_digest != hashlib.sha256(code.encode()).hexdigest()
        other = Vault("another-secret-key-for-this-test-only-0123456789")
        assert row.code_digest != other.mobile_code_digest("code", row.issue_key, code)
        assert row.mobile_digest == vault.mobile_code_digest("mobile", MOBILE)
        dumped = await everything_stored(session)
    assert code not in dumped
    assert "812345678" not in dumped  # nor the number


async def everything_stored(session: AsyncSession) -> str:
    rows = []
    for table in ("mobile_codes", "mobile_locks", "jobs", "audit_events"):
        result = await session.execute(text(f"SELECT * FROM {table}"))
        rows += [[str(value) for value in row] for row in result]
    return json.dumps(rows)


async def test_a_code_expires_after_ten_minutes(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await issue(sessions, vault, clock)
    code = await sent_code(sessions, vault, clock)
    clock.advance(minutes=10)
    assert (await check(sessions, vault, clock, code)).result is Check.EXPIRED
    assert not await is_verified(sessions, vault)

    await issue(sessions, vault, clock)
    code = await sent_code(sessions, vault, clock)
    clock.advance(minutes=9, seconds=59)
    assert (await check(sessions, vault, clock, code)).result is Check.VERIFIED


async def test_five_wrong_codes_lock_the_number_for_an_hour(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await issue(sessions, vault, clock)
    code = await sent_code(sessions, vault, clock)
    lefts = [(await check(sessions, vault, clock, wrong(code))).tries_left for _ in range(4)]
    assert lefts == [4, 3, 2, 1]
    locked = await check(sessions, vault, clock, wrong(code))
    assert locked == CodeChecked(Check.LOCKED, until=clock.now() + mobile_codes.LOCK_FOR)

    # Locked: the right code does not help, no new code goes out, for any chat.
    assert (await check(sessions, vault, clock, code)).result is Check.LOCKED
    refused = await issue(sessions, vault, clock, chat="telegram:42")
    assert refused == IssueRefused(Refusal.LOCKED, locked.until)  # type: ignore[arg-type]
    assert not await is_verified(sessions, vault)

    clock.advance(hours=1, seconds=1)
    assert isinstance(await issue(sessions, vault, clock), CodeIssued)
    code = await sent_code(sessions, vault, clock)
    assert (await check(sessions, vault, clock, wrong(code))).tries_left == 4  # counted anew
    assert (await check(sessions, vault, clock, code)).result is Check.VERIFIED


async def test_a_resend_does_not_reset_the_wrong_codes(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await issue(sessions, vault, clock)
    code = await sent_code(sessions, vault, clock)
    for _ in range(3):
        await check(sessions, vault, clock, wrong(code))
    clock.advance(minutes=1)
    await issue(sessions, vault, clock)
    new_code = await sent_code(sessions, vault, clock)
    assert (await check(sessions, vault, clock, code)).result is not Check.VERIFIED  # old one
    assert (await check(sessions, vault, clock, wrong(new_code))).result is Check.LOCKED


async def test_three_resends_then_wait_and_never_two_at_once(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    first = await issue(sessions, vault, clock)
    assert isinstance(first, CodeIssued)
    too_soon = await issue(sessions, vault, clock)
    assert isinstance(too_soon, IssueRefused)
    assert too_soon.reason is Refusal.TOO_SOON

    lefts = []
    for _ in range(MAX_RESENDS):
        clock.advance(seconds=31)
        issued = await issue(sessions, vault, clock)
        assert isinstance(issued, CodeIssued)
        lefts.append(issued.resends_left)
    assert lefts == [2, 1, 0]
    clock.advance(seconds=31)
    used = await issue(sessions, vault, clock)
    assert isinstance(used, IssueRefused)
    assert used.reason is Refusal.RESENDS_USED
    async with sessions() as session:
        jobs = await session.scalar(
            select(func.count(Job.id)).where(Job.kind == mobile_codes.SMS_JOB)
        )
    assert jobs == 1 + MAX_RESENDS


async def test_only_the_newest_code_works_and_old_ones_are_not_sent(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await issue(sessions, vault, clock)
    clock.advance(seconds=31)
    await issue(sessions, vault, clock)
    async with sessions.begin() as session:
        assert await code_to_send(session, vault, 1, clock.now()) is None  # replaced
        assert (await session.get(MobileCode, 1)).sealed is None  # type: ignore[union-attr]
    newest = await sent_code(sessions, vault, clock)
    assert (await check(sessions, vault, clock, newest)).result is Check.VERIFIED


@pytest.mark.parametrize("per", ["number", "chat"])
async def test_codes_are_capped_per_number_and_per_chat(
    sessions: Sessions, vault: Vault, clock: ManualClock, per: str
) -> None:
    cap = PER_NUMBER if per == "number" else PER_CHAT

    def who(i: int) -> tuple[str, str]:
        if per == "number":
            return f"line:U-{i}", MOBILE
        return CHAT, f"+6681234{i:04d}"

    for i in range(cap):
        assert isinstance(await issue(sessions, vault, clock, *who(i)), CodeIssued)
    refused = await issue(sessions, vault, clock, *who(cap))
    assert isinstance(refused, IssueRefused)
    assert refused.reason is Refusal.BUSY
    assert refused.until == clock.now() + mobile_codes.WINDOW
    clock.advance(hours=1, seconds=1)
    assert isinstance(await issue(sessions, vault, clock, *who(cap)), CodeIssued)


def test_the_vault_key_for_codes_is_its_own() -> None:
    vault = Vault(TEST_SECRET_KEY)
    assert vault.mobile_code_digest("mobile", MOBILE) != vault.mobile_code_digest(
        "mobile", OTHER_MOBILE
    )
    assert (
        vault.mobile_code_digest("mobile", MOBILE) != hashlib.sha256(MOBILE.encode()).hexdigest()
    )
