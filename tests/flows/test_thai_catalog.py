"""The Thai catalog: every key the bot uses has text, in one polite voice, within limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.catalog import Catalog, CatalogError
from bot.flows import faq
from bot.flows.apply_form import DOCUMENT_SLOTS, FORMS, ApplyStep
from bot.flows.engine import CONFIRMATIONS
from bot.flows.kinds import KINDS, RequestKind
from bot.flows.review import REASONS as REJECT_REASONS
from bot.flows.review_card import ITEMS
from bot.flows.rights import RIGHTS
from bot.flows.status import kinds_named
from core.requests.application_status import DECIDED, FAILED, RECORDED
from core.requests.decisions import OUTCOMES
from core.storage.models import ApplicationStatus

CATALOG = Catalog.load()
PROJECT = Path(__file__).resolve().parents[2]
SOURCES = [PROJECT / "bot", PROJECT / "webhooks"]
FAMILIES = "|".join(
    [
        "apply",
        "common",
        "menu",
        "support",
        "invalid",
        "status",
        "richmenu",
        "stats",
        "review",
        "account",
        "suspend",
        "telegram",
        "console",
        "demo",
        "faq",
        "draft",
        "export",
        "request",
        "handover",
        "rights",
        "media",
        "limits",
        "poster",
    ]
)
LITERAL_KEY = re.compile(rf"""["']((?:{FAMILIES})\.[a-z_.]+[a-z_])["']""")
LABEL_KEY = re.compile(
    r"""(?:Choice\(|\.choice\()\s*["']([a-z_.]+)["']"""
)  # Choice(key or Press(...).choice(key

FREE_TEXT_REASONS = ("hidden", "markup", "too_short", "too_long")
THAI_NAME_REASONS = ("empty", "hidden", "not_thai", "digits", "symbols", "mark_first", "too_long")
ENGLISH_NAME_REASONS = ("empty", "hidden", "thai_script", "digits", "symbols", "too_long")
REASONS = {
    "national_id": ("not_digits", "length", "checksum"),
    "mobile": ("not_digits", "length", "not_mobile", "country"),
    "email": ("hidden", "format", "thai_script", "domain"),
    **dict.fromkeys(("first_name_th", "last_name_th"), THAI_NAME_REASONS),
    **dict.fromkeys(("first_name_en", "last_name_en"), ENGLISH_NAME_REASONS),
    **dict.fromkeys(("name_th", "name_en"), ("one_word", "many_words")),
    "position": (*FREE_TEXT_REASONS, "no_letters"),
    "nationality": ("hidden", "markup", "digits", "unknown"),
    "purpose": FREE_TEXT_REASONS,
    "unit_note": FREE_TEXT_REASONS,
    "title_th": ("hidden", "format", "marks", "unknown"),
    "title_en": ("hidden", "format"),
    "mailbox_name": ("format",),
    "responsible_username": ("format",),
    "user_name": ("format",),
    "document": (
        "file",
        "pdf",
        "too_large",
        "not_image",
        "unsupported",
        "too_many_pixels",
        "too_small",
        "corrupt",
        "unavailable",
    ),
}


def source_text() -> str:
    return "\n".join(path.read_text() for source in SOURCES for path in source.rglob("*.py"))


def keys_the_bot_uses() -> set[str]:
    keys = set(LITERAL_KEY.findall(source_text()))
    keys |= {
        f"invalid.{field}.{reason}" for field, reasons in REASONS.items() for reason in reasons
    }
    steps = {step for form in FORMS.values() for step in form} | {ApplyStep.KIND}
    keys |= {f"apply.field.{step.value}" for step in steps}
    keys |= {f"apply.kind.{kind}" for kind in FORMS} | {
        f"apply.line.kind.{kind}" for kind in FORMS
    }
    keys |= {f"apply.line.{step.value}" for step in steps if step.value.startswith("doc_")}
    keys |= {f"apply.refused.{why}" for why in ("already_active", "already_held", "not_returned")}
    keys |= review_keys()
    keys.add("invalid.name_th.has_title")
    keys |= {key for topic in faq.TOPICS for key in (topic.answer, f"faq.label.{topic.name}")}
    keys |= {f"status.item.{status.value}" for status in ApplicationStatus}
    keys |= {f"status.item.{FAILED}"}  # approved, and its job failed for good
    keys |= status_keys()
    keys |= poster_keys()
    return keys | {key for kind in KINDS for key in kind_keys(kind)}


def kind_keys(kind: RequestKind) -> set[str]:
    """The words every request kind brings (bot.flows.kinds): how it is started and named."""
    return {
        kind.menu.label,
        f"menu.command.{kind.name}",
        f"apply.line.kind.{kind.name}",
        f"status.kind.{kind.name}",
        f"request.applicant.approved.{kind.name}",
        f"request.applicant.rejected.{kind.name}",
    }


def test_every_request_kind_has_its_words() -> None:
    for kind in KINDS:
        assert kind_keys(kind) <= set(CATALOG.messages), kind.name


def poster_keys() -> set[str]:
    """The poster's words chosen by kind and by the question that asks for a document."""
    keys = {f"poster.who.{kind}" for kind in FORMS}
    documents = {step.value for form in FORMS.values() for step in form if step in DOCUMENT_SLOTS}
    documents |= {step for kind in KINDS for step in kind.documents}
    return keys | {f"poster.document.{step}" for step in documents}


def status_keys() -> set[str]:
    """The status answer's lines chosen by kind, milestone and reason of a rejection."""
    # "completed": what a request kind's job records once done (bot.flows.kinds)
    milestones = {"submitted", "completed", *DECIDED.values(), *RECORDED.values()}
    keys = {f"status.kind.{kind}" for kind in kinds_named()}
    keys |= {f"status.event.{what}" for what in milestones}
    return keys | {f"status.event.rejected.{code}" for code in REJECT_REASONS}


def review_keys() -> set[str]:
    """The review texts chosen by slot, reason, item, outcome and status."""
    slots = ("id_card", "work_certificate", "memo", "responsible_id_card")
    keys = {
        f"review.{kind}.{slot}"
        for slot in slots
        for kind in ("document", "warning.missing", "warning.small")
    }
    keys |= {
        f"review.{kind}.{code}"
        for code in REJECT_REASONS
        for kind in ("reason", "applicant.rejected")
    }
    keys |= {f"review.item.{item}" for item in ITEMS}
    keys |= {f"review.decided.{outcome}" for outcome in ("approve", "reject", "return")}
    keys |= {f"review.already.{outcome}" for outcome in OUTCOMES}
    keys |= {f"review.already.{status.value}" for status in ApplicationStatus}
    keys |= {f"review.stats.{status.value}" for status in ApplicationStatus}
    keys |= {f"review.text_{reason}" for reason in FREE_TEXT_REASONS}
    keys |= {
        f"suspend.{kind}_{action}"
        for kind in ("user", "done")
        for action in ("suspended", "unsuspended")
    }
    keys |= {
        f"request.{news}.{kind}"
        for news in ("applicant.approved", "applicant.rejected")
        for kind in ("handover", "rights")
    }
    keys |= {"request.done.handover", "request.done_in_group.handover"}
    keys |= {
        f"request.{done}.rights.{right}" for done in ("done", "done_in_group") for right in RIGHTS
    }
    keys |= {f"rights.{kind}.{right}" for kind in ("right", "line.right") for right in RIGHTS}
    return keys - {"review.already.pending"}


def label_keys() -> set[str]:
    labels = set(LABEL_KEY.findall(source_text()))
    labels |= {key for key in CATALOG.messages if key.startswith(("apply.field.", "apply.kind."))}
    labels |= {yes for _, _, yes in CONFIRMATIONS.values()}
    labels |= {f"review.reason.{code}" for code in REJECT_REASONS}
    labels |= {f"review.item.{item}" for item in ITEMS}
    labels |= {f"rights.right.{right}" for right in RIGHTS}
    labels |= {f"faq.label.{topic.name}" for topic in faq.TOPICS}
    return labels - {"common.literal"}


# Names that look like message keys but are job kinds and audit actions.
NOT_TEXT = frozenset(
    {
        "account.create",
        "account.created",
        "handover.started",
        "handover.apply",
        "handover.done",
        "rights.started",
        "rights.grant",
        "rights.granted",
    }
)


def test_every_key_the_bot_uses_has_thai_text() -> None:
    used = keys_the_bot_uses() - NOT_TEXT
    missing = sorted(key for key in used if not CATALOG.messages.get(key))
    assert missing == []


def test_no_text_is_left_unused() -> None:
    used = keys_the_bot_uses()
    families = ("apply.line.", "status.item.", "review.already.")
    unused = [k for k in CATALOG.messages if k not in used and not k.startswith(families)]
    assert unused == []


def test_button_labels_fit_a_line_quick_reply() -> None:
    labels = {key: CATALOG.text(key, {"mark": "✓ "}) for key in label_keys()}
    too_long = {key: label for key, label in labels.items() if len(label) > 20}
    assert too_long == {}


@pytest.mark.parametrize("key", sorted(set(CATALOG.messages) - label_keys()))
def test_every_sentence_is_polite(key: str) -> None:
    text = CATALOG.messages[key]
    lines = (
        "apply.line.",
        "apply.progress",  # "ข้อ 5 จาก 10" above a question that has its own particle
        "handover.line.",
        "rights.line.",
        "status.item.",
        "status.kind.",
        "status.event.",
        "richmenu.",
        "stats.chart.",  # the stats chart's titles, axes and legend
        "review.reviewer.",  # a reviewer's name inside the decision lines
        "review.line.",
        "review.warning.",
        "review.document.",
        "review.pending_line",
        "review.stats",
        "review.card_title",
        "console.you",
        "demo.",  # the simulator page's headings and labels
        "export.",  # spreadsheet headers and status words
        "poster.heading.",  # the printed poster's headings, steps and table
        "poster.scan.",
        "poster.step.",
        "poster.who.",
        "poster.document.",
        "poster.no_documents",
    )
    if key == "common.literal" or key.startswith(lines):
        return  # labels and lines of a card, not sentences
    assert "ค่ะ" in text or "คะ" in text, f"{key} has no polite particle"


@pytest.mark.parametrize("key", sorted(CATALOG.messages))
def test_questions_end_with_kha_not_kha_statement(key: str) -> None:
    wrong = re.search(r"(ไหม|อะไร|ใด|หรือไม่|ไหน|นะ)ค่ะ", CATALOG.messages[key])
    assert wrong is None, f"{key}: a question or นะ takes คะ, not ค่ะ"


def test_the_bot_never_asks_for_a_password() -> None:
    asking = [k for k, text in CATALOG.messages.items() if re.search(r"(พิมพ์|กรอก|ส่ง)รหัสผ่าน", text)]
    assert asking == []


def test_a_missing_key_is_an_error_not_a_silent_blank() -> None:
    with pytest.raises(CatalogError):
        CATALOG.text("apply.no_such_key")


def test_a_missing_value_names_the_placeholder() -> None:
    with pytest.raises(CatalogError, match="reference"):
        CATALOG.text("apply.submitted", {})
