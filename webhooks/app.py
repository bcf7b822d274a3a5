"""The aiohttp application factory: the composition root of `bmabot serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack

from aiohttp import web
from sqlalchemy import text

from bot.handlers.channels import Channel
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.dispatcher import Dispatcher
from core.clock import Clock
from core.inbox import NewEvent, pending_count, store_events
from core.outbox import unsent_count
from core.settings import Settings, SettingsError
from webhooks.appkeys import (
    DISPATCHER,
    INBOX_WRITER,
    METRICS,
    SERVICES,
    SETTINGS,
    InboxWriter,
)
from webhooks.line import LineChannel, line_webhook
from webhooks.line_setup import line_apis
from webhooks.metrics import Metrics
from webhooks.runtime import open_services

logger = logging.getLogger(__name__)
MAX_WEBHOOK_BODY = 1024 * 1024  # platform webhooks are small; photos are fetched, not posted


def create_app(
    settings: Settings,
    *,
    secret_key: str | None = None,
    clock: Clock | None = None,
    dispatch: bool = True,
) -> web.Application:
    """The production app: /healthz, /metrics and the webhook of each configured channel."""
    line_configured(settings)  # fail at start, naming what is missing
    app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_resources(secret_key, clock, dispatch))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if line_configured(settings):
        app.router.add_post("/webhooks/line", line_webhook)
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


def _resources(secret_key: str | None, clock: Clock | None, dispatch: bool) -> Resources:
    async def resources(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        async with AsyncExitStack() as stack:
            services = await stack.enter_async_context(
                open_services(settings, secret_key=secret_key, clock=clock)
            )
            channels = await _channels(settings, stack)
            handler = ConversationHandler(services, dict(channels))
            dispatcher = Dispatcher(handler, channels)
            app[SERVICES], app[DISPATCHER] = services, dispatcher
            app[INBOX_WRITER] = _inbox_writer(services)
            if dispatch:
                stack.push_async_callback(dispatcher.stop)
                runner = asyncio.create_task(dispatcher.run())
                stack.callback(runner.cancel)
            yield

    return resources


async def _channels(settings: Settings, stack: AsyncExitStack) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if line_configured(settings):
        api, blob = await stack.enter_async_context(line_apis(settings))
        channels["line"] = LineChannel(api, blob)
    return channels


def _inbox_writer(services: Services) -> InboxWriter:
    """Storing events is one small transaction behind one function, so it can be batched."""

    async def write(events: Sequence[NewEvent]) -> int:
        async with services.sessions.begin() as session:
            return await store_events(session, services.vault, events, services.clock.now())

    return write


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[SERVICES].sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        logger.exception("health check: the database is not reachable")
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "up"})


async def metrics(request: web.Request) -> web.Response:
    async with request.app[SERVICES].sessions() as session:
        gauges = {
            "bmabot_inbox_pending": await pending_count(session),
            "bmabot_outbox_unsent": await unsent_count(session),
        }
    body = request.app[METRICS].render(gauges)
    return web.Response(text=body, content_type="text/plain", charset="utf-8")
