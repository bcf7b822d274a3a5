"""The composition root for every entry point: settings in, ready services out."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.handlers.conversation import Services
from core.clock import Clock, SystemClock
from core.crypto import Vault
from core.db import make_engine, make_sessions, upgrade_database_async
from core.documents import DocumentStore
from core.organisation import Organisation
from core.settings import Settings, require_secret_key


def local_secret_key(settings: Settings) -> str:
    """For trying bmabot on a laptop: a key made once and kept beside the local data."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    key_file = Path(settings.data_dir) / "secret.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


@asynccontextmanager
async def open_services(
    settings: Settings, *, secret_key: str | None = None, clock: Clock | None = None
) -> AsyncIterator[Services]:
    """Migrate the database, then build every service; the engine is closed on the way out."""
    key = secret_key or require_secret_key(settings)
    await upgrade_database_async(settings.database_url)
    engine = make_engine(settings.database_url)
    vault = Vault(key)
    org = Organisation.load(settings.org_file)
    try:
        yield Services(
            sessions=make_sessions(engine),
            vault=vault,
            documents=DocumentStore(Path(settings.data_dir), vault),
            clock=clock or SystemClock(),
            dialogue=apply_dialogue(org),
            catalog=Catalog.load(),
        )
    finally:
        await engine.dispose()
