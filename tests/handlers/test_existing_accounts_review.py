"""Rule 2.1 against the directory on the reviewers' side: the card says what was checked in one
line, approval is refused when an account has the ID, and the account job looks once more."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Card
from bot.handlers.accounts import AccountMaker
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.media import MemoryMedia
from bot.handlers.review_cards import card_messages
from bot.handlers.review_policy import ReviewPolicy
from core.delivery.jobs import FAILED, enqueue, list_jobs
from core.delivery.worker import Worker
from core.directory.port import MemoryDirectory
from core.directory.roster import import_roster
from core.requests.decisions import decide
from core.sms.port import OutboxSms
from core.storage.crypto import Vault
from core.storage.models import Application
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.test_existing_accounts import existing
from tests.handlers.transcripts import NATIONAL_ID, TRANSCRIPTS, play

GROUP, REVIEWER = "G-review", "R1"


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory()


@pytest.fixture
def bot(services: Services, media: MemoryMedia, directory: MemoryDirectory) -> ConversationHandler:
    policy = ReviewPolicy(
        review_chats={CHANNEL: GROUP}, reviewers=frozenset({f"{CHANNEL}:{REVIEWER}"})
    )
    services = dataclasses.replace(services, directory=directory, policy=policy)
    return ConversationHandler(services, {CHANNEL: media})


@pytest.fixture
async def submitted(bot: ConversationHandler, media: MemoryMedia) -> int:
    """Somchai's application, sent while the directory had no account for his ID."""
    chat = Chat(bot, media)
    await play(chat, TRANSCRIPTS["staff"])
    await chat.tap("ถูกต้อง ส่งคำขอ")
    assert chat.reply_keys == ["apply.submitted"]
    async with bot.services.sessions() as session:
        application_id = await session.scalar(select(Application.id))
    assert application_id is not None
    return application_id


async def card_text(bot: ConversationHandler, application_id: int) -> str:
    services = bot.services
    async with services.sessions() as session:
        (card, *_) = await card_messages(session, services, application_id, ())
    assert isinstance(card, Card)
    return "\n".join(services.catalog.text(line.key, line.params) for line in card.lines)


async def marked_from_a_roster(directory: MemoryDirectory, vault: Vault) -> str:
    """An account made before the bot turns out to be Somchai's: HR's roster says so."""
    account = await directory.create_account(existing(7))
    report = await import_roster(directory, vault, [f"{NATIONAL_ID},{account.uid}"], dry_run=False)
    assert report.marked == 1
    return account.uid


async def test_the_card_says_what_was_checked_in_one_line(
    bot: ConversationHandler, submitted: int
) -> None:
    text = await card_text(bot, submitted)

    assert "ตรวจแล้ว: เลขบัตรถูกต้อง ✓ · ไม่มีบัญชีเดิม ✓" in text.splitlines()


async def test_a_verified_mobile_joins_the_line(bot: ConversationHandler, submitted: int) -> None:
    async with bot.services.sessions.begin() as session:
        application = await session.get(Application, submitted)
        assert application is not None
        application.form = {**application.form, "mobile_verified": True}

    text = await card_text(bot, submitted)

    assert "ตรวจแล้ว: เลขบัตรถูกต้อง ✓ · ไม่มีบัญชีเดิม ✓ · เบอร์มือถือยืนยันแล้ว ✓" in text


async def test_an_account_found_later_is_warned_on_the_card_naming_nobody(
    bot: ConversationHandler, submitted: int, directory: MemoryDirectory, vault: Vault
) -> None:
    uid = await marked_from_a_roster(directory, vault)

    text = await card_text(bot, submitted)

    assert "ตรวจแล้ว: เลขบัตรถูกต้อง ✓ · มีบัญชีในระบบอยู่แล้ว ⚠️" in text
    assert "⚠️ มีบัญชีในระบบอยู่แล้ว" in text
    assert uid not in text


async def test_an_unreachable_directory_is_a_warning_not_a_tick(
    bot: ConversationHandler, submitted: int, directory: MemoryDirectory
) -> None:
    directory.available = False

    text = await card_text(bot, submitted)

    assert "ยังตรวจบัญชีเดิมในระบบไม่ได้ ⚠️" in text
    assert "ไม่มีบัญชีเดิม ✓" not in text


async def test_approval_is_refused_when_the_directory_has_an_account_for_the_id(
    bot: ConversationHandler, submitted: int, directory: MemoryDirectory, vault: Vault
) -> None:
    await marked_from_a_roster(directory, vault)
    pressed = Incoming(
        CHANNEL, REVIEWER, GROUP, Kind.BUTTON, data=f"rv:a:{submitted}", in_group=True
    )

    replies = await bot.handle(pressed)

    assert [reply.key for reply in replies] == ["review.approve_refused.has_account"]
    async with bot.services.sessions() as session:
        application = await session.get(Application, submitted)
    assert application is not None
    assert application.status == "pending"


async def test_approval_goes_on_when_the_directory_has_no_account(
    bot: ConversationHandler, submitted: int
) -> None:
    pressed = Incoming(
        CHANNEL, REVIEWER, GROUP, Kind.BUTTON, data=f"rv:a:{submitted}", in_group=True
    )

    replies = await bot.handle(pressed)

    assert [reply.key for reply in replies][-1] == "review.decided.approve"


async def test_the_account_job_makes_no_second_account(
    bot: ConversationHandler,
    submitted: int,
    directory: MemoryDirectory,
    vault: Vault,
    tmp_path: Path,
) -> None:
    # Approved while the directory was down (approval goes on), marked from a roster since.
    services, now = bot.services, bot.services.clock.now()
    async with services.sessions.begin() as session:
        await decide(
            session, application_id=submitted, outcome="approve", reviewer="line:R1", now=now
        )
        await enqueue(
            session, kind="account.create", key="a", payload={"application_id": submitted}, now=now
        )
    await marked_from_a_roster(directory, vault)
    sms = OutboxSms(tmp_path / "sms.jsonl")
    maker = AccountMaker(services, directory, sms)

    await Worker(
        services.sessions, {"account.create": maker}, services.clock, worker_id="t"
    ).drain()

    async with services.sessions() as session:
        failed = await list_jobs(session, (FAILED,))
    assert [(job.kind, job.last_error) for job in failed] == [
        ("account.create", "PermanentJobError: ExistingAccount")
    ]
    assert sms.messages() == []
    assert len(directory.users()) == 1


async def test_a_retried_account_job_finds_its_own_entry_and_finishes(
    bot: ConversationHandler,
    submitted: int,
    directory: MemoryDirectory,
    vault: Vault,
    tmp_path: Path,
) -> None:
    services, now = bot.services, bot.services.clock.now()
    async with services.sessions.begin() as session:
        await decide(
            session, application_id=submitted, outcome="approve", reviewer="line:R1", now=now
        )
        await enqueue(
            session, kind="account.create", key="a", payload={"application_id": submitted}, now=now
        )
        reference = await session.scalar(select(Application.reference))
    assert reference is not None
    # An earlier run made the entry, with the digest, and died before the SMS.
    made = dataclasses.replace(
        existing(1),
        application_reference=reference,
        national_id_digest=vault.national_id_digest(NATIONAL_ID),
    )
    await directory.create_account(made)
    sms = OutboxSms(tmp_path / "sms.jsonl")
    maker = AccountMaker(services, directory, sms)

    await Worker(
        services.sessions, {"account.create": maker}, services.clock, worker_id="t"
    ).drain()

    assert [user.application_reference for user in directory.users()] == [reference]
    assert len(sms.messages()) == 1
