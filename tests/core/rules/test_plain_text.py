"""Hidden characters and markup: which ones an answer may carry, and how stored text is shown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.rules.plain_text import escape_hidden, has_hidden, has_markup, is_hidden

ANSI_RED = "\x07\x1b[31mred"
HOSTILE = {
    "bell and ANSI colour": ANSI_RED,
    "NUL": "ก\x00ข",
    "C1 control (CSI)": "ก\x9b31mข",
    "right-to-left override": "ตำแหน่ง\u202egnp.exe",
    "left-to-right embedding": "ก\u202aข",
    "right-to-left isolate": "ก\u2067ข",
    "right-to-left mark": "ก\u200fข",
    "soft hyphen": "นัก\u00adวิชาการ",
    "tag characters": "ก\U000e0041\U000e0042",
    "private use (legacy Thai font glyph)": "ก\uf70aข",
    "lone surrogate": "ก\ud800ข",
    "noncharacter": "ก\uffffข",
    "interlinear annotation": "ก\ufff9ข\ufffa",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_an_answer_with_a_control_format_or_private_character_is_hidden_text(text: str) -> None:
    assert has_hidden(text)


@pytest.mark.parametrize(
    "zero_width",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"],
    ids=["ZWSP", "ZWNJ", "ZWJ", "word joiner", "BOM"],
)
def test_zero_width_characters_of_copied_thai_text_are_not_refused(zero_width: str) -> None:
    # ZWSP is Thai's word break (Thai writes no spaces between words); normalising drops them.
    assert not has_hidden(f"นักวิชาการ{zero_width}คอมพิวเตอร์")


@pytest.mark.parametrize("space", ["\t", "\n", "\r\n", "\u2028", "\u00a0", "\u3000"])
def test_whitespace_of_every_kind_is_not_refused(space: str) -> None:
    assert not has_hidden(f"ฝ่าย{space}ทะเบียน")


@pytest.mark.parametrize(
    "text", ["นักวิชาการคอมพิวเตอร์ปฏิบัติการ", "น้ำ", "ศ.ดร.", "Café", "😀", "👨‍💻", "๑๒๓"]
)
def test_thai_latin_and_emoji_are_not_hidden(text: str) -> None:
    assert not has_hidden(text)


@pytest.mark.parametrize(
    "text",
    ["<script>", "<script>x</script>", "</b>", "<img src=x>", "<!-- x -->", "<?xml", "&lt;"],
)
def test_tags_and_character_references_are_markup(text: str) -> None:
    assert has_markup(f"ตำแหน่ง {text}")


@pytest.mark.parametrize(
    "text", ["ฝ่าย A <-> ฝ่าย B", "อายุ < 60 ปี", "R&D", "กอง 1 & 2", "a > b", "<ฝ่ายทะเบียน>"]
)
def test_an_angle_bracket_or_ampersand_alone_is_not_markup(text: str) -> None:
    assert not has_markup(text)


def test_escaping_writes_each_hidden_character_as_a_visible_escape() -> None:
    shown = escape_hidden(ANSI_RED + "\u202e\U000e0041\ud800")
    assert shown == "\\x07\\x1b[31mred\\u202e\\U000e0041\\ud800"


def test_escaping_leaves_plain_text_alone() -> None:
    text = "นายสมชาย ใจดี <script> 😀"
    assert escape_hidden(text) is text


def test_escaping_keeps_the_characters_it_is_told_to_keep() -> None:
    assert escape_hidden("ก\nข\tค", keep="\n") == "ก\nข\\x09ค"


def test_escaped_text_is_safe_to_encode_and_escape_again() -> None:
    shown = escape_hidden("\ud800\x1b")
    assert shown.encode("utf-8")  # a lone surrogate no longer breaks printing or a file
    assert escape_hidden(shown) == shown


@given(st.text())
def test_nothing_hidden_is_left_after_escaping(text: str) -> None:
    assert not any(is_hidden(char) for char in escape_hidden(text))
