"""Whether Telegram is to be served: checked from the settings alone, without the SDK.

`bmabot serve` without Telegram never imports python-telegram-bot (tens of megabytes).
"""

from __future__ import annotations

from core.rules.secret_strength import MIN_LENGTH
from core.settings import MAKE_A_KEY, Settings, SettingsError


def telegram_configured(settings: Settings, *, polling: bool = False) -> bool:
    """Whether to serve Telegram; a webhook needs its secret, checked before anything starts.

    The secret's shape and strength are checked with the other settings (core.settings).
    """
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
            f"BMABOT_TELEGRAM_BOT_TOKEN ({MIN_LENGTH} or more characters of A-Z a-z 0-9 _ -); "
            f"make one with: {MAKE_A_KEY}"
        )
    return True
