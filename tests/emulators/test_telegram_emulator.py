"""The Telegram emulator answers python-telegram-bot the way the Bot API does, limits included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.emulators.telegram import (
    SECRET_HEADER,
    FloodRules,
    TelegramEmulator,
    parse_html,
    utf16_length,
)
from tests.handlers.chat import sample_photo
from tests.webhooks.telegram_world import ptb_timedelta

TOKEN = "7000000001:test-emulator-token"
USER = 5551234
GROUP = -1009876543210


@pytest.fixture
def telegram() -> TelegramEmulator:
    return TelegramEmulator(token=TOKEN)


@pytest.fixture
async def api_url(telegram: TelegramEmulator) -> AsyncIterator[str]:
    with ptb_timedelta():
        async with TestServer(telegram.app, host="127.0.0.1") as server:
            yield str(server.make_url("")).rstrip("/")
            telegram.close()


@pytest.fixture
async def bot(api_url: str) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{api_url}/bot", base_file_url=f"{api_url}/file/bot") as bot:
        yield bot


def one_button(data: str, label: str = "ตกลง") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


async def started_chat(telegram: TelegramEmulator, user: int = USER) -> Update:
    """A person wrote to the bot first (a bot cannot open a private chat)."""
    _, update = await telegram.send_text(user, "/start")
    return Update.de_json(update, None)


# --- the bot's side -----------------------------------------------------------------------


async def test_get_me_answers_as_the_bot(bot: Bot) -> None:
    assert (bot.username, bot.bot.is_bot) == ("bmabot_test_bot", True)


async def test_a_wrong_token_is_refused(api_url: str) -> None:
    wrong = Bot("1:wrong", base_url=f"{api_url}/bot", base_file_url=f"{api_url}/file/bot")
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()


async def test_html_text_becomes_visible_text_and_entities(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    await started_chat(telegram)
    sent = await bot.send_message(USER, "<b>สรุป</b>\nเลข &lt;1&gt;", parse_mode="HTML")
    assert sent.text == "สรุป\nเลข <1>"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4)]
    assert telegram.source(telegram.messages(USER)[-1]) == ("<b>สรุป</b>\nเลข &lt;1&gt;", "HTML")


@pytest.mark.parametrize("text", ["a < b", "<b>bold", "x & y", "<script>x</script>", "a > b"])
async def test_unescaped_html_is_refused_and_recorded(
    bot: Bot, telegram: TelegramEmulator, text: str
) -> None:
    await started_chat(telegram)
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(USER, text, parse_mode="HTML")
    assert len(telegram.violations) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "text is empty"), ("   ", "text is empty"), ("ก" * 4097, "too long")],
)
async def test_text_must_be_1_to_4096_characters(
    bot: Bot, telegram: TelegramEmulator, text: str, problem: str
) -> None:
    await started_chat(telegram)
    with pytest.raises(BadRequest, match=problem):
        await bot.send_message(USER, text)
    assert telegram.violations


async def test_text_is_counted_in_utf16_units(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    await bot.send_message(USER, "ก" * 4096)
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "🙏" * 2049)  # 2049 characters, 4098 units
    assert utf16_length("🙏") == 2


async def test_callback_data_over_64_bytes_is_refused(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    await started_chat(telegram)
    await bot.send_message(USER, "ok", reply_markup=one_button("x" * 64))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "thai", reply_markup=one_button("ก" * 22))  # 66 bytes
    assert len(telegram.violations) == 1


async def test_url_buttons_take_only_web_and_telegram_links(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    await started_chat(telegram)
    web_link = InlineKeyboardButton("เว็บ", url="https://www.bangkok.go.th/")
    await bot.send_message(USER, "ok", reply_markup=InlineKeyboardMarkup([[web_link]]))
    call = InlineKeyboardButton("โทร", url="tel:022032751")
    with pytest.raises(BadRequest, match=r"(?i)button_url_invalid"):
        await bot.send_message(USER, "call", reply_markup=InlineKeyboardMarkup([[call]]))
    assert len(telegram.violations) == 1


async def test_keyboard_sizes_are_checked(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    row = [InlineKeyboardButton(str(n), callback_data=str(n)) for n in range(9)]
    with pytest.raises(BadRequest, match="row"):
        await bot.send_message(USER, "wide", reply_markup=InlineKeyboardMarkup([row]))
    rows = [[InlineKeyboardButton(str(n), callback_data=str(n))] for n in range(101)]
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(USER, "tall", reply_markup=InlineKeyboardMarkup(rows))
    assert len(telegram.violations) == 2


async def test_a_chat_nobody_opened_is_not_found(bot: Bot, telegram: TelegramEmulator) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER, "hello")
    assert telegram.violations


async def test_an_edit_that_changes_nothing_is_refused(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    await started_chat(telegram)
    sent = await bot.send_message(USER, "คำขอ", reply_markup=one_button("a"))
    await bot.edit_message_text("คำขอ", USER, sent.message_id)  # the keyboard goes: a change
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("คำขอ", USER, sent.message_id)
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    assert len(telegram.violations) == 2
    assert telegram.buttons(telegram.messages(USER)[-1]) == []


async def test_a_keyboard_can_be_taken_off_a_message(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    sent = await bot.send_message(USER, "คำขอ", reply_markup=one_button("a"))
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    shown = telegram.messages(USER)[-1]
    assert (shown["text"], telegram.buttons(shown), "edit_date" in shown) == ("คำขอ", [], True)


async def test_photos_with_captions_albums_and_caption_edits(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    await started_chat(telegram)
    sent = await bot.send_photo(USER, sample_photo(), caption="บัตร", protect_content=True)
    assert sent.photo[-1].width == 900
    assert sent.has_protected_content
    await bot.edit_message_caption(USER, sent.message_id, caption="บัตรประชาชน")
    album = [InputMediaPhoto(sample_photo()), InputMediaPhoto(sample_photo(), caption="2")]
    sent_album = await bot.send_media_group(USER, album)
    assert len({m.media_group_id for m in sent_album}) == 1
    assert telegram.texts(USER) == ["บัตรประชาชน", "", "2"]


async def test_captions_and_albums_have_limits(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(USER, sample_photo(), caption="ก" * 1025)
    with pytest.raises(BadRequest, match="2 to 10"):
        await bot.send_media_group(USER, [InputMediaPhoto(sample_photo())])
    assert len(telegram.violations) == 2


async def test_files_are_fetched_and_downloaded(bot: Bot, telegram: TelegramEmulator) -> None:
    _, update = await telegram.send_photo(USER, sample_photo())
    largest = update["message"]["photo"][-1]
    assert [size["width"] for size in update["message"]["photo"]] == [90, 320, 900]
    file = await bot.get_file(largest["file_id"])
    assert bytes(await file.download_as_bytearray()) == sample_photo()
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file")


async def test_documents_stickers_and_voice_have_their_shapes(telegram: TelegramEmulator) -> None:
    _, document = await telegram.send_document(USER, b"%PDF-1.4", "memo.pdf")
    _, as_file = await telegram.send_photo(USER, sample_photo(), as_document=True)
    _, sticker = await telegram.send_sticker(USER)
    _, voice = await telegram.send_voice(USER)
    assert document["message"]["document"]["mime_type"] == "application/pdf"
    assert as_file["message"]["document"]["mime_type"] == "image/jpeg"
    assert Update.de_json(sticker, None).message.sticker is not None
    assert Update.de_json(voice, None).message.voice is not None


async def test_a_callback_query_is_answered_once(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    await bot.send_message(USER, "เลือก", reply_markup=one_button("pick:1"))
    _, update = await telegram.tap(telegram.messages(USER)[-1], "pick:1")
    query_id = update["callback_query"]["id"]
    assert telegram.unanswered() == [query_id]

    await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert telegram.unanswered() == []
    assert len(telegram.violations) == 1


async def test_chat_actions_and_deletes(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    await bot.send_chat_action(USER, "typing")
    sent = await bot.send_message(USER, "x")
    await bot.delete_message(USER, sent.message_id)
    assert telegram.actions == [(USER, "typing")]
    assert telegram.messages(USER) == []
    with pytest.raises(BadRequest):
        await bot.send_chat_action(USER, "dancing")


async def test_webhook_and_commands_are_recorded(bot: Bot, telegram: TelegramEmulator) -> None:
    url = "https://bmabot.example.go.th/webhooks/telegram"
    await bot.set_webhook(url, secret_token="s3cret_-", allowed_updates=["message"])
    await bot.set_my_commands([BotCommand("apply", "ขอบัญชีค่ะ")])
    assert (telegram.webhook_url, telegram.webhook_secret) == (url, "s3cret_-")
    assert telegram.allowed_updates == ["message"]
    assert telegram.commands[("default", "")] == [{"command": "apply", "description": "ขอบัญชีค่ะ"}]
    await bot.delete_webhook()
    assert telegram.webhook_url is None


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("http://bmabot.example.go.th/webhooks/telegram", None),
        ("https://bmabot.example.go.th:8080/webhooks/telegram", None),
        ("https://bmabot.example.go.th/webhooks/telegram", "no spaces"),
    ],
)
async def test_a_webhook_telegram_would_refuse(
    bot: Bot, telegram: TelegramEmulator, url: str, secret: str | None
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
        await bot.set_webhook(url, secret_token=secret)
    assert telegram.violations


async def test_a_bad_command_name_is_refused(bot: Bot, telegram: TelegramEmulator) -> None:
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Apply-Now", "x")])


# --- getUpdates ---------------------------------------------------------------------------


async def test_queued_updates_come_at_once_and_are_confirmed_by_offset(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    _, first = await telegram.send_text(USER, "สวัสดี")
    _, second = await telegram.send_text(USER, "/status")
    updates = await bot.get_updates(timeout=30)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert updates[1].message.entities[0].type == "bot_command"
    assert await bot.get_updates(offset=second["update_id"] + 1) == ()
    await asyncio.wait_for(telegram.until_confirmed(second["update_id"]), 1)


async def test_a_long_poll_waits_for_the_next_update(bot: Bot, telegram: TelegramEmulator) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    assert not polling.done()
    _, update = await telegram.send_text(USER, "สวัสดี")
    updates = await asyncio.wait_for(polling, 2)
    assert [u.update_id for u in updates] == [update["update_id"]]


async def test_a_long_poll_ends_at_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3


async def test_get_updates_conflicts_with_a_webhook(bot: Bot, telegram: TelegramEmulator) -> None:
    telegram.webhook_url = "https://bmabot.example.go.th/webhooks/telegram"
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert telegram.violations == []


# --- faults -------------------------------------------------------------------------------


async def test_scripted_faults_become_ptb_errors(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    telegram.fail_next("sendMessage", status=429, retry_after=7)
    telegram.fail_next("sendMessage", status=500)
    telegram.fail_next("sendMessage", status=403)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(USER, "1")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "2")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(USER, "3")
    await bot.send_message(USER, "4")
    assert flood.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    assert telegram.texts(USER) == ["4"]


async def test_a_fault_can_wait_for_calls_to_go_through(
    bot: Bot, telegram: TelegramEmulator
) -> None:
    await started_chat(telegram)
    telegram.fail_next("sendMessage", status=500, after=1)
    await bot.send_message(USER, "1")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "2")


async def test_a_blocked_person_cannot_be_sent_to(bot: Bot, telegram: TelegramEmulator) -> None:
    await started_chat(telegram)
    _, update = await telegram.block(USER)
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "hello")
    assert telegram.violations == []


async def test_flood_limits_answer_429_and_are_recorded(api_url: str) -> None:
    telegram = TelegramEmulator(token=TOKEN, flood=FloodRules())
    async with (
        TestServer(telegram.app, host="127.0.0.1") as server,
        Bot(TOKEN, base_url=str(server.make_url("/bot"))) as bot,
    ):
        await started_chat(telegram)
        await bot.send_message(USER, "1")
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "2")  # the same chat within a second
    assert len(telegram.violations) == 1


# --- the user's side: webhooks ------------------------------------------------------------


@pytest.fixture
async def receiver(telegram: TelegramEmulator) -> AsyncIterator[list[tuple[Any, Any]]]:
    """A stand-in bot webhook that keeps what it was sent."""
    got: list[tuple[Any, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        got.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/webhooks/telegram", webhook)
    async with TestServer(app, host="127.0.0.1") as server:
        telegram.webhook_url = str(server.make_url("/webhooks/telegram"))
        telegram.webhook_secret = "hook-secret"
        yield got


async def test_user_actions_are_posted_with_the_secret(
    telegram: TelegramEmulator, receiver: list[tuple[Any, Any]]
) -> None:
    status, update = await telegram.send_text(USER, "/start apply")
    assert status == 200
    assert receiver == [("hook-secret", update)]
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_edits_posts_and_group_messages_have_real_shapes(
    telegram: TelegramEmulator, receiver: list[tuple[Any, Any]]
) -> None:
    telegram.add_group(GROUP)
    _, said = await telegram.send_text(USER, "สวัสดี", chat_id=GROUP)
    await telegram.edited_message(said["message"], "สวัสดีค่ะ")
    await telegram.channel_post(-1001111111111, "ประกาศ")
    kinds = [next(k for k in update if k != "update_id") for _, update in receiver]
    assert kinds == ["message", "edited_message", "channel_post"]
    parsed = [Update.de_json(update, None) for _, update in receiver]
    assert parsed[0].effective_chat.type == "supergroup"
    assert parsed[1].edited_message.text == "สวัสดีค่ะ"
    assert parsed[2].channel_post.sender_chat.type == "channel"


def test_parse_html_reports_nested_entities_in_utf16_offsets() -> None:
    text, entities = parse_html("🙏 <b>ขอ <i>บัญชี</i></b>")
    assert text == "🙏 ขอ บัญชี"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 8},
        {"type": "italic", "offset": 6, "length": 5},
    ]
