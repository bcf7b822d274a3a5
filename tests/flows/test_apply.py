"""The application dialogue's own rules, with steps called directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.flows import engine
from bot.flows.apply import apply_dialogue
from bot.flows.apply_form import (
    FORMS,
    KINDS,
    ApplyStep,
    document_ids,
    done_key,
    next_step,
    submitted_answers,
)
from bot.flows.engine import FlowState
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Card, Choice, Text
from core.rules.organisation import Organisation

ORG = Organisation.load()
APPLY = apply_dialogue(ORG, verify_mobile=False)
S = ApplyStep


def at(step: ApplyStep, **answers: Any) -> FlowState:
    return FlowState("apply", step.value, {"terms_accepted": True, "kind": "staff", **answers})


def choices_at(state: FlowState) -> tuple[Choice, ...]:
    last = engine.ask(APPLY, state).messages[-1]
    return last.buttons if isinstance(last, Card) else last.choices  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("thai", "english"), [("นาย", "Mr."), ("นาง", "Mrs."), ("นางสาว", "Miss"), ("ดร.", "Dr.")]
)
def test_the_english_title_is_offered_from_the_thai_one(thai: str, english: str) -> None:
    first = choices_at(at(S.TITLE_EN, title_th=thai))[0]
    assert first.params["text"] == english
    assert first.data == "pick:0"


def test_thai_nationality_is_one_tap() -> None:
    state = at(S.NATIONALITY)
    thai = choices_at(state)[0]
    assert thai.params["text"] == "ไทย"
    turn = engine.handle(APPLY, state, Incoming("t", "u", "u", Kind.BUTTON, data=thai.data))
    assert turn.state is not None
    assert turn.state.answers["nationality"] == "ไทย"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_asked_its_own_questions_in_order(kind: str) -> None:
    answers: dict[str, Any] = {"terms_accepted": True, "kind": kind}
    asked = []
    while (step := next_step(answers)) != "summary":
        asked.append(step)
        answers[done_key(S(step))] = "x"
    assert asked == [step.value for step in FORMS[kind]]


def test_no_question_asks_for_a_password() -> None:
    assert not [step for step in APPLY.steps if "password" in step]


def test_answers_left_from_another_kind_are_not_submitted() -> None:
    answers = {
        "kind": "agency",
        "national_id": "1103700123458",
        "first_name_en": "Somchai",
        "mailbox_name": "bangrak.registration",
        "doc_id_card": 3,
        "doc_memo": 4,
    }
    assert submitted_answers(answers) == {"kind": "agency", "mailbox_name": "bangrak.registration"}
    assert document_ids(answers) == {"memo": 4}


def every_question() -> Iterator[FlowState]:
    """Each question of each kind, and each page of each unit level, as a state to ask."""
    for kind in KINDS:
        for step in (S.TERMS, S.KIND, *FORMS[kind], S.EDIT_MENU):
            for page in range(8):
                yield FlowState("apply", step.value, {"kind": kind, "title_th": "นาย"}, page=page)
    for unit in [None, *(u.id for u in ORG.children(None))]:
        chosen = [] if unit is None else [u.id for u in ORG.path(unit)]
        for page in range(8):
            yield FlowState(
                "apply", "unit", {"kind": "staff", "unit": chosen}, mode="browse", page=page
            )


def test_every_question_fits_the_platform_limits() -> None:
    for state in every_question():
        for message in engine.ask(APPLY, state).messages:
            buttons = message.buttons if isinstance(message, Card) else message.choices
            assert len(buttons) <= 13, state
            for button in buttons:
                assert button.data.isascii(), button
                assert len(button.data.encode()) <= 64, button


def test_a_summary_card_has_a_line_per_answer_group() -> None:
    answers = {
        "terms_accepted": True,
        "kind": "agency",
        "unit": ["district-1004"],
        "unit_done": True,
        "unit_note": None,
        "purpose": "ใช้รับส่งหนังสือราชการ",
        "mailbox_name": "bangrak.office",
        "responsible_username": "somchai.j",
        "title_th": "นาง",
        "first_name_th": "สมศรี",
        "last_name_th": "ใจดี",
        "position": "เจ้าพนักงานธุรการ",
        "mobile": "+66812345678",
        "email": "a@b.co",
        "doc_memo": 1,
        "doc_responsible_id_card": 2,
    }
    card = engine.ask(APPLY, FlowState("apply", "summary", answers)).messages[0]
    assert isinstance(card, Card)
    assert [line.key for line in card.lines] == [
        "apply.line.kind.agency",
        "apply.line.unit",
        "apply.line.purpose",
        "apply.line.mailbox_name",
        "apply.line.responsible_username",
        "apply.line.name_th",
        "apply.line.position",
        "apply.line.mobile",
        "apply.line.email",
        "apply.line.doc_memo",
        "apply.line.doc_responsible_id_card",
    ]
    assert Text("apply.line.name_th", {"value": "นางสมศรี ใจดี"}) in card.lines
