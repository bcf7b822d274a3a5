"""Nothing lost, nothing stored that should not be: restarts, bad answers, odd inputs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.locks import KeyedLocks
from bot.handlers.media import MemoryMedia
from core.audit.chain import sign_with
from core.clock import ManualClock
from core.delivery.conversations import load_conversation
from core.directory.port import MemoryDirectory
from core.rules.organisation import Organisation
from core.storage.crypto import Vault
from core.storage.db import make_engine, make_sessions
from core.storage.documents import DocumentStore
from core.storage.models import Application, Document
from tests.conftest import TEST_SECRET_KEY
from tests.handlers.chat import CHANNEL, Chat, sample_photo
from tests.handlers.conftest import MEDIA_LINKS
from tests.handlers.transcripts import STAFF, play, until


async def test_a_conversation_survives_a_restart(
    database_url: str, engine: AsyncEngine, chat: Chat, tmp_path: Path
) -> None:
    await play(chat, STAFF[:12])  # up to the English first name
    await engine.dispose()  # the process is gone: engine, services and handler with it

    restarted = make_engine(database_url)
    sign_with(restarted, TEST_SECRET_KEY)
    try:
        vault = Vault(TEST_SECRET_KEY)
        services = Services(
            sessions=make_sessions(restarted),
            vault=vault,
            documents=DocumentStore(tmp_path / "data", vault),
            clock=ManualClock(),
            dialogue=apply_dialogue(Organisation.load(), verify_mobile=False),
            catalog=Catalog.load(),
            organisation=Organisation.load(),
            media_links=MEDIA_LINKS,
            directory=MemoryDirectory(),
            verify_mobile=False,
        )
        media = MemoryMedia()
        handler = ConversationHandler(services, {CHANNEL: media})
        resumed = await handler.resume(CHANNEL, chat.user_id)
        assert [reply.key for reply in resumed] == ["apply.resumed", STAFF[11].then]

        again = Chat(handler, media, user_id=chat.user_id)
        await play(again, STAFF[12:])
        await again.tap("ถูกต้อง ส่งคำขอ")
        assert again.reply_keys == ["apply.submitted"]
    finally:
        await restarted.dispose()


BAD_NATIONAL_IDS = [
    "1234",
    "12345678901234",
    "1103700123457",
    "abc",
    "๑๒๓",
    "110370012345x",
    "O103700123458",
    "1-1037-00123-45-9",
    "0000000000000x",
    "11037001234580",
    "+1103700123458",
    "1.103700123458",
    "1103700123450",
    "l103700123458",
    "110370012345",
    "1 1037 00123 45",
    "๑๑๐๓๗๐๐๑๒๓๔๕๙",
    "31006009876590",
    "3100600987658",
    "x" * 40,
]


async def test_twenty_bad_answers_keep_the_person_at_the_same_question(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    await play(chat, until(STAFF, "apply.ask_national_id"))

    for number, bad in enumerate(BAD_NATIONAL_IDS, start=1):
        await chat.send(bad)
        assert chat.reply_keys[0].startswith("invalid.national_id."), bad
        assert "เช่น" in chat.replies[0].text  # always with an example
        assert chat.button_labels[-2:] == ["ย้อนกลับ", "ยกเลิก"]
        assert ("common.help" in chat.reply_keys) == (number % 3 == 0)

    async with sessions.begin() as session:
        state = await load_conversation(session, vault, CHANNEL, chat.user_id)
        applications = await session.scalar(select(func.count()).select_from(Application))
        documents = await session.scalar(select(func.count()).select_from(Document))
    assert state is not None
    assert state["step"] == "national_id"
    assert "national_id" not in state["answers"]
    assert state["misses"] == 20
    assert (applications, documents) == (0, 0)

    await chat.send("1103700123458")
    assert chat.last_key == "apply.ask_mobile"


async def test_a_photo_where_text_is_asked_is_answered_with_what_to_type(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_national_id"))
    await chat.photo()
    assert chat.reply_keys == ["common.text_expected"]


@pytest.mark.parametrize(
    ("send", "answer"),
    [
        ("text", "apply.photo_expected"),
        ("sticker", "apply.photo_expected"),
        ("file", "invalid.document.file"),
        ("tiny_photo", "invalid.document.too_small"),
    ],
)
async def test_a_document_step_says_what_to_send_instead(
    chat: Chat, send: str, answer: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await play(chat, STAFF[:-1])
    assert chat.last_key == "apply.ask_doc_id_card"

    actions = {
        "text": lambda: chat.send("ส่งแล้วค่ะ"),
        "sticker": chat.sticker,
        "file": chat.file,
        "tiny_photo": lambda: chat.photo(_tiny_jpeg()),
    }
    await actions[send]()

    assert chat.reply_keys == [answer]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0
    await chat.photo()
    assert chat.last_key == "apply.summary_title"


async def test_a_photo_that_cannot_be_fetched_is_asked_for_again(chat: Chat) -> None:
    await play(chat, STAFF[:-1])
    await chat.handler.handle(
        Incoming(CHANNEL, chat.user_id, chat.user_id, Kind.PHOTO, media=MediaRef("gone"))
    )
    replies = await chat.handler.resume(CHANNEL, chat.user_id)
    assert replies[-1].key == "apply.ask_doc_id_card"


async def test_a_stale_unit_button_is_refused_politely(chat: Chat) -> None:
    await play(chat, STAFF[:5])  # inside Bang Rak
    await chat.press("unit:district-1030")  # Chatuchak, from an old list

    assert chat.reply_keys == ["apply.unit_pick_again"]


async def test_unknown_button_data_never_crashes(chat: Chat) -> None:
    for data in ["", "x", "edit:nothing", "pick:99", "pick:-1", "unit:../../etc", "kind:boss"]:
        await chat.press(data)
        assert chat.reply_keys
        assert "common.error" not in chat.reply_keys
    await play(chat, STAFF[:3])
    for data in ["", "x", "edit:nothing", "pick:99", "unit:../../etc", "kind:boss", "nav:zzz"]:
        await chat.press(data)
        assert "common.error" not in chat.reply_keys


async def test_typing_apply_again_in_the_middle_goes_on_where_it_was(chat: Chat) -> None:
    await play(chat, STAFF[:9])
    await chat.send("สมัคร")
    assert chat.reply_keys == ["apply.already_in_progress", STAFF[8].then]


async def test_support_in_the_middle_shows_contacts_and_the_question_again(chat: Chat) -> None:
    await play(chat, STAFF[:9])
    await chat.send("ติดต่อ")
    assert chat.reply_keys == ["support.contacts", STAFF[8].then]
    assert "0 2203 2751" in chat.text


def _tiny_jpeg() -> bytes:
    return sample_photo((120, 80))


async def test_messages_sent_at_once_are_handled_one_at_a_time_in_order(chat: Chat) -> None:
    await play(chat, until(STAFF, "apply.ask_name_th"))

    first, last = await asyncio.gather(chat.send("สมชาย ใจดี"), chat.send("Somchai Jaidee"))

    assert first[-1].key == "apply.ask_name_en"
    assert last[-1].key == "apply.ask_national_id"


async def test_locks_of_people_who_are_done_are_forgotten() -> None:
    locks = KeyedLocks()
    async with locks.hold("a"), locks.hold("b"):
        assert len(locks) == 2
    assert len(locks) == 0
