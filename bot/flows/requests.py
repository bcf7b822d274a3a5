"""Pieces of the short requests besides the application: a notice, a user name checked in the
directory, and a last look before sending (change of responsible person, extra rights)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.flows import menu
from bot.flows.engine import Accept, Dialogue, End, FlowState, Reply, Retry, Stay, Step
from bot.flows.incoming import Incoming
from bot.flows.outgoing import (
    ApplicationRefused,
    ApplicationSubmitted,
    Card,
    CheckUser,
    Choice,
    Message,
    Outcome,
    SubmitApplication,
    Text,
    UserChecked,
)
from bot.flows.questions import CANCEL, NAVIGATION, invalid
from bot.flows.reading import Intent, read_intent
from core.rules.usernames import parse_user_name
from core.rules.validation import Invalid

START = Choice("request.start", "req:start")
SEND = Choice("request.send", "req:send")
Judge = Callable[[FlowState, UserChecked], Reply]


def notice_step(intro: str) -> Step:
    """What the request needs and why (the PDPA notice); it starts with a tap on START."""

    def ask(state: FlowState) -> list[Message]:
        return [Text(intro), Text("request.pdpa", choices=(START, CANCEL))]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if incoming.data == START.data or read_intent(incoming) is Intent.YES:
            return Accept({"notice": True})
        return Retry((Text("request.start_needed"),))

    return Step(ask, answer)


def user_name_question(
    prompt: str, key: str, judge: Judge, parse: Callable[[str], str | None] = parse_user_name
) -> Step:
    """A user name, looked up in the directory at once; `judge` says if it will do."""

    def ask(state: FlowState) -> list[Message]:
        return [Text(prompt, choices=NAVIGATION)]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        uid = parse(" ".join(incoming.text.split())) if incoming.text else None
        if uid is None:
            return Retry(invalid(key, Invalid("format")))
        return Stay(effects=(CheckUser(uid),))

    def on_outcome(state: FlowState, outcome: Outcome) -> Reply:
        if not isinstance(outcome, UserChecked):
            raise ValueError(f"unexpected outcome {outcome!r} at {key}")
        if not outcome.reachable:  # the reviewers' card checks again
            return Accept({key: outcome.uid}, (Text("request.checked_later"),))
        return judge(state, outcome)

    return Step(ask, answer, on_outcome)


def confirm_step(
    title: str,
    lines: Callable[[Mapping[str, Any]], Sequence[Text]],
    submission: Callable[[Mapping[str, Any]], SubmitApplication],
) -> Step:
    """Every answer on one card; sending submits the request for review."""

    def ask(state: FlowState) -> list[Message]:
        buttons = (SEND, *NAVIGATION)
        return [Card(Text(title), tuple(lines(state.answers)), buttons)]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if incoming.data == SEND.data or read_intent(incoming) is Intent.YES:
            return Stay(effects=(submission(state.answers),))
        return Retry((Text("request.send_pick"),))

    def on_outcome(state: FlowState, outcome: Outcome) -> Reply:
        if isinstance(outcome, ApplicationSubmitted):
            reference = {"reference": outcome.reference}
            return End((Text("request.submitted", reference, menu.AFTER_FILING),))
        if isinstance(outcome, ApplicationRefused):
            reference = {"reference": outcome.reference}
            return End((Text(f"apply.refused.{outcome.reason}", reference, menu.AFTER_FILING),))
        raise ValueError(f"unexpected outcome {outcome!r} at the last look")

    return Step(ask, answer, on_outcome)


def request_dialogue(name: str, steps: Mapping[str, Step]) -> Dialogue:
    """Steps asked in order, each done once its answer (named like the step) is in; the
    last step is the last look before sending."""
    *order, last = steps

    def next_step(answers: Mapping[str, Any]) -> str:
        return next((step for step in order if step not in answers), last)

    return Dialogue(
        name,
        steps,
        next_step,
        cancelled=(Text("request.cancelled", choices=menu.main_choices()),),
        restart_keeps=("notice",),
    )
