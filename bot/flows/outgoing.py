"""What a flow says and asks the world to do: neutral messages, effects and their outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.flows.incoming import MediaRef

CALL = "tel:"  # the data of a button that dials a number (tel:022032751)
LITERAL = "common.literal"  # a catalog entry that is just "{text}": for data such as unit names


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: a catalog key for its label, and the ASCII data it sends back.

    Data starting with "tel:" (CALL) makes a call button instead: it dials that number
    where the channel can, and never comes back as a press.
    """

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
    lead: Text | None = None  # a line shown above the text, such as "ข้อ 5 จาก 10"


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
    terms_accepted_at: str | None = None  # ISO time the applicant accepted the terms (consent)


@dataclass(frozen=True, slots=True)
class Record:
    """An audit event the flow wants written (what happened, never personal data)."""

    action: str
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LookUpApplications:
    """Find the person's own applications (for the status answer): the newest few."""

    newest: int = 5


@dataclass(frozen=True, slots=True)
class LookUpApplication:
    """Find one of the person's own applications by the reference they typed."""

    reference: str


@dataclass(frozen=True, slots=True)
class CheckUser:
    """Look a user name up in the directory (a mailbox or person named in a request)."""

    uid: str


@dataclass(frozen=True, slots=True)
class CheckNationalId:
    """Whether a national ID already has an active request or account (rule 2.1)."""

    national_id: str
    resubmits: str | None = None  # the request being corrected holds it rightly


@dataclass(frozen=True, slots=True)
class SendMobileCode:
    """Send a one-time code by SMS to the mobile number typed (a new one for a resend)."""

    mobile: str


@dataclass(frozen=True, slots=True)
class CheckMobileCode:
    """Compare the code typed back with the one sent to the number; never shown in a repr."""

    mobile: str
    code: str = field(repr=False)


Effect = (
    StoreDocument
    | SubmitApplication
    | Record
    | LookUpApplications
    | LookUpApplication
    | CheckUser
    | CheckNationalId
    | SendMobileCode
    | CheckMobileCode
)


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
    reason: str  # already_active (this chat's own request) | already_held (someone's) |
    # has_account (the directory has one for this ID) | ...
    reference: str  # shown only for this chat's own request


@dataclass(frozen=True, slots=True)
class Milestone:
    """One thing that happened to an application, on a Thai date such as 25/11/2569."""

    what: str  # submitted | returned | resubmitted | approved | account_created | rejected | ...
    on: str
    reason: str = ""  # a rejection's: a code of review.REASONS or the reviewer's own words


@dataclass(frozen=True, slots=True)
class ApplicationFound:
    reference: str
    kind: str
    status: str
    history: tuple[Milestone, ...]  # oldest first, starting with the submission


@dataclass(frozen=True, slots=True)
class ApplicationsFound:
    applications: tuple[ApplicationFound, ...]  # the newest few, newest first
    total: int = 0  # how many the person has in all


@dataclass(frozen=True, slots=True)
class ApplicationLookedUp:
    """The answer to a typed reference: None when it is not the person's own, or unknown."""

    reference: str
    application: ApplicationFound | None


@dataclass(frozen=True, slots=True)
class UserChecked:
    """What the directory says of a user name; `reachable` False when it could not be asked."""

    uid: str
    reachable: bool = True
    found: bool = False
    employee_type: str | None = None  # staff | contract | agency
    civil_servant: bool = False  # employee_type is the one BMABOT_CIVIL_SERVANT_TYPE names
    display_name: str = ""
    locked: bool = False
    responsible_uid: str | None = None  # unit mailboxes: who answers for it now


@dataclass(frozen=True, slots=True)
class NationalIdChecked:
    """Free, or held; the holder's reference only when this chat filed it (never another's)."""

    national_id: str
    held: bool = False
    own_reference: str | None = None
    has_account: bool = False  # the directory has an account for this ID (rule 2.1)


@dataclass(frozen=True, slots=True)
class MobileCodeSent:
    """A code went out (refused empty), or why not: locked | resends_used | too_soon | busy."""

    mobile: str
    refused: str = ""
    until: str = ""  # Bangkok time of day, "17:12", when asking again can work
    resends_left: int = 0


@dataclass(frozen=True, slots=True)
class MobileCodeChecked:
    """verified | wrong | expired | locked | no_code (see core.requests.mobile_codes.Check)."""

    mobile: str
    result: str
    tries_left: int = 0
    until: str = ""  # when a lock ends, Bangkok time of day


Outcome = (
    NationalIdChecked
    | UserChecked
    | DocumentStored
    | DocumentRefused
    | ApplicationSubmitted
    | ApplicationRefused
    | ApplicationsFound
    | ApplicationLookedUp
    | MobileCodeSent
    | MobileCodeChecked
)
