"""The application dialogue: terms and PDPA notice, the form for each kind, summary, submit."""

from __future__ import annotations

from functools import partial

from bot.flows import menu
from bot.flows.apply_agency import mailbox_name_step, responsible_step
from bot.flows.apply_form import KINDS, TERMS_ACCEPTED_AT, ApplyStep, next_step
from bot.flows.apply_summary import edit_menu_step, summary_step
from bot.flows.engine import Accept, Dialogue, End, FlowState, Reply, Retry, Stay, Step
from bot.flows.incoming import Incoming, Kind
from bot.flows.mobile_code import mobile_code_step, mobile_step
from bot.flows.outgoing import CheckNationalId, Choice, Message, NationalIdChecked, Outcome, Text
from bot.flows.questions import NAVIGATION, invalid, photo_question, text_question
from bot.flows.reading import Intent, read_intent
from bot.flows.unit import unit_step
from core.rules.organisation import Organisation
from core.rules.titles import (
    TITLES_EN,
    TITLES_TH,
    english_title_for,
    parse_english_title,
    parse_thai_title,
    starts_with_title,
)
from core.rules.validation import (
    Invalid,
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


def first_name_th_step() -> Step:
    """The Thai first name, refused when it repeats the title picked just before it."""
    typed = text_question("apply.ask_first_name_th", "first_name_th", parse_thai_name)

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        reply = typed.answer(state, incoming)
        if isinstance(reply, Accept):
            title = str(state.answers.get("title_th", ""))
            rest = starts_with_title(reply.values["first_name_th"], title)
            if rest is not None:
                return Retry(invalid("first_name_th", Invalid("has_title", rest)))
        return reply

    return Step(typed.ask, answer)


# An account exists for the typed ID: its owner forgot the password, or someone else has the
# ID. Neither answer names the account (the typist may not be its owner).
FORGOT = Choice("apply.has_account.forgot", "account:forgot")
NOT_ME = Choice("apply.has_account.not_me", "account:not_me")
HAS_ACCOUNT_OPTIONS = (FORGOT, NOT_ME)
HAS_ACCOUNT_HELP = {
    FORGOT.data: Text("apply.has_account.forgot_help", choices=(menu.CALL_DATABASE, NOT_ME)),
    NOT_ME.data: Text("apply.has_account.not_me_help", choices=(menu.CALL_DATABASE, FORGOT)),
}


def national_id_step() -> Step:
    """The ID, checked at once against active requests and accounts (rule 2.1).

    Someone else's: the same words whoever holds it, so typing IDs reveals nobody's
    request; the typist may correct a typo or call the support line. This chat's own: its
    reference, and the draft ends (one person, one account).
    """
    typed = text_question("apply.ask_national_id", "national_id", parse_national_id)

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if incoming.kind is Kind.BUTTON and incoming.data in HAS_ACCOUNT_HELP:
            return Stay((HAS_ACCOUNT_HELP[incoming.data],))
        reply = typed.answer(state, incoming)
        if not isinstance(reply, Accept):
            return reply
        resubmits = state.answers.get("resubmits")
        return Stay(effects=(CheckNationalId(reply.values["national_id"], resubmits),))

    def on_outcome(state: FlowState, outcome: Outcome) -> Reply:
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

    return Step(typed.ask, answer, on_outcome)


def ask_kind(state: FlowState) -> list[Message]:
    kinds = tuple(Choice(f"apply.kind.{kind}", f"kind:{kind}") for kind in KINDS)
    return [Text("apply.ask_kind", choices=(*kinds, *NAVIGATION))]


def choose_kind(state: FlowState, incoming: Incoming) -> Reply:
    kind = incoming.data.removeprefix("kind:") if incoming.kind is Kind.BUTTON else ""
    if kind not in KINDS:
        return Retry((Text("apply.kind_pick"),))
    return Accept({"kind": kind})


def english_titles(state: FlowState) -> tuple[str, ...]:
    suggested = english_title_for(str(state.answers.get("title_th", "")))
    rest = tuple(title for title in TITLES_EN if title != suggested)
    return (suggested, *rest) if suggested else rest


def ask_mobile(state: FlowState) -> Text:
    return Text(
        "apply.ask_mobile_agency" if state.answers.get("kind") == "agency" else "apply.ask_mobile"
    )


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
        ),
        S.FIRST_NAME_TH: first_name_th_step(),
        S.LAST_NAME_TH: text_question("apply.ask_last_name_th", "last_name_th", parse_thai_name),
        S.TITLE_EN: text_question(
            "apply.ask_title_en",
            "title_en",
            parse_english_title,
            picks=english_titles,
        ),
        S.FIRST_NAME_EN: text_question(
            "apply.ask_first_name_en", "first_name_en", parse_english_name
        ),
        S.LAST_NAME_EN: text_question(
            "apply.ask_last_name_en", "last_name_en", parse_english_name
        ),
        S.NATIONAL_ID: national_id_step(),
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
    return Dialogue(
        NAME,
        steps,
        partial(next_step, verify_mobile=verify_mobile),
        cancelled=(Text("apply.cancelled", choices=menu.main_choices()),),
        restart_keeps=("terms_accepted", TERMS_ACCEPTED_AT),
    )
