"""Normalise and validate what people type: national ID, mobile, e-mail, names, references."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from core.rules.plain_text import ZERO_WIDTH, has_hidden, has_markup

NAME_MAX_LENGTH = 60
EMAIL_MAX_LENGTH = 254


@dataclass(frozen=True, slots=True)
class Invalid:
    """A rejected answer; the bot shows the catalog text `invalid.<field>.<reason>`."""

    reason: str
    suggestion: str | None = None


# Invisible characters that copied Thai text often carries (ZWSP is Thai's word break).
_ZERO_WIDTH = dict.fromkeys(map(ord, ZERO_WIDTH))
_THAI_MARK = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"  # combining: may not start a word
# Small Thai fixes (as pythainlp.util.normalize does) that only repair invisible typing
# slips; pythainlp's other rules (dropping leading marks, ๅ -> า) would silently change a name.
_THAI_FIXES = (
    (re.compile("\u0e40\u0e40"), "\u0e41"),  # เ + เ renders as แ
    (re.compile("([\u0e48-\u0e4c]+)([\u0e31\u0e34-\u0e39]+)"), r"\2\1"),  # tone before vowel
    (re.compile("\u0e4d([\u0e48-\u0e4b]*)\u0e32"), "\\1\u0e33"),  # ํ + า (NFKC-split ำ)
    (re.compile(f"([{_THAI_MARK}])\\1+"), r"\1"),  # a doubled mark stacks invisibly
)
_DIGITS = re.compile("[0-9]+")
_DASHES = "\\-\u2010-\u2015\u2212"
_ID_SEPARATORS = re.compile(f"[\\s{_DASHES}]+")
_PHONE_SEPARATORS = re.compile(f"[\\s{_DASHES}.()]+")
_E164_MOBILE = re.compile("\\+66[689][0-9]{8}")
_THAI_BLOCK = re.compile("[\u0e00-\u0e7f]")
_THAI_NOT_DIGIT = re.compile("[\u0e01-\u0e4f\u0e5a\u0e5b]")
_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_LOCAL = re.compile(f"{_ATOM}(?:\\.{_ATOM})*")
_DOMAIN_LABEL = re.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LEVEL_DOMAIN = re.compile("[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_THAI_WORD = "[\u0e01-\u0e3a\u0e40-\u0e4e]+"
_THAI_NAME = re.compile(f"{_THAI_WORD}(?: {_THAI_WORD})*")
_MARK_FIRST = re.compile(f"(?:^| )[{_THAI_MARK}]")
_ENGLISH_WORD = "[A-Za-z]+(?:['-][A-Za-z]+)*"
_ENGLISH_NAME = re.compile(f"{_ENGLISH_WORD}(?: {_ENGLISH_WORD})*")
# Phones' "smart punctuation" turns ' into ’ and - into a Unicode hyphen.
# A request's reference once digits are ASCII and spaces gone: A69-00042, a69 00042, A6900042.
_REFERENCE = re.compile(f"A([0-9]{{2}})[{_DASHES}_./]?([0-9]{{1,5}})", re.ASCII)
_TYPOGRAPHIC = str.maketrans("\u2019\u2018\u02bc\u2010\u2011", "'''--")
# Spellings Thai never has (none of the 21,218 names in pythainlp's name lists trips one).
# Used only to decide whether a wrong-keyboard-layout guess is worth offering.
_CONSONANT = "\u0e01-\u0e2e"
_UNLIKE_THAI = re.compile(
    "|".join(
        (
            f"(?:^|[^{_CONSONANT}])[\u0e31\u0e34-\u0e3a\u0e47]",  # vowel mark on no consonant
            f"(?:^|[^{_CONSONANT}\u0e31\u0e34-\u0e39])[\u0e48-\u0e4e]",  # tone mark on nothing
            f"[\u0e40-\u0e44](?![{_CONSONANT}])",  # เ แ โ ใ ไ not before a consonant
            f"(?:^|[^{_CONSONANT}\u0e48-\u0e4b])\u0e33",  # ำ after a vowel
            f"[\u0e31\u0e37](?![\u0e48-\u0e4b]?[{_CONSONANT}])",  # ั or ื with no final
            "(?:^| )[\u0e30\u0e32\u0e33\u0e45]",  # a word starting with ะ า ำ ๅ
            "([\u0e30\u0e32\u0e33])\\1",  # ะะ าา ำำ
        )
    )
)

# Thai Kedmanee layout (TIS 820-2538) over US QWERTY, key by key. Our own table rather than
# pythainlp's: that one lacks the 1 and ! keys, and importing pythainlp.util writes to $HOME.
_US_KEYS = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./"
_US_SHIFT_KEYS = '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?'
_THAI_KEYS = "_ๅ/-ภถุึคตจขชๆไำพะัีรนยบลฃฟหกดเ้่าสวงผปแอิืทมใฝ"
_THAI_SHIFT_KEYS = '%+๑๒๓๔ู฿๕๖๗๘๙๐"ฎฑธํ๊ณฯญฐ,ฅฤฆฏโฌ็๋ษศซ.()ฉฮฺ์?ฒฬฦ'
_ENG_TO_THAI = str.maketrans(_US_KEYS + _US_SHIFT_KEYS, _THAI_KEYS + _THAI_SHIFT_KEYS)
_THAI_TO_ENG = str.maketrans(_THAI_KEYS + _THAI_SHIFT_KEYS, _US_KEYS + _US_SHIFT_KEYS)
# Only the Thai side, for text where the user switched layout halfway ("หนทแ้ฟร@bma.go.th").
_THAI_ONLY_TO_ENG = {key: value for key, value in _THAI_TO_ENG.items() if key > 0x7F}


def eng_to_thai(text: str) -> str:
    """Re-type text as if the same keys had been pressed on the Thai Kedmanee layout."""
    return text.translate(_ENG_TO_THAI)


def thai_to_eng(text: str) -> str:
    """Re-type text as if the same keys had been pressed on the US QWERTY layout."""
    return text.translate(_THAI_TO_ENG)


def normalize_digits(text: str) -> str:
    """Turn every Unicode decimal digit (๐-๙, full-width...) into ASCII 0-9."""
    return "".join(_ascii_digit(char) for char in text)


def _ascii_digit(char: str) -> str:
    value = unicodedata.decimal(char, -1)
    return char if value < 0 else "0123456789"[value]


def normalize_text(text: str) -> str:
    """NFC, no zero-width characters, Thai typing slips fixed, single spaces, trimmed."""
    # NFKC would split ำ into ํ + า, so NFC only.
    text = unicodedata.normalize("NFC", text.translate(_ZERO_WIDTH))
    for pattern, replacement in _THAI_FIXES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _strip_invisible(text: str) -> str:
    # For keyboard-layout guesses: NFC and the Thai fixes would reorder the keystrokes.
    return " ".join(text.translate(_ZERO_WIDTH).split())


def _compact(text: str, separators: re.Pattern[str]) -> str:
    return separators.sub("", normalize_digits(text.translate(_ZERO_WIDTH)))


def _english_layout_guess(text: str, check: Callable[[str], str | Invalid]) -> str | None:
    typed = _strip_invisible(text)
    # All keys re-typed, then only the Thai ones (for a layout switched halfway).
    for candidate in (thai_to_eng(typed), typed.translate(_THAI_ONLY_TO_ENG)):
        result = check(candidate)
        if isinstance(result, str):
            return result
    return None


def parse_national_id(text: str) -> str | Invalid:
    """Return the ID as 13 ASCII digits; spaces, dashes and Thai digits are accepted.

    Reasons: `not_digits` (something other than digits, spaces and dashes), `length` (not
    13 digits, also empty input), `checksum` (last digit does not match: a typo somewhere).
    """
    digits = _compact(text, _ID_SEPARATORS)
    if digits and not _DIGITS.fullmatch(digits):
        return Invalid("not_digits")
    if len(digits) != 13:
        return Invalid("length")
    if national_id_check_digit(digits[:12]) != digits[12]:
        return Invalid("checksum")
    return digits


def national_id_check_digit(first12: str) -> str:
    """Return the only 13th digit that completes a valid ID after these 12 ASCII digits."""
    if len(first12) != 12 or not _DIGITS.fullmatch(first12):
        raise ValueError("expected the first 12 digits of a national ID, ASCII only")
    # N13 = (11 - sum(N_i * (14 - i)) mod 11) mod 10; i is 1-based, so weights run 13..2.
    total = sum(int(digit) * (13 - index) for index, digit in enumerate(first12))
    return str((11 - total % 11) % 10)


def mask_national_id(national_id: str) -> str:
    """Show only the last three digits, grouped like the card: 'x-xxxx-xxxxx-45-8'."""
    if len(national_id) != 13 or not _DIGITS.fullmatch(national_id):
        raise ValueError("expected a normalised 13-digit national ID")
    return f"x-xxxx-xxxxx-{national_id[10:12]}-{national_id[12]}"


def format_national_id(national_id: str) -> str:
    """Grouped like the card, '1-1037-00123-45-8': for its owner only, never a log."""
    if len(national_id) != 13 or not _DIGITS.fullmatch(national_id):
        raise ValueError("expected a normalised 13-digit national ID")
    n = national_id
    return f"{n[0]}-{n[1:5]}-{n[5:10]}-{n[10:12]}-{n[12]}"


def parse_mobile(text: str) -> str | Invalid:
    """Return a Thai mobile number (06/08/09 + 8 digits) in E.164 form, '+66812345678'.

    Accepts spaces, dashes, dots, parentheses, Thai digits and a '+66' / '66' prefix.
    Reasons: `not_digits` (letters or other symbols), `length` (not 10 digits, also
    empty), `not_mobile` (landline or other prefix than 06/08/09, e.g. 02 or a missing
    leading 0), `country` (a '+' number of another country).
    """
    compact = _compact(text, _PHONE_SEPARATORS)
    digits = compact.removeprefix("+")
    if not digits:
        return Invalid("length")
    if not _DIGITS.fullmatch(digits):
        return Invalid("not_digits")
    # A bare 11/12-digit '66...' is the country code typed without '+'.
    if compact.startswith("+") or (digits.startswith("66") and len(digits) in (11, 12)):
        if not digits.startswith("66"):
            return Invalid("country")
        digits = "0" + digits[2:].removeprefix("0")  # '+66 (0)81...' keeps the trunk 0
    return _parse_national_mobile(digits)


def _parse_national_mobile(digits: str) -> str | Invalid:
    if not digits.startswith("0") or (len(digits) > 1 and digits[1] not in "689"):
        return Invalid("not_mobile")
    if len(digits) != 10:
        return Invalid("length")
    return "+66" + digits[1:]


def format_mobile(e164: str) -> str:
    """'+66812345678' -> '081-234-5678', the way Thai people write it."""
    national = _national_mobile(e164)
    return f"{national[:3]}-{national[3:6]}-{national[6:]}"


def mask_mobile(e164: str) -> str:
    """'+66812345678' -> '081-xxx-5678': enough to recognise, not enough to call."""
    national = _national_mobile(e164)
    return f"{national[:3]}-xxx-{national[6:]}"


def _national_mobile(e164: str) -> str:
    if not _E164_MOBILE.fullmatch(e164):
        raise ValueError("expected a Thai mobile number in E.164 form from parse_mobile")
    return "0" + e164[3:]


def parse_email(text: str) -> str | Invalid:
    """Return the address trimmed, local part as typed and domain in lower case.

    Reasons: `hidden` (control, format, bidi or private-use characters: see plain_text),
    `format` (not one '@', spaces, a bad or empty local part, over 254
    characters), `thai_script` (Thai characters: usually the Thai keyboard layout; the
    suggestion is the same keys on the English layout when that is a valid address),
    `domain` (the part after '@' is not a domain with a dot, valid labels and a TLD).
    """
    if has_hidden(text):
        return Invalid("hidden")
    address = normalize_text(text)
    if _THAI_BLOCK.search(address):
        return Invalid("thai_script", _english_layout_guess(text, _check_email))
    return _check_email(address)


def _check_email(address: str) -> str | Invalid:
    if len(address) > EMAIL_MAX_LENGTH or address.count("@") != 1:
        return Invalid("format")
    local, domain = address.split("@")
    if len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        return Invalid("format")
    domain = domain.lower()
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not _TOP_LEVEL_DOMAIN.fullmatch(labels[-1]):
        return Invalid("domain")
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return Invalid("domain")
    return f"{local}@{domain}"


def parse_thai_name(text: str) -> str | Invalid:
    """Return one Thai name field (first or last name), NFC, words joined by one space.

    Reasons: `empty`, `hidden` (control, format or bidi characters), `not_thai` (Latin or
    other non-Thai letters; the suggestion is the same keys on the Thai layout when that is
    a valid name), `digits` (Thai or other digits), `symbols` (punctuation, ฿ ๏ ๚ ๛,
    emoji...), `mark_first` (a vowel or tone mark starts a word), `too_long` (over 60
    characters).
    """
    result = _check_thai_name(text)
    if isinstance(result, Invalid) and result.reason == "not_thai":
        return Invalid("not_thai", _thai_layout_guess(text))
    return result


def _thai_layout_guess(text: str) -> str | None:
    typed = _strip_invisible(text)
    if isinstance(_check_english_name(typed), str):
        return None  # a romanised name ("Somchai") in the wrong field, not the wrong layout
    guess = _check_thai_name(eng_to_thai(typed))
    return guess if isinstance(guess, str) and not _UNLIKE_THAI.search(guess) else None


def _check_thai_name(text: str) -> str | Invalid:
    if has_hidden(text):
        return Invalid("hidden")
    name = normalize_text(text)
    if not name:
        return Invalid("empty")
    if any(_is_non_thai_letter(char) for char in name):
        return Invalid("not_thai")
    if _has_digit(name):
        return Invalid("digits")
    if not _THAI_NAME.fullmatch(name):
        return Invalid("symbols")
    if _MARK_FIRST.search(name):
        return Invalid("mark_first")
    if len(name) > NAME_MAX_LENGTH:
        return Invalid("too_long")
    return name


def _is_non_thai_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L") and not "\u0e00" <= char <= "\u0e7f"


def _has_digit(text: str) -> bool:
    return any(unicodedata.decimal(char, -1) >= 0 for char in text)


def parse_english_name(text: str) -> str | Invalid:
    """Return one English name field; all-lower or all-upper input is title-cased.

    Allowed: A-Z a-z, single spaces, and ' or - between letters (’ counts as ').
    Reasons: `empty`, `hidden`, `thai_script` (Thai characters; the suggestion is the same keys on
    the English layout when that is a valid name), `digits`, `symbols` (any other
    character, accented letters included, or ' - not between letters), `too_long`.
    """
    result = _check_english_name(text)
    if isinstance(result, Invalid) and result.reason == "thai_script":
        if not _UNLIKE_THAI.search(normalize_text(text)):
            return result  # real Thai (their Thai name, say), not English on the Thai layout
        return Invalid("thai_script", _english_layout_guess(text, _check_english_name))
    return result


def _check_english_name(text: str) -> str | Invalid:
    if has_hidden(text):
        return Invalid("hidden")
    name = normalize_text(text).translate(_TYPOGRAPHIC)
    if not name:
        return Invalid("empty")
    if _THAI_NOT_DIGIT.search(name):
        return Invalid("thai_script")
    if _has_digit(name):
        return Invalid("digits")
    if not _ENGLISH_NAME.fullmatch(name):
        return Invalid("symbols")
    if len(name) > NAME_MAX_LENGTH:
        return Invalid("too_long")
    # Keep deliberate capitals (McDonald); fix names typed with caps lock or none at all.
    return name.title() if name in (name.lower(), name.upper()) else name


def parse_free_text(text: str, *, min_length: int = 2, max_length: int = 200) -> str | Invalid:
    """Return the text NFC-normalised, zero-width characters gone, spaces collapsed.

    Reasons: `hidden` (control characters such as ESC or BEL, format characters such as
    bidi overrides, private-use characters), `markup` (an HTML tag or character reference:
    no field of ours is shown as HTML, so such text is a mistake or an attack),
    `too_short` (also empty), `too_long`.
    """
    if has_hidden(text):
        return Invalid("hidden")
    cleaned = normalize_text(text)
    if has_markup(cleaned):
        return Invalid("markup")
    if len(cleaned) < min_length:
        return Invalid("too_short")
    if len(cleaned) > max_length:
        return Invalid("too_long")
    return cleaned


# Nationalities as Thai people write them, ไทย first (the button); a few English spellings
# are read as the Thai word. BMA staff are Thai citizens but for some contract staff.
NATIONALITIES = (
    *("ไทย", "ลาว", "กัมพูชา", "เมียนมา", "พม่า", "เวียดนาม", "มาเลเซีย", "สิงคโปร์"),
    *("อินโดนีเซีย", "ฟิลิปปินส์", "บรูไน", "ติมอร์-เลสเต", "จีน", "ไต้หวัน", "ฮ่องกง"),
    *("ญี่ปุ่น", "เกาหลีใต้", "เกาหลี", "อินเดีย", "เนปาล", "ภูฏาน", "บังกลาเทศ"),
    *("ปากีสถาน", "ศรีลังกา", "อเมริกัน", "แคนาดา", "อังกฤษ", "บริติช", "ไอร์แลนด์"),
    *("ฝรั่งเศส", "เยอรมัน", "อิตาลี", "สเปน", "โปรตุเกส", "ดัตช์", "เบลเยียม", "สวิส"),
    *("ออสเตรีย", "สวีเดน", "นอร์เวย์", "เดนมาร์ก", "ฟินแลนด์", "รัสเซีย", "ยูเครน"),
    *("โปแลนด์", "ออสเตรเลีย", "นิวซีแลนด์", "อิหร่าน", "อิสราเอล", "ตุรกี", "อียิปต์"),
)
_NATIONALITY_IN_ENGLISH = {"thai": "ไทย", "thailand": "ไทย", "lao": "ลาว", "laos": "ลาว"}
_NATIONALITY_PREFIX = re.compile(r"^(?:สัญชาติ|ชาว)\s*")
_LETTER = re.compile("[A-Za-z\u0e01-\u0e2e]")


def parse_nationality(text: str) -> str | Invalid:
    """A nationality from NATIONALITIES ("สัญชาติไทย" and "Thai" read as ไทย).

    Reasons: `hidden`, `markup`, `digits` (an ID or a phone number typed here by mistake),
    `unknown` (not a nationality on the list).
    """
    if has_hidden(text):
        return Invalid("hidden")
    said = _NATIONALITY_PREFIX.sub("", normalize_text(text))
    if has_markup(said):
        return Invalid("markup")
    if _has_digit(said):
        return Invalid("digits")
    said = _NATIONALITY_IN_ENGLISH.get(said.lower(), said)
    return said if said in NATIONALITIES else Invalid("unknown")


def parse_position(text: str) -> str | Invalid:
    """A job title: free text (parse_free_text, 2-100 characters) with at least two letters.

    Reasons: those of parse_free_text, and `no_letters` (digits or signs only).
    """
    position = parse_free_text(text, max_length=100)
    if isinstance(position, str) and len(_LETTER.findall(position)) < 2:
        return Invalid("no_letters")
    return position


def parse_reference(text: str) -> str | None:
    """A request's reference as the bot writes it ("A69-00042"); None if the text is not one.

    Lower case, Thai digits, spaces and any dash are fine: "a๖๙ ๐๐๐๔๒" is A69-00042.
    """
    compact = "".join(normalize_digits(text.translate(_ZERO_WIDTH)).split()).upper()
    found = _REFERENCE.fullmatch(compact)
    if found is None:
        return None
    year, number = found.groups()
    return f"A{year}-{int(number):05d}"  # ASCII digits only here: int() keeps them exact


def parse_one_time_code(text: str, digits: int = 6) -> str | Invalid:
    """A code sent by SMS: Thai digits, spaces and dashes allowed ('๑๒๓ ๔๕๖' -> '123456').

    Reason: `format` (not exactly `digits` digits).
    """
    compact = _compact(text, _PHONE_SEPARATORS)
    if len(compact) != digits or not _DIGITS.fullmatch(compact):
        return Invalid("format")
    return compact
