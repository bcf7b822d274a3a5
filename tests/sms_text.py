"""The user name and temporary password in a credential SMS, read as the catalog writes it."""

from __future__ import annotations

import re

from bot.catalog import Catalog

TEMPLATE = Catalog.load().messages["account.sms_credentials"]
CREDENTIALS = re.compile(
    re.escape(TEMPLATE)
    .replace(re.escape("{user_name}"), r"(?P<user_name>\S+)")
    .replace(re.escape("{password}"), r"(?P<password>\S+)")
)


def credentials(message: str) -> tuple[str, str]:
    """(user name, password) of a credential SMS; AssertionError for any other message."""
    found = CREDENTIALS.fullmatch(message)
    assert found is not None, "not a credential SMS"
    return found["user_name"], found["password"]
