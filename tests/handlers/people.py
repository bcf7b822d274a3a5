"""A small directory of BMA people and a unit mailbox, for the requests that name them."""

from __future__ import annotations

from dataclasses import replace

from core.directory import AccountRequest, Directory
from core.models import ApplicationKind

SOMCHAI = AccountRequest(
    application_reference="A68-00001",
    kind=ApplicationKind.STAFF,
    first_name_en="Somchai",
    last_name_en="Jaidee",
    first_name_th="สมชาย",
    last_name_th="ใจดี",
    display_name_th="นายสมชาย ใจดี",
    mobile_e164="+66812345678",
    position="นักวิชาการคอมพิวเตอร์",
    unit="สำนักงานเขตบางรัก",
)
MALEE = replace(
    SOMCHAI,
    application_reference="A68-00002",
    first_name_en="Malee",
    last_name_en="Srisuk",
    first_name_th="มาลี",
    last_name_th="ศรีสุข",
    display_name_th="นางสาวมาลี ศรีสุข",
    mobile_e164="+66898765432",
)
KANDA = replace(  # a contract employee: may not answer for a unit mailbox
    SOMCHAI,
    application_reference="A68-00003",
    kind=ApplicationKind.CONTRACT,
    first_name_en="Kanda",
    last_name_en="Phet",
    first_name_th="กานดา",
    last_name_th="เพชร",
    display_name_th="นางกานดา เพชร",
)
MAILBOX = replace(
    SOMCHAI,
    application_reference="A68-00004",
    kind=ApplicationKind.AGENCY,
    mailbox_name="bangrak.registration",
    responsible_uid="somchai.j",
)


async def seed(directory: Directory) -> Directory:
    """somchai.j and malee.s (staff), kanda.p (contract), bangrak.registration (somchai.j's)."""
    for person in (SOMCHAI, MALEE, KANDA, MAILBOX):
        await directory.create_account(person)
    return directory
