"""Request kinds besides the account application, each declared once, in its own module.

A kind (handover.py, rights.py) declares its dialogue, how it starts (its menu button, the
words people type, its Telegram command "/<name>"), its section of the reviewers' card and
the photos shown there, the review chat that decides it, the job an approval sets going and
what that job records once done. Routing, the menus, the review card, the review handler,
the worker's jobs, the status answer and Telegram's command list read it from KINDS; a new
kind registers itself and touches none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.flows.engine import Dialogue
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Choice, Text
from bot.flows.reading import readings
from core.delivery.job_kinds import JobKind


@dataclass(frozen=True, slots=True)
class RequestKind:
    name: str  # the dialogue's name and the stored request's kind
    dialogue: Callable[[], Dialogue]
    menu: Choice  # its button in the main menu
    words: frozenset[str]  # typed words that start it ("/<name>" starts it too)
    card_lines: Callable[[Mapping[str, Any]], list[Text]]  # its section of the review card
    documents: tuple[str, ...]  # the steps whose photos the card shows
    approval_job: JobKind  # the job an approval sets going (declared with job_kind)
    done: str  # the audit action that job records once the request is carried out
    review_chat: str = "review"  # or "rights": the Program System Section's group, if set

    @property
    def started(self) -> str:
        """The audit action of a dialogue of this kind begun."""
        return f"{self.name}.started"

    @property
    def command(self) -> str:
        return f"/{self.name}"

    def wants(self, incoming: Incoming) -> bool:
        """Whether this event asks to begin a request of this kind."""
        if incoming.kind is Kind.BUTTON:
            return incoming.data == self.menu.data
        if incoming.kind is not Kind.TEXT:
            return False
        return bool(readings(incoming.text) & (self.words | {self.command}))


class Registry:
    """The request kinds by name, in the order they were registered (the menu's order)."""

    def __init__(self) -> None:
        self._kinds: dict[str, RequestKind] = {}
        self._dialogues: dict[str, Dialogue] | None = None  # built once, for every turn

    def register(self, kind: RequestKind) -> RequestKind:
        known = self._kinds.get(kind.name)
        if known is not None and known != kind:
            raise ValueError(f"another request kind is registered as {kind.name!r}")
        self._kinds[kind.name] = kind
        self._dialogues = None
        return kind

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)
        self._dialogues = None

    @contextmanager
    def registered(self, kind: RequestKind) -> Iterator[RequestKind]:
        """A kind registered for a while (a test's own kind)."""
        self.register(kind)
        try:
            yield kind
        finally:
            self.unregister(kind.name)

    def __iter__(self) -> Iterator[RequestKind]:
        return iter(list(self._kinds.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def named(self, name: str) -> RequestKind | None:
        return self._kinds.get(name)

    def wanted(self, incoming: Incoming) -> RequestKind | None:
        """The kind this event asks to begin, if any."""
        return next((kind for kind in self if kind.wants(incoming)), None)

    def menu(self) -> tuple[Choice, ...]:
        return tuple(kind.menu for kind in self)

    def dialogues(self) -> Mapping[str, Dialogue]:
        """Each kind's dialogue by name (built once, not on every turn)."""
        if self._dialogues is None:
            self._dialogues = {kind.name: kind.dialogue() for kind in self}
        return self._dialogues


KINDS = Registry()
