"""Who may decide in a review group: the people listed, every member only when said so."""

from __future__ import annotations

from bot.flows.incoming import Incoming, Kind
from bot.handlers.review_policy import ReviewPolicy

GROUP = "C" + "0" * 32
REVIEWER, MEMBER = "U" + "a1" * 16, "U" + "b2" * 16


def press_in_group(user_id: str, chat_id: str = GROUP) -> Incoming:
    return Incoming("line", user_id, chat_id, Kind.BUTTON, data="rv:a:1", in_group=True)


def test_without_a_reviewer_list_nobody_decides() -> None:
    policy = ReviewPolicy.from_settings({"line": GROUP}, "")
    assert not policy.may_decide(press_in_group(REVIEWER))
    assert not policy.may_decide(press_in_group(MEMBER))


def test_only_the_listed_reviewers_decide() -> None:
    policy = ReviewPolicy.from_settings({"line": GROUP}, f"line:{REVIEWER}")
    assert policy.may_decide(press_in_group(REVIEWER))
    assert not policy.may_decide(press_in_group(MEMBER))


def test_group_any_lets_every_member_of_the_review_group_decide() -> None:
    policy = ReviewPolicy.from_settings({"line": GROUP}, "group:any")
    assert policy.may_decide(press_in_group(MEMBER))


def test_group_any_does_not_reach_beyond_the_review_group() -> None:
    policy = ReviewPolicy.from_settings({"line": GROUP}, "group:any")
    assert not policy.may_decide(press_in_group(MEMBER, chat_id="C" + "9" * 32))
