"""Name titles people type: Thai ones spelled as Thai is written, English ones in A-Z."""

from __future__ import annotations

import pytest

from core.rules.titles import (
    TITLES_EN,
    TITLES_TH,
    parse_english_title,
    parse_thai_title,
    starts_with_title,
)
from core.rules.validation import Invalid


@pytest.mark.parametrize(
    "title",
    [*TITLES_TH, "พ.ต.อ.", "ผศ.ดร.", "ว่าที่ ร.ต.", "จ.ส.อ.", "ม.ร.ว.", "ท่านผู้หญิง", "ร.ท.หญิง"],
)
def test_accepts_thai_titles(title: str) -> None:
    assert parse_thai_title(title) == title


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("ผศ ดร", "ผศ.ดร."),
        ("ว่าที่ร.ต.", "ว่าที่ ร.ต."),
        ("ดร", "ดร."),
        ("พ.ต.อ.หญิง", "พ.ต.อ.หญิง"),
        ("ร้อยตำรวจเอก", "ร้อยตำรวจเอก"),
        ("รศ.ดร.", "รศ.ดร."),
    ],
)
def test_a_typed_title_is_read_as_the_titles_it_is_made_of(typed: str, read: str) -> None:
    assert parse_thai_title(typed) == read


@pytest.mark.parametrize("typed", ["ลืมรหัสผ่านทำยังไง", "สวัสดีค่ะ", "สมชาย", "นายก", "ครู"])
def test_words_that_are_no_title_are_refused(typed: str) -> None:
    assert parse_thai_title(typed) == Invalid("unknown")


@pytest.mark.parametrize(
    ("name", "title", "rest"),
    [
        ("นางสาวมาลี", "นางสาว", "มาลี"),
        ("นาย สมชาย", "นาย", "สมชาย"),
        ("นาง สมศรี", "ดร.", "สมศรี"),
        ("ว่าที่ ร.ต.สมชาย", "ว่าที่ ร.ต.", "สมชาย"),
    ],
)
def test_a_first_name_that_repeats_the_title_gives_the_name_without_it(
    name: str, title: str, rest: str
) -> None:
    assert starts_with_title(name, title) == rest


@pytest.mark.parametrize(
    ("name", "title"), [("นายิกา", "นางสาว"), ("นางนวล", "นางสาว"), ("สมชาย", "นาย")]
)
def test_a_name_that_only_begins_with_those_letters_is_a_name(name: str, title: str) -> None:
    assert starts_with_title(name, title) is None


def test_a_typed_thai_title_is_normalised() -> None:
    assert parse_thai_title("  พ.ต.อ.\u200b ") == "พ.ต.อ."
    assert parse_thai_title("ว่าที่\u0e48") == "ว่าที่"  # a tone mark typed twice shows once


@pytest.mark.parametrize(
    "typed",
    [
        "\u0e48",  # a bare tone mark (mai ek)
        "\u0e49\u0e49\u0e49",
        "\u0e34",  # a bare vowel mark
        "นาย \u0e48",  # a tone mark after a space
        "พ.\u0e4a",  # a tone mark after a dot
        "เ\u0e48",  # a tone mark on a leading vowel
        "ก\u0e34\u0e48\u0e49",  # three marks stacked on one letter
    ],
)
def test_rejects_a_thai_title_with_a_mark_on_no_letter(typed: str) -> None:
    assert parse_thai_title(typed) == Invalid("marks")


@pytest.mark.parametrize("typed", ["นาย\x1b[31m", "นาย\x07", "นาย\u202e", "\u2066นาง\u2069"])
def test_rejects_a_thai_title_with_hidden_characters(typed: str) -> None:
    assert parse_thai_title(typed) == Invalid("hidden")


@pytest.mark.parametrize("typed", ["Mr.", "<b>นาย</b>", "นาย!", "", "ก" * 41])
def test_rejects_a_thai_title_in_another_form(typed: str) -> None:
    assert parse_thai_title(typed) == Invalid("format")


@pytest.mark.parametrize("title", [*TITLES_EN, "Pol. Col.", "Acting Sub Lt."])
def test_accepts_english_titles(title: str) -> None:
    assert parse_english_title(title) == title


def test_an_english_title_starts_with_a_capital() -> None:
    assert parse_english_title("  mr. ") == "Mr."


@pytest.mark.parametrize("typed", ["Mr.\x1b[0m", "Mr.\u202e", "Dr.\x00"])
def test_rejects_an_english_title_with_hidden_characters(typed: str) -> None:
    assert parse_english_title(typed) == Invalid("hidden")


@pytest.mark.parametrize("typed", ["นาย", "<b>Mr.</b>", "M", "Mr.1"])
def test_rejects_an_english_title_in_another_form(typed: str) -> None:
    assert parse_english_title(typed) == Invalid("format")
