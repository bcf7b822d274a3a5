"""The reviewers' side of a card: approve, reject with a reason, or return items to redo."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.flows.outgoing import Message, Text
from bot.flows.review_buttons import CANCEL, Action, Press
from bot.flows.review_card import items_for
from core.rules.validation import Invalid, parse_free_text

REASONS = ("blurry", "no_certificate", "mismatch", "not_eligible", "duplicate")


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


def on_press(press: Press, state: Mapping[str, Any] | None, kind: str) -> ReviewStep:
    """What a press means, given what this reviewer was doing with this application."""
    mine = dict(state) if state and state.get("app") == press.application_id else {}
    return PRESSES.get(press.action, _cancelled)(press, mine, kind)


def _approve(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    return Decide("approve", press.application_id)


def _ask_reason(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    return Ask((_reasons(press.application_id),), {"mode": "reason", "app": press.application_id})


def _reason(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    if press.argument not in REASONS:
        return _cancelled(press, state, kind)
    return Decide("reject", press.application_id, reason=press.argument)


def _ask_typed_reason(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    asked = Text("review.type_reason", choices=(CANCEL,))
    return Ask((asked,), {"mode": "reason_text", "app": press.application_id})


def _return(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    if not items_for(kind):  # a short request has nothing to redo: reject it instead
        return Ask((Text("review.no_return"),), None)
    return _returning(press, state, kind)


def _cancelled(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    return Ask((Text("review.cancelled"),), None)


# What each button does; RETRY_JOB is the handler's (it concerns a job, not a card).
PRESSES: dict[Action, Callable[[Press, dict[str, Any], str], ReviewStep]] = {
    Action.APPROVE: _approve,
    Action.REJECT: _ask_reason,
    Action.REASON: _reason,
    Action.REASON_OTHER: _ask_typed_reason,
    Action.RETURN: _return,
    Action.TOGGLE_ITEM: _return,
    Action.ITEMS_DONE: _return,
    Action.NO_NOTE: _return,
}


def _returning(press: Press, state: dict[str, Any], kind: str) -> ReviewStep:
    app, items = press.application_id, list(state.get("items", []))
    if press.action is Action.TOGGLE_ITEM and press.argument in items_for(kind):
        items.remove(press.argument) if press.argument in items else items.append(press.argument)
    if press.action is Action.ITEMS_DONE and items:
        skip = Press(Action.NO_NOTE, app).choice("review.no_note")
        return Ask(
            (Text("review.ask_note", choices=(skip, CANCEL)),),
            {"mode": "note", "app": app, "items": items},
        )
    if press.action is Action.NO_NOTE and items:
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
        Press(Action.REASON, application_id, code).choice(f"review.reason.{code}")
        for code in REASONS
    ]
    other = Press(Action.REASON_OTHER, application_id).choice("review.reason_other")
    return Text("review.pick_reason", choices=(*reasons, other, CANCEL))


def _items_menu(application_id: int, kind: str, picked: Sequence[str]) -> Text:
    toggles = [
        Press(Action.TOGGLE_ITEM, application_id, item).choice(
            f"review.item.{item}", {"mark": "✓ " if item in picked else ""}
        )
        for item in items_for(kind)
    ]
    done = Press(Action.ITEMS_DONE, application_id).choice("review.items_done")
    return Text("review.pick_items", choices=(*toggles, done, CANCEL))
