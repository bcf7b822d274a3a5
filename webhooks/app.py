"""The aiohttp application factory: the composition root of `bmabot serve`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.handlers.channels import Channel
from bot.handlers.conversation import ConversationHandler
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.rate_limits import RateLimits
from bot.handlers.review_morning import plan_next_morning
from bot.handlers.services import Services
from core.clock import Clock
from core.delivery.backlog import read_backlog
from core.delivery.inbox_writer import InboxWriter
from core.directory.port import DirectoryUnavailableError
from core.settings import Settings, SettingsError
from core.storage.db import sqlite_threads
from webhooks.appkeys import (
    DISPATCHER,
    INBOX_WRITER,
    MEDIA_LINKS,
    METRICS,
    MONITORING,
    SERVICES,
    SETTINGS,
    WORKER,
)
from webhooks.line.channel import LineChannel, line_webhook
from webhooks.line.setup import line_apis
from webhooks.media import document_reader, media
from webhooks.metrics import Metrics
from webhooks.monitoring import MonitoringAccess, refused
from webhooks.runtime import open_services
from webhooks.telegram.settings import telegram_configured
from webhooks.work import build_worker, sms_gateway

logger = logging.getLogger(__name__)
MAX_WEBHOOK_BODY = 1024 * 1024  # platform webhooks are small; photos are fetched, not posted


def create_app(
    settings: Settings,
    *,
    secret_key: str | None = None,
    clock: Clock | None = None,
    dispatch: bool = True,
    work: bool = True,
    telegram_polling: bool = False,
    extra: ExtraChannels | None = None,
) -> web.Application:
    """The production app: /healthz, /metrics and the webhook of each configured channel.

    `dispatch` handles stored events and delivers replies; `work` runs the job worker;
    `extra` adds channels that need no settings (the demo's web simulator).
    """
    line_configured(settings)  # fail at start, naming what is missing
    telegram = telegram_configured(settings, polling=telegram_polling)
    app = web.Application(client_max_size=MAX_WEBHOOK_BODY, middlewares=[_timed_webhooks])
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[MONITORING] = MonitoringAccess.from_settings(settings)
    app.cleanup_ctx.append(_resources(secret_key, clock, dispatch, work, extra or ExtraChannels()))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/media/{token}", media)
    if line_configured(settings):
        app.router.add_post("/webhooks/line", line_webhook)
    if telegram and not telegram_polling:  # when polling, updates come from getUpdates
        # the SDK only where Telegram is served
        from webhooks.telegram.channel import telegram_webhook

        app.router.add_post("/webhooks/telegram", telegram_webhook)
    return app


def line_configured(settings: Settings) -> bool:
    secret, token = settings.line_channel_secret, settings.line_channel_access_token
    if (secret is None) != (token is None):
        raise SettingsError(
            "Invalid settings:\n  BMABOT_LINE_CHANNEL_SECRET and BMABOT_LINE_CHANNEL_ACCESS_TOKEN "
            "go together: set both to serve LINE, or neither"
        )
    return secret is not None


Resources = Callable[[web.Application], AsyncIterator[None]]


@dataclass(frozen=True, slots=True)
class ExtraChannels:
    """Channels made by the caller, each with the chat id of its reviewers' group."""

    channels: Mapping[str, Channel] = field(default_factory=dict)
    review_chats: Mapping[str, str] = field(default_factory=dict)


def _resources(
    secret_key: str | None, clock: Clock | None, dispatch: bool, work: bool, extra: ExtraChannels
) -> Resources:
    async def resources(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        async with AsyncExitStack() as stack:
            services = await stack.enter_async_context(
                open_services(
                    settings, secret_key=secret_key, clock=clock, review_chats=extra.review_chats
                )
            )
            threads = sqlite_threads(services.sessions)  # closed last: the others use them
            if threads is not None:
                stack.push_async_callback(threads.close)
            channels = await _channels(settings, stack, services) | dict(extra.channels)
            handler = ConversationHandler(services, dict(channels))
            dispatcher = Dispatcher(
                handler,
                channels,
                observer=app[METRICS],
                send_lease=timedelta(seconds=settings.send_lease_seconds),
                threads=threads,
                limits=RateLimits(
                    settings.rate_messages_per_minute,
                    settings.rate_photos_per_hour,
                    settings.rate_requests_per_day,
                ),
            )
            links = services.media_links
            http = await stack.enter_async_context(aiohttp.ClientSession())
            sms = sms_gateway(settings, http, services.clock)
            worker = build_worker(settings, services, links, dispatcher, sms)
            async with services.sessions.begin() as session:
                await plan_next_morning(session, services.clock.now())
            app[SERVICES], app[DISPATCHER], app[WORKER] = services, dispatcher, worker
            app[MEDIA_LINKS] = links
            inbox = InboxWriter(services.sessions, services.vault, services.clock, threads)
            stack.push_async_callback(inbox.close)
            app[INBOX_WRITER] = inbox
            running = [loop for loop, on in ((dispatcher, dispatch), (worker, work)) if on]
            for loop in running:
                task = asyncio.create_task(loop.run())
                stack.callback(task.cancel)  # only if stop() left it running
                # Unwound first: the loop finishes what it holds (a job, a round) and ends.
                stack.push_async_callback(loop.stop)
            yield

    return resources


async def _channels(
    settings: Settings, stack: AsyncExitStack, services: Services
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if line_configured(settings):
        api, blob = await stack.enter_async_context(line_apis(settings))
        channels["line"] = LineChannel(api, blob)
    if settings.telegram_bot_token is not None:
        from webhooks.telegram.setup import telegram_channel

        channels["telegram"] = await stack.enter_async_context(
            telegram_channel(settings, document_reader(services))
        )
    return channels


@web.middleware
async def _timed_webhooks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """How long each webhook waits for its answer (LINE gives up after 2 s)."""
    if not request.path.startswith("/webhooks/"):
        return await handler(request)
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        channel = request.path.removeprefix("/webhooks/")
        request.app[METRICS].ack_seconds.labels(channel=channel).observe(
            time.perf_counter() - started
        )


async def healthz(request: web.Request) -> web.Response:
    """The database must answer (else 503); a backlog, failed jobs or the directory being
    down make the service degraded: still taking events, but someone should look. Only the
    status for a caller not allowed the details (a load balancer)."""
    services = request.app[SERVICES]
    access = request.app.get(MONITORING)
    details = access is not None and access.allows(request)
    try:
        backlog = await read_backlog(services.sessions, services.clock)
    except Exception:
        logger.exception("health check: the database is not reachable")
        down = {"status": "unavailable", "database": "down"}
        return web.json_response(down if details else {"status": "unavailable"}, status=503)
    problems = backlog.problems()
    directory = await _directory_health(services)
    if directory == "down":
        problems.append("directory")
    body: dict[str, object] = {
        "status": "degraded" if problems else "ok",
        "database": "up",
        "directory": directory,
        "inbox_pending": backlog.inbox_pending,
        "inbox_oldest_seconds": round(backlog.inbox_oldest_seconds, 1),
        "outbox_unsent": backlog.outbox_unsent,
        "jobs_failed": backlog.jobs_failed,
    }
    if problems:
        body["problems"] = problems
    return web.json_response(body if details else {"status": body["status"]})


async def _directory_health(services: Services) -> str:
    if services.directory is None:
        return "none"
    try:
        await services.directory.find_user("bmabot-health-check")
    except DirectoryUnavailableError:
        return "down"
    return "up"


async def metrics(request: web.Request) -> web.Response:
    if not request.app[MONITORING].allows(request):
        return refused(request)
    services = request.app[SERVICES]
    backlog = await read_backlog(services.sessions, services.clock)
    body = request.app[METRICS].render(backlog.gauges(), backlog.jobs)
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
