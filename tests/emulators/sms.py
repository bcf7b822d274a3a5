"""An SMS provider's HTTP API (the `json` provider of core/sms/http.py) for tests.

It listens on a loopback port, so bmabot processes started by a test (`bmabot worker`)
reach it with BMABOT_SMS=http and BMABOT_SMS_URL. It records every request it accepts,
repeated idempotency keys included: a test counts what was sent, and a real gateway that
drops a repeated key would hide a job that ran twice.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

PATH = "/sms"


@dataclass(frozen=True, slots=True)
class Sms:
    to: str  # as the gateway gets it: "66812345678"
    sender: str
    message: str
    key: str | None  # the Idempotency-Key header


class SmsEmulator:
    """POST /sms with a Bearer key and {"to", "sender", "message"}: 200 {"id"}; 503 if down."""

    def __init__(self, *, api_key: str) -> None:
        self.api_key = api_key
        self.sent: list[Sms] = []
        self.refused: list[str] = []  # why each refused request was refused
        self.down = False  # True: every request gets 503, as from a gateway that is out
        self.delivered = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post(PATH, self._send)

    def to(self, number: str) -> list[Sms]:
        """What was sent to this number ("+66812345678" or "66812345678"), oldest first."""
        wanted = number.removeprefix("+")
        return [sms for sms in self.sent if sms.to == wanted]

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait, without polling, until accepted messages make the condition true."""
        while True:
            self.delivered.clear()  # before the check: no await between them
            if condition():
                return
            await self.delivered.wait()

    async def _send(self, request: web.Request) -> web.Response:
        if self.down:
            return self._refuse(503, "the gateway is down")
        expected = f"Bearer {self.api_key}".encode()
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return self._refuse(401, "bad or missing API key")
        try:
            body: Any = await request.json()
        except ValueError:
            return self._refuse(400, "body is not JSON")
        fields = ("to", "sender", "message")
        if not isinstance(body, dict) or not all(isinstance(body.get(f), str) for f in fields):
            return self._refuse(400, f"body needs the strings {fields}")
        if not body["to"].isdigit():
            return self._refuse(400, "to must be digits only, country code first")
        key = request.headers.get("Idempotency-Key")
        self.sent.append(Sms(body["to"], body["sender"], body["message"], key))
        self.delivered.set()
        return web.json_response({"id": f"sms-{len(self.sent)}"})

    def _refuse(self, status: int, why: str) -> web.Response:
        self.refused.append(why)
        return web.json_response({"error": why}, status=status)


@asynccontextmanager
async def sms_gateway(api_key: str) -> AsyncIterator[tuple[SmsEmulator, str]]:
    """The emulator on 127.0.0.1, and its URL for BMABOT_SMS_URL."""
    emulator = SmsEmulator(api_key=api_key)
    server = TestServer(emulator.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield emulator, str(server.make_url(PATH))
    finally:
        await server.close()
