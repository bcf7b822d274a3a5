"""Administration from the command line: jobs, the audit trail, suspending accounts, the worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.handlers.services import Services
from bot.handlers.suspension import order_suspension, suspension_jobs
from core.audit.chain import ChainKey
from core.audit.verify import ChainBroken, ChainIntact, verify_chain
from core.clock import thai_date_time
from core.delivery.jobs import FAILED, PENDING, RUNNING, list_jobs
from core.delivery.worker import Worker
from core.directory.port import DirectoryUnavailableError
from core.requests.fulfilment import retry_fulfilment
from core.settings import Settings, require_secret_key, secret_keys
from core.storage.db import upgrade_database_apart
from core.storage.models import Application, AuditEvent
from webhooks.admin.export import cli_actor
from webhooks.compose import open_services, sms_gateway

logger = logging.getLogger("bmabot")


async def jobs_command(settings: Settings, *, retry_id: int | None, show_all: bool) -> int:
    async with open_services(settings, secret_key=require_secret_key(settings)) as services:
        if retry_id is not None:
            async with services.sessions.begin() as session:
                done = await retry_fulfilment(
                    session, retry_id, actor=cli_actor(), now=services.clock.now()
                )
            print(f"job {retry_id} " + ("is pending again" if done else "cannot be retried now"))
            return 0 if done else 1
        statuses = (PENDING, RUNNING, FAILED) if show_all else (PENDING, FAILED)
        async with services.sessions() as session:
            jobs = await list_jobs(session, statuses)
    for job in jobs:
        error = f"  {job.last_error}" if job.last_error else ""
        print(
            f"{job.id:>6}  {job.status:<8} {job.kind:<16} {job.key:<40} "
            f"try {job.attempts}/{job.max_attempts}  due {thai_date_time(job.run_at)}{error}"
        )
    print(f"{len(jobs)} job(s)")
    return 0


async def audit_command(settings: Settings, reference: str) -> int:
    key = require_secret_key(settings)
    async with open_services(settings, secret_key=key) as services, services.sessions() as session:
        application_id = await session.scalar(
            select(Application.id).where(Application.reference == reference.upper())
        )
        if application_id is None:
            print(f"no application {reference}")
            return 1
        events = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.application_id == application_id)
            .order_by(AuditEvent.id)
        )
        for event in events:
            print(
                f"{thai_date_time(event.at, seconds=True)}  {event.actor:<40} {event.action:<24} "
                f"{event.detail or ''}"
            )
    return 0


async def audit_verify_command(settings: Settings) -> int:
    """Check the whole audit chain: one line, exit 0 if intact, 1 at the first broken link."""
    key = require_secret_key(settings)
    # Rows chained before a key rotation verify under the key of their time.
    keys = [ChainKey(key), *(ChainKey(old) for old in secret_keys(settings, key).old.values())]
    async with open_services(settings, secret_key=key) as services, services.sessions() as session:
        verdict = await verify_chain(session, keys)
    print(describe_verdict(verdict))
    return 0 if isinstance(verdict, ChainIntact) else 1


def describe_verdict(verdict: ChainIntact | ChainBroken) -> str:
    if isinstance(verdict, ChainBroken):
        where = f"at row {verdict.row_id}" if verdict.row_id is not None else "at its head"
        return (
            f"audit trail broken {where}: {verdict.problem} "
            f"({verdict.checked} row(s) before it intact)"
        )
    said = f"audit trail intact: {verdict.checked} row(s) checked"
    if verdict.newest_id is not None and verdict.newest_hash is not None:
        said += f", the newest is row {verdict.newest_id} (hash {verdict.newest_hash[:16]})"
    if verdict.before_chain:
        said += (
            f"; {verdict.before_chain} older row(s) from before the chain (migration 0008) "
            "carry no hash and are not checked"
        )
    return said


CLI_ANSWERS = {
    "suspend.done_suspended": "{uid}: suspension recorded",
    "suspend.done_unsuspended": "{uid}: lifting recorded",
    "suspend.already_suspended": "{uid} is suspended already",
    "suspend.not_suspended": "{uid} is not suspended",
    "suspend.directory_down": "the directory does not answer; nothing recorded, try again",
    "suspend.unknown": "no account {uid}",
}


async def accounts_command(settings: Settings, uid: str, reason: str, *, lift: bool) -> int:
    """Record the change, then run its jobs now; what cannot be done now waits for a retry."""
    key = require_secret_key(settings)
    async with (
        open_services(settings, secret_key=key) as services,
        aiohttp.ClientSession() as http,
    ):
        async with services.sessions.begin() as session:
            said = await order_suspension(
                session, services, uid, reason, actor="cli", origin=None, lift=lift
            )
        print(CLI_ANSWERS[said.key].format(uid=uid))
        if said.key not in ("suspend.done_suspended", "suspend.done_unsuspended"):
            return 0 if said.key == "suspend.already_suspended" else 1
        await _run_suspension_jobs(settings, services, http, uid, lift=lift)
    return 0


async def _run_suspension_jobs(
    settings: Settings, services: Services, http: aiohttp.ClientSession, uid: str, *, lift: bool
) -> None:
    directory = services.directory
    jobs = suspension_jobs(services, directory, sms_gateway(settings, http, services.clock))
    worker_id = f"bmabot-cli-{os.getpid()}"
    await Worker(services.sessions, jobs, services.clock, worker_id=worker_id).drain()
    with contextlib.suppress(DirectoryUnavailableError):
        person = await directory.find_user(uid)
        if person is not None and person.locked != lift:
            print(f"{uid} {'unlocked' if lift else 'locked'} in the directory")
    async with services.sessions() as session:
        waiting = await list_jobs(session, (PENDING, FAILED))
    kinds = sorted({job.kind for job in waiting if job.kind in jobs})
    if kinds:
        print(f"jobs waiting for a retry by the worker (bmabot jobs): {', '.join(kinds)}")


async def worker_command(settings: Settings) -> int:
    """The job worker alone, for scale-out; webhooks and delivery stay with `bmabot serve`."""
    from webhooks.app import create_app

    key = require_secret_key(settings)
    await upgrade_database_apart(settings.database_url)  # alembic stays out of the worker
    app = create_app(settings, secret_key=key, dispatch=False, work=True)
    runner = web.AppRunner(app)
    await runner.setup()  # starts the worker; no HTTP site is opened
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    logger.info("bmabot worker running")  # once a SIGTERM stops it gracefully
    await stop.wait()
    await runner.cleanup()
    return 0
