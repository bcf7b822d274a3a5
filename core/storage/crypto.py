"""Encryption of personal data at rest (AES-256-GCM) and keyed national-ID digests.

Every key is derived (HKDF) from a secret key for one purpose only: encryption, the
national-ID digest, media links, the audit chain (core.audit.chain). Each secret has a key
version, the first byte of every token it encrypts; older secrets (BMABOT_OLD_SECRET_KEYS)
are kept read-only until `bmabot keys rotate` has moved everything to the current one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.storage.entropy import random_bytes

MIN_SECRET_LENGTH = 32
KEY_VERSION = 1  # the version of a secret when no other is set (BMABOT_KEY_VERSION)
NONCE_SIZE = 12
TOKEN_OVERHEAD = 1 + NONCE_SIZE + 16  # version byte, nonce, GCM tag
NATIONAL_ID = re.compile(r"[0-9]{13}")  # ASCII only: normalise Thai digits before

# The HKDF "info" of each purpose: a key derived for one is useless for another.
ENCRYPTION = b"bmabot aes-256-gcm v1"
NATIONAL_ID_DIGEST = b"bmabot national-id hmac-sha256 v1"
MEDIA_LINKS = b"bmabot media links v2"
MOBILE_CODES = b"bmabot mobile codes hmac-sha256 v1"  # one-time codes and their numbers


class VaultError(Exception):
    """A token was tampered with, moved to another context, or made with another key."""


@dataclass(frozen=True, slots=True, repr=False)
class SecretKeys:
    """The current secret and its version, and older secrets by version (read-only)."""

    current: str
    version: int = KEY_VERSION
    old: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.version <= 255 or not all(1 <= v <= 255 for v in self.old):
            raise ValueError("a key version is a whole number from 1 to 255")
        if self.version in self.old:
            raise ValueError(f"key version {self.version} is the current key's: give old keys")
        for secret in (self.current, *self.old.values()):
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(f"the secret key needs at least {MIN_SECRET_LENGTH} characters")

    def __repr__(self) -> str:
        return f"SecretKeys(version={self.version}, old={sorted(self.old)})"

    def derive(self, purpose: bytes) -> dict[int, bytes]:
        """This purpose's key under every version, the current one first."""
        secrets = {self.version: self.current, **self.old}
        return {
            version: _derive(secret.encode("utf-8"), purpose)
            for version, secret in secrets.items()
        }


class Vault:
    """Encrypts under the current key version; decrypts under any version it holds."""

    __slots__ = ("_ciphers", "_digest_keys", "_mobile_code_key", "version")

    def __init__(self, secret_key: str | SecretKeys) -> None:
        keys = secret_key if isinstance(secret_key, SecretKeys) else SecretKeys(secret_key)
        self.version = keys.version
        self._ciphers = {v: AESGCM(key) for v, key in keys.derive(ENCRYPTION).items()}
        self._digest_keys = keys.derive(NATIONAL_ID_DIGEST)
        self._mobile_code_key = keys.derive(MOBILE_CODES)[self.version]

    def __repr__(self) -> str:
        return f"Vault(<secret>, version={self.version})"

    @property
    def old_versions(self) -> tuple[int, ...]:
        return tuple(v for v in self._ciphers if v != self.version)

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        """version byte + 12-byte random nonce + ciphertext and tag, bound to context."""
        nonce = random_bytes(NONCE_SIZE)
        cipher = self._ciphers[self.version]
        sealed = cipher.encrypt(nonce, plaintext, _associated_data(self.version, context))
        return bytes([self.version]) + nonce + sealed

    def decrypt(self, token: bytes, *, context: str) -> bytes:
        if len(token) < TOKEN_OVERHEAD:
            raise VaultError("token too short")
        version, nonce, sealed = token[0], token[1 : 1 + NONCE_SIZE], token[1 + NONCE_SIZE :]
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise VaultError(f"unknown key version {version}")
        try:
            return cipher.decrypt(nonce, sealed, _associated_data(version, context))
        except InvalidTag:
            raise VaultError("token does not decrypt: tampered, wrong key or context") from None

    def reencrypt(self, token: bytes, *, context: str) -> bytes | None:
        """The token under the current key version, or None when it is under it already."""
        if token[:1] == bytes([self.version]):
            return None
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def encrypt_json(self, obj: Any, *, context: str) -> bytes:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return self.encrypt(text.encode("utf-8"), context=context)

    def decrypt_json(self, token: bytes, *, context: str) -> Any:
        return json.loads(self.decrypt(token, context=context))

    def national_id_digest(self, national_id: str) -> str:
        """Keyed HMAC-SHA256 (hex): a plain hash of 13 digits is reversible by brute force."""
        return self._digest(self._digest_keys[self.version], national_id)

    def national_id_digests(self, national_id: str) -> list[str]:
        """Under the current key, then the old ones: what to look a national ID up by while a
        rotation has not reached every row (entries marked before it hold an old one)."""
        return [self.national_id_digest(national_id), *self.old_national_id_digests(national_id)]

    def old_national_id_digests(self, national_id: str) -> list[str]:
        """The digests under the old keys: rows a rotation has not reached yet hold these."""
        return [self._digest(self._digest_keys[v], national_id) for v in self.old_versions]

    def mobile_code_digest(self, *parts: str) -> str:
        """Keyed HMAC-SHA256 (hex) of a mobile number, or of a one-time code bound to one.

        Under the current key only: a code lives ten minutes, a lock one hour.
        """
        message = "\0".join(parts).encode("utf-8")
        return hmac.new(self._mobile_code_key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _digest(key: bytes, national_id: str) -> str:
        if not NATIONAL_ID.fullmatch(national_id):
            raise ValueError("a national ID is 13 ASCII digits (normalise it first)")
        return hmac.new(key, national_id.encode("ascii"), hashlib.sha256).hexdigest()


def token_version(token: bytes) -> int | None:
    """The key version a token was made under (None: too short to be one)."""
    return token[0] if len(token) >= TOKEN_OVERHEAD else None


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(master)


def _associated_data(version: int, context: str) -> bytes:
    return bytes([version]) + context.encode("utf-8")
