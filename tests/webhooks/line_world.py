"""A running bmabot app wired to the LINE emulator, and LINE users who chat with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.handlers.dispatcher import Dispatcher
from core.clock import ManualClock
from core.directory.port import MemoryDirectory
from core.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.emulators.line import LineEmulator
from webhooks.app import create_app
from webhooks.appkeys import DISPATCHER, SERVICES, WORKER

CHANNEL_SECRET = "9c9364b93bcee3886c6215bac64b9161"  # the shape LINE gives: 32 hex characters
ACCESS_TOKEN = "test-line-access-token"


@dataclass
class LineWorld:
    emulator: LineEmulator
    app: web.Application
    clock: ManualClock
    url: str  # where the bot listens

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app[DISPATCHER]

    async def settle(self) -> None:
        """Handle every event and run every due job until nothing is left to do now."""
        while True:
            await self.dispatcher.drain()
            if not await self.app[WORKER].drain():
                break
        await self.dispatcher.drain()

    def user(self, user_id: str) -> LineUser:
        return LineUser(self, user_id)

    @property
    def directory(self) -> MemoryDirectory:
        """The bot's directory (the in-memory one, as no BMABOT_DIRECTORY is set)."""
        found = self.app[SERVICES].directory
        assert isinstance(found, MemoryDirectory)
        return found


@dataclass
class LineUser:
    world: LineWorld
    user_id: str
    seen: int = 0
    replies: list[dict[str, Any]] = field(default_factory=list)

    async def say(self, text: str) -> list[dict[str, Any]]:
        status, _ = await self.world.emulator.send_text(self.user_id, text)
        assert status == 200
        return await self.answers()

    async def tap(self, label: str) -> list[dict[str, Any]]:
        status, _ = await self.world.emulator.postback(self.user_id, self.button(label))
        assert status == 200
        return await self.answers()

    async def photo(self, content: bytes) -> list[dict[str, Any]]:
        status, _ = await self.world.emulator.send_image(self.user_id, content)
        assert status == 200
        return await self.answers()

    def button(self, label: str) -> str:
        """The postback data of the button with this label (its full text is the display text)."""
        for action in self.actions():
            if label in (action.get("label"), action.get("displayText")):
                return str(action["data"])
        raise AssertionError(f"no button {label!r} in {[a.get('label') for a in self.actions()]}")

    def actions(self) -> list[dict[str, Any]]:
        for message in reversed(self.replies):
            items = (message.get("quickReply") or {}).get("items") or []
            if items:
                return [item["action"] for item in items]
        return []

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or m.get("altText") or "" for m in self.replies]

    @property
    def last_text(self) -> str:
        return self.texts[-1]

    async def answers(self) -> list[dict[str, Any]]:
        await self.world.settle()
        received = self.world.emulator.received(self.user_id)
        self.replies = [entry["message"] for entry in received[self.seen :]]
        self.seen = len(received)
        return self.replies


@asynccontextmanager
async def line_world(
    database_url: str,
    data_dir: Path,
    clock: ManualClock,
    *,
    dispatch: bool = False,
    **settings_overrides: Any,
) -> AsyncIterator[LineWorld]:
    """The emulator and the bot, each on its own loopback port; LINE limits checked at the end."""
    emulator = LineEmulator(
        channel_secret=CHANNEL_SECRET,
        access_token=ACCESS_TOKEN,
        clock=lambda: clock.now().timestamp(),
    )
    emulator_server = TestServer(emulator.app, host="127.0.0.1")
    await emulator_server.start_server()
    try:
        api_url = str(emulator_server.make_url("")).rstrip("/")
        settings = Settings(
            database_url=database_url,
            data_dir=data_dir,
            secret_key=TEST_SECRET_KEY,
            line_channel_secret=CHANNEL_SECRET,
            line_channel_access_token=ACCESS_TOKEN,
            line_api_url=api_url,
            line_data_api_url=api_url,
            public_url="https://bmabot.test",
            **settings_overrides,
        )
        app = create_app(settings, clock=clock, dispatch=dispatch, work=dispatch)
        bot_server = TestServer(app, host="127.0.0.1")
        try:
            await bot_server.start_server()
            emulator.webhook_url = str(bot_server.make_url("/webhooks/line"))
            yield LineWorld(emulator, app, clock, str(bot_server.make_url("")))
        finally:
            await bot_server.close()
    finally:
        await emulator_server.close()
    emulator.assert_no_violations()
