"""The demo app in a test server, and people who use its web simulator through the HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from core.clock import ManualClock
from tests.conftest import TEST_SECRET_KEY
from webhooks.appkeys import DISPATCHER, WORKER
from webhooks.demo import create_demo_app, demo_settings
from webhooks.web.channel import WEB_REVIEW_CHAT


@dataclass
class WebWorld:
    client: TestClient[Any, Any]

    async def settle(self) -> None:
        """Handle every event and run every due job until nothing is left to do now."""
        app = self.client.app
        assert app is not None
        while True:
            await app[DISPATCHER].drain()
            if not await app[WORKER].drain():
                break
        await app[DISPATCHER].drain()

    def applicant(self, user: str) -> WebPerson:
        return WebPerson(self, user, user)

    def reviewer(self, user: str = "clerk") -> WebPerson:
        return WebPerson(self, user, WEB_REVIEW_CHAT)

    async def ledger(self) -> dict[str, Any]:
        response = await self.client.get("/web/ledger")
        return dict(await response.json())


@dataclass
class WebPerson:
    world: WebWorld
    user: str
    chat: str

    async def said(self) -> list[dict[str, Any]]:
        response = await self.world.client.get(f"/web/chats/{self.chat}/said")
        return list(await response.json())

    async def post(self, **body: Any) -> None:
        response = await self.world.client.post(
            f"/web/chats/{self.chat}/said", json={"user": self.user, **body}
        )
        assert response.status == 200, await response.text()
        await self.world.settle()

    async def answer(self, text: str) -> None:
        """Press the button with this label when the bot offers one, else type the text."""
        for said in reversed(await self.said()):
            for label, data in said.get("buttons") or []:
                if label == text:
                    await self.post(kind="button", data=data, label=label, origin=said["id"])
                    return
        await self.post(kind="text", text=text)

    async def photo(self, content: bytes) -> None:
        response = await self.world.client.post(
            f"/web/chats/{self.chat}/photos?user={self.user}", data=content
        )
        assert response.status == 200
        await self.world.settle()

    async def bot_texts(self) -> list[str]:
        return [s.get("text", "") for s in await self.said() if s["sender"] == "bot"]


@asynccontextmanager
async def web_world(database_url: str, root: Path, clock: ManualClock) -> AsyncIterator[WebWorld]:
    settings = demo_settings(root).model_copy(update={"database_url": database_url})
    app = create_demo_app(settings, secret_key=TEST_SECRET_KEY, clock=clock, run_loops=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield WebWorld(client)
