"""e-GP BMA or Web Portal rights for an existing account (rule 2.6), decided by the Program
System Section in its own group; approval records the right (and its directory group)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from bot.flows.engine import Accept, Dialogue, FlowState, Reply, Retry, Step
from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS, RequestKind
from bot.flows.outgoing import Choice, Message, SubmitApplication, Text, UserChecked
from bot.flows.questions import NAVIGATION, text_question
from bot.flows.reading import clean
from bot.flows.requests import confirm_step, notice_step, request_dialogue, user_name_question
from core.delivery.job_kinds import job_kind
from core.rules.validation import format_mobile, mask_mobile, parse_free_text, parse_mobile

NAME = "rights"
WORDS = frozenset({"ขอสิทธิ์", "ขอสิทธิ", "ขอสิทธิ์ e-gp", "ขอสิทธิ์ egp", "ขอสิทธิ์ web portal"})
RIGHTS = ("egp", "webportal")
# What people type for each right: "e-GP", "อีจีพี", "web portal", "เว็บพอร์ทัล" ...
TYPED = {
    "egp": ("egp", "e-gp", "e gp", "อีจีพี", "จัดซื้อจัดจ้าง"),
    "webportal": ("webportal", "web portal", "web-portal", "เว็บพอร์ทัล", "เว็บพอทัล", "portal"),
}


def judge_account(state: FlowState, found: UserChecked) -> Reply:
    if not found.found:
        return Retry((Text("rights.user_unknown", {"uid": found.uid}),))
    if found.employee_type == "agency":
        return Retry((Text("rights.user_is_mailbox", {"uid": found.uid}),))
    if found.locked:
        return Retry((Text("rights.user_locked", {"uid": found.uid}),))
    return Accept({"user_name": found.uid, "account_name": found.display_name})


def ask_right(state: FlowState) -> list[Message]:
    picks = tuple(Choice(f"rights.right.{right}", f"right:{right}") for right in RIGHTS)
    return [Text("rights.ask_right", choices=(*picks, *NAVIGATION))]


def choose_right(state: FlowState, incoming: Incoming) -> Reply:
    right = read_right(incoming)
    if right is None:
        return Retry((Text("rights.right_pick"),))
    return Accept({"right": right})


def read_right(incoming: Incoming) -> str | None:
    if incoming.kind is Kind.BUTTON:
        right = incoming.data.removeprefix("right:")
        return right if right in RIGHTS else None
    typed = clean(incoming.text).lower()
    found = [right for right, words in TYPED.items() if any(word in typed for word in words)]
    return found[0] if len(found) == 1 else None


def summary_lines(answers: Mapping[str, Any]) -> list[Text]:
    account = f"{answers.get('user_name', '')} {answers.get('account_name') or ''}".strip()
    return [
        Text("rights.line.account", {"value": account}),
        Text(f"rights.line.right.{answers.get('right', 'egp')}"),
        Text("rights.line.purpose", {"value": str(answers.get("purpose", ""))}),
        Text("rights.line.mobile", {"value": format_mobile(str(answers.get("mobile", "")))}),
    ]


def submission(answers: Mapping[str, Any]) -> SubmitApplication:
    fields = ("user_name", "account_name", "right", "purpose", "mobile")
    return SubmitApplication(
        kind=NAME,
        answers={key: answers[key] for key in fields if key in answers},
        national_id=None,
        document_ids={},
    )


def rights_dialogue() -> Dialogue:
    steps: dict[str, Step] = {
        "notice": notice_step("rights.intro"),
        "user_name": user_name_question("rights.ask_user_name", "user_name", judge_account),
        "right": Step(ask_right, choose_right),
        "purpose": text_question(
            "rights.ask_purpose",
            "purpose",
            partial(parse_free_text, min_length=10, max_length=300),
        ),
        "mobile": text_question("rights.ask_mobile", "mobile", parse_mobile),
        "confirm": confirm_step("rights.summary_title", summary_lines, submission),
    }
    return request_dialogue(NAME, steps)


def card_lines(form: Mapping[str, Any]) -> list[Text]:
    """The reviewers' card: which account, which right and why; the mobile masked."""
    account = f"{form.get('user_name', '')} {form.get('account_name') or ''}"
    return [
        Text("rights.line.account", {"value": account.strip()}),
        Text(f"rights.line.right.{form.get('right', 'egp')}"),
        Text("rights.line.purpose", {"value": str(form.get("purpose", ""))}),
        Text("review.line.mobile", {"value": mask_mobile(str(form.get("mobile", "")))}),
    ]


KIND = KINDS.register(
    RequestKind(
        name=NAME,
        dialogue=rights_dialogue,
        menu=Choice("menu.rights", "menu:rights"),
        words=WORDS,
        card_lines=card_lines,
        documents=(),
        approval_job=job_kind("rights.grant"),
        done="rights.granted",
        review_chat="rights",  # decided by the Program System Section, in its own group
    )
)
