"""Temporary passwords for new accounts: strong, easy to type from an SMS, never stored."""

from __future__ import annotations

import secrets
import string

# No look-alikes: 0/O/o, 1/l/I/i. Symbols are in the GSM 7-bit basic set (one septet each,
# so the SMS stays one part) and mean nothing to a shell, a URL or HTML.
UPPER = "".join(c for c in string.ascii_uppercase if c not in "IO")
LOWER = "".join(c for c in string.ascii_lowercase if c not in "ilo")
DIGITS = "23456789"
SYMBOLS = "#%+=@*?"
ALPHANUMERIC = UPPER + LOWER + DIGITS
MIN_LENGTH = 12
MAX_LENGTH = 14


def generate_temporary_password() -> str:
    """12-14 characters with upper, lower, digit and symbol, starting and ending alphanumeric.

    All four classes are present so a quality check of any usual policy passes even though
    the server's admin bind would skip it; letters at both ends keep a phone's
    double-tap selection from dropping a symbol.
    """
    length = MIN_LENGTH + secrets.randbelow(MAX_LENGTH - MIN_LENGTH + 1)
    while True:
        middle = [secrets.choice(UPPER), secrets.choice(LOWER), secrets.choice(DIGITS)]
        middle.append(secrets.choice(SYMBOLS))
        middle += [secrets.choice(ALPHANUMERIC + SYMBOLS) for _ in range(length - 6)]
        secrets.SystemRandom().shuffle(middle)
        password = secrets.choice(ALPHANUMERIC) + "".join(middle) + secrets.choice(ALPHANUMERIC)
        if not _has_triple(password):
            return password


def _has_triple(password: str) -> bool:
    # Some policies refuse three identical characters in a row.
    return any(a == b == c for a, b, c in zip(password, password[1:], password[2:], strict=False))
