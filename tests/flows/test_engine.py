"""The engine on a two-question dialogue: steps called directly, no event loop, no storage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.flows import engine
from bot.flows.engine import Accept, Dialogue, FlowState, Retry, Step, paged
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Choice, Message, Text


def incoming(text: str = "", *, data: str = "") -> Incoming:
    kind = Kind.BUTTON if data else Kind.TEXT
    return Incoming("test", "U1", "U1", kind, text=text, data=data)


def ask_colour(state: FlowState) -> list[Message]:
    return [Text("ask.colour", choices=(Choice("common.back", "nav:back"),))]


def answer_colour(state: FlowState, said: Incoming) -> Accept | Retry:
    if said.text not in ("red", "blue"):
        return Retry((Text("invalid.colour"),))
    return Accept({"colour": said.text})


def ask_size(state: FlowState) -> list[Message]:
    return [Text("ask.size")]


def answer_size(state: FlowState, said: Incoming) -> Accept:
    return Accept({"size": said.text})


def next_step(answers: Mapping[str, Any]) -> str:
    return next((key for key in ("colour", "size") if key not in answers), "done")


DIALOGUE = Dialogue(
    "demo",
    {
        "colour": Step(ask_colour, answer_colour),
        "size": Step(ask_size, answer_size),
        "done": Step(lambda state: [Text("ask.done")], answer_size),
    },
    next_step,
    cancelled=(Text("demo.cancelled"),),
)


def keys(turn: engine.Turn) -> list[str]:
    return [message.key for message in turn.messages if isinstance(message, Text)]


def test_start_asks_the_first_unanswered_question() -> None:
    turn = engine.start(DIALOGUE)
    assert turn.state is not None
    assert (turn.state.step, keys(turn)) == ("colour", ["ask.colour"])


def test_a_good_answer_is_kept_and_the_next_question_asked() -> None:
    state = engine.start(DIALOGUE).state
    assert state is not None
    turn = engine.handle(DIALOGUE, state, incoming("red"))
    assert turn.state is not None
    assert turn.state.answers == {"colour": "red"}
    assert keys(turn) == ["ask.size"]


def test_a_bad_answer_keeps_the_question_and_its_buttons() -> None:
    state = engine.start(DIALOGUE).state
    assert state is not None
    turn = engine.handle(DIALOGUE, state, incoming("green"))
    assert turn.state is not None
    assert (turn.state.step, turn.state.misses, turn.state.answers) == ("colour", 1, {})
    hint = turn.messages[0]
    assert isinstance(hint, Text)
    assert hint.choices == (Choice("common.back", "nav:back"),)


def test_every_third_miss_in_a_row_adds_the_help() -> None:
    state = engine.start(DIALOGUE).state
    assert state is not None
    helps = []
    for _ in range(6):
        turn = engine.handle(DIALOGUE, state, incoming("green"))
        assert turn.state is not None
        state = turn.state
        helps.append("common.help" in keys(turn))
    assert helps == [False, False, True, False, False, True]


def test_back_undoes_the_last_answer() -> None:
    state = engine.handle(DIALOGUE, engine.start(DIALOGUE).state, incoming("red")).state  # type: ignore[arg-type]
    assert state is not None
    turn = engine.handle(DIALOGUE, state, incoming(data="nav:back"))
    assert turn.state is not None
    assert (turn.state.step, turn.state.answers) == ("colour", {})


def test_cancel_needs_a_yes() -> None:
    state = engine.start(DIALOGUE).state
    assert state is not None
    asked = engine.handle(DIALOGUE, state, incoming("ยกเลิก"))
    assert keys(asked) == ["common.confirm_cancel"]
    assert asked.state is not None
    done = engine.handle(DIALOGUE, asked.state, incoming(data="nav:yes"))
    assert (done.state, keys(done)) == (None, ["demo.cancelled"])


def test_an_answer_instead_of_yes_or_no_goes_on_with_the_form() -> None:
    state = engine.start(DIALOGUE).state
    assert state is not None
    asked = engine.handle(DIALOGUE, state, incoming("ยกเลิก"))
    assert asked.state is not None
    turn = engine.handle(DIALOGUE, asked.state, incoming("blue"))
    assert turn.state is not None
    assert (turn.state.pending, turn.state.answers) == (None, {"colour": "blue"})


def test_state_survives_json() -> None:
    state = engine.handle(DIALOGUE, engine.start(DIALOGUE).state, incoming("red")).state  # type: ignore[arg-type]
    assert state is not None
    assert FlowState.from_json(state.to_json()) == state


def test_paging_never_shows_more_than_thirteen_buttons() -> None:
    options = [Choice.literal(f"unit {n}", f"unit:{n}") for n in range(70)]
    fixed = (Choice("common.back", "nav:back"), Choice("common.cancel", "nav:cancel"))
    seen = set()
    for page in range(20):
        shown = paged(options, page, fixed)
        assert len(shown) <= 13
        assert shown[-2:] == fixed
        seen.update(choice.data for choice in shown if choice.data.startswith("unit:"))
    assert len(seen) == 70


def test_a_short_list_is_shown_whole_without_paging() -> None:
    options = [Choice.literal(f"t{n}", f"pick:{n}") for n in range(11)]
    shown = paged(
        options, 0, (Choice("common.back", "nav:back"), Choice("common.cancel", "nav:cancel"))
    )
    assert [choice.data for choice in shown][:11] == [f"pick:{n}" for n in range(11)]
    assert "nav:next" not in {choice.data for choice in shown}
