"""Where are my requests: the draft and the applications, newest first, each with its story.

Asked with a status word or button, or by typing a reference; the answer never names a
request of anyone else. A form in progress shows as a draft with a button to go on with it.
"""

from __future__ import annotations

from dataclasses import replace

from bot.flows import engine
from bot.flows.apply_form import FORMS
from bot.flows.apply_summary import EDIT, SUBMIT
from bot.flows.engine import Dialogue, FlowState, Turn
from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS as REQUEST_KINDS
from bot.flows.menu import APPLY, HOME, STATUS, main_choices, typed
from bot.flows.outgoing import (
    ApplicationFound,
    ApplicationLookedUp,
    ApplicationsFound,
    Card,
    Choice,
    LookUpApplication,
    LookUpApplications,
    Message,
    Milestone,
    Text,
)
from bot.flows.requests import SEND
from bot.flows.review import REASONS
from core.rules.validation import parse_reference

STATUS_BUTTON = STATUS.data
CONTINUE_BUTTON = "status:continue"
STATUS_WORDS = frozenset({"สถานะ", "สถานะคำขอ", "ตรวจสอบสถานะ", "status", "/status"})
NEWEST = 5  # a chat answer stays short: older requests are found by their reference
CONTINUE = Choice("status.continue", CONTINUE_BUTTON)
CANCEL_DRAFT = Choice("status.cancel_draft", "nav:cancel")  # the form's cancel: it confirms
ALL = Choice("status.all", STATUS_BUTTON)
# The buttons of a form's last look: pressed again once the form is over (sent, or
# cancelled), they answer with where one's requests stand, never "not understood".
LAST_LOOK = frozenset({SUBMIT.data, EDIT.data, SEND.data})


def answer(dialogue: Dialogue, state: FlowState | None, incoming: Incoming) -> Turn | None:
    """The status words, a typed reference, the draft's continue button, or a last look's
    button of a form that is over; None for the rest."""
    if wants_status(incoming):
        return Turn(state, (), (LookUpApplications(NEWEST),))
    if state is None and incoming.kind is Kind.BUTTON and incoming.data in LAST_LOOK:
        return Turn(None, (Text("status.form_closed"),), (LookUpApplications(NEWEST),))
    reference = typed_reference(incoming, alone=state is None)
    if reference is not None:
        return Turn(state, (), (LookUpApplication(reference),))
    if incoming.kind is Kind.BUTTON and incoming.data == CONTINUE_BUTTON:
        return go_on(dialogue, state)
    return None


def wants_status(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == STATUS_BUTTON
    return bool(typed(incoming) & STATUS_WORDS)


def typed_reference(incoming: Incoming, *, alone: bool) -> str | None:
    """A reference after a status word ("สถานะ A69-00042"), or typed alone when `alone`.

    Inside a form a bare reference stays the answer to the question being asked.
    """
    for reading in typed(incoming):
        word, _, rest = reading.partition(" ")
        if word.rstrip(":") in STATUS_WORDS and (found := parse_reference(rest)):
            return found
        if alone and (found := parse_reference(reading)):
            return found
    return None


def go_on(dialogue: Dialogue, state: FlowState | None) -> Turn:
    if state is None:
        return Turn(None, (Text("status.no_draft", choices=main_choices()),))
    # A cancel left unconfirmed is dropped, or the next "yes" would end the form.
    return engine.ask(dialogue, replace(state, pending=None))


def show(
    found: ApplicationsFound | ApplicationLookedUp, draft: FlowState | None
) -> tuple[Message, ...]:
    if isinstance(found, ApplicationLookedUp):
        return _show_one(found, draft)
    if not found.applications and draft is None:
        return (Text("status.none", choices=(APPLY, HOME)),)
    lines = [*_draft_lines(draft)]
    for application in found.applications:
        lines.extend(_lines(application))
    if found.total > len(found.applications):
        shown = {"shown": str(len(found.applications)), "total": str(found.total)}
        lines.append(Text("status.more", shown))
    buttons = (CONTINUE, CANCEL_DRAFT) if draft else (HOME,)
    return (Card(Text("status.title"), tuple(lines), buttons),)


def _show_one(looked_up: ApplicationLookedUp, draft: FlowState | None) -> tuple[Message, ...]:
    going_on = (CONTINUE,) if draft else (HOME,)
    application = looked_up.application
    if application is None:
        # The same words whether the reference is unknown or someone else's.
        said = Text("status.not_found", {"reference": looked_up.reference}, (ALL, *going_on))
        return (said,)
    title = Text("status.one_title", {"reference": application.reference})
    buttons = (CONTINUE,) if draft else (ALL, HOME)
    return (Card(title, _lines(application), buttons),)


def _draft_lines(draft: FlowState | None) -> tuple[Text, ...]:
    if draft is None:
        return ()
    corrected = draft.answers.get("resubmits")
    if corrected:
        head = Text("status.item.draft_correction", {"reference": str(corrected)})
    else:
        head = Text("status.item.draft")
    # The application form keeps its kind among the answers; other dialogues are their kind.
    return (head, *_kind(str(draft.answers.get("kind") or draft.flow)))


def _lines(application: ApplicationFound) -> tuple[Text, ...]:
    head = Text(f"status.item.{application.status}", {"reference": application.reference})
    story = tuple(_milestone(milestone) for milestone in application.history)
    return (head, *_kind(application.kind), *story)


def _kind(kind: str) -> tuple[Text, ...]:
    return (Text(f"status.kind.{kind}"),) if kind in kinds_named() else ()


def kinds_named() -> frozenset[str]:
    """The kinds of request with a Thai name in the answer (status.kind.<kind>)."""
    return frozenset({*FORMS, *(kind.name for kind in REQUEST_KINDS)})


def _milestone(milestone: Milestone) -> Text:
    date = {"date": milestone.on}
    if milestone.what != "rejected" or not milestone.reason:
        return Text(f"status.event.{milestone.what}", date)
    if milestone.reason in REASONS:
        return Text(f"status.event.rejected.{milestone.reason}", date)
    return Text("status.event.rejected_because", {**date, "reason": milestone.reason})
