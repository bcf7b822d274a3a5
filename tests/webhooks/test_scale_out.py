"""Scale-out on one PostgreSQL: 2 × `bmabot serve --no-worker` + 2 × `bmabot worker`.

Every event goes to one server and is delivered again (the same webhookEventId) to the
other; a person's next event goes to the other server than the last. Documents are kept
in one shared data folder; accounts are made in a real slapd and the temporary passwords
sent through an HTTP SMS gateway (the emulator): both reached by the workers only.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from ldap3 import SUBTREE
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.audit.chain import ChainKey
from core.audit.verify import ChainIntact, verify_chain
from core.directory.port import PasswordCheck
from core.rules.validation import national_id_check_digit
from core.storage.models import Application, Decision, InboxEvent, Job, OutboxMessage
from tests.conftest import TEST_SECRET_KEY
from tests.core.directory.test_directory_contract import LdapHarness, slapd
from tests.emulators.line import LineEmulator
from tests.emulators.sms import SmsEmulator, sms_gateway
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import NATIONAL_ID, STAFF_FORM
from tests.sms_text import credentials
from tests.webhooks.serve_world import Start, emulator, free_port, serve_env, start

# Fixtures: the LINE emulator, what kills what a test started, the session's throwaway slapd.
__all__ = ["emulator", "slapd", "start"]
pytestmark = pytest.mark.skipif(
    not os.environ.get("BMABOT_TEST_DATABASE_URL"),
    reason="scale-out is PostgreSQL's (SQLite serves one process); the PostgreSQL run has it",
)
Json = dict[str, Any]

# What a person types quickly, one message after the other, and what the 7 texts of the
# answers say, in order: the terms, the PDPA notice, the kind question, the terms again,
# the kind question again, the question whether to cancel.
WALK = ["สมัคร", "ค่ะ", "ย้อนกลับ", "ใช่", "ยกเลิก"]
WALK_SAID = {2: "ประเภทใดคะ", 4: "การคุ้มครองข้อมูลส่วนบุคคล", 5: "ประเภทใดคะ", 6: "ยกเลิก"}
WALK_SAID_COUNT = 7

PEOPLE = 200
APPLICANTS = 30  # of the people, these fill in the whole form and are approved; the rest walk
GROUP = "C" + "0" * 32
REVIEWER = "U" + "a1" * 16
SMS_API_KEY = "test-sms-api-key"
PUBLIC_URL = "https://bmabot.test"
MOBILE, EMAIL = "0812345678", "somchai@gmail.com"  # the transcript's, made one's own below
SUBMIT = "ถูกต้อง ส่งคำขอ"
APPROVED = "ระบบกำลังสร้างบัญชี"  # review.applicant.approved, to the applicant
READY = "พร้อมใช้งานแล้ว"  # account.ready, to the applicant once the worker made the account
ACCOUNT_NOTE = "และส่ง SMS แล้วค่ะ"  # account.created_in_group, to the reviewers
REFERENCE = re.compile(r"A\d{2}-\d{5}")
ONE_MINUTE = 60


def national_id(number: int) -> str:
    first12 = f"1{number + 1:011d}"
    return first12 + national_id_check_digit(first12)


def form(number: int) -> list[tuple[str, str]]:
    """The whole staff form, made this applicant's own: only digits differ between them."""
    own = {NATIONAL_ID: national_id(number), MOBILE: mobile(number), EMAIL: email(number)}
    steps = [(kind, own.get(value, value)) for kind, value in STAFF_FORM]
    return [("say", "สมัคร"), *steps, ("photo", ""), ("tap", SUBMIT)]


def mobile(number: int) -> str:
    return f"0812{number:06d}"


def email(number: int) -> str:
    return f"staff{number:06d}@gmail.com"


def mobile_e164(number: int) -> str:
    return "+66" + mobile(number)[1:]


def masked(texts: list[str]) -> list[str]:
    """The texts with every digit as #: one applicant's transcript is then everyone's."""
    return [re.sub(r"\d", "#", text) for text in texts]


async def test_two_servers_and_two_workers_handle_each_event_and_each_approval_once(
    emulator: tuple[LineEmulator, str],
    slapd: dict[str, str],
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    start: Start,
) -> None:
    line, api_url = emulator
    line.profiles[REVIEWER] = "สมศรี"
    ldap = LdapHarness(slapd)  # an organisational unit of its own on the session's slapd
    people = [f"U{n:032x}" for n in range(PEOPLE)]
    applicants, walkers = people[:APPLICANTS], people[APPLICANTS:]
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}/webhooks/line" for port in ports]

    async with sms_gateway(SMS_API_KEY) as (sms, sms_url):
        env = serve_env(tmp_path / "server", api_url, ports[0]) | {
            "BMABOT_DATABASE_URL": database_url,
            "BMABOT_DATA_DIR": str(tmp_path / "shared-documents"),  # one folder for all four
            "BMABOT_PUBLIC_URL": PUBLIC_URL,
            "BMABOT_SEND_LEASE_SECONDS": "20",  # as in production: nobody is killed here
            "BMABOT_LINE_REVIEW_GROUP_ID": GROUP,
            "BMABOT_REVIEWERS": f"line:{REVIEWER}",
            "BMABOT_DIRECTORY": "ldap",
            "BMABOT_LDAP_URL": slapd["LDAP_URL"],
            "BMABOT_LDAP_BIND_DN": slapd["LDAP_BIND_DN"],
            "BMABOT_LDAP_PASSWORD": slapd["LDAP_BIND_PASSWORD"],
            "BMABOT_LDAP_USERS_DN": ldap.users_dn,
            "BMABOT_SMS": "http",
            "BMABOT_SMS_PROVIDER": "json",
            "BMABOT_SMS_URL": sms_url,
            "BMABOT_SMS_API_KEY": SMS_API_KEY,
        }
        servers = [await start(env | {"BMABOT_PORT": str(port)}, "--no-worker") for port in ports]
        workers = [await start(env, command="worker") for _ in range(2)]

        async def post(number: int, step: int, event: Json) -> None:
            """To one server, then again (the same webhookEventId) to the other: the next
            step of the same person goes to the other server first."""
            line.webhook_url = urls[(number + step) % 2]
            assert await line.post_events([event]) == 200
            line.webhook_url = urls[(number + step + 1) % 2]
            assert (await line.redeliver(event))[0] == 200

        def make_event(person: str, kind: str, value: str) -> Json:
            if kind == "say":
                return line.make_text_event(person, value)
            if kind == "tap":
                return line.make_postback_event(person, value)
            return line.make_image_event(person, sample_photo())

        # One applicant fills the form in reading each reply, as a person does: the buttons'
        # postback data it finds is the same for everyone.
        pilot = applicants[0]
        taps: dict[int, str] = {}
        for step, (kind, value) in enumerate(form(0)):
            if kind == "tap":
                taps[step] = await wait_for_button(line, pilot, value)
            seen = len(line.received(pilot))
            await post(0, step, make_event(pilot, kind, taps.get(step, value)))
            await wait_for_reply(line, pilot, seen)
        async with asyncio.timeout(ONE_MINUTE):
            await line.wait_until(lambda: REFERENCE.search(line.texts(pilot)[-1]) is not None)
        transcript = masked(line.texts(pilot))

        # Everyone else at once, each as fast as they can type.
        async def apply(number: int, person: str) -> None:
            for step, (kind, value) in enumerate(form(number)):
                await post(number, step, make_event(person, kind, taps.get(step, value)))

        async def walk(number: int, person: str) -> None:
            for step, text in enumerate(WALK):
                await post(number, step, line.make_text_event(person, text))

        await asyncio.gather(
            *(apply(n, p) for n, p in enumerate(applicants) if p != pilot),
            *(walk(n, p) for n, p in enumerate(walkers)),
        )
        async with asyncio.timeout(ONE_MINUTE):
            await line.wait_until(
                lambda: (
                    all(len(line.texts(p)) >= WALK_SAID_COUNT for p in walkers)
                    and all(len(line.texts(p)) >= len(transcript) for p in applicants)
                    and len(cards(line)) >= APPLICANTS
                )
            )

        # The documents are in the shared folder: each server shows each one, whoever kept it.
        pictures = [m["originalContentUrl"] for m in group(line) if m["type"] == "image"]
        assert len(pictures) == APPLICANTS
        async with aiohttp.ClientSession() as http:
            for picture in pictures:
                for port in ports:
                    url = picture.replace(PUBLIC_URL, f"http://127.0.0.1:{port}")
                    async with http.get(url) as response:
                        assert (response.status, response.content_type) == (200, "image/jpeg")

        # The reviewer approves each request in the group: each press to one server and
        # again to the other. The workers make the accounts and send the SMS.
        approvals = [approve_data(card) for card in cards(line).values()]
        for number, data in enumerate(approvals):
            await post(number, 0, line.make_postback_event(REVIEWER, data, group_id=GROUP))
        async with asyncio.timeout(ONE_MINUTE):
            await line.wait_until(
                lambda: (
                    all(any(READY in text for text in line.texts(p)) for p in applicants)
                    and sum(ACCOUNT_NOTE in text for text in line.texts(GROUP)) >= APPLICANTS
                )
            )

        # Each event counted once in /metrics, by the server that handled it: both servers
        # read the same oldest events, and the one that loses an event's claim did not
        # handle it (they counted it too, before).
        handled = [await events_handled(port) for port in ports]

        for process in [*servers, *workers]:
            process.send_signal(signal.SIGTERM)  # each finishes what it holds, then exits
        for process in [*servers, *workers]:
            assert await asyncio.wait_for(process.wait(), timeout=ONE_MINUTE) == 0

    # Each stored batch pushed once (every push has a retry key): two servers' retry rounds
    # never both send it. LINE would drop the second; Telegram would show it.
    pushes = [path for _, path in line.calls if path == "/v2/bot/message/push"]
    assert len(pushes) == len(line._retry_keys)
    for person in walkers:
        check_walked(line.texts(person), person)
    references = {person: check_applied(line, person, transcript) for person in applicants}
    assert len(set(references.values())) == APPLICANTS
    check_group(line.texts(GROUP), references.values())
    events = APPLICANTS * len(form(0)) + len(walkers) * len(WALK) + len(approvals)
    assert sum(handled) == events, handled
    await check_database(sessions, events, [f"bmabot-{worker.pid}" for worker in workers])
    await check_accounts(ldap, sms, references)


def check_walked(texts: list[str], person: str) -> None:
    """Each answer once, in the order of the messages."""
    shown = [text[:25] for text in texts]
    assert len(texts) == WALK_SAID_COUNT, (person, shown)
    for number, expected in WALK_SAID.items():
        assert expected in texts[number], (person, shown)


def check_applied(line: LineEmulator, person: str, transcript: list[str]) -> str:
    """The pilot's transcript, then told of the approval and the account, once each and in
    that order. Returns the request's reference."""
    texts = line.texts(person)
    assert masked(texts[: len(transcript)]) == transcript, person
    approved, ready = texts[len(transcript) :]
    assert APPROVED in approved, (person, approved[:40])
    assert READY in ready, (person, ready[:40])
    found = REFERENCE.search(ready)
    assert found is not None
    return found.group()


def check_group(texts: list[str], references: Iterable[str]) -> None:
    """One card, one decision and one account note for each request."""
    for reference in references:
        assert texts.count(f"คำขอใหม่ {reference}") == 1, reference
        assert sum(f"อนุมัติคำขอ {reference} แล้ว" in text for text in texts) == 1, reference
        assert sum(f"{reference} {ACCOUNT_NOTE}" in text for text in texts) == 1, reference


async def check_database(
    sessions: async_sessionmaker[AsyncSession], events: int, workers: list[str]
) -> None:
    """Every event handled once, every message sent, every job done once by the workers
    (and by both: the queue is shared)."""
    async with sessions() as session:
        inbox = await _counted(session, InboxEvent.status)
        outbox = await _counted(session, OutboxMessage.status)
        applications = await _counted(session, Application.status)
        decisions = await session.scalar(select(func.count()).select_from(Decision))
        jobs = await session.execute(
            select(Job.kind, Job.status, Job.attempts, Job.locked_by).where(
                Job.kind != "morning.round"  # tomorrow's, planned by whoever started first
            )
        )
        ran = [(kind, status, attempts, worker) for kind, status, attempts, worker in jobs]
    assert inbox == {"done": events}
    assert set(outbox) == {"sent"}  # a graceful stop leaves nothing sent and not marked
    assert (decisions, applications) == (APPLICANTS, {"account_created": APPLICANTS})
    assert Counter((kind, status, attempts) for kind, status, attempts, _ in ran) == {
        ("card.post", "done", 1): APPLICANTS,
        ("account.create", "done", 1): APPLICANTS,
    }
    by_worker = Counter(worker for *_, worker in ran)
    assert set(by_worker) == set(workers), by_worker
    # The audit rows of four processes, written at once, form one chain.
    async with sessions() as session:
        chain = await verify_chain(session, [ChainKey(TEST_SECRET_KEY)])
    assert isinstance(chain, ChainIntact), chain
    assert chain.checked >= 2 * APPLICANTS  # each request's submission and decision at least


async def check_accounts(ldap: LdapHarness, sms: SmsEmulator, references: dict[str, str]) -> None:
    """One directory entry per approved request; one SMS each, with the password that works
    (a job run twice would have set a second one)."""
    with ldap.admin() as connection:
        connection.search(
            ldap.users_dn,
            "(objectClass=inetOrgPerson)",
            SUBTREE,
            attributes=["uid", "employeeNumber", "mobile"],
        )
        # Without the schema (get_info=NONE) ldap3 gives every attribute as a list.
        entries = [entry["attributes"] for entry in connection.response]
    by_reference = {number: entry for entry in entries for number in entry["employeeNumber"]}
    assert len(entries) == len(by_reference) == APPLICANTS
    assert set(by_reference) == set(references.values())
    assert (sms.refused, len(sms.sent)) == ([], APPLICANTS)
    directory = ldap.make()
    for number, reference in enumerate(references.values()):  # in the applicants' order
        entry = by_reference[reference]
        assert entry["mobile"] == [mobile_e164(number)]
        (message,) = sms.to(mobile_e164(number))
        user_name, password = credentials(message.message)
        assert entry["uid"] == [user_name]
        assert (message.key, message.sender) == (f"credentials:{reference}:1", "BMA mail")
        check = await directory.check_password(user_name, password)
        assert check is PasswordCheck.MUST_CHANGE, user_name


async def events_handled(port: int) -> float:
    """The events one server counts as handled, whatever their outcome (its /metrics)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "bmabot_events_handled"
        for sample in family.samples
        if sample.name == "bmabot_events_handled_total"
    )


async def wait_for_reply(line: LineEmulator, person: str, seen: int) -> None:
    async with asyncio.timeout(ONE_MINUTE):
        await line.wait_until(lambda: len(line.received(person)) > seen)


async def wait_for_button(line: LineEmulator, person: str, label: str) -> str:
    """The data of the button with this label in the last reply (it may be on its way)."""

    def found() -> str | None:
        received = line.received(person)
        return button([entry["message"] for entry in received[-5:]], label)

    async with asyncio.timeout(ONE_MINUTE):
        await line.wait_until(lambda: found() is not None)
    data = found()
    assert data is not None
    return data


async def _counted(session: AsyncSession, column: Any) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).group_by(column))
    return {value: count for value, count in rows}


def group(line: LineEmulator) -> list[Json]:
    return [entry["message"] for entry in line.received(GROUP)]


def cards(line: LineEmulator) -> dict[str, Json]:
    """The review cards posted to the group, by their title ("คำขอใหม่ A69-00001")."""
    titled = [m for m in group(line) if m["type"] == "flex"]
    return {m["altText"]: m for m in titled if m["altText"].startswith("คำขอใหม่ ")}


def approve_data(card: Json) -> str:
    # The same button is in the card and under it (quick reply).
    (data,) = {a["data"] for a in actions(card) if a.get("data", "").startswith("rv:a:")}
    return str(data)


def button(messages: list[Json], label: str) -> str | None:
    """The postback data of the last button with this label (or display text), if any."""
    found = [
        str(action["data"])
        for action in actions(messages)
        if "data" in action and label in (action.get("label"), action.get("displayText"))
    ]
    return found[-1] if found else None


def actions(node: Any) -> Iterator[Json]:
    """Every action in messages: quick-reply items, flex and template buttons."""
    if isinstance(node, list):
        for child in node:
            yield from actions(child)
    elif isinstance(node, dict):
        for key, child in node.items():
            if key == "action" and isinstance(child, dict):
                yield child
            else:
                yield from actions(child)
