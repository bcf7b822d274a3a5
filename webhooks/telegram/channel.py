"""The Telegram channel: check and store updates, read them as Incoming, send through PTB."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    RetryAfter,
    TelegramError,
)

from bot.flows.incoming import Incoming, MediaRef
from bot.handlers.channels import DeliveryError
from bot.handlers.media import MediaFetchError, MediaTooLargeError
from bot.handlers.rendering import from_json
from core.audit.security_log import Event, security_event
from core.delivery.inbox import NewEvent
from core.delivery.outbox import Outgoing
from webhooks.appkeys import DISPATCHER, INBOX_WRITER, METRICS, SETTINGS
from webhooks.telegram.limits import FloodWaitError, Throttle
from webhooks.telegram.messages import TelegramLimitError, TelegramMessage, to_telegram_messages
from webhooks.telegram.updates import CHANNEL, parse_telegram_update, to_incoming

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A stored document's bytes (None once deleted), and the chat it is shown in, for the audit.
PictureSource = Callable[[int, str], Awaitable[bytes | None]]
MAX_REMEMBERED = 1000  # batches half-sent, waiting for a retry
CHAT_NUMBER = re.compile(r"-?[0-9]{1,19}")  # int() would also take " 5", "+5" and "1_0"


class TelegramChannel:
    """Talks to the Bot API through PTB's Bot; throttled to Telegram's flood limits."""

    name = CHANNEL

    def __init__(
        self, bot: Bot, throttle: Throttle | None = None, pictures: PictureSource | None = None
    ) -> None:
        self.bot = bot
        self.throttle = throttle or Throttle()
        # Telegram may not reach our media links (a server inside the BMA network): documents
        # are uploaded from the store instead.
        self.pictures = pictures
        # How many messages of a half-sent outbox batch went out: a retry goes on from there.
        self._progress: dict[int, int] = {}
        self._answering: set[asyncio.Task[None]] = set()

    def to_incoming(self, payload: Mapping[str, Any]) -> Incoming | None:
        return to_incoming(payload, self.bot, self._username())

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        # The file URL holds the bot token: errors are reported by type, never by message.
        try:
            file = await self.bot.get_file(media.ref)
            if type(file.file_size) is int and file.file_size > limit:
                raise MediaTooLargeError("Telegram file over the limit")  # not downloaded
            content = await file.download_as_bytearray()
        except (TelegramError, RuntimeError) as error:
            raise MediaFetchError(f"Telegram file {type(error).__name__}") from None
        return bytes(content[: limit + 1])

    async def send(self, outgoing: Outgoing, now: datetime) -> None:
        """Send each message once: a retry starts after the last one Telegram took.

        A batch that may have gone out before a restart is not sent again: Telegram cannot
        tell whether it took it, and a person is better off asking again than reading
        every answer twice.
        """
        if outgoing.maybe_sent:
            logger.warning(
                "delivery %s may have gone out before a restart: not repeated", outgoing.id
            )
            return
        chat_id = chat_number(outgoing.chat_id)
        messages = _telegram_messages(outgoing)
        for index in range(self._progress.pop(outgoing.id, 0), len(messages)):
            try:
                await self._send_one(chat_id, messages[index])
            except DeliveryError as error:
                if error.retryable and index > 0:
                    self._remember(outgoing.id, index)
                raise

    async def show_loading(self, incoming: Incoming) -> None:
        await self.bot.send_chat_action(int(incoming.chat_id), ChatAction.TYPING)

    def acknowledge(self, update: Mapping[str, Any]) -> None:
        """Answer a callback query at once, so the button stops spinning; replies come later."""
        query = update.get("callback_query")
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return
        task = asyncio.create_task(self._answer(query["id"]))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def settle(self) -> None:
        """Wait for the callback answers still on their way (before shutdown, and in tests)."""
        if self._answering:
            await asyncio.gather(*self._answering, return_exceptions=True)

    async def _answer(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:
            logger.warning("a callback query was not answered: %s", type(error).__name__)

    async def _send_one(self, chat_id: int, message: TelegramMessage) -> None:
        try:
            async with self.throttle.slot(str(chat_id)):
                await self._post(chat_id, message)
        except FloodWaitError as error:
            raise DeliveryError(str(error), retryable=True, retry_after=error.seconds) from None
        except TelegramError as error:
            raise delivery_error(error) from None
        except Exception as error:  # a bug costs this message a retry, not the sender its loop
            name = type(error).__name__
            logger.error("a Telegram message failed unexpectedly: %s", name)
            raise DeliveryError(f"Telegram delivery failed: {name}", retryable=True) from None

    async def _post(self, chat_id: int, message: TelegramMessage) -> None:
        if message.replaces is not None:
            await self._settle_message(chat_id, message.replaces, message.html)
            return
        if message.photo_url is not None or message.document_id is not None:
            photo = await self._photo(chat_id, message)
            if photo is None:
                logger.warning("document %s is gone: not shown", message.document_id)
                return
            # Documents shown to reviewers are ID cards: not to be forwarded or saved.
            await self.bot.send_photo(
                chat_id,
                photo,
                caption=message.html,
                parse_mode=ParseMode.HTML,
                protect_content=True,
            )
            return
        await self.bot.send_message(
            chat_id, message.html, parse_mode=ParseMode.HTML, reply_markup=message.keyboard
        )

    async def _photo(self, chat_id: int, message: TelegramMessage) -> bytes | str | None:
        """The document's bytes to upload; its link only where no store is at hand."""
        if message.document_id is not None and self.pictures is not None:
            return await self.pictures(message.document_id, f"{CHANNEL}:{chat_id}")
        return message.photo_url

    async def _settle_message(self, chat_id: int, message_id: int, text: str) -> None:
        """Take the buttons off a message, then say what became of it (in that order: the
        buttons must go even when the text cannot change)."""
        try:
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
            )
        except BadRequest as error:
            # Deleted, too old to edit, or already showing this: nothing more to do.
            logger.info("a settled message was left as it was: %s", error.message)

    def _remember(self, outgoing_id: int, sent: int) -> None:
        if len(self._progress) >= MAX_REMEMBERED:
            self._progress.pop(next(iter(self._progress)))
        self._progress[outgoing_id] = sent

    def _username(self) -> str | None:
        try:
            return self.bot.username
        except RuntimeError:  # not initialized: then no command can be told apart by name
            return None


def chat_number(chat_id: str) -> int:
    """The Bot API's numeric chat id; one that is not a number can never be delivered to."""
    if not CHAT_NUMBER.fullmatch(chat_id):
        raise DeliveryError("not a Telegram chat id", retryable=False)
    return int(chat_id)


def _telegram_messages(outgoing: Outgoing) -> list[TelegramMessage]:
    """The stored messages as Telegram's; one Telegram can never take fails for good."""
    try:
        return to_telegram_messages([from_json(raw) for raw in outgoing.messages])
    except TelegramLimitError as error:
        logger.error("delivery %s breaks a Telegram limit: %s", outgoing.id, error)
        raise DeliveryError(str(error), retryable=False) from None
    except (ValueError, TypeError) as error:  # a broken stored row: retrying cannot mend it
        name = type(error).__name__
        logger.error("delivery %s cannot be shown on Telegram: %s", outgoing.id, name)
        raise DeliveryError(f"not a Telegram message: {name}", retryable=False) from None


def delivery_error(error: TelegramError) -> DeliveryError:
    name = type(error).__name__
    if isinstance(error, RetryAfter):
        wait = seconds(error.retry_after)
        reason = f"Telegram flood control: wait {wait:g}s"
        return DeliveryError(reason, retryable=True, retry_after=wait)
    # BadRequest is a NetworkError in PTB: the refusals are sorted out first.
    if isinstance(error, (Forbidden, BadRequest, ChatMigrated, Conflict)):
        log = logger.warning if isinstance(error, Forbidden) else logger.error
        log("Telegram refused a message: %s %s", name, error.message)
        return DeliveryError(f"Telegram {name}: {error.message}"[:300], retryable=False)
    return DeliveryError(f"Telegram unreachable: {name}", retryable=True)


def seconds(value: int | float | timedelta) -> float:
    """RetryAfter.retry_after is an int, or a timedelta once PTB_TIMEDELTA is set."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def secret_matches(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


async def take_update(app: web.Application, event: NewEvent) -> bool:
    """Store one update (once), answer its callback query, hand it to the dispatcher."""
    stored = await app[INBOX_WRITER]([event])
    app[METRICS].count("bmabot_inbox_events_total", stored, channel=CHANNEL)
    if not stored:
        return False  # delivered before: answered then
    channel = app[DISPATCHER].channels.get(CHANNEL)
    if isinstance(channel, TelegramChannel):
        channel.acknowledge(event.payload)
    app[DISPATCHER].received([event])
    return True


async def telegram_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/telegram: check the secret token, store the update once, answer 200."""
    metrics = request.app[METRICS]
    secret = request.app[SETTINGS].telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER)
    if secret is None or not secret_matches(secret.get_secret_value(), given):
        security_event(Event.SIGNATURE_REFUSED, channel=CHANNEL, remote=request.remote or "-")
        metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="bad_secret")
        return web.json_response({"message": "unauthorized"}, status=401)
    try:
        event = parse_telegram_update(await request.read())
    except ValueError:
        metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="malformed")
        return web.json_response({"message": "malformed body"}, status=400)
    if event is not None:
        await take_update(request.app, event)
    metrics.count("bmabot_webhook_requests_total", channel=CHANNEL, outcome="accepted")
    return web.json_response({})
