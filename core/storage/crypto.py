"""Encryption of personal data at rest (AES-256-GCM) and keyed national-ID digests."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_LENGTH = 32
KEY_VERSION = 1  # first byte of every token; a new secret later gets a new version
NONCE_SIZE = 12
NATIONAL_ID = re.compile(r"[0-9]{13}")  # ASCII only: normalise Thai digits before


class VaultError(Exception):
    """A token was tampered with, moved to another context, or made with another key."""


class Vault:
    """Keys derived from the one secret key: encryption and digests never share a key."""

    __slots__ = ("_ciphers", "_digest_key")

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"the secret key needs at least {MIN_SECRET_LENGTH} characters")
        master = secret_key.encode("utf-8")
        self._ciphers = {KEY_VERSION: AESGCM(_derive(master, b"bmabot aes-256-gcm v1"))}
        self._digest_key = _derive(master, b"bmabot national-id hmac-sha256 v1")

    def __repr__(self) -> str:
        return "Vault(<secret>)"

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        """version byte + 12-byte random nonce + ciphertext and tag, bound to context."""
        nonce = os.urandom(NONCE_SIZE)
        cipher = self._ciphers[KEY_VERSION]
        sealed = cipher.encrypt(nonce, plaintext, _associated_data(KEY_VERSION, context))
        return bytes([KEY_VERSION]) + nonce + sealed

    def decrypt(self, token: bytes, *, context: str) -> bytes:
        if len(token) < 1 + NONCE_SIZE + 16:
            raise VaultError("token too short")
        version, nonce, sealed = token[0], token[1 : 1 + NONCE_SIZE], token[1 + NONCE_SIZE :]
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise VaultError(f"unknown key version {version}")
        try:
            return cipher.decrypt(nonce, sealed, _associated_data(version, context))
        except InvalidTag:
            raise VaultError("token does not decrypt: tampered, wrong key or context") from None

    def encrypt_json(self, obj: Any, *, context: str) -> bytes:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return self.encrypt(text.encode("utf-8"), context=context)

    def decrypt_json(self, token: bytes, *, context: str) -> Any:
        return json.loads(self.decrypt(token, context=context))

    def national_id_digest(self, national_id: str) -> str:
        """Keyed HMAC-SHA256 (hex): a plain hash of 13 digits is reversible by brute force."""
        if not NATIONAL_ID.fullmatch(national_id):
            raise ValueError("a national ID is 13 ASCII digits (normalise it first)")
        return hmac.new(self._digest_key, national_id.encode("ascii"), hashlib.sha256).hexdigest()


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(master)


def _associated_data(version: int, context: str) -> bytes:
    return bytes([version]) + context.encode("utf-8")
