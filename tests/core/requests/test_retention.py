"""Retention as the PDPA notice promises it: photos at the decision, personal fields after
the record period, the minimal audit record and the audit trail kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from core.audit.chain import ChainKey
from core.audit.verify import ChainIntact, verify_chain
from core.clock import ManualClock
from core.requests.applications import AlreadyActive, ApplicationForm, submit_application
from core.requests.fulfilment import mark_account_created
from core.requests.retention import RetentionPolicy, documents_decided, purge
from core.storage.crypto import Vault
from core.storage.documents import DocumentStore
from core.storage.models import (
    Application,
    AuditEvent,
    Decision,
    Document,
    MobileCode,
    MobileLock,
)
from tests.conftest import TEST_SECRET_KEY
from tests.webhooks.admin_world import (
    SOMCHAI,
    SOMCHAI_FORM,
    Sessions,
    decide_now,
    id_card_photo,
    submit,
)

DEFAULTS = RetentionPolicy()


async def with_photo(sessions: Sessions, vault: Vault, clock: ManualClock, data: Path) -> int:
    photo = await id_card_photo(sessions, vault, clock, data)
    return (await submit(sessions, vault, clock, documents={"id_card": photo})).application_id


def files(data: Path) -> list[Path]:
    return [path for path in (data / "documents").glob("*/*") if path.is_file()]


async def kept_documents(sessions: Sessions) -> int:
    async with sessions() as session:
        found = await session.scalars(select(Document).where(Document.deleted_at.is_(None)))
        return len(list(found))


async def actions(sessions: Sessions, application_id: int) -> list[str]:
    async with sessions() as session:
        found = await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.application_id == application_id)
            .order_by(AuditEvent.id)
        )
        return list(found)


async def test_the_defaults_delete_photos_at_the_decision_and_keep_records_a_year() -> None:
    assert (DEFAULTS.document_days, DEFAULTS.record_days) == (0, 365)


async def test_a_rejection_s_photos_go_at_the_decision(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    store = DocumentStore(tmp_path, vault)
    application_id = await with_photo(sessions, vault, clock, tmp_path)
    assert len(files(tmp_path)) == 1
    await decide_now(sessions, clock, application_id, "reject", reason="not_staff")

    async with sessions.begin() as session:
        deleted = await documents_decided(session, store, DEFAULTS, application_id, clock.now())

    assert deleted == 1
    assert files(tmp_path) == []
    assert await kept_documents(sessions) == 0
    assert (await actions(sessions, application_id))[-1] == "documents.deleted"


async def test_an_approval_keeps_its_photos_until_the_account_is_made(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    store = DocumentStore(tmp_path, vault)
    application_id = await with_photo(sessions, vault, clock, tmp_path)
    await decide_now(sessions, clock, application_id, "approve")
    async with sessions.begin() as session:
        assert await documents_decided(session, store, DEFAULTS, application_id, clock.now()) == 0
    assert len(files(tmp_path)) == 1  # the account job may still need the reviewers to look

    async with sessions.begin() as session:
        await mark_account_created(session, application_id, uid="somchai.j", now=clock.now())
        assert await documents_decided(session, store, DEFAULTS, application_id, clock.now()) == 1
    assert files(tmp_path) == []


async def test_with_retention_days_the_photos_wait_for_the_purge(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    store, week = DocumentStore(tmp_path, vault), RetentionPolicy(document_days=7)
    application_id = await with_photo(sessions, vault, clock, tmp_path)
    await decide_now(sessions, clock, application_id, "reject", reason="not_staff")
    async with sessions.begin() as session:
        assert await documents_decided(session, store, week, application_id, clock.now()) == 0

    clock.advance(days=6, hours=23)
    async with sessions.begin() as session:
        early = await purge(session, store, week, clock.now())
    clock.advance(hours=1)
    async with sessions.begin() as session:
        due = await purge(session, store, week, clock.now())

    assert (early.documents, early.documents_of) == (0, ())
    assert (due.documents, due.documents_of) == (1, ("A69-00001",))
    assert files(tmp_path) == []


async def test_a_pending_request_is_never_purged(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    await with_photo(sessions, vault, clock, tmp_path)
    clock.advance(days=800)
    async with sessions.begin() as session:
        purged = await purge(session, DocumentStore(tmp_path, vault), DEFAULTS, clock.now())
    assert (purged.documents, purged.reduced) == (0, ())
    assert len(files(tmp_path)) == 1


async def test_after_the_record_period_only_the_minimal_record_is_left(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    store = DocumentStore(tmp_path, vault)
    application_id = await with_photo(sessions, vault, clock, tmp_path)
    await decide_now(sessions, clock, application_id, "reject", reason="บัตรของนายสมชาย ใจดี หมดอายุ")
    clock.advance(days=364)
    async with sessions.begin() as session:
        early = await purge(session, store, DEFAULTS, clock.now())
    clock.advance(days=1)
    async with sessions.begin() as session:
        due = await purge(session, store, DEFAULTS, clock.now())

    assert (early.documents, early.reduced) == (1, ())  # the photo, at the first purge
    assert due.reduced == ("A69-00001",)
    async with sessions() as session:
        application = await session.get_one(Application, application_id)
        decision = (await session.scalars(select(Decision))).one()
        verdict = await verify_chain(session, [ChainKey(TEST_SECRET_KEY)])
    assert application.form == {"unit": ["district-1004"], "unit_done": True, "unit_note": None}
    assert application.national_id_encrypted is None
    assert application.national_id_digest is None
    assert application.user_id == ""
    assert (application.reference, application.kind, application.status) == (
        "A69-00001",
        "staff",
        "rejected",
    )
    assert application.decided_at is not None
    assert application.reduced_at == clock.now()
    assert (decision.outcome, decision.reviewer, decision.reason) == ("reject", "line:R1", None)
    assert await actions(sessions, application_id) == [
        "application.submitted",
        "application.reject",
        "documents.deleted",
        "application.reduced",
    ]
    assert isinstance(verdict, ChainIntact)


async def test_a_reason_chosen_from_the_buttons_stays_in_the_minimal_record(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    application_id = (await submit(sessions, vault, clock)).application_id
    await decide_now(sessions, clock, application_id, "reject", reason="not_staff")
    clock.advance(days=365)
    async with sessions.begin() as session:
        await purge(session, DocumentStore(tmp_path, vault), DEFAULTS, clock.now())
    async with sessions() as session:
        decision = (await session.scalars(select(Decision))).one()
    assert decision.reason == "not_staff"


async def test_an_account_keeps_one_person_one_account_after_reduction(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    application_id = (await submit(sessions, vault, clock)).application_id
    await decide_now(sessions, clock, application_id, "approve")
    async with sessions.begin() as session:
        await mark_account_created(session, application_id, uid="somchai.j", now=clock.now())
    clock.advance(days=365)
    async with sessions.begin() as session:
        purged = await purge(session, DocumentStore(tmp_path, vault), DEFAULTS, clock.now())
    assert purged.reduced == ("A69-00001",)

    form = ApplicationForm("staff", SOMCHAI_FORM, SOMCHAI, {})
    async with sessions.begin() as session:
        again = await submit_application(
            session, vault, channel="line", user_id="U9", form=form, now=clock.now()
        )
    assert again == AlreadyActive("A69-00001", owned=False)


async def test_the_purge_removes_files_a_correction_left_behind(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    await with_photo(sessions, vault, clock, tmp_path)
    async with sessions.begin() as session:
        document = (await session.scalars(select(Document))).one()
        document.deleted_at = clock.now()  # as a resubmission marks a replaced photo

    async with sessions.begin() as session:
        purged = await purge(session, DocumentStore(tmp_path, vault), DEFAULTS, clock.now())

    assert purged.files == 1
    assert files(tmp_path) == []


async def test_one_time_codes_go_once_no_draft_can_use_them_and_spent_counters_a_day_on(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    now = clock.now()

    def code(issued_days_ago: int, key: str) -> MobileCode:
        issued = now - timedelta(days=issued_days_ago)
        return MobileCode(
            chat="line:U1",
            mobile_digest="d" * 64,
            issue_key=key,
            code_digest="c" * 64,
            issued_at=issued,
            expires_at=issued + timedelta(minutes=10),
        )

    async with sessions.begin() as session:
        session.add_all([code(32, "old"), code(3, "recent")])
        session.add_all(
            [
                MobileLock(mobile_digest="a" * 64, wrong=2, last_wrong_at=now - timedelta(days=2)),
                MobileLock(
                    mobile_digest="b" * 64,
                    wrong=5,
                    last_wrong_at=now - timedelta(days=2),
                    locked_until=now + timedelta(hours=1),  # still running: kept
                ),
                MobileLock(mobile_digest="e" * 64, wrong=1, last_wrong_at=now),
            ]
        )

    async with sessions.begin() as session:
        purged = await purge(session, DocumentStore(tmp_path, vault), DEFAULTS, now)

    assert purged.mobile_codes == 2
    async with sessions() as session:
        assert list(await session.scalars(select(MobileCode.issue_key))) == ["recent"]
        kept = sorted(await session.scalars(select(MobileLock.mobile_digest)))
    assert kept == ["b" * 64, "e" * 64]
