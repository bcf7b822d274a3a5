"""Saying something to another chat (an applicant, a review group) in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flows.outgoing import Message
from bot.handlers.rendering import PictureLinks, render, to_json
from bot.handlers.services import Services
from core.delivery.outbox import add_outgoing
from core.storage.db import Session


async def tell(
    session: Session,
    services: Services,
    channel: str,
    chat_id: str,
    said: Sequence[Message],
    links: PictureLinks | None = None,
) -> None:
    """Render the messages and queue them for that chat; delivery follows the commit."""
    rendered = render(said, services.catalog, links)
    await add_outgoing(
        session,
        services.vault,
        channel=channel,
        chat_id=chat_id,
        messages=[to_json(r) for r in rendered],
        now=services.clock.now(),
    )
