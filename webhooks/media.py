"""GET /media/{token}: a document image behind a signed, expiring link, each view audited."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from PIL import Image
from sqlalchemy import select

from core.audit import trail as audit
from core.storage.models import Document
from webhooks.appkeys import MEDIA_LINKS, SERVICES

logger = logging.getLogger(__name__)
PREVIEW_SIDE = 240  # LINE wants a preview of at most 1 MB
NO_STORE = {"Cache-Control": "no-store, private", "X-Content-Type-Options": "nosniff"}


async def media(request: web.Request) -> web.Response:
    services, links = request.app[SERVICES], request.app[MEDIA_LINKS]
    now = services.clock.now()
    document_id = links.document_of(request.match_info["token"], now)
    if document_id is None:
        return web.Response(status=403, text="forbidden", headers=NO_STORE)
    async with services.sessions.begin() as session:
        document = await session.scalar(
            select(Document).where(Document.id == document_id, Document.deleted_at.is_(None))
        )
        if document is None:
            return web.Response(status=404, text="not found", headers=NO_STORE)
        audit.record(
            session,
            "document.viewed",
            actor=f"link:{request.remote}",
            at=now,
            application_id=document.application_id,
            detail={"document": str(document_id)},
        )
        name = document.storage_name
    try:
        content = await asyncio.to_thread(services.documents.read, name)
    except FileNotFoundError:
        return web.Response(status=404, text="not found", headers=NO_STORE)
    if request.query.get("preview"):
        content = await asyncio.to_thread(_preview, content)
    return web.Response(body=content, content_type="image/jpeg", headers=NO_STORE)


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
