"""Argument types the administration commands share: checked by argparse, exit 2 if wrong."""

from __future__ import annotations

import argparse
import re
from datetime import date


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
