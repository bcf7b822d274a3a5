"""The conversation engine: a dialogue is a table of named steps; the engine runs it purely.

A step asks a question (``ask``) and reads the reply (``answer``). Replies come back as one
of a few outcomes (Accept, Retry, Stay, Jump, End); the engine turns them into the next
state, the messages to send and the effects to carry out. Cancel, back, restart and paging
are handled here once for every dialogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Card, Choice, Effect, Message, Outcome, Text
from bot.flows.reading import Intent, read_intent

PAGE_LIMIT = 13  # LINE shows at most 13 quick replies; Telegram keyboards stay readable too
HELP_AFTER_MISSES = 3
# What asks to be confirmed first: (pending name, the question, the yes button).
CONFIRMATIONS = {
    Intent.CANCEL: ("cancel", "common.confirm_cancel", "common.yes_cancel"),
    Intent.RESTART: ("restart", "common.confirm_restart", "common.yes_restart"),
}


@dataclass(frozen=True, slots=True)
class Undo:
    """How to take back one answer: the step it was given at and the values it replaced."""

    step: str
    previous: Mapping[str, Any]
    absent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowState:
    flow: str
    step: str
    answers: Mapping[str, Any] = field(default_factory=dict)
    undo: tuple[Undo, ...] = ()
    pending: str | None = None  # "cancel" or "restart" while waiting for a yes or no
    mode: str = ""  # a step's own sub-view (for example browsing a list instead of typing)
    page: int = 0
    misses: int = 0  # bad answers in a row at this step

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "answers": dict(self.answers),
            "undo": [[u.step, dict(u.previous), list(u.absent)] for u in self.undo],
            "pending": self.pending,
            "mode": self.mode,
            "page": self.page,
            "misses": self.misses,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FlowState:
        return cls(
            flow=raw["flow"],
            step=raw["step"],
            answers=dict(raw.get("answers", {})),
            undo=tuple(Undo(s, dict(p), tuple(a)) for s, p, a in raw.get("undo", [])),
            pending=raw.get("pending"),
            mode=raw.get("mode", ""),
            page=raw.get("page", 0),
            misses=raw.get("misses", 0),
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """What one input leads to: the new state (None: the dialogue is over), words, effects."""

    state: FlowState | None
    messages: tuple[Message, ...] = ()
    effects: tuple[Effect, ...] = ()


# What a step's answer function returns -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accept:
    """The answer is good: store these values and move to the next unanswered question."""

    values: Mapping[str, Any]
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True, slots=True)
class Retry:
    """The answer is not usable: say why (with an example) and stay at the same question."""

    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class Stay:
    """Stay at this step without counting a miss: show a sub-view, or wait for an outcome."""

    messages: tuple[Message, ...] = ()
    effects: tuple[Effect, ...] = ()
    mode: str | None = None
    page: int | None = None
    reask: bool = False


@dataclass(frozen=True, slots=True)
class Jump:
    """Go to a named step, clearing the answers it will ask again (undoable with back)."""

    step: str
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class End:
    messages: tuple[Message, ...] = ()
    effects: tuple[Effect, ...] = ()


Reply = Accept | Retry | Stay | Jump | End


@dataclass(frozen=True, slots=True)
class Step:
    ask: Callable[[FlowState], Sequence[Message]]
    answer: Callable[[FlowState, Incoming], Reply]
    on_outcome: Callable[[FlowState, Outcome], Reply] | None = None
    help_key: str = "common.help"  # said after a few misses in a row


@dataclass(frozen=True, slots=True)
class Dialogue:
    name: str
    steps: Mapping[str, Step]
    next_step: Callable[[Mapping[str, Any]], str]  # the first question still unanswered
    cancelled: tuple[Message, ...]
    restart_keeps: tuple[str, ...] = ()  # answers a restart does not ask again


def start(dialogue: Dialogue, answers: Mapping[str, Any] | None = None) -> Turn:
    values = dict(answers or {})
    state = FlowState(dialogue.name, dialogue.next_step(values), values)
    return Turn(state, tuple(_ask(dialogue, state)))


def handle(dialogue: Dialogue, state: FlowState, incoming: Incoming) -> Turn:
    state = known_step(dialogue, state)
    intent = read_intent(incoming)
    if state.pending is not None:
        confirmed = _confirm(dialogue, state, intent)
        if confirmed is not None:
            return confirmed
        state = replace(state, pending=None)
    navigated = _navigate(dialogue, state, intent)
    if navigated is not None:
        return navigated
    return apply_reply(dialogue, state, dialogue.steps[state.step].answer(state, incoming))


def handle_outcome(dialogue: Dialogue, state: FlowState, outcome: Outcome) -> Turn:
    state = known_step(dialogue, state)
    step = dialogue.steps[state.step]
    if step.on_outcome is None:
        raise ValueError(f"step {state.step} of {dialogue.name} expects no outcome")
    return apply_reply(dialogue, state, step.on_outcome(state, outcome))


def apply_reply(dialogue: Dialogue, state: FlowState, reply: Reply) -> Turn:
    match reply:
        case Accept(values, messages):
            return _accept(dialogue, state, values, messages)
        case Retry(messages):
            return _retry(dialogue, state, messages)
        case Stay():
            return _stay(dialogue, state, reply)
        case Jump(step, clear):
            return _jump(dialogue, state, step, clear)
        case End(messages, effects):
            return Turn(None, messages, effects)
    raise TypeError(f"unknown reply {reply!r}")


def ask(dialogue: Dialogue, state: FlowState) -> Turn:
    """Ask the current question again (after a restart of the process, or a stale button)."""
    state = known_step(dialogue, state)
    return Turn(state, tuple(_ask(dialogue, state)))


def known_step(dialogue: Dialogue, state: FlowState) -> FlowState:
    """A draft saved at a step the dialogue no longer has goes on at its first open question."""
    if state.step in dialogue.steps:
        return state
    return replace(state, step=dialogue.next_step(state.answers), mode="", page=0)


# Moving between steps --------------------------------------------------------------------


def _accept(
    dialogue: Dialogue, state: FlowState, values: Mapping[str, Any], said: tuple[Message, ...]
) -> Turn:
    answers = {**state.answers, **values}
    undo = _undo_entry(state, values.keys())
    moved = FlowState(state.flow, dialogue.next_step(answers), answers, (*state.undo, undo))
    return Turn(moved, said + tuple(_ask(dialogue, moved)))


def _jump(dialogue: Dialogue, state: FlowState, step: str, clear: tuple[str, ...]) -> Turn:
    answers = {k: v for k, v in state.answers.items() if k not in clear}
    moved = FlowState(state.flow, step, answers, (*state.undo, _undo_entry(state, clear)))
    return Turn(moved, tuple(_ask(dialogue, moved)))


def _undo_entry(state: FlowState, keys: Any) -> Undo:
    previous = {k: state.answers[k] for k in keys if k in state.answers}
    absent = tuple(k for k in keys if k not in state.answers)
    return Undo(state.step, previous, absent)


def _back(dialogue: Dialogue, state: FlowState) -> Turn:
    if not state.undo:
        return Turn(state, (Text("common.back_at_start"), *_ask(dialogue, state)))
    last = state.undo[-1]
    answers = {k: v for k, v in state.answers.items() if k not in last.absent}
    answers.update(last.previous)
    moved = known_step(dialogue, FlowState(state.flow, last.step, answers, state.undo[:-1]))
    return Turn(moved, tuple(_ask(dialogue, moved)))


def _retry(dialogue: Dialogue, state: FlowState, said: tuple[Message, ...]) -> Turn:
    missed = replace(state, misses=state.misses + 1)
    messages = list(said)
    if missed.misses % HELP_AFTER_MISSES == 0:
        messages.append(Text(dialogue.steps[state.step].help_key))
    return Turn(missed, tuple(_with_choices(messages, _current_choices(dialogue, missed))))


def _stay(dialogue: Dialogue, state: FlowState, stay: Stay) -> Turn:
    moved = replace(
        state,
        mode=state.mode if stay.mode is None else stay.mode,
        page=state.page if stay.page is None else stay.page,
    )
    asked = tuple(_ask(dialogue, moved)) if stay.reask else ()
    return Turn(moved, stay.messages + asked, stay.effects)


def _ask(dialogue: Dialogue, state: FlowState) -> Sequence[Message]:
    return dialogue.steps[state.step].ask(state)


def _current_choices(dialogue: Dialogue, state: FlowState) -> tuple[Choice, ...]:
    asked = _ask(dialogue, state)
    last = asked[-1] if asked else None
    if isinstance(last, Text):
        return last.choices
    if isinstance(last, Card):
        return last.buttons
    return ()


def _with_choices(messages: list[Message], choices: tuple[Choice, ...]) -> list[Message]:
    """Put the question's buttons under the last hint, so a tap is still one step away."""
    if not messages or not choices or not isinstance(messages[-1], Text):
        return messages
    last = messages[-1]
    if last.choices:
        return messages
    return [*messages[:-1], replace(last, choices=choices)]


# Cancel, restart, back and paging: the same in every dialogue -----------------------------


def _navigate(dialogue: Dialogue, state: FlowState, intent: Intent | None) -> Turn | None:
    if intent is Intent.BACK:
        return _back(dialogue, state)
    if intent in CONFIRMATIONS:
        pending, question, yes = CONFIRMATIONS[intent]
        choices = (Choice(yes, "nav:yes"), Choice("common.no_go_on", "nav:no"))
        return Turn(replace(state, pending=pending), (Text(question, choices=choices),))
    if intent in (Intent.NEXT_PAGE, Intent.PREVIOUS_PAGE):
        step = 1 if intent is Intent.NEXT_PAGE else -1
        return ask(dialogue, replace(state, page=max(0, state.page + step)))
    return None


def _confirm(dialogue: Dialogue, state: FlowState, intent: Intent | None) -> Turn | None:
    if intent is Intent.YES and state.pending == "cancel":
        return Turn(None, dialogue.cancelled, ())
    if intent is Intent.YES and state.pending == "restart":
        kept = {k: v for k, v in state.answers.items() if k in dialogue.restart_keeps}
        fresh = start(dialogue, kept)
        return Turn(fresh.state, (Text("common.restarted"), *fresh.messages))
    if intent is Intent.NO:
        return ask(dialogue, replace(state, pending=None))
    return None


def paged(
    options: Sequence[Choice], page: int, fixed: Sequence[Choice] = ()
) -> tuple[Choice, ...]:
    """One page of options plus the fixed buttons, never more than PAGE_LIMIT in all."""
    room = PAGE_LIMIT - len(fixed)
    if len(options) <= room:
        return (*options, *fixed)
    room -= 2  # previous and next
    pages = max(1, -(-len(options) // room))
    page = min(page, pages - 1)
    shown = list(options[page * room : (page + 1) * room])
    nav = []
    if page > 0:
        nav.append(Choice("common.previous_page", "nav:prev"))
    if page < pages - 1:
        nav.append(Choice("common.next_page", "nav:next"))
    return (*shown, *nav, *fixed)


def is_text(incoming: Incoming) -> bool:
    return incoming.kind is Kind.TEXT and bool(incoming.text.strip())
