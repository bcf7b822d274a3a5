"""The `bmabot` command line: serve, work, chat, the database, channel set-up, administration."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import getpass
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.catalog import Catalog
from bot.handlers.rendering import Rendered
from core.settings import Settings, SettingsError, load_settings
from core.storage.db import upgrade_database, upgrade_database_apart
from webhooks.admin.applications import add_applications_parser, applications_command
from webhooks.admin.arguments import described, example_lines
from webhooks.admin.commands import (
    accounts_command,
    audit_command,
    audit_verify_command,
    jobs_command,
    worker_command,
)
from webhooks.admin.faq import add_faq_parser, faq_command
from webhooks.admin.keys import add_keys_parser, keys_command
from webhooks.admin.org import add_org_parser, org_command
from webhooks.admin.poster import add_poster_parser, poster_command
from webhooks.admin.privacy import add_privacy_parser, privacy_command
from webhooks.admin.roster import add_directory_parser, directory_command
from webhooks.admin.stats import add_stats_parser, stats_command
from webhooks.cli_parsers import add_admin_parsers, add_serving_parsers, add_setup_parsers
from webhooks.compose import ExtraChannels, open_parts
from webhooks.console.channel import CHANNEL, ConsoleMedia, Seat, run_console, take_mail
from webhooks.line.setup import install_rich_menu_command
from webhooks.runtime import serving_settings, trial_secret_key, trial_settings

logger = logging.getLogger("bmabot")
CHAT_DIR = Path("var/chat")  # the terminal chat's own database, photos, key and SMS outbox
Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bmabot",
        description=described(
            "BMA account requests through LINE and Telegram chat: the server, the job worker, "
            "a demo and a terminal chat, channel set-up and the administration commands. "
            "Settings come from BMABOT_* environment variables (README: Settings); each "
            "command's --help says what it does, with examples."
        ),
        epilog=example_lines(["bmabot demo --open", "bmabot db upgrade", "bmabot serve"]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serving_parsers(commands)
    add_setup_parsers(commands)
    add_admin_parsers(commands)
    add_applications_parser(commands)
    add_org_parser(commands)
    add_faq_parser(commands)
    add_privacy_parser(commands)
    add_keys_parser(commands)
    add_stats_parser(commands)
    add_directory_parser(commands)
    add_poster_parser(commands)
    return top


async def _telegram(settings: Settings, action: str) -> int:
    # Imported here, as the app is for serve: the terminal chat has no use for the SDK.
    from webhooks.telegram.polling import poll_command
    from webhooks.telegram.setup import set_webhook_command

    if action == "set-webhook":
        return await set_webhook_command(settings)
    from webhooks.app import create_app

    return await poll_command(settings, create_app)


async def _demo(port: int, *, open_browser: bool) -> int:
    from webhooks.demo import demo_command  # the simulator is no part of `serve`

    return await demo_command(port, open_browser=open_browser)


async def _db(settings: Settings, args: argparse.Namespace) -> int:
    await asyncio.to_thread(upgrade_database, settings.database_url)
    print("database is up to date")
    return 0


COMMANDS: dict[str, Command] = {
    "serve": lambda s, a: serve(
        s, dispatch=not a.receive_only, work=not (a.no_worker or a.receive_only)
    ),
    "worker": lambda s, a: worker_command(s),
    "demo": lambda s, a: _demo(a.port, open_browser=a.open),
    "chat": lambda s, a: _chat(
        trial_settings(CHAT_DIR), a.user or getpass.getuser(), review=a.review
    ),
    "db": _db,
    "line": lambda s, a: install_rich_menu_command(s),
    "telegram": lambda s, a: _telegram(s, a.action),
    "jobs": lambda s, a: jobs_command(
        s, retry_id=a.job_id if a.action == "retry" else None, show_all=a.all
    ),
    "audit": lambda s, a: (
        audit_verify_command(s) if a.action == "verify" else audit_command(s, a.ref)
    ),
    "accounts": lambda s, a: accounts_command(s, a.uid, a.reason, lift=a.action == "unsuspend"),
    "applications": applications_command,
    "org": org_command,
    "faq": faq_command,
    "privacy": privacy_command,
    "keys": keys_command,
    "stats": stats_command,
    "directory": directory_command,
    "poster": poster_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet = args.command in (
        "chat",
        "jobs",
        "audit",
        "accounts",
        "db",
        "applications",
        "org",
        "faq",
        "stats",
        "privacy",
        "keys",
        "directory",
        "poster",
    )  # their output is the point
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if args.command == "jobs" and args.action == "retry" and args.job_id is None:
        print(
            "bmabot jobs retry needs a job id, for example: bmabot jobs retry 42", file=sys.stderr
        )
        return 2
    if args.command == "audit" and args.action == "show" and args.ref is None:
        print(
            "bmabot audit needs --ref, for example: bmabot audit --ref A69-00042", file=sys.stderr
        )
        return 2
    try:
        return run(COMMANDS[args.command](load_settings(), args))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.command != "chat":
            raise
        # Ctrl-C while the chat was busy (at the prompt the chat ends by itself): the turn
        # in hand is rolled back, nothing half-saved.
        print(f"\n{Catalog.load().text('console.goodbye')}")
        return 130


SWITCH_INTERVAL = 0.0005  # seconds
M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter (malloc.h)
LARGE_BUFFER = 128 * 1024  # bytes: glibc's own starting threshold, kept


def run(main: Coroutine[Any, Any, int]) -> int:
    """Run a command on uvloop where it is installed (a faster event loop), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def return_large_buffers() -> bool:
    """Have glibc give large freed buffers (a photo's pixels) back to the system at once.

    glibc raises its mmap threshold after each large free, up to 32 MB: a photo's decoded
    pixels (1-40 MB) then come from the heap of the thread that checked it and stay resident
    after it is done. Measured at c=64 with the whole form: 214 MB at the end, 180 MB with
    the threshold fixed at 128 KB. False where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER))
    except (OSError, AttributeError):
        return False


async def serve(settings: Settings, *, dispatch: bool = True, work: bool = True) -> int:
    """Serve until SIGTERM or SIGINT, then stop gracefully: nothing half-handled is lost."""
    from webhooks.app import create_app

    key = serving_settings(settings)  # nothing starts without the key and the reviewers
    # On SQLite the hot path's units of work run on threads of their own (core.storage.db's
    # SqliteThreads): each waits for the interpreter lock at least once. The default 5 ms
    # turn of a busy event loop made each hand-off cost milliseconds under load; a shorter
    # turn keeps it quick.
    sys.setswitchinterval(SWITCH_INTERVAL)
    return_large_buffers()
    await upgrade_database_apart(settings.database_url)  # create_app then finds it at head
    app = create_app(settings, secret_key=key, dispatch=dispatch, work=work)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    # What start-up made (modules, the catalog, the organisation, caches) lives as long as
    # the process: kept out of every later collection, a full one no longer walks it all
    # and pauses the event loop for tens of milliseconds.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Said once a SIGTERM stops it gracefully: a supervisor may send one at once.
    logger.info("bmabot serving on http://%s:%s", settings.host, settings.port)
    await stop.wait()
    logger.info("bmabot stopping: finishing the events in hand")
    await runner.cleanup()
    return 0


async def _chat(settings: Settings, user_id: str, *, review: bool) -> int:
    """The terminal chat, with the job worker in-process: cards, decisions, accounts, SMS.

    Its data stays in ./var/chat (trial_settings), shared by `bmabot chat --review`.
    """
    terminal = ExtraChannels(fetchers={CHANNEL: ConsoleMedia()})  # it prints its own replies
    async with open_parts(
        settings, secret_key=trial_secret_key(settings), extra=terminal
    ) as parts:
        seat = Seat.reviewer(user_id) if review else Seat.applicant(user_id)

        async def mail() -> list[Rendered]:
            await parts.worker.drain()
            return await take_mail(parts.services, seat.chat_id)

        return await run_console(parts.handler, seat, sys.stdin, sys.stdout, mail=mail)
