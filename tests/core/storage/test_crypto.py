"""The vault: AES-256-GCM tokens bound to a context, keyed national-ID digests."""

from __future__ import annotations

import hashlib

import pytest

from core.storage.crypto import (
    ENCRYPTION,
    MEDIA_LINKS,
    NATIONAL_ID_DIGEST,
    SecretKeys,
    Vault,
    VaultError,
)
from tests.conftest import TEST_SECRET_KEY

NATIONAL_ID = "1103700123458"
OTHER_KEY = "another-secret-key-for-the-suite-only-9876543210"


def test_decrypts_what_it_encrypted(vault: Vault) -> None:
    token = vault.encrypt(b"secret answer", context="conversation:line:U1")

    assert vault.decrypt(token, context="conversation:line:U1") == b"secret answer"


def test_ciphertext_does_not_contain_the_plaintext(vault: Vault) -> None:
    token = vault.encrypt(NATIONAL_ID.encode(), context="c")

    assert NATIONAL_ID.encode() not in token


def test_token_is_key_version_then_random_nonce_then_ciphertext(vault: Vault) -> None:
    first = vault.encrypt(b"same", context="c")
    second = vault.encrypt(b"same", context="c")

    assert first[0] == second[0] == 1
    assert first[1:13] != second[1:13]
    assert len(first) == 1 + 12 + len(b"same") + 16


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_refuses_a_tampered_token(vault: Vault, position: int) -> None:
    token = bytearray(vault.encrypt(b"secret answer", context="c"))
    token[position] ^= 0x01

    with pytest.raises(VaultError):
        vault.decrypt(bytes(token), context="c")


def test_refuses_a_truncated_token(vault: Vault) -> None:
    with pytest.raises(VaultError):
        vault.decrypt(vault.encrypt(b"", context="c")[:20], context="c")


def test_refuses_a_token_moved_to_another_context(vault: Vault) -> None:
    token = vault.encrypt(b"secret answer", context="conversation:line:U1")

    with pytest.raises(VaultError):
        vault.decrypt(token, context="conversation:line:U2")


def test_refuses_a_token_made_with_another_key(vault: Vault) -> None:
    token = Vault(OTHER_KEY).encrypt(b"secret answer", context="c")

    with pytest.raises(VaultError):
        vault.decrypt(token, context="c")


def test_round_trips_json_with_thai_text(vault: Vault) -> None:
    state = {"step": "ask_mobile", "first_name_th": "สมศักดิ์", "national_id": NATIONAL_ID}

    token = vault.encrypt_json(state, context="c")

    assert vault.decrypt_json(token, context="c") == state


def test_national_id_digest_is_stable_hex_sha256_size(vault: Vault) -> None:
    digest = vault.national_id_digest(NATIONAL_ID)

    assert digest == vault.national_id_digest(NATIONAL_ID)
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_national_id_digest_is_keyed(vault: Vault) -> None:
    assert vault.national_id_digest(NATIONAL_ID) != Vault(OTHER_KEY).national_id_digest(
        NATIONAL_ID
    )


def test_national_id_digest_is_not_a_plain_sha256(vault: Vault) -> None:
    plain = hashlib.sha256(NATIONAL_ID.encode()).hexdigest()

    assert vault.national_id_digest(NATIONAL_ID) != plain


@pytest.mark.parametrize("text", ["๑๑๐๓๗๐๐๑๒๓๔๕๘", "1-1037-00123-45-8", "110370012345", ""])
def test_national_id_digest_needs_13_ascii_digits(vault: Vault, text: str) -> None:
    with pytest.raises(ValueError, match="13 ASCII digits"):
        vault.national_id_digest(text)


def test_refuses_a_secret_key_shorter_than_32_characters() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Vault("x" * 31)


def test_does_not_show_its_key_in_repr(vault: Vault) -> None:
    assert "test-secret" not in repr(vault)


def test_a_new_key_version_encrypts_and_the_old_key_only_decrypts(vault: Vault) -> None:
    old_token = vault.encrypt(b"before", context="c")
    rotated = Vault(SecretKeys(OTHER_KEY, 2, {1: TEST_SECRET_KEY}))

    new_token = rotated.encrypt(b"after", context="c")

    assert (old_token[0], new_token[0]) == (1, 2)
    assert rotated.decrypt(old_token, context="c") == b"before"
    assert rotated.reencrypt(new_token, context="c") is None  # under the current one already
    moved = rotated.reencrypt(old_token, context="c")
    assert moved is not None
    assert moved[0] == 2
    assert Vault(SecretKeys(OTHER_KEY, 2)).decrypt(moved, context="c") == b"before"
    with pytest.raises(VaultError, match="unknown key version 1"):
        Vault(SecretKeys(OTHER_KEY, 2)).decrypt(old_token, context="c")


def test_each_key_version_has_its_own_digest_key(vault: Vault) -> None:
    rotated = Vault(SecretKeys(OTHER_KEY, 2, {1: TEST_SECRET_KEY}))

    assert rotated.national_id_digest(NATIONAL_ID) != vault.national_id_digest(NATIONAL_ID)
    assert rotated.old_national_id_digests(NATIONAL_ID) == [vault.national_id_digest(NATIONAL_ID)]


def test_purposes_never_share_a_key() -> None:
    keys = SecretKeys(TEST_SECRET_KEY)
    derived = {
        purpose: keys.derive(purpose)[1]
        for purpose in (ENCRYPTION, NATIONAL_ID_DIGEST, MEDIA_LINKS)
    }
    assert len(set(derived.values())) == 3


@pytest.mark.parametrize(
    ("version", "old", "problem"),
    [
        (0, {}, "from 1 to 255"),
        (2, {2: OTHER_KEY}, "is the current key's"),
        (2, {1: "short"}, "at least 32"),
    ],
)
def test_key_versions_are_checked(version: int, old: dict[int, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SecretKeys(TEST_SECRET_KEY, version, old)


def test_secret_keys_never_show_a_key() -> None:
    assert TEST_SECRET_KEY not in repr(SecretKeys(OTHER_KEY, 2, {1: TEST_SECRET_KEY}))
