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


def from_json(raw: Mapping[str, Any]) -> Rendered:
    buttons = tuple(Button(label, data) for label, data in raw.get("buttons", []))
    return Rendered(
        raw["key"],
        raw["text"],
        buttons,
        raw.get("title"),
        raw.get("image_url"),
        raw.get("preview_url"),
        raw.get("document_id"),
        raw.get("replaces"),
    )
