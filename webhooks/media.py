"""GET /media/{token}: a document image behind a signed, expiring link, each view audited."""

from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from PIL import Image
from sqlalchemy import select

from core.audit import trail as audit
from core.storage.media_links import Link, Refused
from core.storage.media_views import Closed, Viewable, refused_view, view_document
from core.storage.models import Document
from webhooks.appkeys import MEDIA_LINKS, SERVICES

logger = logging.getLogger(__name__)
PREVIEW_SIDE = 240  # LINE wants a preview of at most 1 MB
NO_STORE = {"Cache-Control": "no-store, private", "X-Content-Type-Options": "nosniff"}


# What a link that opens nothing answers: a status and a short Thai page (catalog key).
CLOSED_PAGES: dict[Refused | Closed, tuple[int, str]] = {
    Refused.FORGED: (403, "media.link_invalid"),
    Refused.EXPIRED: (410, "media.link_expired"),
    Closed.DECIDED: (410, "media.request_decided"),
    Closed.DELETED: (404, "media.photo_deleted"),
}


async def media(request: web.Request) -> web.Response:
    services, links = request.app[SERVICES], request.app[MEDIA_LINKS]
    now, remote = services.clock.now(), request.remote or "-"
    link = links.check(request.match_info["token"], now)
    if not isinstance(link, Link):
        refused_view(link, remote=remote)
        return _closed_page(services, link)
    async with services.sessions.begin() as session:
        shown = await view_document(session, link, remote=remote, at=now)
    if not isinstance(shown, Viewable):
        return _closed_page(services, shown)
    try:
        content = await asyncio.to_thread(services.documents.read, shown.storage_name)
    except FileNotFoundError:
        return _closed_page(services, Closed.DELETED)
    if request.query.get("preview"):
        content = await asyncio.to_thread(_preview, content)
    return web.Response(body=content, content_type="image/jpeg", headers=NO_STORE)


def _closed_page(services: Any, why: Refused | Closed) -> web.Response:
    status, key = CLOSED_PAGES[why]
    text = html.escape(services.catalog.text(key))
    page = (
        '<!doctype html><html lang="th"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>bmabot</title><p>{text}</p></html>"
    )
    return web.Response(status=status, text=page, content_type="text/html", headers=NO_STORE)


def _preview(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def document_reader(services: Any) -> Callable[[int, str], Awaitable[bytes | None]]:
    """For channels that upload documents (Telegram): the bytes, each showing audited."""

    async def read(document_id: int, shown_in: str) -> bytes | None:
        async with services.sessions.begin() as session:
            document = await session.scalar(
                select(Document).where(Document.id == document_id, Document.deleted_at.is_(None))
            )
            if document is None:
                return None
            audit.record(
                session,
                "document.viewed",
                actor=shown_in,
                at=services.clock.now(),
                application_id=document.application_id,
                detail={"document": str(document_id), "via": "upload"},
            )
            name = document.storage_name
        try:
            return await asyncio.to_thread(services.documents.read, name)
        except FileNotFoundError:
            return None

    return read
