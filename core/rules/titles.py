"""Name titles: the Thai ones people pick, and the English title each one implies."""

from __future__ import annotations

import re

from core.rules.plain_text import has_hidden
from core.rules.validation import Invalid, normalize_text

TITLES_TH = (
    "นาย",
    "นาง",
    "นางสาว",
    "ดร.",
    "ว่าที่ร้อยตรี",
    "ว่าที่ร้อยตรีหญิง",
    "ผศ.",
    "รศ.",
    "ศ.",
)
TITLES_EN = ("Mr.", "Mrs.", "Miss", "Ms.", "Dr.")
ENGLISH_FOR_THAI = {
    "นาย": "Mr.",
    "นาง": "Mrs.",
    "นางสาว": "Miss",
    "ดร.": "Dr.",
    "ว่าที่ร้อยตรี": "Acting Sub Lt.",
    "ว่าที่ร้อยตรีหญิง": "Acting Sub Lt.",
    "ผศ.": "Asst. Prof.",
    "รศ.": "Assoc. Prof.",
    "ศ.": "Prof.",
}

THAI_TITLE = re.compile(r"[\u0E01-\u0E3A\u0E40-\u0E4E]+(?:[ .][\u0E01-\u0E3A\u0E40-\u0E4E]*)*\.?")
ENGLISH_TITLE = re.compile(r"[A-Za-z]+\.?(?: [A-Za-z]+\.?){0,3}", re.ASCII)
_MARK = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"  # vowel and tone marks: they sit on a consonant
# A mark on nothing (at the start, after a space, a dot or a vowel letter such as เ or า),
# or three marks on one letter: Thai puts at most a vowel mark and a tone mark on one.
_MISPLACED_MARK = re.compile(f"(?:^|[^\u0e01-\u0e2e{_MARK}])[{_MARK}]|[{_MARK}]{{3}}")


def parse_thai_title(text: str) -> str | Invalid:
    """A typed Thai title such as 'พ.ต.อ.' or 'ผศ.ดร.', NFC, single spaces.

    Reasons: `hidden` (control, format or bidi characters), `format` (anything but Thai
    letters, dots and spaces, or over 40 characters), `marks` (a vowel or tone mark on no
    letter, such as a bare ่, or more than two marks on one letter).
    """
    if has_hidden(text):
        return Invalid("hidden")
    title = normalize_text(text)
    if not 1 <= len(title) <= 40 or not THAI_TITLE.fullmatch(title):
        return Invalid("format")
    if _MISPLACED_MARK.search(title):
        return Invalid("marks")
    return title


def parse_english_title(text: str) -> str | Invalid:
    """A typed English title such as 'Pol. Col.'. Reasons: `hidden`, `format`."""
    if has_hidden(text):
        return Invalid("hidden")
    title = normalize_text(text)
    if not 2 <= len(title) <= 30 or not ENGLISH_TITLE.fullmatch(title):
        return Invalid("format")
    return title[0].upper() + title[1:]


def english_title_for(thai_title: str) -> str | None:
    return ENGLISH_FOR_THAI.get(thai_title)
