"""Returning an application for correction: the applicant's form reopens at the flagged items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.flows import engine
from bot.flows.engine import FlowState
from bot.flows.outgoing import Message, Text
from bot.flows.review_card import ITEMS
from bot.handlers.services import Services
from core.delivery.conversations import load_conversation, save_conversation
from core.requests.applications import national_id_of
from core.requests.decisions import Decided
from core.requests.review_queries import kept_documents
from core.storage.db import Session
from core.storage.models import Application


async def start_correction(
    session: Session,
    services: Services,
    decided: Decided,
    items: Sequence[str],
    note: str | None,
) -> list[Message]:
    """Put the returned answers back in the applicant's form, minus the flagged ones."""
    answers = await _answers_of(session, services, decided.application_id)
    for item in items:
        for key in ITEMS.get(item, ()):
            answers.pop(key, None)
    state = FlowState("apply", services.dialogue.next_step(answers), answers)
    await load_conversation(session, services.vault, decided.channel, decided.user_id)
    await save_conversation(
        session,
        services.vault,
        decided.channel,
        decided.user_id,
        state.to_json(),
        services.clock.now(),
    )
    labels = ", ".join(items)
    told = Text(
        "review.applicant.returned",
        {"reference": decided.reference, "items": labels, "note": note or "-"},
    )
    return [told, *engine.ask(services.dialogue, state).messages]


async def _answers_of(session: Session, services: Services, application_id: int) -> dict[str, Any]:
    application = await session.get(Application, application_id)
    assert application is not None
    answers: dict[str, Any] = {
        "terms_accepted": True,
        "kind": application.kind,
        **application.form,
        "unit_done": True,
        "resubmits": application.reference,
    }
    national_id = national_id_of(application, services.vault)
    if national_id is not None:
        answers["national_id"] = national_id
    kept = []
    for document in await kept_documents(session, application_id):
        answers[f"doc_{document.slot}"] = document.id
        kept.append(document.id)
    answers["kept_documents"] = kept
    return answers
