"""The status flow on its own: what is a reference, when it is asked, how a draft reads."""

from __future__ import annotations

import pytest

from bot.flows import menu, status
from bot.flows.engine import FlowState
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import (
    ApplicationFound,
    ApplicationLookedUp,
    ApplicationsFound,
    Card,
    LookUpApplication,
    LookUpApplications,
    Milestone,
    Text,
)
from core.storage.models import ApplicationKind


def typed(text: str) -> Incoming:
    return Incoming("line", "U1", "U1", Kind.TEXT, text=text)


def keys(card: object) -> list[str]:
    assert isinstance(card, Card)
    return [line.key for line in card.lines]


def test_every_kind_of_request_has_a_name_in_the_status_answer() -> None:
    assert set(ApplicationKind) <= status.kinds_named()


@pytest.mark.parametrize("text", ["A69-00042", "a69 00042", "สถานะ a๖๙-๐๐๐๔๒", "A69-00042ค่ะ"])
def test_a_typed_reference_outside_a_form_is_looked_up(text: str) -> None:
    turn = status.answer(None, None, typed(text))  # type: ignore[arg-type]
    assert turn is not None
    assert turn.effects == (LookUpApplication("A69-00042"),)


def test_inside_a_form_only_a_reference_after_a_status_word_is_looked_up() -> None:
    draft = FlowState("apply", "position")
    assert status.typed_reference(typed("A69-00042"), alone=False) is None
    assert status.typed_reference(typed("สถานะ A69-00042"), alone=False) == "A69-00042"
    turn = status.answer(None, draft, typed("สถานะคำขอ A69-00042"))  # type: ignore[arg-type]
    assert turn is not None
    assert turn.state == draft


@pytest.mark.parametrize("text", ["A69", "A69-000421", "B69-00042", "69-00042", "สถานะของฉัน"])
def test_text_that_is_not_a_reference_is_left_to_the_rest(text: str) -> None:
    assert status.typed_reference(typed(text), alone=True) is None


def test_the_status_words_ask_for_the_newest_few() -> None:
    turn = status.answer(None, None, typed("ตรวจสอบสถานะครับ"))  # type: ignore[arg-type]
    assert turn is not None
    assert turn.effects == (LookUpApplications(status.NEWEST),)


def test_a_draft_of_another_dialogue_is_named_by_its_kind() -> None:
    (card,) = status.show(ApplicationsFound((), 0), FlowState("handover", "mailbox_name"))
    assert keys(card) == ["status.item.draft", "status.kind.handover"]


def test_a_correction_in_progress_names_the_request_it_corrects() -> None:
    draft = FlowState("apply", "mobile", {"kind": "staff", "resubmits": "A69-00007"})
    (card,) = status.show(ApplicationsFound((), 0), draft)
    assert isinstance(card, Card)
    assert card.lines[0] == Text("status.item.draft_correction", {"reference": "A69-00007"})


def test_a_rejection_reason_code_has_its_own_words_and_free_text_is_quoted() -> None:
    history = (
        Milestone("submitted", "1/12/2569"),
        Milestone("rejected", "2/12/2569", "duplicate"),
        Milestone("rejected", "3/12/2569", "ไม่ได้ระบุหน่วยงาน"),
    )
    found = ApplicationFound("A69-00001", "staff", "rejected", history)
    (card,) = status.show(ApplicationLookedUp("A69-00001", found), None)
    assert isinstance(card, Card)
    assert card.lines[-2:] == (
        Text("status.event.rejected.duplicate", {"date": "2/12/2569"}),
        Text("status.event.rejected_because", {"date": "3/12/2569", "reason": "ไม่ได้ระบุหน่วยงาน"}),
    )


def test_an_unknown_reference_offers_the_whole_list() -> None:
    (said,) = status.show(ApplicationLookedUp("A69-00009", None), None)
    assert said == Text("status.not_found", {"reference": "A69-00009"}, (status.ALL, menu.HOME))
