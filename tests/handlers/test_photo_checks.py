"""PhotoChecks: the photo work beside the rounds, and what the dispatcher's drain waits for."""

from __future__ import annotations

import asyncio

from bot.handlers.photo_checks import NOT_READY, PhotoChecks
from core.storage.documents import Photo


async def nothing() -> Photo:
    return None


async def test_a_photo_ready_before_anyone_waited_still_sends_the_drain_round_again() -> None:
    ready = asyncio.Event()
    checks = PhotoChecks(ready=ready.set, discard=lambda _: None)
    checks.start("line:e1", nothing)
    await ready.wait()  # ready while a round was reading without its person

    assert await checks.wait() is True  # one more round: it takes the photo
    assert checks.take("line:e1", nothing) is None  # the photo (none could be had)
    assert await checks.wait() is False  # nothing left to wait for


async def test_a_photo_is_not_ready_while_it_is_prepared_and_its_event_is_left_out() -> None:
    through = asyncio.Event()

    async def slow() -> Photo:
        await through.wait()
        return None

    checks = PhotoChecks(ready=lambda: None, discard=lambda _: None)
    assert checks.take("line:e1", slow) is NOT_READY
    assert checks.waiting() == ["line:e1"]
    through.set()
    assert await checks.wait() is True
    assert checks.waiting() == []
