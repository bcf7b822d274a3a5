"""Telegram updates read as neutral events: who owns one, and what the person did."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from telegram import Bot, CallbackQuery, ChatMemberUpdated, Message, MessageEntity, Update

from bot.flows.incoming import Incoming, Kind, MediaRef
from core.inbox import NewEvent

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
GROUP_TYPES = frozenset({"group", "supergroup"})
JOINED = frozenset({"member", "administrator"})
# A deep link t.me/<bot>?start=apply arrives as "/start apply": the menu knows that one.
START_PAYLOADS = frozenset({"apply"})


def parse_telegram_update(body: bytes) -> NewEvent | None:
    """The update of a webhook body worth storing; raises ValueError for a malformed body."""
    return telegram_event(json.loads(body))


def telegram_event(update: Any) -> NewEvent | None:
    """An update as an inbox event keyed by its update_id; None when nobody is to answer."""
    if not isinstance(update, dict) or type(update.get("update_id")) is not int:
        raise ValueError("not a Telegram update")
    owner = update_owner(update)
    if owner is None:
        return None  # a poll, an inline query: nobody to answer in a chat
    return NewEvent(f"{CHANNEL}:{update['update_id']}", CHANNEL, owner, update)


def update_owner(update: Mapping[str, Any]) -> str | None:
    """Whose turn an update is: the sender, else the chat (a channel post has no sender)."""
    for key, content in update.items():
        if key == "update_id" or not isinstance(content, dict):
            continue
        for holder in ("from", "chat", "sender_chat"):
            found = content.get(holder)
            if isinstance(found, dict) and type(found.get("id")) is int:
                return str(found["id"])
    return None


def to_incoming(payload: Mapping[str, Any], bot: Bot, username: str | None) -> Incoming | None:
    """A stored update as a neutral Incoming; None for what nobody answers (edits, posts)."""
    try:
        update = Update.de_json(dict(payload), bot)
    except (KeyError, TypeError, ValueError):
        logger.warning("a stored Telegram update could not be read")
        return None
    if update.callback_query is not None:
        return _button(update.callback_query)
    message = update.message
    if message is not None and message.from_user is not None:
        return _message(message, str(message.from_user.id), username)
    if update.my_chat_member is not None:
        return _membership(update.my_chat_member)
    return None  # edited_message, channel_post and the rest: nothing to answer


def _button(query: CallbackQuery) -> Incoming | None:
    chat = query.message.chat if query.message is not None else None
    user_id = str(query.from_user.id)
    return Incoming(
        CHANNEL,
        user_id,
        str(chat.id) if chat is not None else user_id,
        Kind.BUTTON,
        data=query.data or "",
        in_group=chat is not None and chat.type in GROUP_TYPES,
        origin=str(query.message.message_id) if query.message is not None else None,
    )


def _message(message: Message, user_id: str, username: str | None) -> Incoming | None:
    kind, fields = _kind_and_fields(message, username)
    if kind is None:
        return None
    return Incoming(
        CHANNEL,
        user_id,
        str(message.chat.id),
        kind,
        in_group=message.chat.type in GROUP_TYPES,
        **fields,
    )


def _kind_and_fields(message: Message, username: str | None) -> tuple[Kind | None, dict[str, Any]]:
    if message.text is not None:
        text = command_text(message, username)
        return (None, {}) if text is None else (Kind.TEXT, {"text": text})
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        return Kind.PHOTO, {"media": MediaRef(largest.file_id, "image/jpeg")}
    document = message.document
    if document is not None:
        mime = document.mime_type or ""
        if mime.startswith("image/"):
            return Kind.PHOTO, {"media": MediaRef(document.file_id, mime)}
        return Kind.FILE, {}
    if message.sticker is not None:
        return Kind.STICKER, {}
    if message.new_chat_members or message.left_chat_member or message.group_chat_created:
        return None, {}  # service messages in a group: nobody said anything
    return Kind.OTHER, {}  # voice, video, location, contact: nothing a form can use


def command_text(message: Message, username: str | None) -> str | None:
    """The text, with a leading command made plain: "/status@bmabot" reads as "/status".

    None for a command meant for another bot in the same group.
    """
    text = message.text or ""
    entity = next(iter(message.entities), None)
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return text
    command, rest = text[: entity.length], text[entity.length :].strip()
    name, _, target = command.partition("@")
    if target and username is not None and target.lower() != username.lower():
        return None
    if name.lower() == "/start":
        return f"/start {rest}" if rest in START_PAYLOADS else "/start"
    return f"{name.lower()} {rest}".strip()


def _membership(change: ChatMemberUpdated) -> Incoming | None:
    """The bot added to a group (JOIN), or blocked by a person in a private chat (UNFOLLOW)."""
    status, chat = change.new_chat_member.status, change.chat
    user_id = str(change.from_user.id)
    if chat.type in GROUP_TYPES and status in JOINED:
        return Incoming(CHANNEL, user_id, str(chat.id), Kind.JOIN, in_group=True)
    if chat.type == "private" and status == "kicked":
        return Incoming(CHANNEL, user_id, str(chat.id), Kind.UNFOLLOW)
    return None
