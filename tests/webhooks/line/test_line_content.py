"""A LINE photo is read only up to the limit: by its Content-Length, or chunk by chunk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApiBlob, Configuration

from bot.handlers.media import MediaFetchError, MediaTooLargeError
from webhooks.line.content import message_content

LIMIT = 10 * 1024 * 1024
FOREVER = web.AppKey("forever", asyncio.Event)
TOKEN = "test-line-access-token"


async def endless(request: web.Request) -> web.StreamResponse:
    """Chunk after chunk, no Content-Length, never an end: read whole, it never returns."""
    response = web.StreamResponse()
    await response.prepare(request)
    while True:
        await response.write(b"\xff" * 65536)


async def announced(request: web.Request) -> web.StreamResponse:
    """Says 30 MB are coming, then sends none: a reader that waits for them never returns."""
    response = web.StreamResponse(headers={"Content-Length": str(30 * 1024 * 1024)})
    await response.prepare(request)
    await request.app[FOREVER].wait()
    return response


async def small(request: web.Request) -> web.Response:
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    return web.Response(body=b"\xff\xd8\xff" + b"x" * 1000)


@pytest.fixture
async def blob() -> AsyncIterator[AsyncMessagingApiBlob]:
    app = web.Application()
    app[FOREVER] = asyncio.Event()
    app.router.add_get("/v2/bot/message/endless/content", endless)
    app.router.add_get("/v2/bot/message/announced/content", announced)
    app.router.add_get("/v2/bot/message/small/content", small)
    async with TestServer(app, host="127.0.0.1") as server:
        host = str(server.make_url("")).rstrip("/")
        async with AsyncApiClient(Configuration(access_token=TOKEN, host=host)) as client:
            yield AsyncMessagingApiBlob(client)


async def test_a_photo_sent_without_end_is_refused_after_the_limit(
    blob: AsyncMessagingApiBlob,
) -> None:
    with pytest.raises(MediaTooLargeError):
        await message_content(blob, "endless", LIMIT)


async def test_a_photo_announced_over_the_limit_is_refused_before_reading(
    blob: AsyncMessagingApiBlob,
) -> None:
    with pytest.raises(MediaTooLargeError):
        await message_content(blob, "announced", LIMIT)


async def test_a_photo_within_the_limit_is_read_whole(blob: AsyncMessagingApiBlob) -> None:
    assert await message_content(blob, "small", LIMIT) == b"\xff\xd8\xff" + b"x" * 1000


async def test_a_photo_line_does_not_have_is_a_fetch_error(blob: AsyncMessagingApiBlob) -> None:
    with pytest.raises(MediaFetchError) as refused:
        await message_content(blob, "gone", LIMIT)
    assert refused.type is MediaFetchError
