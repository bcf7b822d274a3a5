"""A fake LINE Messaging API for the benchmark: answers at once and records when replies land.

It runs inside the load driver's process, so the times it records (time.monotonic) are on
the same clock as the times the driver sent each webhook.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from PIL import Image, ImageDraw

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REFERENCE = re.compile(rb"A\d{2}-\d{5}")  # an application reference such as A69-00042


def sample_jpeg(width: int = 800, height: int = 600) -> bytes:
    """A document-like photo: noise (so it is a real picture), a frame and some 'text' bars."""
    image = Image.merge("RGB", [Image.effect_noise((width, height), 24)] * 3)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, width - 20, height - 20), outline=(20, 60, 160), width=6)
    for row in range(80, height - 60, 40):
        draw.rectangle((60, row, width - 60 - (row * 7) % 200, row + 14), fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Delivery:
    at: float  # time.monotonic() when the call arrived
    reference: bool  # the messages carry an application reference (the request was filed)


class FakeLine:
    """The Messaging API endpoints bmabot and the peer call; everything else answers 200 {}."""

    def __init__(self, access_token: str, clock: Callable[[], float]) -> None:
        self.access_token = access_token
        self.clock = clock
        self.photo = sample_jpeg()
        self.replies: dict[str, Delivery] = {}  # by reply token
        self.pushes: defaultdict[str, list[Delivery]] = defaultdict(list)  # by recipient
        self.calls: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()  # bad token, reused reply token, bad body
        self.keep_messages = False  # the pilot reads the bot's buttons; the load does not
        self.messages: dict[str, list[Json]] = {}  # by reply token, or "push:" + recipient
        self.delivered = asyncio.Event()
        self.app = web.Application(client_max_size=20 * 1024 * 1024, middlewares=[self._gate])
        self.app.router.add_post("/v2/bot/message/reply", self._reply)
        self.app.router.add_post("/v2/bot/message/push", self._push)
        self.app.router.add_post("/v2/bot/chat/loading/start", self._loading)
        self.app.router.add_get("/v2/bot/message/{message_id}/content", self._content)
        self.app.router.add_route("*", "/{tail:.*}", self._anything)

    def reset(self) -> None:
        """Forget what earlier cells recorded (each cell uses new users and tokens)."""
        self.replies.clear()
        self.pushes.clear()
        self.calls.clear()
        self.problems.clear()
        self.messages.clear()

    async def reply_to(self, token: str) -> list[Json]:
        """The messages of the reply with this token, once it comes (kept for the pilot only)."""
        while token not in self.messages:
            self.delivered.clear()
            await self.delivered.wait()
        return self.messages[token]

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.calls[_route(request)] += 1
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            self.problems["bad access token"] += 1
            return web.json_response({"message": "Authentication failed"}, status=401)
        return await handler(request)

    async def _reply(self, request: web.Request) -> web.Response:
        arrived = self.clock()
        raw = await request.read()
        body = _json(raw)
        token, messages = body.get("replyToken"), body.get("messages")
        if not isinstance(token, str) or not isinstance(messages, list) or not messages:
            self.problems["malformed reply"] += 1
            return web.json_response({"message": "The request body has 1 error(s)"}, status=400)
        if token in self.replies:
            self.problems["reply token used twice"] += 1
            return web.json_response({"message": "Invalid reply token"}, status=400)
        self.replies[token] = Delivery(arrived, bool(REFERENCE.search(raw)))
        if self.keep_messages:
            self.messages[token] = messages
            self.delivered.set()
        return _sent(len(messages))

    async def _push(self, request: web.Request) -> web.Response:
        arrived = self.clock()
        raw = await request.read()
        body = _json(raw)
        to, messages = body.get("to"), body.get("messages")
        if not isinstance(to, str) or not isinstance(messages, list) or not messages:
            self.problems["malformed push"] += 1
            return web.json_response({"message": "The request body has 1 error(s)"}, status=400)
        self.pushes[to].append(Delivery(arrived, bool(REFERENCE.search(raw))))
        if self.keep_messages:
            self.messages.setdefault(f"push:{to}", []).extend(messages)
        return _sent(len(messages))

    async def _loading(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({}, status=202)

    async def _content(self, request: web.Request) -> web.Response:
        return web.Response(body=self.photo, content_type="image/jpeg")

    async def _anything(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else request.path
    return f"{request.method} {request.path if canonical == '/{tail}' else canonical}"


def _json(raw: bytes) -> Json:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _sent(count: int) -> web.Response:
    sent = [{"id": str(secrets.randbits(60)), "quoteToken": secrets.token_hex(8)}]
    return web.json_response({"sentMessages": sent * count})
