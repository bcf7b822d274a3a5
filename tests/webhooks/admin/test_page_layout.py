"""Thai text on a printed page: lines break where Thai readers expect and fit their width."""

from __future__ import annotations

from webhooks.admin.page_layout import NO_BREAK, font_of, wrap

FONT = font_of("Regular", 42)


def test_lines_break_at_spaces_when_the_words_fit() -> None:
    first = "ฝ่ายฐานข้อมูล กองควบคุมระบบคอมพิวเตอร์"
    width = FONT.getlength(first) + 10

    lines = wrap(f"{first} สำนักยุทธศาสตร์และประเมินผล", FONT, width)

    assert lines == [first, "สำนักยุทธศาสตร์และประเมินผล"]


def test_thai_written_without_spaces_breaks_between_words_within_the_width() -> None:
    text = "สำเนาบัตรประจำตัวประชาชนของผู้รับผิดชอบบัญชีหน่วยงาน"

    lines = wrap(text, FONT, 450)

    assert len(lines) > 1
    assert "".join(lines) == text  # no letter lost or added
    assert all(FONT.getlength(line) <= 450 for line in lines)
    assert lines[1].startswith("บัตร")  # not in the middle of a word


def test_a_phone_number_stays_on_one_line() -> None:
    lines = wrap("ฝ่ายฐานข้อมูล โทร 0 2203 2751", FONT, 420)

    assert lines[-1] == f"0{NO_BREAK}2203{NO_BREAK}2751"


def test_each_line_of_the_text_starts_a_new_line() -> None:
    assert wrap("หัวข้อ\nรายละเอียด", FONT, 2000) == ["หัวข้อ", "รายละเอียด"]
