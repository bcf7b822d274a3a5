"""Neutral rendered messages as Telegram messages: escaped HTML, inline keyboards, limits."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.handlers.rendering import Button, Rendered

MAX_TEXT = 4096  # visible characters (after HTML parsing), counted in UTF-16 code units
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes, not characters: a Thai letter takes three
MAX_BUTTONS = 100
SHORT_LABEL = 14  # labels this short go two to a row; longer ones get a row each
ELLIPSIS = "…"


class TelegramLimitError(ValueError):
    """A message breaks a Telegram limit that cutting text cannot fix (long data, no text)."""


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """One Bot API call: HTML text (or a photo's caption) and the keyboard under it."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo_url: str | None = None
    document_id: int | None = None  # a photo: the stored document, uploaded rather than linked
    replaces: int | None = None  # an edit: the id of the message sent earlier, keyboard removed


def to_telegram_messages(replies: Sequence[Rendered]) -> list[TelegramMessage]:
    messages: list[TelegramMessage] = []
    for reply in replies:
        if reply.replaces is not None:
            messages.extend(_edit(reply, reply.replaces))
        elif reply.image_url is not None or reply.document_id is not None:
            caption = html.escape(cut(reply.text, MAX_CAPTION))
            messages.append(
                TelegramMessage(caption, photo_url=reply.image_url, document_id=reply.document_id)
            )
        else:
            messages.extend(_text_messages(reply))
    return messages


def _edit(reply: Rendered, replaces: str) -> list[TelegramMessage]:
    """A settled message: one text in place of the old one (cut to fit), without buttons."""
    if not replaces.isdigit():
        return []  # not a Telegram message id: nothing here to edit
    if reply.title is None:
        text = html.escape(cut(reply.text, MAX_TEXT))
    else:
        title = cut(reply.title, 256)
        body = cut(reply.text, MAX_TEXT - utf16_length(title) - 1)
        text = f"<b>{html.escape(title)}</b>\n{html.escape(body)}"
    return [TelegramMessage(text, replaces=int(replaces))]


def _text_messages(reply: Rendered) -> list[TelegramMessage]:
    if reply.title is None:
        pieces = [html.escape(piece) for piece in split_text(reply.text)]
    else:
        pieces = _card_pieces(reply.title, reply.text)
    last = len(pieces) - 1
    # The buttons answer the question, which ends the text: they go under the last piece.
    return [
        TelegramMessage(piece, keyboard(reply.buttons) if index == last else None)
        for index, piece in enumerate(pieces)
    ]


def _card_pieces(title: str, text: str) -> list[str]:
    """A card: its title in bold above the lines, all of it escaped for HTML."""
    heading = f"<b>{html.escape(cut(title, 256))}</b>"
    if not text.strip():
        return [heading]
    body = split_text(text, MAX_TEXT - utf16_length(cut(title, 256)) - 1)
    return [f"{heading}\n{html.escape(body[0])}", *(html.escape(piece) for piece in body[1:])]


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    # Telegram's URL buttons take only http(s) and tg links, never tel: a call button is
    # left out, and the text gives the number in a form Telegram makes tappable (+66 ...).
    buttons = [button for button in buttons if button.number is None]
    if not buttons:
        return None
    if len(buttons) > MAX_BUTTONS:
        raise TelegramLimitError(f"Telegram shows at most {MAX_BUTTONS} buttons")
    per_row = 2 if all(len(button.label) <= SHORT_LABEL for button in buttons) else 1
    rows = [buttons[start : start + per_row] for start in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=_data(b)) for b in row] for row in rows]
    )


def _data(button: Button) -> str:
    # Cutting the data would route the tap somewhere else: a long one is a bug to fix.
    if not 1 <= len(button.data.encode()) <= MAX_CALLBACK_DATA:
        raise TelegramLimitError(f"callback_data must be 1-64 bytes: {button.data[:40]!r}")
    return button.data


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut at line breaks; inside a line only when that line alone is over the limit."""
    pieces, current = [], ""
    for unit in _units(text, limit):
        if current and utf16_length(current + unit) > limit:
            pieces.append(current)
            current = ""
        current += unit
    pieces.append(current)
    kept = [piece.strip("\n") for piece in pieces if piece.strip()]
    if not kept:
        raise TelegramLimitError("Telegram refuses an empty message")
    return kept


def cut(text: str, limit: int) -> str:
    """Shorten to limit UTF-16 units, marking the cut, never between a letter and its marks."""
    if utf16_length(text) <= limit:
        return text
    return text[: _cut_point(text, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def _units(text: str, limit: int) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        while utf16_length(line) > limit:
            at = _cut_point(line, limit)
            yield line[:at]
            line = line[at:]
        yield line


def _cut_point(text: str, limit: int) -> int:
    at = min(len(text), limit)
    while at > 1 and utf16_length(text[:at]) > limit:
        at -= 1
    # Thai vowels and tone marks sit on the letter before them: keep them together.
    while at > 1 and at < len(text) and _combines(text[at]):
        at -= 1
    return at


def _combines(char: str) -> bool:
    return unicodedata.category(char) in {"Mn", "Me", "Mc"} or char == "\u0e33"
