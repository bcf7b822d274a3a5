"""A fake SMS gateway for the approvals cell: the `json` provider of core/sms/http.py.

bmabot POSTs {"to", "sender", "message"} with `Authorization: Bearer <key>` and an
`Idempotency-Key` header. The fake answers 200 at once and records when each SMS landed
(time.monotonic, the driver's clock), its number, key and the user name the message names.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.catalog import Catalog

# The credential SMS as the catalog writes it (account.sms_credentials): user name, password.
TEMPLATE = Catalog.load().messages["account.sms_credentials"]
CREDENTIALS = re.compile(
    re.escape(TEMPLATE)
    .replace(re.escape("{user_name}"), r"(\S+)")
    .replace(re.escape("{password}"), r"(\S+)")
)


@dataclass(frozen=True, slots=True)
class Sms:
    at: float
    to: str
    key: str
    user_name: str
    password: str


class FakeSms:
    def __init__(self, api_key: str, clock: Callable[[], float]) -> None:
        self.api_key = api_key
        self.clock = clock
        self.received: list[Sms] = []
        self.problems: Counter[str] = Counter()
        self.on_receive: Callable[[Sms], None] | None = None
        self.app = web.Application()
        self.app.router.add_post("/sms", self._send)

    def reset(self) -> None:
        self.received.clear()
        self.problems.clear()
        self.on_receive = None

    async def _send(self, request: web.Request) -> web.Response:
        arrived = self.clock()
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            self.problems["bad API key"] += 1
            return web.json_response({"error": "unauthorised"}, status=401)
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        if not isinstance(body, dict) or not all(
            isinstance(body.get(name), str) for name in ("to", "sender", "message")
        ):
            self.problems["malformed body"] += 1
            return web.json_response({"error": "bad request"}, status=400)
        found = CREDENTIALS.match(body["message"])
        if found is None:
            self.problems["not a credential SMS"] += 1
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            self.problems["no idempotency key"] += 1
        user_name, password = found.groups() if found else ("", "")
        sms = Sms(arrived, body["to"], key, user_name, password)
        self.received.append(sms)
        if self.on_receive is not None:
            self.on_receive(sms)
        return web.json_response({"id": secrets.token_hex(8)})
