"""Temporary passwords for new accounts: strong, easy to type from an SMS, never stored."""

from __future__ import annotations

import secrets
import string

# No look-alikes: 0/O/o, 1/l/I/i. Groups of three joined by "-", the one sign on every
# phone keyboard's first page: "Kp7-Tm4-Wq9-Rx2" is read and typed from an SMS without doubt.
UPPER = "".join(c for c in string.ascii_uppercase if c not in "IO")
LOWER = "".join(c for c in string.ascii_lowercase if c not in "ilo")
DIGITS = "23456789"
SYMBOLS = "-"
ALPHANUMERIC = UPPER + LOWER + DIGITS
GROUPS, GROUP_SIZE = 4, 3  # 12 characters of 55: about 69 bits
MIN_LENGTH = MAX_LENGTH = GROUPS * GROUP_SIZE + GROUPS - 1


def generate_temporary_password() -> str:
    """Four groups of three letters and digits joined by "-", with an upper-case letter, a
    lower-case letter and a digit somewhere: every class a usual policy asks for, the "-"
    included, and no character three times in a row."""
    while True:
        chosen = [secrets.choice(UPPER), secrets.choice(LOWER), secrets.choice(DIGITS)]
        chosen += [secrets.choice(ALPHANUMERIC) for _ in range(GROUPS * GROUP_SIZE - 3)]
        secrets.SystemRandom().shuffle(chosen)
        groups = ["".join(chosen[i : i + GROUP_SIZE]) for i in range(0, len(chosen), GROUP_SIZE)]
        password = SYMBOLS.join(groups)
        if not _has_triple(password):
            return password


def _has_triple(password: str) -> bool:
    # Some policies refuse three identical characters in a row.
    return any(a == b == c for a, b, c in zip(password, password[1:], password[2:], strict=False))
