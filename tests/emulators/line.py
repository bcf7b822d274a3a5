"""An in-memory LINE Messaging API that the bot's real line-bot-sdk v3 clients talk to in tests."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import io
import itertools
import json
import re
import secrets
import time
import unicodedata
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

Json = dict[str, Any]
Problem = tuple[str, str]  # (property, message), as in LINE's error "details"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Sent = tuple[int, Json]  # the bot's webhook status and the event it was sent
Group = str | None

REPLY_TOKEN_SECONDS = 60.0
AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)
MESSAGE_TYPES = frozenset(
    {"text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap", "template"}
    | {"flex", "coupon"}
)
ACTION_TYPES = frozenset(
    {"postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location"}
    | {"richmenuswitch", "clipboard"}
)
QUICK_REPLY_ONLY_ACTIONS = frozenset({"camera", "cameraRoll", "location"})
URI = re.compile(r"(?:https?://[^\s/?#]+[^\s]*|line://\S+|tel:\+?[0-9-]{3,20})", re.ASCII)
# Grapheme_Cluster_Break=SpacingMark or ZWJ: these join the previous cluster although they are
# not in a Unicode "M" category (SARA AM in Thai and Lao, the emoji zero-width joiner).
_CLUSTER_EXTENDERS = frozenset({0x0E33, 0x0EB3, 0x200D})
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def utf16_length(text: str) -> int:
    """Length as LINE counts text: UTF-16 code units, so 🍎 counts 2."""
    return len(text.encode("utf-16-le")) // 2


def grapheme_count(text: str) -> int:
    """User-perceived characters as LINE counts labels: กี่ (ก + vowel + tone mark) counts 1.

    Covers combining marks (Thai U+0E31, U+0E34–U+0E3A, U+0E47–U+0E4E are category Mn), SARA AM,
    emoji modifiers and ZWJ sequences; flags (regional-indicator pairs) count 2, a known gap.
    """
    count, after_joiner = 0, False
    for char in text:
        code = ord(char)
        joins = unicodedata.category(char).startswith("M") or code in _CLUSTER_EXTENDERS
        if count and (joins or after_joiner or code in _EMOJI_MODIFIERS):
            after_joiner = code == 0x200D
            continue
        count, after_joiner = count + 1, False
    return count


def new_ulid() -> str:
    """A ULID like LINE's webhookEventId: 48-bit milliseconds then 80 random bits, base32."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_id(prefix: str) -> str:
    """A LINE-shaped id: U (user), C (group) or R (room) and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def sign(channel_secret: str, body: bytes) -> str:
    """The X-Line-Signature of a webhook body: base64 HMAC-SHA256 keyed with the secret."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# --- LINE's limits, as pure checks returning (property, message) problems ---------------------


def check_messages(messages: object) -> list[Problem]:
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [("messages", "Size must be between 1 and 5")]
    return [p for i, m in enumerate(messages) for p in _check_message(m, f"messages[{i}]")]


def _check_message(message: object, at: str) -> Iterator[Problem]:
    if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
        yield (f"{at}.type", f"Must be one of the following values: {sorted(MESSAGE_TYPES)}")
        return
    if message["type"] in ("text", "textV2"):
        yield from _check_length(message.get("text"), f"{at}.text", 5000)
    elif message["type"] == "image":
        yield from _check_url(message.get("originalContentUrl"), f"{at}.originalContentUrl")
        yield from _check_url(message.get("previewImageUrl"), f"{at}.previewImageUrl")
    elif message["type"] == "flex":
        yield from _check_length(message.get("altText"), f"{at}.altText", 1500)
        yield from _check_actions_within(message.get("contents"), f"{at}.contents", 40)
    elif message["type"] == "template":
        yield from _check_length(message.get("altText"), f"{at}.altText", 400)
        yield from _check_actions_within(message.get("template"), f"{at}.template", 20)
    if message.get("quickReply") is not None:
        yield from _check_quick_reply(message["quickReply"], f"{at}.quickReply")


def _check_length(text: object, at: str, limit: int) -> Iterator[Problem]:
    if not isinstance(text, str) or not 1 <= utf16_length(text) <= limit:
        yield (at, f"Length must be between 1 and {limit}")


def _check_url(url: object, at: str) -> Iterator[Problem]:
    if not isinstance(url, str) or not url.startswith("https://"):
        yield (at, "Must be a valid HTTPS URL")
    elif len(url) > 2000:
        yield (at, "Length must be between 0 and 2000")


def _check_actions_within(node: object, at: str, label_limit: int) -> Iterator[Problem]:
    """Every action in a flex or template tree, wherever it is nested."""
    if isinstance(node, list):
        for i, child in enumerate(node):
            yield from _check_actions_within(child, f"{at}[{i}]", label_limit)
    elif isinstance(node, dict):
        for key, child in node.items():
            if key == "action" or (key == "defaultAction" and isinstance(child, dict)):
                yield from _check_action(child, f"{at}.{key}", label_limit)
            elif key == "url" and node.get("type") in ("image", "video"):
                yield from _check_url(child, f"{at}.url")
            else:
                yield from _check_actions_within(child, f"{at}.{key}", label_limit)


def _check_quick_reply(quick_reply: object, at: str) -> Iterator[Problem]:
    items = quick_reply.get("items") if isinstance(quick_reply, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= 13:
        yield (f"{at}.items", "Size must be between 1 and 13")
        return
    for i, item in enumerate(items):
        action = item.get("action") if isinstance(item, dict) else None
        at_action = f"{at}.items[{i}].action"
        if isinstance(action, dict) and not action.get("label"):
            yield (f"{at_action}.label", "Must not be empty in a quick reply")
        yield from _check_action(action, at_action, 20, in_quick_reply=True)


def _check_action(
    action: object, at: str, label_limit: int, *, in_quick_reply: bool = False
) -> Iterator[Problem]:
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        yield (f"{at}.type", f"Must be one of the following values: {sorted(ACTION_TYPES)}")
        return
    if action["type"] in QUICK_REPLY_ONLY_ACTIONS and not in_quick_reply:
        yield (f"{at}.type", f"{action['type']} actions are only allowed in quick replies")
    label = action.get("label")
    if isinstance(label, str) and grapheme_count(label) > label_limit:
        yield (f"{at}.label", f"Length must be between 0 and {label_limit}")
    for key in ("data", "displayText", "text"):
        value = action.get(key)
        if isinstance(value, str) and len(value) > 300:
            yield (f"{at}.{key}", "Length must be between 0 and 300")
    if action["type"] == "uri":
        yield from _check_uri(action.get("uri"), f"{at}.uri")


def _check_uri(uri: object, at: str) -> Iterator[Problem]:
    """A URI action opens http, https, line or tel links, up to 1000 characters."""
    if not isinstance(uri, str) or not URI.fullmatch(uri):
        yield (at, "Must be a valid URI with scheme http, https, line or tel")
    elif len(uri) > 1000:
        yield (at, "Length must be between 0 and 1000")


def check_rich_menu(menu: Json) -> list[Problem]:
    size = menu.get("size") if isinstance(menu.get("size"), dict) else {}
    problems = [
        (f"size.{k}", "Out of range") for k in ("width", "height") if not _in_size(size, k)
    ]
    if not isinstance(menu.get("selected"), bool):
        problems.append(("selected", "Must not be null"))
    problems += _check_length(menu.get("name"), "name", 300)
    problems += _check_length(menu.get("chatBarText"), "chatBarText", 14)
    areas = menu.get("areas")
    if not isinstance(areas, list) or len(areas) > 20:
        return [*problems, ("areas", "Size must be between 0 and 20")]
    for i, area in enumerate(areas):
        problems += _check_action(area.get("action"), f"areas[{i}].action", 20)
    return problems


def _in_size(size: Json, key: str) -> bool:
    value = size.get(key)
    if not isinstance(value, int):
        return False
    return 800 <= value <= 2500 if key == "width" else value >= 250


def check_rich_menu_image(data: bytes, content_type: str) -> list[Problem]:
    if content_type not in ("image/png", "image/jpeg"):
        return [("Content-Type", "Must be image/png or image/jpeg")]
    if len(data) > 1024 * 1024:
        return [("body", "The image must be 1 MB or less")]
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height, kind = image.width, image.height, image.format
    except UnidentifiedImageError:
        return [("body", "Not a PNG or JPEG image")]
    problems = [] if f"image/{(kind or '').lower()}" == content_type else [("body", "Wrong type")]
    if not 800 <= width <= 2500 or height < 250 or width / height < 1.45:
        problems.append(("body", f"Bad size {width}x{height}: width 800-2500, height >= 250"))
    return problems


def sniff_content_type(data: bytes) -> str:
    for magic, kind in ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png")):
        if data.startswith(magic):
            return kind
    return "application/pdf" if data.startswith(b"%PDF") else "application/octet-stream"


def _json(status: int, body: Json) -> web.Response:
    return web.json_response(body, status=status)


def _not_found() -> web.Response:
    return _json(404, {"message": "Not found"})


@dataclass(slots=True)
class ReplyToken:
    target: str  # the chat the reply goes to: the group for group events, else the user
    issued_at: float
    used: bool = False


class LineEmulator:
    """LINE as the bot sees it (API endpoints) and as the tests drive it (user actions)."""

    def __init__(
        self, *, channel_secret: str, access_token: str, clock: Callable[[], float] | None = None
    ) -> None:
        self.channel_secret = channel_secret
        self.access_token = access_token
        self._clock = clock or time.monotonic
        self.webhook_url: str | None = None
        self.bot_user_id = new_id("U")
        self.profiles: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.delivered = asyncio.Event()
        self.loading: list[tuple[str, int]] = []
        self.rich_menus: dict[str, Json] = {}
        self.rich_menu_images: dict[str, bytes] = {}
        self.default_rich_menu: str | None = None
        self._received: defaultdict[str, list[Json]] = defaultdict(list)
        self._reply_tokens: dict[str, ReplyToken] = {}
        self._retry_keys: dict[str, list[Json]] = {}
        self._contents: dict[str, tuple[bytes, str]] = {}
        self._quote_tokens: set[str] = set()
        self._scripts: defaultdict[str, deque[tuple[int, Json]]] = defaultdict(deque)
        self._message_ids = itertools.count(600_000_000_000_000_001)
        self.app = self._build_app()

    # --- inspection ---------------------------------------------------------------------

    def received(self, to: str) -> list[Json]:
        return list(self._received[to])

    def texts(self, to: str) -> list[str]:
        shown = {"text": "text", "textV2": "text", "flex": "altText", "template": "altText"}
        messages = [entry["message"] for entry in self._received[to]]
        return [m[shown[m["type"]]] for m in messages if m["type"] in shown]

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait, without polling, until delivered messages make the condition true."""
        while True:
            self.delivered.clear()  # before the check: no await between them, so nothing is missed
            if condition():
                return
            await self.delivered.wait()

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError("the bot broke LINE limits:\n" + "\n".join(self.violations))

    def fail_next(
        self, path: str, *, status: int, body: Json | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls to `path` (or a route like .../{messageId}/content)."""
        self._scripts[path].extend([(status, body or {"message": "scripted"})] * times)

    def expire_reply_tokens(self) -> None:
        for token in self._reply_tokens.values():
            token.issued_at = self._clock() - REPLY_TOKEN_SECONDS - 1

    # --- user-side events ---------------------------------------------------------------

    def make_text_event(self, user_id: str, text: str, *, group_id: Group = None) -> Json:
        message = {"type": "text", "id": self._message_id(), "text": text}
        return self._message_event(user_id, group_id, {**message, "quoteToken": self._quote()})

    def make_image_event(
        self,
        user_id: str,
        content: bytes,
        *,
        group_id: Group = None,
        image_set: Json | None = None,
    ) -> Json:
        message = {"type": "image", "id": self._store(content), "quoteToken": self._quote()}
        message["contentProvider"] = {"type": "line"}
        if image_set is not None:
            message["imageSet"] = image_set
        return self._message_event(user_id, group_id, message)

    def make_file_event(self, user_id: str, name: str, content: bytes) -> Json:
        message = {"type": "file", "id": self._store(content), "fileName": name}
        return self._message_event(user_id, None, {**message, "fileSize": len(content)})

    def make_sticker_event(self, user_id: str, *, group_id: Group = None) -> Json:
        message = {"type": "sticker", "id": self._message_id(), "quoteToken": self._quote()}
        sticker = {"packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC"}
        return self._message_event(user_id, group_id, {**message, **sticker})

    def make_postback_event(self, user_id: str, data: str, *, group_id: Group = None) -> Json:
        source = _source(user_id, group_id)
        return self._event("postback", source, reply=True, postback={"data": data})

    def make_follow_event(self, user_id: str, *, unblocked: bool = False) -> Json:
        follow = {"isUnblocked": unblocked}
        return self._event("follow", _source(user_id, None), reply=True, follow=follow)

    def make_unfollow_event(self, user_id: str) -> Json:
        return self._event("unfollow", _source(user_id, None), reply=False)

    def make_join_event(self, group_id: str) -> Json:
        return self._event("join", {"type": "group", "groupId": group_id}, reply=True)

    async def send_text(self, user_id: str, text: str, *, group_id: Group = None) -> Sent:
        return await self._send(self.make_text_event(user_id, text, group_id=group_id))

    async def send_image(self, user_id: str, content: bytes, *, group_id: Group = None) -> Sent:
        return await self._send(self.make_image_event(user_id, content, group_id=group_id))

    async def send_images(
        self, user_id: str, contents: list[bytes], *, group_id: Group = None
    ) -> list[Sent]:
        """Several photos at once: one webhook each, sharing imageSet.id, index 1..total."""
        set_id, total = uuid.uuid4().hex.upper(), len(contents)
        answers = []
        for index, data in enumerate(contents, start=1):
            image_set = {"id": set_id, "index": index, "total": total}
            event = self.make_image_event(user_id, data, group_id=group_id, image_set=image_set)
            answers.append(await self._send(event))
        return answers

    async def send_file(self, user_id: str, name: str, content: bytes) -> Sent:
        return await self._send(self.make_file_event(user_id, name, content))

    async def send_sticker(self, user_id: str, *, group_id: Group = None) -> Sent:
        return await self._send(self.make_sticker_event(user_id, group_id=group_id))

    async def postback(self, user_id: str, data: str, *, group_id: Group = None) -> Sent:
        return await self._send(self.make_postback_event(user_id, data, group_id=group_id))

    async def tap_rich_menu(self, user_id: str, x: int, y: int) -> Sent:
        """A tap at (x, y) of the default rich menu's image, as the LINE app sends it: a
        postback area sends its data (its displayText only shows in the chat), a message area
        the text."""
        if self.default_rich_menu is None:
            raise AssertionError("no default rich menu to tap")
        menu = self.rich_menus[self.default_rich_menu]
        for area in menu["areas"]:
            bounds, action = area["bounds"], area["action"]
            inside_x = bounds["x"] <= x < bounds["x"] + bounds["width"]
            if inside_x and bounds["y"] <= y < bounds["y"] + bounds["height"]:
                if action["type"] == "postback":
                    return await self.postback(user_id, action["data"])
                if action["type"] == "message":
                    return await self.send_text(user_id, action["text"])
                raise NotImplementedError(f"rich menu action {action['type']}")
        raise AssertionError(f"no rich menu area at ({x}, {y})")

    async def follow(self, user_id: str, *, unblocked: bool = False) -> Sent:
        return await self._send(self.make_follow_event(user_id, unblocked=unblocked))

    async def unfollow(self, user_id: str) -> Sent:
        return await self._send(self.make_unfollow_event(user_id))

    async def join(self, group_id: str) -> Sent:
        return await self._send(self.make_join_event(group_id))

    async def redeliver(self, event: Json, *, fresh_token: bool = False) -> Sent:
        """The event again: same webhookEventId, isRedelivery, a new token (stale by default)."""
        again = copy.deepcopy(event)
        again["deliveryContext"] = {"isRedelivery": True}
        if "replyToken" in event:
            issued_at = self._clock() - (0 if fresh_token else REPLY_TOKEN_SECONDS + 1)
            again["replyToken"] = self._reply_token(_chat_of(event["source"]), issued_at)
        return await self._send(again)

    async def post_events(
        self, events: list[Json], *, signature: str | None = "auto", raw: bytes | None = None
    ) -> int:
        """POST a webhook body to the bot; signature "auto" signs it, None leaves it unsigned."""
        if self.webhook_url is None:
            raise RuntimeError("set LineEmulator.webhook_url to the bot's /webhooks/line URL")
        body = raw if raw is not None else self._webhook_body(events)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers["User-Agent"] = "LineBotWebhook/2.0"
        if signature is not None:
            auto = signature == "auto"
            headers["X-Line-Signature"] = sign(self.channel_secret, body) if auto else signature
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, data=body, headers=headers) as response,
        ):
            await response.read()
            return response.status

    def _webhook_body(self, events: list[Json]) -> bytes:
        # LINE sends Thai as raw UTF-8; the bot must hash these exact bytes.
        payload = {"destination": self.bot_user_id, "events": events}
        return json.dumps(payload, ensure_ascii=False).encode()

    async def _send(self, event: Json) -> Sent:
        return await self.post_events([event]), event

    def _message_event(self, user_id: str, group_id: str | None, message: Json) -> Json:
        return self._event("message", _source(user_id, group_id), reply=True, message=message)

    def _event(self, kind: str, source: Json, *, reply: bool, **payload: Any) -> Json:
        event = {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000)}
        event |= {"webhookEventId": new_ulid(), "deliveryContext": {"isRedelivery": False}}
        event |= {"source": source, **payload}
        if reply:
            event["replyToken"] = self._reply_token(_chat_of(source), self._clock())
        return event

    def _reply_token(self, target: str, issued_at: float) -> str:
        token = secrets.token_hex(16)
        self._reply_tokens[token] = ReplyToken(target, issued_at)
        return token

    def _message_id(self) -> str:
        return str(next(self._message_ids))

    def _quote(self) -> str:
        token = secrets.token_urlsafe(48)
        self._quote_tokens.add(token)
        return token

    def _store(self, content: bytes) -> str:
        message_id = self._message_id()
        self._contents[message_id] = (content, sniff_content_type(content))
        return message_id

    # --- the Messaging API --------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024, middlewares=[self._gate])
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/chat/loading/start", self._loading)
        app.router.add_get("/v2/bot/profile/{userId}", self._profile)
        app.router.add_get("/v2/bot/group/{groupId}/member/{userId}", self._profile)
        app.router.add_get("/v2/bot/message/{messageId}/content", self._content)
        app.router.add_post("/v2/bot/richmenu", self._create_rich_menu)
        app.router.add_get("/v2/bot/richmenu/list", self._list_rich_menus)
        app.router.add_delete("/v2/bot/richmenu/{richMenuId}", self._delete_rich_menu)
        app.router.add_post("/v2/bot/richmenu/{richMenuId}/content", self._rich_menu_image)
        app.router.add_post("/v2/bot/user/all/richmenu/{richMenuId}", self._default_rich_menu)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            response: web.StreamResponse = _json(401, {"message": AUTH_FAILED})
        else:
            response = self._scripted(request) or await handler(request)
        response.headers["X-Line-Request-Id"] = str(uuid.uuid4())
        return response

    def _scripted(self, request: web.Request) -> web.Response | None:
        resource = request.match_info.route.resource
        for key in (request.path, resource.canonical if resource else None):
            if queue := self._scripts.get(key or ""):
                return _json(*queue.popleft())
        return None

    def _reject(self, request: web.Request, problems: list[Problem]) -> web.Response:
        self.violations += [f"{request.method} {request.path}: {p}: {m}" for p, m in problems]
        details = [{"message": message, "property": prop} for prop, message in problems]
        summary = f"The request body has {len(problems)} error(s)"
        return _json(400, {"message": summary, "details": details})

    def _message_problems(self, messages: object) -> list[Problem]:
        problems = check_messages(messages)
        if problems or not isinstance(messages, list):
            return problems
        quotes = [(i, m.get("quoteToken")) for i, m in enumerate(messages)]
        return [
            (f"messages[{i}].quoteToken", "Invalid quote token")
            for i, quote in quotes
            if quote is not None and quote not in self._quote_tokens
        ]

    async def _reply(self, request: web.Request) -> web.Response:
        body = await _read_json(request)
        if problems := self._message_problems(body.get("messages")):
            return self._reject(request, problems)
        token = self._reply_tokens.get(body.get("replyToken", ""))
        if token is None or token.used or self._clock() - token.issued_at > REPLY_TOKEN_SECONDS:
            return _json(400, {"message": "Invalid reply token"})
        token.used = True
        return _json(200, {"sentMessages": self._deliver(token.target, "reply", body["messages"])})

    async def _push(self, request: web.Request) -> web.Response:
        body = await _read_json(request)
        to, key = body.get("to"), request.headers.get("X-Line-Retry-Key")
        problems = self._message_problems(body.get("messages"))
        if not isinstance(to, str) or to[:1] not in ("U", "C", "R"):
            problems.append(("to", "Must be a user, group or room id"))
        if key is not None and not _is_uuid(key):
            problems.append(("X-Line-Retry-Key", "Must be a UUID"))
        if problems:
            return self._reject(request, problems)
        if key in self._retry_keys:
            accepted = {"message": "The retry key is already accepted"}
            return _json(409, {**accepted, "sentMessages": self._retry_keys[key]})
        sent = self._deliver(to, "push", body["messages"])
        if key is not None:
            self._retry_keys[key] = sent
        return _json(200, {"sentMessages": sent})

    def _deliver(self, to: str, via: str, messages: list[Json]) -> list[Json]:
        self._received[to] += [{"via": via, "message": message} for message in messages]
        self.delivered.set()  # wakes a test waiting for messages from another process
        return [{"id": self._message_id(), "quoteToken": self._quote()} for _ in messages]

    async def _loading(self, request: web.Request) -> web.Response:
        body = await _read_json(request)
        chat_id, seconds = body.get("chatId"), body.get("loadingSeconds", 5)
        problems: list[Problem] = []
        if not isinstance(chat_id, str) or not chat_id.startswith("U"):
            problems.append(("chatId", "Must be a user id: one-to-one chats only"))
        if not isinstance(seconds, int) or seconds not in range(5, 61, 5):
            problems.append(("loadingSeconds", "Must be 5 to 60 in steps of 5"))
        if problems:
            return self._reject(request, problems)
        self.loading.append((chat_id, seconds))
        return _json(202, {})

    async def _profile(self, request: web.Request) -> web.Response:
        user_id = request.match_info["userId"]
        name = self.profiles.get(user_id)
        if name is None:
            return _not_found()
        return _json(200, {"displayName": name, "userId": user_id, "language": "th"})

    async def _content(self, request: web.Request) -> web.Response:
        stored = self._contents.get(request.match_info["messageId"])
        if stored is None:
            return _not_found()
        return web.Response(body=stored[0], content_type=stored[1])

    async def _create_rich_menu(self, request: web.Request) -> web.Response:
        menu = await _read_json(request)
        if problems := check_rich_menu(menu):
            return self._reject(request, problems)
        rich_menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.rich_menus[rich_menu_id] = {**menu, "richMenuId": rich_menu_id}
        return _json(200, {"richMenuId": rich_menu_id})

    async def _list_rich_menus(self, request: web.Request) -> web.Response:
        return _json(200, {"richmenus": list(self.rich_menus.values())})

    async def _delete_rich_menu(self, request: web.Request) -> web.Response:
        rich_menu_id = request.match_info["richMenuId"]
        if self.rich_menus.pop(rich_menu_id, None) is None:
            return _not_found()
        self.rich_menu_images.pop(rich_menu_id, None)
        if self.default_rich_menu == rich_menu_id:
            self.default_rich_menu = None
        return _json(200, {})

    async def _rich_menu_image(self, request: web.Request) -> web.Response:
        rich_menu_id = request.match_info["richMenuId"]
        if rich_menu_id not in self.rich_menus:
            return _not_found()
        if rich_menu_id in self.rich_menu_images:
            return _json(400, {"message": "An image has already been uploaded to the richmenu"})
        data = await request.read()
        if problems := check_rich_menu_image(data, request.content_type):
            return self._reject(request, problems)
        self.rich_menu_images[rich_menu_id] = data
        return _json(200, {})

    async def _default_rich_menu(self, request: web.Request) -> web.Response:
        rich_menu_id = request.match_info["richMenuId"]
        if rich_menu_id not in self.rich_menus:
            return _not_found()
        if rich_menu_id not in self.rich_menu_images:
            return _json(400, {"message": "must upload richmenu image before applying it to user"})
        self.default_rich_menu = rich_menu_id
        return _json(200, {})


def _source(user_id: str, group_id: str | None) -> Json:
    if group_id is None:
        return {"type": "user", "userId": user_id}
    return {"type": "group", "groupId": group_id, "userId": user_id}


def _chat_of(source: Json) -> str:
    """Where a reply to an event from this source lands: the group or room, else the user."""
    return str(source.get("groupId") or source.get("roomId") or source["userId"])


async def _read_json(request: web.Request) -> Json:
    # Malformed JSON then fails the field checks, so it is a 400 and a violation, as at LINE.
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
