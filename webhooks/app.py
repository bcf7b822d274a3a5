"""The aiohttp application of `bmabot serve`, `worker` and `demo`: its routes, and the parts
webhooks.compose builds, run for as long as the application runs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.handlers.review_morning import plan_next_morning
from bot.handlers.services import Services
from core.clock import Clock
from core.delivery.backlog import read_backlog
from core.directory.port import DirectoryUnavailableError
from core.settings import Settings, require_secret_key
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
from webhooks.compose import ExtraChannels, open_parts
from webhooks.line.channel import line_webhook
from webhooks.line.setup import line_configured
from webhooks.media import media
from webhooks.metrics import Metrics
from webhooks.monitoring import MonitoringAccess, refused
from webhooks.telegram.settings import telegram_configured

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


Resources = Callable[[web.Application], AsyncIterator[None]]


def _resources(
    secret_key: str | None, clock: Clock | None, dispatch: bool, work: bool, extra: ExtraChannels
) -> Resources:
    async def resources(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        key = secret_key or require_secret_key(settings)
        parts_open = open_parts(
            settings, secret_key=key, clock=clock, extra=extra, observer=app[METRICS]
        )
        async with parts_open as parts, AsyncExitStack() as stack:
            services = parts.services
            async with services.sessions.begin() as session:
                await plan_next_morning(session, services.clock.now())
            app[SERVICES], app[DISPATCHER], app[WORKER] = services, parts.dispatcher, parts.worker
            app[MEDIA_LINKS] = services.media_links
            app[INBOX_WRITER] = parts.inbox
            running = [
                loop for loop, on in ((parts.dispatcher, dispatch), (parts.worker, work)) if on
            ]
            for loop in running:
                task = asyncio.create_task(loop.run())
                stack.callback(task.cancel)  # only if stop() left it running
                # Unwound first: the loop finishes what it holds (a job, a round) and ends.
                stack.push_async_callback(loop.stop)
            yield

    return resources


@web.middleware
async def _timed_webhooks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """How long each webhook waits for its answer (LINE gives up after 2 s). Only the
    routes that exist: a made-up path must not add a series to /metrics for every name."""
    unknown = request.match_info.http_exception is not None
    if unknown or not request.path.startswith("/webhooks/"):
        return await handler(request)
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        channel = request.path.removeprefix("/webhooks/")
        metrics = request.app[METRICS]
        metrics.child(metrics.ack_seconds, channel=channel).observe(time.perf_counter() - started)


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
