"""An in-memory Telegram Bot API that the bot's real PTB client talks to in tests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import io
import itertools
import json
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError
from yarl import URL

Json = dict[str, Any]
Files = dict[str, bytes]
Sent = tuple[int | None, Json]  # the webhook's status (None: queued for getUpdates), the update
Method = Callable[[Json, Files], Awaitable[Any]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT, MAX_CAPTION, MAX_CALLBACK_DATA, MAX_ANSWER_TEXT = 4096, 1024, 64, 200
MAX_BUTTONS, MAX_ROW_BUTTONS, MAX_DOWNLOAD = 100, 8, 20 * 1024 * 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: BLOCKED,
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
JSON_PARAMS = frozenset(
    {"reply_markup", "media", "entities", "caption_entities", "allowed_updates", "commands"}
    | {"scope", "link_preview_options", "reply_parameters"}
)
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "sendmediagroup", "senddocument"})
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice"}
    | {"upload_document", "choose_sticker", "find_location", "record_video_note"}
    | {"upload_video_note"}
)
BUTTON_ACTIONS = frozenset(
    {"callback_data", "url", "login_url", "switch_inline_query", "callback_game", "pay"}
    | {"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "web_app"}
    | {"copy_text"}
)
BUTTON_URL_SCHEMES = ("http://", "https://", "tg://")
HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
TAG = re.compile(r"<(/?)([a-zA-Z-]+)((?:\s+[a-z-]+=(?:\"[^\"]*\"|'[^']*'))*)\s*>")
CHARACTER_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
COMMAND = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})


class TelegramApiError(Exception):
    """An answer with ok=false; `violation` marks what a correct bot never causes."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        violation: bool = True,
        parameters: Json | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation
        self.parameters = parameters


def bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


def utf16_length(text: str) -> int:
    """Telegram counts text, offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --- Telegram's checks, as pure functions raising TelegramApiError ---------------------------


def parse_html(text: str) -> tuple[str, list[Json]]:
    """The visible text and entities of an HTML message; unescaped <, > or & is refused."""
    visible: list[str] = []
    opened: list[tuple[str, int]] = []  # tags not yet closed, where their text starts
    entities: list[Json] = []
    length = position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            position = _tag(text, position, length, opened, entities)
            continue
        if char == "&":
            found = CHARACTER_ENTITY.match(text, position)
            if found is None:
                raise bad(f"can't parse entities: character entity expected at {position}")
            char, position = html.unescape(found.group(0)), found.end() - 1
        elif char == ">":
            raise bad(f"can't parse entities: unexpected end of tag at {position}")
        visible.append(char)
        length += utf16_length(char)
        position += 1
    if opened:
        raise bad(f"can't parse entities: can't find end tag corresponding to <{opened[-1][0]}>")
    return "".join(visible), sorted(entities, key=lambda entity: entity["offset"])


def _tag(
    text: str, position: int, length: int, opened: list[tuple[str, int]], entities: list[Json]
) -> int:
    found = TAG.match(text, position)
    name = found.group(2).lower() if found else ""
    if found is None or name not in HTML_TAGS:
        raise bad(f"can't parse entities: unsupported start tag at {position}")
    if not found.group(1):
        opened.append((name, length))
        return found.end()
    if not opened or opened[-1][0] != name:
        raise bad(f"can't parse entities: unmatched end tag </{name}> at {position}")
    _, start = opened.pop()
    if length > start:
        entities.append({"type": HTML_TAGS[name], "offset": start, "length": length - start})
    return found.end()


def visible_text(text: object, parse_mode: object, *, limit: int, what: str) -> Json:
    """The message fields for a text or caption, after its checks."""
    if not isinstance(text, str):
        raise bad(f"{what} must be a string")
    entities: list[Json] = []
    if parse_mode is not None and str(parse_mode).lower() == "html":
        text, entities = parse_html(text)
    elif parse_mode is not None:
        raise bad(f"unsupported parse_mode {parse_mode!r} in this emulator")
    if what == "text" and not text.strip():
        raise bad("message text is empty")
    if utf16_length(text) > limit:
        raise bad("message is too long" if what == "text" else "message caption is too long")
    fields: Json = {what: text}
    if entities:
        fields["entities" if what == "text" else "caption_entities"] = entities
    return fields


def check_reply_markup(markup: object) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_rows(markup["keyboard"], lambda button: None)
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad("unsupported reply markup")


def _check_inline_keyboard(rows: object) -> None:
    total = _check_rows(rows, _check_inline_button)
    if total > MAX_BUTTONS:
        raise bad("reply markup is too long")


def _check_rows(rows: object, check: Callable[[Json], None]) -> int:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        if len(row) > MAX_ROW_BUTTONS:
            raise bad("too many buttons in a row")
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise bad("text buttons are unallowed in the inline keyboard")
            check(button)
    return sum(len(row) for row in rows)


def _check_inline_button(button: Json) -> None:
    actions = [key for key in BUTTON_ACTIONS if key in button]
    if len(actions) != 1:
        raise bad("inline keyboard button must have exactly one action")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
        raise bad("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not str(url).startswith(BUTTON_URL_SCHEMES):
        raise bad("BUTTON_URL_INVALID")  # tel:, mailto: and the like are refused


def check_commands(commands: object) -> None:
    if not isinstance(commands, list) or not 0 < len(commands) <= 100:
        raise bad("commands must be a list of 1 to 100 commands")
    for command in commands:
        name = command.get("command") if isinstance(command, dict) else None
        described = command.get("description") if isinstance(command, dict) else None
        if not isinstance(name, str) or not COMMAND.fullmatch(name):
            raise bad(f"BOT_COMMAND_INVALID: {name!r}")
        if not isinstance(described, str) or not 1 <= len(described) <= 256:
            raise bad(f"command description of /{name} must be 1-256 characters")


def check_webhook(url: object, secret: object) -> None:
    if not isinstance(url, str) or not url.startswith("https://"):
        raise bad("bad webhook: An HTTPS URL must be provided for webhook")
    port = URL(url).port
    if port not in WEBHOOK_PORTS:
        raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
        raise bad("bad webhook: secret token contains unallowed characters")


def photo_sizes(data: bytes, file_ids: Iterator[tuple[str, str]]) -> list[Json]:
    """The sizes Telegram makes of a photo, smallest first and the original last."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        width, height = 1280, 960
    sizes = []
    for side in (90, 320, max(width, height)):
        scale = min(1.0, side / max(width, height, 1))
        file_id, unique_id = next(file_ids)
        sizes.append(
            {"file_id": file_id, "file_unique_id": unique_id}
            | {"width": max(1, round(width * scale)), "height": max(1, round(height * scale))}
        )
    return sizes


def sniff_mime(data: bytes) -> str:
    for magic, kind in ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png")):
        if data.startswith(magic):
            return kind
    return "application/pdf" if data.startswith(b"%PDF") else "application/octet-stream"


@dataclass(frozen=True, slots=True)
class FloodRules:
    """(messages, seconds) windows Telegram enforces; `scaled` shrinks the periods for tests."""

    per_chat: tuple[int, float] = (1, 1.0)
    per_group: tuple[int, float] = (20, 60.0)
    overall: tuple[int, float] = (30, 1.0)

    def scaled(self, factor: float) -> FloodRules:
        return FloodRules(
            (self.per_chat[0], self.per_chat[1] * factor),
            (self.per_group[0], self.per_group[1] * factor),
            (self.overall[0], self.overall[1] * factor),
        )


@dataclass(slots=True)
class StoredFile:
    content: bytes
    unique_id: str
    path: str


@dataclass(slots=True)
class CallbackQuery:
    id: str
    user_id: int
    data: str
    answers: list[Json] = field(default_factory=list)


class TelegramEmulator:
    """Telegram as the bot sees it (the Bot API) and as the tests drive it (user actions)."""

    def __init__(
        self,
        *,
        token: str,
        username: str = "bmabot_test_bot",
        flood: FloodRules | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot = {"id": 7000000001, "is_bot": True, "first_name": "BMA Account"}
        self.bot |= {"username": username, "can_join_groups": True}
        self.flood = flood
        self._clock = clock
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.allowed_updates: list[str] | None = None
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.names: dict[int, str] = {}
        self.blocked: set[int] = set()
        self.calls: list[tuple[str, Json]] = []
        self.violations: list[str] = []
        self.actions: list[tuple[int, str]] = []
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.delivered = asyncio.Event()
        self.confirmed = 0  # every update_id below this was fetched and confirmed
        self._chats: dict[int, Json] = {}
        self._sent: defaultdict[int, list[Json]] = defaultdict(list)
        self._messages: dict[tuple[int, int], Json] = {}
        self._sources: dict[tuple[int, int], tuple[str, str | None]] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._files: dict[str, StoredFile] = {}
        self._queue: list[Json] = []
        self._queued = asyncio.Event()
        self._polled = asyncio.Event()
        self._closing = False
        self._flood_log: defaultdict[tuple[str, int], deque[float]] = defaultdict(deque)
        self._scripts: defaultdict[str, deque[Json | None]] = defaultdict(deque)
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(100_000_001)
        self._file_ids = itertools.count(1)
        self._methods = self._method_table()
        self.app = self._build_app()

    # --- inspection -----------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[Json]:
        """What the bot sent to a chat and did not delete, as now shown (edits applied)."""
        shown = [m for m in self._sent[chat_id] if (chat_id, m["message_id"]) not in self._deleted]
        return copy.deepcopy(shown)

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.messages(chat_id)]

    def source(self, message: Json) -> tuple[str, str | None]:
        """The text as the bot sent it (HTML included) and its parse_mode."""
        return self._sources[(message["chat"]["id"], message["message_id"])]

    @staticmethod
    def buttons(message: Json) -> list[tuple[str, str]]:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def file_content(self, file_id: str) -> bytes:
        return self._files[file_id].content

    def unanswered(self) -> list[str]:
        return [q.id for q in self.callback_queries.values() if not q.answers]

    def assert_no_violations(self) -> None:
        problems = list(self.violations)
        problems += [f"callback query {q} was never answered" for q in self.unanswered()]
        if problems:
            raise AssertionError("the bot broke Telegram limits:\n" + "\n".join(problems))

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait, without polling, until what the bot sent makes the condition true."""
        while True:
            self.delivered.clear()  # before the check: nothing can slip in between
            if condition():
                return
            await self.delivered.wait()

    async def until_confirmed(self, update_id: int) -> None:
        """Wait until a poller has fetched this update and confirmed it with a later offset."""
        while True:
            self._polled.clear()
            if self.confirmed > update_id:
                return
            await self._polled.wait()

    def close(self) -> None:
        """End the long polls in progress, so that the server stops at once."""
        self._closing = True
        self._queued.set()

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer `times` calls of `method` with an error, once `after` calls went through."""
        if status == 429 and retry_after is None:
            retry_after = 5
        text = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
        answer: Json = {"ok": False, "error_code": status}
        answer["description"] = text.format(retry_after=retry_after)
        parameters = {"retry_after": retry_after, "migrate_to_chat_id": migrate_to_chat_id}
        if any(value is not None for value in parameters.values()):
            answer["parameters"] = {k: v for k, v in parameters.items() if v is not None}
        self._scripts[method.lower()].extend([None] * after + [answer] * times)

    # --- people, groups and what they do ------------------------------------------------------

    def add_group(self, chat_id: int, title: str = "ผู้ตรวจสอบคำขอ") -> Json:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        self._chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        return self._chats[chat_id]

    def make_text_update(self, user_id: int, text: str, *, chat_id: int | None = None) -> Json:
        content: Json = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        return self._update(message=self._user_message(user_id, chat_id, content))

    async def send_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> Sent:
        return await self._deliver(self.make_text_update(user_id, text, chat_id=chat_id))

    async def send_photo(
        self, user_id: int, data: bytes, *, as_document: bool = False, chat_id: int | None = None
    ) -> Sent:
        """A photo as the apps send it (sizes, largest last), or "as a file": a document."""
        if as_document:
            name = "photo.png" if sniff_mime(data) == "image/png" else "photo.jpg"
            return await self.send_document(user_id, data, name, chat_id=chat_id)
        sizes = photo_sizes(data, self._new_file_ids(3))
        for size in sizes:
            self._store(data, size["file_id"], size["file_unique_id"], "photos")
        message = self._user_message(user_id, chat_id, {"photo": sizes})
        return await self._deliver(self._update(message=message))

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        chat_id: int | None = None,
    ) -> Sent:
        file_id, unique_id = next(self._new_file_ids(1))
        self._store(data, file_id, unique_id, "documents")
        document = {"file_id": file_id, "file_unique_id": unique_id, "file_name": file_name}
        document |= {"mime_type": mime_type or sniff_mime(data), "file_size": len(data)}
        message = self._user_message(user_id, chat_id, {"document": document})
        return await self._deliver(self._update(message=message))

    async def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> Sent:
        file_id, unique_id = next(self._new_file_ids(1))
        sticker = {"file_id": file_id, "file_unique_id": unique_id, "type": "regular"}
        sticker |= {"width": 512, "height": 512, "is_animated": False, "is_video": False}
        message = self._user_message(user_id, chat_id, {"sticker": sticker | {"emoji": "👍"}})
        return await self._deliver(self._update(message=message))

    async def send_voice(self, user_id: int, *, chat_id: int | None = None) -> Sent:
        file_id, unique_id = next(self._new_file_ids(1))
        voice = {"file_id": file_id, "file_unique_id": unique_id, "duration": 3}
        message = self._user_message(user_id, chat_id, {"voice": voice | {"file_size": 4000}})
        return await self._deliver(self._update(message=message))

    async def edited_message(self, message: Json, text: str) -> Sent:
        """The person edits a message they sent: Telegram sends it again as edited_message."""
        edited = copy.deepcopy(message) | {"text": text, "edit_date": int(time.time())}
        return await self._deliver(self._update(edited_message=edited))

    async def channel_post(self, channel_id: int, text: str) -> Sent:
        channel = {"id": channel_id, "type": "channel", "title": "ข่าวสาร กทม."}
        post = {"message_id": next(self._message_ids), "date": int(time.time())}
        post |= {"chat": channel, "sender_chat": channel, "text": text}
        return await self._deliver(self._update(channel_post=post))

    async def tap(self, message: Json, data: str, *, user_id: int | None = None) -> Sent:
        """A person presses an inline button under one of the bot's messages."""
        chat = message["chat"]
        assert data in [d for _, d in self.buttons(message)], f"no button {data!r} there"
        who = user_id if user_id is not None else chat["id"]
        query = CallbackQuery(str(secrets.randbelow(10**18) + 10**18), who, data)
        self.callback_queries[query.id] = query
        callback = {"id": query.id, "from": self._user(who), "message": message}
        callback |= {"chat_instance": str(-abs(hash(chat["id"]))), "data": data}
        return await self._deliver(self._update(callback_query=callback))

    async def add_bot_to_group(self, group_id: int, by: int) -> Sent:
        chat = self._chats.get(group_id) or self.add_group(group_id)
        return await self._member_update(chat, by, "left", "member")

    async def block(self, user_id: int) -> Sent:
        """The person blocks the bot: later messages to them are refused with 403."""
        self.blocked.add(user_id)
        return await self._member_update(self._private(user_id), user_id, "member", "kicked")

    async def post_update(
        self, update: Json, *, secret: str | None = "auto", raw: bytes | None = None
    ) -> int:
        """POST an update to the bot's webhook; secret "auto" sends the registered one."""
        if self.webhook_url is None:
            raise RuntimeError("set TelegramEmulator.webhook_url to the bot's webhook URL")
        headers = {"Content-Type": "application/json"}
        token = self.webhook_secret if secret == "auto" else secret
        if token is not None:
            headers[SECRET_HEADER] = token
        body = raw if raw is not None else json.dumps(update, ensure_ascii=False).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, data=body, headers=headers) as response,
        ):
            await response.read()
            return response.status

    async def _deliver(self, update: Json) -> Sent:
        if self.webhook_url is not None:
            return await self.post_update(update), update
        self._queue.append(update)
        self._queued.set()
        return None, update

    def _update(self, **content: Json) -> Json:
        return {"update_id": next(self._update_ids), **content}

    async def _member_update(self, chat: Json, by: int, old: str, new: str) -> Sent:
        change = {"chat": chat, "from": self._user(by), "date": int(time.time())}
        change["old_chat_member"] = {"user": self.bot, "status": old}
        change["new_chat_member"] = {"user": self.bot, "status": new}
        if new == "kicked":
            change["new_chat_member"]["until_date"] = 0
        return await self._deliver(self._update(my_chat_member=change))

    def _user(self, user_id: int) -> Json:
        name = self.names.get(user_id, f"ผู้ใช้ {user_id}")
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "th"}

    def _private(self, user_id: int) -> Json:
        chat = {"id": user_id, "type": "private", "first_name": self._user(user_id)["first_name"]}
        return self._chats.setdefault(user_id, chat)

    def _user_message(self, user_id: int, chat_id: int | None, content: Json) -> Json:
        chat = self._private(user_id) if chat_id is None else self._chats[chat_id]
        message = {"message_id": next(self._message_ids), "date": int(time.time())}
        message |= {"chat": chat, "from": self._user(user_id), **content}
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _new_file_ids(self, count: int) -> Iterator[tuple[str, str]]:
        for _ in range(count):
            number = next(self._file_ids)
            yield f"AgAC{number:06d}{secrets.token_hex(8)}", f"AQAD{number:06d}"

    def _store(self, content: bytes, file_id: str, unique_id: str, folder: str) -> None:
        suffix = {"image/png": "png", "application/pdf": "pdf"}.get(sniff_mime(content), "jpg")
        path = f"{folder}/file_{len(self._files)}.{suffix}"
        self._files[file_id] = StoredFile(content, unique_id, path)

    # --- the Bot API ------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_DOWNLOAD)
        app.router.add_post("/bot{token}/{method}", self._call)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        return app

    def _method_table(self) -> dict[str, Method]:
        methods = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
        }
        return {name.lower(): method for name, method in methods.items()}

    async def _call(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        name = request.match_info["method"].lower()
        params, files = await _params(request)
        self.calls.append((request.match_info["method"], params))
        if scripted := self._scripted(name):
            return web.json_response(scripted, status=scripted["error_code"])
        method = self._methods.get(name)
        if method is None:
            return _error(404, "Not Found")
        try:
            result = await method(params, files)
        except TelegramApiError as error:
            if error.violation:
                self.violations.append(f"{request.match_info['method']}: {error.description}")
            return _error(error.status, error.description, error.parameters)
        return web.json_response({"ok": True, "result": result})

    def _scripted(self, name: str) -> Json | None:
        queue = self._scripts.get(name)
        return queue.popleft() if queue else None

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.path == path:
                return web.Response(body=stored.content, content_type=sniff_mime(stored.content))
        return _error(404, "Not Found")

    async def _get_me(self, params: Json, files: Files) -> Json:
        return dict(self.bot)

    async def _send_message(self, params: Json, files: Files) -> Json:
        chat = self._chat_to_send(params)
        fields = visible_text(
            params.get("text"), params.get("parse_mode"), limit=MAX_TEXT, what="text"
        )
        check_reply_markup(params.get("reply_markup"))
        self._check_flood(chat)
        return self._new_message(chat, fields, params, (params["text"], params.get("parse_mode")))

    async def _send_photo(self, params: Json, files: Files) -> Json:
        chat = self._chat_to_send(params)
        caption = params.get("caption")
        fields = {} if caption is None else self._caption(caption, params.get("parse_mode"))
        check_reply_markup(params.get("reply_markup"))
        fields["photo"] = self._photo_from(params.get("photo", files.get("photo")), files)
        self._check_flood(chat)
        source = (caption or "", params.get("parse_mode"))
        return self._new_message(chat, fields, params, source)

    async def _send_media_group(self, params: Json, files: Files) -> list[Json]:
        chat = self._chat_to_send(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad("wrong number of media in the album: 2 to 10 are allowed")
        self._check_flood(chat)
        group_id = str(secrets.randbelow(10**17))
        sent = []
        for item in media:
            caption = item.get("caption")
            fields = {} if caption is None else self._caption(caption, item.get("parse_mode"))
            fields |= {"photo": self._photo_from(item.get("media"), files)}
            fields["media_group_id"] = group_id
            sent.append(self._new_message(chat, fields, params, (caption or "", None)))
        return sent

    async def _send_chat_action(self, params: Json, files: Files) -> bool:
        chat = self._chat_to_send(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self.actions.append((chat["id"], str(params["action"])))
        return True

    async def _edit_text(self, params: Json, files: Files) -> Json:
        message = self._bot_message(params)
        if "text" not in message:
            raise bad("there is no text in the message to edit")
        fields = visible_text(
            params.get("text"), params.get("parse_mode"), limit=MAX_TEXT, what="text"
        )
        source = (params["text"], params.get("parse_mode"))
        return self._edit(message, "text", fields, params.get("reply_markup"), source)

    async def _edit_caption(self, params: Json, files: Files) -> Json:
        message = self._bot_message(params)
        if "photo" not in message and "document" not in message:
            raise bad("there is no caption in the message to edit")
        caption = params.get("caption") or ""
        fields = self._caption(caption, params.get("parse_mode")) if caption else {}
        source = (caption, params.get("parse_mode"))
        return self._edit(message, "caption", fields, params.get("reply_markup"), source)

    async def _edit_reply_markup(self, params: Json, files: Files) -> Json:
        message = self._bot_message(params)
        source = self._sources[(message["chat"]["id"], message["message_id"])]
        return self._edit(message, None, {}, params.get("reply_markup"), source)

    async def _delete_message(self, params: Json, files: Files) -> bool:
        key = (_int(params.get("chat_id")), _int(params.get("message_id")))
        if key not in self._messages or key in self._deleted:
            raise bad("message to delete not found")
        self._deleted.add(key)
        return True

    async def _answer_callback_query(self, params: Json, files: Files) -> bool:
        query = self.callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query.answers:
            raise TelegramApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_ANSWER_TEXT:
            raise bad("MESSAGE_TOO_LONG")
        query.answers.append(params)
        return True

    async def _get_file(self, params: Json, files: Files) -> Json:
        file_id = str(params.get("file_id"))
        stored = self._files.get(file_id)
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD:
            raise bad("file is too big")
        return {"file_id": file_id, "file_unique_id": stored.unique_id} | {
            "file_size": len(stored.content),
            "file_path": stored.path,
        }

    async def _set_webhook(self, params: Json, files: Files) -> bool:
        check_webhook(params.get("url"), params.get("secret_token"))
        self.webhook_url, self.webhook_secret = params["url"], params.get("secret_token")
        self.allowed_updates = params.get("allowed_updates")
        if _flag(params.get("drop_pending_updates")):
            self._queue.clear()
        return True

    async def _delete_webhook(self, params: Json, files: Files) -> bool:
        self.webhook_url = self.webhook_secret = None
        if _flag(params.get("drop_pending_updates")):
            self._queue.clear()
        return True

    async def _get_webhook_info(self, params: Json, files: Files) -> Json:
        info = {"url": self.webhook_url or "", "has_custom_certificate": False}
        return info | {"pending_update_count": len(self._queue)}

    async def _get_updates(self, params: Json, files: Files) -> list[Json]:
        """Long polling: at once when updates wait, else up to `timeout` seconds for one."""
        if self.webhook_url is not None:
            raise TelegramApiError(409, WEBHOOK_ACTIVE, violation=False)
        offset = _int(params.get("offset") or 0)
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
            self.confirmed = max(self.confirmed, offset)
        if params.get("allowed_updates") is not None:
            self.allowed_updates = params["allowed_updates"]
        self._polled.set()
        timeout = float(params.get("timeout") or 0)
        if not self._queue and timeout > 0 and not self._closing:
            self._queued.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), timeout)
        limit = min(100, max(1, _int(params.get("limit") or 100)))
        return copy.deepcopy(self._queue[:limit])

    async def _set_my_commands(self, params: Json, files: Files) -> bool:
        check_commands(params.get("commands"))
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, str(params.get("language_code") or ""))] = params["commands"]
        return True

    # --- shared by the methods --------------------------------------------------------------

    def _chat_to_send(self, params: Json) -> Json:
        chat = self._chats.get(_int(params.get("chat_id")))
        if chat is None:
            raise bad("chat not found")
        if chat["id"] in self.blocked:
            raise TelegramApiError(403, BLOCKED, violation=False)
        return chat

    def _bot_message(self, params: Json) -> Json:
        key = (_int(params.get("chat_id")), _int(params.get("message_id")))
        message = self._messages.get(key)
        if message is None or key in self._deleted:
            raise bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot["id"]:
            raise bad("message can't be edited")
        return message

    def _caption(self, caption: object, parse_mode: object) -> Json:
        return visible_text(caption, parse_mode, limit=MAX_CAPTION, what="caption")

    def _photo_from(self, photo: object, files: Files) -> list[Json]:
        """A photo by upload (attach://name or a multipart part), by file_id, or by URL."""
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = files.get(photo.removeprefix("attach://"))
        if isinstance(photo, str) and photo in self._files:
            stored = self._files[photo]
            return [{"file_id": photo, "file_unique_id": stored.unique_id} | _size(stored)]
        if isinstance(photo, str) and photo.startswith(("http://", "https://")):
            photo = b""  # Telegram fetches the URL itself; here the link stands for the photo
        if not isinstance(photo, bytes):
            raise bad("wrong remote file identifier specified")
        sizes = photo_sizes(photo, self._new_file_ids(3))
        for size in sizes:
            self._store(photo, size["file_id"], size["file_unique_id"], "photos")
        return sizes

    def _new_message(
        self, chat: Json, fields: Json, params: Json, source: tuple[str, str | None]
    ) -> Json:
        message = {"message_id": next(self._message_ids), "date": int(time.time())}
        message |= {"chat": chat, "from": self.bot, **fields}
        if params.get("reply_markup") and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        if _flag(params.get("protect_content")):
            message["has_protected_content"] = True
        if isinstance(params.get("photo"), str) and params["photo"].startswith("http"):
            message["photo_url"] = params["photo"]
        key = (chat["id"], message["message_id"])
        self._messages[key], self._sources[key] = message, source
        self._sent[chat["id"]].append(message)
        self.delivered.set()
        return copy.deepcopy(message)

    def _edit(
        self,
        message: Json,
        kind: str | None,
        fields: Json,
        markup: object,
        source: tuple[str, str | None],
    ) -> Json:
        """Change a text or caption (kind) and the keyboard; without reply_markup it goes."""
        check_reply_markup(markup)
        key = (message["chat"]["id"], message["message_id"])
        new_markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        if source == self._sources[key] and new_markup == message.get("reply_markup"):
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        if kind is not None:
            for name in (kind, "entities" if kind == "text" else "caption_entities"):
                message.pop(name, None)
        message |= fields | {"edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if new_markup is not None:
            message["reply_markup"] = new_markup
        self._sources[key] = source
        self.delivered.set()
        return copy.deepcopy(message)

    def _check_flood(self, chat: Json) -> None:
        """Refuse a message over Telegram's flood limits, as Telegram does, with retry_after."""
        if self.flood is None:
            return
        now = self._clock()
        rules = [(("bot", 0), self.flood.overall), (("chat", chat["id"]), self.flood.per_chat)]
        if chat["type"] in ("group", "supergroup"):
            rules.append((("group", chat["id"]), self.flood.per_group))
        for key, (count, seconds) in rules:
            log = self._flood_log[key]
            while log and log[0] <= now - seconds:
                log.popleft()
            if len(log) >= count:
                retry = max(1, round(seconds))
                described = f"Too Many Requests: retry after {retry}"
                raise TelegramApiError(429, described, parameters={"retry_after": retry})
        for key, _ in rules:
            self._flood_log[key].append(now)


def _size(stored: StoredFile) -> Json:
    return {"width": 1280, "height": 960, "file_size": len(stored.content)}


def _error(status: int, description: str, parameters: Json | None = None) -> web.Response:
    body: Json = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _params(request: web.Request) -> tuple[Json, Files]:
    """Parameters as PTB sends them: a form (non-strings JSON-encoded), multipart, or JSON."""
    params: Json = {}
    files: Files = {}
    if request.content_type == "application/json":
        body = await request.json()
        params = body if isinstance(body, dict) else {}
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                params[key] = value
    for key in JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    return params, files


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _flag(value: object) -> bool:
    return str(value).lower() in ("true", "1")
