"""The `bmabot` command line: chat in the terminal, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from bot.handlers.conversation import ConversationHandler
from core.db import upgrade_database
from core.settings import Settings, SettingsError, load_settings
from webhooks.console import CHANNEL, ConsoleMedia, run_console
from webhooks.runtime import local_secret_key, open_services


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bmabot", description="BMA account requests through LINE and Telegram chat."
    )
    commands = top.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="try the Thai application form in this terminal")
    chat.add_argument("--user", default=None, help="who you are in the chat (default: your login)")
    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply the migrations up to the newest")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        settings = load_settings()
        if args.command == "db":
            upgrade_database(settings.database_url)
            print("database is up to date")
            return 0
        return asyncio.run(_chat(settings, args.user or getpass.getuser()))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2


async def _chat(settings: Settings, user_id: str) -> int:
    async with open_services(settings, secret_key=local_secret_key(settings)) as services:
        handler = ConversationHandler(services, {CHANNEL: ConsoleMedia()})
        return await run_console(handler, user_id, sys.stdin, sys.stdout)
