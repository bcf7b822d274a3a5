"""The web simulator's switchboard: what was said in each chat, pushed to its open pages."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

Said = Mapping[str, Any]  # one message as the page draws it (see WebChannel.send)


class ChatHub:
    """In memory on purpose: the demo's chats are the durable outbox's deliveries, replayed
    to a page that opens later; restarting the demo starts with empty screens."""

    def __init__(self) -> None:
        self._history: dict[str, list[Said]] = defaultdict(list)
        self._listeners: dict[str, set[asyncio.Queue[Said | None]]] = defaultdict(set)

    def publish(self, chat_id: str, said: Said) -> None:
        """Show a message in a chat; a redelivery (the same id) is not shown twice."""
        history = self._history[chat_id]
        if any(earlier["id"] == said["id"] for earlier in history):
            return
        history.append(said)
        for queue in self._listeners[chat_id]:
            queue.put_nowait(said)

    def history(self, chat_id: str) -> list[Said]:
        return list(self._history.get(chat_id, ()))

    @contextmanager
    def listen(self, chat_id: str) -> Iterator[asyncio.Queue[Said | None]]:
        """A queue that gets the chat's history, then each new message; None means closing."""
        queue: asyncio.Queue[Said | None] = asyncio.Queue()
        for said in self.history(chat_id):
            queue.put_nowait(said)
        self._listeners[chat_id].add(queue)
        try:
            yield queue
        finally:
            self._listeners[chat_id].discard(queue)

    def close(self) -> None:
        """Ends every open stream, so the server can stop without waiting for browsers."""
        for queues in self._listeners.values():
            for queue in queues:
                queue.put_nowait(None)
