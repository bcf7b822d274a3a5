"""Links to document photos: open for the review window only, dead with the decision and
with the photo, every view audited in the name of the one the link was issued to."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.security_log import loggable
from core.clock import ManualClock
from core.requests.applications import ApplicationForm, Submitted, submit_application
from core.requests.decisions import decide
from core.storage.crypto import SecretKeys, Vault
from core.storage.media_links import Link, MediaLinks, Refused
from core.storage.media_views import Closed, Viewable, view_document
from core.storage.models import AuditEvent, Document
from tests.conftest import TEST_SECRET_KEY

Sessions = async_sessionmaker[AsyncSession]
NEW_KEY = "another-secret-key-for-the-suite-only-9876543210"
REVIEWER = "line:U" + "a1" * 16
LINKS = MediaLinks.from_secret(TEST_SECRET_KEY, "https://bmabot.test/", timedelta(hours=24))


def token_of(url: str) -> str:
    return url.removeprefix("https://bmabot.test/media/").removesuffix("?preview=1")


def test_a_link_opens_its_photo_for_the_review_window_and_names_whom_it_was_issued_to(
    clock: ManualClock,
) -> None:
    url = LINKS.url(42, clock.now(), issued_to=REVIEWER)
    clock.advance(hours=23, minutes=59)
    assert LINKS.check(token_of(url), clock.now()) == Link(
        42, REVIEWER, clock.now() + timedelta(minutes=1)
    )
    clock.advance(minutes=1)
    assert LINKS.check(token_of(url), clock.now()) is Refused.EXPIRED


def test_the_review_window_is_a_setting(clock: ManualClock) -> None:
    short = MediaLinks.from_secret(TEST_SECRET_KEY, "https://bmabot.test", timedelta(hours=2))
    token = token_of(short.url(7, clock.now(), issued_to=REVIEWER, preview=True))
    clock.advance(hours=2)
    assert short.check(token, clock.now()) is Refused.EXPIRED


def test_a_changed_or_foreign_token_opens_nothing(clock: ManualClock) -> None:
    token = token_of(LINKS.url(42, clock.now(), issued_to=REVIEWER))
    other = MediaLinks.from_secret(NEW_KEY, "https://bmabot.test")
    assert other.check(token, clock.now()) is Refused.FORGED
    for forged in (token[:-3] + "AAA", token[:10], "!!", ""):
        assert LINKS.check(forged, clock.now()) is Refused.FORGED
    # Another reviewer's name put in the link breaks its signature.
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    swapped = raw.replace(REVIEWER.encode(), ("line:U" + "b2" * 16).encode())
    assert swapped != raw
    retold = base64.urlsafe_b64encode(swapped).decode().rstrip("=")
    assert LINKS.check(retold, clock.now()) is Refused.FORGED


def test_links_of_the_old_key_open_until_the_old_key_is_removed(clock: ManualClock) -> None:
    token = token_of(LINKS.url(42, clock.now(), issued_to=REVIEWER))
    rotated = MediaLinks.from_secret(SecretKeys(NEW_KEY, 2, {1: TEST_SECRET_KEY}), "https://x")
    assert isinstance(rotated.check(token, clock.now()), Link)
    assert rotated.token(42, clock.now(), REVIEWER) != LINKS.token(42, clock.now(), REVIEWER)
    done = MediaLinks.from_secret(SecretKeys(NEW_KEY, 2), "https://x")
    assert done.check(token, clock.now()) is Refused.FORGED


async def photo_of_a_request(sessions: Sessions, vault: Vault, clock: ManualClock) -> Link:
    async with sessions.begin() as session:
        document = Document(
            channel="line",
            user_id="U1",
            slot="id_card",
            storage_name="stored-photo-name-0001",
            content_type="image/jpeg",
            size_bytes=1234,
            created_at=clock.now(),
        )
        session.add(document)
        await session.flush()
        form = ApplicationForm("staff", {}, "1103700123458", {"id_card": document.id})
        submitted = await submit_application(
            session, vault, channel="line", user_id="U1", form=form, now=clock.now()
        )
    assert isinstance(submitted, Submitted)
    return Link(document.id, REVIEWER, clock.now() + timedelta(hours=24))


async def view(sessions: Sessions, link: Link, clock: ManualClock) -> Viewable | Closed:
    async with sessions.begin() as session:
        return await view_document(session, link, remote="192.0.2.7", at=clock.now())


async def test_each_view_is_audited_with_the_reviewer_and_logged(
    sessions: Sessions, vault: Vault, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    link = await photo_of_a_request(sessions, vault, clock)
    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        shown = await view(sessions, link, clock)
    assert shown == Viewable("stored-photo-name-0001", 1)
    async with sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "document.viewed")
        )
    assert event is not None
    assert (event.actor, event.application_id) == (REVIEWER, 1)
    assert event.detail == {
        "document": str(link.document_id),
        "via": "link",
        "remote": "192.0.2.7",
    }
    assert (
        f"security event=media_view outcome=shown document={link.document_id} application=1 "
        f"issued_to={REVIEWER} remote=192.0.2.7"
    ) in caplog.messages


async def test_the_decision_ends_every_link_to_the_requests_photos(
    sessions: Sessions, vault: Vault, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    link = await photo_of_a_request(sessions, vault, clock)
    async with sessions.begin() as session:
        await decide(
            session, application_id=1, outcome="approve", reviewer=REVIEWER, now=clock.now()
        )
    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        assert await view(sessions, link, clock) is Closed.DECIDED
    assert any("event=media_view outcome=decided" in line for line in caplog.messages)
    async with sessions() as session:
        views = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "document.viewed")
        )
    assert views is None


async def test_a_deleted_photo_opens_no_more(
    sessions: Sessions, vault: Vault, clock: ManualClock
) -> None:
    link = await photo_of_a_request(sessions, vault, clock)
    async with sessions.begin() as session:
        document = await session.get(Document, link.document_id)
        assert document is not None
        document.deleted_at = clock.now()
    assert await view(sessions, link, clock) is Closed.DELETED
    assert await view(sessions, Link(999, REVIEWER, clock.now()), clock) is Closed.DELETED


def test_telegram_ids_reach_the_security_log_as_fingerprints() -> None:
    assert loggable("line:U" + "a1" * 16) == "line:U" + "a1" * 16
    shown = loggable("telegram:1234567890")
    assert shown.startswith("telegram:h-")
    assert "1234567890" not in shown
