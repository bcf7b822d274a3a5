"""The SMS port, the credential message, and OutboxSms: a JSON-lines file as the demo's phone."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from core.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

SMS_LIMIT = 160  # one part of GSM 7-bit text
UCS2_LIMIT, UCS2_SPLIT = 70, 67  # Thai is sent as UCS-2: 70 in one part, 67 a part when split
GSM_SPLIT = 153
CREDENTIAL_PARTS = 2  # the Thai credential SMS may take two parts, never more
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# GSM 03.38 basic set, ASCII part: each counts one of the 160 (backtick, [ ] { } \ ^ ~ | do not).
GSM_BASIC_ASCII = frozenset(
    "@$\n\r _!\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


class SmsPermanentError(Exception):
    """The gateway refused the message (4xx): sending it again will not help."""


class SmsUnavailableError(Exception):
    """The gateway is down, busy or too slow (5xx, timeout): retry later."""


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    message_id: str | None  # the gateway's id, when it gives one
    duplicate: bool = False  # True when this idempotency key had already been sent


class SmsGateway(Protocol):
    async def send(self, to_e164: str, message: str, *, idempotency_key: str) -> SmsReceipt:
        """Send one SMS; a repeated idempotency_key sends nothing where the gateway can tell."""
        ...


def sms_parts(message: str) -> int:
    """How many parts a message is sent in: GSM 7-bit when it fits the basic set, else UCS-2
    (Thai), counted in UTF-16 units as the network does."""
    if set(message) <= GSM_BASIC_ASCII:
        length, single, split = len(message), SMS_LIMIT, GSM_SPLIT
    else:
        length, single, split = len(message.encode("utf-16-le")) // 2, UCS2_LIMIT, UCS2_SPLIT
    return 1 if length <= single else -(-length // split)


def credential_sms(template: str, user_name: str, password: str) -> str:
    """The SMS with a new account's user name and temporary password, from its Thai template
    (account.sms_credentials): at most two parts."""
    message = template.format(user_name=user_name, password=password)
    if sms_parts(message) > CREDENTIAL_PARTS:
        # A programming error (user names are at most 32 characters): never send three parts.
        raise ValueError(f"credential SMS would need more than {CREDENTIAL_PARTS} parts")
    return message


def check_e164(to_e164: str) -> str:
    """'+66812345678' -> '66812345678', the form SMS gateways want."""
    if not E164.fullmatch(to_e164):
        raise SmsPermanentError("recipient is not an E.164 number")
    return to_e164.removeprefix("+")


def masked(to_e164: str) -> str:
    """'+66812345678' -> '+66xxxxxx678': enough for a log line, no more."""
    return to_e164[:3] + "x" * max(len(to_e164) - 6, 0) + to_e164[-3:]


@dataclass(slots=True)
class OutboxSms:
    """Appends each SMS as one JSON line {"at", "to", "sender", "message", "key"}.

    The file holds temporary passwords in clear: it is for the demo and tests only.
    """

    path: Path
    sender: str = "BMA mail"
    clock: Clock = field(default_factory=SystemClock)
    # One lock for the check-then-append: two sends of one key must not both append.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def send(self, to_e164: str, message: str, *, idempotency_key: str) -> SmsReceipt:
        check_e164(to_e164)
        line = {
            "at": self.clock.now().isoformat(),
            "to": to_e164,
            "sender": self.sender,
            "message": message,
            "key": idempotency_key,
        }
        appended = await asyncio.to_thread(self._append_once, line)
        outcome = "written" if appended else "already sent"
        logger.info("sms to %s key %s %s", masked(to_e164), idempotency_key, outcome)
        return SmsReceipt(message_id=idempotency_key, duplicate=not appended)

    def messages(self) -> list[dict[str, str]]:
        """Every SMS written so far, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]

    def _append_once(self, line: dict[str, str]) -> bool:
        with self._lock:
            if any(sent.get("key") == line["key"] for sent in self.messages()):
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(json.dumps(line, ensure_ascii=False) + "\n")
            return True
