"""A photo's bytes from LINE, read in chunks up to a limit: a huge upload is never read whole.

The SDK's blob client reads a whole response into memory before returning it (30 MB for a
30 MB upload). This asks LINE's data host itself, through the SDK's own session and
settings, and stops at the Content-Length or after limit + 1 bytes.
"""

from __future__ import annotations

from urllib.parse import quote

import aiohttp
from linebot.v3.messaging import AsyncMessagingApiBlob

from bot.handlers.media import MediaFetchError, MediaTooLargeError

CHUNK = 64 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=120, sock_read=30)


async def message_content(blob: AsyncMessagingApiBlob, message_id: str, limit: int) -> bytes:
    """The content of a message (a photo the person sent), at most `limit` bytes of it;
    MediaTooLargeError past that, MediaFetchError when LINE cannot hand it over."""
    client = blob.api_client
    config = client.configuration
    url = f"{config.host}/v2/bot/message/{quote(message_id, safe='')}/content"
    headers = {"Authorization": f"Bearer {config.access_token}"}
    session: aiohttp.ClientSession = client.rest_client.pool_manager
    try:
        async with session.get(
            url, headers=headers, proxy=config.proxy, timeout=TIMEOUT
        ) as response:
            if response.status != 200:
                raise MediaFetchError(f"LINE content HTTP {response.status}")
            if (response.content_length or 0) > limit:
                raise MediaTooLargeError("LINE content over the limit")  # nothing read
            return await _at_most(response.content, limit)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise MediaFetchError(f"LINE content {type(error).__name__}") from None


async def _at_most(stream: aiohttp.StreamReader, limit: int) -> bytes:
    content = bytearray()
    async for chunk in stream.iter_chunked(CHUNK):
        content.extend(chunk)
        if len(content) > limit:
            raise MediaTooLargeError("LINE content over the limit")  # the rest left unread
    return bytes(content)
