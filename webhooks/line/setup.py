"""Connecting to LINE: the two SDK clients, and `bmabot line richmenu`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
)

from bot.catalog import Catalog
from bot.handlers.photo_checks import AT_ONCE as PHOTOS_AT_ONCE
from bot.handlers.sender import SENDING_AT_ONCE
from core.settings import Settings, SettingsError


def line_configured(settings: Settings) -> bool:
    """Whether LINE is served; a secret without a token (or the reverse) is refused."""
    secret, token = settings.line_channel_secret, settings.line_channel_access_token
    if (secret is None) != (token is None):
        raise SettingsError(
            "Invalid settings:\n  BMABOT_LINE_CHANNEL_SECRET and BMABOT_LINE_CHANNEL_ACCESS_TOKEN "
            "go together: set both to serve LINE, or neither"
        )
    return secret is not None


@asynccontextmanager
async def line_apis(
    settings: Settings,
) -> AsyncIterator[tuple[AsyncMessagingApi, AsyncMessagingApiBlob]]:
    """Two clients: blob calls (photos, rich-menu images) go to the data host, the rest not."""
    token = settings.line_channel_access_token
    if token is None:
        raise SettingsError("Invalid settings:\n  BMABOT_LINE_CHANNEL_ACCESS_TOKEN: required")
    secret = token.get_secret_value()
    async with (
        AsyncApiClient(_configuration(secret, settings.line_api_url, SENDING_AT_ONCE)) as api,
        AsyncApiClient(_configuration(secret, settings.line_data_api_url, PHOTOS_AT_ONCE)) as data,
    ):
        await _direct(api)
        await _direct(data)
        yield AsyncMessagingApi(api), AsyncMessagingApiBlob(data)


def _configuration(token: str, host: str, connections: int) -> Configuration:
    """An SDK client's settings, with as many connections as bmabot makes calls at once.

    The SDK's own number is five per CPU core: 10 on two cores, which capped replies at
    10 calls in flight. With LINE tens of milliseconds away that is a few hundred replies
    a second; in the launch-day bench (fake LINE on the same machine, 9-10 ms a call) it
    held PostgreSQL at 1,060-1,080 finished turns a second whatever else changed (issue 13).
    """
    configuration = Configuration(access_token=token, host=host)
    configuration.connection_pool_maxsize = connections
    return configuration


async def _direct(client: AsyncApiClient) -> None:
    """The SDK's HTTP session, without proxy and .netrc look-ups on every call.

    The SDK opens its aiohttp session with trust_env=True, which reads the proxy settings
    and ~/.netrc in a thread for each request (a few per cent of a turn under load).
    bmabot talks to LINE directly; a proxy, where one is needed, is set in the SDK's
    Configuration, which this keeps.
    """
    rest = client.rest_client
    limit = client.configuration.connection_pool_maxsize
    await rest.pool_manager.close()  # new and unused: it holds no connection yet
    rest.pool_manager = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit), trust_env=False
    )


async def install_rich_menu_command(settings: Settings) -> int:
    from webhooks.line.richmenu import install_rich_menu

    async with line_apis(settings) as (api, blob):
        try:
            rich_menu_id = await install_rich_menu(api, blob, Catalog.load())
        except ApiException as error:
            print(f"LINE refused the rich menu: {error.status} {error.body}")
            return 1
    print(f"rich menu {rich_menu_id} is now the default for every user")
    return 0
