"""The application dialogue: terms and PDPA notice, the form for each kind, summary, submit."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from bot.flows import menu
from bot.flows.apply_agency import mailbox_name_step, responsible_step
from bot.flows.apply_form import (
    KINDS,
    TERMS_ACCEPTED_AT,
    ApplyStep,
    answered_for,
    form_of,
    next_step,
    progress,
)
from bot.flows.apply_summary import edit_menu_step, summary_step
from bot.flows.engine import Accept, Dialogue, End, FlowState, Reply, Retry, Stay, Step
from bot.flows.incoming import Incoming, Kind
from bot.flows.mobile_code import mobile_code_step, mobile_step
from bot.flows.names import full_name_question
from bot.flows.outgoing import CheckNationalId, Choice, Message, NationalIdChecked, Outcome, Text
from bot.flows.questions import BACK, NAVIGATION, photo_question, text_question
from bot.flows.reading import Intent, read_intent
from bot.flows.unit import UNIT_NOT_THIS, unit_just_matched, unit_step
from core.rules.organisation import Organisation
from core.rules.titles import (
    TITLES_EN,
    TITLES_TH,
    english_title_for,
    parse_english_title,
    parse_thai_title,
)
from core.rules.validation import (
    parse_email,
    parse_english_name,
    parse_free_text,
    parse_national_id,
    parse_nationality,
    parse_position,
    parse_thai_name,
)

S = ApplyStep
NAME = "apply"
NATIONALITIES = ("ไทย",)


def ask_terms(state: FlowState) -> list[Message]:
    accept = Choice("apply.accept_terms", "apply:accept")
    return [
        Text("apply.terms"),
        Text("apply.pdpa", choices=(accept, Choice("common.cancel", "nav:cancel"))),
    ]


def accept_terms(state: FlowState, incoming: Incoming) -> Reply:
    if incoming.data == "apply:accept" or read_intent(incoming) is Intent.YES:
        return Accept({"terms_accepted": True})
    return Retry((Text("apply.terms_needed"),))


# An account exists for the typed ID: its owner forgot the password, or someone else has the
# ID. Neither answer names the account (the typist may not be its owner).
FORGOT = Choice("apply.has_account.forgot", "account:forgot")
NOT_ME = Choice("apply.has_account.not_me", "account:not_me")
HAS_ACCOUNT_OPTIONS = (FORGOT, NOT_ME)
HAS_ACCOUNT_HELP = {
    FORGOT.data: Text("apply.has_account.forgot_help", choices=(menu.CALL_DATABASE, NOT_ME)),
    NOT_ME.data: Text("apply.has_account.not_me_help", choices=(menu.CALL_DATABASE, FORGOT)),
}


def check_national_id(state: FlowState, national_id: str) -> Reply:
    """The ID, checked at once against active requests and accounts (rule 2.1)."""
    return Stay(effects=(CheckNationalId(national_id, state.answers.get("resubmits")),))


def national_id_checked(state: FlowState, outcome: Outcome) -> Reply:
    """Someone else's: the same words whoever holds it, so typing IDs reveals nobody's
    request; the typist may correct a typo or call the support line. This chat's own: its
    reference, and the draft ends (one person, one account).
    """
    if not isinstance(outcome, NationalIdChecked):
        raise ValueError(f"unexpected outcome {outcome!r} at the national ID")
    if outcome.has_account:
        return Retry((Text("apply.refused.has_account", choices=HAS_ACCOUNT_OPTIONS),))
    if not outcome.held:
        return Accept({"national_id": outcome.national_id})
    if outcome.own_reference is None:
        return Retry((Text("apply.refused.already_held"),))
    reference = {"reference": outcome.own_reference}
    return End((Text("apply.refused.already_active", reference, menu.AFTER_FILING),))


def with_title_en(state: FlowState, title: str) -> Reply:
    """นาย, นาง and นางสาว settle the English title: that question is not asked."""
    if S.TITLE_EN not in form_of(state.answers):
        return Accept({"title_th": title})  # a unit mailbox's responsible person: no English
    return Accept({"title_th": title, **answered_for(S.TITLE_TH, title)})


def ask_kind(state: FlowState) -> list[Message]:
    kinds = tuple(Choice(f"apply.kind.{kind}", f"kind:{kind}") for kind in KINDS)
    return [Text("apply.ask_kind", choices=(*kinds, *NAVIGATION))]


def choose_kind(state: FlowState, incoming: Incoming) -> Reply:
    kind = incoming.data.removeprefix("kind:") if incoming.kind is Kind.BUTTON else ""
    if kind not in KINDS:
        return Retry((Text("apply.kind_pick"),))
    return Accept({"kind": kind, **answered_for(S.KIND, kind)})


def english_titles(state: FlowState) -> tuple[str, ...]:
    suggested = english_title_for(str(state.answers.get("title_th", "")))
    rest = tuple(title for title in TITLES_EN if title != suggested)
    return (suggested, *rest) if suggested else rest


def ask_mobile(state: FlowState) -> Text:
    return Text(
        "apply.ask_mobile_agency" if state.answers.get("kind") == "agency" else "apply.ask_mobile"
    )


def with_progress(name: str, step: Step, *, verify_mobile: bool) -> Step:
    """The question with its number ("ข้อ 5 จาก 10") and, just after a unit was taken on
    one exact match, a "not this one" button that takes the answer back."""

    def ask(state: FlowState) -> list[Message]:
        asked = list(step.ask(state))
        if not asked or not isinstance(asked[-1], Text):
            return asked
        question = asked[-1]
        at = progress(name, state.answers, verify_mobile=verify_mobile)
        if at is not None:
            numbers = {"n": str(at[0]), "of": str(at[1])}
            question = replace(question, lead=Text("apply.progress", numbers))
        if unit_just_matched(state):  # back means "not this unit" now: say so
            others = tuple(choice for choice in question.choices if choice != BACK)
            question = replace(question, choices=(UNIT_NOT_THIS, *others))
        return [*asked[:-1], question]

    return replace(step, ask=ask)


def apply_dialogue(org: Organisation, *, verify_mobile: bool = True) -> Dialogue:
    """The form; with verify_mobile the number is proved by a one-time code (issue 16)."""
    steps: dict[str, Step] = {
        S.TERMS: Step(ask_terms, accept_terms),
        S.KIND: Step(ask_kind, choose_kind),
        S.UNIT: unit_step(org),
        S.PURPOSE: text_question(
            "apply.ask_purpose", "purpose", partial(parse_free_text, min_length=10, max_length=300)
        ),
        S.MAILBOX_NAME: mailbox_name_step(),
        S.RESPONSIBLE_USERNAME: responsible_step(),
        S.POSITION: text_question("apply.ask_position", "position", parse_position),
        S.TITLE_TH: text_question(
            "apply.ask_title_th",
            "title_th",
            parse_thai_title,
            picks=lambda state: TITLES_TH,
            then=with_title_en,
        ),
        S.NAME_TH: full_name_question(
            "apply.ask_name_th", "name_th", parse_thai_name, title_key="title_th"
        ),
        S.TITLE_EN: text_question(
            "apply.ask_title_en",
            "title_en",
            parse_english_title,
            picks=english_titles,
        ),
        S.NAME_EN: full_name_question("apply.ask_name_en", "name_en", parse_english_name),
        S.NATIONAL_ID: text_question(
            "apply.ask_national_id",
            "national_id",
            parse_national_id,
            then=check_national_id,
            on_outcome=national_id_checked,
            helps=HAS_ACCOUNT_HELP,
        ),
        S.NATIONALITY: text_question(
            "apply.ask_nationality",
            "nationality",
            parse_nationality,
            picks=lambda state: NATIONALITIES,
        ),
        S.MOBILE: mobile_step(ask_mobile, verify=verify_mobile),
        S.MOBILE_CODE: mobile_code_step(),
        S.EMAIL: text_question("apply.ask_email", "email", parse_email),
        S.DOC_ID_CARD: photo_question("apply.ask_doc_id_card", "id_card"),
        S.DOC_WORK_CERTIFICATE: photo_question(
            "apply.ask_doc_work_certificate", "work_certificate"
        ),
        S.DOC_MEMO: photo_question("apply.ask_doc_memo", "memo"),
        S.DOC_RESPONSIBLE_ID_CARD: photo_question(
            "apply.ask_doc_responsible_id_card", "responsible_id_card"
        ),
        S.SUMMARY: summary_step(org),
        S.EDIT_MENU: edit_menu_step(),
    }
    numbered = {
        name: with_progress(name, step, verify_mobile=verify_mobile)
        for name, step in steps.items()
    }
    return Dialogue(
        NAME,
        numbered,
        partial(next_step, verify_mobile=verify_mobile),
        cancelled=(Text("apply.cancelled", choices=menu.main_choices()),),
        restart_keeps=("terms_accepted", TERMS_ACCEPTED_AT),
    )
