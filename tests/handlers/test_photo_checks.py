"""PhotoChecks: the photo work beside the rounds, and what the dispatcher's drain waits for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.handlers.photo_checks import AT_ONCE, NOT_READY, PhotoChecks
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


async def test_at_most_at_once_photos_are_prepared_at_a_time_and_the_next_starts_after_one() -> (
    None
):
    """Each photo in preparation holds its upload in memory: the bound is the memory's."""
    started: list[int] = []
    through, all_started = asyncio.Event(), asyncio.Event()

    def photo(number: int) -> Callable[[], Awaitable[Photo]]:
        async def prepare() -> Photo:
            started.append(number)
            if len(started) == AT_ONCE:
                all_started.set()
            await through.wait()
            return None

        return prepare

    checks = PhotoChecks(ready=lambda: None, discard=lambda _: None, at_once=AT_ONCE)
    for number in range(AT_ONCE + 2):
        checks.start(f"line:e{number}", photo(number))
    await all_started.wait()
    for _ in range(10):  # the last two get every chance to start, and cannot
        await asyncio.sleep(0)

    assert started == list(range(AT_ONCE))  # the last two wait their turn
    through.set()
    while await checks.wait():
        pass
    assert sorted(started) == list(range(AT_ONCE + 2))
