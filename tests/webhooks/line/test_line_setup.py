"""The LINE clients bmabot serve opens: as many calls in flight as the sender makes."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.handlers.rendering import Rendered, to_json
from bot.handlers.sender import SENDING_AT_ONCE
from core.clock import ManualClock
from core.delivery.outbox import Outgoing
from core.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.webhooks.line_world import CHANNEL_SECRET
from webhooks.line.channel import PUSH, LineChannel
from webhooks.line.setup import line_apis

ACCESS_TOKEN = "test-access-token"


async def test_pushes_to_as_many_chats_as_the_sender_serves_at_once_are_in_flight_together(
    tmp_path: Path,
) -> None:
    """The SDK's own pool is five connections per CPU core (10 on this machine): the rest
    of the replies waited for one, whatever LINE's latency."""
    in_flight, all_in_flight, answer = 0, asyncio.Event(), asyncio.Event()

    async def push(request: web.Request) -> web.Response:
        nonlocal in_flight
        assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        in_flight += 1
        if in_flight == SENDING_AT_ONCE:
            all_in_flight.set()
        await answer.wait()
        return web.json_response({"sentMessages": []})

    line = web.Application()
    line.router.add_post(PUSH, push)
    server = TestServer(line, host="127.0.0.1")
    await server.start_server()
    try:
        api_url = str(server.make_url("")).rstrip("/")
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
            data_dir=tmp_path,
            secret_key=TEST_SECRET_KEY,
            line_channel_secret=CHANNEL_SECRET,
            line_channel_access_token=ACCESS_TOKEN,
            line_api_url=api_url,
            line_data_api_url=api_url,
        )
        hello = to_json(Rendered("k", "สวัสดีค่ะ"))
        async with line_apis(settings) as (api, blob):
            channel = LineChannel(api, blob)
            rows = [
                Outgoing(n, "line", f"U{n:032x}", [hello], None, None, str(uuid.uuid4()), 0)
                for n in range(SENDING_AT_ONCE)
            ]
            sends = [asyncio.create_task(channel.send(row, ManualClock().now())) for row in rows]
            await asyncio.wait_for(all_in_flight.wait(), timeout=10)
            answer.set()
            await asyncio.gather(*sends)
    finally:
        answer.set()
        await server.close()
