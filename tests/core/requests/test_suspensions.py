"""Suspending and lifting an account: one state change, its audit record and its job, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.delivery.jobs import DONE, FAILED, PENDING, RUNNING, list_jobs
from core.directory.port import AccountRequest, MemoryDirectory
from core.requests.suspension_jobs import confirm_locked, confirm_unlocked, settle_lock, suspension
from core.requests.suspensions import (
    Origin,
    SuspensionOutcome,
    lift_suspension,
    suspend_account,
)
from core.storage.crypto import Vault
from core.storage.models import ApplicationKind, AuditEvent, Job, Suspension
from tests.core.requests.test_fulfilment import approved_staff

Sessions = async_sessionmaker[AsyncSession]
GROUP = Origin("line", "C-review")


async def account(directory: MemoryDirectory, reference: str = "ROSTER-1") -> str:
    """An account in the directory: Somchai Jaidee, made for this reference."""
    request = AccountRequest(
        application_reference=reference,
        kind=ApplicationKind.STAFF,
        first_name_en="Somchai",
        last_name_en="Jaidee",
        first_name_th="สมชาย",
        last_name_th="ใจดี",
        display_name_th="นายสมชาย ใจดี",
        mobile_e164="+66812345678",
        position="นักวิชาการคอมพิวเตอร์",
        unit="สำนักงานเขตดุสิต",
    )
    return (await directory.create_account(request)).uid


async def suspend(
    sessions: Sessions, directory: MemoryDirectory, clock: ManualClock, uid: str = "somchai.j"
) -> SuspensionOutcome:
    async with sessions.begin() as session:
        return await suspend_account(
            session,
            directory,
            uid=uid,
            reason="ส่งสแปม",
            actor="line:R1",
            now=clock.now(),
            origin=GROUP,
        )


async def lift(
    sessions: Sessions, directory: MemoryDirectory, clock: ManualClock, uid: str = "somchai.j"
) -> SuspensionOutcome:
    async with sessions.begin() as session:
        return await lift_suspension(
            session, directory, uid=uid, actor="line:R2", now=clock.now(), origin=GROUP
        )


async def jobs(sessions: Sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        found = await list_jobs(session, (PENDING, RUNNING, DONE, FAILED))
    return [(job.kind, job.key) for job in found]


async def payloads(sessions: Sessions) -> list[dict[str, Any]]:
    async with sessions() as session:
        return list(await session.scalars(select(Job.payload).order_by(Job.id)))


async def audit_trail(sessions: Sessions) -> list[tuple[str, str, int | None, dict[str, Any]]]:
    async with sessions() as session:
        events = await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.actor, e.application_id, e.detail) for e in events]


async def test_suspending_records_the_suspension_its_audit_record_and_one_lock_job(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)

    assert await suspend(sessions, directory, clock) is SuspensionOutcome.RECORDED

    async with sessions() as session:
        [row] = await session.scalars(select(Suspension))
    assert (row.uid, row.active_uid, row.reason, row.suspended_by) == (
        "somchai.j",
        "somchai.j",
        "ส่งสแปม",
        "line:R1",
    )
    assert row.locked_at is None  # the directory is the job's business
    assert (await directory.find_user("somchai.j")).locked is False  # type: ignore[union-attr]
    assert await jobs(sessions) == [("account.lock", f"account.lock:{row.id}")]
    assert await payloads(sessions) == [
        {"suspension_id": row.id, "channel": "line", "chat_id": "C-review"}
    ]
    assert await audit_trail(sessions) == [
        (
            "account.suspended",
            "line:R1",
            None,
            {"uid": "somchai.j", "reason": "ส่งสแปม", "suspension": row.id},
        )
    ]


async def test_the_suspension_of_an_account_made_by_bmabot_names_its_application(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_staff(sessions, vault, clock)
    directory = MemoryDirectory()
    await account(directory, reference="A69-00001")

    await suspend(sessions, directory, clock)

    async with sessions() as session:
        found = await suspension(session, 1)
    assert found is not None
    assert (found.channel, found.user_id) == ("line", "U1")
    assert (await audit_trail(sessions))[-1][2] == application_id


async def test_suspending_an_account_already_suspended_changes_nothing(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await suspend(sessions, directory, clock)

    again = await suspend(sessions, directory, clock)

    assert again is SuspensionOutcome.ALREADY_SUSPENDED
    assert len(await jobs(sessions)) == 1
    assert [event[0] for event in await audit_trail(sessions)] == ["account.suspended"]


async def test_suspending_an_unknown_account_records_nothing(
    sessions: Sessions, clock: ManualClock
) -> None:
    outcome = await suspend(sessions, MemoryDirectory(), clock, uid="nobody.x")

    assert outcome is SuspensionOutcome.UNKNOWN
    assert await jobs(sessions) == []
    assert await audit_trail(sessions) == []


async def test_lifting_ends_the_suspension_and_queues_the_unlock(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await suspend(sessions, directory, clock)
    clock.advance(hours=2)

    assert await lift(sessions, directory, clock) is SuspensionOutcome.RECORDED

    async with sessions() as session:
        [row] = await session.scalars(select(Suspension))
    assert (row.active_uid, row.lifted_by, row.lifted_at) == (None, "line:R2", clock.now())
    assert [kind for kind, _ in await jobs(sessions)] == ["account.lock", "account.unlock"]
    assert (await audit_trail(sessions))[-1][:2] == ("account.unsuspended", "line:R2")


async def test_lifting_an_account_that_is_not_suspended_says_so(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)

    assert await lift(sessions, directory, clock) is SuspensionOutcome.NOT_SUSPENDED
    assert await lift(sessions, directory, clock, "nobody.x") is SuspensionOutcome.UNKNOWN
    assert await jobs(sessions) == []


async def test_lifting_an_account_locked_outside_bmabot_unlocks_it(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await directory.lock("somchai.j", "locked by an LDAP administrator")

    assert await lift(sessions, directory, clock) is SuspensionOutcome.RECORDED

    [(kind, _)] = await jobs(sessions)
    assert kind == "account.unlock"
    assert await settle_lock(sessions, directory, "somchai.j") is False
    async with sessions.begin() as session:
        assert await confirm_unlocked(session, 1, clock.now())  # the person is told


async def test_a_second_suspension_after_a_lift_gets_keys_of_its_own(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await suspend(sessions, directory, clock)
    await lift(sessions, directory, clock)

    assert await suspend(sessions, directory, clock) is SuspensionOutcome.RECORDED

    assert [key for _, key in await jobs(sessions)] == [
        "account.lock:1",
        "account.unlock:1",
        "account.lock:2",
    ]


async def test_the_directory_follows_the_suspensions_whatever_order_the_jobs_run_in(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await suspend(sessions, directory, clock)
    await lift(sessions, directory, clock)

    # The unlock job runs first (the lock job waits in its back-off), then the lock job.
    assert await settle_lock(sessions, directory, "somchai.j") is False
    assert await settle_lock(sessions, directory, "somchai.j") is False
    assert (await directory.find_user("somchai.j")).locked is False  # type: ignore[union-attr]

    await suspend(sessions, directory, clock)
    assert await settle_lock(sessions, directory, "somchai.j") is True
    assert (await directory.find_user("somchai.j")).locked is True  # type: ignore[union-attr]


async def test_a_lock_is_confirmed_once_and_queues_one_sms(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await suspend(sessions, directory, clock)

    confirmed = []
    for _ in range(2):
        async with sessions.begin() as session:
            confirmed.append(await confirm_locked(session, 1, clock.now()))

    assert confirmed == [True, False]
    assert (await jobs(sessions))[-1] == ("sms.suspension", "sms.suspension:1:suspended")
    assert [event[:2] for event in await audit_trail(sessions)][-1] == (
        "account.locked",
        "system",
    )


async def test_a_suspension_lifted_before_its_lock_is_never_confirmed_or_told(
    sessions: Sessions, clock: ManualClock
) -> None:
    directory = MemoryDirectory()
    await account(directory)
    await suspend(sessions, directory, clock)
    await lift(sessions, directory, clock)

    async with sessions.begin() as session:
        locked = await confirm_locked(session, 1, clock.now())
        unlocked = await confirm_unlocked(session, 1, clock.now())

    assert (locked, unlocked) == (False, False)
    assert "sms.suspension" not in [kind for kind, _ in await jobs(sessions)]
