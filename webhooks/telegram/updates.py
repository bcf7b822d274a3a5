"""Telegram updates read as neutral events: who owns one, and what the person did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import Bot, CallbackQuery, ChatMemberUpdated, Message, MessageEntity, Update

from bot.flows.incoming import Incoming, Kind, MediaRef
from bot.handlers.channels import UnreadableEventError
from core.delivery.inbox import NewEvent
from webhooks.json_body import read_json

CHANNEL = "telegram"
GROUP_TYPES = frozenset({"group", "supergroup"})
JOINED = frozenset({"member", "administrator"})
# A deep link t.me/<bot>?start=apply arrives as "/start apply": the menu knows that one.
START_PAYLOADS = frozenset({"apply"})
MAX_ID = 2**63  # Telegram's ids fit in 52 bits; the inbox keys and chat ids must stay short


def parse_telegram_update(body: bytes) -> NewEvent | None:
    """The update of a webhook body worth storing; raises ValueError for a malformed body."""
    return telegram_event(read_json(body))


def telegram_event(update: Any) -> NewEvent | None:
    """An update as an inbox event keyed by its update_id; None when nobody is to answer."""
    if not isinstance(update, dict) or not _is_number(update.get("update_id")):
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
            if isinstance(found, dict) and _is_number(found.get("id")):
                return str(found["id"])
    return None


def _is_number(value: Any) -> bool:
    """An id as Telegram makes them: an int (never a bool) of at most 64 bits."""
    return type(value) is int and -MAX_ID < value < MAX_ID


def _id(holder: Any) -> str | None:
    """The id of a user or chat PTB read, as text; None when it is not a Telegram id."""
    found = getattr(holder, "id", None)
    return str(found) if _is_number(found) else None


def _in_group(chat: Any) -> bool:
    kind = getattr(chat, "type", None)
    return isinstance(kind, str) and kind in GROUP_TYPES


def to_incoming(payload: Mapping[str, Any], bot: Bot, username: str | None) -> Incoming | None:
    """A stored update as a neutral Incoming; None for what nobody answers (edits, posts);
    UnreadableEventError for an update PTB cannot read.

    PTB checks no types: every field read from its objects is checked here.
    """
    update = _update(payload, bot)
    if update.callback_query is not None:
        return _button(update.callback_query)
    message = update.message
    if message is not None and message.from_user is not None:
        return _message(message, username)
    if update.my_chat_member is not None:
        return _membership(update.my_chat_member)
    return None  # edited_message, channel_post and the rest: nothing to answer


def _update(payload: Mapping[str, Any], bot: Bot) -> Update:
    try:
        return Update.de_json(dict(payload), bot)
    except Exception as error:  # PTB fails in its own way for each odd shape
        raise UnreadableEventError(f"PTB cannot read it: {type(error).__name__}") from None


def _button(query: CallbackQuery) -> Incoming | None:
    user_id = _id(query.from_user)
    message = query.message
    chat = message.chat if message is not None else None
    chat_id = user_id if message is None else _id(chat)
    data = "" if query.data is None else query.data
    if user_id is None or chat_id is None or not isinstance(data, str):
        return None
    message_id = getattr(message, "message_id", None)
    in_group = _in_group(chat)
    return Incoming(
        CHANNEL,
        user_id,
        chat_id,
        Kind.BUTTON,
        data=data,
        in_group=in_group,
        origin=str(message_id) if _is_number(message_id) else None,
        sender_name=sender_name(query.from_user) if in_group else "",
    )


def _message(message: Message, username: str | None) -> Incoming | None:
    user_id, chat_id = _id(message.from_user), _id(message.chat)
    if user_id is None or chat_id is None:
        raise UnreadableEventError("a message without a sender or a chat")
    kind, fields = _kind_and_fields(message, username)
    if kind is None:
        return None
    if in_group := _in_group(message.chat):
        fields["sender_name"] = sender_name(message.from_user)
    return Incoming(CHANNEL, user_id, chat_id, kind, in_group=in_group, **fields)


def sender_name(user: Any) -> str:
    """A group member's name as Telegram shows it: first and last name, else @username;
    the reviewers' group reads it instead of the id."""
    names = [getattr(user, field, None) for field in ("first_name", "last_name")]
    shown = " ".join(name.strip() for name in names if isinstance(name, str) and name.strip())
    username = getattr(user, "username", None)
    if not shown and isinstance(username, str) and username:
        return f"@{username}"
    return shown


def _kind_and_fields(message: Message, username: str | None) -> tuple[Kind | None, dict[str, Any]]:
    if message.text is not None:
        text = command_text(message, username)
        return (None, {}) if text is None else (Kind.TEXT, {"text": text})
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        return _picture(largest.file_id, "image/jpeg", largest.file_size)
    document = message.document
    if document is not None:
        mime = document.mime_type or ""
        if isinstance(mime, str) and mime.startswith("image/"):
            return _picture(document.file_id, mime, document.file_size)
        return Kind.FILE, {}
    if message.sticker is not None:
        return Kind.STICKER, {}
    if message.new_chat_members or message.left_chat_member or message.group_chat_created:
        return None, {}  # service messages in a group: nobody said anything
    return Kind.OTHER, {}  # voice, video, location, contact: nothing a form can use


def _picture(file_id: Any, mime: str, size: Any) -> tuple[Kind | None, dict[str, Any]]:
    """A photo, with the size Telegram gives: a file too large is refused before getFile."""
    if not isinstance(file_id, str) or not file_id:
        return None, {}
    size = size if type(size) is int and size >= 0 else None
    return Kind.PHOTO, {"media": MediaRef(file_id, mime, size)}


def command_text(message: Message, username: str | None) -> str | None:
    """The text, with a leading command made plain: "/status@bmabot" reads as "/status".

    None for a command meant for another bot in the same group, and for text that is not text.
    """
    text = message.text
    if not isinstance(text, str):
        return None
    entity = next(iter(message.entities), None)
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return text
    if type(entity.length) is not int or entity.length <= 0:
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
    status = getattr(change.new_chat_member, "status", None)
    user_id, chat_id = _id(change.from_user), _id(change.chat)
    if user_id is None or chat_id is None or not isinstance(status, str):
        return None
    if _in_group(change.chat) and status in JOINED:
        return Incoming(CHANNEL, user_id, chat_id, Kind.JOIN, in_group=True)
    if getattr(change.chat, "type", None) == "private" and status == "kicked":
        return Incoming(CHANNEL, user_id, chat_id, Kind.UNFOLLOW)
    return None
