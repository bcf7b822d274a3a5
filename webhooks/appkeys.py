"""Typed keys for what the aiohttp application holds (set up in webhooks.app)."""

from __future__ import annotations

from aiohttp import web

from bot.handlers.dispatcher import Dispatcher
from bot.handlers.services import Services
from core.delivery.inbox_writer import InboxWriter
from core.delivery.worker import Worker
from core.settings import Settings
from core.storage.media_links import MediaLinks
from webhooks.metrics import Metrics
from webhooks.monitoring import MonitoringAccess

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
INBOX_WRITER = web.AppKey("inbox_writer", InboxWriter)
METRICS = web.AppKey("metrics", Metrics)
MEDIA_LINKS = web.AppKey("media_links", MediaLinks)
WORKER = web.AppKey("worker", Worker)
MONITORING = web.AppKey("monitoring", MonitoringAccess)  # who reads /metrics
