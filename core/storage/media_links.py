"""Signed, expiring links to document images: GET /media/{token}, never a guessable path.

A token names the document, when the link stops opening it (the review window,
BMABOT_MEDIA_LINK_HOURS) and to whom it was issued (a reviewer, or a review group), so each
view is audited with that name. It is signed with a key derived for media links only,
under the key version of the secret (a rotation ends the links of the old key with it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.storage.crypto import MEDIA_LINKS, SecretKeys

LINK_LIFETIME = timedelta(hours=24)  # the review window: BMABOT_MEDIA_LINK_HOURS
_LAYOUT = struct.Struct(">BQQ")  # key version, document id, expiry (unix seconds)
_MAC_BYTES = 16
MAX_ISSUED_TO = 120  # bytes: "line:U<32 hex>", "telegram:group:-100…"


class Refused(StrEnum):
    """Why a token opens nothing."""

    FORGED = "forged"  # malformed, another key, or changed
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Link:
    """What a genuine, unexpired token says."""

    document_id: int
    issued_to: str
    expires: datetime


@dataclass(frozen=True, slots=True)
class MediaLinks:
    """Makes and checks the tokens; the keys (by version) are derived for this purpose only."""

    keys: Mapping[int, bytes]
    version: int  # signs new tokens; the others only check
    public_url: str
    lifetime: timedelta = LINK_LIFETIME

    @classmethod
    def from_secret(
        cls,
        secret_key: str | SecretKeys,
        public_url: str,
        lifetime: timedelta = LINK_LIFETIME,
    ) -> MediaLinks:
        keys = secret_key if isinstance(secret_key, SecretKeys) else SecretKeys(secret_key)
        return cls(keys.derive(MEDIA_LINKS), keys.version, public_url.rstrip("/"), lifetime)

    def url(
        self, document_id: int, now: datetime, *, issued_to: str, preview: bool = False
    ) -> str:
        token = self.token(document_id, now + self.lifetime, issued_to)
        return f"{self.public_url}/media/{token}" + ("?preview=1" if preview else "")

    def token(self, document_id: int, expires: datetime, issued_to: str) -> str:
        whom = issued_to.encode("utf-8")
        if not 0 < len(whom) <= MAX_ISSUED_TO:
            raise ValueError(f"a link is issued to someone: 1-{MAX_ISSUED_TO} bytes")
        body = _LAYOUT.pack(self.version, document_id, int(expires.timestamp())) + whom
        return _encode(body + self._mac(self.keys[self.version], body))

    def check(self, token: str, now: datetime) -> Link | Refused:
        """The document a token opens and to whom it was issued, or why it opens nothing."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return Refused.FORGED
        if len(raw) <= _LAYOUT.size + _MAC_BYTES:
            return Refused.FORGED
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        version, document_id, expires = _LAYOUT.unpack(body[: _LAYOUT.size])
        key = self.keys.get(version)
        if key is None or not hmac.compare_digest(mac, self._mac(key, body)):
            return Refused.FORGED
        try:
            issued_to = body[_LAYOUT.size :].decode("utf-8")
        except UnicodeDecodeError:
            return Refused.FORGED
        if now.timestamp() >= expires:
            return Refused.EXPIRED
        return Link(int(document_id), issued_to, datetime.fromtimestamp(expires, now.tzinfo))

    def document_of(self, token: str, now: datetime) -> int | None:
        """The document a token opens, or None when it is forged, malformed or expired."""
        link = self.check(token, now)
        return link.document_id if isinstance(link, Link) else None

    @staticmethod
    def _mac(key: bytes, body: bytes) -> bytes:
        return hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
