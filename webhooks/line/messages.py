"""Neutral rendered messages as LINE message models, cut to the limits LINE enforces."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from linebot.v3.messaging import Message

from bot.handlers.rendering import Button, Rendered, from_json

MAX_TEXT_UNITS = 5000  # UTF-16 code units, as LINE counts a text message
MAX_LABEL = 20  # grapheme clusters
MAX_DATA = 300
MAX_ALT_TEXT = 1500
MAX_DISPLAY_TEXT = 300
MAX_BUTTONS = 13
MAX_MESSAGES_PER_CALL = 5
ELLIPSIS = "…"
TEL_NUMBER = re.compile(r"\+?[0-9]{3,15}", re.ASCII)

# Thai vowels and tone marks written above or below a consonant: LINE counts them with it.
THAI_COMBINING = frozenset({0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)})

T = TypeVar("T")
Json = dict[str, Any]


class LineLimitError(ValueError):
    """A message breaks a LINE limit that cutting text cannot fix (too many buttons, long data)."""


def line_json(stored: Mapping[str, Any]) -> tuple[bytes, ...]:
    """A stored message (bot.handlers.rendering.to_json) as LINE's messages, each one's JSON
    (compact, UTF-8) ready to be joined into a request's body.

    Kept once per distinct message: most are the same for everyone (a question and its
    buttons), so each is encoded once, not on every reply (issue 13). Raises ValueError
    (LineLimitError) as line_dicts does.
    """
    # Looked up by repr: a third of the cost of JSON with sorted keys, for the same
    # answer (a message stored with its keys in another order is only kept twice).
    key = repr(stored)
    if (found := _LINE_JSON.get(key)) is None:
        if len(_LINE_JSON) >= LINE_JSON_KEPT:
            _LINE_JSON.clear()  # summaries are one a person; the common ones come back first
        found = _LINE_JSON[key] = tuple(map(_encoded, line_dicts([from_json(stored)])))
    return found


LINE_JSON_KEPT = 4096
_LINE_JSON: dict[str, tuple[bytes, ...]] = {}


def line_body(fields: Json, messages: Sequence[bytes]) -> bytes:
    """The JSON body {**fields, "messages": [...]} of a reply or push, joined from the
    messages as line_json encoded them."""
    head = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()[:-1]
    comma = b"," if fields else b""
    return b"".join((head, comma, b'"messages":[', b",".join(messages), b"]}"))


def _encoded(message: Json) -> bytes:
    # Thai as UTF-8 (3 bytes a character), not the six of a \u escape.
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def to_line_messages(replies: Sequence[Rendered]) -> list[Message]:
    """The same messages as the SDK's models: what line_dicts builds, read back by the SDK."""
    return [Message.from_dict(message) for message in line_dicts(replies)]


def line_dicts(replies: Sequence[Rendered]) -> list[Json]:
    """The JSON of LINE's message objects, as the SDK's models serialise them.

    Built as plain dicts: the summary, the filed message and the review card are unique to
    one person, and the SDK's pydantic models with their to_dict() cost more than the rest
    of such a turn (issue 13). A contract test reads every shape back through the models.
    """
    messages: list[Json] = []
    for reply in replies:
        if reply.replaces is not None:
            continue  # LINE cannot edit a sent message: the old one stays, harmless
        if reply.image_url is not None:
            messages.extend(_picture(reply, reply.image_url))
        elif reply.title is None:
            messages.extend(_text_messages(reply))
        else:
            messages.append(_card(reply, reply.title))
    return messages


def _picture(reply: Rendered, url: str) -> list[Json]:
    """LINE takes only https links to an image; the caption goes first as a text."""
    image = {
        "type": "image",
        "originalContentUrl": url,
        "previewImageUrl": reply.preview_url or url,
    }
    return [*_text_messages(reply), image]


def _given(**fields: Any) -> Json:
    """A JSON object without its empty fields, as the SDK's to_dict() leaves them out."""
    return {name: value for name, value in fields.items() if value is not None}


def chunks(items: Sequence[T], size: int = MAX_MESSAGES_PER_CALL) -> list[list[T]]:
    """LINE takes 1 to 5 messages per reply or push call."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def graphemes(text: str) -> list[str]:
    """Split into user-perceived characters: a base letter with the marks stacked on it."""
    clusters: list[str] = []
    for char in text:
        if clusters and _combines(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def grapheme_length(text: str) -> int:
    return len(graphemes(text))


def truncate_label(text: str, limit: int = MAX_LABEL) -> str:
    clusters = graphemes(text)
    if len(clusters) <= limit:
        return text
    return "".join(clusters[: limit - 1]).rstrip() + ELLIPSIS


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Cut at line breaks; inside a line only when that line alone is over the limit."""
    pieces: list[str] = []
    used = limit  # no piece is open yet
    for unit in _split_units(text, limit):
        size = utf16_length(unit)
        if used + size > limit:
            pieces.append("")
            used = 0
        pieces[-1] += unit
        used += size
    kept = [piece.strip("\n") for piece in pieces if piece.strip()]
    if not kept:
        raise LineLimitError("LINE refuses an empty text message")
    return kept


def _combines(char: str) -> bool:
    return ord(char) in THAI_COMBINING or unicodedata.category(char) in {"Mn", "Me"}


def _split_units(text: str, limit: int) -> Iterator[str]:
    """Whole lines (with their line break), or the clusters of a line too long to keep."""
    for line in re.split(r"(?<=\n)", text):
        if utf16_length(line) <= limit:
            yield line
        else:
            yield from graphemes(line)


def _cut(text: str, limit: int) -> str:
    """Shorten to limit UTF-16 units without breaking a cluster, marking the cut."""
    if utf16_length(text) <= limit:
        return text
    kept: list[str] = []
    used = utf16_length(ELLIPSIS)
    for cluster in graphemes(text):
        used += utf16_length(cluster)
        if used > limit:
            break
        kept.append(cluster)
    return "".join(kept) + ELLIPSIS


def _text_messages(reply: Rendered) -> list[Json]:
    pieces = split_text(reply.text)
    quick_reply = _quick_reply(reply.buttons)
    messages: list[Json] = [{"type": "text", "text": piece} for piece in pieces[:-1]]
    # The buttons answer the question, which ends the text: they go on the last piece.
    messages.append(_given(type="text", text=pieces[-1], quickReply=quick_reply))
    return messages


def _card(reply: Rendered, title: str) -> Json:
    header = _box([_text(title, weight="bold", size="lg")])
    bubble = _given(
        type="bubble",
        header=header,
        body=_card_body(reply.text),
        footer=_card_footer(reply.buttons),
    )
    return _given(
        type="flex",
        altText=_cut(title, MAX_ALT_TEXT),
        contents=bubble,
        # The same buttons again above the keyboard, where people look after reading.
        quickReply=_quick_reply(reply.buttons),
    )


def _box(contents: list[Json], spacing: str | None = None) -> Json:
    return _given(type="box", layout="vertical", spacing=spacing, contents=contents)


def _text(text: str, *, size: str, weight: str | None = None) -> Json:
    if not text:
        raise LineLimitError("LINE refuses a text component with empty text")
    return _given(type="text", text=text, size=size, weight=weight, wrap=True)


def _card_body(text: str) -> Json | None:
    # LINE refuses a text component with empty text, so blank lines are left out.
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return None
    return _box([_text(line, size="sm") for line in lines], spacing="sm")


def _card_footer(buttons: Sequence[Button]) -> Json | None:
    if not buttons:
        return None
    contents = [
        {
            "type": "button",
            "action": _action(button),
            "style": "primary" if index == 0 else "secondary",
            "height": "sm",
        }
        for index, button in enumerate(buttons)
    ]
    return _box(contents, spacing="sm")


def _quick_reply(buttons: Sequence[Button]) -> Json | None:
    if not buttons:
        return None
    if len(buttons) > MAX_BUTTONS:
        raise LineLimitError(f"LINE shows at most {MAX_BUTTONS} buttons, got {len(buttons)}")
    return {"items": [{"type": "action", "action": _action(button)} for button in buttons]}


def _action(button: Button) -> Json:
    return _postback(button) if button.number is None else _call(button, button.number)


def _call(button: Button, number: str) -> Json:
    # LINE takes http, https, line and tel links; the phone dials, nothing comes back to us.
    if not TEL_NUMBER.fullmatch(number):
        raise LineLimitError(f"a call button needs a phone number, not {number[:20]!r}")
    return {"type": "uri", "label": truncate_label(button.label), "uri": f"tel:{number}"}


def _postback(button: Button) -> Json:
    # Cutting the data would route the tap somewhere else: a long one is a bug to fix.
    if not button.data or utf16_length(button.data) > MAX_DATA:
        raise LineLimitError(f"postback data must be 1-{MAX_DATA} chars: {button.data[:40]!r}")
    return {
        "type": "postback",
        "label": truncate_label(button.label),
        "data": button.data,
        # The chat shows what was tapped, in full even when the label had to be cut.
        "displayText": _cut(button.label, MAX_DISPLAY_TEXT),
    }
