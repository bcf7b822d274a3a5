"""The channels run on the same real handler as the conversation tests; the running worlds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from tests.handlers.conftest import catalog, chat, handler, media, organisation, services
from tests.webhooks.line_world import LineWorld, line_world
from tests.webhooks.telegram_world import TelegramWorld, telegram_world

__all__ = ["catalog", "chat", "handler", "media", "organisation", "services"]


@pytest.fixture
async def line(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[LineWorld]:
    """bmabot with the LINE emulator, nothing running in the background."""
    async with line_world(database_url, tmp_path / "data", clock) as running:
        yield running


@pytest.fixture
async def telegram(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[TelegramWorld]:
    """bmabot with the Telegram emulator, nothing running in the background."""
    async with telegram_world(database_url, tmp_path / "data", clock) as running:
        yield running
