"""Neutral messages into words: catalog keys become Thai text, buttons keep their data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.catalog import Catalog
from bot.flows.outgoing import Card, Choice, Message


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready for a channel; a card has a title and is shown as a card."""

    key: str  # the catalog key it was made from: for logs and tests, never shown
    text: str
    buttons: tuple[Button, ...] = ()
    title: str | None = None


def render(messages: Iterable[Message], catalog: Catalog) -> list[Rendered]:
    return [_render(message, catalog) for message in messages]


def _render(message: Message, catalog: Catalog) -> Rendered:
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
    }


def from_json(raw: Mapping[str, Any]) -> Rendered:
    buttons = tuple(Button(label, data) for label, data in raw.get("buttons", []))
    return Rendered(raw["key"], raw["text"], buttons, raw.get("title"))
