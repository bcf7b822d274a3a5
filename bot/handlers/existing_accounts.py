"""Rule 2.1 against the directory: does an account already carry this person's ID digest?

Accounts the bot made carry it from their creation, accounts made before the bot once
`bmabot directory import-roster` has marked them. Asked at the national-ID step, at
submission, on the reviewer's card, at approval and before the account is made.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.directory.port import Directory, DirectoryError, DirectoryUnavailableError

logger = logging.getLogger(__name__)


async def has_account(directory: Directory | None, digests: Sequence[str]) -> bool | None:
    """True when an entry carries one of the digests; None when the directory could not be
    asked (the account job asks on its own: it must tell its own entry from another's)."""
    if directory is None or not digests:
        return None
    try:
        found = await directory.find_by_national_id_digest(digests)
    except (DirectoryUnavailableError, DirectoryError) as error:
        logger.warning("existing-account check not made: %s", type(error).__name__)
        return None
    return found is not None
