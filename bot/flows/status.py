"""Where are my requests: the person's applications, newest first, in plain Thai."""

from __future__ import annotations

from bot.flows.incoming import Incoming, Kind
from bot.flows.menu import APPLY, typed
from bot.flows.outgoing import ApplicationsFound, Card, Message, Text

STATUS_BUTTON = "menu:status"
STATUS_WORDS = frozenset({"สถานะ", "สถานะคำขอ", "ตรวจสอบสถานะ", "status", "/status"})


def wants_status(incoming: Incoming) -> bool:
    if incoming.kind is Kind.BUTTON:
        return incoming.data == STATUS_BUTTON
    return bool(typed(incoming) & STATUS_WORDS)


def show(found: ApplicationsFound) -> tuple[Message, ...]:
    if not found.applications:
        return (Text("status.none", choices=(APPLY,)),)
    lines = tuple(
        Text(
            f"status.item.{application.status}",
            {"reference": application.reference, "date": application.submitted_on},
        )
        for application in found.applications
    )
    return (Card(Text("status.title"), lines),)
