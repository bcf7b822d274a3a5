"""The security log: one structured line per security event, never personal data.

Every event goes to the ``bmabot.security`` logger as ``security event=<kind> key=value …``
so an operator can grep or ship it. Fields are short tokens (channels, outcomes, request
references, reviewer ids, counts, key versions); a value that looks like personal data (a
13-digit run, as a national ID or a phone number would make) or holds spaces or control
characters is refused with ValueError, so a careless caller fails in tests rather than
leaking into the log.
"""

from __future__ import annotations

import hashlib
import logging
import re
from enum import StrEnum

logger = logging.getLogger("bmabot.security")

TOKEN = re.compile(r"[A-Za-z0-9_.:@/+=-]{1,120}")  # no spaces, quotes or control characters
LONG_DIGIT_RUN = re.compile(r"[0-9]{9,}")  # a national ID (13) or a phone number (9-10)


class Event(StrEnum):
    """What happened; one member per kind of line in the security log."""

    SIGNATURE_REFUSED = "signature_refused"
    REVIEWER_REFUSED = "reviewer_refused"
    RATE_LIMITED = "rate_limited"
    DECISION = "decision"
    EXPORT = "export"
    PRIVACY_REQUEST = "privacy_request"
    KEY_ROTATION = "key_rotation"
    MEDIA_VIEW = "media_view"
    METRICS_REFUSED = "metrics_refused"
    ROSTER_IMPORT = "roster_import"
    MOBILE_LOCKED = "mobile_locked"  # too many wrong one-time codes for one number


def security_event(event: Event, /, level: int = logging.WARNING, **fields: object) -> None:
    """Log one line ``security event=<event> k=v …``; values must be short, non-personal."""
    parts = [f"event={event.value}"]
    for key, value in fields.items():
        text = str(value)
        if not TOKEN.fullmatch(text) or LONG_DIGIT_RUN.search(text):
            raise ValueError(f"security log field {key!r} is not a short non-personal token")
        parts.append(f"{key}={text}")
    logger.log(level, "security %s", " ".join(parts))


def loggable(value: str) -> str:
    """The value itself when the log takes it as a field; else "<prefix>:h-<8 hex>", a short
    fingerprint (Telegram ids are long digit runs, which the log refuses as possible
    personal data; an address may carry characters it does not take)."""
    if TOKEN.fullmatch(value) and not LONG_DIGIT_RUN.search(value):
        return value
    prefix = value.split(":", 1)[0]
    if not TOKEN.fullmatch(prefix) or LONG_DIGIT_RUN.search(prefix) or prefix == value:
        prefix = "?"
    return f"{prefix}:h-{hashlib.sha256(value.encode('utf-8')).hexdigest()[:8]}"
