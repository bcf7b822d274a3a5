"""Carrying out an approval: approved -> account created or completed, once, with its record."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.delivery.jobs import enqueue
from core.requests.application_status import status_of
from core.requests.applications import ApplicationForm, Submitted, submit_application
from core.requests.decisions import decide
from core.requests.fulfilment import (
    complete_request,
    fulfilment_failed,
    grant_right,
    mark_account_created,
    retry_fulfilment,
)
from core.storage.crypto import Vault
from core.storage.models import Application, AuditEvent, GrantedRight
from tests.core.requests.test_applications import SOMCHAI, staff_form

Sessions = async_sessionmaker[AsyncSession]
HANDOVER = {"mailbox_name": "saraban.dusit", "responsible_username": "somsri.r"}


async def filed(
    sessions: Sessions, vault: Vault, clock: ManualClock, form: ApplicationForm, outcome: str
) -> int:
    """An application of this form, decided with this outcome ("" leaves it pending)."""
    async with sessions.begin() as session:
        submitted = await submit_application(
            session, vault, channel="line", user_id="U1", form=form, now=clock.now()
        )
        assert isinstance(submitted, Submitted)
        if outcome:
            await decide(
                session,
                application_id=submitted.application_id,
                outcome=outcome,
                reviewer="line:R1",
                now=clock.now(),
            )
    return submitted.application_id


async def approved_staff(sessions: Sessions, vault: Vault, clock: ManualClock) -> int:
    return await filed(sessions, vault, clock, staff_form(SOMCHAI), "approve")


async def approved_handover(sessions: Sessions, vault: Vault, clock: ManualClock) -> int:
    return await filed(
        sessions, vault, clock, ApplicationForm("handover", HANDOVER, None, {}), "approve"
    )


async def status_and_records(sessions: Sessions, application_id: int) -> tuple[str, list[str]]:
    async with sessions() as session:
        status = await session.scalar(
            select(Application.status).where(Application.id == application_id)
        )
        actions = await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.application_id == application_id)
            .order_by(AuditEvent.id)
        )
        return str(status), list(actions)


async def test_an_approved_application_is_marked_account_created_with_the_user_name(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_staff(sessions, vault, clock)
    clock.advance(minutes=1)

    async with sessions.begin() as session:
        marked = await mark_account_created(
            session, application_id, uid="somchai.j", now=clock.now()
        )

    assert marked
    status, actions = await status_and_records(sessions, application_id)
    assert status == "account_created"
    assert actions[-1] == "account.created"
    async with sessions() as session:
        record = await session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert record is not None
    assert (record.actor, record.detail, record.at) == (
        "system",
        {"uid": "somchai.j"},
        clock.now(),
    )


async def test_marking_an_account_created_twice_changes_and_records_it_once(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_staff(sessions, vault, clock)

    results = []
    for _ in range(2):
        async with sessions.begin() as session:
            results.append(
                await mark_account_created(
                    session, application_id, uid="somchai.j", now=clock.now()
                )
            )

    assert results == [True, False]
    _, actions = await status_and_records(sessions, application_id)
    assert actions.count("account.created") == 1


async def test_an_application_that_is_not_approved_gets_no_account_created(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    pending = await filed(sessions, vault, clock, staff_form(SOMCHAI), "")

    async with sessions.begin() as session:
        marked = await mark_account_created(session, pending, uid="somchai.j", now=clock.now())

    assert not marked
    assert await status_and_records(sessions, pending) == ("pending", ["application.submitted"])


async def test_an_approved_request_is_completed_once_with_its_own_record(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_handover(sessions, vault, clock)
    detail = {"mailbox": "saraban.dusit", "responsible": "somsri.r"}

    results = []
    for _ in range(2):
        async with sessions.begin() as session:
            results.append(
                await complete_request(
                    session, application_id, action="handover.done", detail=detail, now=clock.now()
                )
            )

    assert results == [True, False]
    status, actions = await status_and_records(sessions, application_id)
    assert status == "completed"
    assert actions.count("handover.done") == 1


async def test_a_completed_request_is_not_marked_account_created(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_handover(sessions, vault, clock)
    async with sessions.begin() as session:
        await complete_request(
            session, application_id, action="handover.done", detail={}, now=clock.now()
        )

    async with sessions.begin() as session:
        marked = await mark_account_created(session, application_id, uid="x", now=clock.now())

    assert not marked
    assert (await status_and_records(sessions, application_id))[0] == "completed"


async def test_a_right_granted_twice_is_kept_once(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_handover(sessions, vault, clock)

    for group in ("cn=egp,ou=groups", None):
        async with sessions.begin() as session:
            await grant_right(
                session,
                application_id,
                uid="somchai.j",
                right="egp",
                group_dn=group,
                now=clock.now(),
            )

    async with sessions() as session:
        rights = (await session.execute(select(GrantedRight.uid, GrantedRight.group_dn))).all()
    assert [tuple(row) for row in rights] == [("somchai.j", "cn=egp,ou=groups")]


async def test_a_failed_approval_job_is_recorded_and_the_status_says_failed(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_staff(sessions, vault, clock)
    clock.advance(minutes=5)

    async with sessions.begin() as session:
        told = await fulfilment_failed(
            session, application_id, job_kind="account.create", now=clock.now()
        )
    async with sessions() as session:  # the audit record is written at the commit
        report = await status_of(session, "line", "U1", "A69-00001")

    assert told
    assert report is not None
    assert report.status == "failed"
    assert [m.what for m in report.history] == ["submitted", "approved", "failed"]
    status, actions = await status_and_records(sessions, application_id)
    assert (status, actions[-1]) == ("approved", "request.failed")  # still to be carried out


async def test_a_job_failing_for_a_request_not_approved_is_not_the_applicants_news(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    pending = await filed(sessions, vault, clock, staff_form(SOMCHAI), "")  # its card's job

    async with sessions.begin() as session:
        told = await fulfilment_failed(session, pending, job_kind="card.post", now=clock.now())

    assert not told
    assert await status_and_records(sessions, pending) == ("pending", ["application.submitted"])


async def test_a_retry_puts_the_request_on_its_way_again_until_it_fails_again(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    application_id = await approved_staff(sessions, vault, clock)
    async with sessions.begin() as session:
        job_id = await enqueue(
            session,
            kind="account.create",
            key="account.create:A69-00001",
            payload={"application_id": application_id},
            now=clock.now(),
        )
        await fulfilment_failed(
            session, application_id, job_kind="account.create", now=clock.now()
        )
    assert job_id is not None

    statuses = []
    for step in ("retry", "fail"):
        async with sessions.begin() as session:
            if step == "retry":
                assert await retry_fulfilment(session, job_id, actor="line:R1", now=clock.now())
            else:
                await fulfilment_failed(
                    session, application_id, job_kind="account.create", now=clock.now()
                )
        async with sessions() as session:
            report = await status_of(session, "line", "U1", "A69-00001")
        assert report is not None
        statuses.append(report.status)

    assert statuses == ["approved", "failed"]  # at the same moment: the later record counts
    _, actions = await status_and_records(sessions, application_id)
    assert actions[-3:] == ["request.failed", "request.retried", "request.failed"]
