"""The administration commands' world: settings in the environment, applications made for real.

Tests are async so that they can make and read data with the suite's sessions; `bmabot`
itself runs in a thread with its own event loop, exactly as `main()` runs it from a shell.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.requests.applications import ApplicationForm, Submitted, submit_application
from core.requests.decisions import decide
from core.storage.crypto import Vault
from core.storage.documents import DocumentStore, save_document
from core.storage.images import CheckedImage
from tests.conftest import TEST_SECRET_KEY
from webhooks.cli import main

Sessions = async_sessionmaker[AsyncSession]
SOMCHAI = "1103700123458"  # masked: x-xxxx-xxxxx-45-8
SOMSRI = "3100600987659"
SOMCHAI_FORM = {
    "unit": ["district-1004"],
    "unit_done": True,
    "unit_note": None,
    "position": "นักวิชาการคอมพิวเตอร์",
    "title_th": "นาย",
    "first_name_th": "สมชาย",
    "last_name_th": "ใจดี",
    "title_en": "Mr.",
    "first_name_en": "Somchai",
    "last_name_en": "Jaidee",
    "nationality": "ไทย",
    "mobile": "+66812345678",
    "email": "somchai.j@bangkok.go.th",
}
SOMSRI_FORM = {**SOMCHAI_FORM, "first_name_th": "สมศรี", "last_name_th": "รักดี"}
AGENCY_FORM = {
    "unit": ["district-1004"],
    "unit_done": True,
    "purpose": "ติดต่อประชาชน",
    "mailbox_name": "bangrak.registration",
    "responsible_username": "somchai.j",
    "title_th": "นาย",
    "first_name_th": "สมชาย",
    "last_name_th": "ใจดี",
    "position": "หัวหน้าฝ่ายทะเบียน",
    "mobile": "+66812345678",
    "email": "somchai.j@bangkok.go.th",
}


@pytest.fixture
def admin(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment `bmabot` reads, on the test database; the data folder is returned."""
    monkeypatch.setenv("BMABOT_DATABASE_URL", database_url)
    monkeypatch.setenv("BMABOT_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("BMABOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BMABOT_SMS_OUTBOX", str(tmp_path / "sms.jsonl"))
    monkeypatch.delenv("BMABOT_ORG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # no developer's .env; default output files land here
    return tmp_path / "data"


async def bmabot(*args: str) -> int:
    """Run the command line as a shell would: its own event loop, its exit code back."""
    return await asyncio.to_thread(main, list(args))


async def submit(
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    *,
    kind: str = "staff",
    fields: dict[str, Any] | None = None,
    national_id: str | None = SOMCHAI,
    user_id: str = "U1",
    documents: dict[str, int] | None = None,
) -> Submitted:
    form = ApplicationForm(
        kind, fields or SOMCHAI_FORM, None if kind == "agency" else national_id, documents or {}
    )
    async with sessions.begin() as session:
        result = await submit_application(
            session, vault, channel="line", user_id=user_id, form=form, now=clock.now()
        )
    assert isinstance(result, Submitted)
    return result


async def decide_now(
    sessions: Sessions, clock: ManualClock, application_id: int, outcome: str, **extra: Any
) -> None:
    async with sessions.begin() as session:
        await decide(
            session,
            application_id=application_id,
            outcome=outcome,
            reviewer="line:R1",
            now=clock.now(),
            **extra,
        )


async def id_card_photo(
    sessions: Sessions, vault: Vault, clock: ManualClock, data_dir: Path, user_id: str = "U1"
) -> int:
    """A stored draft photo of an ID card (any bytes will do: the store only encrypts)."""
    image = CheckedImage(b"\xff\xd8 not really a jpeg", "image/jpeg", 1200, 800)
    async with sessions.begin() as session:
        return await save_document(
            session,
            DocumentStore(data_dir, vault),
            channel="line",
            user_id=user_id,
            slot="id_card",
            image=image,
            now=clock.now(),
        )
