"""The channels run on the same real handler as the conversation tests."""

from tests.handlers.conftest import catalog, chat, handler, media, organisation, services

__all__ = ["catalog", "chat", "handler", "media", "organisation", "services"]
