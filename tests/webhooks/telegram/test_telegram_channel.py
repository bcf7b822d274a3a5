"""bmabot on Telegram, end to end: webhook or polled updates in, PTB out to the emulator."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.flows.incoming import Kind
from bot.handlers.channels import DeliveryError
from bot.handlers.rendering import Button, Rendered, to_json
from core.clock import ManualClock
from core.delivery.outbox import Outgoing
from core.settings import Settings, SettingsError, load_settings
from core.storage.db import make_sessions
from core.storage.models import Application, AuditEvent, Document, InboxEvent
from tests.conftest import TEST_SECRET_KEY
from tests.emulators.telegram import TelegramEmulator
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import STAFF_FORM
from tests.webhooks.telegram_world import (
    TOKEN,
    WEBHOOK_SECRET,
    TelegramUser,
    TelegramWorld,
    ptb_timedelta,
    telegram_world,
)
from webhooks.app import create_app
from webhooks.cli import main
from webhooks.telegram.limits import FloodLimits, FloodWaitError, Rate, Throttle
from webhooks.telegram.messages import (
    TelegramLimitError,
    cut,
    keyboard,
    to_telegram_messages,
    utf16_length,
)
from webhooks.telegram.setup import set_webhook_command, telegram_configured

GROUP = -1001234567890
APPLY_AS_STAFF = [("say", "/start"), ("tap", "ขอบัญชีผู้ใช้ กทม."), *STAFF_FORM]


@pytest.fixture
async def world(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(database_url, tmp_path / "data", clock) as running:
        yield running


@pytest.fixture
def sessions_of(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


async def fill_in_the_form(user: TelegramUser) -> None:
    for action, value in APPLY_AS_STAFF:
        await (user.say(value) if action == "say" else user.tap(value))


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def submit_and_check(
    user: TelegramUser, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> None:
    await fill_in_the_form(user)
    summary = (await user.photo(photo))[-1]
    assert summary["entities"][0] == {
        "type": "bold",
        "offset": 0,
        "length": summary["entities"][0]["length"],
    }
    await user.tap("ถูกต้อง ส่งคำขอ")
    assert "A69-00001" in user.last_text
    async with sessions() as session:
        application = (await session.scalars(select(Application))).one()
    assert (application.kind, application.form["mobile"]) == ("staff", "+66812345678")
    assert await count(sessions, Document) == 1


async def test_a_full_staff_application_over_telegram(
    world: TelegramWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    await submit_and_check(world.user(5550001), sessions_of, sample_photo())
    assert world.emulator.unanswered() == []


async def test_after_submitting_the_menu_is_a_tap_away_and_a_stale_send_says_it_is_filed(
    world: TelegramWorld,
) -> None:
    user = world.user(5550009)
    await fill_in_the_form(user)
    await user.photo(sample_photo())
    summary, send = user.button("ถูกต้อง ส่งคำขอ")
    await user.tap("ถูกต้อง ส่งคำขอ")
    assert [label for label, _ in world.emulator.buttons(user.replies[-1])] == [
        "สถานะคำขอ",
        "เมนูหลัก",
    ]

    await user._after(world.emulator.tap(summary, send))  # the summary's old button

    assert "ไม่ต้องกดซ้ำ" in user.texts[0]
    assert "A69-00001 — รอตรวจสอบ" in user.last_text
    assert [label for label, _ in world.emulator.buttons(user.replies[-1])] == ["เมนูหลัก"]
    await user.tap("เมนูหลัก")
    assert "ยินดีต้อนรับ" in user.last_text
    assert world.emulator.unanswered() == []


async def test_the_same_application_by_long_polling(
    database_url: str,
    engine: AsyncEngine,
    tmp_path: Path,
    clock: ManualClock,
    sessions_of: async_sessionmaker[AsyncSession],
) -> None:
    async with telegram_world(database_url, tmp_path / "data", clock, polling=True) as world:
        await submit_and_check(world.user(5550002), sessions_of, sample_photo())
        assert world.emulator.webhook_url is None


async def test_an_id_photo_sent_as_a_file_is_taken_like_a_photo(
    world: TelegramWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    user = world.user(5550003)
    await fill_in_the_form(user)
    await user.photo(sample_photo(), as_document=True)
    assert await count(sessions_of, Document) == 1


async def test_the_largest_photo_size_is_the_one_fetched(world: TelegramWorld) -> None:
    user = world.user(5550004)
    await fill_in_the_form(user)
    status, update = await world.emulator.send_photo(user.user_id, sample_photo())
    await world.arrived((status, update))
    await user.answers()
    fetched = [params["file_id"] for method, params in world.emulator.calls if method == "getFile"]
    assert fetched == [update["message"]["photo"][-1]["file_id"]]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/start", "ยินดีต้อนรับ"),
        ("/start apply", "การคุ้มครองข้อมูลส่วนบุคคล"),
        ("/apply", "การคุ้มครองข้อมูลส่วนบุคคล"),
        ("/help", "ช่องทางติดต่อเจ้าหน้าที่"),
        ("/status", "ยังไม่พบคำขอ"),
        ("/status@bmabot_test_bot", "ยังไม่พบคำขอ"),
        ("/start somewhere", "ยินดีต้อนรับ"),
    ],
)
async def test_commands_are_understood(world: TelegramWorld, command: str, expected: str) -> None:
    user = world.user(5550005)
    await user.say(command)
    assert any(expected in text for text in user.texts), user.texts


async def test_cancel_as_a_command_in_the_middle_of_the_form(world: TelegramWorld) -> None:
    user = world.user(5550006)
    await user.say("/apply")
    await user.say("/cancel")
    assert "ต้องการยกเลิกคำขอนี้ใช่ไหมคะ" in user.last_text


async def test_a_command_for_another_bot_is_left_alone(world: TelegramWorld) -> None:
    user = world.user(5550007)
    assert await user.say("/start@some_other_bot") == []


@pytest.mark.parametrize(
    ("secret", "body", "status"),
    [
        ("wrong-secret", None, 401),
        (None, None, 401),
        ("", None, 401),
        ("auto", b"{not json", 400),
        ("auto", b"[]", 400),
        ("auto", b'{"message": {"text": "x"}}', 400),
        ("auto", b'{"update_id": "7", "message": {}}', 400),
        ("auto", b"\xff\xfe", 400),
    ],
)
async def test_bad_requests_get_4xx_and_store_nothing(
    world: TelegramWorld,
    sessions_of: async_sessionmaker[AsyncSession],
    secret: str | None,
    body: bytes | None,
    status: int,
) -> None:
    update = world.emulator.make_text_update(5550008, "สมัคร")
    assert await world.emulator.post_update(update, secret=secret, raw=body) == status
    assert await count(sessions_of, InboxEvent) == 0


async def test_a_duplicate_update_id_is_answered_once(
    world: TelegramWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    user = world.user(5550009)
    update = world.emulator.make_text_update(user.user_id, "สมัคร")
    assert await world.emulator.post_update(update) == 200
    assert await world.emulator.post_update(update) == 200
    await user.answers()
    assert len(user.replies) == 2  # terms and the PDPA notice, once
    assert await count(sessions_of, InboxEvent) == 1


async def test_edits_and_channel_posts_are_taken_and_not_answered(
    world: TelegramWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    user = world.user(5550010)
    status, update = await world.emulator.send_text(user.user_id, "สวัสดี")
    await user.answers()
    edited, _ = await world.emulator.edited_message(update["message"], "สมัคร")
    posted, _ = await world.emulator.channel_post(-1009999999999, "ประกาศ")
    assert (status, edited, posted) == (200, 200, 200)
    assert await user.answers() == []
    async with sessions_of() as session:
        statuses = list(await session.scalars(select(InboxEvent.status)))
    assert statuses == ["done", "done", "done"]


async def test_a_sticker_or_a_voice_message_gets_a_thai_answer(world: TelegramWorld) -> None:
    user = world.user(5550011)
    await world.arrived(await world.emulator.send_sticker(user.user_id))
    await user.answers()
    assert "ยังไม่เข้าใจ" in user.last_text
    await world.arrived(await world.emulator.send_voice(user.user_id))
    await user.answers()
    assert "ยังไม่เข้าใจ" in user.last_text


async def test_a_pdf_or_a_sticker_where_a_photo_is_asked_gets_a_thai_answer(
    world: TelegramWorld,
) -> None:
    user = world.user(5550012)
    await fill_in_the_form(user)
    await world.arrived(
        await world.emulator.send_document(user.user_id, b"%PDF-1.4 card", "card.pdf")
    )
    await user.answers()
    assert "รูปถ่าย" in user.last_text
    await world.arrived(await world.emulator.send_sticker(user.user_id))
    await user.answers()
    assert "รูปภาพ" in user.last_text


async def test_a_tap_in_a_group_has_its_callback_answered(world: TelegramWorld) -> None:
    world.emulator.add_group(GROUP)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("อนุมัติ", callback_data="rv:a:1")]])
    await world.channel.bot.send_message(GROUP, "คำขอ A69-00001", reply_markup=keyboard)
    card = world.emulator.messages(GROUP)[-1]

    sent = await world.emulator.tap(card, "rv:a:1", user_id=5550013)
    await world.arrived(sent)
    await world.settle()

    incoming = world.channel.to_incoming(sent[1])
    assert incoming is not None
    assert (incoming.kind, incoming.data, incoming.in_group) == (Kind.BUTTON, "rv:a:1", True)
    assert (incoming.user_id, incoming.chat_id) == ("5550013", str(GROUP))
    assert world.emulator.unanswered() == []


async def test_group_messages_and_taps_arrive_as_neutral_events(world: TelegramWorld) -> None:
    world.emulator.add_group(GROUP)
    _, said = await world.emulator.send_text(5550014, "/status@bmabot_test_bot", chat_id=GROUP)
    incoming = world.channel.to_incoming(said)
    assert incoming is not None
    assert (incoming.kind, incoming.text, incoming.in_group) == (Kind.TEXT, "/status", True)
    assert (incoming.user_id, incoming.chat_id) == ("5550014", str(GROUP))
    _, added = await world.emulator.add_bot_to_group(GROUP, by=5550014)
    joined = world.channel.to_incoming(added)
    assert joined is not None
    assert (joined.kind, joined.chat_id, joined.in_group) == (Kind.JOIN, str(GROUP), True)


async def test_blocking_the_bot_is_recorded_and_not_answered(
    world: TelegramWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    user = world.user(5550015)
    await user.say("สวัสดี")
    await world.arrived(await world.emulator.block(user.user_id))
    assert await user.answers() == []
    async with sessions_of() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert actions == ["conversation.unfollowed"]


async def test_retry_after_is_obeyed_and_the_reply_delivered_once(world: TelegramWorld) -> None:
    user = world.user(5550016)
    world.emulator.fail_next("sendMessage", status=429, retry_after=30)
    assert await user.say("สวัสดี") == []

    world.clock.advance(seconds=10)
    assert await user.answers() == []  # not before Telegram said

    world.clock.advance(seconds=25)
    replies = await user.answers()
    assert len(replies) == 1
    assert "ยินดีต้อนรับ" in replies[0]["text"]


async def test_a_batch_cut_short_by_429_goes_on_without_repeating(world: TelegramWorld) -> None:
    user = world.user(5550017)
    world.emulator.fail_next("sendMessage", status=429, retry_after=3, after=1)
    assert len(await user.say("สมัคร")) == 1  # the terms; the PDPA notice hit the flood limit

    world.clock.advance(seconds=5)
    await user.answers()

    texts = world.emulator.texts(user.user_id)
    assert len(texts) == 2
    assert len(set(texts)) == 2


async def test_network_trouble_is_retried(world: TelegramWorld) -> None:
    user = world.user(5550018)
    world.emulator.fail_next("sendMessage", status=502)
    assert await user.say("สวัสดี") == []
    world.clock.advance(minutes=5)
    assert len(await user.answers()) == 1


async def test_a_user_who_blocked_the_bot_is_not_retried(
    world: TelegramWorld, caplog: pytest.LogCaptureFixture
) -> None:
    user = world.user(5550019)
    world.emulator.fail_next("sendMessage", status=403)
    await user.say("สวัสดี")
    world.clock.advance(hours=1)
    await user.answers()
    assert world.emulator.messages(user.user_id) == []
    assert "blocked" in caplog.text
    assert [m for m, _ in world.emulator.calls].count("sendMessage") == 1


async def test_a_slow_turn_shows_typing(world: TelegramWorld) -> None:
    world.dispatcher.loading_after = 0  # a production delay of a second, here none
    user = world.user(5550020)
    await fill_in_the_form(user)
    world.emulator.actions.clear()
    await user.photo(sample_photo())
    assert (user.user_id, "typing") in world.emulator.actions


async def test_the_token_and_file_links_never_reach_the_logs(
    world: TelegramWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = world.user(5550021)
    await fill_in_the_form(user)
    world.emulator.fail_next("getFile", status=500)
    await user.photo(sample_photo())
    await user.photo(sample_photo())
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text


async def test_fifty_people_at_once_stay_within_the_flood_limits(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with telegram_world(database_url, tmp_path / "data", clock, dispatch=True) as world:
        people = [5560000 + n for n in range(50)]
        await asyncio.gather(*(world.emulator.send_text(p, "สมัคร") for p in people))
        await asyncio.wait_for(
            world.emulator.wait_until(
                lambda: all(len(world.emulator.messages(p)) == 2 for p in people)
            ),
            30,
        )
    # telegram_world has checked, on the way out, that no flood limit was broken


async def test_health_and_metrics_count_telegram_events(world: TelegramWorld) -> None:
    await world.user(5550022).say("สวัสดี")
    async with aiohttp.ClientSession(world.url) as client, client.get("/metrics") as metrics:
        text = await metrics.text()
    assert 'bmabot_inbox_events_total{channel="telegram"} 1' in text
    assert 'bmabot_webhook_requests_total{channel="telegram",outcome="accepted"} 1' in text


async def test_the_update_stored_is_the_update_received(
    world: TelegramWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    update = world.emulator.make_text_update(5550023, "สวัสดี")
    body = json.dumps(update, ensure_ascii=False).encode()
    assert await world.emulator.post_update(update, raw=body) == 200
    async with sessions_of() as session:
        keys = list(await session.scalars(select(InboxEvent.key)))
    assert keys == [f"telegram:{update['update_id']}"]


# --- rendering, limits and settings, without a network --------------------------------------


def test_text_is_escaped_for_html() -> None:
    [message] = to_telegram_messages([Rendered("k", "a < b & c > d")])
    assert message.html == "a &lt; b &amp; c &gt; d"


def test_a_card_has_its_title_in_bold_above_the_lines() -> None:
    card = Rendered("k", "ชื่อ: สมชาย\nหน่วยงาน: <เขต>", (Button("ส่ง", "ok"),), "สรุป <คำขอ>")
    [message] = to_telegram_messages([card])
    assert message.html == "<b>สรุป &lt;คำขอ&gt;</b>\nชื่อ: สมชาย\nหน่วยงาน: &lt;เขต&gt;"
    assert message.keyboard is not None


def test_a_long_text_is_split_at_lines_with_the_buttons_under_the_last_piece() -> None:
    text = "\n".join(f"บรรทัด {n} " + "ก" * 90 for n in range(100))
    messages = to_telegram_messages([Rendered("k", text, (Button("ตกลง", "ok"),))])
    assert len(messages) == 3
    assert all(utf16_length(m.html) <= 4096 for m in messages)
    assert [m.keyboard is not None for m in messages] == [False, False, True]
    assert "\n".join(m.html for m in messages) == text


def test_short_labels_go_two_to_a_row_long_ones_one() -> None:
    short = keyboard([Button(label, label) for label in ("นาย", "นาง", "นางสาว")])
    long = keyboard([Button("บุคลากรประจำ กทม.", "a"), Button("นาย", "b")])
    assert short is not None
    assert long is not None
    assert [len(row) for row in short.inline_keyboard] == [2, 1]
    assert [len(row) for row in long.inline_keyboard] == [1, 1]


def test_callback_data_over_64_bytes_is_a_bug_not_a_cut() -> None:
    with pytest.raises(TelegramLimitError):
        keyboard([Button("ก", "ก" * 22)])


def test_call_buttons_are_left_out_telegram_takes_no_tel_links() -> None:
    call = Button("โทร ฝ่ายฐานข้อมูล", "tel:022032751")
    markup = keyboard([call, Button("ขอบัญชีผู้ใช้ กทม.", "menu:apply")])
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["menu:apply"]]
    assert keyboard([call]) is None


def test_a_cut_never_separates_a_thai_letter_from_its_marks() -> None:
    assert cut("ที่นี่", 4) == "ที่…"
    assert cut("ที่นี่", 3) == "ท…"


async def test_the_throttle_spaces_messages_to_one_chat() -> None:
    clock = FakeTime()
    throttle = Throttle(FloodLimits(), now=clock.now, sleep=clock.sleep)
    for _ in range(3):
        async with throttle.slot("555"):
            clock.sent.append(clock.time)
    assert clock.sent == [0.0, 1.0, 2.0]


async def test_the_throttle_keeps_twenty_a_minute_in_a_group() -> None:
    clock = FakeTime()
    limits = FloodLimits(per_chat=Rate(100, 1.0))
    throttle = Throttle(limits, patience=100, now=clock.now, sleep=clock.sleep)
    for _ in range(21):
        async with throttle.slot(str(GROUP)):
            clock.sent.append(clock.time)
    assert clock.sent[19] == 0.0
    assert clock.sent[20] == 60.0


async def test_the_throttle_hands_back_a_wait_longer_than_its_patience() -> None:
    clock = FakeTime()
    throttle = Throttle(FloodLimits(per_chat=Rate(100, 1.0)), now=clock.now, sleep=clock.sleep)
    for _ in range(20):
        async with throttle.slot(str(GROUP)):
            pass
    clock.time = 15.0
    with pytest.raises(FloodWaitError) as waiting:
        async with throttle.slot(str(GROUP)):
            pass
    assert waiting.value.seconds == 45.0


async def test_a_group_over_its_minute_quota_gets_the_rest_later_each_once(
    world: TelegramWorld,
) -> None:
    world.emulator.add_group(GROUP)
    batch = [to_json(Rendered("k", f"การ์ดที่ {n}")) for n in range(25)]
    outgoing = Outgoing(1, "telegram", str(GROUP), batch, None, None, "key", 0)

    with pytest.raises(DeliveryError) as held:
        await world.channel.send(outgoing, world.clock.now())
    assert held.value.retryable
    assert len(world.emulator.messages(GROUP)) == 20
    await asyncio.sleep(held.value.retry_after or 0)
    await world.channel.send(outgoing, world.clock.now())

    assert world.emulator.texts(GROUP) == [f"การ์ดที่ {n}" for n in range(25)]


async def test_the_throttle_keeps_thirty_a_second_overall() -> None:
    clock = FakeTime()
    throttle = Throttle(FloodLimits(), now=clock.now, sleep=clock.sleep)
    for chat in range(31):
        async with throttle.slot(str(chat + 1)):
            clock.sent.append(clock.time)
    assert (clock.sent[29], clock.sent[30]) == (0.0, 1.0)


class FakeTime:
    """A clock that moves only when the throttle sleeps."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sent: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.time += seconds


def test_a_telegram_token_needs_the_webhook_secret() -> None:
    settings = Settings(telegram_bot_token=TOKEN)  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="BMABOT_TELEGRAM_WEBHOOK_SECRET"):
        create_app(settings, secret_key="x" * 40)
    assert telegram_configured(settings, polling=True)


@pytest.mark.parametrize("secret", ["has space", "ก" * 8, "x" * 257])
def test_a_webhook_secret_telegram_would_refuse_fails_at_start(secret: str) -> None:
    with pytest.raises(SettingsError, match="BMABOT_TELEGRAM_WEBHOOK_SECRET"):
        load_settings(telegram_bot_token=TOKEN, telegram_webhook_secret=secret)


def test_a_secret_without_a_token_is_refused() -> None:
    settings = Settings(telegram_webhook_secret=WEBHOOK_SECRET)  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="BMABOT_TELEGRAM_BOT_TOKEN"):
        telegram_configured(settings)


def test_without_a_token_telegram_is_simply_not_served() -> None:
    app = create_app(Settings(), secret_key="x" * 40)  # type: ignore[call-arg]
    assert "/webhooks/telegram" not in {
        r.resource.canonical for r in app.router.routes() if r.resource
    }


async def test_set_webhook_registers_the_public_url_secret_and_thai_commands(
    tmp_path: Path,
) -> None:
    telegram = TelegramEmulator(token=TOKEN)
    with ptb_timedelta():
        async with TestServer(telegram.app, host="127.0.0.1") as server:
            settings = Settings(  # type: ignore[call-arg]
                telegram_bot_token=TOKEN,
                telegram_webhook_secret=WEBHOOK_SECRET,
                telegram_api_url=str(server.make_url("")).rstrip("/"),
                public_url="https://bmabot.example.go.th/",
            )
            assert await set_webhook_command(settings) == 0
    assert telegram.webhook_url == "https://bmabot.example.go.th/webhooks/telegram"
    assert telegram.webhook_secret == WEBHOOK_SECRET
    assert telegram.allowed_updates == ["message", "callback_query", "my_chat_member"]
    commands = telegram.commands[("default", "")]
    assert [c["command"] for c in commands] == [
        "start",
        "apply",
        "handover",
        "rights",
        "status",
        "help",
        "cancel",
    ]
    assert all(c["description"].endswith("ค่ะ") for c in commands)
    telegram.assert_no_violations()


def test_set_webhook_without_a_public_https_address_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BMABOT_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BMABOT_TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("BMABOT_PUBLIC_URL", "http://bmabot.example.go.th")
    assert main(["telegram", "set-webhook"]) == 2
    assert "BMABOT_PUBLIC_URL" in capsys.readouterr().err


def test_poll_without_a_token_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BMABOT_TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("BMABOT_SECRET_KEY", TEST_SECRET_KEY)
    assert main(["telegram", "poll"]) == 2
    assert "BMABOT_TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


@pytest.mark.skipif(
    bool(os.environ.get("BMABOT_TEST_DATABASE_URL")),
    reason="runs the command on its own SQLite file; the PostgreSQL run covers the same code",
)
async def test_bmabot_telegram_poll_answers_and_stops_cleanly(tmp_path: Path) -> None:
    telegram = TelegramEmulator(token=TOKEN)
    async with TestServer(telegram.app, host="127.0.0.1") as server:
        telegram.webhook_url = "https://bmabot.example.go.th/webhooks/telegram"
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "bmabot"),
            *("telegram", "poll"),
            env=_polling_env(tmp_path, str(server.make_url("")).rstrip("/")),
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            log = await _answer_and_stop(telegram, process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            telegram.close()
    assert telegram.webhook_url is None  # deleted before polling
    assert "ยินดีต้อนรับ" in telegram.texts(5550099)[0]
    assert TOKEN.split(":")[1].encode() not in log
    telegram.assert_no_violations()


def _polling_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")}
    return env | {
        "BMABOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bmabot.db'}",
        "BMABOT_DATA_DIR": str(tmp_path / "data"),
        "BMABOT_SECRET_KEY": TEST_SECRET_KEY,
        "BMABOT_REVIEWERS": "telegram:777",  # polling decides requests: a list, as serve
        "BMABOT_TELEGRAM_BOT_TOKEN": TOKEN,
        "BMABOT_TELEGRAM_API_URL": api_url,
    }


async def _answer_and_stop(
    telegram: TelegramEmulator, process: asyncio.subprocess.Process
) -> bytes:
    assert process.stderr is not None
    log = await _until_line(process.stderr, b"bmabot polling Telegram")
    await telegram.send_text(5550099, "สวัสดี")
    async with asyncio.timeout(60):
        await telegram.wait_until(lambda: bool(telegram.messages(5550099)))
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    return log + await process.stderr.read()


async def _until_line(stream: asyncio.StreamReader, wanted: bytes) -> bytes:
    seen = b""
    while wanted not in seen:
        line = await asyncio.wait_for(stream.readline(), timeout=60)
        assert line, f"the command ended early:\n{seen.decode()}"
        seen += line
    return seen
