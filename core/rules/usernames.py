"""Directory names people type: an existing user name, a wanted unit mailbox name."""

from __future__ import annotations

import re

USER_NAME = re.compile(r"[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*", re.ASCII)
RESERVED = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "postmaster",
        "abuse",
        "webmaster",
        "hostmaster",
        "noreply",
        "no-reply",
        "support",
        "security",
        "info",
        "mail",
        "bma",
        "bangkok",
    }
)


def parse_user_name(text: str, *, mail_domain: str = "bangkok.go.th") -> str | None:
    """'Somchai.J', 'somchai.j@bangkok.go.th' -> 'somchai.j'; None when it cannot be one."""
    name = text.strip().lower()
    suffix = "@" + mail_domain
    if name.endswith(suffix):
        name = name[: -len(suffix)]
    if not 2 <= len(name) <= 32 or not USER_NAME.fullmatch(name):
        return None
    return name


def parse_mailbox_name(text: str, *, mail_domain: str = "bangkok.go.th") -> str | None:
    """A wanted unit mailbox: a user name of at least 3 characters that is not reserved."""
    name = parse_user_name(text, mail_domain=mail_domain)
    if name is None or len(name) < 3 or name in RESERVED:
        return None
    return name
