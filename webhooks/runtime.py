"""The settings each entry point runs with: the service's own, or a trial's under one folder.

webhooks.compose builds the parts from them."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.settings import (
    ANY_MEMBER,
    Settings,
    load_settings,
    require,
    require_secret_key,
)

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
