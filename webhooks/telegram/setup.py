"""Connecting to Telegram: settings checks, the PTB Bot, and `bmabot telegram set-webhook`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot, BotCommand
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.catalog import Catalog
from bot.flows.kinds import KINDS
from core.settings import Settings, SettingsError
from webhooks.telegram.channel import PictureSource, TelegramChannel
from webhooks.telegram.settings import telegram_configured

logger = logging.getLogger(__name__)
__all__ = ["telegram_configured"]  # checked here too, beside the rest of the set-up

WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")


def commands() -> dict[str, str]:
    """The command list shown by Telegram's menu button, with its Thai description: each
    request kind (bot.flows.kinds) brings its own "/<name>"."""
    return {
        "start": "menu.command.start",
        "apply": "menu.command.apply",
        **{kind.name: f"menu.command.{kind.name}" for kind in KINDS},
        "status": "menu.command.status",
        "help": "menu.command.help",
        "cancel": "menu.command.cancel",
    }


def make_bot(settings: Settings) -> Bot:
    if settings.telegram_bot_token is None:
        raise SettingsError("Invalid settings:\n  BMABOT_TELEGRAM_BOT_TOKEN: required")
    api = settings.telegram_api_url.rstrip("/")
    token = settings.telegram_bot_token.get_secret_value()
    return Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")


@asynccontextmanager
async def telegram_bot(settings: Settings) -> AsyncIterator[Bot]:
    """An initialized Bot (getMe done when Telegram answers), shut down on the way out."""
    # httpx logs every request URL at INFO, and a Bot API URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bot = make_bot(settings)
    try:
        await _initialize(bot)
        yield bot
    finally:
        await bot.shutdown()


async def _initialize(bot: Bot) -> None:
    try:
        await bot.initialize()
    except InvalidToken:
        # PTB's own message quotes the token: it must not reach the logs.
        raise SettingsError(
            "Invalid settings:\n  BMABOT_TELEGRAM_BOT_TOKEN: Telegram rejected it"
        ) from None
    except NetworkError as error:
        # Updates can still be taken in; getMe is only needed to tell "/start@otherbot".
        logger.warning("Telegram getMe failed at start (%s); going on", type(error).__name__)


@asynccontextmanager
async def telegram_channel(
    settings: Settings, pictures: PictureSource | None = None
) -> AsyncIterator[TelegramChannel]:
    async with telegram_bot(settings) as bot:
        channel = TelegramChannel(bot, pictures=pictures)
        try:
            yield channel
        finally:
            await channel.settle()


def bot_commands(catalog: Catalog) -> list[BotCommand]:
    return [BotCommand(command, catalog.text(key)) for command, key in commands().items()]


def webhook_url(settings: Settings) -> str:
    public = settings.public_url
    if public is None or not public.startswith("https://"):
        raise SettingsError(
            "Invalid settings:\n  BMABOT_PUBLIC_URL: required, an https:// address that "
            "Telegram can reach (port 443, 80, 88 or 8443)"
        )
    return public.rstrip("/") + WEBHOOK_PATH


async def set_webhook_command(settings: Settings) -> int:
    """`bmabot telegram set-webhook`: where Telegram sends updates, and the Thai command list."""
    if not telegram_configured(settings):
        raise SettingsError("Invalid settings:\n  BMABOT_TELEGRAM_BOT_TOKEN: required")
    url, secret = webhook_url(settings), settings.telegram_webhook_secret
    async with telegram_bot(settings) as bot:
        try:
            await bot.set_webhook(
                url,
                allowed_updates=list(ALLOWED_UPDATES),
                secret_token=secret.get_secret_value() if secret else None,
            )
            await bot.set_my_commands(bot_commands(Catalog.load()))
        except TelegramError as error:
            print(f"Telegram refused: {type(error).__name__}: {error.message}")
            return 1
    print(f"Telegram now sends updates to {url}")
    return 0
