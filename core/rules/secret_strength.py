"""Whether a key or secret typed into the settings is too weak to protect anything.

A key that a generator made (`secrets.token_urlsafe`, `openssl rand -hex`) passes every
check; what a person makes up ("a" x 32, 32 digits, "password" x 4, spaces) does not.
"""

from __future__ import annotations

import itertools
import math
import string

MIN_LENGTH = 32  # characters: our own key, and what a LINE channel secret has
MIN_BITS = 128  # a guess needs at least 2**128 tries
PIECE = 3  # characters: pieces that come back make a key guessable
MAX_REPEATED_PIECES = 0.25  # of the key's pieces of PIECE characters
MAX_STEPS_IN_SEQUENCE = 0.5  # of its neighbouring pairs: "ab", "ba", "12", "98", ...
ALPHABETS = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
OTHER_CHARACTERS = 33  # printable ASCII that is not a letter or a digit, space included


def secret_weakness(secret: str, *, min_length: int = MIN_LENGTH) -> str | None:
    """What makes this secret weak, in words for the operator; None when it is strong.

    The words never quote the secret.
    """
    if len(secret) < min_length:
        return f"it has {len(secret)} of the {min_length} characters needed"
    if _repeated_pieces(secret) > MAX_REPEATED_PIECES:
        return "it repeats characters or pieces (such as aaaa… or abcabc…)"
    if _steps_in_sequence(secret) > MAX_STEPS_IN_SEQUENCE:
        return "it runs in sequence (such as abcd… or 1234…)"
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        return (
            f"too little variety: about {bits:.0f} bits where {MIN_BITS} are needed "
            "(digits alone need 39 characters; mix letters and digits)"
        )
    return None


def estimated_bits(secret: str) -> float:
    """The bits of a random secret of this length drawn from the kinds of characters it uses."""
    pool = sum(len(alphabet) for alphabet in ALPHABETS if set(secret) & set(alphabet))
    if any(not _in_alphabets(character) for character in secret):
        pool += OTHER_CHARACTERS
    return len(secret) * math.log2(max(pool, 2))


def _in_alphabets(character: str) -> bool:
    return any(character in alphabet for alphabet in ALPHABETS)


def _repeated_pieces(secret: str) -> float:
    """The share of the secret's pieces of PIECE characters that came before in it."""
    pieces = [secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)]
    return 1 - len(set(pieces)) / len(pieces) if pieces else 0.0


def _steps_in_sequence(secret: str) -> float:
    """The share of neighbouring pairs that step by one (ab, 98); repeats are pieces."""
    pairs = list(itertools.pairwise(secret))
    steps = sum(1 for a, b in pairs if abs(ord(a) - ord(b)) == 1)
    return steps / len(pairs) if pairs else 0.0
