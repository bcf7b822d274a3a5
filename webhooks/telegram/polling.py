"""`bmabot telegram poll`: long polling into the same inbox and dispatcher, no public address."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web
from telegram import Bot
from telegram.error import Conflict, NetworkError, TelegramError

from core.delivery.inbox import NewEvent
from core.settings import Settings, SettingsError
from webhooks.appkeys import DISPATCHER, SERVICES
from webhooks.runtime import serving_settings
from webhooks.telegram.channel import TelegramChannel, take_update
from webhooks.telegram.setup import ALLOWED_UPDATES, bot_commands, telegram_configured
from webhooks.telegram.updates import CHANNEL, telegram_event

logger = logging.getLogger(__name__)

POLL_SECONDS = 30  # how long Telegram holds a getUpdates call open when nothing is new
PAUSE_SECONDS = 5.0  # after a failed call, before the next
Take = Callable[[NewEvent], Awaitable[bool]]
AppFactory = Callable[..., web.Application]


async def poll_updates(
    bot: Bot, take: Take, *, hold: int = POLL_SECONDS, pause: float = PAUSE_SECONDS
) -> None:
    """Fetch updates until cancelled; each is confirmed (the offset moves on) once stored."""
    offset: int | None = None
    while True:
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=hold, allowed_updates=list(ALLOWED_UPDATES)
            )
        except (NetworkError, Conflict) as error:
            # Conflict: a webhook is still set, or another poller runs with this token.
            logger.warning("getUpdates failed (%s); trying again", type(error).__name__)
            await asyncio.sleep(pause)
            continue
        for update in updates:
            event = telegram_event(update.to_dict())
            if event is not None:
                await take(event)
            offset = update.update_id + 1


def polled_channel(app: web.Application) -> TelegramChannel:
    channel = app[DISPATCHER].channels.get(CHANNEL)
    if not isinstance(channel, TelegramChannel):
        raise SettingsError("Invalid settings:\n  BMABOT_TELEGRAM_BOT_TOKEN: required to poll")
    return channel


async def poll(app: web.Application, *, hold: int = POLL_SECONDS) -> None:
    """Switch Telegram from webhook to polling, then feed the app's inbox until cancelled."""
    bot = polled_channel(app).bot
    await bot.delete_webhook(drop_pending_updates=False)
    try:  # without set-webhook, the Thai command list is set here
        await bot.set_my_commands(bot_commands(app[SERVICES].catalog))
    except TelegramError as error:
        logger.warning("setMyCommands failed (%s); going on", type(error).__name__)
    logger.info("bmabot polling Telegram for updates")
    await poll_updates(bot, partial(take_update, app), hold=hold)


async def poll_command(settings: Settings, create_app: AppFactory) -> int:
    """The app's resources (database, dispatcher, channels) without an HTTP site, polling.

    create_app is the composition root's (webhooks.app), handed in by the command line: the
    app holds every channel, and a channel imports no other channel."""
    if not telegram_configured(settings, polling=True):
        raise SettingsError("Invalid settings:\n  BMABOT_TELEGRAM_BOT_TOKEN: required to poll")
    key = serving_settings(settings)  # it decides requests, as `bmabot serve` does
    app = create_app(settings, secret_key=key, telegram_polling=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await _poll_until_signal(app)
    finally:
        await runner.cleanup()
    return 0


async def _poll_until_signal(app: web.Application) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    poller = asyncio.create_task(poll(app))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({poller, stopping}, return_when=asyncio.FIRST_COMPLETED)
    for task in (poller, stopping):
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await poller  # raises what made polling stop, such as a rejected token
    logger.info("bmabot stopping: finishing the events in hand")
