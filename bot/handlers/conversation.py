"""Handle one person's event: load the conversation, run the flow, carry out effects, save."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.flows import engine, menu, status
from bot.flows.apply_form import TERMS_ACCEPTED_AT, terms_version
from bot.flows.engine import FlowState, Turn
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import ApplicationLookedUp, ApplicationsFound, Message, Text
from bot.handlers.effects import Ahead, Context, ahead_of, carry_out
from bot.handlers.locks import KeyedLocks
from bot.handlers.media import MediaFetcher, MediaFetchError, MediaTooLargeError
from bot.handlers.rendering import Rendered, render
from bot.handlers.review import ReviewHandler
from bot.handlers.reviewer_names import ProfileSource, ReviewerNames
from bot.handlers.routing import route
from bot.handlers.services import Services
from core.delivery.conversations import load_conversation, save_conversation
from core.storage.db import Session
from core.storage.documents import Photo, StagedImage
from core.storage.images import MAX_UPLOAD_BYTES, ImageRefused, check_image

logger = logging.getLogger(__name__)
__all__ = ["ConversationHandler", "Services"]  # Services lives in services.py


@dataclass(frozen=True, slots=True)
class Step:
    state: dict[str, Any] | None  # the person's state after the turn (None: idle)
    replies: list[Rendered]


class ConversationHandler:
    def __init__(self, services: Services, fetchers: dict[str, MediaFetcher]) -> None:
        self.services = services
        self._fetchers = fetchers
        self._locks = KeyedLocks()
        self.review = ReviewHandler(services, services.policy)
        # The channels that can say a reviewer's name (LINE's profiles) are asked for it.
        profiles = {name: f for name, f in fetchers.items() if isinstance(f, ProfileSource)}
        self.names = ReviewerNames(services, profiles)
        self._terms: tuple[Mapping[str, str], str] | None = None  # the catalog's, its version

    async def handle(self, incoming: Incoming) -> list[Rendered]:
        """One event in its own transaction: the terminal chat's way (no inbox)."""
        async with self._locks.hold((incoming.channel, incoming.user_id)):
            if self.review.wants(incoming):
                await self.names.learn([incoming])
            photo = await self.checked_photo(incoming)
            try:
                async with self.services.sessions.begin() as session:
                    return await self.turn(session, incoming, photo)
            except Exception:
                logger.exception(
                    "could not handle a %s event on %s", incoming.kind, incoming.channel
                )
                return self.apology()
            finally:
                self.discard(photo)

    def apology(self) -> list[Rendered]:
        return render([Text("common.error")], self.services.catalog)

    async def resume(self, channel: str, user_id: str) -> list[Rendered]:
        """What to show someone who comes back: the question they stopped at, or the menu."""
        services = self.services
        async with self._locks.hold((channel, user_id)), services.sessions.begin() as session:
            saved = await load_conversation(session, services.vault, channel, user_id)
        if saved is None:
            said: list[Message] = list(menu.greeting())
        else:
            state = FlowState.from_json(saved)
            asked = engine.ask(self.services.dialogue_for(state), state).messages
            said = [Text("apply.resumed"), *asked]
        return render(said, self.services.catalog)

    async def turn(
        self,
        session: Session,
        incoming: Incoming,
        photo: Photo,
    ) -> list[Rendered]:
        """Run one event inside the caller's transaction, which locks the person's conversation."""
        services = self.services
        if self.review.wants(incoming):
            return await self.review.turn(session, incoming)
        saved = await load_conversation(
            session, services.vault, incoming.channel, incoming.user_id
        )
        done = await self.step(session, incoming, photo, saved)
        await save_conversation(
            session,
            services.vault,
            incoming.channel,
            incoming.user_id,
            done.state,
            services.clock.now(),
        )
        return done.replies

    async def step(
        self,
        session: Session,
        incoming: Incoming,
        photo: Photo,
        saved: dict[str, Any] | None,
    ) -> Step:
        """One person's turn from their saved state; the caller stores the state it returns.

        Not for reviewer events (`wants_review`). When it raises, what its effects wrote is
        in the caller's transaction: the caller must roll that back.
        """
        return await self.carry_through(session, incoming, photo, self.plan(incoming, saved))

    def plan(self, incoming: Incoming, saved: dict[str, Any] | None) -> Turn:
        """What the dialogue does with an event, before any effect: pure, no storage."""
        state = FlowState.from_json(saved) if saved else None
        return route(self.services.dialogues(), state, incoming)

    def settle(self, turn: Turn) -> Step:
        """The outcome of a planned turn that asks for no effect."""
        final = self._consented(turn.state)
        return Step(
            final.to_json() if final else None, render(turn.messages, self.services.catalog)
        )

    async def ahead_of(
        self, session: Session, turns: Sequence[tuple[Incoming, Photo, Turn]]
    ) -> Ahead:
        """What these turns' effects look up and write, in one go (before carry_through)."""
        return await ahead_of(
            [
                (self._context(session, incoming, photo), turn.effects)
                for incoming, photo, turn in turns
            ]
        )

    async def carry_through(
        self,
        session: Session,
        incoming: Incoming,
        photo: Photo,
        turn: Turn,
        ahead: Ahead | None = None,
    ) -> Step:
        """A planned turn's effects, in the caller's transaction, and what follows them."""
        context = self._context(session, incoming, photo, ahead)
        final, said = await self._carry_out(turn, context)
        final = self._consented(final)
        return Step(final.to_json() if final else None, render(said, self.services.catalog))

    def _context(
        self, session: Session, incoming: Incoming, photo: Photo, ahead: Ahead | None = None
    ) -> Context:
        services = self.services
        return Context(
            session,
            services.vault,
            services.documents,
            services.clock,
            incoming,
            photo,
            services.directory,
            self._terms_version(),
            services.civil_servant_type,
            services.verify_mobile,
            ahead or Ahead(),
        )

    def _terms_version(self) -> str:
        """The version of the terms the catalog shows: hashed once per catalog, not per turn
        (2 % of the event loop while a launch-day backlog drained, issue 13)."""
        messages = self.services.catalog.messages
        if self._terms is None or self._terms[0] is not messages:
            self._terms = (messages, terms_version(messages))
        return self._terms[1]

    def _consented(self, state: FlowState | None) -> FlowState | None:
        """The consent record's time: stamped on the turn that accepts the terms (the flow
        is pure and has no clock), kept until the form is submitted."""
        if state is None or not state.answers.get("terms_accepted"):
            return state
        if TERMS_ACCEPTED_AT in state.answers:
            return state
        stamp = {TERMS_ACCEPTED_AT: self.services.clock.now().isoformat()}
        return replace(state, answers={**state.answers, **stamp})

    def wants_review(self, incoming: Incoming) -> bool:
        return self.review.wants(incoming)

    async def _carry_out(
        self, turn: Turn, context: Context
    ) -> tuple[FlowState | None, list[Message]]:
        """Run effects in order; an outcome goes back into the flow, which may ask for more."""
        state, said, pending = turn.state, list(turn.messages), list(turn.effects)
        while pending:
            outcome = await carry_out(pending.pop(0), context)
            if isinstance(outcome, ApplicationsFound | ApplicationLookedUp):  # outside any form
                said.extend(status.show(outcome, state))  # a form in progress shows as a draft
                continue
            if outcome is None or state is None:
                continue
            followed = engine.handle_outcome(self.services.dialogue_for(state), state, outcome)
            state = followed.state
            said.extend(followed.messages)
            pending.extend(followed.effects)
        return state, said

    async def checked_photo(self, incoming: Incoming) -> Photo:
        """Fetch, check and stage a photo before the transaction: slow work holds no lock.
        A staged photo that its turn does not keep must be discarded."""
        if incoming.kind is not Kind.PHOTO or incoming.media is None:
            return None
        fetcher = self._fetchers.get(incoming.channel)
        if fetcher is None:
            return None
        if (incoming.media.size or 0) > MAX_UPLOAD_BYTES:
            return ImageRefused("too_large")  # as the platform says: not even asked for
        try:
            raw = await fetcher.fetch(incoming.media, MAX_UPLOAD_BYTES)
        except MediaTooLargeError:
            return ImageRefused("too_large")
        except MediaFetchError:
            logger.warning("could not fetch a photo on %s", incoming.channel)
            return None
        return await asyncio.to_thread(self._check_and_stage, raw)

    def _check_and_stage(self, raw: bytes) -> StagedImage | ImageRefused:
        checked = check_image(raw)
        if isinstance(checked, ImageRefused):
            return checked
        return self.services.documents.stage(checked)

    def discard(self, photo: Photo) -> None:
        """A staged photo its turn did not keep (a no-op once kept)."""
        if isinstance(photo, StagedImage):
            self.services.documents.discard(photo)
