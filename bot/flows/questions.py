"""Kinds of question a form asks: typed text, pick-or-type, and a photo."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.flows.engine import Accept, FlowState, Reply, Retry, Stay, Step, is_text
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import (
    Choice,
    DocumentRefused,
    DocumentStored,
    Message,
    Outcome,
    StoreDocument,
    Text,
)
from core.rules.validation import Invalid

BACK = Choice("common.back", "nav:back")
CANCEL = Choice("common.cancel", "nav:cancel")
NAVIGATION = (BACK, CANCEL)

Parser = Callable[[str], Any]  # returns the clean value, or an Invalid


def invalid(field: str, problem: Invalid) -> tuple[Message, ...]:
    said: tuple[Message, ...] = (Text(f"invalid.{field}.{problem.reason}"),)
    if problem.suggestion:
        said += (Text("common.did_you_mean", {"suggestion": problem.suggestion}),)
    return said


def text_question(
    prompt: str | Callable[[FlowState], Text],
    key: str,
    parse: Parser,
    *,
    picks: Callable[[FlowState], Sequence[str]] = lambda state: (),
    field: str | None = None,
    then: Callable[[FlowState, Any], Reply] | None = None,
    on_outcome: Callable[[FlowState, Outcome], Reply] | None = None,
    helps: Mapping[str, Message] | None = None,
) -> Step:
    """Ask for a typed answer; `picks` are ready answers offered as buttons (data pick:N).

    A good answer (typed or picked) is stored under `key`, or handed to `then`, which may
    check it further (Retry), settle other answers too (Accept) or ask the world about it
    (Stay with an effect, whose outcome goes to `on_outcome`). `helps` answers buttons
    that a hint offered (by their data) and keeps the question open.
    """

    def ask(state: FlowState) -> list[Message]:
        question = prompt(state) if callable(prompt) else Text(prompt)
        offered = tuple(Choice.literal(value, f"pick:{i}") for i, value in enumerate(picks(state)))
        return [Text(question.key, question.params, (*offered, *NAVIGATION))]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if helps and incoming.kind is Kind.BUTTON and incoming.data in helps:
            return Stay((helps[incoming.data],))
        value = _picked(incoming, picks(state))
        if value is None:
            if not is_text(incoming):
                return Retry((Text("common.text_expected"),))
            value = parse(incoming.text)
            if isinstance(value, Invalid):
                return Retry(invalid(field or key, value))
        return Accept({key: value}) if then is None else then(state, value)

    return Step(ask, answer, on_outcome)


def _picked(incoming: Incoming, picks: Sequence[str]) -> str | None:
    if incoming.kind is not Kind.BUTTON or not incoming.data.startswith("pick:"):
        return None
    index = incoming.data.removeprefix("pick:")
    if not index.isascii() or not index.isdigit() or int(index) >= len(picks):
        return None
    return picks[int(index)]


def photo_question(prompt: str, slot: str) -> Step:
    """Ask for a photo; storing it is an effect, and its outcome moves the form on."""
    key = f"doc_{slot}"

    def ask(state: FlowState) -> list[Message]:
        return [Text(prompt, choices=NAVIGATION)]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if incoming.kind is Kind.PHOTO and incoming.media is not None:
            return Stay(effects=(StoreDocument(slot, incoming.media),))
        if incoming.kind is Kind.FILE:
            return Retry((Text("invalid.document.file"),))
        return Retry((Text("apply.photo_expected"),))

    def on_outcome(state: FlowState, outcome: Outcome) -> Reply:
        if isinstance(outcome, DocumentStored) and outcome.slot == slot:
            return Accept({key: outcome.document_id}, (Text("apply.document_received"),))
        if isinstance(outcome, DocumentRefused):
            return Retry((Text(f"invalid.document.{outcome.reason}"),))
        raise ValueError(f"unexpected outcome {outcome!r} at photo step {slot}")

    return Step(ask, answer, on_outcome)
