"""The reviewers' side of a card: approve, reject with a reason, or return items to redo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.flows.outgoing import Choice, Message, Text
from bot.flows.review_card import items_for
from core.validation import Invalid, parse_free_text

REASONS = ("blurry", "no_certificate", "mismatch", "not_eligible", "duplicate")
CANCEL = Choice("review.cancel", "rv:x:0")


@dataclass(frozen=True, slots=True)
class Press:
    """A parsed reviewer button: rv:<action>:<application id>[:<argument>]."""

    action: str
    application_id: int
    argument: str = ""


@dataclass(frozen=True, slots=True)
class Decide:
    outcome: str  # approve | reject | return
    application_id: int
    reason: str | None = None
    items: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask the reviewer something more; the state is kept for their next press or text."""

    messages: tuple[Message, ...]
    state: Mapping[str, Any] | None = field(default=None)


ReviewStep = Decide | Ask


def parse_press(data: str) -> Press | None:
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != "rv" or not parts[2].isascii():
        return None
    if not parts[2].isdigit():
        return None
    return Press(parts[1], int(parts[2]), parts[3] if len(parts) == 4 else "")


def on_press(press: Press, state: Mapping[str, Any] | None, kind: str) -> ReviewStep:
    """What a press means, given what this reviewer was doing with this application."""
    mine = dict(state) if state and state.get("app") == press.application_id else {}
    app = press.application_id
    if press.action == "a":
        return Decide("approve", app)
    if press.action == "r":
        return Ask((_reasons(app),), {"mode": "reason", "app": app})
    if press.action == "rr" and press.argument in REASONS:
        return Decide("reject", app, reason=press.argument)
    if press.action == "ro":
        return Ask(
            (Text("review.type_reason", choices=(CANCEL,)),), {"mode": "reason_text", "app": app}
        )
    if press.action in ("t", "tf", "td", "tn"):
        if not items_for(kind):  # a short request has nothing to redo: reject it instead
            return Ask((Text("review.no_return"),), None)
        return _returning(press, mine, kind)
    return Ask((Text("review.cancelled"),), None)


def _returning(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    app, items = press.application_id, list(state.get("items", []))
    if press.action == "tf" and press.argument in items_for(kind):
        items.remove(press.argument) if press.argument in items else items.append(press.argument)
    if press.action == "td" and items:
        skip = Choice("review.no_note", f"rv:tn:{app}")
        return Ask(
            (Text("review.ask_note", choices=(skip, CANCEL)),),
            {"mode": "note", "app": app, "items": items},
        )
    if press.action == "tn" and items:
        return Decide("return", app, items=tuple(items))
    return Ask((_items_menu(app, kind, items),), {"mode": "items", "app": app, "items": items})


def on_text(text: str, state: Mapping[str, Any] | None) -> ReviewStep | None:
    """A reviewer's typed reason or note; None when they were not asked for one."""
    mode = (state or {}).get("mode")
    if mode not in ("reason_text", "note") or state is None:
        return None
    value = parse_free_text(text, min_length=3, max_length=300)
    if isinstance(value, Invalid):
        return Ask((Text(f"review.text_{value.reason}", choices=(CANCEL,)),), state)
    if mode == "reason_text":
        return Decide("reject", int(state["app"]), reason=value)
    return Decide("return", int(state["app"]), items=tuple(state["items"]), note=value)


def _reasons(application_id: int) -> Text:
    reasons = [
        Choice(f"review.reason.{code}", f"rv:rr:{application_id}:{code}") for code in REASONS
    ]
    other = Choice("review.reason_other", f"rv:ro:{application_id}")
    return Text("review.pick_reason", choices=(*reasons, other, CANCEL))


def _items_menu(application_id: int, kind: str, picked: Sequence[str]) -> Text:
    toggles = [
        Choice(
            f"review.item.{item}",
            f"rv:tf:{application_id}:{item}",
            {"mark": "✓ " if item in picked else ""},
        )
        for item in items_for(kind)
    ]
    done = Choice("review.items_done", f"rv:td:{application_id}")
    return Text("review.pick_items", choices=(*toggles, done, CANCEL))
