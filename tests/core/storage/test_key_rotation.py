"""`keys rotate`: everything stored moves to the new key version, readable all along, and
duplicate detection keeps working; a crash halfway leaves nothing unreadable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.audit.chain import ChainKey, sign_with
from core.audit.verify import ChainBroken, ChainIntact, verify_chain
from core.clock import ManualClock
from core.delivery.conversations import load_conversation, save_conversation
from core.delivery.inbox import NewEvent, next_event, store_events
from core.delivery.outbox import add_outgoing, due_for_chat
from core.requests.applications import (
    AlreadyActive,
    ApplicationForm,
    Submitted,
    national_id_of,
    submit_application,
)
from core.requests.corrections import Resubmitted, resubmit_application
from core.requests.decisions import decide
from core.requests.reviewer_names import known_names, remember_name
from core.storage import key_rotation
from core.storage.crypto import SecretKeys, Vault
from core.storage.documents import DocumentStore, save_document
from core.storage.images import CheckedImage
from core.storage.key_rotation import Rotation, key_versions, rotate_keys
from core.storage.models import Application, AuditEvent, Document
from tests.conftest import TEST_SECRET_KEY

Sessions = async_sessionmaker[AsyncSession]
NEW_KEY = "the-new-secret-key-of-the-rotation-0123456789abcdef"
OLD = Vault(TEST_SECRET_KEY)  # version 1, as every deployment so far
DURING = Vault(SecretKeys(NEW_KEY, 2, {1: TEST_SECRET_KEY}))  # the new key, the old read-only
AFTER = Vault(SecretKeys(NEW_KEY, 2))  # the old key removed from the settings
CHAIN = [ChainKey(NEW_KEY), ChainKey(TEST_SECRET_KEY)]  # the audit chain's keys, new first
PEOPLE = 100


def national_id(number: int) -> str:
    first12 = f"1{number:011d}"
    total = sum(int(digit) * (13 - i) for i, digit in enumerate(first12))
    return first12 + str((11 - total % 11) % 10)


def photo(number: int) -> bytes:
    return b"\xff\xd8\xff" + f"photo of person {number}".encode()


async def rotate(
    engine: AsyncEngine, sessions: Sessions, vault: Vault, data: Path, clock: ManualClock
) -> Rotation:
    """As `bmabot keys rotate` runs: with the new key, so its audit rows are chained under it
    (store_everything wrote under the old one, as the server did before)."""
    sign_with(engine, NEW_KEY)
    return await rotate_keys(sessions, vault, DocumentStore(data, vault), CHAIN, now=clock.now())


async def chain_under(sessions: Sessions, *keys: ChainKey) -> ChainIntact | ChainBroken:
    async with sessions() as session:
        return await verify_chain(session, keys)


async def store_everything(sessions: Sessions, data: Path, clock: ManualClock) -> None:
    """PEOPLE requests with their ID photo, a conversation, an inbox event and a reply each,
    and as many reviewers' names."""
    store = DocumentStore(data, OLD)
    for number in range(PEOPLE):
        user = f"U{number}"
        image = CheckedImage(photo(number), "image/jpeg", 800, 600)
        async with sessions.begin() as session:
            document = await save_document(
                session,
                store,
                channel="line",
                user_id=user,
                slot="id_card",
                image=image,
                now=clock.now(),
            )
            form = ApplicationForm("staff", {}, national_id(number), {"id_card": document})
            submitted = await submit_application(
                session, OLD, channel="line", user_id=user, form=form, now=clock.now()
            )
            assert isinstance(submitted, Submitted)
            await save_conversation(session, OLD, "line", user, {"n": number}, clock.now())
            await store_events(
                session,
                OLD,
                [NewEvent(f"line:e{number}", "line", user, {"n": number})],
                clock.now(),
            )
            await add_outgoing(
                session,
                OLD,
                channel="line",
                chat_id=user,
                messages=[{"n": number}],
                now=clock.now(),
            )
            await remember_name(session, OLD, f"line:R{number}", f"ผู้ตรวจ {number}", clock.now())


async def everything_reads(
    sessions: Sessions, vault: Vault, data: Path, clock: ManualClock
) -> None:
    store = DocumentStore(data, vault)
    async with sessions.begin() as session:
        applications = (await session.scalars(select(Application).order_by(Application.id))).all()
        assert [national_id_of(a, vault) for a in applications] == [
            national_id(n) for n in range(PEOPLE)
        ]
        documents = (await session.scalars(select(Document).order_by(Document.id))).all()
        assert [store.read(d.storage_name) for d in documents] == [photo(n) for n in range(PEOPLE)]
        for number in range(PEOPLE):
            user = f"U{number}"
            assert await load_conversation(session, vault, "line", user) == {"n": number}
            event = await next_event(session, vault, "line", user)
            assert event is not None
            assert event.payload == {"n": number}
            replies = await due_for_chat(session, vault, "line", user, clock.now())
            assert [reply.messages for reply in replies] == [[{"n": number}]]
        reviewers = [f"line:R{number}" for number in range(PEOPLE)]
        names = await known_names(session, vault, reviewers)
        assert [names[r].name for r in reviewers] == [f"ผู้ตรวจ {n}" for n in range(PEOPLE)]


async def second_application(sessions: Sessions, vault: Vault, number: int | str) -> object:
    """Another chat applies with person `number`'s national ID (or this one)."""
    person = number if isinstance(number, str) else national_id(number)
    form = ApplicationForm("staff", {}, person, {})
    async with sessions.begin() as session:
        return await submit_application(
            session,
            vault,
            channel="line",
            user_id="someone-else",
            form=form,
            now=ManualClock().now(),
        )


async def test_after_a_rotation_all_reads_under_the_new_key_alone_and_duplicates_are_caught(
    engine: AsyncEngine,
    sessions: Sessions,
    tmp_path: Path,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await store_everything(sessions, tmp_path, clock)

    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        rotation = await rotate(engine, sessions, DURING, tmp_path, clock)

    assert rotation.complete
    assert dict(rotation.moved) == {
        "conversations": PEOPLE,
        "inbox": PEOPLE,
        "outbox": PEOPLE,
        "reviewer_names": PEOPLE,
        "national_ids": PEOPLE,
        "documents": PEOPLE,
    }
    versions = await key_versions(sessions, DocumentStore(tmp_path, AFTER))
    assert {name: dict(found) for name, found in versions.items()} == {
        name: {2: PEOPLE}
        for name in (
            "conversations",
            "inbox",
            "outbox",
            "reviewer_names",
            "national_ids",
            "documents",
        )
    }
    await everything_reads(sessions, AFTER, tmp_path, clock)
    assert isinstance(await second_application(sessions, AFTER, 42), AlreadyActive)
    assert isinstance(await second_application(sessions, AFTER, PEOPLE + 1), Submitted)
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "keys.rotated")
        )
    assert audited is not None
    assert audited.detail["version"] == 2
    assert (
        "security event=key_rotation version=2 moved=600 unreadable=0 audit_chain=resealed "
        "outcome=done"
    ) in caplog.messages
    assert rotation.audit_resealed == PEOPLE  # one "submitted" row each, chained under the old key
    intact = await chain_under(sessions, ChainKey(NEW_KEY))  # the old key is gone
    assert isinstance(intact, ChainIntact)
    assert intact.checked == PEOPLE + 2  # and the rotation's row, and the new request's


async def test_a_second_run_finds_nothing_left_to_do(
    engine: AsyncEngine, sessions: Sessions, tmp_path: Path, clock: ManualClock
) -> None:
    await store_everything(sessions, tmp_path, clock)
    await rotate(engine, sessions, DURING, tmp_path, clock)

    again = await rotate(engine, sessions, DURING, tmp_path, clock)

    assert sum(again.moved.values()) == 0
    assert again.current["documents"] == PEOPLE


class PowerCutError(Exception):
    """The machine stopped in the middle of the rotation."""


class CutAfter(Vault):
    """The cipher port as the rotation sees it, until the power goes out."""

    def __init__(self, keys: SecretKeys, tokens: int) -> None:
        super().__init__(keys)
        self.left = tokens

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        self.left -= 1
        if self.left < 0:
            raise PowerCutError
        return super().encrypt(plaintext, context=context)


# Tokens in order: conversations, inbox, outbox (100 each), national IDs, photos.
@pytest.mark.parametrize("cut_after", [150, 330, 370])
async def test_a_rotation_cut_halfway_leaves_all_readable_and_a_new_run_finishes(
    engine: AsyncEngine,
    sessions: Sessions,
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    cut_after: int,
) -> None:
    await store_everything(sessions, tmp_path, clock)
    monkeypatch.setattr(key_rotation, "BATCH", 40)
    cut = CutAfter(SecretKeys(NEW_KEY, 2, {1: TEST_SECRET_KEY}), cut_after)

    with pytest.raises(PowerCutError):
        await rotate(engine, sessions, cut, tmp_path, clock)

    versions = await key_versions(sessions, DocumentStore(tmp_path, DURING))
    assert {v for found in versions.values() for v in found} == {1, 2}  # half and half
    await everything_reads(sessions, DURING, tmp_path, clock)
    # Meanwhile a person whose request still holds the old key's digest is still caught.
    async with sessions() as session:
        first_byte = func.substr(Application.national_id_encrypted, 1, 1)
        still_old = await session.scalar(select(Application).where(first_byte == b"\x01").limit(1))
        person = None if still_old is None else national_id_of(still_old, DURING)
    if person is not None:
        assert isinstance(await second_application(sessions, DURING, person), AlreadyActive)

    rotation = await rotate(engine, sessions, DURING, tmp_path, clock)

    assert rotation.complete
    versions = await key_versions(sessions, DocumentStore(tmp_path, AFTER))
    assert {v for found in versions.values() for v in found} == {2}
    await everything_reads(sessions, AFTER, tmp_path, clock)
    assert isinstance(await second_application(sessions, AFTER, 7), AlreadyActive)


async def test_a_token_no_key_opens_is_reported_and_the_rest_rotates(
    engine: AsyncEngine, sessions: Sessions, tmp_path: Path, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        await save_conversation(session, OLD, "line", "U1", {"n": 1}, clock.now())
        await save_conversation(
            session,
            Vault("a-key-nobody-has-anymore-0123456789ab"),
            "line",
            "U2",
            {"n": 2},
            clock.now(),
        )

    rotation = await rotate(engine, sessions, DURING, tmp_path, clock)

    assert not rotation.complete
    assert rotation.unreadable == ["conversations 2"]
    assert rotation.moved["conversations"] == 1


async def test_an_audit_chain_changed_behind_our_back_is_not_sealed_again(
    engine: AsyncEngine, sessions: Sessions, tmp_path: Path, clock: ManualClock
) -> None:
    await store_everything(sessions, tmp_path, clock)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE audit_events SET actor = 'line:R2' WHERE id = 3"))

    rotation = await rotate(engine, sessions, DURING, tmp_path, clock)

    assert not rotation.complete
    assert rotation.audit_broken is not None
    assert rotation.audit_broken.row_id == 3
    still = await chain_under(sessions, ChainKey(NEW_KEY), ChainKey(TEST_SECRET_KEY))
    assert isinstance(still, ChainBroken)
    assert still.row_id == 3  # reported, never laundered


async def test_before_the_rotation_reaches_them_old_digests_still_count(
    sessions: Sessions, clock: ManualClock
) -> None:
    """The new key is in use, the rotation has not run: requests hold the old key's digests."""
    async with sessions.begin() as session:
        for number in (1, 2):
            form = ApplicationForm("staff", {"n": number}, national_id(number), {})
            await submit_application(
                session, OLD, channel="line", user_id=f"U{number}", form=form, now=clock.now()
            )
        await decide(
            session, application_id=1, outcome="return", reviewer="line:R", now=clock.now()
        )
    reference = "A69-00001"

    async def resubmit(number: int) -> object:
        form = ApplicationForm("staff", {"n": 1}, national_id(number), {})
        async with sessions.begin() as session:
            return await resubmit_application(
                session,
                DURING,
                reference=reference,
                channel="line",
                user_id="U1",
                form=form,
                now=clock.now(),
            )

    assert await resubmit(2) == AlreadyActive(reference, owned=True)  # person 2's request
    assert isinstance(await second_application(sessions, DURING, 2), AlreadyActive)
    same = await resubmit(1)
    assert isinstance(same, Resubmitted)
    assert same.changed == ()  # the same ID under the new key is no change
