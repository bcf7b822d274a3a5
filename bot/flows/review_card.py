"""The card reviewers see for one application: its answers, warnings, documents and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.flows.apply_form import FORMS, clears
from bot.flows.apply_summary import joined
from bot.flows.kinds import KINDS, RequestKind
from bot.flows.outgoing import Card, Choice, Message, Picture, Text
from bot.flows.review_buttons import Action, Press
from core.clock import thai_date_time
from core.requests.review_views import CardData
from core.rules.validation import mask_mobile

SMALL_SIDE = 600  # a document photo narrower than this is hard to read
# What a reviewer can ask to redo, and the answers each one asks again.
ITEMS: dict[str, tuple[str, ...]] = {
    "unit": ("unit", "unit_done", "unit_note", "unit_typed"),
    "position": ("position",),
    "name_th": ("title_th", "first_name_th", "last_name_th"),  # title_en follows title_th
    "name_en": ("title_en", "first_name_en", "last_name_en"),
    "national_id": ("national_id",),
    "nationality": ("nationality",),
    "mobile": ("mobile", "mobile_verified"),
    "email": ("email",),
    "purpose": ("purpose",),
    "mailbox_name": ("mailbox_name",),
    "responsible_username": ("responsible_username",),
    "doc_id_card": ("doc_id_card",),
    "doc_work_certificate": ("doc_work_certificate",),
    "doc_memo": ("doc_memo",),
    "doc_responsible_id_card": ("doc_responsible_id_card",),
}
SLOT_STEPS = {
    "id_card": "doc_id_card",
    "work_certificate": "doc_work_certificate",
    "memo": "doc_memo",
    "responsible_id_card": "doc_responsible_id_card",
}


# The verified line by (an account with this ID in the directory, mobile verified by code).
VERIFIED = {
    (False, False): "review.line.verified.clear",
    (False, True): "review.line.verified.clear.mobile",
    (True, False): "review.line.verified.found",
    (True, True): "review.line.verified.found.mobile",
    (None, False): "review.line.verified.unreachable",
    (None, True): "review.line.verified.unreachable.mobile",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the handler found out around the application (the directory, the organisation)."""

    unit_text: str
    responsible_found: bool | None = None  # None: not an agency request, or not checked
    responsible_is_staff: bool | None = None
    responsible_locked: bool | None = None
    mailbox_taken: bool | None = None  # agency: the wanted name is another entry's by now
    changed: tuple[str, ...] = ()
    account_found: bool | None = None  # rights: the account exists (None: not checked)
    mobile_matches: bool | None = None  # rights: the mobile is the one the account has
    right_held: bool = False  # rights: the account already has this right
    # Rule 2.1 in the directory: True an account has this ID, False none, None not asked.
    existing_account: bool | None = None


def items_for(kind: str) -> list[str]:
    """The items of this kind's form, in the form's order."""
    asked = {key for step in FORMS.get(kind, ()) for key in clears(step)}
    return [item for item, keys in ITEMS.items() if asked & set(keys)]


def review_card(data: CardData, facts: Facts) -> list[Message]:
    request = KINDS.named(data.kind)  # a short request: approve or reject, nothing to return
    short = request is not None
    lines = _lines(data, facts) if request is None else _request_lines(data, request)
    card = Card(
        Text("review.card_title", {"reference": data.reference}),
        (*lines, *verified_line(data, facts), *_warnings(data, facts)),
        _buttons(data.application_id, returnable=not short),
    )
    pictures = [
        Picture(
            document.id, Text(f"review.document.{document.slot}", {"reference": data.reference})
        )
        for document in data.documents
    ]
    return [card, *pictures]


def _buttons(application_id: int, *, returnable: bool) -> tuple[Choice, ...]:
    decide = (
        Press(Action.APPROVE, application_id).choice("review.approve"),
        Press(Action.REJECT, application_id).choice("review.reject"),
    )
    if not returnable:
        return decide
    return (*decide, Press(Action.RETURN, application_id).choice("review.return"))


def _request_lines(data: CardData, request: RequestKind) -> list[Text]:
    """A short request (bot.flows.kinds): its kind, its own section, when it was sent."""
    return [
        Text(f"apply.line.kind.{data.kind}"),
        *request.card_lines(data.form),
        Text("review.line.submitted", {"value": thai_date_time(data.submitted_at)}),
    ]


def _lines(data: CardData, facts: Facts) -> list[Text]:
    form: dict[str, Any] = data.form
    lines = [
        Text(f"apply.line.kind.{data.kind}"),
        Text(
            "apply.line.name_th",
            {"value": joined(form, "title_th", "first_name_th", "last_name_th")},
        ),
    ]
    if data.kind != "agency":
        lines.append(
            Text(
                "apply.line.name_en",
                {"value": joined(form, "title_en", "first_name_en", "last_name_en")},
            )
        )
    lines += [
        Text("apply.line.unit", {"value": facts.unit_text}),
        Text("apply.line.position", {"value": str(form.get("position", ""))}),
    ]
    for key in ("purpose", "mailbox_name", "responsible_username", "nationality"):
        if key in form:
            lines.append(Text(f"apply.line.{key}", {"value": str(form[key])}))
    if data.masked_national_id:
        lines.append(Text("apply.line.national_id", {"value": data.masked_national_id}))
    if form.get("mobile"):
        lines.append(Text("review.line.mobile", {"value": mask_mobile(str(form["mobile"]))}))
    if form.get("mobile_verified") is True:
        lines.append(Text("review.line.mobile_verified"))
    lines += [
        Text("apply.line.email", {"value": str(form.get("email", ""))}),
        Text("review.line.submitted", {"value": thai_date_time(data.submitted_at)}),
    ]
    if facts.changed:
        lines.append(Text("review.line.changed"))
        lines += [
            Text(f"review.item.{item}", {"mark": "✎ "}) for item in changed_items(facts.changed)
        ]
    return lines


def verified_line(data: CardData, facts: Facts) -> list[Text]:
    """What was checked, as one line: the ID's check digit, the directory, the mobile."""
    mobile = data.form.get("mobile_verified") is True
    if not data.masked_national_id:
        return [Text("review.line.verified.mobile")] if mobile else []
    return [Text(VERIFIED[facts.existing_account, mobile])]


def changed_items(changed: tuple[str, ...]) -> list[str]:
    """Changed answers and document slots, as the items a reviewer knows."""
    touched = set(changed) | {f"doc_{slot}" for slot in changed}
    return [item for item, keys in ITEMS.items() if touched & set(keys)]


def _warnings(data: CardData, facts: Facts) -> list[Text]:
    warnings = (
        [
            Text(
                "review.warning.earlier",
                {"value": ", ".join(f"{r} ({s})" for r, s in data.earlier)},
            )
        ]
        if data.earlier
        else []
    )
    if data.form.get("unit_typed") is True:
        warnings.append(Text("review.warning.unit_typed"))
    if facts.existing_account:
        warnings.append(Text("review.warning.has_account"))
    if facts.account_found is False:
        warnings.append(Text("review.warning.account_missing"))
    if facts.mobile_matches is False:
        warnings.append(Text("review.warning.mobile_differs"))
    if facts.right_held:
        warnings.append(Text("review.warning.right_held"))
    if facts.responsible_found is False:
        warnings.append(Text("review.warning.responsible_missing"))
    elif facts.responsible_is_staff is False:
        warnings.append(Text("review.warning.responsible_not_staff"))
    elif facts.responsible_locked:
        warnings.append(Text("review.warning.responsible_locked"))
    if facts.mailbox_taken:
        warnings.append(Text("review.warning.mailbox_taken"))
    present = {document.slot for document in data.documents}
    for slot, step in SLOT_STEPS.items():
        if step in _document_steps(data.kind) and slot not in present:
            warnings.append(Text(f"review.warning.missing.{slot}"))
    for document in data.documents:
        if min(document.width or 0, document.height or 0) < SMALL_SIDE:
            warnings.append(Text(f"review.warning.small.{document.slot}"))
    return warnings


def _document_steps(kind: str) -> set[str]:
    request = KINDS.named(kind)
    if request is not None:
        return set(request.documents)
    return {step.value for step in FORMS.get(kind, ())}
