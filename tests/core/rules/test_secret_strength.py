"""A key or secret a generator made is strong; one a person made up is refused, with why."""

from __future__ import annotations

import secrets

import pytest

from core.rules.secret_strength import secret_weakness
from tests.conftest import TEST_SECRET_KEY

GENERATORS = {
    "token_urlsafe(48)": lambda: secrets.token_urlsafe(48),
    "token_urlsafe(24)": lambda: secrets.token_urlsafe(24),  # 32 characters, the least
    "token_hex(16)": lambda: secrets.token_hex(16),  # openssl rand -hex 16; a LINE secret
    "token_hex(32)": lambda: secrets.token_hex(32),
}


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_keys_a_generator_makes_are_strong(make: object) -> None:
    assert callable(make)
    weak = [key for key in (make() for _ in range(500)) if secret_weakness(key) is not None]
    assert weak == []


def test_the_suites_own_key_is_strong() -> None:
    assert secret_weakness(TEST_SECRET_KEY) is None


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("a" * 32, "repeats"),
        (" " * 32, "repeats"),
        ("password" * 4, "repeats"),
        ("0123456789" * 4, "repeats"),
        ("a" * 25 + "bcdefgh", "repeats"),
        ("81297244681336251934607384802184", "too little variety"),  # 32 random digits
        ("abcdefghijklmnopqrstuvwxyz012345", "in sequence"),
        ("zyxwvutsrqponmlkjihgfedcba987654", "in sequence"),
        ("Zq8vK3wX1WG-r20i3cPJy699S3Mi9h8", "31 of the 32 characters"),
    ],
    ids=[
        "a x 32",
        "spaces",
        "password x 4",
        "digits x 4",
        "runs of one",
        "32 digits",
        "abc",
        "zyx",
        "31",
    ],
)
def test_a_made_up_secret_is_refused_with_the_reason(secret: str, reason: str) -> None:
    weakness = secret_weakness(secret)
    assert weakness is not None
    assert reason in weakness
    assert secret[:8] not in weakness  # never quoted back, not even in part


def test_digits_alone_are_strong_enough_from_39_on() -> None:
    assert secret_weakness("8129724468133625193460738480218463910") is not None  # 37
    assert secret_weakness("812972446813362519346073848021846391057") is None  # 39


def test_the_least_length_can_be_raised() -> None:
    assert "of the 64 characters" in (secret_weakness(secrets.token_hex(16), min_length=64) or "")
