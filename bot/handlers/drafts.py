"""Unfinished forms: one reminder after a quiet day, deleted with their photos after 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows import engine
from bot.flows.engine import FlowState
from bot.flows.outgoing import Text
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.delivery.conversations import (
    QuietConversation,
    quiet_conversations,
    replace_state_quietly,
    save_conversation,
)
from core.storage.db import Session
from core.storage.documents import delete_draft_documents

REMIND_AFTER = timedelta(hours=24)
EXPIRE_AFTER = timedelta(days=30)
# Kept beside the form's state; the person's next message saves a state without it, so the
# next quiet day earns a new reminder, but one quiet stretch never gets two.
REMINDED = "reminded"


async def tidy_drafts(session: Session, services: Services, now: datetime) -> None:
    for draft in await quiet_conversations(session, services.vault, before=now - REMIND_AFTER):
        if draft.updated_at <= now - EXPIRE_AFTER:
            await _expire(session, services, draft, now)
        elif not draft.state.get(REMINDED):
            await _remind(session, services, draft)


async def _remind(session: Session, services: Services, draft: QuietConversation) -> None:
    state = FlowState.from_json(draft.state)
    asked = engine.ask(services.dialogue_for(state), state).messages
    await tell(session, services, draft.channel, draft.user_id, [Text("draft.reminder"), *asked])
    await replace_state_quietly(
        session, services.vault, draft.channel, draft.user_id, {**draft.state, REMINDED: True}
    )


async def _expire(
    session: Session, services: Services, draft: QuietConversation, now: datetime
) -> None:
    await delete_draft_documents(
        session, services.documents, channel=draft.channel, user_id=draft.user_id, now=now
    )
    await save_conversation(session, services.vault, draft.channel, draft.user_id, None, now)
