"""The PDPA notice is the contract: every period it states is one the settings keep.

The notice, the terms and the draft reminder are read from the Thai catalog. Each promise
is a sentence with a period in it; the period must be the default of its setting, and no
other period may appear in those texts (a new promise needs a setting and a line here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest

from bot.catalog import Catalog
from bot.handlers.drafts import EXPIRE_AFTER
from core.settings import Settings

UNIT_DAYS = {"วัน": 1, "เดือน": 30, "ปี": 365}
PERIOD = re.compile(r"(\d+)\s*(วัน|เดือน|ปี|ชั่วโมง|นาที)")
PROMISING_TEXTS = ("apply.terms", "apply.pdpa", "draft.reminder")


def default(name: str) -> int:
    value = Settings.model_fields[name].default
    assert isinstance(value, int)
    return value


@dataclass(frozen=True, slots=True)
class Promise:
    what: str
    said: re.Pattern[str]  # a period as (?P<n>)(?P<unit>), or none for "at once" (0 days)
    kept: Callable[[], int]  # the days the code keeps


PROMISES = (
    Promise(
        "document photos after the decision (BMABOT_DOCUMENT_RETENTION_DAYS)",
        re.compile(r"รูปเอกสารลบ(?:ทันทีเมื่อ|ภายใน (?P<n>\d+) (?P<unit>วัน|เดือน|ปี)หลัง)พิจารณาคำขอเสร็จ"),
        lambda: default("document_retention_days"),
    ),
    Promise(
        "personal fields of a decided request (BMABOT_RECORD_RETENTION_DAYS)",
        re.compile(r"ในคำขอที่พิจารณาแล้วเก็บไว้ (?P<n>\d+) (?P<unit>วัน|เดือน|ปี)"),
        lambda: default("record_retention_days"),
    ),
    Promise(
        "an unsubmitted draft and its photos (bot.handlers.drafts.EXPIRE_AFTER)",
        re.compile(r"ไม่ได้กรอกต่อภายใน (?P<n>\d+) ?(?P<unit>วัน|เดือน|ปี)"),
        lambda: EXPIRE_AFTER.days,
    ),
)


def broken_promises(texts: Mapping[str, str]) -> list[str]:
    """What the texts promise that the code does not keep; empty when they agree."""
    problems: list[str] = []
    covered: dict[str, list[tuple[int, int]]] = {key: [] for key in texts}
    for promise in PROMISES:
        found = [(key, m) for key, text in texts.items() for m in promise.said.finditer(text)]
        if not found:
            problems.append(f"the notice no longer states: {promise.what}")
        for key, match in found:
            covered[key].append(match.span())
            days = 0 if match["n"] is None else int(match["n"]) * UNIT_DAYS[match["unit"]]
            if days != promise.kept():
                problems.append(
                    f"{key} says {days} day(s) for {promise.what}: kept {promise.kept()}"
                )
    for key, text in texts.items():
        for match in PERIOD.finditer(text):
            if not any(start <= match.start() < end for start, end in covered[key]):
                problems.append(f"{key} states {match.group(0)!r}, which no setting keeps")
    return problems


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    catalog = Catalog.load()
    return {key: catalog.messages[key] for key in PROMISING_TEXTS}


def test_every_period_the_notice_states_is_a_setting_default(texts: dict[str, str]) -> None:
    assert broken_promises(texts) == []


def test_the_notice_states_each_retention_period(texts: dict[str, str]) -> None:
    notice = texts["apply.pdpa"]
    assert "รูปเอกสารลบทันทีเมื่อพิจารณาคำขอเสร็จ" in notice  # default 0: at the decision
    assert "เก็บไว้ 1 ปี" in notice  # 365 days
    assert "ไม่ได้กรอกต่อภายใน 30 วัน" in notice


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("เก็บไว้ 1 ปี", "เก็บไว้ 2 ปี"),
        ("ภายใน 30 วัน", "ภายใน 60 วัน"),
        ("รูปเอกสารลบทันทีเมื่อ", "รูปเอกสารลบภายใน 7 วันหลัง"),
        ("ผู้พิจารณา)", "ผู้พิจารณา) บันทึกเก็บ 10 ปี"),
    ],
)
def test_a_notice_promising_another_number_fails(
    texts: dict[str, str], old: str, new: str
) -> None:
    changed = {**texts, "apply.pdpa": texts["apply.pdpa"].replace(old, new)}
    assert changed != texts
    assert broken_promises(changed)


def test_a_notice_that_drops_a_promise_fails(texts: dict[str, str]) -> None:
    changed = {**texts, "apply.pdpa": texts["apply.pdpa"].replace("เก็บไว้ 1 ปี", "เก็บไว้")}
    assert broken_promises(changed) == [
        "the notice no longer states: personal fields of a decided request "
        "(BMABOT_RECORD_RETENTION_DAYS)"
    ]
