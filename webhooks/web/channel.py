"""The web channel of `bmabot demo`: the simulator page's chats, through the inbox like LINE."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.media import MemoryMedia
from core.delivery.inbox import NewEvent
from core.delivery.outbox import Outgoing
from core.storage.images import MAX_UPLOAD_BYTES
from webhooks.appkeys import DISPATCHER, INBOX_WRITER
from webhooks.web.hub import ChatHub

CHANNEL = "web"
WEB_REVIEW_CHAT = "review"  # the reviewers' group of the simulator
KINDS = {kind.value: kind for kind in (Kind.TEXT, Kind.BUTTON, Kind.PHOTO, Kind.FOLLOW)}
NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")  # demo user ids and chat ids
MAX_TEXT = 2000


class WebChannel:
    """Delivers to the pages open on a chat; photos are the uploads kept in memory."""

    name = CHANNEL

    def __init__(self, hub: ChatHub, photos: MemoryMedia, reviewer_name: str = "") -> None:
        self.hub = hub
        self.photos = photos
        self.reviewer_name = reviewer_name  # the page's one reviewer, named as a platform would

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        kind = KINDS.get(str(payload.get("kind")))
        if kind is None:
            return None
        media = payload.get("media")
        return Incoming(
            CHANNEL,
            str(payload["user"]),
            str(payload["chat"]),
            kind,
            text=str(payload.get("text") or ""),
            data=str(payload.get("data") or ""),
            media=MediaRef(str(media)) if media else None,
            in_group=payload["chat"] == WEB_REVIEW_CHAT,
            origin=payload.get("origin"),
            sender_name=self.reviewer_name if payload["chat"] == WEB_REVIEW_CHAT else "",
        )

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        return await self.photos.fetch(media, limit)

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        for index, raw in enumerate(outgoing.messages):
            said = dict(raw, id=f"m{outgoing.id}-{index}", sender="bot")
            # The page loads images from its own address, whatever PUBLIC_URL says.
            for name in ("image_url", "preview_url"):
                said[name] = _local(raw.get(name))
            self.hub.publish(outgoing.chat_id, said)

    async def show_loading(self, incoming: Incoming) -> None:
        return None  # the bot answers a page within a second or two


def _local(url: Any) -> str | None:
    if not url:
        return None
    parts = urlsplit(str(url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


WEB_CHANNEL = web.AppKey("web_channel", WebChannel)


def add_web_routes(app: web.Application, channel: WebChannel) -> None:
    app[WEB_CHANNEL] = channel
    app.on_shutdown.append(_close_streams)
    app.router.add_post("/web/chats/{chat}/said", say)
    app.router.add_post("/web/chats/{chat}/photos", upload_photo)
    app.router.add_get("/web/chats/{chat}/said", said_so_far)
    app.router.add_get("/web/chats/{chat}/events", chat_events)
    app.router.add_get("/web/photos/{ref}", uploaded_photo)


async def _close_streams(app: web.Application) -> None:
    app[WEB_CHANNEL].hub.close()


def _names(request: web.Request, user: Any) -> tuple[str, str]:
    chat = request.match_info["chat"]
    if not isinstance(user, str) or not NAME.fullmatch(user) or not NAME.fullmatch(chat):
        raise web.HTTPBadRequest(text="user and chat are 1-40 letters, digits, - or _")
    if chat not in (user, WEB_REVIEW_CHAT):
        raise web.HTTPForbidden(text="a person writes in their own chat or the reviewers' group")
    return user, chat


async def say(request: web.Request) -> web.Response:
    """POST {user, kind: text|button|follow, text, data, origin, label}: one event, stored."""
    body = await request.json()
    user, chat = _names(request, body.get("user"))
    kind = str(body.get("kind", "text"))
    if kind not in ("text", "button", "follow"):
        raise web.HTTPBadRequest(text="kind is text, button or follow")
    event = {
        "user": user,
        "chat": chat,
        "kind": kind,
        "text": str(body.get("text") or "")[:MAX_TEXT],
        "data": str(body.get("data") or "")[:64],
        "origin": body.get("origin") if isinstance(body.get("origin"), str) else None,
    }
    # The label is only echoed on the page: the bot routes on the button's data.
    label = str(body.get("label") or "")[:80]
    echo = str(event["text"]) if kind == "text" else label
    await _store(request, event, echo)
    return web.json_response({"ok": True})


async def upload_photo(request: web.Request) -> web.Response:
    """POST the image bytes (any content type) with ?user=...; kept in memory for the bot."""
    user, chat = _names(request, request.query.get("user"))
    content = await _read_limited(request, MAX_UPLOAD_BYTES + 1)
    ref = uuid.uuid4().hex
    request.app[WEB_CHANNEL].photos.add(ref, content)
    event = {"user": user, "chat": chat, "kind": "photo", "media": ref}
    await _store(request, event, "", photo=f"/web/photos/{ref}")
    return web.json_response({"ok": True})


async def _read_limited(request: web.Request, limit: int) -> bytes:
    # Past the limit the rest is dropped: the bot refuses a too-large photo in Thai.
    content = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        content.extend(chunk[: limit - len(content)])
    return bytes(content)


async def _store(
    request: web.Request, event: dict[str, Any], echo: str, photo: str | None = None
) -> None:
    key = uuid.uuid4().hex
    if event["kind"] != "follow":
        mine = {"id": key, "sender": "person", "user": event["user"], "text": echo, "photo": photo}
        request.app[WEB_CHANNEL].hub.publish(event["chat"], mine)
    stored = NewEvent(f"{CHANNEL}:{key}", CHANNEL, event["user"], event)
    await request.app[INBOX_WRITER]([stored])
    request.app[DISPATCHER].received([stored])


async def said_so_far(request: web.Request) -> web.Response:
    return web.json_response(request.app[WEB_CHANNEL].hub.history(request.match_info["chat"]))


async def uploaded_photo(request: web.Request) -> web.Response:
    photos = request.app[WEB_CHANNEL].photos.photos
    content = photos.get(request.match_info["ref"])
    if content is None:
        raise web.HTTPNotFound()
    kind = "image/png" if content.startswith(b"\x89PNG") else "image/jpeg"
    return web.Response(body=content, content_type=kind, headers={"Cache-Control": "no-store"})


async def chat_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the chat so far, then each new message as it is delivered."""
    with request.app[WEB_CHANNEL].hub.listen(request.match_info["chat"]) as queue:
        return await stream(request, queue)


async def stream(request: web.Request, queue: Any) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    try:
        while (item := await queue.get()) is not None:
            await response.write(f"data: {json.dumps(item, ensure_ascii=False)}\n\n".encode())
    except ConnectionResetError:
        pass  # the page was closed
    return response
