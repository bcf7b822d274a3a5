"""`bmabot demo`: the whole service on one laptop, with the web simulator as a third channel."""

from __future__ import annotations

import asyncio
import errno
import signal
import socket
import sys
import webbrowser
from pathlib import Path

from aiohttp import web

from bot.catalog import Catalog
from bot.handlers.media import MemoryMedia
from core.clock import Clock
from core.settings import Settings
from webhooks.app import create_app
from webhooks.compose import ExtraChannels
from webhooks.runtime import trial_secret_key, trial_settings
from webhooks.web.channel import CHANNEL, WEB_REVIEW_CHAT, WebChannel, add_web_routes
from webhooks.web.hub import ChatHub
from webhooks.web.panes import add_page_routes

DEMO_DIR = Path("var/demo")


def demo_settings(root: Path = DEMO_DIR, port: int = 8080) -> Settings:
    """Everything embedded under root; no LINE, Telegram, LDAP or SMS gateway is asked for."""
    return trial_settings(root, host="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}")


def create_demo_app(
    settings: Settings,
    *,
    secret_key: str | None = None,
    clock: Clock | None = None,
    run_loops: bool = True,
) -> web.Application:
    """The production app plus the web channel and its page; `serve` never has these."""
    reviewer = Catalog.load().text("demo.reviewer_name")  # as LINE or Telegram would name them
    channel = WebChannel(ChatHub(), MemoryMedia(), reviewer_name=reviewer)
    extra = ExtraChannels({CHANNEL: channel}, {CHANNEL: WEB_REVIEW_CHAT})
    key = secret_key or trial_secret_key(settings)
    app = create_app(
        settings, secret_key=key, clock=clock, dispatch=run_loops, work=run_loops, extra=extra
    )
    add_web_routes(app, channel)
    add_page_routes(app)
    return app


async def demo_command(port: int, *, open_browser: bool) -> int:
    """Serve the simulator until Ctrl-C; the data stays in ./var/demo/ for the next run."""
    settings = demo_settings(port=port)
    runner = web.AppRunner(create_demo_app(settings), access_log=None, shutdown_timeout=2)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except OSError as error:
        await runner.cleanup()
        if error.errno != errno.EADDRINUSE:
            raise
        _say_port_busy(settings.host, port)
        return 1
    address = f"http://{settings.host}:{settings.port}/"
    print(f"bmabot demo: open {address}  (Ctrl-C stops)", flush=True)
    if open_browser:
        webbrowser.open(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    return 0


def _say_port_busy(host: str, port: int) -> None:
    """In Thai and English, with a port that is free now to try instead."""
    free = str(free_port_after(host, port))
    said = Catalog.load().text("console.port_busy", {"port": str(port), "free": free})
    print(said, file=sys.stderr)
    print(f"Port {port} is in use: try  bmabot demo --port {free}", file=sys.stderr)


def free_port_after(host: str, port: int) -> int:
    """The first port after `port` that nothing listens on (or the next one, if none is)."""
    for candidate in range(port + 1, min(port + 100, 65535) + 1):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1
