"""The LINE channel: verify and store webhook events, read them as Incoming, reply or push."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeGuard

import aiohttp
from aiohttp import web
from linebot.v3.messaging import (
    ApiException,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.async_rest import RESTResponse

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.channels import DeliveryError, UnreadableEventError
from core.audit.security_log import Event, security_event
from core.delivery.inbox import NewEvent
from core.delivery.outbox import Outgoing
from webhooks.appkeys import DISPATCHER, INBOX_WRITER, METRICS, SETTINGS
from webhooks.json_body import read_json
from webhooks.line.content import message_content
from webhooks.line.messages import LineLimitError, chunks, line_body, line_json

logger = logging.getLogger(__name__)

CHANNEL = "line"
PROFILE_SECONDS = 5.0  # a reviewer's name is a courtesy: the round waits no longer for it
MESSAGE_KINDS = {
    "text": Kind.TEXT,
    "image": Kind.PHOTO,
    "file": Kind.FILE,
    "sticker": Kind.STICKER,
}
EVENT_KINDS = {"postback": Kind.BUTTON, "follow": Kind.FOLLOW, "unfollow": Kind.UNFOLLOW}
MAX_ID = 64  # user, group, room and message ids: LINE's are 33 characters or fewer
MAX_EVENT_ID = 128  # a webhookEventId is a 26-character ULID; the inbox key holds 160
MAX_REPLY_TOKEN = 256  # as the outbox stores it
REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"
Json = dict[str, Any]


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
    document = read_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise ValueError("not a LINE webhook body")
    return [event for raw in document["events"] if (event := _new_event(raw)) is not None]


def _new_event(raw: Any) -> NewEvent | None:
    if not isinstance(raw, dict) or not _is_id(raw.get("webhookEventId"), MAX_EVENT_ID):
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
    return owner if _is_id(owner) else None


def _is_id(value: Any, longest: int = MAX_ID) -> TypeGuard[str]:
    """LINE's ids and tokens are short printable ASCII; anything else (a NUL, which
    PostgreSQL refuses in text, or a control character) is no id LINE made."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= longest
        and value.isascii()
        and value.isprintable()
    )


def to_incoming(event: Mapping[str, Any]) -> Incoming | None:
    """A stored LINE event as a neutral Incoming; None for events nobody answers;
    UnreadableEventError for a shape LINE never sends.

    Stored events are checked for their shape here too: they are only as sound as the body.
    """
    source = event.get("source")
    if not isinstance(source, dict):
        raise UnreadableEventError("no source")
    user_id, chat_id = _ids(source)
    if chat_id is None:
        raise UnreadableEventError("no chat or user id")
    kind, fields = _kind_and_fields(event)
    if kind is None or (user_id is None and kind is not Kind.JOIN):
        return None
    return Incoming(
        CHANNEL,
        user_id or chat_id,
        chat_id,
        kind,
        in_group=source.get("type") in ("group", "room"),
        reply_token=_reply_token(event.get("replyToken")),
        **fields,
    )


def _ids(source: dict[str, Any]) -> tuple[str | None, str | None]:
    """The person and the chat (their group or room, else their own); (None, None) if odd."""
    user_id = source.get("userId")
    chat_id = source.get("groupId") or source.get("roomId") or user_id
    if not _is_id(chat_id) or not (user_id is None or _is_id(user_id)):
        return None, None
    return user_id, chat_id


def _reply_token(token: Any) -> str | None:
    return token if _is_id(token, MAX_REPLY_TOKEN) else None


def _kind_and_fields(event: Mapping[str, Any]) -> tuple[Kind | None, dict[str, Any]]:
    event_type = event.get("type")
    if event_type == "message":
        return _message_fields(event.get("message"))
    if event_type == "postback":
        postback = event.get("postback")
        data = postback.get("data", "") if isinstance(postback, dict) else None
        if not isinstance(data, str):
            raise UnreadableEventError("a postback without data")
        return Kind.BUTTON, {"data": data}
    if event_type == "join":
        return Kind.JOIN, {}
    return (EVENT_KINDS.get(event_type) if isinstance(event_type, str) else None), {}


def _message_fields(message: Any) -> tuple[Kind, dict[str, Any]]:
    message_type = message.get("type") if isinstance(message, dict) else None
    if not isinstance(message_type, str):
        raise UnreadableEventError("a message without a type")
    kind = MESSAGE_KINDS.get(message_type, Kind.OTHER)
    if kind is Kind.TEXT:
        text = message.get("text", "")
        if not isinstance(text, str):
            raise UnreadableEventError("a text message whose text is not text")
        return kind, {"text": text}
    if kind is Kind.PHOTO:
        message_id = message.get("id")
        if not _is_id(message_id):
            raise UnreadableEventError("a photo without an id")
        return kind, {"media": MediaRef(message_id)}
    return kind, {}


class LineChannel:
    """Talks to LINE through the official SDK: two clients, messaging and data hosts."""

    name = CHANNEL

    def __init__(self, api: AsyncMessagingApi, blob: AsyncMessagingApiBlob) -> None:
        self.api = api
        self.blob = blob

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        return to_incoming(payload)

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        return await message_content(self.blob, media.ref, limit)

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        messages = _line_messages(outgoing)
        if not messages:
            return  # only edits of sent messages, which LINE cannot make
        try:
            await self._deliver(outgoing, chunks(messages), now)
        except DeliveryError:
            raise
        except Exception as error:  # a bug costs this row a retry, not the sender its loop
            name = type(error).__name__
            logger.error("delivery %s failed unexpectedly: %s", outgoing.id, name)
            raise DeliveryError(f"LINE delivery failed: {name}", retryable=True) from None

    async def _deliver(
        self, outgoing: Outgoing, batches: list[list[bytes]], now: datetime
    ) -> None:
        token, reply_by = outgoing.reply_token, outgoing.reply_by
        fresh = token is not None and reply_by is not None and now < reply_by
        replied = fresh and await self._reply(outgoing, token or "", batches[0])
        for index, batch in enumerate(batches):
            if index == 0 and replied:
                continue
            await self._push(outgoing, index, batch)

    async def show_loading(self, incoming: Incoming) -> None:
        request = ShowLoadingAnimationRequest(chat_id=incoming.user_id, loading_seconds=20)
        await self.api.show_loading_animation(request)

    async def display_name(self, incoming: Incoming) -> str | None:
        """The person's LINE name: their profile as a member of the group or room the event
        came from, else as a friend of the bot; None when LINE does not say (left, blocked)."""
        chat, user = incoming.chat_id, incoming.user_id
        try:
            async with asyncio.timeout(PROFILE_SECONDS):
                if chat.startswith("C"):
                    profile: Any = await self.api.get_group_member_profile(chat, user)
                elif chat.startswith("R"):
                    profile = await self.api.get_room_member_profile(chat, user)
                else:
                    profile = await self.api.get_profile(user)
        except (ApiException, aiohttp.ClientError, TimeoutError) as error:
            logger.info("no LINE profile for a reviewer: %s", type(error).__name__)
            return None
        name = getattr(profile, "display_name", None)
        return name if isinstance(name, str) else None

    async def _reply(self, outgoing: Outgoing, token: str, batch: list[bytes]) -> bool:
        """Reply while the token is fresh; a used or expired token means push instead.

        Except for a batch that may have gone out before a restart: only this service holds
        the token, and LINE refuses a fresh one only once it was used, so it was delivered.
        (The pushes after it carry retry keys: LINE drops those it already took.)
        """
        try:
            await self._post(REPLY, {"replyToken": token}, batch)
        except ApiException as error:
            if error.status != 400:
                raise _delivery_error(error) from None
            if outgoing.maybe_sent and _token_refused(error):
                logger.info("delivery %s went out before a restart: not repeated", outgoing.id)
                return True
            return False
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(
                f"LINE unreachable: {type(error).__name__}", retryable=True
            ) from None
        return True

    async def _push(self, outgoing: Outgoing, index: int, batch: list[bytes]) -> None:
        # One retry key per call, the same on every retry: LINE sends a repeated key once.
        key = str(uuid.uuid5(uuid.UUID(outgoing.retry_key), str(index)))
        try:
            await self._post(PUSH, {"to": outgoing.chat_id}, batch, {"X-Line-Retry-Key": key})
        except ApiException as error:
            if error.status == 409:
                return  # already accepted under this retry key
            raise _delivery_error(error) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(
                f"LINE unreachable: {type(error).__name__}", retryable=True
            ) from None

    async def _post(
        self,
        path: str,
        fields: Json,
        messages: list[bytes],
        headers: dict[str, str] | None = None,
    ) -> None:
        """POST `fields` and the messages to LINE through the SDK's client: its session,
        host, token, user agent and proxy, its ApiException for an answer that is not 2xx.

        The body is joined from each message's JSON, encoded once per distinct message
        (line_json). The SDK's request would encode the whole body again on every call,
        ASCII-escaped, and aiohttp that text once more (measured: 12 % of a reply's time
        on the event loop under load, issue 13); its typed calls would first build and
        validate the body through pydantic models.
        """
        client, rest = self.api.api_client, self.api.api_client.rest_client
        sent = {**client.default_headers, "Content-Type": "application/json", **(headers or {})}
        async with rest.pool_manager.post(
            client.configuration.host + path,
            data=line_body(fields, messages),
            headers=sent,
            proxy=rest.proxy,
            proxy_headers=rest.proxy_headers,
        ) as response:
            data = await response.read()
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=RESTResponse(response, data))


def _line_messages(outgoing: Outgoing) -> list[bytes]:
    """The stored messages as LINE's; one LINE can never take fails for good (no retry)."""
    try:
        return [message for raw in outgoing.messages for message in line_json(raw)]
    except (ValueError, TypeError) as error:  # a LINE limit, or a broken stored row
        # Only our own limit errors are quoted: others (pydantic's) may hold what was typed.
        reason = str(error) if isinstance(error, LineLimitError) else type(error).__name__
        logger.error("delivery %s cannot be shown on LINE: %s", outgoing.id, reason)
        raise DeliveryError(f"not a LINE message: {reason}", retryable=False) from None


def _token_refused(error: ApiException) -> bool:
    try:
        body = json.loads(error.body or "{}")
    except (TypeError, ValueError):
        return False
    return isinstance(body, dict) and body.get("message") == "Invalid reply token"


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
    """POST /webhooks/line: verify, store each event once, hand them to the dispatcher, 200."""
    metrics = request.app[METRICS]
    settings = request.app[SETTINGS]
    secret = settings.line_channel_secret
    body = await request.read()
    signature = request.headers.get("X-Line-Signature")
    if secret is None or not verify_line_signature(secret.get_secret_value(), body, signature):
        security_event(Event.SIGNATURE_REFUSED, channel=CHANNEL, remote=request.remote or "-")
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
        request.app[DISPATCHER].received(events)
    metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="accepted")
    return web.json_response({})
