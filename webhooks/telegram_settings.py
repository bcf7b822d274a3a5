"""Whether Telegram is to be served: checked from the settings alone, without the SDK.

`bmabot serve` without Telegram never imports python-telegram-bot (tens of megabytes).
"""

from __future__ import annotations

import re

from core.settings import Settings, SettingsError

SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token


def telegram_configured(settings: Settings, *, polling: bool = False) -> bool:
    """Whether to serve Telegram; a webhook needs its secret, checked before anything starts."""
    token, secret = settings.telegram_bot_token, settings.telegram_webhook_secret
    if token is None:
        if secret is not None:
            raise SettingsError(
                "Invalid settings:\n  BMABOT_TELEGRAM_WEBHOOK_SECRET is set without "
                "BMABOT_TELEGRAM_BOT_TOKEN: set both to serve Telegram, or neither"
            )
        return False
    if secret is None and not polling:
        raise SettingsError(
            "Invalid settings:\n  BMABOT_TELEGRAM_WEBHOOK_SECRET: required with "
            "BMABOT_TELEGRAM_BOT_TOKEN (1-256 characters of A-Z a-z 0-9 _ -)"
        )
    if secret is not None and not SECRET_FORMAT.fullmatch(secret.get_secret_value()):
        raise SettingsError(
            "Invalid settings:\n  BMABOT_TELEGRAM_WEBHOOK_SECRET: Telegram takes 1-256 "
            "characters of A-Z a-z 0-9 _ - only"
        )
    return True
