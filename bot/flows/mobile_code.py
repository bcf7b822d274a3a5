"""The mobile number and the one-time code that proves it (issue 16).

The temporary password goes by SMS to the number on the form, so before the form moves on
a six-digit code is sent there and must be typed back. The code is never in the state: it
goes from the typed text straight into the CheckMobileCode effect.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.engine import Accept, FlowState, Reply, Retry, Stay, Step, is_text
from bot.flows.incoming import Incoming
from bot.flows.outgoing import (
    CheckMobileCode,
    Choice,
    Message,
    MobileCodeChecked,
    MobileCodeSent,
    Outcome,
    SendMobileCode,
    Text,
)
from bot.flows.questions import NAVIGATION, text_question
from core.rules.validation import Invalid, format_mobile, parse_mobile, parse_one_time_code

RESEND = Choice("apply.mobile_code_resend", "mobile:resend")
# Why no code went out (core.requests.mobile_codes.Refusal), as the applicant is told.
REFUSED = {
    "locked": "apply.mobile_code_locked",
    "resends_used": "apply.mobile_code_resends_used",
    "too_soon": "apply.mobile_code_too_soon",
    "busy": "apply.mobile_code_busy",
}
# What a typed code turned out to be (core.requests.mobile_codes.Check), but verified.
CHECKED = {
    "wrong": "apply.mobile_code_wrong",
    "expired": "apply.mobile_code_expired",
    "locked": "apply.mobile_code_locked",
    "no_code": "apply.mobile_code_none",
}


def mobile_step(prompt: Callable[[FlowState], Text], *, verify: bool) -> Step:
    """The number; with verify, a code is sent to it before the form moves on."""
    typed = text_question(prompt, "mobile", parse_mobile)
    if not verify:
        return typed

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        reply = typed.answer(state, incoming)
        if not isinstance(reply, Accept):
            return reply
        return Stay(effects=(SendMobileCode(reply.values["mobile"]),))

    def on_outcome(state: FlowState, outcome: Outcome) -> Reply:
        if not isinstance(outcome, MobileCodeSent):
            raise ValueError(f"unexpected outcome {outcome!r} at the mobile number")
        if outcome.refused:
            return Retry((_refused(outcome),))
        return Accept({"mobile": outcome.mobile})

    return Step(typed.ask, answer, on_outcome)


def mobile_code_step() -> Step:
    """The code typed back (Thai digits too); a resend button; back to change the number."""

    def ask(state: FlowState) -> list[Message]:
        mobile = state.answers.get("mobile")
        shown = {"mobile": format_mobile(str(mobile)) if mobile else ""}
        return [Text("apply.ask_mobile_code", shown, (RESEND, *NAVIGATION))]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        mobile = str(state.answers["mobile"])
        if incoming.data == RESEND.data:
            return Stay(effects=(SendMobileCode(mobile),))
        code = parse_one_time_code(incoming.text) if is_text(incoming) else Invalid("format")
        if isinstance(code, Invalid):
            return Retry((Text("invalid.mobile_code.format"),))
        return Stay(effects=(CheckMobileCode(mobile, code),))

    def on_outcome(state: FlowState, outcome: Outcome) -> Reply:
        if isinstance(outcome, MobileCodeSent):
            if outcome.refused:
                return Retry((_refused(outcome),))
            shown = {"mobile": format_mobile(outcome.mobile), "left": str(outcome.resends_left)}
            return Stay((Text("apply.mobile_code_resent", shown, (RESEND, *NAVIGATION)),))
        if not isinstance(outcome, MobileCodeChecked):
            raise ValueError(f"unexpected outcome {outcome!r} at the mobile code")
        if outcome.result == "verified":
            return Accept({"mobile_verified": True}, (Text("apply.mobile_verified"),))
        params = {"left": str(outcome.tries_left), "until": outcome.until}
        return Retry((Text(CHECKED[outcome.result], params),))

    return Step(ask, answer, on_outcome)


def _refused(outcome: MobileCodeSent) -> Text:
    return Text(REFUSED[outcome.refused], {"until": outcome.until})
