"""A running bmabot app wired to the Telegram emulator, and Telegram users who chat with it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.handlers.dispatcher import Dispatcher
from core.clock import ManualClock
from core.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.emulators.telegram import FloodRules, TelegramEmulator
from webhooks.app import create_app
from webhooks.appkeys import DISPATCHER, WORKER
from webhooks.telegram.channel import TelegramChannel
from webhooks.telegram.limits import PATIENCE, FloodLimits, Throttle
from webhooks.telegram.polling import poll

TOKEN = "7000000001:test-telegram-bot-token"
WEBHOOK_SECRET = "test-telegram-webhook-secret-1WG-r20i3cPJy699S3Mi"
# Flood windows a hundred times shorter: a second becomes 10 ms, for the bot and the emulator
# alike, so that the limits are kept and checked without slowing the tests down.
TIME_SCALE = 0.01
Json = dict[str, Any]


@contextlib.contextmanager
def ptb_timedelta() -> Iterator[None]:
    """PTB warns on RetryAfter unless opted in to timedeltas, and the suite fails on warnings."""
    before = os.environ.get("PTB_TIMEDELTA")
    os.environ["PTB_TIMEDELTA"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PTB_TIMEDELTA", None)
        else:
            os.environ["PTB_TIMEDELTA"] = before


@dataclass
class TelegramWorld:
    emulator: TelegramEmulator
    app: web.Application
    clock: ManualClock
    url: str  # where the bot listens
    polling: bool

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app[DISPATCHER]

    @property
    def channel(self) -> TelegramChannel:
        channel = self.dispatcher.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        return channel

    def user(self, user_id: int) -> TelegramUser:
        return TelegramUser(self, user_id)

    async def arrived(self, sent: tuple[int | None, Json]) -> None:
        """The update is in the bot's inbox: taken by the webhook, or fetched by the poller."""
        status, update = sent
        if self.polling:
            await asyncio.wait_for(self.emulator.until_confirmed(update["update_id"]), 10)
        else:
            assert status == 200, status

    async def settle(self) -> None:
        """Everything stored is handled, due jobs run, replies delivered, callbacks answered."""
        while True:
            await self.dispatcher.drain()
            await self.channel.settle()
            if not await self.app[WORKER].drain():
                break
        await self.dispatcher.drain()


@dataclass
class TelegramUser:
    world: TelegramWorld
    user_id: int
    seen: int = 0
    replies: list[Json] = field(default_factory=list)

    async def say(self, text: str) -> list[Json]:
        return await self._after(self.world.emulator.send_text(self.user_id, text))

    async def tap(self, label: str) -> list[Json]:
        message, data = self.button(label)
        return await self._after(self.world.emulator.tap(message, data))

    async def photo(self, content: bytes, *, as_document: bool = False) -> list[Json]:
        sent = self.world.emulator.send_photo(self.user_id, content, as_document=as_document)
        return await self._after(sent)

    def button(self, label: str) -> tuple[Json, str]:
        """The newest message with a button of this label, and that button's data."""
        for message in reversed(self.world.emulator.messages(self.user_id)):
            for text, data in self.world.emulator.buttons(message):
                if text == label:
                    return message, data
        shown = [
            t
            for m in self.world.emulator.messages(self.user_id)
            for t, _ in self.world.emulator.buttons(m)
        ]
        raise AssertionError(f"no button {label!r} in {shown}")

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.replies]

    @property
    def last_text(self) -> str:
        return self.texts[-1]

    async def answers(self) -> list[Json]:
        """What the bot said since the last look, once everything pending is handled."""
        await self.world.settle()
        shown = self.world.emulator.messages(self.user_id)
        self.replies, self.seen = shown[self.seen :], len(shown)
        return self.replies

    async def _after(self, sending: Any) -> list[Json]:
        await self.world.arrived(await sending)
        return await self.answers()


@asynccontextmanager
async def telegram_world(
    database_url: str,
    data_dir: Path,
    clock: ManualClock,
    *,
    polling: bool = False,
    dispatch: bool = False,
    **settings_overrides: Any,
) -> AsyncIterator[TelegramWorld]:
    """The emulator and the bot, each on its own loopback port; limits checked at the end."""
    with ptb_timedelta():
        emulator = TelegramEmulator(token=TOKEN, flood=FloodRules().scaled(TIME_SCALE))
        async with TestServer(emulator.app, host="127.0.0.1") as emulator_server:
            api_url = str(emulator_server.make_url("")).rstrip("/")
            settings = _settings(
                database_url, data_dir, api_url, polling=polling, **settings_overrides
            )
            app = create_app(
                settings, clock=clock, dispatch=dispatch, work=dispatch, telegram_polling=polling
            )
            async with TestServer(app, host="127.0.0.1") as bot_server:
                world = TelegramWorld(emulator, app, clock, str(bot_server.make_url("")), polling)
                limits, patience = FloodLimits().scaled(TIME_SCALE), PATIENCE * TIME_SCALE
                world.channel.throttle = Throttle(limits, patience=patience)
                try:
                    async with _feeding(world, str(bot_server.make_url("/webhooks/telegram"))):
                        yield world
                finally:
                    emulator.close()  # a long poll in progress ends now, not at its timeout
        emulator.assert_no_violations()


@asynccontextmanager
async def _feeding(world: TelegramWorld, webhook_url: str) -> AsyncIterator[None]:
    """Updates reach the bot by its webhook, or by a poller running beside the test."""
    if not world.polling:
        world.emulator.webhook_url, world.emulator.webhook_secret = webhook_url, WEBHOOK_SECRET
        yield
        return
    poller = asyncio.create_task(poll(world.app, hold=1))
    try:
        yield
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller


def _settings(
    database_url: str, data_dir: Path, api_url: str, *, polling: bool, **overrides: Any
) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET_KEY,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=None if polling else WEBHOOK_SECRET,
        telegram_api_url=api_url,
        **overrides,
    )
