"""A review card of a row stored before answers were checked shows escapes, never obeys them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.catalog import Catalog
from bot.flows.review_card import Facts, review_card
from bot.handlers.rendering import Rendered, render
from core.requests.review_views import CardData
from tests.emulators.line import check_messages
from webhooks.line.messages import to_line_messages
from webhooks.telegram.messages import to_telegram_messages

CATALOG = Catalog.load()
RAW = ("\x07", "\x1b", "\u202e", "\u2066")
HOSTILE_FORM = {
    "position": "\x07\x1b[31mred",
    "nationality": "<script>alert(1)</script>",
    "title_th": "นาง",
    "first_name_th": "สม\u202eศรี",
    "last_name_th": "\u2066รักดี",
    "title_en": "Mrs.",
    "first_name_en": "Somsri",
    "last_name_en": "Rakdee",
    "mobile": "+66812345678",
    "email": "somsri@bangkok.go.th",
}


def hostile_card() -> Rendered:
    data = CardData(
        application_id=7,
        reference="A69-00007",
        kind="staff",
        status="pending",
        channel="line",
        user_id="U1",
        form=HOSTILE_FORM,
        masked_national_id="x-xxxx-xxxxx-65-9",
        submitted_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        documents=(),
        earlier=(),
    )
    card, *_ = render(review_card(data, Facts(unit_text="สำนักงานเขตบางรัก")), CATALOG)
    return card


def test_the_card_shows_control_and_bidi_characters_as_escapes() -> None:
    card = hostile_card()
    assert not any(raw in card.text for raw in RAW)
    assert "\\x07\\x1b[31mred" in card.text
    assert "สม\\u202eศรี" in card.text
    assert "\n" in card.text  # the card's own lines stay lines


def test_the_line_card_carries_no_escape_or_bidi_override() -> None:
    (message,) = to_line_messages([hostile_card()])
    payload = message.to_dict()
    shown = json.dumps(payload, ensure_ascii=False)
    assert not any(raw in shown for raw in RAW)
    assert "\\\\x1b[31mred" in shown  # the escape itself, a backslash in the JSON
    assert check_messages([payload]) == []


def test_the_telegram_card_escapes_the_html_and_the_controls() -> None:
    messages = to_telegram_messages([hostile_card()])
    shown = "".join(message.html for message in messages)
    assert not any(raw in shown for raw in RAW)
    assert "&lt;script&gt;" in shown
    assert "<script>" not in shown
