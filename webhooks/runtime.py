"""The composition root for every entry point: settings in, ready services out."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.handlers.review_policy import ReviewPolicy
from bot.handlers.services import Services
from core.audit.chain import sign_with
from core.clock import Clock, SystemClock
from core.directory.port import Directory, MemoryDirectory
from core.requests.retention import RetentionPolicy
from core.rules.organisation import Organisation
from core.settings import (
    ANY_MEMBER,
    Settings,
    SettingsError,
    load_settings,
    require,
    require_secret_key,
    secret_keys,
)
from core.storage.crypto import SecretKeys, Vault
from core.storage.db import make_engine, make_sessions, upgrade_database_async
from core.storage.documents import DocumentStore
from core.storage.media_links import MediaLinks

logger = logging.getLogger("bmabot")
CONSOLE_REVIEW_CHAT = "review"  # where `bmabot chat --review` sits
INSTALLED_ORG_FILE = "org.yaml"  # in the data folder, put there by `bmabot org import`


def trial_settings(root: Path, **overrides: object) -> Settings:
    """Everything embedded under root, for `bmabot demo` and `bmabot chat`: a SQLite file,
    the photos, a key of their own, the in-memory directory and an SMS outbox file.

    Nothing configured for a real service is used (its database, key, directory, gateway).
    """
    return load_settings(
        database_url=f"sqlite+aiosqlite:///{root / 'bmabot.db'}",
        data_dir=root / "data",
        secret_key=None,  # trial_secret_key: the trial's own, never the service's
        key_version=1,
        old_secret_keys=None,
        directory="memory",
        sms="outbox",
        sms_outbox=root / "sms-outbox.jsonl",
        line_channel_secret=None,
        line_channel_access_token=None,
        telegram_bot_token=None,
        telegram_webhook_secret=None,
        reviewers=ANY_MEMBER,  # whoever sits in the trial's reviewers' group
        **{"verify_mobile": False, **overrides},  # the codes would only reach the outbox file
    )


def trial_secret_key(settings: Settings) -> str:
    """For the demo and the terminal chat only: a key made once, kept beside their own data.

    Every other command needs BMABOT_SECRET_KEY (require_secret_key) and makes no key.
    """
    key_file = Path(settings.data_dir) / "secret.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Readable by the owner only from the start, not after a chmod.
        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def serving_settings(settings: Settings) -> str:
    """The key, once the key and the reviewers are both set; who may decide goes to the log.

    Without a reviewer list anyone in a review group could decide: serving refuses to start.
    """
    require(settings, "secret_key", "reviewers")
    reviewers = [item.strip() for item in settings.reviewers.split(",") if item.strip()]
    _log_reviewers(settings, reviewers)
    return require_secret_key(settings)


def _log_reviewers(settings: Settings, reviewers: list[str]) -> None:
    if reviewers == [ANY_MEMBER]:
        groups = {
            "LINE review group": settings.line_review_group_id,
            "LINE rights group": settings.line_rights_group_id,
            "Telegram review chat": settings.telegram_review_chat_id,
            "Telegram rights chat": settings.telegram_rights_chat_id,
        }
        named = ", ".join(f"{name} {chat}" for name, chat in groups.items() if chat) or "none"
        logger.warning(
            "BMABOT_REVIEWERS=%s: every member of these groups may decide requests: %s",
            ANY_MEMBER,
            named,
        )
        return
    logger.info("reviewers: %d people may decide requests (BMABOT_REVIEWERS)", len(reviewers))


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
    keys = secret_keys(settings, key)
    await upgrade_database_async(settings.database_url)
    engine = make_engine(settings.database_url)
    sign_with(engine, key)  # the audit rows written through it are chained under this key
    vault = Vault(keys)
    org = Organisation.load(organisation_file(settings))
    try:
        yield Services(
            sessions=make_sessions(engine),
            vault=vault,
            documents=DocumentStore(Path(settings.data_dir), vault),
            clock=clock or SystemClock(),
            dialogue=apply_dialogue(org, verify_mobile=settings.verify_mobile),
            catalog=Catalog.load(),
            organisation=org,
            media_links=media_links(settings, keys),
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
            civil_servant_type=settings.civil_servant_type,
            retention=RetentionPolicy(
                settings.document_retention_days, settings.record_retention_days
            ),
            verify_mobile=settings.verify_mobile,
        )
    finally:
        await engine.dispose()


def media_links(settings: Settings, keys: SecretKeys) -> MediaLinks:
    """Links to document images at BMABOT_PUBLIC_URL, else at the address served here."""
    return MediaLinks.from_secret(
        keys,
        settings.public_url or f"http://{settings.host}:{settings.port}",
        timedelta(hours=settings.media_link_hours),
    )


def make_directory(settings: Settings) -> Directory:
    """The embedded directory for trying bmabot, or the real LDAP server."""
    if settings.directory == "memory":
        return MemoryDirectory(settings.mail_domain)
    from core.directory.ldap import LdapDirectory

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
