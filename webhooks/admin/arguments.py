"""What the commands share: `--help` with a description and examples, and argument types
checked by argparse (exit 2 if wrong)."""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Sequence
from datetime import date
from typing import Any

HELP_WIDTH = 79  # the description's paragraphs are wrapped to this; the examples are kept


def add_command(
    commands: Any, name: str, *, summary: str, description: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    """A (sub)command whose --help says what it does and shows how it is typed.

    `summary` is its line in the parent's list; `description` may hold paragraphs apart by
    blank lines; `examples` are whole command lines, starting "bmabot ".
    """
    command: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=described(description),
        epilog=example_lines(examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return command


def described(description: str) -> str:
    paragraphs = textwrap.dedent(description).strip().split("\n\n")
    return "\n\n".join(textwrap.fill(" ".join(p.split()), HELP_WIDTH) for p in paragraphs)


def example_lines(examples: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {example}" for example in examples)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


BUDDHIST_ERA_FROM = 2400  # a year this large was typed in the Buddhist era (CE + 543)
ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def day(text: str) -> date:
    """YYYY-MM-DD with a Christian or a Buddhist-era year: 2026-11-25 and 2569-11-25 agree."""
    match = ISO_DAY.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        year, month, day_of_month = (int(part) for part in match.groups())
        if year >= BUDDHIST_ERA_FROM:
            year -= 543
        return date(year, month, day_of_month)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date like 2569-11-25: {text!r}") from None
