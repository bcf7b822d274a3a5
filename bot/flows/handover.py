"""A new responsible person for a unit mailbox (rule 2.2): its own request, reviewed like an
application; approval writes the new person into the directory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.flows.engine import Accept, Dialogue, FlowState, Reply, Retry, Step
from bot.flows.kinds import KINDS, RequestKind
from bot.flows.outgoing import Choice, SubmitApplication, Text, UserChecked
from bot.flows.questions import photo_question
from bot.flows.requests import confirm_step, notice_step, request_dialogue, user_name_question
from core.delivery.job_kinds import job_kind

NAME = "handover"
WORDS = frozenset({"เปลี่ยนผู้รับผิดชอบ", "เปลี่ยนผู้รับผิดชอบบัญชี", "เปลี่ยนผู้รับผิดชอบบัญชีหน่วยงาน"})


def judge_mailbox(state: FlowState, found: UserChecked) -> Reply:
    if not found.found:
        return Retry((Text("handover.mailbox_unknown", {"uid": found.uid}),))
    if found.employee_type != "agency":
        return Retry((Text("handover.not_a_mailbox", {"uid": found.uid}),))
    return Accept({"mailbox_name": found.uid, "current_responsible": found.responsible_uid or "-"})


def judge_person(state: FlowState, found: UserChecked) -> Reply:
    if not found.found:
        return Retry((Text("handover.person_unknown", {"uid": found.uid}),))
    if not found.civil_servant:
        return Retry((Text("handover.person_not_staff", {"uid": found.uid}),))
    if found.locked:
        return Retry((Text("handover.person_locked", {"uid": found.uid}),))
    if found.uid == state.answers.get("current_responsible"):
        return Retry((Text("handover.person_same", {"uid": found.uid}),))
    return Accept({"responsible_username": found.uid, "responsible_name": found.display_name})


def summary_lines(answers: Mapping[str, Any]) -> list[Text]:
    new = str(answers.get("responsible_username", ""))
    name = str(answers.get("responsible_name") or "")
    return [
        Text("handover.line.mailbox", {"value": str(answers.get("mailbox_name", ""))}),
        Text("handover.line.current", {"value": str(answers.get("current_responsible", "-"))}),
        Text("handover.line.new", {"value": f"{new} {name}".strip()}),
        Text("handover.line.documents"),
    ]


def submission(answers: Mapping[str, Any]) -> SubmitApplication:
    fields = ("mailbox_name", "current_responsible", "responsible_username", "responsible_name")
    return SubmitApplication(
        kind=NAME,
        answers={key: answers[key] for key in fields if key in answers},
        national_id=None,
        document_ids={
            "memo": int(answers["doc_memo"]),
            "responsible_id_card": int(answers["doc_responsible_id_card"]),
        },
    )


def handover_dialogue() -> Dialogue:
    steps: dict[str, Step] = {
        "notice": notice_step("handover.intro"),
        "mailbox_name": user_name_question("handover.ask_mailbox", "mailbox_name", judge_mailbox),
        "responsible_username": user_name_question(
            "handover.ask_person", "responsible_username", judge_person
        ),
        "doc_memo": photo_question("handover.ask_memo", "memo"),
        "doc_responsible_id_card": photo_question("handover.ask_id_card", "responsible_id_card"),
        "confirm": confirm_step("handover.summary_title", summary_lines, submission),
    }
    return request_dialogue(NAME, steps)


def card_lines(form: Mapping[str, Any]) -> list[Text]:
    """The reviewers' card: which mailbox, who is responsible now, who will be."""
    new = f"{form.get('responsible_username', '')} {form.get('responsible_name') or ''}"
    return [
        Text("handover.line.mailbox", {"value": str(form.get("mailbox_name", ""))}),
        Text("handover.line.current", {"value": str(form.get("current_responsible", "-"))}),
        Text("handover.line.new", {"value": new.strip()}),
    ]


KIND = KINDS.register(
    RequestKind(
        name=NAME,
        dialogue=handover_dialogue,
        menu=Choice("menu.handover", "menu:handover"),
        words=WORDS,
        card_lines=card_lines,
        documents=("doc_memo", "doc_responsible_id_card"),
        approval_job=job_kind("handover.apply"),
        done="handover.done",
    )
)
