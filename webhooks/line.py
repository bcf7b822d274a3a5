"""The LINE channel: verify and store webhook events, read them as Incoming, reply or push."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from linebot.v3.messaging import (
    ApiException,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.channels import DeliveryError
from bot.handlers.media import MediaFetchError
from bot.handlers.rendering import from_json
from core.inbox import NewEvent
from core.outbox import Outgoing
from webhooks.appkeys import DISPATCHER, INBOX_WRITER, METRICS, SETTINGS
from webhooks.line_messages import chunks, to_line_messages

logger = logging.getLogger(__name__)
security = logging.getLogger("bmabot.security")

CHANNEL = "line"
MESSAGE_KINDS = {
    "text": Kind.TEXT,
    "image": Kind.PHOTO,
    "file": Kind.FILE,
    "sticker": Kind.STICKER,
}
EVENT_KINDS = {"postback": Kind.BUTTON, "follow": Kind.FOLLOW, "unfollow": Kind.UNFOLLOW}


def verify_line_signature(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """X-Line-Signature is base64(HMAC-SHA256(secret, raw body)); compared in constant time."""
    if not signature:
        return False
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def parse_line_events(body: bytes) -> list[NewEvent]:
    """The events of a verified body worth storing; raises ValueError for a malformed body."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise ValueError("not a LINE webhook body")
    return [event for raw in document["events"] if (event := _new_event(raw)) is not None]


def _new_event(raw: Any) -> NewEvent | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("webhookEventId"), str):
        return None
    owner = _owner(raw.get("source"))
    if owner is None:
        return None
    return NewEvent(f"{CHANNEL}:{raw['webhookEventId']}", CHANNEL, owner, raw)


def _owner(source: Any) -> str | None:
    """Whose conversation an event belongs to: the person, or the group when nobody is named."""
    if not isinstance(source, dict):
        return None
    owner = source.get("userId") or source.get("groupId") or source.get("roomId")
    return owner if isinstance(owner, str) and 0 < len(owner) <= 64 else None


def to_incoming(event: Mapping[str, Any]) -> Incoming | None:
    """A stored LINE event as a neutral Incoming; None for events nobody answers."""
    source = event.get("source") or {}
    user_id = source.get("userId")
    chat_id = source.get("groupId") or source.get("roomId") or user_id
    kind, fields = _kind_and_fields(event)
    if kind is None or not chat_id or (user_id is None and kind is not Kind.JOIN):
        return None
    return Incoming(
        CHANNEL,
        user_id or chat_id,
        chat_id,
        kind,
        in_group=source.get("type") in ("group", "room"),
        reply_token=event.get("replyToken"),
        **fields,
    )


def _kind_and_fields(event: Mapping[str, Any]) -> tuple[Kind | None, dict[str, Any]]:
    event_type = event.get("type")
    if event_type == "message":
        message = event.get("message") or {}
        kind = MESSAGE_KINDS.get(str(message.get("type")), Kind.OTHER)
        if kind is Kind.TEXT:
            return kind, {"text": str(message.get("text", ""))}
        if kind is Kind.PHOTO:
            return kind, {"media": MediaRef(str(message.get("id")))}
        return kind, {}
    if event_type == "postback":
        return Kind.BUTTON, {"data": str((event.get("postback") or {}).get("data", ""))}
    if event_type == "join":
        return Kind.JOIN, {}
    return EVENT_KINDS.get(str(event_type)), {}


class LineChannel:
    """Talks to LINE through the official SDK: two clients, messaging and data hosts."""

    name = CHANNEL

    def __init__(self, api: AsyncMessagingApi, blob: AsyncMessagingApiBlob) -> None:
        self.api = api
        self.blob = blob

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        return to_incoming(payload)

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        try:
            content = await self.blob.get_message_content(media.ref)
        except (ApiException, aiohttp.ClientError, TimeoutError) as error:
            raise MediaFetchError(f"LINE content {type(error).__name__}") from None
        return bytes(content)[: limit + 1]

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        messages = to_line_messages([from_json(raw) for raw in outgoing.messages])
        if not messages:
            return  # only edits of sent messages, which LINE cannot make
        batches = chunks(messages)
        replied = outgoing.reply_token is not None and outgoing.reply_by is not None
        if replied and now < outgoing.reply_by:  # type: ignore[operator]
            replied = await self._reply(outgoing.reply_token or "", batches[0])
        else:
            replied = False
        for index, batch in enumerate(batches):
            if index == 0 and replied:
                continue
            await self._push(outgoing, index, batch)

    async def show_loading(self, incoming: Incoming) -> None:
        request = ShowLoadingAnimationRequest(chat_id=incoming.user_id, loading_seconds=20)
        await self.api.show_loading_animation(request)

    async def _reply(self, token: str, batch: list[Message]) -> bool:
        """Reply while the token is fresh; a used or expired token means push instead."""
        try:
            await self.api.reply_message(ReplyMessageRequest(reply_token=token, messages=batch))
        except ApiException as error:
            if error.status == 400:
                return False
            raise _delivery_error(error) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(
                f"LINE unreachable: {type(error).__name__}", retryable=True
            ) from None
        return True

    async def _push(self, outgoing: Outgoing, index: int, batch: list[Message]) -> None:
        # One retry key per call, the same on every retry: LINE sends a repeated key once.
        key = str(uuid.uuid5(uuid.UUID(outgoing.retry_key), str(index)))
        request = PushMessageRequest(to=outgoing.chat_id, messages=batch)
        try:
            await self.api.push_message(request, x_line_retry_key=key)
        except ApiException as error:
            if error.status == 409:
                return  # already accepted under this retry key
            raise _delivery_error(error) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(
                f"LINE unreachable: {type(error).__name__}", retryable=True
            ) from None


def _delivery_error(error: ApiException) -> DeliveryError:
    status = int(error.status or 0)
    retryable = status == 429 or status >= 500
    details = _error_details(error)
    if not retryable:
        logger.error("LINE refused a message: %s %s", status, details)
    retry_after = (error.headers or {}).get("Retry-After")
    delay = float(retry_after) if retry_after and str(retry_after).isdigit() else None
    return DeliveryError(f"LINE {status}: {details}", retryable=retryable, retry_after=delay)


def _error_details(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
    except (TypeError, ValueError):
        return str(error.reason)
    return json.dumps({"message": body.get("message"), "details": body.get("details")})[:280]


async def line_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/line: verify, store each event once, wake the dispatcher, answer 200."""
    metrics = request.app[METRICS]
    settings = request.app[SETTINGS]
    secret = settings.line_channel_secret
    body = await request.read()
    signature = request.headers.get("X-Line-Signature")
    if secret is None or not verify_line_signature(secret.get_secret_value(), body, signature):
        security.warning("LINE webhook refused: bad or missing signature from %s", request.remote)
        metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="bad_signature")
        return web.json_response({"message": "invalid signature"}, status=401)
    try:
        events = parse_line_events(body)
    except ValueError:
        metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="malformed")
        return web.json_response({"message": "malformed body"}, status=400)
    if events:
        stored = await request.app[INBOX_WRITER](events)
        metrics.count("bmabot_inbox_events_total", stored, channel=CHANNEL)
        request.app[DISPATCHER].wake()
    metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="accepted")
    return web.json_response({})
