"""Posting an application's card to its channel's review group (a job, retried until done)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.flows.outgoing import Message
from bot.flows.review_card import Facts, review_card
from bot.flows.unit import unit_path_text
from bot.handlers.existing_accounts import has_account
from bot.handlers.notify import tell
from bot.handlers.rendering import PictureLinks
from bot.handlers.services import Services
from core.audit import trail as audit
from core.delivery.jobs import ClaimedJob
from core.directory.port import Directory, DirectoryUnavailableError
from core.requests.review_queries import card_data, right_held
from core.requests.review_views import CardData
from core.storage.db import Session
from core.storage.media_links import MediaLinks

logger = logging.getLogger(__name__)


async def card_messages(
    session: Session, services: Services, application_id: int, changed: Sequence[str]
) -> list[Message]:
    data = await card_data(session, services.vault, application_id)
    if data is None:
        return []
    facts = Facts(unit_path_text(services.organisation, data.form), changed=tuple(changed))
    responsible = data.form.get("responsible_username")
    if responsible:
        facts = await _with_responsible(
            services.directory, facts, str(responsible), services.civil_servant_type
        )
    if data.kind == "agency":
        facts = await _with_mailbox(services.directory, facts, str(data.form.get("mailbox_name")))
    if data.kind == "rights":
        facts = await _with_account(session, services.directory, facts, data)
    # Asked again each time the card is made: at submission, on a refresh, at the decision.
    existing = await has_account(services.directory, data.national_id_digests)
    return review_card(data, replace(facts, existing_account=existing))


async def _with_account(
    session: Session, directory: Directory, facts: Facts, data: CardData
) -> Facts:
    """For a rights request: is the account there, is the mobile its own, is the right held."""
    uid, right = str(data.form.get("user_name", "")), str(data.form.get("right", ""))
    facts = replace(facts, right_held=await right_held(session, uid, right))
    try:
        account = await directory.find_user(uid)
    except DirectoryUnavailableError:
        return facts
    if account is None:
        return replace(facts, account_found=False)
    matches = None if account.mobile is None else account.mobile == data.form.get("mobile")
    return replace(facts, account_found=True, mobile_matches=matches)


async def _with_responsible(
    directory: Directory, facts: Facts, user_name: str, civil_servant_type: str
) -> Facts:
    try:
        person = await directory.find_user(user_name)
    except DirectoryUnavailableError:
        return facts  # unknown: the card says nothing rather than something wrong
    if person is None:
        return replace(facts, responsible_found=False)
    staff = person.employee_type == civil_servant_type
    return replace(
        facts, responsible_found=True, responsible_is_staff=staff, responsible_locked=person.locked
    )


async def _with_mailbox(directory: Directory, facts: Facts, mailbox_name: str) -> Facts:
    """An agency request: is the wanted name still free (it was, or unknown, when typed)."""
    try:
        taken = await directory.find_user(mailbox_name) is not None
    except DirectoryUnavailableError:
        return facts
    return replace(facts, mailbox_taken=taken)


class CardPoster:
    """The job handler for card.post: the card goes to the outbox of its review group."""

    def __init__(self, services: Services, links: Any) -> None:
        self.services = services
        self.links = links

    async def __call__(self, job: ClaimedJob) -> None:
        services, now = self.services, self.services.clock.now()
        async with services.sessions.begin() as session:
            data = await card_data(session, services.vault, int(job.payload["application_id"]))
            chat = services.policy.chat_for(data.channel, data.kind) if data else None
            if data is None or chat is None:
                logger.warning("no review group for application %s", job.payload["application_id"])
                return
            said = await card_messages(
                session, services, data.application_id, job.payload.get("changed", [])
            )
            await tell(
                session,
                services,
                data.channel,
                chat,
                said,
                self.links(now, f"{data.channel}:group:{chat}"),
            )
            audit.record(
                session,
                "reviewer.card_posted",
                actor="system",
                at=now,
                application_id=data.application_id,
                detail={"chat": chat},
            )


def picture_links(links: MediaLinks) -> Callable[[datetime, str], PictureLinks]:
    """At a moment, for a reviewer or group ("line:U…", "line:group:C…"), the (image,
    preview) links of a document, open for the review window and audited in their name."""

    def at(now: datetime, issued_to: str) -> PictureLinks:
        def both(document_id: int) -> tuple[str, str]:
            return (
                links.url(document_id, now, issued_to=issued_to),
                links.url(document_id, now, issued_to=issued_to, preview=True),
            )

        return both

    return at
