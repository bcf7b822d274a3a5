"""The simulator page itself, its Thai words, and the panes of SMS sent and accounts made."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from core.clock import thai_date_time
from core.directory.port import MemoryDirectory
from core.sms.port import OutboxSms
from webhooks.appkeys import SERVICES, SETTINGS
from webhooks.web.channel import stream

STATIC = Path(__file__).resolve().parent / "static"
LEDGER_EVERY = 0.5  # seconds between looks at the SMS file and the directory
# Every word the page shows, from locale/th/LC_MESSAGES/demo.po.
PAGE_WORDS = (
    "demo.title",
    "demo.applicant",
    "demo.new_applicant",
    "demo.reviewers",
    "demo.sms",
    "demo.directory",
    "demo.send",
    "demo.type_here",
    "demo.photo",
    "demo.sample_card",
    "demo.nothing_yet",
    "demo.to",
    "demo.user_name",
    "demo.name",
    "demo.mail",
    "demo.kind",
    "demo.reference",
    "demo.locked",
    "demo.applicants",
    "demo.applicant_message",
    "demo.review_message",
    "demo.photo_sent",
    "demo.photo_document",
    "demo.reviewer_name",
)
LEDGER_QUEUES = web.AppKey("ledger_queues", set[asyncio.Queue[Any]])


def add_page_routes(app: web.Application) -> None:
    app[LEDGER_QUEUES] = set()
    app.on_shutdown.append(_close_ledgers)
    app.router.add_get("/", page)
    app.router.add_get("/web/words", words)
    app.router.add_get("/web/ledger", ledger_now)
    app.router.add_get("/web/ledger/events", ledger_events)
    app.router.add_static("/static/", STATIC)


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def words(request: web.Request) -> web.Response:
    catalog = request.app[SERVICES].catalog
    return web.json_response({key.removeprefix("demo."): catalog.text(key) for key in PAGE_WORDS})


async def ledger(app: web.Application) -> dict[str, Any]:
    """The SMS outbox (the demo's phone: temporary passwords show) and the directory's entries."""
    sent = await asyncio.to_thread(OutboxSms(app[SETTINGS].sms_outbox).messages)
    directory = app[SERVICES].directory
    users = directory.users() if isinstance(directory, MemoryDirectory) else []
    return {
        "sms": [
            {
                "at": _shown_time(sms.get("at")),
                **{k: sms.get(k) for k in ("to", "sender", "message")},
            }
            for sms in sent
        ],
        "accounts": [
            {
                "uid": user.uid,
                "name": user.display_name,
                "mail": user.mail,
                "kind": user.employee_type,
                "reference": user.application_reference,
                "locked": user.locked,
            }
            for user in users
        ],
    }


def _shown_time(stamp: str | None) -> str:
    """The outbox's ISO time (UTC) as the cards show theirs: Bangkok, Buddhist-era year."""
    return thai_date_time(datetime.fromisoformat(stamp)) if stamp else ""


async def ledger_now(request: web.Request) -> web.Response:
    return web.json_response(await ledger(request.app))


async def ledger_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: both panes at once, again each time either changes."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    request.app[LEDGER_QUEUES].add(queue)
    watcher = asyncio.create_task(_watch(request.app, queue))
    try:
        return await stream(request, queue)
    finally:
        watcher.cancel()
        request.app[LEDGER_QUEUES].discard(queue)


async def _watch(app: web.Application, queue: asyncio.Queue[Any]) -> None:
    shown = None
    while True:
        now = await ledger(app)
        if now != shown:
            queue.put_nowait(now)
            shown = now
        await asyncio.sleep(LEDGER_EVERY)


async def _close_ledgers(app: web.Application) -> None:
    for queue in app[LEDGER_QUEUES]:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)
