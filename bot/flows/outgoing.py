"""What a flow says and asks the world to do: neutral messages, effects and their outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.flows.incoming import MediaRef

LITERAL = "common.literal"  # a catalog entry that is just "{text}": for data such as unit names


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: a catalog key for its label, and the ASCII data it sends back."""

    label: str
    data: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def literal(cls, text: str, data: str) -> Choice:
        return cls(LITERAL, data, {"text": text})


@dataclass(frozen=True, slots=True)
class Text:
    key: str
    params: Mapping[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class Card:
    """A titled block of lines with buttons: the summary, later the reviewers' card."""

    title: Text
    lines: tuple[Text, ...]
    buttons: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class Picture:
    """A stored document shown as an image, with a caption (reviewers see these)."""

    document_id: int
    caption: Text


@dataclass(frozen=True, slots=True)
class Settled:
    """A message sent earlier (origin) now settled: shown as `now`, its buttons gone.

    A channel that can edit sent messages does so; the others leave the old one as it was.
    """

    origin: str
    now: Text | Card


Message = Text | Card | Picture | Settled


@dataclass(frozen=True, slots=True)
class StoreDocument:
    slot: str
    media: MediaRef


@dataclass(frozen=True, slots=True)
class SubmitApplication:
    kind: str
    answers: Mapping[str, Any]
    national_id: str | None
    document_ids: Mapping[str, int]
    resubmits: str | None = None  # the reference of a returned application being corrected


@dataclass(frozen=True, slots=True)
class Record:
    """An audit event the flow wants written (what happened, never personal data)."""

    action: str
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LookUpApplications:
    """Find the person's own applications (for the status answer)."""


Effect = StoreDocument | SubmitApplication | Record | LookUpApplications


@dataclass(frozen=True, slots=True)
class DocumentStored:
    slot: str
    document_id: int


@dataclass(frozen=True, slots=True)
class DocumentRefused:
    slot: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApplicationSubmitted:
    reference: str


@dataclass(frozen=True, slots=True)
class ApplicationRefused:
    reason: str  # "already_active"
    reference: str


@dataclass(frozen=True, slots=True)
class ApplicationFound:
    reference: str
    status: str
    submitted_on: str  # a Thai date such as 25/11/2569


@dataclass(frozen=True, slots=True)
class ApplicationsFound:
    applications: tuple[ApplicationFound, ...]


Outcome = (
    DocumentStored
    | DocumentRefused
    | ApplicationSubmitted
    | ApplicationRefused
    | ApplicationsFound
)
