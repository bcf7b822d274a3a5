"""What every handler works with: storage, crypto, clock, the dialogue, words and the directory."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.catalog import Catalog
from bot.flows.engine import Dialogue, FlowState
from bot.flows.kinds import KINDS
from bot.handlers.review_policy import ReviewPolicy
from core.clock import Clock
from core.directory.port import Directory
from core.requests.retention import RetentionPolicy
from core.rules.organisation import Organisation
from core.storage.crypto import Vault
from core.storage.db import SessionMaker
from core.storage.documents import DocumentStore
from core.storage.media_links import MediaLinks


@dataclass(frozen=True, slots=True)
class Services:
    sessions: SessionMaker
    vault: Vault
    documents: DocumentStore
    clock: Clock
    dialogue: Dialogue
    catalog: Catalog
    organisation: Organisation
    media_links: MediaLinks  # signed links to document images, for the pictures reviewers see
    directory: Directory
    policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    job_max_attempts: int = 10  # BMABOT_JOB_MAX_ATTEMPTS: then a job fails and reviewers are told
    civil_servant_type: str = "staff"  # BMABOT_CIVIL_SERVANT_TYPE: the directory's employeeType
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)  # the PDPA notice's days
    verify_mobile: bool = True  # BMABOT_VERIFY_MOBILE: a one-time code proves the mobile number

    def dialogues(self) -> dict[str, Dialogue]:
        """Every dialogue by name: the application (`dialogue`) and the short requests."""
        return {self.dialogue.name: self.dialogue, **KINDS.dialogues()}

    def dialogue_for(self, state: FlowState) -> Dialogue:
        return KINDS.dialogues().get(state.flow, self.dialogue)
