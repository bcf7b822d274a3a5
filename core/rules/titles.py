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

# The words and abbreviations a Thai title is made of (ranks of the army, navy, air force
# and police, academic and professional titles, royal descent), so that a typed title such
# as "ว่าที่ ร.ต." or "ผศ.ดร." is read as titles, and a sentence typed by mistake is not.
TITLE_WORDS = frozenset(
    {
        *("นาย", "นาง", "นางสาว", "ดร.", "ว่าที่", "หญิง"),
        *("ศ.", "รศ.", "ผศ.", "ศาสตราจารย์", "รองศาสตราจารย์", "ผู้ช่วยศาสตราจารย์"),
        *("นพ.", "พญ.", "ทพ.", "ทพญ.", "ภก.", "ภญ.", "น.สพ.", "สพ.ญ.", "กภ."),
        *("ม.จ.", "ม.ร.ว.", "ม.ล.", "หม่อมเจ้า", "หม่อมราชวงศ์", "หม่อมหลวง", "คุณหญิง"),
        *("ท่านผู้หญิง",),
        # army
        *("พล.อ.", "พล.ท.", "พล.ต.", "พ.อ.", "พ.ท.", "พ.ต.", "ร.อ.", "ร.ท.", "ร.ต."),
        *("จ.ส.อ.", "จ.ส.ท.", "จ.ส.ต.", "ส.อ.", "ส.ท.", "ส.ต.", "พลทหาร"),
        *("พลเอก", "พลโท", "พลตรี", "พันเอก", "พันโท", "พันตรี", "ร้อยเอก", "ร้อยโท"),
        *("ร้อยตรี", "จ่าสิบเอก", "จ่าสิบโท", "จ่าสิบตรี", "สิบเอก", "สิบโท", "สิบตรี"),
        # navy
        *("พล.ร.อ.", "พล.ร.ท.", "พล.ร.ต.", "น.อ.", "น.ท.", "น.ต.", "พ.จ.อ.", "พ.จ.ท."),
        *("พ.จ.ต.", "จ.อ.", "จ.ท.", "จ.ต.", "พลเรือเอก", "พลเรือโท", "พลเรือตรี"),
        *("นาวาเอก", "นาวาโท", "นาวาตรี", "เรือเอก", "เรือโท", "เรือตรี", "ร.น."),
        # air force
        *("พล.อ.อ.", "พล.อ.ท.", "พล.อ.ต.", "พ.อ.อ.", "พ.อ.ท.", "พ.อ.ต."),
        *("พลอากาศเอก", "พลอากาศโท", "พลอากาศตรี", "นาวาอากาศเอก", "นาวาอากาศโท"),
        *("นาวาอากาศตรี", "เรืออากาศเอก", "เรืออากาศโท", "เรืออากาศตรี"),
        # police
        *("พล.ต.อ.", "พล.ต.ท.", "พล.ต.ต.", "พ.ต.อ.", "พ.ต.ท.", "พ.ต.ต.", "ร.ต.อ."),
        *("ร.ต.ท.", "ร.ต.ต.", "ด.ต.", "ส.ต.อ.", "ส.ต.ท.", "ส.ต.ต.", "พลตำรวจเอก"),
        *("พลตำรวจโท", "พลตำรวจตรี", "พันตำรวจเอก", "พันตำรวจโท", "พันตำรวจตรี"),
        *("ร้อยตำรวจเอก", "ร้อยตำรวจโท", "ร้อยตำรวจตรี", "ดาบตำรวจ", "จ่าสิบตำรวจ"),
        *("สิบตำรวจเอก", "สิบตำรวจโท", "สิบตำรวจตรี"),
        *TITLES_TH,
    }
)
_BARE = str.maketrans("", "", ". ()")  # matched without dots, spaces or brackets: "ผศ ดร" too
_BY_BARE = {word.translate(_BARE): word for word in TITLE_WORDS}
_LONGEST = max(len(bare) for bare in _BY_BARE)

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
    words = title_words(title)
    if words is None:
        return Invalid("unknown")
    return _joined(words)


def title_words(text: str) -> list[str] | None:
    """The title words a typed title is made of, longest first; None if it holds another word.

    "ว่าที่ ร.ต.หญิง" -> ["ว่าที่", "ร.ต.", "หญิง"]; "ผศ ดร" -> ["ผศ.", "ดร."].
    """
    bare = text.translate(_BARE)
    words: list[str] = []
    at = 0
    while at < len(bare):
        for end in range(min(len(bare), at + _LONGEST), at, -1):
            word = _BY_BARE.get(bare[at:end])
            if word is not None:
                words.append(word)
                at = end
                break
        else:
            return None
    return words or None


def _joined(words: list[str]) -> str:
    """Titles as written on the ID card: abbreviations run together, a space after ว่าที่."""
    text = ""
    for word in words:
        text += (" " if text.endswith("ว่าที่") and "." in word else "") + word
    return text


def starts_with_title(name: str, title: str) -> str | None:
    """The rest of a first name typed with its title in front ("นางสาวมาลี" after นางสาว).

    The title picked at the step before counts with or without a space; นาย, นาง and
    นางสาว only with one (names such as นายิกา begin with those letters).
    """
    for prefix in (f"{title} ", "นางสาว ", "นาง ", "นาย ", title):
        if prefix.strip() and name.startswith(prefix) and len(name) - len(prefix) >= 2:
            return name[len(prefix) :].strip()
    return None


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
