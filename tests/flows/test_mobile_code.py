"""The mobile number and its one-time code, as a pure dialogue: effects out, outcomes in."""

from __future__ import annotations

import json
from typing import Any

from bot.flows import engine
from bot.flows.apply import apply_dialogue
from bot.flows.apply_form import FORMS, ApplyStep, done_key, next_step, submitted_answers
from bot.flows.engine import FlowState
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import CheckMobileCode, MobileCodeChecked, MobileCodeSent, SendMobileCode
from core.rules.organisation import Organisation

APPLY = apply_dialogue(Organisation.load(), verify_mobile=True)
S = ApplyStep
MOBILE = "+66812345678"


def before(step: ApplyStep, kind: str = "staff") -> dict[str, Any]:
    """The answers of every question of the form before this one."""
    answers: dict[str, Any] = {"terms_accepted": True, "kind": kind}
    for earlier in FORMS[kind][: FORMS[kind].index(step)]:
        answers[done_key(earlier)] = "x"
    return answers


def at(step: ApplyStep, **answers: Any) -> FlowState:
    return FlowState("apply", step.value, {**before(step), **answers})


def typed(text: str) -> Incoming:
    return Incoming("line", "U1", "U1", Kind.TEXT, text=text)


def test_the_typed_number_is_sent_a_code_before_the_form_moves_on() -> None:
    turn = engine.handle(APPLY, at(S.MOBILE), typed("081-234-5678"))
    assert turn.effects == (SendMobileCode(MOBILE),)
    assert turn.state is not None
    assert turn.state.step == S.MOBILE.value

    sent = engine.handle_outcome(APPLY, turn.state, MobileCodeSent(MOBILE, resends_left=3))
    assert sent.state is not None
    assert sent.state.step == S.MOBILE_CODE.value
    assert sent.state.answers["mobile"] == MOBILE


def test_the_code_goes_to_an_effect_and_never_into_the_state() -> None:
    state = at(S.MOBILE_CODE, mobile=MOBILE)
    turn = engine.handle(APPLY, state, typed("๕๙๗ ๓๑๐"))
    assert turn.effects == (CheckMobileCode(MOBILE, "597310"),)
    assert "597310" not in repr(turn.effects)
    assert turn.state is not None
    assert "597310" not in json.dumps(turn.state.to_json())

    done = engine.handle_outcome(APPLY, turn.state, MobileCodeChecked(MOBILE, "verified"))
    assert done.state is not None
    assert done.state.answers["mobile_verified"] is True
    assert "597310" not in json.dumps(done.state.to_json())
    assert done.state.step == S.EMAIL.value


def test_a_new_number_forgets_the_proof_of_the_old_one() -> None:
    answers = {"terms_accepted": True, "kind": "staff", "mobile": MOBILE, "mobile_verified": True}
    assert submitted_answers(answers)["mobile_verified"] is True
    edit = engine.handle(
        APPLY,
        FlowState("apply", S.EDIT_MENU.value, answers),
        Incoming("line", "U1", "U1", Kind.BUTTON, data="edit:mobile"),
    )
    assert edit.state is not None
    assert "mobile_verified" not in edit.state.answers
    assert "mobile" not in edit.state.answers


def test_without_verification_no_code_is_asked() -> None:
    answers = {**before(S.MOBILE_CODE, "agency"), "mobile": MOBILE}
    assert next_step(answers, verify_mobile=True) == S.MOBILE_CODE.value
    assert next_step(answers, verify_mobile=False) == S.EMAIL.value
