"""The composition root for every entry point: settings in, ready services out."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.handlers.review_policy import ReviewPolicy
from bot.handlers.services import Services
from core.audit_chain import sign_with
from core.clock import Clock, SystemClock
from core.crypto import Vault
from core.db import make_engine, make_sessions, upgrade_database_async
from core.directory import Directory, MemoryDirectory
from core.documents import DocumentStore
from core.media_links import MediaLinks
from core.organisation import Organisation
from core.settings import Settings, SettingsError, require_secret_key

CONSOLE_REVIEW_CHAT = "review"  # where `bmabot chat --review` sits
INSTALLED_ORG_FILE = "org.yaml"  # in the data folder, put there by `bmabot org import`


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


def organisation_file(settings: Settings) -> Path | None:
    """BMABOT_ORG_FILE, else the tree `bmabot org import` installed, else None: the packaged."""
    if settings.org_file is not None:
        return settings.org_file
    installed = Path(settings.data_dir) / INSTALLED_ORG_FILE
    return installed if installed.exists() else None


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    secret_key: str | None = None,
    clock: Clock | None = None,
    directory: Directory | None = None,
    review_chats: Mapping[str, str] | None = None,
) -> AsyncIterator[Services]:
    """Migrate the database, then build every service; the engine is closed on the way out."""
    key = secret_key or require_secret_key(settings)
    await upgrade_database_async(settings.database_url)
    engine = make_engine(settings.database_url)
    sign_with(engine, key)  # the audit rows written through it are chained under this key
    vault = Vault(key)
    org = Organisation.load(organisation_file(settings))
    try:
        yield Services(
            sessions=make_sessions(engine),
            vault=vault,
            documents=DocumentStore(Path(settings.data_dir), vault),
            clock=clock or SystemClock(),
            dialogue=apply_dialogue(org),
            catalog=Catalog.load(),
            organisation=org,
            media_links=media_links(settings, key),
            policy=ReviewPolicy.from_settings(
                {
                    "line": settings.line_review_group_id,
                    "telegram": settings.telegram_review_chat_id,
                    "console": CONSOLE_REVIEW_CHAT,
                    **(review_chats or {}),
                },
                settings.reviewers,
                {
                    "line": settings.line_rights_group_id,
                    "telegram": settings.telegram_rights_chat_id,
                },
            ),
            directory=directory or make_directory(settings),
            job_max_attempts=settings.job_max_attempts,
        )
    finally:
        await engine.dispose()


def media_links(settings: Settings, secret_key: str) -> MediaLinks:
    """Links to document images at BMABOT_PUBLIC_URL, else at the address served here."""
    return MediaLinks.from_secret(
        secret_key, settings.public_url or f"http://{settings.host}:{settings.port}"
    )


def make_directory(settings: Settings) -> Directory:
    """The embedded directory for trying bmabot, or the real LDAP server."""
    if settings.directory == "memory":
        return MemoryDirectory(settings.mail_domain)
    from core.integrations.ldap import LdapDirectory

    missing = [
        name
        for name in ("ldap_url", "ldap_bind_dn", "ldap_password", "ldap_users_dn")
        if getattr(settings, name) is None
    ]
    if missing:
        names = ", ".join("BMABOT_" + name.upper() for name in missing)
        raise SettingsError(f"Invalid settings:\n  BMABOT_DIRECTORY=ldap needs {names}")
    assert settings.ldap_url
    assert settings.ldap_bind_dn
    assert settings.ldap_password
    assert settings.ldap_users_dn
    password = settings.ldap_password.get_secret_value()
    return LdapDirectory(
        settings.ldap_url,
        settings.ldap_bind_dn,
        password,
        settings.ldap_users_dn,
        settings.mail_domain,
    )
