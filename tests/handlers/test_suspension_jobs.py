"""Suspension jobs: the account is locked once, and the person told once in chat and by one
Thai SMS, however long the directory or the SMS gateway is away."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.catalog import Catalog
from bot.handlers.review_policy import ReviewPolicy
from bot.handlers.services import Services
from bot.handlers.suspension import order_suspension, suspension_jobs
from core.delivery.jobs import DONE, FAILED, PENDING, RUNNING, list_jobs
from core.delivery.outbox import due_for_chat, mark_sent
from core.delivery.worker import Worker
from core.directory.port import MemoryDirectory
from core.requests.suspensions import Origin
from core.sms.http import HttpSms
from core.sms.port import OutboxSms, SmsGateway, SmsReceipt
from tests.core.requests.test_suspensions import account
from tests.emulators.sms import SmsEmulator, sms_gateway
from tests.handlers.test_account_jobs import approved, worker_on

APPLICANT, GROUP, MOBILE = "U0", "G-review", "+66812345678"
ORIGIN = Origin("test", GROUP)


@dataclasses.dataclass(slots=True)
class CountingDirectory(MemoryDirectory):
    """The memory directory that counts the locks it was asked for."""

    locks: int = 0

    async def lock(self, uid: str, reason: str) -> None:
        await MemoryDirectory.lock(self, uid, reason)
        self.locks += 1


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[SmsEmulator, HttpSms]]:
    async with (
        sms_gateway(api_key="k") as (emulator, url),
        aiohttp.ClientSession() as http,
    ):
        yield emulator, HttpSms(http, provider="json", url=url, api_key="k")


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> tuple[Services, CountingDirectory]:
    """Somchai's application approved and his account somchai.j made (credentials SMS sent)."""
    directory = CountingDirectory()
    services = dataclasses.replace(
        services, directory=directory, policy=ReviewPolicy(review_chats={"test": GROUP})
    )
    await approved(services, 1)
    await worker_on(services, directory, OutboxSms(tmp_path / "credentials.jsonl")).drain()
    await take(services, APPLICANT)
    await take(services, GROUP)
    return services, directory


async def command(services: Services, uid: str = "somchai.j", *, lift: bool = False) -> str:
    async with services.sessions.begin() as session:
        said = await order_suspension(
            session, services, uid, "ส่งสแปม", actor="test:R1", origin=ORIGIN, lift=lift
        )
    return said.key


def worker(services: Services, sms: SmsGateway) -> Worker:
    assert services.directory is not None
    jobs = suspension_jobs(services, services.directory, sms)
    return Worker(services.sessions, jobs, services.clock, worker_id="t")


async def run_for(services: Services, sms: SmsGateway, *, minutes: int) -> None:
    """The worker through a stretch of time: every job due in it runs, retries included."""
    for _ in range(minutes):
        await worker(services, sms).drain()
        services.clock.advance(minutes=1)  # type: ignore[attr-defined]


async def take(services: Services, chat_id: str) -> list[str]:
    """The keys of the messages queued for a chat since the last look (taken as delivered)."""
    now = services.clock.now()
    async with services.sessions.begin() as session:
        batches = await due_for_chat(session, services.vault, "test", chat_id, now)
        for batch in batches:
            await mark_sent(session, batch.id, now)
    return [message["key"] for batch in batches for message in batch.messages]


async def job_states(services: Services) -> dict[str, str]:
    async with services.sessions() as session:
        jobs = await list_jobs(session, (PENDING, RUNNING, DONE, FAILED))
    return {job.key: job.status for job in jobs if not job.key.startswith("account.create")}


async def test_with_the_sms_gateway_down_the_account_is_locked_once_and_one_thai_sms_follows(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, directory = world
    emulator, sms = gateway
    emulator.down = True

    assert await command(services) == "suspend.done_suspended"
    await run_for(services, sms, minutes=30)

    assert directory.locks == 1
    assert (await directory.find_user("somchai.j")).locked  # type: ignore[union-attr]
    assert await take(services, APPLICANT) == ["suspend.user_suspended"]
    assert await take(services, GROUP) == ["suspend.group_suspended"]
    assert emulator.sent == []
    assert len(emulator.refused) > 1  # tried again and again while it was down

    emulator.down = False
    await run_for(services, sms, minutes=120)

    [texted] = emulator.to(MOBILE)
    assert texted.message == "บัญชี somchai.j ถูกระงับชั่วคราวค่ะ สอบถามโทร 0 2203 2751"
    assert (texted.sender, texted.key) == ("BMA mail", "sms.suspension:1:suspended")
    assert directory.locks == 1
    assert await take(services, APPLICANT) == []
    assert set((await job_states(services)).values()) == {DONE}


class Killed(BaseException):
    """The worker process dies: nothing after this line runs."""


@dataclasses.dataclass
class DiesAfterTheFirstSms:
    gateway: SmsGateway
    sent: int = 0

    async def send(self, to_e164: str, message: str, *, idempotency_key: str) -> SmsReceipt:
        receipt = await self.gateway.send(to_e164, message, idempotency_key=idempotency_key)
        self.sent += 1
        if self.sent == 1:
            raise Killed
        return receipt


async def test_a_worker_killed_after_texting_leaves_the_retry_the_same_idempotency_key(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, _ = world
    emulator, sms = gateway
    await command(services)
    dying = DiesAfterTheFirstSms(sms)
    with pytest.raises(Killed):
        await run_for(services, dying, minutes=1)

    services.clock.advance(minutes=6)  # type: ignore[attr-defined]  # its lease runs out
    await run_for(services, dying, minutes=1)

    # A gateway that honours the key sends one SMS; this one records both requests.
    assert [sms.key for sms in emulator.sent] == ["sms.suspension:1:suspended"] * 2
    assert await take(services, APPLICANT) == ["suspend.user_suspended"]


async def test_a_directory_that_is_down_delays_the_lock_and_the_news_until_it_is_back(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, directory = world
    emulator, sms = gateway
    assert await command(services) == "suspend.done_suspended"
    directory.available = False

    await run_for(services, sms, minutes=10)
    assert await take(services, APPLICANT) == []
    assert emulator.sent == []

    directory.available = True
    await run_for(services, sms, minutes=60)
    assert directory.locks == 1
    assert await take(services, APPLICANT) == ["suspend.user_suspended"]
    assert len(emulator.to(MOBILE)) == 1


async def test_lifting_unlocks_and_tells_the_person_once_in_chat_and_by_sms(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, directory = world
    emulator, sms = gateway
    await command(services)
    await run_for(services, sms, minutes=1)
    await take(services, APPLICANT)
    await take(services, GROUP)

    assert await command(services, lift=True) == "suspend.done_unsuspended"
    await run_for(services, sms, minutes=30)

    assert (await directory.find_user("somchai.j")).locked is False  # type: ignore[union-attr]
    assert await take(services, APPLICANT) == ["suspend.user_unsuspended"]
    assert await take(services, GROUP) == ["suspend.group_unsuspended"]
    assert [m.message for m in emulator.to(MOBILE)] == [
        "บัญชี somchai.j ถูกระงับชั่วคราวค่ะ สอบถามโทร 0 2203 2751",
        "บัญชี somchai.j ใช้งานได้ตามปกติแล้วค่ะ",
    ]


async def test_a_suspension_lifted_while_the_gateway_is_down_texts_only_the_news_still_true(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, _ = world
    emulator, sms = gateway
    emulator.down = True
    await command(services)
    await run_for(services, sms, minutes=10)
    await command(services, lift=True)
    await run_for(services, sms, minutes=10)

    emulator.down = False
    await run_for(services, sms, minutes=120)

    assert await take(services, APPLICANT) == [
        "suspend.user_suspended",
        "suspend.user_unsuspended",
    ]
    assert [m.message for m in emulator.to(MOBILE)] == ["บัญชี somchai.j ใช้งานได้ตามปกติแล้วค่ะ"]
    assert set((await job_states(services)).values()) == {DONE}


async def test_a_suspension_lifted_before_its_lock_ran_locks_nothing_and_tells_nobody(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, directory = world
    emulator, sms = gateway
    await command(services)
    await command(services, lift=True)

    await run_for(services, sms, minutes=30)

    assert directory.locks == 0
    assert (await directory.find_user("somchai.j")).locked is False  # type: ignore[union-attr]
    assert await take(services, APPLICANT) == []
    assert emulator.sent == []


async def test_a_repeated_command_is_answered_and_changes_nothing(
    world: tuple[Services, CountingDirectory], gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    services, directory = world
    emulator, sms = gateway

    assert await command(services, lift=True) == "suspend.not_suspended"
    assert await command(services) == "suspend.done_suspended"
    assert await command(services) == "suspend.already_suspended"
    await run_for(services, sms, minutes=5)

    assert directory.locks == 1
    assert len(emulator.to(MOBILE)) == 1


async def test_an_unknown_account_or_a_directory_down_records_nothing(
    world: tuple[Services, CountingDirectory],
) -> None:
    services, directory = world
    assert await command(services, "nobody.x") == "suspend.unknown"

    directory.available = False
    assert await command(services) == "suspend.directory_down"
    assert await job_states(services) == {}


async def test_an_account_from_the_roster_is_locked_and_texted_without_a_chat_to_tell(
    services: Services, gateway: tuple[SmsEmulator, HttpSms]
) -> None:
    emulator, sms = gateway
    directory = MemoryDirectory()
    services = dataclasses.replace(services, directory=directory)
    await account(directory, reference="ROSTER-7")
    await command(services)
    await run_for(services, sms, minutes=2)

    assert (await directory.find_user("somchai.j")).locked  # type: ignore[union-attr]
    assert len(emulator.to(MOBILE)) == 1


@pytest.mark.parametrize("key", ["suspend.sms_suspended", "suspend.sms_unsuspended"])
def test_a_suspension_sms_is_one_thai_sms_part_for_a_20_letter_user_name(
    catalog: Catalog, key: str
) -> None:
    text = catalog.text(key, {"uid": "somchai.jaideeprasert"[:20]})
    assert len(text) <= 70  # UCS-2: 70 characters a part
