"""Who answers an incoming event: the menu, support, or the person's form in progress."""

from __future__ import annotations

from collections.abc import Mapping

from bot.flows import engine, faq, menu, status
from bot.flows.engine import Dialogue, FlowState, Turn
from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS
from bot.flows.outgoing import Record, Text

APPLY, APPLY_STARTED = "apply", "application.started"  # the account application's dialogue


def route(dialogues: Mapping[str, Dialogue], state: FlowState | None, incoming: Incoming) -> Turn:
    """Decide the turn for one event; pure, so the same rules serve every channel.

    `dialogues` are every dialogue by name; "apply" is the application form.
    """
    dialogue = dialogues[state.flow] if state else dialogues[APPLY]
    if incoming.in_group or incoming.kind is Kind.JOIN:
        return Turn(state)  # groups are the reviewers' business (a later issue)
    if incoming.kind is Kind.UNFOLLOW:
        return Turn(state, (), (Record("conversation.unfollowed"),))
    if incoming.kind is Kind.FOLLOW:
        return Turn(state, menu.greeting(), (Record("conversation.followed"),))
    if menu.wants_support(incoming) or menu.wants_terms(incoming):
        said = menu.support() if menu.wants_support(incoming) else menu.terms()
        asked = engine.ask(dialogue, state).messages if state else ()
        return Turn(state, (*said, *asked))
    topic = faq.pressed(incoming)  # a help topic's button, offered to an unsure question
    if topic is not None:
        asked = engine.ask(dialogue, state).messages if state else ()
        return Turn(state, (*topic, *asked))
    looked_up = status.answer(dialogue, state, incoming)
    if looked_up is not None:
        return looked_up  # status words, a typed reference, or the draft's continue button
    if state is None:
        return _idle(dialogues, incoming)
    if _wanted(incoming) is not None:
        return Turn(
            state, (Text("apply.already_in_progress"), *engine.ask(dialogue, state).messages)
        )
    answered = faq.question_in_form(incoming)
    if answered is not None:  # answered, then the same question again; never stored
        return Turn(state, (*answered, *engine.ask(dialogue, state).messages))
    return engine.handle(dialogue, state, incoming)


def _wanted(incoming: Incoming) -> tuple[str, str] | None:
    """The dialogue this event asks to start, if any, and the audit action of its start."""
    if menu.wants_apply(incoming):
        return APPLY, APPLY_STARTED
    kind = KINDS.wanted(incoming)
    return None if kind is None else (kind.name, kind.started)


def _idle(dialogues: Mapping[str, Dialogue], incoming: Incoming) -> Turn:
    wanted = _wanted(incoming)
    if wanted is not None:
        name, recorded = wanted
        started = engine.start(dialogues[name])
        return Turn(started.state, started.messages, (Record(recorded),))
    if menu.wants_greeting(incoming):
        return Turn(None, menu.greeting())
    # Inside a form only text that reads as a question is (faq.question_in_form).
    return Turn(None, faq.answer(incoming) or menu.main_menu())
