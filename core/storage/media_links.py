"""Signed, expiring links to document images: GET /media/{token}, never a guessable path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta

LINK_LIFETIME = timedelta(days=3)  # a reviewer may open a card a few days later
_LAYOUT = struct.Struct(">QQ")  # document id, expiry (unix seconds)
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class MediaLinks:
    """Makes and checks the tokens; the key is derived for this purpose only."""

    key: bytes
    public_url: str

    @classmethod
    def from_secret(cls, secret_key: str, public_url: str) -> MediaLinks:
        key = hmac.new(secret_key.encode(), b"bmabot media links v1", hashlib.sha256).digest()
        return cls(key, public_url.rstrip("/"))

    def url(self, document_id: int, now: datetime, *, preview: bool = False) -> str:
        token = self.token(document_id, now + LINK_LIFETIME)
        return f"{self.public_url}/media/{token}" + ("?preview=1" if preview else "")

    def token(self, document_id: int, expires: datetime) -> str:
        body = _LAYOUT.pack(document_id, int(expires.timestamp()))
        mac = hmac.new(self.key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    def document_of(self, token: str, now: datetime) -> int | None:
        """The document a token opens, or None when it is forged, malformed or expired."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) != _LAYOUT.size + _MAC_BYTES:
            return None
        body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        expected = hmac.new(self.key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        if not hmac.compare_digest(mac, expected):
            return None
        document_id, expires = _LAYOUT.unpack(body)
        return int(document_id) if now.timestamp() < expires else None
