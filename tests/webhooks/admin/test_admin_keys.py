"""`bmabot keys rotate` with 100 stored requests (photos included): all readable afterwards,
none under the old key version, duplicates still caught, and the old key can then go."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.requests.applications import AlreadyActive, ApplicationForm, submit_application
from core.storage.crypto import SecretKeys, Vault
from core.storage.documents import DocumentStore
from core.storage.models import Document
from tests.conftest import TEST_SECRET_KEY
from tests.webhooks.admin_world import SOMCHAI_FORM, Sessions, admin, bmabot, id_card_photo, submit

__all__ = ["admin"]

NEW_KEY = "the-new-secret-key-of-the-rotation-0123456789abcdef"
REQUESTS = 100


def national_id(number: int) -> str:
    first12 = f"3{number:011d}"
    total = sum(int(digit) * (13 - i) for i, digit in enumerate(first12))
    return first12 + str((11 - total % 11) % 10)


@pytest.fixture
async def stored(admin: Path, sessions: Sessions, vault: Vault, clock: ManualClock) -> list[str]:
    """REQUESTS requests under the key in use so far (version 1), each with its ID photo."""
    references = []
    for number in range(REQUESTS):
        user = f"U{number}"
        photo = await id_card_photo(sessions, vault, clock, admin, user_id=user)
        submitted = await submit(
            sessions,
            vault,
            clock,
            national_id=national_id(number),
            user_id=user,
            documents={"id_card": photo},
        )
        references.append(submitted.reference)
    return references


def new_key(monkeypatch: pytest.MonkeyPatch, *, keep_old: bool) -> None:
    """The operator's steps: the new key as version 2, the old one kept read-only (or gone)."""
    monkeypatch.setenv("BMABOT_SECRET_KEY", NEW_KEY)
    monkeypatch.setenv("BMABOT_KEY_VERSION", "2")
    if keep_old:
        monkeypatch.setenv("BMABOT_OLD_SECRET_KEYS", f"1:{TEST_SECRET_KEY}")
    else:
        monkeypatch.delenv("BMABOT_OLD_SECRET_KEYS", raising=False)


async def test_rotate_moves_everything_and_the_old_key_can_go(
    admin: Path,
    stored: list[str],
    sessions: Sessions,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new_key(monkeypatch, keep_old=True)
    assert await bmabot("keys", "status") == 0
    before = capsys.readouterr().out
    assert "national_ids   version 1: 100" in before
    assert "200 item(s) under other versions than 2; run `bmabot keys rotate`" in before

    assert await bmabot("keys", "rotate") == 0

    said = capsys.readouterr().out
    assert "national_ids       100 re-encrypted,       0 under version 2 already" in said
    assert "documents          100 re-encrypted,       0 under version 2 already" in said
    assert "audit trail: checked, 100 row(s) sealed again" in said
    assert said.rstrip().endswith("BMABOT_OLD_SECRET_KEYS may now be removed")

    new_key(monkeypatch, keep_old=False)
    assert await bmabot("keys", "status") == 0
    status = capsys.readouterr().out
    assert "national_ids   version 2: 100" in status
    assert "documents      version 2: 100" in status
    assert status.rstrip().endswith("0 item(s) under other versions than 2")
    assert await bmabot("audit", "verify") == 0
    assert capsys.readouterr().out.startswith("audit trail intact: 101 row(s) checked")
    assert await bmabot("applications", "show", stored[42]) == 0
    assert "x-xxxx-xxxxx-" in capsys.readouterr().out  # the national ID decrypts (masked)

    after = Vault(SecretKeys(NEW_KEY, 2))
    store = DocumentStore(admin, after)
    async with sessions() as session:
        names = (await session.scalars(select(Document.storage_name))).all()
    assert len(names) == REQUESTS
    assert all(store.read(name).startswith(b"\xff\xd8") for name in names)
    form = ApplicationForm("staff", SOMCHAI_FORM, national_id(42), {})
    async with sessions.begin() as session:
        again = await submit_application(
            session, after, channel="line", user_id="someone-else", form=form, now=clock.now()
        )
    assert isinstance(again, AlreadyActive)


async def test_without_the_old_key_rotate_names_what_it_cannot_read(
    admin: Path,
    stored: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new_key(monkeypatch, keep_old=False)

    assert await bmabot("keys", "rotate") == 1

    said = capsys.readouterr().out
    assert "decrypt under no key given" in said
    assert "national_ids 1" in said


async def test_old_keys_are_checked_at_start(
    admin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BMABOT_OLD_SECRET_KEYS", "the-old-key-without-its-version-0123456789")
    assert await bmabot("keys", "status") == 2
    err = capsys.readouterr().err
    assert "BMABOT_OLD_SECRET_KEYS: a comma list of version:key" in err
    assert "the-old-key" not in err

    monkeypatch.setenv("BMABOT_OLD_SECRET_KEYS", f"1:{NEW_KEY}")  # version 1 is the current one
    assert await bmabot("keys", "status") == 2
    assert "key version 1 is the current key's" in capsys.readouterr().err
