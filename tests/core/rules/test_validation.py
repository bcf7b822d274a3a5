"""What applicants may type for their ID, mobile, e-mail and names, and what they get back."""

import re
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.rules.plain_text import has_markup, is_hidden
from core.rules.validation import (
    Invalid,
    eng_to_thai,
    format_mobile,
    mask_mobile,
    mask_national_id,
    national_id_check_digit,
    normalize_digits,
    normalize_text,
    parse_email,
    parse_english_name,
    parse_free_text,
    parse_mobile,
    parse_national_id,
    parse_nationality,
    parse_position,
    parse_reference,
    parse_thai_name,
    thai_to_eng,
)

TO_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
ASCII_DIGITS = "0123456789"
SARA_AM_SPLIT = "\u0e4d\u0e32"  # what NFKC turns ำ into: nikhahit + sara aa

twelve_digits = st.text(alphabet=ASCII_DIGITS, min_size=12, max_size=12)
valid_national_ids = twelve_digits.map(lambda first12: first12 + national_id_check_digit(first12))
valid_mobiles = st.builds(
    lambda prefix, rest: f"+66{prefix}{rest}",
    st.sampled_from("689"),
    st.text(alphabet=ASCII_DIGITS, min_size=8, max_size=8),
)


# --- digits and text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("๐๑๒๓๔๕๖๗๘๙", "0123456789"),  # Thai
        ("０８１", "081"),  # full-width
        ("٠٨١", "081"),  # Arabic-Indic
        ("०८१", "081"),  # Devanagari
        ("โทร ๐๘๑-abc", "โทร 081-abc"),  # everything else untouched
        ("x²", "x²"),  # superscripts are not decimal digits
    ],
)
def test_normalize_digits_turns_every_decimal_digit_into_ascii(typed: str, expected: str) -> None:
    assert normalize_digits(typed) == expected


@pytest.mark.parametrize("zero_width", ["\u200b", "\u200c", "\u200d", "\ufeff"])
def test_normalize_text_removes_zero_width_characters(zero_width: str) -> None:
    assert normalize_text(f"สม{zero_width}ชาย") == "สมชาย"


def test_normalize_text_collapses_whitespace_and_trims() -> None:
    assert normalize_text("  สมชาย \t\n ใจดี\u00a0 ค่ะ  ") == "สมชาย ใจดี ค่ะ"


def test_normalize_text_keeps_sara_am_composed() -> None:
    assert normalize_text("คำ") == "คำ"


@pytest.mark.parametrize(
    "split", ["ค" + SARA_AM_SPLIT, "น\u0e49" + SARA_AM_SPLIT, "น\u0e4d\u0e49\u0e32"]
)
def test_normalize_text_recomposes_split_sara_am(split: str) -> None:
    assert normalize_text(split) in {"คำ", "น้ำ"}
    assert SARA_AM_SPLIT not in normalize_text(split)


def test_normalize_text_turns_double_sara_e_into_sara_ae() -> None:
    assert normalize_text("เเก้ว") == "แก้ว"


def test_normalize_text_puts_the_vowel_before_the_tone_mark() -> None:
    assert normalize_text("ป\u0e48\u0e34นแก้ว") == "ปิ่นแก้ว"


def test_normalize_text_drops_an_invisibly_doubled_mark() -> None:
    assert normalize_text("ดี\u0e35") == "ดี"


def test_normalize_text_keeps_a_leading_mark_so_it_can_be_reported() -> None:
    assert normalize_text("\u0e34สม") == "\u0e34สม"


@given(st.text(alphabet=st.characters(min_codepoint=0x0E00, max_codepoint=0x0E7F) | st.just(" ")))
def test_normalize_text_is_idempotent(text: str) -> None:
    assert normalize_text(normalize_text(text)) == normalize_text(text)


# --- keyboard layouts -----------------------------------------------------------------------


def test_keyboard_layout_agrees_with_pythainlp(monkeypatch: pytest.MonkeyPatch) -> None:
    # pythainlp creates ~/pythainlp-data on import unless told it is read-only.
    monkeypatch.setenv("PYTHAINLP_READ_ONLY", "1")
    monkeypatch.setenv("PYTHAINLP_OFFLINE", "1")
    from pythainlp.util.keyboard import EN_TH_KEYB_PAIRS

    for key, thai in EN_TH_KEYB_PAIRS.items():
        assert eng_to_thai(key) == thai
    assert eng_to_thai("1!") == "ๅ+"  # keys pythainlp leaves out


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_thai_to_eng_undoes_eng_to_thai(keys: str) -> None:
    assert thai_to_eng(eng_to_thai(keys)) == keys


# --- national ID ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1103700123458", "1103700123458"),
        ("3100600987659", "3100600987659"),
        ("1234567890121", "1234567890121"),  # checksum edge case x = 0
        ("1-1037-00123-45-8", "1103700123458"),
        ("1 1037 00123 45 8", "1103700123458"),
        ("๑๑๐๓๗๐๐๑๒๓๔๕๘", "1103700123458"),
        ("๓-๑๐๐๖-๐๐๙๘๗-๖๕-๙", "3100600987659"),
        ("１１０３７００１２３４５８", "1103700123458"),
        ("1–1037–00123–45–8", "1103700123458"),  # en dashes from a phone keyboard
        (" 1103700123458\u200b\n", "1103700123458"),
    ],
)
def test_accepts_national_id(typed: str, expected: str) -> None:
    assert parse_national_id(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1103700123459", "checksum"),
        ("1103700123485", "checksum"),  # two digits swapped
        ("3100600987650", "checksum"),
        ("110370012345", "length"),
        ("11037001234580", "length"),
        ("1-1037-00123-45", "length"),
        ("๑๑๐๓๗๐๐๑๒๓๔๕", "length"),
        ("", "length"),
        ("   ", "length"),
        ("1103700l23458", "not_digits"),  # letter l for 1
        ("1103700O23458", "not_digits"),  # letter O for 0
        ("1.1037.00123.45.8", "not_digits"),
        ("+1103700123458", "not_digits"),
        ("เลขบัตร 1103700123458", "not_digits"),
        ("110370012345²", "not_digits"),  # "²".isdigit() is True; it is no digit
    ],
)
def test_rejects_national_id(typed: str, reason: str) -> None:
    assert parse_national_id(typed) == Invalid(reason)


def test_rejects_national_id_with_bad_checksum() -> None:
    assert parse_national_id("1-1037-00123-45-9") == Invalid("checksum")


@pytest.mark.parametrize(
    ("first12", "check_digit"),
    [("110370012345", "8"), ("310060098765", "9"), ("123456789012", "1")],
)
def test_national_id_check_digit_of_known_ids(first12: str, check_digit: str) -> None:
    assert national_id_check_digit(first12) == check_digit


@pytest.mark.parametrize(
    "first12", ["๑๑๐๓๗๐๐๑๒๓๔๕", "11037001234", "1103700123458", "11037001234x"]
)
def test_national_id_check_digit_wants_twelve_ascii_digits(first12: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        national_id_check_digit(first12)


@given(twelve_digits)
def test_every_12_digit_prefix_has_exactly_one_valid_check_digit(first12: str) -> None:
    valid = [
        digit for digit in ASCII_DIGITS if parse_national_id(first12 + digit) == first12 + digit
    ]
    assert valid == [national_id_check_digit(first12)]


@given(valid_national_ids)
def test_thai_digit_and_ascii_spellings_parse_to_the_same_id(national_id: str) -> None:
    assert parse_national_id(national_id.translate(TO_THAI_DIGITS)) == national_id


def test_masks_national_id_like_the_card() -> None:
    assert mask_national_id("1103700123458") == "x-xxxx-xxxxx-45-8"


@given(valid_national_ids)
def test_masking_never_reveals_more_than_the_last_three_digits(national_id: str) -> None:
    masked = mask_national_id(national_id)
    assert re.sub("[^0-9]", "", masked) == national_id[-3:]


@pytest.mark.parametrize("not_normalised", ["1-1037-00123-45-8", "๑๑๐๓๗๐๐๑๒๓๔๕๘", "110370012345"])
def test_masking_wants_a_parsed_national_id(not_normalised: str) -> None:
    with pytest.raises(ValueError, match="13-digit"):
        mask_national_id(not_normalised)


# --- mobile ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0812345678", "+66812345678"),
        ("081-234-5678", "+66812345678"),
        ("081 234 5678", "+66812345678"),
        ("(081) 234-5678", "+66812345678"),
        ("081.234.5678", "+66812345678"),
        ("+66812345678", "+66812345678"),
        ("+66 81 234 5678", "+66812345678"),
        ("+66 (0) 81 234 5678", "+66812345678"),  # the trunk 0 kept by mistake
        ("66812345678", "+66812345678"),
        ("๐๘๑-๒๓๔-๕๖๗๘", "+66812345678"),
        ("06 1234 5678", "+66612345678"),
        ("\u200b0912345678 ", "+66912345678"),
    ],
)
def test_accepts_mobile(typed: str, expected: str) -> None:
    assert parse_mobile(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("02-123-4567", "not_mobile"),  # Bangkok landline
        ("053-123-456", "not_mobile"),  # Chiang Mai landline
        ("0712345678", "not_mobile"),
        ("812345678", "not_mobile"),  # the leading 0 forgotten
        ("1555", "not_mobile"),  # BMA hotline
        ("+66 2 123 4567", "not_mobile"),
        ("081234567", "length"),
        ("08123456789", "length"),
        ("+66 81 234 567", "length"),
        ("", "length"),
        ("+", "length"),
        ("+1 415 555 0100", "country"),
        ("+856 20 5555 1234", "country"),  # Laos
        ("081-234-567O", "not_digits"),  # letter O for 0
        ("081/234/5678", "not_digits"),
        ("๐๘๑๒๓๔๕๖๗x", "not_digits"),
        ("โทร 0812345678", "not_digits"),
    ],
)
def test_rejects_mobile(typed: str, reason: str) -> None:
    assert parse_mobile(typed) == Invalid(reason)


def test_formats_mobile_the_thai_way() -> None:
    assert format_mobile("+66812345678") == "081-234-5678"


def test_masks_mobile_middle_digits() -> None:
    assert mask_mobile("+66812345678") == "081-xxx-5678"


NOT_E164_MOBILES = ["0812345678", "+6621234567", "+66 81 234 5678", "66812345678"]


@pytest.mark.parametrize("not_e164", NOT_E164_MOBILES)
def test_formatting_wants_a_parsed_mobile(not_e164: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        format_mobile(not_e164)


@pytest.mark.parametrize("not_e164", NOT_E164_MOBILES)
def test_masking_wants_a_parsed_mobile(not_e164: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        mask_mobile(not_e164)


@given(valid_mobiles)
def test_formatted_mobile_parses_back_to_itself(e164: str) -> None:
    assert parse_mobile(format_mobile(e164)) == e164


@given(valid_mobiles)
def test_thai_digit_mobile_parses_like_ascii(e164: str) -> None:
    assert parse_mobile(format_mobile(e164).translate(TO_THAI_DIGITS)) == e164


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("somchai.j@bma.go.th", "somchai.j@bma.go.th"),
        ("  Somchai.J@BMA.GO.TH  ", "Somchai.J@bma.go.th"),  # local part kept as typed
        ("somchai+it@gmail.com", "somchai+it@gmail.com"),
        ("o'neil@example.co.uk", "o'neil@example.co.uk"),
        ("user_name-1@sub.domain-2.example.org", "user_name-1@sub.domain-2.example.org"),
        ("somchai@xn--12c1fe0br.xn--o3cw4h", "somchai@xn--12c1fe0br.xn--o3cw4h"),  # .ไทย
        ("somchai@bma.go.th\u200b", "somchai@bma.go.th"),
    ],
)
def test_accepts_email(typed: str, expected: str) -> None:
    assert parse_email(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("somchai.bma.go.th", "format"),
        ("somchai@@bma.go.th", "format"),
        ("somchai@bma@go.th", "format"),
        ("somchai @bma.go.th", "format"),
        ("@bma.go.th", "format"),
        (".somchai@bma.go.th", "format"),
        ("som..chai@bma.go.th", "format"),
        ("ｓｏｍｃｈａｉ@bma.go.th", "format"),  # full-width letters
        ("a" * 65 + "@bma.go.th", "format"),
        ("a" * 64 + "@" + ("b" * 63 + ".") * 3 + "com", "format"),  # 260 characters
        ("", "format"),
        ("somchai@", "domain"),
        ("somchai@bma", "domain"),
        ("somchai@bma.go.t", "domain"),
        ("somchai@bma.go.th.", "domain"),
        ("somchai@bma..go.th", "domain"),
        ("somchai@-bma.go.th", "domain"),
        ("somchai@bma_go.th", "domain"),
        ("somchai@gmail,com", "domain"),
        ("somchai@bma.go.123", "domain"),
        ("สมชาย@bma.go.th", "thai_script"),
        ("somchai@ตัวอย่าง.ไทย", "thai_script"),
        ("หนทแ้ฟรใ่๑ิทฟใเนใะ้", "thai_script"),
    ],
)
def test_rejects_email(typed: str, reason: str) -> None:
    result = parse_email(typed)
    assert isinstance(result, Invalid)
    assert result.reason == reason


def test_email_typed_on_the_thai_layout_suggests_the_english_address() -> None:
    typed = "หนทแ้ฟรใ่๑ิทฟใเนใะ้"  # somchai.j@bma.go.th with the Thai keyboard on
    assert parse_email(typed) == Invalid("thai_script", "somchai.j@bma.go.th")


def test_email_with_digit_keys_on_the_thai_layout_suggests_the_address() -> None:
    typed = "หนทแ้ฟรๅ๑เทฟรสใแนท"  # somchai1@gmail.com
    assert parse_email(typed) == Invalid("thai_script", "somchai1@gmail.com")


def test_email_with_layout_switched_halfway_suggests_the_address() -> None:
    assert parse_email("หนทแ้ฟร@bma.go.th") == Invalid("thai_script", "somchai@bma.go.th")


def test_thai_email_that_is_no_address_on_either_layout_has_no_suggestion() -> None:
    assert parse_email("สมชาย@bma.go.th") == Invalid("thai_script")


# --- Thai name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("สมชาย", "สมชาย"),
        ("สนิทวงศ์ ณ อยุธยา", "สนิทวงศ์ ณ อยุธยา"),
        ("  สนิทวงศ์   ณ\u00a0อยุธยา ", "สนิทวงศ์ ณ อยุธยา"),
        ("สม\u200bศักดิ์", "สมศักดิ์"),  # zero-width space from copied text
        ("ค" + SARA_AM_SPLIT + "แก้ว", "คำแก้ว"),  # NFKC-split ำ
        ("เเก้วมณี", "แก้วมณี"),  # เ typed twice for แ
        ("ป\u0e48\u0e34นแก้ว", "ปิ่นแก้ว"),  # tone mark typed before the vowel
        ("ฤทธิ์", "ฤทธิ์"),
        ("ก" * 60, "ก" * 60),
    ],
)
def test_accepts_thai_name(typed: str, expected: str) -> None:
    assert parse_thai_name(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\u200b", "empty"),
        ("Somchai", "not_thai"),
        ("สมชาย Jaidee", "not_thai"),
        ("Сомчай", "not_thai"),  # Cyrillic
        ("ສົມໃຈ", "not_thai"),  # Lao
        ("สมชาย1", "digits"),
        ("สมชาย๑", "digits"),
        ("สมชาย!", "symbols"),
        ("สม-ชาย", "symbols"),
        ("฿สมชาย", "symbols"),
        ("๏สมชาย", "symbols"),
        ("สมชาย๚", "symbols"),
        ("สมชาย😀", "symbols"),
        ("\u0e34สมชาย", "mark_first"),
        ("สนิทวงศ์ \u0e48ณ", "mark_first"),
        ("ก" * 61, "too_long"),
    ],
)
def test_rejects_thai_name(typed: str, reason: str) -> None:
    result = parse_thai_name(typed)
    assert isinstance(result, Invalid)
    assert result.reason == reason


@pytest.mark.parametrize(("typed", "meant"), [("l,=kp", "สมชาย"), (".0fu", "ใจดี")])
def test_thai_name_typed_on_the_english_layout_suggests_the_thai_name(
    typed: str, meant: str
) -> None:
    assert parse_thai_name(typed) == Invalid("not_thai", meant)


@pytest.mark.parametrize("romanised", ["Somchai", "Kanokphon", "Krit"])
def test_romanised_name_in_the_thai_field_gets_no_suggestion(romanised: str) -> None:
    assert parse_thai_name(romanised) == Invalid("not_thai")


typed_names = st.text(
    alphabet=st.characters(min_codepoint=0x0E00, max_codepoint=0x0E7F)
    | st.sampled_from(" \u200b\u00a0aZ-'’1"),
    max_size=30,
)


@given(typed_names)
def test_an_accepted_thai_name_or_suggestion_parses_to_itself(typed: str) -> None:
    result = parse_thai_name(typed)
    answer = result.suggestion if isinstance(result, Invalid) else result
    if answer is not None:
        assert parse_thai_name(answer) == answer


# --- English name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Somchai", "Somchai"),
        ("somchai", "Somchai"),
        ("JAIDEE", "Jaidee"),
        ("JAI-DEE", "Jai-Dee"),
        ("Snitwongse na Ayudhya", "Snitwongse na Ayudhya"),  # mixed case kept
        ("o'neil", "O'Neil"),
        ("O’Neil", "O'Neil"),
        ("  McDonald ", "McDonald"),
        ("na\u00a0ayutthaya", "Na Ayutthaya"),
        ("Jai\u2011Dee", "Jai-Dee"),
        ("Ab" * 30, "Ab" * 30),
    ],
)
def test_accepts_english_name(typed: str, expected: str) -> None:
    assert parse_english_name(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        (" \u200b ", "empty"),
        ("สมชาย", "thai_script"),
        ("Somchai ใจดี", "thai_script"),
        ("Somchai2", "digits"),
        ("Somchai ๒", "digits"),
        ("Somchai.", "symbols"),
        ("Somchai_Jaidee", "symbols"),
        ("-Somchai", "symbols"),
        ("Somchai-", "symbols"),
        ("Jai--Dee", "symbols"),
        ("'Somchai", "symbols"),
        ("José", "symbols"),
        ("Ｓｏｍｃｈａｉ", "symbols"),
        ("Ab" * 30 + "c", "too_long"),
    ],
)
def test_rejects_english_name(typed: str, reason: str) -> None:
    result = parse_english_name(typed)
    assert isinstance(result, Invalid)
    assert result.reason == reason


@pytest.mark.parametrize(("typed", "meant"), [("หนทแ้ฟร", "Somchai"), ("่ฟรกำำ", "Jaidee")])
def test_english_name_typed_on_the_thai_layout_suggests_the_english_name(
    typed: str, meant: str
) -> None:
    assert parse_english_name(typed) == Invalid("thai_script", meant)


@pytest.mark.parametrize("thai_name", ["สมชาย", "กนก", "ใจดี"])
def test_thai_name_in_the_english_field_gets_no_suggestion(thai_name: str) -> None:
    assert parse_english_name(thai_name) == Invalid("thai_script")


@given(typed_names)
def test_an_accepted_english_name_or_suggestion_parses_to_itself(typed: str) -> None:
    result = parse_english_name(typed)
    answer = result.suggestion if isinstance(result, Invalid) else result
    if answer is not None:
        assert parse_english_name(answer) == answer


# --- free text ------------------------------------------------------------------------------


def test_free_text_is_normalised() -> None:
    assert parse_free_text("  ฝ่าย\u200bบริหาร   งานทั่วไป ") == "ฝ่ายบริหาร งานทั่วไป"


@pytest.mark.parametrize("typed", ["", "   ", "ก", "\u200bก\u200b"])
def test_rejects_free_text_too_short(typed: str) -> None:
    assert parse_free_text(typed) == Invalid("too_short")


def test_rejects_free_text_too_long() -> None:
    assert parse_free_text("ก" * 201) == Invalid("too_long")


def test_free_text_limits_can_be_changed() -> None:
    assert parse_free_text("ก", min_length=1) == "ก"
    assert parse_free_text("กขค", max_length=2) == Invalid("too_long")


def test_free_text_is_nfc_normalised() -> None:
    assert parse_free_text("Cafe\u0301 ฝ่ายบริหาร") == "Caf\u00e9 ฝ่ายบริหาร"


def test_free_text_keeps_a_copied_word_break_out_without_refusing_it() -> None:
    assert parse_free_text("นักวิชาการ\u200bคอมพิวเตอร์\u2060") == "นักวิชาการคอมพิวเตอร์"


def test_free_text_typed_on_several_lines_becomes_one() -> None:
    typed = "นักวิชาการคอมพิวเตอร์\r\nปฏิบัติการ"
    assert parse_free_text(typed) == "นักวิชาการคอมพิวเตอร์ ปฏิบัติการ"


@pytest.mark.parametrize(
    "typed",
    [
        "\x07\x1b[31mred",  # bell and an ANSI colour: a clerk's terminal would obey them
        "นักวิชาการ\x00",
        "นักวิชาการ\u202eการปฏิบัติ",  # right-to-left override: shows another text
        "นักวิชาการ\u2066คอม\u2069",  # bidi isolate
        "นักวิชาการ\u200fคอม",  # right-to-left mark
        "นัก\u00adวิชาการ",  # soft hyphen
        "นักวิชาการ\U000e0041",  # tag character: hides text from readers
        "นักวิชาการ\uf70a",  # private use
    ],
)
def test_rejects_free_text_with_control_format_or_bidi_characters(typed: str) -> None:
    assert parse_free_text(typed) == Invalid("hidden")


@pytest.mark.parametrize(
    "typed", ["<script>", "<script>alert(1)</script>", "นักวิชาการ <b>คอม</b>", "&lt;b&gt;"]
)
def test_rejects_free_text_with_markup(typed: str) -> None:
    assert parse_free_text(typed) == Invalid("markup")


@pytest.mark.parametrize("typed", ["ฝ่าย IT <-> ฝ่ายทะเบียน", "อายุ < 60 ปี", "R&D"])
def test_free_text_may_hold_a_bracket_or_ampersand_that_is_no_markup(typed: str) -> None:
    assert parse_free_text(typed) == typed


@given(st.text())
def test_accepted_free_text_is_nfc_without_hidden_characters_or_markup(typed: str) -> None:
    value = parse_free_text(typed, min_length=0, max_length=10_000)
    if isinstance(value, str):
        assert unicodedata.is_normalized("NFC", value)
        assert not any(is_hidden(char) for char in value)
        assert not has_markup(value)


@pytest.mark.parametrize(
    "parse", [parse_thai_name, parse_english_name, parse_email], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("hidden", ["\x1b[31m", "\x07", "\u202e", "\u2067", "\ue000"])
def test_names_and_email_with_hidden_characters_get_their_own_reason(
    parse: Callable[[str], str | Invalid], hidden: str
) -> None:
    typed = {parse_thai_name: "สมชาย", parse_english_name: "Somchai"}.get(parse, "s@bma.go.th")
    assert parse(typed + hidden) == Invalid("hidden")


# --- references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "A69-00042",
        "a69-00042",
        " A69 00042 ",
        "A6900042",
        "a69–00042",  # an en dash, as phones autocorrect
        "A๖๙-๐๐๐๔๒",
        "A69-42",
        "a 69 - 000 42",
        "A69\u200b-00042",
    ],
)
def test_a_reference_is_read_in_the_forms_people_type_it(typed: str) -> None:
    assert parse_reference(typed) == "A69-00042"


@pytest.mark.parametrize(
    "typed", ["", "A69", "A-00042", "A69-000420", "AA69-00042", "B69-00042", "A69-0004x", "๖๙"]
)
def test_anything_else_is_not_a_reference(typed: str) -> None:
    assert parse_reference(typed) is None


@given(st.integers(min_value=0, max_value=99), st.integers(min_value=1, max_value=99_999))
def test_a_reference_the_bot_wrote_reads_back_as_itself(year: int, number: int) -> None:
    written = f"A{year:02d}-{number:05d}"
    assert parse_reference(written) == written
    assert parse_reference(written.lower().translate(TO_THAI_DIGITS)) == written


@pytest.mark.parametrize(
    ("typed", "read"),
    [("ไทย", "ไทย"), ("สัญชาติไทย", "ไทย"), ("Thai", "ไทย"), (" ลาว ", "ลาว"), ("เมียนมา", "เมียนมา")],
)
def test_a_nationality_is_one_of_the_list(typed: str, read: str) -> None:
    assert parse_nationality(typed) == read


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("3 1012 00456 78 9", "digits"),
        ("081-234-5678", "digits"),
        ("คนไทยครับ", "unknown"),
        ("<b>ไทย</b>", "markup"),
        ("ไทย\u202e", "hidden"),
        ("", "unknown"),
    ],
)
def test_what_is_no_nationality_is_refused(typed: str, reason: str) -> None:
    assert parse_nationality(typed) == Invalid(reason)


@pytest.mark.parametrize("typed", ["12345", "123 456", "--- 1", "๑๒๓๔"])
def test_a_position_of_digits_and_signs_only_is_refused(typed: str) -> None:
    assert parse_position(typed) == Invalid("no_letters")


def test_a_position_with_a_level_number_is_kept() -> None:
    assert parse_position("นักวิชาการคอมพิวเตอร์ ระดับ 5") == "นักวิชาการคอมพิวเตอร์ ระดับ 5"
