"""`bmabot faq test FILE`: which questions of a list the help topics answer as expected."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.flows import faq
from core.settings import Settings
from webhooks.admin.arguments import add_command

OFF_TOPIC = "-"


def add_faq_parser(commands: Any) -> None:
    helpdesk = add_command(
        commands,
        "faq",
        summary="the help topics that answer typed questions",
        description="""
            For the staff who keep the help topics: run a list of questions people asked
            and see which ones reach the topic you expect.
        """,
        examples=["bmabot faq test questions.tsv"],
    )
    actions = helpdesk.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = add_command(
        actions,
        "test",
        summary="check a list of questions against the topics",
        description="""
            Print, for each question of FILE, the topic that answers it and whether that is
            the one expected, then how many are right.

            FILE: one question a line, a tab, then the topic's name (such as
            forgot_password) or - when no topic should answer it; # starts a comment.
        """,
        examples=["bmabot faq test questions.tsv"],
    )
    test.add_argument("file", type=Path, help="question<TAB>topic lines (UTF-8)")


async def faq_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        questions = read_questions(args.file)
        checked = faq.check(questions)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    for one in checked:
        mark = "✓" if one.right else "✗"
        got = one.got or OFF_TOPIC
        expected = "" if one.right else f"  (expected {one.expected or OFF_TOPIC})"
        print(f"{mark} {one.question} → {got}{expected}")
    right = sum(one.right for one in checked)
    print(f"{right} of {len(checked)} right; topics: {', '.join(sorted(faq.BY_NAME))}")
    return 0


def read_questions(path: Path) -> list[tuple[str, str | None]]:
    """The (question, expected topic name or None) pairs of a list; ValueError names the line."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        question, tab, topic = line.rpartition("\t")
        if not tab or not question.strip():
            raise ValueError(f"line {number}: expected a question, a tab and a topic name")
        name = topic.strip()
        if name != OFF_TOPIC and name not in faq.BY_NAME:
            raise ValueError(f"line {number}: no topic is named {name!r}")
        questions.append((question.strip(), None if name == OFF_TOPIC else name))
    return questions
