"""SMS: the outbox file, the credential message, temporary passwords and the HTTP gateways."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.catalog import Catalog
from core.clock import ManualClock
from core.rules.passwords import (
    DIGITS,
    LOWER,
    MAX_LENGTH,
    MIN_LENGTH,
    SYMBOLS,
    UPPER,
    generate_temporary_password,
)
from core.sms.http import HttpSms, SmsProvider
from core.sms.port import (
    OutboxSms,
    SmsPermanentError,
    SmsUnavailableError,
    credential_sms,
    sms_parts,
)

MOBILE = "+66812345678"
PASSWORD = "Kp7-Tm4-Wq9-Rx2"
TEMPLATE = Catalog.load().messages["account.sms_credentials"]
MESSAGE = credential_sms(TEMPLATE, "somchai.j", PASSWORD)
API_KEY = "key-0123456789abcdef"
API_SECRET = "secret-fedcba9876543210"
LONGEST_USER_NAME = "phraphutthayotfachul.alokchulalo"  # 20 + "." + 11 = 32 characters


# --- outbox ----------------------------------------------------------------------------


@pytest.fixture
def outbox(tmp_path: Path, clock: ManualClock) -> OutboxSms:
    return OutboxSms(tmp_path / "var" / "sms-outbox.jsonl", clock=clock)


async def test_outbox_writes_one_json_line_per_sms(outbox: OutboxSms) -> None:
    await outbox.send(MOBILE, MESSAGE, idempotency_key="credentials:A69-00042:1")

    assert outbox.messages() == [
        {
            "at": "2026-11-25T03:00:00+00:00",
            "to": MOBILE,
            "sender": "BMA mail",
            "message": MESSAGE,
            "key": "credentials:A69-00042:1",
        }
    ]


async def test_outbox_does_not_write_a_repeated_key_twice(outbox: OutboxSms) -> None:
    first = await outbox.send(MOBILE, MESSAGE, idempotency_key="credentials:A69-00042:1")
    again = await outbox.send(MOBILE, MESSAGE, idempotency_key="credentials:A69-00042:1")

    assert (first.duplicate, again.duplicate) == (False, True)
    assert len(outbox.messages()) == 1


async def test_outbox_keeps_a_repeated_key_out_even_when_sent_at_once(outbox: OutboxSms) -> None:
    sends = [outbox.send(MOBILE, MESSAGE, idempotency_key="same") for _ in range(5)]

    await asyncio.gather(*sends)

    assert len(outbox.messages()) == 1


async def test_outbox_writes_different_keys(outbox: OutboxSms) -> None:
    await outbox.send(MOBILE, MESSAGE, idempotency_key="credentials:A69-00042:1")
    await outbox.send(MOBILE, MESSAGE, idempotency_key="credentials:A69-00042:2")

    assert [m["key"] for m in outbox.messages()] == [
        "credentials:A69-00042:1",
        "credentials:A69-00042:2",
    ]


async def test_outbox_refuses_a_number_that_is_not_e164(outbox: OutboxSms) -> None:
    with pytest.raises(SmsPermanentError):
        await outbox.send("0812345678", MESSAGE, idempotency_key="k")


# --- the credential message and its password -------------------------------------------


def test_the_credential_sms_is_thai_with_the_user_name_and_password_on_lines_of_their_own() -> (
    None
):
    assert MESSAGE.splitlines() == [
        "บัญชี กทม. ของท่าน",
        "ผู้ใช้ somchai.j",
        "รหัสผ่านชั่วคราว Kp7-Tm4-Wq9-Rx2",
        "กรุณาเปลี่ยนเมื่อเข้าใช้ครั้งแรกค่ะ",
    ]


def test_the_credential_sms_fits_two_ucs2_parts_for_the_longest_user_name() -> None:
    assert len(LONGEST_USER_NAME) == 32
    for _ in range(200):
        message = credential_sms(TEMPLATE, LONGEST_USER_NAME, generate_temporary_password())

        assert len(message.encode("utf-16-le")) // 2 <= 2 * 67  # UCS-2, 67 a part when split
        assert sms_parts(message) == 2


@pytest.mark.parametrize(
    ("message", "parts"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("ก" * 70, 1), ("ก" * 71, 2), ("ก" * 135, 3)],
)
def test_parts_are_counted_as_the_network_counts_them(message: str, parts: int) -> None:
    assert sms_parts(message) == parts


def test_credential_sms_refuses_what_would_need_a_third_part() -> None:
    with pytest.raises(ValueError, match="more than 2 parts"):
        credential_sms(TEMPLATE, "x" * 60, PASSWORD)


def test_temporary_passwords_are_four_groups_of_three_joined_by_dashes() -> None:
    for _ in range(500):
        password = generate_temporary_password()

        groups = password.split("-")
        assert [len(group) for group in groups] == [3, 3, 3, 3]
        assert all(group.isalnum() and group.isascii() for group in groups)


def test_temporary_passwords_are_long_and_mixed() -> None:
    for _ in range(500):
        password = generate_temporary_password()

        assert MIN_LENGTH <= len(password) <= MAX_LENGTH
        for characters in (UPPER, LOWER, DIGITS, SYMBOLS):
            assert set(password) & set(characters)
        assert password[0].isalnum()
        assert password[-1].isalnum()
        assert set(password) <= set(UPPER + LOWER + DIGITS + SYMBOLS)


def test_temporary_passwords_have_no_look_alikes() -> None:
    seen = "".join(generate_temporary_password() for _ in range(500))

    assert not set(seen) & set("0Oo1lIi")


def test_temporary_passwords_differ_every_time() -> None:
    assert len({generate_temporary_password() for _ in range(1000)}) == 1000


# --- HTTP gateways ---------------------------------------------------------------------


@dataclass
class FakeGateway:
    """An SMS provider on 127.0.0.1 that records requests and answers the next status."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            {
                "path": request.path,
                "headers": dict(request.headers),
                "content_type": request.content_type,
                "body": await request.read(),
            }
        )
        await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        answer = {
            "id": "m-1",
            "phone_number_list": [{"number": "66812345678", "message_id": "t-9"}],
        }
        return web.json_response(answer if status < 300 else {"error": "no"}, status=status)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[FakeGateway, TestServer]]:
    fake = FakeGateway()
    app = web.Application()
    app.router.add_post("/sms", fake.handle)
    server = TestServer(app)
    try:
        await server.start_server()
        yield fake, server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def http_sms(
    session: aiohttp.ClientSession,
    server: TestServer,
    provider: SmsProvider = "json",
    timeout: float = 5,
) -> HttpSms:
    url = str(server.make_url("/sms"))
    secret = API_SECRET if provider == "thaibulksms" else None
    return HttpSms(
        session, provider=provider, url=url, api_key=API_KEY, api_secret=secret, timeout=timeout
    )


async def test_json_provider_posts_json_with_a_bearer_token(
    gateway: tuple[FakeGateway, TestServer], session: aiohttp.ClientSession
) -> None:
    fake, server = gateway

    receipt = await http_sms(session, server).send(MOBILE, MESSAGE, idempotency_key="k-1")

    (request,) = fake.requests
    assert request["content_type"] == "application/json"
    assert json.loads(request["body"]) == {
        "to": "66812345678",
        "sender": "BMA mail",
        "message": MESSAGE,
    }
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["Idempotency-Key"] == "k-1"
    assert receipt.message_id == "t-9"


async def test_thaibulksms_posts_a_form_with_basic_auth(
    gateway: tuple[FakeGateway, TestServer], session: aiohttp.ClientSession
) -> None:
    fake, server = gateway

    receipt = await http_sms(session, server, "thaibulksms").send(
        MOBILE, MESSAGE, idempotency_key="k-1"
    )

    (request,) = fake.requests
    assert request["content_type"] == "application/x-www-form-urlencoded"
    form = dict(parse_qsl(request["body"].decode()))
    assert form == {"msisdn": "66812345678", "message": MESSAGE, "sender": "BMA mail"}
    scheme, _, credentials = request["headers"]["Authorization"].partition(" ")
    assert (scheme, base64.b64decode(credentials).decode()) == ("Basic", f"{API_KEY}:{API_SECRET}")
    assert receipt.message_id == "t-9"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_worth_a_retry(
    gateway: tuple[FakeGateway, TestServer], session: aiohttp.ClientSession, status: int
) -> None:
    fake, server = gateway
    fake.statuses = [status]

    with pytest.raises(SmsUnavailableError):
        await http_sms(session, server).send(MOBILE, MESSAGE, idempotency_key="k-1")


@pytest.mark.parametrize("status", [400, 401, 403, 422])
async def test_client_errors_are_permanent(
    gateway: tuple[FakeGateway, TestServer], session: aiohttp.ClientSession, status: int
) -> None:
    fake, server = gateway
    fake.statuses = [status]

    with pytest.raises(SmsPermanentError):
        await http_sms(session, server).send(MOBILE, MESSAGE, idempotency_key="k-1")


async def test_a_slow_gateway_is_worth_a_retry(
    gateway: tuple[FakeGateway, TestServer], session: aiohttp.ClientSession
) -> None:
    fake, server = gateway
    fake.delay = 2

    with pytest.raises(SmsUnavailableError):
        await http_sms(session, server, timeout=0.2).send(MOBILE, MESSAGE, idempotency_key="k-1")


async def test_a_gateway_that_is_down_is_worth_a_retry(session: aiohttp.ClientSession) -> None:
    down = HttpSms(session, provider="json", url="http://127.0.0.1:9/sms", api_key=API_KEY)

    with pytest.raises(SmsUnavailableError):
        await down.send(MOBILE, MESSAGE, idempotency_key="k-1")


@pytest.mark.parametrize(("provider", "status"), [("json", 200), ("thaibulksms", 503)])
async def test_message_and_api_credentials_never_reach_the_log(
    gateway: tuple[FakeGateway, TestServer],
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    provider: SmsProvider,
    status: int,
) -> None:
    fake, server = gateway
    fake.statuses = [status]
    caplog.set_level(logging.DEBUG)

    with contextlib.suppress(SmsUnavailableError):
        await http_sms(session, server, provider).send(MOBILE, MESSAGE, idempotency_key="k-1")

    assert caplog.records  # the send was logged, only without secrets
    for secret in (PASSWORD, "รหัสผ่านชั่วคราว", API_KEY, API_SECRET, "812345678"):
        assert secret not in caplog.text
