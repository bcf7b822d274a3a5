"""The account job on its own: retries make one entry, and the SMS carries a live password."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.handlers.accounts import AccountMaker
from bot.handlers.conversation import Services
from core.delivery.jobs import FAILED, PENDING, enqueue, list_jobs
from core.delivery.worker import Worker
from core.directory.port import (
    Account,
    AccountRequest,
    Directory,
    MemoryDirectory,
    PasswordCheck,
    UserNamesBusyError,
)
from core.requests.applications import ApplicationForm, submit_application
from core.requests.decisions import decide
from core.rules.validation import national_id_check_digit
from core.sms.http import HttpSms
from core.sms.port import OutboxSms, SmsGateway
from tests.core.directory.test_directory_contract import LdapHarness, slapd
from tests.sms_text import credentials

__all__ = ["slapd"]  # the session's throwaway OpenLDAP, shared with the contract tests

ENGLISH = [("Somchai", "Jaidee"), ("Somsri", "Rakdee"), ("Malee", "Suksai")]


def national_id(n: int) -> str:
    first = f"1{n:011d}"
    return first + national_id_check_digit(first)


async def approved(services: Services, count: int) -> None:
    """`count` approved applications, each with its account job queued."""
    now = services.clock.now()
    async with services.sessions.begin() as session:
        for n in range(count):
            first, last = ENGLISH[n % 3]
            form = ApplicationForm(
                "staff",
                {
                    "first_name_en": first,
                    "last_name_en": last,
                    "first_name_th": "สมชาย",
                    "last_name_th": "ใจดี",
                    "title_th": "นาย",
                    "mobile": "+66812345678",
                    "position": "นักวิชาการ",
                    "unit": ["district-1004"],
                    "unit_note": None,
                },
                national_id(n + 1),
                {},
            )
            result = await submit_application(
                session, services.vault, channel="test", user_id=f"U{n}", form=form, now=now
            )
            await decide(
                session,
                application_id=result.application_id,
                outcome="approve",  # type: ignore[union-attr]
                reviewer="test:R",
                now=now,
            )
            await enqueue(
                session,
                kind="account.create",
                key=f"account.create:{n}",
                payload={"application_id": result.application_id},
                now=now,
            )  # type: ignore[union-attr]


def worker_on(services: Services, directory: Directory, sms: SmsGateway) -> Worker:
    maker = AccountMaker(services, directory, sms)
    return Worker(services.sessions, {"account.create": maker}, services.clock, worker_id="t")


async def test_a_directory_down_for_30_seconds_loses_nothing_and_repeats_nothing(
    services: Services, tmp_path: Path
) -> None:
    directory, sms = MemoryDirectory(), OutboxSms(tmp_path / "sms.jsonl")
    await approved(services, 20)
    directory.available = False
    await worker_on(services, directory, sms).drain()
    assert sms.messages() == []

    services.clock.advance(seconds=30)  # type: ignore[attr-defined]
    directory.available = True
    services.clock.advance(minutes=10)  # type: ignore[attr-defined]
    await worker_on(services, directory, sms).drain()

    user_names = {credentials(m["message"])[0] for m in sms.messages()}
    assert len(sms.messages()) == 20
    assert len(user_names) == 20  # twenty people, twenty different user names


class NamesTakenOnce(MemoryDirectory):
    """Another process took each name this one chose, the first time it makes an entry."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = True

    async def create_account(self, request: AccountRequest) -> Account:
        if self.busy:
            self.busy = False
            raise UserNamesBusyError("no free user name in 5 tries")
        return await super().create_account(request)


async def test_names_another_process_took_meanwhile_are_tried_again_later(
    services: Services, tmp_path: Path
) -> None:
    directory, sms = NamesTakenOnce(), OutboxSms(tmp_path / "sms.jsonl")
    await approved(services, 1)
    await worker_on(services, directory, sms).drain()
    async with services.sessions() as session:
        [job] = await list_jobs(session, (PENDING, FAILED))
    assert (job.status, sms.messages()) == (PENDING, [])  # not failed: tried again later

    services.clock.advance(minutes=10)  # type: ignore[attr-defined]
    await worker_on(services, directory, sms).drain()

    [message] = sms.messages()
    assert credentials(message["message"])[0] == "somchai.j"


class Killed(BaseException):
    """The worker process dies: nothing after this line runs."""


class DiesAfterSending(OutboxSms):
    async def send(self, to_e164: str, message: str, *, idempotency_key: str):  # type: ignore[no-untyped-def]
        receipt = await super().send(to_e164, message, idempotency_key=idempotency_key)
        if len(self.messages()) == 1:
            raise Killed
        return receipt


async def test_a_worker_killed_after_the_sms_is_finished_by_the_next(
    services: Services, tmp_path: Path
) -> None:
    directory, sms = MemoryDirectory(), DiesAfterSending(tmp_path / "sms.jsonl")
    await approved(services, 1)
    with pytest.raises(Killed):
        await worker_on(services, directory, sms).drain()

    services.clock.advance(minutes=6)  # type: ignore[attr-defined]  # the lease runs out
    await worker_on(services, directory, sms).drain()

    first, second = (credentials(m["message"])[1] for m in sms.messages())
    assert await directory.check_password("somchai.j", first) is PasswordCheck.WRONG
    assert await directory.check_password("somchai.j", second) is PasswordCheck.MUST_CHANGE
    assert len([u for u in ("somchai.j", "somchai.ja") if await directory.find_user(u)]) == 1


@pytest.fixture
async def gateway() -> object:
    answers: list[int] = []
    delivered: list[dict[str, str]] = []

    async def send(request: web.Request) -> web.Response:
        status = answers.pop(0) if answers else 200
        if status == 200:
            delivered.append(await request.json())
        return web.json_response({"ok": status == 200}, status=status)

    app = web.Application()
    app.router.add_post("/sms", send)
    server = TestServer(app, host="127.0.0.1")
    try:
        await server.start_server()
        yield server, answers, delivered
    finally:
        await server.close()


async def test_an_sms_gateway_503_three_times_then_200_delivers_exactly_once(
    services: Services, gateway: object, caplog: pytest.LogCaptureFixture
) -> None:
    server, answers, delivered = gateway  # type: ignore[misc]
    answers.extend([503, 503, 503])
    caplog.set_level(logging.DEBUG)
    await approved(services, 1)
    async with aiohttp.ClientSession() as http:
        sms = HttpSms(http, provider="json", url=str(server.make_url("/sms")), api_key="k")
        for _ in range(4):
            await worker_on(services, MemoryDirectory(), sms).drain()
            services.clock.advance(minutes=30)  # type: ignore[attr-defined]

    assert len(delivered) == 1
    password = credentials(delivered[0]["message"])[1]
    assert password not in caplog.text
    assert delivered[0]["message"] not in caplog.text
    assert "1000000000" not in caplog.text


async def test_an_sms_gateway_400_fails_the_job_for_good(
    services: Services, gateway: object
) -> None:
    server, answers, delivered = gateway  # type: ignore[misc]
    answers.append(400)
    await approved(services, 1)
    failed: list[str] = []

    async def told(job: object, error: str) -> None:
        failed.append(error)

    async with aiohttp.ClientSession() as http:
        sms = HttpSms(http, provider="json", url=str(server.make_url("/sms")), api_key="k")
        maker = AccountMaker(services, MemoryDirectory(), sms)
        await Worker(
            services.sessions,
            {"account.create": maker},
            services.clock,
            worker_id="t",
            on_failed=told,
        ).drain()

    assert delivered == []
    assert len(failed) == 1


async def test_on_the_real_directory_the_sms_password_only_lets_one_change_it(
    services: Services, tmp_path: Path, slapd: dict[str, str]
) -> None:
    directory = LdapHarness(slapd).make()
    sms = OutboxSms(tmp_path / "sms.jsonl")
    await approved(services, 1)

    maker = AccountMaker(services, directory, sms)
    await Worker(
        services.sessions, {"account.create": maker}, services.clock, worker_id="t"
    ).drain()

    user_name, password = credentials(sms.messages()[0]["message"])
    assert await directory.check_password(user_name, password) is PasswordCheck.MUST_CHANGE
    await directory.change_password(user_name, password, "N3w-Passw0rd!x")
    assert await directory.check_password(user_name, "N3w-Passw0rd!x") is PasswordCheck.OK
