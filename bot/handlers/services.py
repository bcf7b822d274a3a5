"""What every handler works with: storage, crypto, clock, the dialogue, words and the directory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.flows.engine import Dialogue, FlowState
from bot.flows.handover import handover_dialogue
from bot.flows.rights import rights_dialogue
from bot.handlers.review_policy import ReviewPolicy
from core.clock import Clock
from core.crypto import Vault
from core.directory import Directory
from core.documents import DocumentStore
from core.media_links import MediaLinks
from core.organisation import Organisation


@dataclass(frozen=True, slots=True)
class Services:
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    documents: DocumentStore
    clock: Clock
    dialogue: Dialogue
    catalog: Catalog
    organisation: Organisation
    media_links: MediaLinks  # signed links to document images, for the pictures reviewers see
    policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    directory: Directory | None = None
    job_max_attempts: int = 10  # BMABOT_JOB_MAX_ATTEMPTS: then a job fails and reviewers are told
    others: Mapping[str, Dialogue] = field(default_factory=lambda: request_dialogues())

    def dialogues(self) -> dict[str, Dialogue]:
        """Every dialogue by name: the application (`dialogue`) and the short requests."""
        return {self.dialogue.name: self.dialogue, **self.others}

    def dialogue_for(self, state: FlowState) -> Dialogue:
        return self.others.get(state.flow, self.dialogue)


def request_dialogues() -> dict[str, Dialogue]:
    return {dialogue.name: dialogue for dialogue in (handover_dialogue(), rights_dialogue())}
