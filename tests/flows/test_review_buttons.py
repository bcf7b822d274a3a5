"""Reviewer buttons: one way to make their data and one way to read it back."""

from __future__ import annotations

import pytest

from bot.flows.review_buttons import Action, Press, is_press, parse_press


@pytest.mark.parametrize("action", list(Action))
def test_every_press_reads_back_as_itself(action: Action) -> None:
    for press in (Press(action, 42), Press(action, 7, "doc_id_card")):
        assert parse_press(press.data) == press
        assert is_press(press.data)


def test_the_data_keeps_the_format_of_cards_already_in_the_groups() -> None:
    assert Press(Action.APPROVE, 1).data == "rv:a:1"
    assert Press(Action.REASON, 12, "blurry").data == "rv:rr:12:blurry"
    assert Press(Action.RETRY_JOB, 5).data == "rv:jr:5"


@pytest.mark.parametrize(
    "data",
    ["rv:zz:1", "rv:a:x", "rv:a:-1", "rv:a:١", "rv:a", "rv:a:1:b:c", "menu:apply", "", "rv::1"],
)
def test_data_that_no_button_makes_is_not_a_press(data: str) -> None:
    assert parse_press(data) is None


def test_a_button_carries_its_label_and_params() -> None:
    choice = Press(Action.TOGGLE_ITEM, 3, "mobile").choice("review.item.mobile", {"mark": "✓ "})

    assert (choice.label, choice.data, dict(choice.params)) == (
        "review.item.mobile",
        "rv:tf:3:mobile",
        {"mark": "✓ "},
    )
