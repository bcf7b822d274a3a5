"""Columns lined up in a terminal, Thai included: its vowel and tone marks take no width."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
        return 0  # Thai vowels above and below, tone marks
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def table(rows: Sequence[Sequence[str]], *, gap: str = "  ") -> list[str]:
    """Each row as one line, every column but the last padded to its widest cell."""
    if not rows:
        return []
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row)]
        lines.append(gap.join([*cells[:-1], row[-1]]).rstrip())
    return lines
