"""Photos as a port: each channel hands over the bytes of a photo it received."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.flows.incoming import MediaRef


class MediaFetchError(Exception):
    """The channel could not hand over a photo's bytes (gone, network, refused)."""


class MediaTooLargeError(MediaFetchError):
    """The photo is larger than the limit: known from its size, before reading it whole."""


class MediaFetcher(Protocol):
    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        """The bytes of a photo; at most limit + 1 of them, so a huge file is known as such
        (or MediaTooLargeError, when the size says so before anything is read)."""
        ...


@dataclass(slots=True)
class MemoryMedia:
    """Photos held in memory by reference: the test fake, and the web simulator's store."""

    photos: MutableMapping[str, bytes] = field(default_factory=dict)

    def add(self, ref: str, content: bytes) -> MediaRef:
        self.photos[ref] = content
        return MediaRef(ref)

    async def fetch(self, media: MediaRef, limit: int) -> bytes:
        try:
            return self.photos[media.ref][: limit + 1]
        except KeyError:
            raise MediaFetchError(f"no photo {media.ref!r}") from None
