"""Reviewer events in the review group: decide exactly once, tell the applicant and the group."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.flows import review
from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS
from bot.flows.outgoing import Card, Message, Settled, Text
from bot.flows.review_buttons import Action, Press, is_press, parse_press
from bot.handlers.corrections import start_correction
from bot.handlers.existing_accounts import has_account
from bot.handlers.notify import tell
from bot.handlers.rendering import Rendered, render
from bot.handlers.review_cards import card_messages, picture_links
from bot.handlers.review_policy import ReviewPolicy
from bot.handlers.reviewer_names import reviewer_labels
from bot.handlers.services import Services
from bot.handlers.suspension import order_suspension
from core.audit import trail as audit
from core.audit.security_log import Event, loggable, security_event
from core.clock import thai_date_time
from core.delivery.conversations import load_conversation, save_conversation
from core.delivery.job_kinds import ACCOUNT_CREATE
from core.delivery.jobs import enqueue
from core.requests.decisions import AlreadyDecided, Decided, decide
from core.requests.fulfilment import retry_fulfilment
from core.requests.retention import documents_decided
from core.requests.review_queries import (
    application_id_of,
    card_data,
    kind_of,
    waiting,
    week_numbers,
)
from core.requests.suspensions import Origin
from core.storage.db import Session
from core.storage.models import Application

logger = logging.getLogger(__name__)
Command = Callable[[Session, Incoming, list[str]], Awaitable[list[Message] | None]]
STATE_PREFIX = "review:"  # a reviewer's own half-made decision, apart from any form they fill
CARD_ACTIONS = frozenset({Action.APPROVE, Action.REJECT, Action.RETURN})  # on the card itself


class ReviewHandler:
    def __init__(self, services: Services, policy: ReviewPolicy) -> None:
        self.services = services
        self.policy = policy

    def welcome(self) -> list[Rendered]:
        """What a reviewer sees on sitting down in the group: what comes here, what to type."""
        return render([Text("review.welcome"), Text("review.commands")], self.services.catalog)

    def wants(self, incoming: Incoming) -> bool:
        return incoming.in_group or is_press(incoming.data)

    async def turn(self, session: Session, incoming: Incoming) -> list[Rendered]:
        if not self.policy.may_decide(incoming):
            return await self._refuse(session, incoming)
        key = STATE_PREFIX + incoming.user_id
        vault, now = self.services.vault, self.services.clock.now()
        state = await load_conversation(session, vault, incoming.channel, key)
        said, state = await self._answer(session, incoming, state)
        await save_conversation(session, vault, incoming.channel, key, state, now)
        # /find answers the card with its document photos: pictures need their links
        links = picture_links(self.services.media_links)(
            now, f"{incoming.channel}:{incoming.user_id}"
        )
        return render(said, self.services.catalog, links)

    async def _answer(
        self, session: Session, incoming: Incoming, state: dict[str, Any] | None
    ) -> tuple[list[Message], dict[str, Any] | None]:
        step: review.ReviewStep | None
        card = (state or {}).get("card")
        if incoming.kind is Kind.BUTTON:
            press = parse_press(incoming.data)
            if press is None:
                return [], state
            if press.action is Action.RETRY_JOB:  # a failed job again (the id is the job's)
                done = await retry_fulfilment(
                    session,
                    press.application_id,
                    actor=f"{incoming.channel}:{incoming.user_id}",
                    now=self.services.clock.now(),
                )
                return [Text("review.job_retried" if done else "review.job_not_retried")], state
            data = await card_data(session, self.services.vault, press.application_id)
            if data is not None and not self.policy.decides_here(incoming, data.kind):
                return [Text("review.not_here", {"reference": data.reference})], state
            step = review.on_press(press, state, data.kind if data else "")
            card = card_origin(incoming, press, state)
        elif incoming.kind is Kind.TEXT:
            command = await self._command(session, incoming)
            if command is not None:
                return command, state
            step = review.on_text(incoming.text, state)
        else:
            return [], state
        if step is None:
            return [], state
        if isinstance(step, review.Ask):
            kept = dict(step.state) if step.state else None
            if kept is not None and card is not None:
                kept["card"] = card  # to settle the card once the decision is made
            return list(step.messages), kept
        return await self._decide(session, incoming, step, card), None

    async def _decide(
        self, session: Session, incoming: Incoming, step: review.Decide, card: str | None
    ) -> list[Message]:
        reviewer = f"{incoming.channel}:{incoming.user_id}"
        now = self.services.clock.now()
        if step.outcome == "approve":
            refused = await self._existing_account(session, step.application_id)
            if refused is not None:
                return [refused]
        result = await decide(
            session,
            application_id=step.application_id,
            outcome=step.outcome,
            reviewer=reviewer,
            now=now,
            reason=step.reason,
            items=step.items,
            note=step.note,
        )
        if result is None:
            return [Text("review.not_found")]
        if isinstance(result, AlreadyDecided):
            named = await reviewer_labels(session, self.services, [result.reviewer])
            return [_already(result, named[result.reviewer])]
        await self._follow_up(session, result, step, now)
        security_event(
            Event.DECISION,
            level=logging.INFO,
            outcome=result.outcome,
            reference=result.reference,
            reviewer=loggable(reviewer),
        )
        named = await reviewer_labels(session, self.services, [reviewer])
        line = Text(
            f"review.decided.{result.outcome}",
            {"reference": result.reference, "who": named[reviewer]},
        )
        settled = await self._settled(session, result.application_id, line, card, incoming.origin)
        services = self.services  # a rejection's photos go now (BMABOT_DOCUMENT_RETENTION_DAYS)
        await documents_decided(
            session, services.documents, services.retention, result.application_id, now
        )
        return [*settled, line]

    async def _existing_account(self, session: Session, application_id: int) -> Text | None:
        """Rule 2.1 once more at approval; unreachable goes on (the account job asks again)."""
        data = await card_data(session, self.services.vault, application_id)
        if data is None or data.status != "pending":
            return None  # decide() says what is wrong
        if not await has_account(self.services.directory, data.national_id_digests):
            return None
        return Text("review.approve_refused.has_account", {"reference": data.reference})

    async def _settled(
        self,
        session: Session,
        application_id: int,
        line: Text,
        card: str | None,
        pressed: str | None,
    ) -> list[Message]:
        """The card, and the question whose button decided, shown as decided without buttons."""
        settled: list[Message] = []
        if card is not None:
            shown = await card_messages(session, self.services, application_id, ())
            cards = [message for message in shown if isinstance(message, Card)]
            if cards:
                now = Card(cards[0].title, (*cards[0].lines, line))
                settled.append(Settled(card, now))
        if pressed is not None and pressed != card:
            settled.append(Settled(pressed, line))
        return settled

    async def _follow_up(
        self, session: Session, decided: Decided, step: review.Decide, now: datetime
    ) -> None:
        """Tell the applicant, and start what the decision sets going."""
        kind = await kind_of(session, decided.application_id)
        request = KINDS.named(str(kind))  # a short request (bot.flows.kinds), or None
        if decided.outcome == "approve":
            job = ACCOUNT_CREATE if request is None else request.approval_job
            await enqueue(
                session,
                kind=job,
                key=job.key(decided.reference),
                payload={"application_id": decided.application_id},
                now=now,
                max_attempts=self.services.job_max_attempts,
            )
        if decided.outcome == "return":
            said = await start_correction(session, self.services, decided, step.items, step.note)
        elif request is not None:
            said = [self._request_news(decided, step, request.name)]
        else:
            said = [_applicant_news(decided, step)]
        await tell(session, self.services, decided.channel, decided.user_id, said)

    def _request_news(self, decided: Decided, step: review.Decide, kind: str) -> Message:
        """A handover or rights request: approved (carried out by its job), or why not."""
        if decided.outcome == "approve":
            return Text(f"request.applicant.approved.{kind}", {"reference": decided.reference})
        reason = step.reason or "-"
        if reason in review.REASONS:
            reason = self.services.catalog.text(f"review.reason.{reason}")
        return Text(
            f"request.applicant.rejected.{kind}",
            {"reference": decided.reference, "reason": reason},
        )

    async def _command(self, session: Session, incoming: Incoming) -> list[Message] | None:
        """A typed command ("/find A69-00001"); None for text that is not one."""
        words = incoming.text.strip().split()
        if not words or not words[0].startswith("/"):
            return None
        command = self._commands().get(words[0].split("@")[0].lower())
        said = None if command is None else await command(session, incoming, words[1:])
        return said or [Text("review.commands")]  # unknown, or used the wrong way: the list

    def _commands(self) -> dict[str, Command]:
        """The reviewers' commands; each answers None when used the wrong way."""
        return {
            "/pending": self._pending,
            "/find": self._find,
            "/stats": self._stats,
            "/suspend": partial(self._suspend, lift=False),
            "/unsuspend": partial(self._suspend, lift=True),
        }

    async def _pending(
        self, session: Session, incoming: Incoming, args: list[str]
    ) -> list[Message]:
        now = self.services.clock.now()
        queue = await waiting(session)
        if not queue:
            return [Text("review.pending_none")]
        lines = tuple(
            Text(
                "review.pending_line",
                {
                    "reference": w.reference,
                    "hours": str(int((now - w.submitted_at).total_seconds() // 3600)),
                },
            )
            for w in queue[:30]
        )
        return [Card(Text("review.pending_title", {"count": str(len(queue))}), lines)]

    async def _find(
        self, session: Session, incoming: Incoming, args: list[str]
    ) -> list[Message] | None:
        if len(args) != 1:
            return None
        application_id = await application_id_of(session, args[0])
        application = (
            None if application_id is None else await session.get(Application, application_id)
        )
        if application is None or not self.policy.decides_here(incoming, application.kind):
            return [Text("review.not_found")]
        return await card_messages(session, self.services, application.id, ())

    async def _stats(self, session: Session, incoming: Incoming, args: list[str]) -> list[Message]:
        since = self.services.clock.now() - timedelta(days=7)
        counts, median = await week_numbers(session, since)
        lines = tuple(
            Text(f"review.stats.{status}", {"count": str(n)})
            for status, n in sorted(counts.items())
        )
        hours = "-" if median is None else f"{median:.1f}"
        return [
            Card(
                Text("review.stats_title"), (*lines, Text("review.stats_median", {"hours": hours}))
            )
        ]

    async def _suspend(
        self, session: Session, incoming: Incoming, args: list[str], *, lift: bool
    ) -> list[Message]:
        if len(args) < (1 if lift else 2):
            return [Text("suspend.usage")]
        reason = " ".join(args[1:]) or "-"
        said = await order_suspension(
            session,
            self.services,
            args[0],
            reason,
            actor=f"{incoming.channel}:{incoming.user_id}",
            origin=Origin(incoming.channel, incoming.chat_id),
            lift=lift,
        )
        return [said]

    async def _refuse(self, session: Session, incoming: Incoming) -> list[Rendered]:
        if not is_press(incoming.data):
            return []  # talk in a group that is not ours, or by a member: not our business
        audit.record(
            session,
            "reviewer.press_refused",
            actor=f"{incoming.channel}:{incoming.user_id}",
            at=self.services.clock.now(),
            detail={"chat": incoming.chat_id, "data": incoming.data[:64]},
        )
        # Not a reviewer, or not the review chat.
        security_event(
            Event.REVIEWER_REFUSED,
            channel=incoming.channel,
            who=loggable(f"{incoming.channel}:{incoming.user_id}"),
        )
        return render([Text("review.not_reviewer")], self.services.catalog)


def card_origin(incoming: Incoming, press: Press, state: dict[str, Any] | None) -> str | None:
    """The card this reviewer is deciding, where the channel says which message was pressed."""
    if press.action in CARD_ACTIONS:
        return incoming.origin
    if state and state.get("app") == press.application_id:
        return state.get("card")
    return None


def _already(result: AlreadyDecided, who: str) -> Text:
    return Text(
        f"review.already.{result.outcome}",
        {
            "reference": result.reference,
            "who": who,
            "when": thai_date_time(result.decided_at),
        },
    )


def _applicant_news(decided: Decided, step: review.Decide) -> Message:
    if decided.outcome == "approve":
        return Text("review.applicant.approved", {"reference": decided.reference})
    reason = step.reason or ""
    params = {"reference": decided.reference, "reason": reason}
    if reason in review.REASONS:
        return Text(f"review.applicant.rejected.{reason}", params)
    return Text("review.applicant.rejected", params)
