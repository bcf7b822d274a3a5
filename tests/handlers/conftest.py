"""Fixtures for conversation tests: the real handler on a test database, and a chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.handlers.conversation import ConversationHandler, Services
from bot.handlers.media import MemoryMedia
from core.clock import ManualClock
from core.directory.port import MemoryDirectory
from core.rules.organisation import Organisation
from core.storage.crypto import Vault
from core.storage.documents import DocumentStore
from core.storage.media_links import MediaLinks
from tests.conftest import TEST_SECRET_KEY
from tests.core.directory.test_directory_contract import SOMCHAI
from tests.handlers.chat import CHANNEL, Chat

MEDIA_LINKS = MediaLinks.from_secret(TEST_SECRET_KEY, "http://127.0.0.1:8080")


@pytest.fixture(scope="session")
def organisation() -> Organisation:
    return Organisation.load()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def media() -> MemoryMedia:
    return MemoryMedia()


@pytest.fixture
async def services(
    sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    clock: ManualClock,
    tmp_path: Path,
    organisation: Organisation,
    catalog: Catalog,
) -> Services:
    # somchai.j, a civil servant: the agency transcript names him as responsible person.
    directory = MemoryDirectory()
    await directory.create_account(SOMCHAI)
    return Services(
        sessions=sessions,
        vault=vault,
        documents=DocumentStore(tmp_path / "data", vault),
        clock=clock,
        dialogue=apply_dialogue(organisation, verify_mobile=False),
        catalog=catalog,
        organisation=organisation,
        media_links=MEDIA_LINKS,
        directory=directory,
        verify_mobile=False,
    )


@pytest.fixture
def handler(services: Services, media: MemoryMedia) -> ConversationHandler:
    return ConversationHandler(services, {CHANNEL: media})


@pytest.fixture
def chat(handler: ConversationHandler, media: MemoryMedia) -> Chat:
    return Chat(handler, media)
