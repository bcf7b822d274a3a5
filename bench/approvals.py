"""The approvals cell: approved requests become LDAP accounts and SMS, by one `bmabot worker`.

The cell starts a throwaway slapd (scripts/test-slapd.sh), files N staff applications and
approves each one as a reviewer's button press does (core's submit_application, then the
review handler's turn on "rv:a:<id>": the decision and its account.create job in one
transaction), then starts one `bmabot worker` process on that database, the slapd and the
fake SMS gateway of this process. Each account job creates the entry, sets a temporary
password and sends it by SMS; the fake records when each SMS lands. Once the last SMS has
landed and every job is marked done, the worker is stopped and the cell checks that every
request made exactly one entry and one SMS.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.applicant import national_id
from bench.fake_sms import FakeSms, Sms
from bench.provenance import code_version
from bench.servers import (
    VENV_BIN,
    Server,
    cpu_of,
    drop_postgres,
    fresh_postgres,
    postgres_backends,
    proc_cpu_seconds,
)
from bench.slapd import Slapd, start_slapd, stop_slapd

Result = dict[str, Any]
REVIEW_GROUP = "C" + "e" * 32  # the LINE reviewers' group the approvals come from
REVIEWER = "U" + "d" * 32
BATCH = 50  # applications filed (and then approved) per transaction while preparing
STALL_LIMIT = 30.0  # seconds without a new SMS before the cell gives up
START_LIMIT = 60.0  # seconds the worker may take to send its first SMS
MAIL_DOMAIN = "bangkok.go.th"
# Romanised Thai names: 25 x 20 pairs, so user names clash now and then as in life
# (somchai.j, then somchai.ja for the next Somchai J...).
FIRST_NAMES = (
    "Somchai",
    "Somsak",
    "Somsri",
    "Malee",
    "Kanda",
    "Prasert",
    "Wichai",
    "Sunee",
    "Anong",
    "Boonmee",
    "Chaiwat",
    "Duangjai",
    "Kittisak",
    "Ladda",
    "Manop",
    "Nattapong",
    "Orathai",
    "Pornthip",
    "Rattana",
    "Sakda",
    "Thanom",
    "Usa",
    "Wanida",
    "Yupin",
    "Arthit",
)
LAST_NAMES = (
    "Jaidee",
    "Rakdee",
    "Suksai",
    "Srisuk",
    "Phet",
    "Thongdee",
    "Wongsa",
    "Boonma",
    "Chaiyo",
    "Kaewkla",
    "Meesuk",
    "Nakorn",
    "Panya",
    "Rungruang",
    "Saengthong",
    "Thammasat",
    "Udom",
    "Wattana",
    "Yodying",
    "Inthara",
)
THAI_NAMES = (("นาย", "สมชาย", "ใจดี"), ("นางสาว", "มาลี", "ศรีสุข"), ("นาง", "กานดา", "เพชร"))


@dataclass(frozen=True, slots=True)
class ApprovalsCell:
    database: str  # sqlite | postgres
    accounts: int

    @property
    def name(self) -> str:
        return f"approvals/{self.database} n={self.accounts}"


@dataclass(slots=True)
class Samples:
    """The worker's and slapd's CPU time when the first and the latest SMS landed."""

    first: tuple[float, float, float] | None = None  # (at, worker CPU s, slapd CPU s)
    last: tuple[float, float, float] | None = None
    errors: list[str] = field(default_factory=list)


def staff_form(number: int) -> dict[str, Any]:
    """The answers of a staff application as the apply flow stores them."""
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[(number // len(FIRST_NAMES)) % len(LAST_NAMES)]
    title_th, first_th, last_th = THAI_NAMES[number % len(THAI_NAMES)]
    return {
        "unit": ["district-1004", "district-1004-registration"],
        "unit_note": None,
        "position": "นักวิชาการคอมพิวเตอร์",
        "title_th": title_th,
        "first_name_th": first_th,
        "last_name_th": last_th,
        "title_en": "Mr." if title_th == "นาย" else "Ms.",
        "first_name_en": first,
        "last_name_en": last,
        "nationality": "ไทย",
        "mobile": f"+6681{number:07d}",
        "email": f"{first.lower()}.{number}@example.com",
    }


def worker_env(
    database_url: str, folder: Path, slapd: Slapd, sms_url: str, sms_key: str
) -> dict[str, str]:
    """The settings of `bmabot worker` (and of the preparation, which must share the key)."""
    return {
        "BMABOT_DATABASE_URL": database_url,
        "BMABOT_DATA_DIR": str(folder / "data"),
        "BMABOT_SECRET_KEY": secrets.token_urlsafe(36),
        "BMABOT_LINE_REVIEW_GROUP_ID": REVIEW_GROUP,
        "BMABOT_REVIEWERS": f"line:{REVIEWER}",  # the preparation presses approve as them
        "BMABOT_DIRECTORY": "ldap",
        "BMABOT_LDAP_URL": slapd.url,
        "BMABOT_LDAP_BIND_DN": slapd.bind_dn,
        "BMABOT_LDAP_PASSWORD": slapd.password,
        "BMABOT_LDAP_USERS_DN": slapd.people_dn,
        "BMABOT_MAIL_DOMAIN": MAIL_DOMAIN,
        "BMABOT_SMS": "http",
        "BMABOT_SMS_PROVIDER": "json",
        "BMABOT_SMS_URL": sms_url,
        "BMABOT_SMS_API_KEY": sms_key,
        "BMABOT_SMS_PER_HOUR": "0",  # the worker's own rate, not the budget's, is measured
    }


async def prepare(env: dict[str, str], count: int) -> int:
    """File `count` applications and approve each as a reviewer's press; the jobs queued."""
    # bmabot's own code, imported only here: the load cells drive it over HTTP alone.
    from sqlalchemy import func, select

    from bot.flows.incoming import Incoming, Kind
    from bot.handlers.review import ReviewHandler
    from core.directory.port import MemoryDirectory
    from core.requests.applications import ApplicationForm, Submitted, submit_application
    from core.settings import Settings
    from core.storage.models import Job
    from webhooks.compose import open_services

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{name.removeprefix("BMABOT_").lower(): value for name, value in env.items()},
    )
    key = env["BMABOT_SECRET_KEY"]
    # The directory is the worker's business: preparing never touches it.
    async with open_services(settings, secret_key=key, directory=MemoryDirectory()) as services:
        review = ReviewHandler(services, services.policy)
        for start in range(0, count, BATCH):
            numbers = range(start, min(count, start + BATCH))
            async with services.sessions.begin() as session:
                filed = []
                for number in numbers:
                    form = ApplicationForm("staff", staff_form(number), national_id(number), {})
                    result = await submit_application(
                        session,
                        services.vault,
                        channel="line",
                        user_id=f"U{number:032x}",
                        form=form,
                        now=services.clock.now(),
                    )
                    assert isinstance(result, Submitted), result
                    filed.append(result.application_id)
            async with services.sessions.begin() as session:
                for application_id in filed:
                    press = Incoming(
                        "line",
                        REVIEWER,
                        REVIEW_GROUP,
                        Kind.BUTTON,
                        data=f"rv:a:{application_id}",
                        in_group=True,
                    )
                    await review.turn(session, press)
        async with services.sessions() as session:
            queued = await session.scalar(
                select(func.count()).select_from(Job).where(Job.kind == "account.create")
            )
    return int(queued or 0)


def launch_worker(env: dict[str, str], folder: Path) -> Server:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BMABOT_")}
    log = folder / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(VENV_BIN / "bmabot"), "worker"],
            cwd=folder,  # no .env of the project's folder is read
            env=clean | env,
            stdout=output,
            stderr=output,
        )
    return Server("worker", process, "", log)


async def run_approvals(
    cell: ApprovalsCell,
    folder: Path,
    sms: FakeSms,
    sms_url: str,
    clock: Callable[[], float] = time.monotonic,
) -> Result:
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    sms.reset()
    result: Result = {"cell": cell.name, "server": "approvals", "database": cell.database}
    result |= {"accounts": cell.accounts, "code": await asyncio.to_thread(code_version)}
    slapd = await start_slapd()
    try:
        if cell.database == "sqlite":
            database_url = f"sqlite+aiosqlite:///{folder}/bmabot.db"
        else:
            database_url = await fresh_postgres()
        env = worker_env(database_url, folder, slapd, sms_url, sms.api_key)
        started = clock()
        queued = await prepare(env, cell.accounts)
        result["prepare_s"] = round(clock() - started, 2)
        if queued != cell.accounts:
            raise RuntimeError(f"{cell.accounts} approvals queued {queued} account jobs")
        engine = _engine(env)
        try:
            worker = launch_worker(env, folder)
            try:
                launched = clock()
                result |= await _measure(cell, worker, slapd, sms, engine, clock)
                alive = worker.process.poll() is None
                if alive and await _all_done(engine, cell.accounts):
                    result["all_done_s"] = round(clock() - launched, 2)
            finally:
                await worker.stop()
            result["worker_exit"] = worker.process.returncode
            result |= await _check(cell, engine, env, slapd, sms)
        finally:
            await engine.dispose()
        locked, faults, lines = worker.log_faults()
        result |= {"db_locked": locked, "log_errors": faults, "log_error_lines": lines}
        result["worker_notes"] = worker.notes
    finally:
        await stop_slapd(slapd)
        if cell.database == "postgres":
            await drop_postgres()
    return result


async def _measure(
    cell: ApprovalsCell,
    worker: Server,
    slapd: Slapd,
    sms: FakeSms,
    engine: Any,
    clock: Callable[[], float],
) -> Result:
    """From the worker's start to its last SMS; CPU between the first and the last SMS."""
    samples = Samples()

    def sample(message: Sms) -> None:
        try:
            point = (message.at, worker.cpu_seconds(), proc_cpu_seconds(slapd.pid))
        except OSError as error:  # the process went away: the checks will say so
            samples.errors.append(type(error).__name__)
            return
        if samples.first is None:
            samples.first = point
        samples.last = point

    sms.on_receive = sample
    launched = clock()
    last_count, last_change, last_look = 0, launched, launched
    # PostgreSQL's CPU for bmabot's connections, read by this loop (within 20 ms of an SMS).
    backends: list[int] = []
    postgres: tuple[int, float] | None = None  # (SMS received, CPU s) at the first reading
    while len(sms.received) < cell.accounts:
        await asyncio.sleep(0.02)
        now = clock()
        if worker.process.poll() is not None:
            break
        if len(sms.received) != last_count:
            last_count, last_change = len(sms.received), now
            if cell.database == "postgres" and postgres is None:
                backends = await postgres_backends()
                postgres = (len(sms.received), cpu_of(backends))
        limit = START_LIMIT if last_count == 0 else STALL_LIMIT
        if now - last_change > limit:
            break
        if now - last_change > 2 and now - last_look > 1:  # jobs that failed send nothing
            last_look = now
            jobs = (await _database_counts(engine))["jobs"]
            if not jobs.get("pending") and not jobs.get("running"):
                break
    sms.on_receive = None
    alive = worker.process.poll() is None
    result: Result = {"rss_mb": round(worker.rss_mb(), 1) if alive else None}
    if postgres is not None and len(sms.received) > postgres[0]:
        accounts = len(sms.received) - postgres[0]
        postgres_ms = (cpu_of(backends) - postgres[1]) * 1000 / accounts
        result["postgres_cpu_ms_per_account"] = round(postgres_ms, 2)
    result["sampling_errors"] = samples.errors
    result["worker_cpu_s"] = round(worker.cpu_seconds(), 2) if alive else None  # start included
    received = len(sms.received)
    first, last = samples.first, samples.last
    if first is None or last is None or received < 2:
        return result | {"sms_received": received, "accounts_per_s": None}
    span = last[0] - first[0]
    between = max(received - 1, 1)  # accounts made after the first SMS, up to the last
    return result | {
        "first_sms_s": round(first[0] - launched, 2),
        "run_s": round(span, 3),
        "accounts_per_s": round(between / span, 1) if span > 0 else None,
        "cpu_ms_per_account": round((last[1] - first[1]) * 1000 / between, 2),
        "slapd_cpu_ms_per_account": round((last[2] - first[2]) * 1000 / between, 2),
    }


async def _check(
    cell: ApprovalsCell, engine: Any, env: dict[str, str], slapd: Slapd, sms: FakeSms
) -> Result:
    """Every request one entry and one SMS, every job done; a sample password must be changed."""
    entries = await asyncio.to_thread(_entries, slapd)
    references = Counter(entry.get("employeeNumber") for entry in entries)
    uids = {entry["uid"]: entry for entry in entries}
    keys = Counter(message.key for message in sms.received)
    numbers = Counter(message.to for message in sms.received)
    mismatched = sum(
        1
        for message in sms.received
        if message.user_name not in uids
        or uids[message.user_name].get("mobile", "").removeprefix("+") != message.to
    )
    database = await _database_counts(engine)
    sample = await _password_state(env, sms.received[-1]) if sms.received else None
    failures = []
    if len(entries) != cell.accounts or len(references) != cell.accounts:
        failures.append(f"{len(entries)} entries for {len(references)} requests")
    if len(uids) != len(entries):
        failures.append("a user name twice")
    if len(sms.received) != cell.accounts or len(keys) != cell.accounts:
        failures.append(f"{len(sms.received)} SMS, {len(keys)} keys")
    if len(numbers) != len(sms.received):
        failures.append("an SMS twice to one number")
    if mismatched:
        failures.append(f"{mismatched} SMS name no entry of that number")
    if database["jobs"].get("done") != cell.accounts or set(database["jobs"]) - {"done"}:
        failures.append(f"jobs {database['jobs']}")
    if database["applications"].get("account_created") != cell.accounts:
        failures.append(f"applications {database['applications']}")
    if sms.problems:
        failures.append(f"SMS gateway saw {dict(sms.problems)}")
    if sample not in (None, "must_change"):
        failures.append(f"a temporary password checks as {sample}")
    return {
        "ldap_entries": len(entries),
        "sms_received": len(sms.received),
        "sms_keys": len(keys),
        "jobs": database["jobs"],
        "applications": database["applications"],
        "outgoing_queued": database["outgoing"],
        "sample_password": sample,
        "once_each": not failures,
        "check_failures": failures,
    }


def _entries(slapd: Slapd) -> list[dict[str, str]]:
    from ldap3 import NONE, SUBTREE, Connection, Server

    server = Server(slapd.url, get_info=NONE, connect_timeout=5)
    connection = Connection(server, slapd.bind_dn, slapd.password, auto_bind=True)
    try:
        found = connection.extend.standard.paged_search(
            slapd.people_dn,
            "(objectClass=inetOrgPerson)",
            SUBTREE,
            attributes=["uid", "employeeNumber", "mobile"],
            paged_size=500,
            generator=False,
        )
        return [
            {
                name: _first(entry["attributes"].get(name))
                for name in ("uid", "employeeNumber", "mobile")
            }
            for entry in found
            if entry.get("type") == "searchResEntry"
        ]
    finally:
        connection.unbind()


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _engine(env: dict[str, str]) -> Any:
    from core.storage.db import make_engine

    return make_engine(env["BMABOT_DATABASE_URL"])


async def _database_counts(engine: Any) -> dict[str, dict[str, int]]:
    """Jobs and applications by status, and the messages queued for the chats (a read)."""
    from sqlalchemy import func, select

    from core.storage.db import READ_ONLY
    from core.storage.models import Application, Job, OutboxMessage

    async with engine.connect() as connection:
        connection = await connection.execution_options(**{READ_ONLY: True})
        jobs = await connection.execute(
            select(Job.status, func.count())
            .where(Job.kind == "account.create")
            .group_by(Job.status)
        )
        applications = await connection.execute(
            select(Application.status, func.count()).group_by(Application.status)
        )
        outgoing = await connection.scalar(select(func.count()).select_from(OutboxMessage))
        return {
            "jobs": {str(status): int(n) for status, n in jobs},
            "applications": {str(status): int(n) for status, n in applications},
            "outgoing": {"rows": int(outgoing or 0)},
        }


async def _all_done(engine: Any, count: int, limit: float = STALL_LIMIT) -> bool:
    """Wait until every account job is done (the last one marks its request after its SMS);
    False as soon as none is left to run (some failed) or after `limit` seconds."""
    give_up = time.monotonic() + limit
    while time.monotonic() < give_up:
        jobs = (await _database_counts(engine))["jobs"]
        if jobs.get("done") == count:
            return True
        if not jobs.get("pending") and not jobs.get("running"):
            return False  # some failed: the checks say which
        await asyncio.sleep(0.05)
    return False


async def _password_state(env: dict[str, str], message: Sms) -> str:
    """What the directory says of the last SMS's password: 'must_change' for a new account."""
    from core.directory.ldap import LdapDirectory

    directory = LdapDirectory(
        env["BMABOT_LDAP_URL"],
        env["BMABOT_LDAP_BIND_DN"],
        env["BMABOT_LDAP_PASSWORD"],
        env["BMABOT_LDAP_USERS_DN"],
        MAIL_DOMAIN,
    )
    return str((await directory.check_password(message.user_name, message.password)).value)
