"""A unit mailbox's two user names, checked in the directory as they are typed: the wanted
name must be free, and the responsible person an unlocked civil servant's account."""

from __future__ import annotations

from bot.flows.engine import Accept, FlowState, Reply, Retry, Step
from bot.flows.outgoing import Text, UserChecked
from bot.flows.requests import user_name_question
from core.rules.usernames import parse_mailbox_name


def judge_mailbox_name(state: FlowState, found: UserChecked) -> Reply:
    if found.found:
        return Retry((Text("apply.mailbox_name_taken", {"uid": found.uid}),))
    return Accept({"mailbox_name": found.uid})


def judge_responsible(state: FlowState, found: UserChecked) -> Reply:
    if not found.found:
        return Retry((Text("apply.responsible_unknown", {"uid": found.uid}),))
    if not found.civil_servant:
        return Retry((Text("apply.responsible_not_civil_servant", {"uid": found.uid}),))
    if found.locked:
        return Retry((Text("apply.responsible_locked", {"uid": found.uid}),))
    return Accept({"responsible_username": found.uid})


def mailbox_name_step() -> Step:
    return user_name_question(
        "apply.ask_mailbox_name", "mailbox_name", judge_mailbox_name, parse_mailbox_name
    )


def responsible_step() -> Step:
    return user_name_question(
        "apply.ask_responsible_username", "responsible_username", judge_responsible
    )
