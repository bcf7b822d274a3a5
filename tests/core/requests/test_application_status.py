"""A person's requests and their story: owner only, newest first, milestones in time order."""

from __future__ import annotations

from datetime import timedelta

from core.audit import trail as audit
from core.clock import ManualClock
from core.requests.application_status import Milestone, status_of, statuses_of
from core.requests.applications import Submitted
from core.requests.decisions import decide
from core.storage.crypto import Vault
from tests.core.requests.test_applications import Sessions, national_id, staff_form, submit


async def test_only_the_owner_on_the_same_channel_gets_a_request(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await submit(sessions, vault, staff_form(), clock.now())  # A69-00001 of line:U1

    async with sessions() as session:
        mine = await status_of(session, "line", "U1", "A69-00001")
        other_user = await status_of(session, "line", "U2", "A69-00001")
        other_channel = await status_of(session, "telegram", "U1", "A69-00001")

    assert mine is not None
    assert (mine.reference, mine.kind, mine.status) == ("A69-00001", "staff", "pending")
    assert other_user is None
    assert other_channel is None


async def test_the_newest_few_come_first_with_the_count_of_all(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    for n in range(1, 5):
        await submit(sessions, vault, staff_form(national_id(n)), clock.now())
        clock.advance(minutes=5)
    await submit(sessions, vault, staff_form(national_id(9)), clock.now(), user_id="U2")

    async with sessions() as session:
        newest, total = await statuses_of(session, "line", "U1", limit=2)

    assert [report.reference for report in newest] == ["A69-00004", "A69-00003"]
    assert total == 4


async def test_the_story_joins_decisions_and_recorded_events_in_time_order(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    start = clock.now()
    request = await submit(sessions, vault, staff_form(), start)
    assert isinstance(request, Submitted)
    application_id = request.application_id
    async with sessions.begin() as session:
        await decide(
            session,
            application_id=application_id,
            outcome="approve",
            reviewer="line:R1",
            now=start + timedelta(hours=2),
        )
        audit.record(
            session,
            "account.created",
            actor="system",
            at=start + timedelta(hours=3),
            application_id=application_id,
        )
        audit.record(  # not part of the story
            session,
            "reviewer.card_posted",
            actor="system",
            at=start + timedelta(hours=1),
            application_id=application_id,
        )

    async with sessions() as session:
        report = await status_of(session, "line", "U1", "A69-00001")

    assert report is not None
    assert report.history == (
        Milestone("submitted", start),
        Milestone("approved", start + timedelta(hours=2)),
        Milestone("account_created", start + timedelta(hours=3)),
    )


async def test_a_rejection_keeps_its_reason(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    request = await submit(sessions, vault, staff_form(), clock.now())
    assert isinstance(request, Submitted)
    async with sessions.begin() as session:
        await decide(
            session,
            application_id=request.application_id,
            outcome="reject",
            reviewer="line:R1",
            now=clock.now(),
            reason="mismatch",
        )

    async with sessions() as session:
        report = await status_of(session, "line", "U1", "A69-00001")

    assert report is not None
    assert report.history[-1] == Milestone("rejected", clock.now(), "mismatch")
