"""Neutral messages into words: catalog keys become Thai text, buttons keep their data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.catalog import Catalog
from bot.flows.outgoing import CALL, Card, Choice, Message, Picture, Settled


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str

    @property
    def number(self) -> str | None:
        """The number a call button dials (it sends nothing back); None for other buttons."""
        return self.data.removeprefix(CALL) if self.data.startswith(CALL) else None


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready for a channel; a card has a title and is shown as a card."""

    key: str  # the catalog key it was made from: for logs and tests, never shown
    text: str
    buttons: tuple[Button, ...] = ()
    title: str | None = None
    image_url: str | None = None  # a picture: its signed link, and a smaller preview's
    preview_url: str | None = None
    document_id: int | None = None  # a picture: the stored document it shows
    replaces: str | None = None  # a settled message: the one sent earlier that it replaces


# Makes the links of a picture: (image, preview) for a document id.
PictureLinks = Callable[[int], tuple[str, str]]


def render(
    messages: Iterable[Message], catalog: Catalog, links: PictureLinks | None = None
) -> list[Rendered]:
    return [_render(message, catalog, links) for message in messages]


def _render(message: Message, catalog: Catalog, links: PictureLinks | None) -> Rendered:
    if isinstance(message, Settled):
        now = _render(message.now, catalog, links)
        return replace(now, buttons=(), replaces=message.origin)
    if isinstance(message, Picture):
        if links is None:
            raise ValueError("a picture needs the media links to be shown")
        image, preview = links(message.document_id)
        caption = catalog.text(message.caption.key, message.caption.params)
        return Rendered(
            message.caption.key,
            caption,
            image_url=image,
            preview_url=preview,
            document_id=message.document_id,
        )
    if isinstance(message, Card):
        lines = "\n".join(catalog.text(line.key, line.params) for line in message.lines)
        title = catalog.text(message.title.key, message.title.params)
        buttons = _buttons(message.buttons, catalog)
        return Rendered(message.title.key, lines, buttons, title)
    text = catalog.text(message.key, message.params)
    if message.lead is not None:
        text = f"{catalog.text(message.lead.key, message.lead.params)}\n{text}"
    return Rendered(message.key, text, _buttons(message.choices, catalog))


def _buttons(choices: Iterable[Choice], catalog: Catalog) -> tuple[Button, ...]:
    return tuple(Button(catalog.text(c.label, c.params), c.data) for c in choices)


def to_json(reply: Rendered) -> dict[str, Any]:
    """A rendered message as plain JSON, for the outbox."""
    return {
        "key": reply.key,
        "text": reply.text,
        "title": reply.title,
        "buttons": [[button.label, button.data] for button in reply.buttons],
        "image_url": reply.image_url,
        "preview_url": reply.preview_url,
        "document_id": reply.document_id,
        "replaces": reply.replaces,
    }


def from_json(raw: Any) -> Rendered:
    """A stored message read back; raises ValueError when it is not one to_json wrote."""
    if not isinstance(raw, Mapping):
        raise ValueError("a stored message is not an object")
    key, text = raw.get("key"), raw.get("text")
    if not isinstance(key, str) or not isinstance(text, str):
        raise ValueError("a stored message has no key or text")
    document_id = raw.get("document_id")
    if document_id is not None and type(document_id) is not int:
        raise ValueError("a stored message has a document id that is not a number")
    return Rendered(
        key,
        text,
        _stored_buttons(raw.get("buttons", [])),
        _optional_text(raw, "title"),
        _optional_text(raw, "image_url"),
        _optional_text(raw, "preview_url"),
        document_id,
        _optional_text(raw, "replaces"),
    )


def _stored_buttons(raw: Any) -> tuple[Button, ...]:
    if not isinstance(raw, (list, tuple)):
        raise ValueError("stored buttons are not a list")
    if not all(_is_label_and_data(pair) for pair in raw):
        raise ValueError("a stored button is not a label and its data")
    return tuple(Button(label, data) for label, data in raw)


def _is_label_and_data(pair: Any) -> bool:
    return (
        isinstance(pair, (list, tuple))
        and len(pair) == 2
        and all(isinstance(part, str) for part in pair)
    )


def _optional_text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"a stored message's {name} is not text")
    return value
