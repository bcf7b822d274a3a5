"""The reviewers' buttons: what each does, and its data ("rv:<action>:<id>[:<argument>]")
made and read in this one place."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from bot.flows.outgoing import Choice

PREFIX = "rv"  # every reviewer button's data starts "rv:"


class Action(enum.StrEnum):
    """What a reviewer's button does; its code is part of the button data (keep them)."""

    APPROVE = "a"
    REJECT = "r"  # opens the reasons
    REASON = "rr"  # a reason picked: rejects
    REASON_OTHER = "ro"  # asks for a typed reason
    RETURN = "t"  # opens the items to redo
    TOGGLE_ITEM = "tf"
    ITEMS_DONE = "td"  # asks for a note
    NO_NOTE = "tn"  # returns without a note
    CANCEL = "x"
    RETRY_JOB = "jr"  # a failed job again: the id is the job's


@dataclass(frozen=True, slots=True)
class Press:
    """A reviewer button: rv:<action>:<application or job id>[:<argument>], made by `data`
    and read back by `parse_press`, nowhere else."""

    action: Action
    application_id: int
    argument: str = ""

    @property
    def data(self) -> str:
        tail = f":{self.argument}" if self.argument else ""
        return f"{PREFIX}:{self.action}:{self.application_id}{tail}"

    def choice(self, label: str, params: Mapping[str, str] | None = None) -> Choice:
        return Choice(label, self.data, dict(params or {}))


_CODES = frozenset(action.value for action in Action)


def is_press(data: str) -> bool:
    return data.startswith(f"{PREFIX}:")


def parse_press(data: str) -> Press | None:
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != PREFIX:
        return None
    if not (parts[2].isascii() and parts[2].isdigit()) or parts[1] not in _CODES:
        return None
    return Press(Action(parts[1]), int(parts[2]), parts[3] if len(parts) == 4 else "")


CANCEL = Press(Action.CANCEL, 0).choice("review.cancel")
