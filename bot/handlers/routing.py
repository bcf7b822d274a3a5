"""Who answers an incoming event: the menu, support, or the person's form in progress."""

from __future__ import annotations

from bot.flows import engine, faq, menu, status
from bot.flows.engine import Dialogue, FlowState, Turn
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import LookUpApplications, Record, Text


def route(dialogue: Dialogue, state: FlowState | None, incoming: Incoming) -> Turn:
    """Decide the turn for one event; pure, so the same rules serve every channel."""
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
    if status.wants_status(incoming):
        return Turn(state, (), (LookUpApplications(),))
    if state is None:
        return _idle(dialogue, incoming)
    if menu.wants_apply(incoming):
        return Turn(
            state, (Text("apply.already_in_progress"), *engine.ask(dialogue, state).messages)
        )
    return engine.handle(dialogue, state, incoming)


def _idle(dialogue: Dialogue, incoming: Incoming) -> Turn:
    if menu.wants_apply(incoming):
        started = engine.start(dialogue)
        return Turn(started.state, started.messages, (Record("application.started"),))
    if menu.typed(incoming) & menu.GREETING_WORDS:
        return Turn(None, menu.greeting())
    # Questions are answered only when idle: inside the form, text is the answer to a step.
    return Turn(None, faq.answer(incoming) or menu.main_menu())
