"""Name titles: the Thai ones people pick, and the English title each one implies."""

from __future__ import annotations

import re

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


def parse_thai_title(text: str) -> str | None:
    """A typed Thai title such as 'พ.ต.อ.' or 'ผศ.ดร.'; None when it is not one."""
    text = " ".join(text.split())
    if not 1 <= len(text) <= 40 or not THAI_TITLE.fullmatch(text):
        return None
    return text


def parse_english_title(text: str) -> str | None:
    text = " ".join(text.split())
    if not 2 <= len(text) <= 30 or not ENGLISH_TITLE.fullmatch(text):
        return None
    return text[0].upper() + text[1:]


def english_title_for(thai_title: str) -> str | None:
    return ENGLISH_FOR_THAI.get(thai_title)
