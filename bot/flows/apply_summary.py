"""The end of the form: every answer on one card, edit any of them, then submit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.flows.apply_form import (
    EDIT_STARTS,
    NOT_EDITED,
    TERMS_ACCEPTED_AT,
    ApplyStep,
    clears,
    document_ids,
    form_of,
    submitted_answers,
)
from bot.flows.engine import PAGE_LIMIT, End, FlowState, Jump, Reply, Retry, Stay, Step
from bot.flows.incoming import Incoming
from bot.flows.menu import AFTER_FILING
from bot.flows.outgoing import (
    ApplicationRefused,
    ApplicationSubmitted,
    Card,
    Choice,
    Message,
    Outcome,
    SubmitApplication,
    Text,
)
from bot.flows.reading import Intent, read_intent
from bot.flows.unit import unit_path_text
from core.rules.organisation import Organisation
from core.rules.validation import format_mobile, format_national_id

S = ApplyStep
SUBMIT = Choice("apply.submit", "apply:submit")
EDIT = Choice("apply.edit", "apply:edit")
TO_SUMMARY = Choice("apply.back_to_summary", "apply:summary")


def summary_step(org: Organisation) -> Step:
    def ask(state: FlowState) -> list[Message]:
        lines = tuple(summary_lines(org, state.answers))
        buttons = (SUBMIT, EDIT, Choice("common.cancel", "nav:cancel"))
        return [Card(Text("apply.summary_title"), lines, buttons)]

    return Step(ask, confirm_summary, on_submitted)


def confirm_summary(state: FlowState, incoming: Incoming) -> Reply:
    if incoming.data == "apply:edit":
        return Jump(S.EDIT_MENU.value)
    if incoming.data == "apply:submit" or read_intent(incoming) is Intent.YES:
        answers = state.answers
        national_id = answers.get("national_id") if S.NATIONAL_ID in form_of(answers) else None
        kept = set(answers.get("kept_documents", ()))  # already attached in an earlier round
        submit = SubmitApplication(
            kind=str(answers["kind"]),
            answers=submitted_answers(answers),
            national_id=national_id,
            document_ids={k: v for k, v in document_ids(answers).items() if v not in kept},
            resubmits=answers.get("resubmits"),
            terms_accepted_at=answers.get(TERMS_ACCEPTED_AT),
        )
        return Stay(effects=(submit,))
    return Retry((Text("apply.summary_pick"),))


def on_submitted(state: FlowState, outcome: Outcome) -> Reply:
    if isinstance(outcome, ApplicationSubmitted):
        submitted = Text("apply.submitted", {"reference": outcome.reference}, AFTER_FILING)
        return End((submitted,))
    if isinstance(outcome, ApplicationRefused) and outcome.reason == "mobile_unverified":
        return Retry((Text("apply.refused.mobile_unverified"),))  # edit the mobile: a new code
    if isinstance(outcome, ApplicationRefused):
        reference = {"reference": outcome.reference}
        return End((Text(f"apply.refused.{outcome.reason}", reference, AFTER_FILING),))
    raise ValueError(f"unexpected outcome {outcome!r} at the summary")


def edit_menu_step() -> Step:
    """Every item on one list: at most PAGE_LIMIT buttons with the way back (LINE's 13)."""

    def ask(state: FlowState) -> list[Message]:
        fields = tuple(Choice(f"apply.field.{step}", f"edit:{step}") for step in editable(state))
        choices = (*fields, TO_SUMMARY)
        if len(choices) > PAGE_LIMIT:
            raise ValueError(f"{len(choices)} edit buttons: more than one page")
        return [Text("apply.edit_which", choices=choices)]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if incoming.data == "apply:summary":
            return Jump(S.SUMMARY.value)
        wanted = incoming.data.removeprefix("edit:")
        if wanted not in {step.value for step in editable(state)}:
            return Retry((Text("apply.edit_pick"),))
        step = S(wanted)
        return Jump(EDIT_STARTS.get(step, step).value, clears(step))

    return Step(ask, answer)


def editable(state: FlowState) -> tuple[ApplyStep, ...]:
    return (S.KIND, *(step for step in form_of(state.answers) if step not in NOT_EDITED))


def summary_lines(org: Organisation, answers: Mapping[str, Any]) -> list[Text]:
    values = {
        "kind": answers["kind"],
        "unit": unit_path_text(org, answers),
        "name_th": joined(answers, "title_th", "first_name_th", "last_name_th"),
        "name_en": joined(answers, "title_en", "first_name_en", "last_name_en"),
        # The applicant's own ID in full, to check it; the reviewers' card masks it.
        "national_id": format_national_id(answers["national_id"])
        if "national_id" in answers
        else "",
        "mobile": format_mobile(answers["mobile"]) if "mobile" in answers else "",
    }
    lines = [Text(f"apply.line.kind.{values['kind']}")]
    for step in form_of(answers):
        if step in (S.KIND, S.MOBILE_CODE):
            continue
        lines.extend(_line(step, answers, values))
    return _dedupe(lines)


def _line(step: ApplyStep, answers: Mapping[str, Any], values: Mapping[str, str]) -> list[Text]:
    if step.value.startswith("doc_"):
        return [Text(f"apply.line.{step.value}")]
    group = {S.TITLE_TH: "name_th", S.TITLE_EN: "name_en"}.get(step, step.value)
    value = values.get(group, answers.get(group, ""))
    return [Text(f"apply.line.{group}", {"value": str(value)})]


def joined(answers: Mapping[str, Any], title: str, first: str, last: str) -> str:
    title_text = str(answers.get(title, ""))
    separator = " " if title_text.isascii() else ""  # "Mr. Somchai", but "นายสมชาย"
    return f"{title_text}{separator}{answers.get(first, '')} {answers.get(last, '')}".strip()


def _dedupe(lines: list[Text]) -> list[Text]:
    seen: list[Text] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen
