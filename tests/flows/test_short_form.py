"""The shorter form (issue 17): answers that settle others, names in one message, progress,
the edit list on one page, the unit taken on one exact match, a typed unit for the card."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.catalog import Catalog
from bot.flows import engine
from bot.flows.apply import apply_dialogue
from bot.flows.apply_form import KINDS, ApplyStep, done_key, next_step, progress, questions
from bot.flows.engine import PAGE_LIMIT, FlowState, Undo
from bot.flows.incoming import Incoming, Kind
from bot.flows.names import split_full_name
from bot.flows.outgoing import Card, Text
from bot.flows.review_card import Facts, review_card
from bot.handlers.rendering import render
from core.requests.review_views import CardData
from core.rules.organisation import Organisation

ORG = Organisation.load()
APPLY = apply_dialogue(ORG, verify_mobile=True)
CATALOG = Catalog.load()
S = ApplyStep


def state_at(step: ApplyStep, **answers: Any) -> FlowState:
    return FlowState("apply", step.value, {"terms_accepted": True, "kind": "staff", **answers})


def typed(text: str) -> Incoming:
    return Incoming("t", "u", "u", Kind.TEXT, text=text)


def tapped(data: str) -> Incoming:
    return Incoming("t", "u", "u", Kind.BUTTON, data=data)


def question(state: FlowState) -> Text:
    last = engine.ask(APPLY, state).messages[-1]
    assert isinstance(last, Text)
    return last


# Answers that settle others ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("thai", "english"), [("นาย", "Mr."), ("นาง", "Mrs."), ("นางสาว", "Miss")]
)
def test_the_thai_title_on_the_id_card_settles_the_english_one(thai: str, english: str) -> None:
    picked = engine.handle(APPLY, state_at(S.TITLE_TH, unit_done=True, position="x"), typed(thai))
    assert picked.state is not None
    assert picked.state.answers["title_en"] == english
    assert picked.state.step == S.NAME_TH


@pytest.mark.parametrize("thai", ["ดร.", "ว่าที่ร้อยตรี", "พ.ต.อ.", "ผศ."])
def test_other_thai_titles_leave_the_english_title_to_be_asked(thai: str) -> None:
    answers = {"title_th": thai, "first_name_th": "สมชาย", "last_name_th": "ใจดี"}
    assert (
        next_step(
            {
                "terms_accepted": True,
                "kind": "staff",
                "unit_done": True,
                "position": "x",
                **answers,
            }
        )
        == S.TITLE_EN
    )


def test_a_staff_member_is_not_asked_the_nationality_others_are() -> None:
    for kind, asked in (("staff", False), ("contract", True)):
        turn = engine.handle(
            APPLY, FlowState("apply", "kind", {"terms_accepted": True}), tapped(f"kind:{kind}")
        )
        assert turn.state is not None
        assert (S.NATIONALITY in questions(turn.state.answers)) is asked
        assert ("nationality" in turn.state.answers) is not asked


# Names in one message ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed_name", "split"),
    [
        ("สมชาย ใจดี", ("สมชาย", "ใจดี")),
        ("  สมชาย   ใจดี ", ("สมชาย", "ใจดี")),
        ("สมชาย\u200b ใจดี", ("สมชาย", "ใจดี")),
        ("สมชาย ณ อยุธยา", ("สมชาย", "ณ อยุธยา")),
        ("สมชาย สนิทวงศ์ ณ อยุธยา", ("สมชาย", "สนิทวงศ์ ณ อยุธยา")),
        ("Somchai Na Ayutthaya", ("Somchai", "Na Ayutthaya")),
        ("Mary Ann / Jaidee", ("Mary Ann", "Jaidee")),
        ("สมชาย", "one_word"),
        ("สมชาย /", "one_word"),
        ("Mary Ann Jaidee", "many_words"),
    ],
)
def test_a_name_splits_at_the_one_space_or_the_slash(
    typed_name: str, split: tuple[str, str] | str
) -> None:
    assert split_full_name(typed_name) == split


def test_one_word_where_the_name_is_asked_is_answered_with_the_example() -> None:
    turn = engine.handle(APPLY, state_at(S.NAME_TH, title_th="นาย"), typed("สมชาย"))
    assert [m.key for m in turn.messages] == ["invalid.name_th.one_word"]
    assert "สมชาย ใจดี" in CATALOG.text("invalid.name_th.one_word", {})


@pytest.mark.parametrize(
    ("step", "typed_name", "hint"),
    [
        (S.NAME_TH, "สมชาย ใจดี2", "invalid.last_name_th.digits"),
        (S.NAME_TH, "สม1 ใจดี", "invalid.first_name_th.digits"),
        (S.NAME_EN, "Somchai \u200b", "invalid.name_en.one_word"),
        (S.NAME_EN, "Somchai J@idee", "invalid.last_name_en.symbols"),
        (S.NAME_EN, "สมชาย ใจดี", "invalid.first_name_en.thai_script"),
    ],
)
def test_each_part_of_a_name_gets_its_own_hint(
    step: ApplyStep, typed_name: str, hint: str
) -> None:
    turn = engine.handle(APPLY, state_at(step, title_th="นาย"), typed(typed_name))
    assert turn.messages[0].key == hint  # type: ignore[union-attr]


def test_a_name_typed_on_the_wrong_keyboard_gets_the_whole_name_as_a_guess() -> None:
    wrong_layout = "หนทแ้ฟร ่ฟรกำำ"  # "somchai jaidee" typed with the Thai layout on
    turn = engine.handle(APPLY, state_at(S.NAME_EN, title_th="นาย"), typed(wrong_layout))
    keys = [m.key for m in turn.messages]  # type: ignore[union-attr]
    assert keys == ["invalid.first_name_en.thai_script", "common.did_you_mean"]
    assert turn.messages[1].params == {"suggestion": "Somchai Jaidee"}  # type: ignore[union-attr]


# Progress ---------------------------------------------------------------------------------


def test_each_question_says_its_number_and_how_many() -> None:
    assert question(state_at(S.UNIT)).lead == Text("apply.progress", {"n": "1", "of": "11"})
    answers = {"unit_done": True, "position": "x", "title_th": "นาย", "title_en": "Mr."}
    shown = question(state_at(S.NAME_TH, **answers))
    assert shown.lead == Text("apply.progress", {"n": "4", "of": "10"})  # Mr. was settled
    rendered = render([shown], CATALOG)[0].text
    assert rendered.startswith("ข้อ 4 จาก 10\n")


def test_the_count_leaves_out_the_code_when_mobiles_are_not_verified() -> None:
    answers = {"terms_accepted": True, "kind": "staff"}
    assert progress("unit", answers, verify_mobile=False) == (1, 10)
    assert progress("unit", answers, verify_mobile=True) == (1, 11)


def test_an_edit_from_the_summary_promises_no_count() -> None:
    edited = state_at(S.POSITION, unit_done=True, email="a@b.co")
    assert question(edited).lead is None  # a later answer (the e-mail) is there already


# The edit list ----------------------------------------------------------------------------


def filled(kind: str) -> dict[str, Any]:
    answers: dict[str, Any] = {"terms_accepted": True, "kind": kind}
    while (step := next_step(answers)) != "summary":
        answers[done_key(S(step))] = "x"
    return answers


@pytest.mark.parametrize("kind", KINDS)
def test_the_edit_list_is_one_page_within_lines_quick_reply_limit(kind: str) -> None:
    choices = question(FlowState("apply", "edit_menu", filled(kind))).choices
    assert len(choices) <= PAGE_LIMIT == 13
    assert not [c for c in choices if c.data in ("nav:next", "nav:prev")]
    assert choices[-1].data == "apply:summary"


def test_editing_a_name_asks_its_title_first_then_the_summary() -> None:
    answers = filled("staff")
    turn = engine.handle(APPLY, FlowState("apply", "edit_menu", answers), tapped("edit:name_th"))
    assert turn.state is not None
    assert turn.state.step == S.TITLE_TH
    assert "first_name_th" not in turn.state.answers


# The unit taken on one exact match, and its undo -------------------------------------------


def test_one_exact_match_is_taken_and_the_next_question_offers_not_this_one() -> None:
    turn = engine.handle(APPLY, state_at(S.UNIT), typed("บางรัก"))
    assert turn.state is not None
    assert [ORG.unit(u).name_th for u in turn.state.answers["unit"]] == ["สำนักงานเขตบางรัก"]
    labels = [c.label for c in question(turn.state).choices]
    assert "apply.unit_not_this" in labels
    assert "common.back" not in labels  # it is the back button, named for what it undoes
    assert len(labels) <= PAGE_LIMIT

    undone = engine.handle(APPLY, turn.state, tapped("nav:back"))
    assert undone.state is not None
    assert "unit" not in undone.state.answers
    assert [m.key for m in undone.messages] == ["apply.ask_unit"]  # type: ignore[union-attr]


def test_a_close_match_is_still_asked_about() -> None:
    turn = engine.handle(APPLY, state_at(S.UNIT), typed("บางลัก"))  # a typo
    assert turn.messages[-1].key == "apply.unit_which"  # type: ignore[union-attr]


def test_a_tapped_unit_offers_no_undo_beyond_back() -> None:
    turn = engine.handle(
        APPLY, state_at(S.UNIT, unit=["district-1004"]), tapped("unit:district-1004-registration")
    )
    assert turn.state is not None
    assert "apply.unit_not_this" not in [c.label for c in question(turn.state).choices]


# A unit the list does not have --------------------------------------------------------------


def test_a_name_not_found_may_be_taken_as_typed() -> None:
    turn = engine.handle(APPLY, state_at(S.UNIT), typed("โรงเรียนวัดหัวลำโพง"))
    assert turn.state is not None
    asked = question(turn.state)
    assert asked.key == "apply.unit_not_found"
    assert asked.params["typed"] == "โรงเรียนวัดหัวลำโพง"

    taken = engine.handle(APPLY, turn.state, tapped("unit:typed"))
    assert taken.state is not None
    answers = taken.state.answers
    assert (answers["unit_note"], answers["unit_typed"]) == ("โรงเรียนวัดหัวลำโพง", True)
    assert taken.state.step == S.POSITION


def test_a_new_search_after_not_found_forgets_the_typed_name() -> None:
    missed = engine.handle(APPLY, state_at(S.UNIT), typed("โรงเรียนวัดหัวลำโพง")).state
    assert missed is not None
    found = engine.handle(APPLY, missed, typed("บางรัก")).state
    assert found is not None
    assert not found.answers.get("unit_unmatched")
    assert question(found).key == "apply.ask_subunit"


def card_lines(form: dict[str, Any]) -> list[str]:
    data = CardData(
        application_id=1,
        reference="A69-00001",
        kind="staff",
        status="pending",
        channel="line",
        user_id="U1",
        form=form,
        masked_national_id="x-xxxx-xxxxx-45-8",
        submitted_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        documents=(),
        earlier=(),
    )
    card = review_card(data, Facts(unit_text="โรงเรียนวัดหัวลำโพง"))[0]
    assert isinstance(card, Card)
    return [line.key for line in card.lines]


def test_the_card_asks_reviewers_to_place_a_typed_unit_and_keeps_the_id_masked() -> None:
    form = {
        "unit": [],
        "unit_note": "โรงเรียนวัดหัวลำโพง",
        "unit_typed": True,
        "mobile": "+66812345678",
    }
    assert "review.warning.unit_typed" in card_lines(form)
    assert "review.warning.unit_typed" not in card_lines({**form, "unit_typed": False})
    assert "โปรดตรวจสอบ" in CATALOG.text("review.warning.unit_typed", {})


# A draft saved before the form changed ------------------------------------------------------


def test_a_draft_saved_at_a_question_that_is_gone_goes_on_at_the_next_open_one() -> None:
    old = FlowState(
        "apply",
        "first_name_th",
        {
            "terms_accepted": True,
            "kind": "staff",
            "unit_done": True,
            "position": "x",
            "title_th": "นาย",
        },
        undo=(Undo("title_th", {}, ("title_th",)),),
    )
    assert engine.ask(APPLY, old).state.step == S.NAME_TH  # type: ignore[union-attr]
    turn = engine.handle(APPLY, old, typed("สมชาย ใจดี"))
    assert turn.state is not None
    assert turn.state.answers["last_name_th"] == "ใจดี"
