"""One applicant of the benchmark: the staff form as a LINE user fills it in, as signed webhooks.

The form is the one of tests/handlers/transcripts.py (STAFF_FORM), from "สมัคร" to the photo
of the ID card and the tap on "ถูกต้อง ส่งคำขอ" that files the request. Buttons are postbacks:
the pilot walks the form once reading each reply's buttons, and the load replays the
postback data it found (the data of bmabot's buttons is the same for everyone).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bench.fake_line import FakeLine

Json = dict[str, Any]
Send = Callable[[str, bytes, str], Awaitable[int]]  # (token, body, signature) -> HTTP status
BOT_ID = "U" + "b" * 32  # the "destination" of every webhook
REFERENCE = re.compile(r"A\d{2}-\d{5}")
PILOT_WAIT = 60.0  # seconds the pilot waits for each reply
STAFF_FORM: tuple[tuple[str, str], ...] = (
    ("say", "สมัคร"),
    ("tap", "ยอมรับและเริ่มกรอก"),
    ("tap", "บุคลากรประจำ กทม."),
    ("say", "บางรัก"),  # one exact match: taken at once (issue 17)
    ("tap", "ฝ่ายทะเบียน"),
    ("tap", "ไม่มี/ข้าม"),
    ("say", "นักวิชาการคอมพิวเตอร์"),
    ("tap", "นาย"),  # settles the English title: Mr.
    ("say", "สมชาย ใจดี"),
    ("say", "Somchai Jaidee"),
    ("say", "{national_id}"),  # a staff member's nationality is Thai: not asked
    ("say", "{mobile}"),
    ("say", "{email}"),
    ("photo", ""),
    ("tap", "ถูกต้อง ส่งคำขอ"),
)
_message_ids = itertools.count(700_000_000_000_000_001)


def national_id(number: int) -> str:
    """A valid, distinct 13-digit ID per applicant (bmabot files one request per person)."""
    first12 = f"3{number % 10**11:011d}"
    total = sum(int(digit) * (13 - index) for index, digit in enumerate(first12))
    return first12 + str((11 - total % 11) % 10)


@dataclass(slots=True)
class Applicant:
    number: int
    user_id: str
    step: int = 0

    @classmethod
    def make(cls, cell: int, number: int) -> Applicant:
        return cls(number, f"U{cell:08x}{number:024x}")

    @property
    def done(self) -> bool:
        return self.step >= len(STAFF_FORM)

    def webhook(self, secret: str, taps: dict[int, str]) -> tuple[str, bytes, str]:
        """The next step as (reply token, body, X-Line-Signature)."""
        kind, value = STAFF_FORM[self.step]
        token = secrets.token_hex(16)
        if kind == "tap":
            payload: Json = {"type": "postback", "postback": {"data": taps.get(self.step, value)}}
        elif kind == "photo":
            image = {"type": "image", "id": str(next(_message_ids)), "quoteToken": token}
            payload = {
                "type": "message",
                "message": {**image, "contentProvider": {"type": "line"}},
            }
        else:
            text = value.format(
                national_id=national_id(self.number),
                mobile=f"08{self.number % 10**8:08d}",
                email=f"staff{self.number}@gmail.com",
            )
            message = {"type": "text", "id": str(next(_message_ids)), "text": text}
            payload = {"type": "message", "message": {**message, "quoteToken": token}}
        event = {
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "webhookEventId": secrets.token_hex(13).upper(),
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": self.user_id},
            "replyToken": token,
            **payload,
        }
        body = json.dumps({"destination": BOT_ID, "events": [event]}, ensure_ascii=False)
        raw = body.encode()
        return token, raw, sign(secret, raw)


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class PilotError(RuntimeError):
    """The pilot applicant could not walk the form: the benchmark would measure nothing real."""


@dataclass(frozen=True, slots=True)
class PilotResult:
    taps: dict[int, str]  # step -> postback data of the button with that label
    reference: str  # the reference the filed request got, such as A69-00001
    seconds: float


async def walk_pilot(
    send: Send,
    fake: FakeLine,
    applicant: Applicant,
    secret: str,
) -> PilotResult:
    """Fill in the whole form reading the bot's buttons, as a person would; file the request."""
    fake.keep_messages = True
    started, taps, last = time.monotonic(), {}, list[Json]()
    try:
        for step, (kind, label) in enumerate(STAFF_FORM):
            if kind == "tap":
                taps[step] = _button_data(last, label, step)
            token, body, signature = applicant.webhook(secret, taps)
            status = await send(token, body, signature)
            if status != 200:
                raise PilotError(f"step {step} ({label or kind}): webhook answered {status}")
            applicant.step += 1
            last = await _reply(fake, token, f"step {step} ({label or kind})")
    finally:
        fake.keep_messages = False
    found = REFERENCE.search(json.dumps(last, ensure_ascii=False))
    if found is None:
        raise PilotError(f"no reference after submitting: {json.dumps(last)[:300]}")
    return PilotResult(taps, found.group(), time.monotonic() - started)


async def _reply(fake: FakeLine, token: str, what: str) -> list[Json]:
    try:
        async with asyncio.timeout(PILOT_WAIT):
            return await fake.reply_to(token)
    except TimeoutError:
        raise PilotError(f"{what}: no reply within {PILOT_WAIT:.0f} s") from None


def _button_data(messages: list[Json], label: str, step: int) -> str:
    actions = [action for message in messages for action in _actions(message)]
    for action in actions:
        if label in (action.get("label"), action.get("displayText")) and "data" in action:
            return str(action["data"])
    shown = [action.get("label") for action in actions]
    raise PilotError(f"step {step}: no button {label!r} in the last reply, only {shown}")


def _actions(node: Any) -> Iterator[Json]:
    """Every action in a message: quick-reply items, flex and template buttons."""
    if isinstance(node, list):
        for child in node:
            yield from _actions(child)
    elif isinstance(node, dict):
        for key, child in node.items():
            if key == "action" and isinstance(child, dict):
                yield child
            else:
                yield from _actions(child)
