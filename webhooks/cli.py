"""The `bmabot` command line: serve, chat in the terminal, migrate the database, LINE setup."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from bot.handlers.conversation import ConversationHandler
from core.db import upgrade_database
from core.settings import Settings, SettingsError, load_settings, require_secret_key
from webhooks.console import CHANNEL, ConsoleMedia, run_console
from webhooks.line_setup import install_rich_menu_command
from webhooks.runtime import local_secret_key, open_services

logger = logging.getLogger("bmabot")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bmabot", description="BMA account requests through LINE and Telegram chat."
    )
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="the production server (webhooks, health, metrics)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="only receive and store events; another process handles them",
    )
    chat = commands.add_parser("chat", help="try the Thai application form in this terminal")
    chat.add_argument("--user", default=None, help="who you are in the chat (default: your login)")
    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply the migrations up to the newest")
    line = commands.add_parser("line", help="LINE Official Account set-up")
    line_commands = line.add_subparsers(dest="line_command", required=True)
    line_commands.add_parser("richmenu", help="create the rich menu and make it the default")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        settings = load_settings()
        if args.command == "db":
            upgrade_database(settings.database_url)
            print("database is up to date")
            return 0
        if args.command == "serve":
            return asyncio.run(serve(settings, worker=not args.no_worker))
        if args.command == "line":
            return asyncio.run(install_rich_menu_command(settings))
        logging.getLogger().setLevel(logging.WARNING)  # the chat is the terminal's output
        return asyncio.run(_chat(settings, args.user or getpass.getuser()))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2


async def serve(settings: Settings, *, worker: bool) -> int:
    """Serve until SIGTERM or SIGINT, then stop gracefully: nothing half-handled is lost."""
    from webhooks.app import create_app

    app = create_app(settings, secret_key=require_secret_key(settings), dispatch=worker)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    logger.info("bmabot serving on http://%s:%s", settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    logger.info("bmabot stopping: finishing the events in hand")
    await runner.cleanup()
    return 0


async def _chat(settings: Settings, user_id: str) -> int:
    async with open_services(settings, secret_key=local_secret_key(settings)) as services:
        handler = ConversationHandler(services, {CHANNEL: ConsoleMedia()})
        return await run_console(handler, user_id, sys.stdin, sys.stdout)
