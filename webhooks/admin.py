"""Administration from the command line: jobs, the audit trail, suspending accounts, the worker."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.handlers.suspension import suspend
from core.jobs import FAILED, PENDING, RUNNING, list_jobs, retry
from core.models import Application, AuditEvent
from core.settings import Settings
from webhooks.runtime import local_secret_key, open_services
from webhooks.work import sms_gateway

logger = logging.getLogger("bmabot")


async def jobs_command(settings: Settings, *, retry_id: int | None, show_all: bool) -> int:
    async with open_services(settings, secret_key=local_secret_key(settings)) as services:
        if retry_id is not None:
            async with services.sessions.begin() as session:
                done = await retry(session, retry_id, services.clock.now())
            print(f"job {retry_id} " + ("is pending again" if done else "cannot be retried now"))
            return 0 if done else 1
        statuses = (PENDING, RUNNING, FAILED) if show_all else (PENDING, FAILED)
        async with services.sessions() as session:
            jobs = await list_jobs(session, statuses)
    for job in jobs:
        error = f"  {job.last_error}" if job.last_error else ""
        print(
            f"{job.id:>6}  {job.status:<8} {job.kind:<16} {job.key:<40} "
            f"try {job.attempts}/{job.max_attempts}  due {job.run_at:%Y-%m-%d %H:%M}Z{error}"
        )
    print(f"{len(jobs)} job(s)")
    return 0


async def audit_command(settings: Settings, reference: str) -> int:
    key = local_secret_key(settings)
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
                f"{event.at:%Y-%m-%d %H:%M:%S}Z  {event.actor:<40} {event.action:<24} "
                f"{event.detail or ''}"
            )
    return 0


async def accounts_command(settings: Settings, uid: str, reason: str, *, lift: bool) -> int:

    key = local_secret_key(settings)
    async with (
        open_services(settings, secret_key=key) as services,
        aiohttp.ClientSession() as http,
        services.sessions.begin() as session,
    ):
        sms = sms_gateway(settings, http, services.clock)
        said = await suspend(session, services, sms, uid, reason, actor="cli", lift=lift)
    print(
        {
            "suspend.unknown": f"no account {uid}",
            "suspend.done_suspended": f"{uid} suspended; the user was told",
            "suspend.done_unsuspended": f"{uid} active again; the user was told",
        }[said]
    )
    return 0 if said != "suspend.unknown" else 1


async def worker_command(settings: Settings) -> int:
    """The job worker alone, for scale-out; webhooks and delivery stay with `bmabot serve`."""
    from webhooks.app import create_app

    app = create_app(settings, secret_key=local_secret_key(settings), dispatch=False, work=True)
    runner = web.AppRunner(app)
    await runner.setup()  # starts the worker; no HTTP site is opened
    logger.info("bmabot worker running")
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    return 0
