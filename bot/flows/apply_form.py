"""The BMA account form: which questions each applicant kind answers, in order."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class ApplyStep(StrEnum):
    TERMS = "terms"
    KIND = "kind"
    UNIT = "unit"
    PURPOSE = "purpose"
    MAILBOX_NAME = "mailbox_name"
    RESPONSIBLE_USERNAME = "responsible_username"
    POSITION = "position"
    TITLE_TH = "title_th"
    NAME_TH = "name_th"  # first and last name in one message
    TITLE_EN = "title_en"  # asked only when the Thai title does not settle it
    NAME_EN = "name_en"
    NATIONAL_ID = "national_id"
    NATIONALITY = "nationality"
    MOBILE = "mobile"
    MOBILE_CODE = "mobile_code"  # the one-time code sent to it (when verification is on)
    EMAIL = "email"
    DOC_ID_CARD = "doc_id_card"
    DOC_WORK_CERTIFICATE = "doc_work_certificate"
    DOC_MEMO = "doc_memo"
    DOC_RESPONSIBLE_ID_CARD = "doc_responsible_id_card"
    SUMMARY = "summary"
    EDIT_MENU = "edit_menu"


S = ApplyStep
PERSON = (
    S.UNIT,
    S.POSITION,
    S.TITLE_TH,
    S.NAME_TH,
    S.TITLE_EN,
    S.NAME_EN,
    S.NATIONAL_ID,
    S.NATIONALITY,
    S.MOBILE,
    S.MOBILE_CODE,
    S.EMAIL,
)
FORMS: Mapping[str, tuple[ApplyStep, ...]] = {
    "staff": (*PERSON, S.DOC_ID_CARD),
    "contract": (*PERSON, S.DOC_ID_CARD, S.DOC_WORK_CERTIFICATE),
    "agency": (
        S.UNIT,
        S.PURPOSE,
        S.MAILBOX_NAME,
        S.RESPONSIBLE_USERNAME,
        S.TITLE_TH,
        S.NAME_TH,
        S.POSITION,
        S.MOBILE,
        S.MOBILE_CODE,
        S.EMAIL,
        S.DOC_MEMO,
        S.DOC_RESPONSIBLE_ID_CARD,
    ),
}
KINDS = tuple(FORMS)

# The answer that says a question is done; by default the answer named like the step.
DONE_KEY = {
    S.UNIT: "unit_done",
    S.TERMS: "terms_accepted",
    S.MOBILE_CODE: "mobile_verified",
    S.NAME_TH: "last_name_th",
    S.NAME_EN: "last_name_en",
}
# unit_typed: the name was typed, not found in the tree (the card asks reviewers to check);
# unit_matched: taken on one exact match; unit_unmatched: typed, not found, not yet taken.
UNIT_KEYS = ("unit", "unit_done", "unit_note", "unit_typed", "unit_matched", "unit_unmatched")
# What editing a question asks again: a new Thai title means choosing the English one again,
# another kind settles the nationality again (a staff member's is Thai, see answered_for).
CLEARS = {
    S.KIND: ("kind", "nationality"),
    S.UNIT: UNIT_KEYS,
    S.TITLE_TH: ("title_th", "title_en"),
    S.NAME_TH: ("title_th", "title_en", "first_name_th", "last_name_th"),
    S.NAME_EN: ("title_en", "first_name_en", "last_name_en"),
    S.MOBILE: ("mobile", "mobile_verified"),  # another number is verified again
}
# Editing a name asks its title again first: "ชื่อ-นามสกุล" is one item of the edit list.
EDIT_STARTS = {S.NAME_TH: S.TITLE_TH, S.NAME_EN: S.TITLE_EN}
NOT_EDITED = (S.MOBILE_CODE, S.TITLE_TH, S.TITLE_EN)  # edited with their neighbour, above
# English titles the Thai one settles: the ID card prints these (Ms. may be picked instead).
ENGLISH_TITLE_OF = {"นาย": "Mr.", "นาง": "Mrs.", "นางสาว": "Miss"}
# BMA civil servants, teachers and permanent employees must be Thai nationals by law.
NATIONALITY_OF_KIND = {"staff": "ไทย"}
DOCUMENT_SLOTS = {
    S.DOC_ID_CARD: "id_card",
    S.DOC_WORK_CERTIFICATE: "work_certificate",
    S.DOC_MEMO: "memo",
    S.DOC_RESPONSIBLE_ID_CARD: "responsible_id_card",
}
NOT_FORM_FIELDS = ("terms_accepted", "unit_done", "unit_matched", "unit_unmatched", "national_id")
# The consent record: when the terms were accepted (set by the handler, which has the clock),
# and which texts: the terms and the PDPA notice, by the hash of their catalog text.
TERMS_ACCEPTED_AT = "terms_accepted_at"
TERMS_TEXTS = ("apply.terms", "apply.pdpa")


def terms_version(messages: Mapping[str, str]) -> str:
    """SHA-256 of the terms and notice as the catalog words them: any change, a new version."""
    digest = hashlib.sha256()
    for key in TERMS_TEXTS:
        digest.update(f"{key}\0{messages[key]}\0".encode())
    return digest.hexdigest()


def done_key(step: ApplyStep) -> str:
    return DONE_KEY.get(step, step.value)


def clears(step: ApplyStep) -> tuple[str, ...]:
    return CLEARS.get(step, (done_key(step),))


def form_of(answers: Mapping[str, Any]) -> tuple[ApplyStep, ...]:
    return FORMS.get(str(answers.get("kind")), ())


def next_step(answers: Mapping[str, Any], *, verify_mobile: bool = True) -> str:
    """The first question not yet answered; the summary once everything is."""
    for step in (S.TERMS, S.KIND, *form_of(answers)):
        if step is S.MOBILE_CODE and not verify_mobile:
            continue
        if done_key(step) not in answers:
            return step.value
    return S.SUMMARY.value


def answered_for(step: ApplyStep, value: str) -> dict[str, str]:
    """Answers that one answer settles, so their questions are not asked (issue 17)."""
    if step is S.KIND and value in NATIONALITY_OF_KIND:
        return {"nationality": NATIONALITY_OF_KIND[value]}
    if step is S.TITLE_TH and value in ENGLISH_TITLE_OF:
        return {"title_en": ENGLISH_TITLE_OF[value]}
    return {}


def settled_by_others(step: ApplyStep, answers: Mapping[str, Any]) -> bool:
    """Whether this question is answered by an earlier answer (answered_for), not asked."""
    if step is S.NATIONALITY:
        return str(answers.get("kind")) in NATIONALITY_OF_KIND
    if step is S.TITLE_EN:
        return str(answers.get("title_th")) in ENGLISH_TITLE_OF
    return False


def questions(answers: Mapping[str, Any], *, verify_mobile: bool = True) -> list[ApplyStep]:
    """The questions this applicant is asked, as far as the answers so far tell."""
    return [
        step
        for step in form_of(answers)
        if (verify_mobile or step is not S.MOBILE_CODE) and not settled_by_others(step, answers)
    ]


def progress(
    step: str, answers: Mapping[str, Any], *, verify_mobile: bool = True
) -> tuple[int, int] | None:
    """(this question's number, how many) while the form is filled in for the first time.

    None when the step is not one of the questions, or a later one is answered already (an
    edit from the summary, a returned request): "5 of 10" would promise five more.
    """
    asked = questions(answers, verify_mobile=verify_mobile)
    if step not in asked:
        return None
    at = asked.index(S(step))
    if any(done_key(later) in answers for later in asked[at + 1 :]):
        return None
    return at + 1, len(asked)


def submitted_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only what the chosen kind's form asks: answers left from another kind are dropped."""
    keys = {"kind"}
    for step in form_of(answers):
        keys.update(clears(step))
    return {
        k: v
        for k, v in answers.items()
        if k in keys and k not in NOT_FORM_FIELDS and not k.startswith("doc_")
    }


def document_ids(answers: Mapping[str, Any]) -> dict[str, int]:
    return {
        slot: int(answers[step.value])
        for step, slot in DOCUMENT_SLOTS.items()
        if step in form_of(answers) and step.value in answers
    }
