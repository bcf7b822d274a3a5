"""A person's PDPA rights: all that is held about them found and handed over, and erased
where the law allows, keeping the minimal record it requires."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.clock import ManualClock
from core.delivery.conversations import load_conversation, save_conversation
from core.requests.subject_requests import erase_person, export_person, find_person
from core.storage.crypto import Vault
from core.storage.documents import DocumentStore
from core.storage.models import Application, AuditEvent, Document
from tests.webhooks.admin_world import (
    SOMCHAI,
    SOMSRI,
    SOMSRI_FORM,
    Sessions,
    decide_now,
    id_card_photo,
    submit,
)

PHOTO = b"\xff\xd8 not really a jpeg"  # what id_card_photo stores


async def somchai_twice(
    sessions: Sessions, vault: Vault, clock: ManualClock, data: Path
) -> tuple[int, int]:
    """Somchai was refused once, then applied again with his photo (pending)."""
    first = await submit(sessions, vault, clock)
    await decide_now(sessions, clock, first.application_id, "reject", reason="not_staff")
    photo = await id_card_photo(sessions, vault, clock, data)
    second = await submit(sessions, vault, clock, documents={"id_card": photo})
    await submit(sessions, vault, clock, fields=SOMSRI_FORM, national_id=SOMSRI, user_id="U2")
    return first.application_id, second.application_id


async def test_a_reference_finds_every_request_of_the_same_person(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    await somchai_twice(sessions, vault, clock, tmp_path)
    async with sessions() as session:
        by_reference = await find_person(session, vault, reference="a69-00001")
        by_id = await find_person(session, vault, national_id=SOMCHAI)
        nobody = await find_person(session, vault, reference="A69-09999")
    assert [a.reference for a in by_reference] == ["A69-00001", "A69-00002"]
    assert [a.reference for a in by_id] == ["A69-00001", "A69-00002"]
    assert nobody == []


async def test_the_export_holds_the_requests_in_full_and_the_photos_decrypted(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    await somchai_twice(sessions, vault, clock, tmp_path)
    async with sessions.begin() as session:
        await save_conversation(session, vault, "line", "U1", {"flow": "apply"}, clock.now())
    async with sessions() as session:
        found = await find_person(session, vault, national_id=SOMCHAI)
        held = await export_person(session, vault, DocumentStore(tmp_path, vault), found)

    first, second = held.records["requests"]
    assert first["national_id"] == SOMCHAI
    assert first["form"]["first_name_th"] == "สมชาย"
    assert first["decisions"][0]["outcome"] == "reject"
    assert [e["action"] for e in first["audit_trail"]] == [
        "application.submitted",
        "application.reject",
    ]
    assert second["documents"][0]["file"] == "A69-00002-id_card-1.jpg"
    assert [(p.filename, p.content) for p in held.photos] == [("A69-00002-id_card-1.jpg", PHOTO)]
    assert held.records["chats"] == [
        {"channel": "line", "user_id": "U1", "form_in_progress": {"flow": "apply"}}
    ]
    assert "สมศรี" not in str(held.records)  # another person


async def test_erasure_keeps_the_minimal_record_and_leaves_a_pending_request(
    sessions: Sessions, vault: Vault, clock: ManualClock, tmp_path: Path
) -> None:
    first_id, second_id = await somchai_twice(sessions, vault, clock, tmp_path)
    async with sessions.begin() as session:
        await save_conversation(session, vault, "line", "U1", {"flow": "apply"}, clock.now())
    store = DocumentStore(tmp_path, vault)
    async with sessions.begin() as session:
        found = await find_person(session, vault, reference="A69-00001")
        erased = await erase_person(
            session, vault, store, found, actor="cli:clerk", now=clock.now()
        )

    assert (erased.references, erased.in_progress) == (("A69-00001",), ("A69-00002",))
    async with sessions() as session:
        first = await session.get_one(Application, first_id)
        second = await session.get_one(Application, second_id)
        state = await load_conversation(session, vault, "line", "U1")
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.application_id == first_id)
            )
        )
        photos = list(await session.scalars(select(Document).where(Document.deleted_at.is_(None))))
    assert first.national_id_encrypted is None
    assert first.form == {"unit": ["district-1004"], "unit_done": True, "unit_note": None}
    assert (first.reference, first.status) == ("A69-00001", "rejected")
    assert actions[-1] == "application.reduced"
    assert second.national_id_encrypted is not None  # still being decided: kept
    assert len(photos) == 1  # the pending request's photo
    assert state is None  # the chat's form in progress is gone
