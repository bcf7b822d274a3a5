"""A small directory of BMA people and a unit mailbox, for the requests that name them."""

from __future__ import annotations

from dataclasses import replace

from core.directory.port import Directory
from core.storage.models import ApplicationKind
from tests.core.directory.test_directory_contract import MALEE, SOMCHAI, UNIT_MAILBOX

KANDA = replace(  # a contract employee: may not answer for a unit mailbox
    SOMCHAI,
    application_reference="A69-00045",
    kind=ApplicationKind.CONTRACT,
    first_name_en="Kanda",
    last_name_en="Phet",
    first_name_th="กานดา",
    last_name_th="เพชร",
    display_name_th="นางกานดา เพชร",
)
MAILBOX = replace(UNIT_MAILBOX, mailbox_name="bangrak.registration")


async def seed(directory: Directory) -> Directory:
    """somchai.j and malee.s (staff), kanda.p (contract), bangrak.registration (somchai.j's)."""
    for person in (SOMCHAI, MALEE, KANDA, MAILBOX):
        await directory.create_account(person)
    return directory
