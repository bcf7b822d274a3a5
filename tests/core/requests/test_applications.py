"""Submitting applications: references, one active application per person, documents."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.requests.applications import (
    AlreadyActive,
    ApplicationForm,
    NewApplication,
    Submitted,
    format_reference,
    national_id_context,
    submit_application,
    submit_applications,
)
from core.storage.crypto import Vault
from core.storage.models import Application, AuditEvent, Document

Sessions = async_sessionmaker[AsyncSession]

SOMCHAI = "1103700123458"
SOMSRI = "3100600987659"
FIELDS = {"first_name_th": "สมชาย", "last_name_th": "ใจดี", "mobile": "0812345678"}


def national_id(number: int) -> str:
    """A valid 13-digit national ID (with its check digit) made from a number."""
    first12 = f"1{number:011d}"
    total = sum(int(digit) * (13 - i) for i, digit in enumerate(first12))
    return first12 + str((11 - total % 11) % 10)


def staff_form(
    national_id: str = SOMCHAI, documents: dict[str, int] | None = None
) -> ApplicationForm:
    return ApplicationForm("staff", FIELDS, national_id, documents or {})


async def submit(
    sessions: Sessions,
    vault: Vault,
    form: ApplicationForm,
    at: datetime,
    user_id: str = "U1",
) -> Submitted | AlreadyActive:
    async with sessions.begin() as session:
        return await submit_application(
            session, vault, channel="line", user_id=user_id, form=form, now=at
        )


async def add_document(sessions: Sessions, user_id: str, slot: str, at: datetime) -> int:
    async with sessions.begin() as session:
        document = Document(
            channel="line",
            user_id=user_id,
            slot=slot,
            storage_name=f"{user_id}-{slot}-{at}",
            content_type="image/jpeg",
            size_bytes=1234,
            width=800,
            height=600,
            created_at=at,
        )
        session.add(document)
        await session.flush()
        return document.id


async def end_application(sessions: Sessions, reference: str, status: str, at: datetime) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Application)
            .where(Application.reference == reference)
            .values(status=status, active_national_id_digest=None, decided_at=at, updated_at=at)
        )


async def stored(sessions: Sessions, reference: str) -> Application:
    async with sessions() as session:
        application = await session.scalar(
            select(Application).where(Application.reference == reference)
        )
    assert application is not None
    return application


def test_formats_a_reference_from_the_buddhist_year_and_number() -> None:
    assert format_reference(2569, 42) == "A69-00042"
    assert format_reference(2570, 1) == "A70-00001"


async def test_a_submitted_application_is_pending_with_its_answers(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    result = await submit(sessions, vault, staff_form(), clock.now())

    assert isinstance(result, Submitted)
    application = await stored(sessions, result.reference)
    assert application.id == result.application_id
    assert (application.kind, application.status, application.form) == ("staff", "pending", FIELDS)
    assert application.submitted_at == clock.now()
    assert application.decided_at is None


async def test_the_national_id_is_stored_encrypted_with_a_keyed_digest(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    result = await submit(sessions, vault, staff_form(), clock.now())

    application = await stored(sessions, result.reference)
    assert application.national_id_encrypted is not None
    assert SOMCHAI.encode() not in application.national_id_encrypted
    context = national_id_context(result.reference)
    assert vault.decrypt(application.national_id_encrypted, context=context) == SOMCHAI.encode()
    assert application.national_id_digest == vault.national_id_digest(SOMCHAI)
    assert application.active_national_id_digest == application.national_id_digest


async def test_references_count_up_within_a_buddhist_year(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    references = [
        (await submit(sessions, vault, staff_form(person), clock.now())).reference
        for person in (SOMCHAI, SOMSRI, national_id(3))
    ]

    assert references == ["A69-00001", "A69-00002", "A69-00003"]


async def test_numbering_restarts_when_the_buddhist_year_changes_in_bangkok(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    clock.current = datetime(2026, 12, 31, 16, 59, tzinfo=UTC)  # 23:59 in Bangkok
    last_of_2569 = await submit(sessions, vault, staff_form(SOMCHAI), clock.now())
    clock.advance(minutes=2)  # 00:01 on 1 January in Bangkok, still 31 December in UTC
    first_of_2570 = await submit(sessions, vault, staff_form(SOMSRI), clock.now())

    assert (last_of_2569.reference, first_of_2570.reference) == ("A69-00001", "A70-00001")


async def test_a_second_active_application_of_the_same_person_gets_the_first_reference(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    first = await submit(sessions, vault, staff_form(SOMCHAI), clock.now(), user_id="U1")

    again = await submit(sessions, vault, staff_form(SOMCHAI), clock.now(), user_id="U2")
    mine = await submit(sessions, vault, staff_form(SOMCHAI), clock.now(), user_id="U1")

    assert again == AlreadyActive(first.reference, owned=False)  # someone else's: not shown
    assert mine == AlreadyActive(first.reference, owned=True)


async def test_a_refused_duplicate_does_not_use_up_a_reference_number(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await submit(sessions, vault, staff_form(SOMCHAI), clock.now())
    await submit(sessions, vault, staff_form(SOMCHAI), clock.now())

    other = await submit(sessions, vault, staff_form(SOMSRI), clock.now())

    assert other.reference == "A69-00002"


async def test_a_person_may_apply_again_after_a_rejection(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    first = await submit(sessions, vault, staff_form(SOMCHAI), clock.now())
    await end_application(sessions, first.reference, "rejected", clock.now())

    again = await submit(sessions, vault, staff_form(SOMCHAI), clock.now())

    assert again == Submitted("A69-00002", again.application_id)
    assert (await stored(sessions, first.reference)).national_id_digest is not None


async def test_the_database_refuses_two_active_applications_of_one_person(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    await submit(sessions, vault, staff_form(SOMCHAI), clock.now())
    digest = vault.national_id_digest(SOMCHAI)

    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Application(
                    reference="A69-99999",
                    channel="line",
                    user_id="U9",
                    kind="staff",
                    form={},
                    active_national_id_digest=digest,
                    submitted_at=clock.now(),
                    updated_at=clock.now(),
                )
            )


async def test_the_database_refuses_an_ended_application_that_keeps_its_active_digest(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    first = await submit(sessions, vault, staff_form(SOMCHAI), clock.now())

    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await session.execute(
                update(Application)
                .where(Application.reference == first.reference)
                .values(status="rejected")
            )


async def test_agency_requests_have_no_national_id_and_never_clash(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    form = ApplicationForm("agency", {"mailbox": "district.office"}, None, {})

    results = [await submit(sessions, vault, form, clock.now()) for _ in range(2)]

    assert [type(result) for result in results] == [Submitted, Submitted]
    application = await stored(sessions, results[0].reference)
    assert application.national_id_encrypted is None
    assert application.national_id_digest is None


async def test_twenty_simultaneous_submissions_get_twenty_different_references(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    results = await asyncio.gather(
        *(
            submit(sessions, vault, staff_form(national_id(n)), clock.now(), user_id=f"U{n}")
            for n in range(20)
        )
    )

    references = sorted(result.reference for result in results)
    assert references == [format_reference(2569, n) for n in range(1, 21)]


async def test_simultaneous_submissions_of_one_person_make_one_application(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    results = await asyncio.gather(
        *(submit(sessions, vault, staff_form(SOMCHAI), clock.now(), f"U{n}") for n in range(5))
    )

    submitted = [result for result in results if isinstance(result, Submitted)]
    assert len(submitted) == 1
    assert set(results) - set(submitted) == {AlreadyActive(submitted[0].reference, owned=False)}


async def file_together(
    sessions: Sessions, vault: Vault, new: list[NewApplication], at: datetime
) -> list[Submitted | AlreadyActive]:
    async with sessions.begin() as session:
        return await submit_applications(session, vault, new, at)


def applicant(
    user_id: str, national_id: str, documents: dict[str, int] | None = None
) -> NewApplication:
    return NewApplication("line", user_id, staff_form(national_id, documents))


async def test_a_round_of_applicants_is_filed_at_once_each_with_the_next_reference(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    cards = [await add_document(sessions, f"U{n}", "id_card", clock.now()) for n in range(3)]
    new = [applicant(f"U{n}", national_id(n), {"id_card": cards[n]}) for n in range(3)]

    results = await file_together(sessions, vault, new, clock.now())

    assert [result.reference for result in results] == ["A69-00001", "A69-00002", "A69-00003"]
    async with sessions() as session:
        for result, card in zip(results, cards, strict=True):
            assert isinstance(result, Submitted)
            application = await session.get_one(Application, result.application_id)
            assert (
                vault.decrypt(
                    application.national_id_encrypted or b"",
                    context=national_id_context(result.reference),
                )
                == national_id(results.index(result)).encode()
            )
            assert (await session.get_one(Document, card)).application_id == application.id
        assert len(list(await session.scalars(select(AuditEvent)))) == 3


async def test_in_a_round_a_held_national_id_is_told_and_uses_up_no_number(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    first = await submit(sessions, vault, staff_form(SOMCHAI), clock.now(), user_id="U1")

    results = await file_together(
        sessions, vault, [applicant("U2", SOMCHAI), applicant("U3", SOMSRI)], clock.now()
    )

    assert results == [
        AlreadyActive(first.reference, owned=False),
        Submitted("A69-00002", results[1].application_id),
    ]


async def test_in_a_round_the_same_person_twice_is_filed_once(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    new = [applicant("U1", SOMCHAI), applicant("U2", SOMCHAI), applicant("U1", SOMCHAI)]

    results = await file_together(sessions, vault, new, clock.now())

    assert results == [
        Submitted("A69-00001", results[0].application_id),
        AlreadyActive("A69-00001", owned=False),
        AlreadyActive("A69-00001", owned=True),
    ]


async def test_a_round_of_applicants_takes_as_many_statements_as_one_applicant(
    sessions: Sessions, vault: Vault, clock: ManualClock, engine: AsyncEngine
) -> None:
    """Each statement of a round is a wait on the busy event loop (issue 13): seven for each
    applicant one after the other held the launch-day drain at 180-280 turns a second."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async def statements_for(users: range) -> int:
        cards = [await add_document(sessions, f"U{n}", "id_card", clock.now()) for n in users]
        new = [
            applicant(f"U{n}", national_id(n), {"id_card": c})
            for n, c in zip(users, cards, strict=True)
        ]
        statements.clear()
        async with sessions.begin() as session:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                await submit_applications(session, vault, new, clock.now())
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
        return len(statements)  # the audit events are written with the others at the commit

    assert await statements_for(range(1, 21)) == await statements_for(range(21, 22))


async def test_submitting_attaches_the_users_documents(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    id_card = await add_document(sessions, "U1", "id_card", clock.now())
    letter = await add_document(sessions, "U1", "work_certificate", clock.now())
    form = ApplicationForm(
        "contract", FIELDS, SOMCHAI, {"id_card": id_card, "work_certificate": letter}
    )

    result = await submit(sessions, vault, form, clock.now())

    assert isinstance(result, Submitted)
    async with sessions() as session:
        attached = await session.scalars(
            select(Document.id).where(Document.application_id == result.application_id)
        )
        assert sorted(attached) == sorted([id_card, letter])


async def test_documents_of_another_user_cannot_be_attached(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    theirs = await add_document(sessions, "U2", "id_card", clock.now())

    with pytest.raises(ValueError, match="not this user's"):
        await submit(sessions, vault, staff_form(documents={"id_card": theirs}), clock.now())

    async with sessions() as session:
        assert (await session.get_one(Document, theirs)).application_id is None
        assert await session.scalar(select(Application.id)) is None


async def test_a_document_already_attached_cannot_be_attached_again(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    id_card = await add_document(sessions, "U1", "id_card", clock.now())
    first = await submit(sessions, vault, staff_form(SOMCHAI, {"id_card": id_card}), clock.now())
    await end_application(sessions, first.reference, "rejected", clock.now())

    with pytest.raises(ValueError, match="not this user's"):
        await submit(sessions, vault, staff_form(SOMCHAI, {"id_card": id_card}), clock.now())


async def test_a_document_must_fill_the_slot_it_is_given_for(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    memo = await add_document(sessions, "U1", "memo", clock.now())

    with pytest.raises(ValueError, match="unattached id_card"):
        await submit(sessions, vault, staff_form(documents={"id_card": memo}), clock.now())


@pytest.mark.parametrize(
    "form",
    [
        ApplicationForm("boss", FIELDS, SOMCHAI, {}),
        ApplicationForm("staff", FIELDS, None, {}),
        ApplicationForm("agency", FIELDS, SOMCHAI, {}),
        ApplicationForm("staff", FIELDS, "๑๑๐๓๗๐๐๑๒๓๔๕๘", {}),
        ApplicationForm("staff", {**FIELDS, "national_id": SOMCHAI}, SOMCHAI, {}),
    ],
    ids=["unknown-kind", "staff-without-id", "agency-with-id", "thai-digits", "id-in-fields"],
)
async def test_refuses_a_malformed_form(
    sessions: Sessions, vault: Vault, clock: ManualClock, form: ApplicationForm
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        await submit(sessions, vault, form, clock.now())


async def test_submitting_writes_an_audit_event_without_personal_data(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    result = await submit(sessions, vault, staff_form(), clock.now())

    async with sessions() as session:
        event = await session.scalar(select(AuditEvent))
    assert event is not None
    assert (event.action, event.actor, event.at) == (
        "application.submitted",
        "line:U1",
        clock.now(),
    )
    assert (event.application_id, event.detail) == (result.application_id, {"kind": "staff"})


async def test_the_national_id_never_reaches_the_logs(
    sessions: Sessions, vault: Vault, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # statements and parameters

    await submit(sessions, vault, staff_form(SOMCHAI), clock.now())
    await submit(sessions, vault, staff_form(SOMCHAI), clock.now())

    assert "INSERT INTO applications" in caplog.text
    assert SOMCHAI not in caplog.text
