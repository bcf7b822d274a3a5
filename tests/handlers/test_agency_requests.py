"""A unit mailbox's request checked as it is typed (issue 16): the wanted name must be free,
and the responsible person a civil servant whose account exists and is not locked."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.flows.outgoing import Card
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.media import MemoryMedia
from bot.handlers.review_cards import card_messages
from core.directory.port import MemoryDirectory
from core.storage.models import Application
from tests.handlers.chat import CHANNEL, Chat
from tests.handlers.people import seed
from tests.handlers.transcripts import AGENCY, play, send, until

FREE_MAILBOX = "bangrak.tabian"
# The agency transcript with a mailbox name the seeded directory does not hold yet.
AGENCY_FORM = [
    send(FREE_MAILBOX, turn.then) if turn.value == "bangrak.registration" else turn
    for turn in AGENCY
]


@pytest.fixture
async def directory() -> MemoryDirectory:
    return await seed(MemoryDirectory())  # somchai.j, malee.s (staff), kanda.p (contract), ...


def chat_on(services: Services, media: MemoryMedia, directory: MemoryDirectory) -> Chat:
    services = dataclasses.replace(services, directory=directory)
    return Chat(ConversationHandler(services, {CHANNEL: media}), media)


@pytest.fixture
def chat(services: Services, media: MemoryMedia, directory: MemoryDirectory) -> Chat:
    return chat_on(services, media, directory)


async def at_responsible_person(chat: Chat) -> None:
    await play(chat, until(AGENCY, "apply.ask_mailbox_name"))
    await chat.send(FREE_MAILBOX)
    assert chat.last_key == "apply.ask_responsible_username"


async def test_a_mailbox_name_that_exists_is_refused_and_asked_again(chat: Chat) -> None:
    await play(chat, until(AGENCY, "apply.ask_mailbox_name"))

    await chat.send("bangrak.registration")

    assert chat.reply_keys == ["apply.mailbox_name_taken"]
    assert "bangrak.registration มีผู้ใช้ในระบบแล้วค่ะ" in chat.text
    assert "(เช่น bangrak.registration2)" in chat.text  # with an example
    await chat.send(FREE_MAILBOX)
    assert chat.last_key == "apply.ask_responsible_username"


async def test_a_persons_user_name_is_no_free_mailbox_name(chat: Chat) -> None:
    await play(chat, until(AGENCY, "apply.ask_mailbox_name"))
    await chat.send("Malee.S")
    assert chat.reply_keys == ["apply.mailbox_name_taken"]


@pytest.mark.parametrize(
    ("typed", "refusal", "words"),
    [
        ("nobody.x", "apply.responsible_unknown", "ไม่พบชื่อผู้ใช้ nobody.x ในระบบค่ะ"),
        ("kanda.p", "apply.responsible_not_civil_servant", "kanda.p ไม่ใช่บัญชีของข้าราชการ"),
        (
            "bangrak.registration",  # a unit mailbox answers for nobody
            "apply.responsible_not_civil_servant",
            "ไม่ใช่บัญชีของข้าราชการ",
        ),
    ],
)
async def test_a_responsible_person_who_will_not_do_is_refused_while_typing(
    chat: Chat, typed: str, refusal: str, words: str
) -> None:
    await at_responsible_person(chat)

    await chat.send(typed)

    assert chat.reply_keys == [refusal]
    assert words in chat.text
    assert "(เช่น somchai.j)" in chat.text
    await chat.send("somchai.j")  # the same question again, and a good answer moves on
    assert chat.last_key == "apply.ask_title_th"


async def test_a_locked_account_cannot_answer_for_a_mailbox(
    chat: Chat, directory: MemoryDirectory
) -> None:
    await directory.lock("malee.s", "test")
    await at_responsible_person(chat)

    await chat.send("malee.s")

    assert chat.reply_keys == ["apply.responsible_locked"]
    assert "บัญชี malee.s ถูกระงับอยู่" in chat.text


async def test_an_unlocked_civil_servant_is_kept_as_typed_in_any_case(chat: Chat) -> None:
    await at_responsible_person(chat)
    await chat.send("Somchai.J@bangkok.go.th")
    assert chat.last_key == "apply.ask_title_th"


async def test_a_user_name_that_cannot_be_one_gets_the_format_hint(chat: Chat) -> None:
    await at_responsible_person(chat)
    await chat.send("สมชาย ใจดี")
    assert chat.reply_keys == ["invalid.responsible_username.format"]


async def test_which_employee_type_is_a_civil_servant_is_a_setting(
    services: Services, media: MemoryMedia, directory: MemoryDirectory
) -> None:
    chat = chat_on(dataclasses.replace(services, civil_servant_type="contract"), media, directory)
    await at_responsible_person(chat)

    await chat.send("somchai.j")
    assert chat.reply_keys == ["apply.responsible_not_civil_servant"]
    await chat.send("kanda.p")
    assert chat.last_key == "apply.ask_title_th"


async def test_when_the_directory_is_down_both_names_are_kept_for_the_reviewers(
    chat: Chat, directory: MemoryDirectory
) -> None:
    directory.available = False
    await play(chat, until(AGENCY, "apply.ask_mailbox_name"))

    await chat.send(FREE_MAILBOX)
    assert chat.reply_keys == ["request.checked_later", "apply.ask_responsible_username"]
    await chat.send("nobody.x")
    assert chat.reply_keys == ["request.checked_later", "apply.ask_title_th"]


async def test_a_mailbox_name_changed_from_the_summary_is_checked_again(chat: Chat) -> None:
    await play(chat, AGENCY_FORM)
    await chat.tap("แก้ไขข้อมูล")
    while "ชื่อบัญชีหน่วยงาน" not in chat.button_labels:
        await chat.tap("ถัดไป ▶")
    await chat.tap("ชื่อบัญชีหน่วยงาน")

    await chat.send("malee.s")
    assert chat.reply_keys == ["apply.mailbox_name_taken"]
    await chat.send("bangrak.tabian2")
    assert chat.last_key == "apply.summary_title"
    assert "bangrak.tabian2" in chat.replies[-1].text


async def name_warnings(services: Services) -> list[str]:
    async with services.sessions() as session:
        application = await session.scalar(select(Application))
        assert application is not None
        (card, *_) = await card_messages(session, services, application.id, ())
    assert isinstance(card, Card)
    about_names = ("review.warning.responsible", "review.warning.mailbox")
    return [line.key for line in card.lines if line.key.startswith(about_names)]


@pytest.mark.parametrize(
    ("responsible", "warnings"),
    [
        ("nobody.x", ["review.warning.responsible_missing", "review.warning.mailbox_taken"]),
        ("kanda.p", ["review.warning.responsible_not_staff", "review.warning.mailbox_taken"]),
        ("malee.s", ["review.warning.responsible_locked", "review.warning.mailbox_taken"]),
    ],
)
async def test_names_kept_while_the_directory_was_down_are_checked_again_on_the_card(
    chat: Chat,
    services: Services,
    directory: MemoryDirectory,
    responsible: str,
    warnings: list[str],
) -> None:
    directory.available = False
    form = [send(responsible, turn.then) if turn.value == "somchai.j" else turn for turn in AGENCY]
    await play(chat, form)  # bangrak.registration, already taken, passes while down
    await chat.tap("ถูกต้อง ส่งคำขอ")
    assert chat.reply_keys == ["apply.submitted"]
    directory.available = True
    await directory.lock("malee.s", "test")

    shown = await name_warnings(dataclasses.replace(services, directory=directory))

    assert shown == warnings


async def test_a_card_with_good_names_has_no_directory_warning(
    chat: Chat, services: Services, directory: MemoryDirectory
) -> None:
    await play(chat, AGENCY_FORM)
    await chat.tap("ถูกต้อง ส่งคำขอ")

    assert await name_warnings(dataclasses.replace(services, directory=directory)) == []
