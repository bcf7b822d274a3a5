"""`bmabot serve` as a real process: SIGKILL loses no acknowledged event, SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.emulators.line import LineEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.webhooks.serve_world import Start, emulator, free_port, serve_env, start
from tests.webhooks.telegram_world import TOKEN as TELEGRAM_TOKEN
from tests.webhooks.telegram_world import WEBHOOK_SECRET

__all__ = ["emulator", "start"]  # fixtures: the LINE emulator, and what kills what a test started
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("BMABOT_TEST_DATABASE_URL")),
    reason="runs the server on its own SQLite file; the PostgreSQL run covers the same code",
)


async def test_acknowledged_events_survive_sigkill_and_are_handled_once(
    emulator: tuple[LineEmulator, str], tmp_path: Path, start: Start
) -> None:
    line, api_url = emulator
    port = free_port()
    database = tmp_path / "bmabot.db"
    env = serve_env(tmp_path, api_url, port)
    line.webhook_url = f"http://127.0.0.1:{port}/webhooks/line"
    people = [f"U{n:032x}" for n in range(3)]

    # A receiver only: it acknowledges and stores, and nobody handles yet.
    receiver = await start(env, "--receive-only")
    for person in people:
        assert (await line.send_text(person, "สมัคร"))[0] == 200
        assert (await line.send_text(person, "ค่ะ"))[0] == 200
    receiver.kill()
    await receiver.wait()
    assert all(line.received(person) == [] for person in people)

    server = await start(env)
    async with asyncio.timeout(60):
        await line.wait_until(lambda: all(len(line.received(p)) == 3 for p in people))
    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.wait(), timeout=60) == 0

    for person in people:
        texts = line.texts(person)
        assert len(texts) == 3  # terms, PDPA notice, the kind question: each exactly once
        assert "ประเภทใดคะ" in texts[-1]
    with sqlite3.connect(database) as connection:
        statuses = {row[0] for row in connection.execute("SELECT status FROM inbox_events")}
        unsent = connection.execute(
            "SELECT count(*) FROM outbox_messages WHERE status != 'sent'"
        ).fetchone()[0]
    assert (statuses, unsent) == ({"done"}, 0)


async def test_sigkill_while_replies_are_in_flight_loses_nothing_and_repeats_nothing(
    emulator: tuple[LineEmulator, str], tmp_path: Path, start: Start
) -> None:
    line, api_url = emulator
    port = free_port()
    env = serve_env(tmp_path, api_url, port)
    line.webhook_url = f"http://127.0.0.1:{port}/webhooks/line"
    people = [f"U{n:032x}" for n in range(30)]
    greetings = 10  # each answered by the same menu, so counting tells lost from repeated

    server = await start(env)
    await line.send_text("U" + "f" * 32, "สวัสดี")
    async with asyncio.timeout(60):
        await line.wait_until(lambda: len(line.received("U" + "f" * 32)) > 0)
    per_greeting = len(line.received("U" + "f" * 32))

    unanswered: dict[str, list[dict[str, object]]] = {p: [] for p in people}

    async def greet(person: str) -> None:
        """Send the greetings one after the other; what the dying server did not answer 200
        is kept to be sent again, as LINE redelivers it (same webhookEventId)."""
        events = [line.make_text_event(person, "สวัสดี") for _ in range(greetings)]
        for number, event in enumerate(events):
            try:
                status = await line.post_events([event])
            except (aiohttp.ClientError, OSError):
                status = 0
            if status != 200:
                unanswered[person] = events[number:]
                return

    load = asyncio.gather(*(greet(person) for person in people))
    expected = len(people) * greetings * per_greeting
    async with asyncio.timeout(60):
        await line.wait_until(lambda: sum(len(line.received(p)) for p in people) > expected // 3)
    server.kill()  # replies are in flight: sent and not yet marked, or marked and not sent
    await server.wait()
    await load

    server = await start(env)
    for events in unanswered.values():
        for event in events:
            assert (await line.redeliver(event, fresh_token=True))[0] == 200
    async with asyncio.timeout(60):
        await line.wait_until(
            lambda: all(len(line.received(p)) >= greetings * per_greeting for p in people)
        )
    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.wait(), timeout=60) == 0

    for person in people:
        assert len(line.received(person)) == greetings * per_greeting, person
    with sqlite3.connect(tmp_path / "bmabot.db") as connection:
        statuses = {row[0] for row in connection.execute("SELECT status FROM inbox_events")}
    assert statuses == {"done"}


async def test_sigkill_on_telegram_loses_no_event_and_says_nothing_twice(
    tmp_path: Path, start: Start
) -> None:
    telegram = TelegramEmulator(token=TELEGRAM_TOKEN)
    async with TestServer(telegram.app, host="127.0.0.1") as api:
        port = free_port()
        env = serve_env(tmp_path, "", port) | {
            "BMABOT_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "BMABOT_TELEGRAM_API_URL": str(api.make_url("")).rstrip("/"),
            "BMABOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        for name in (
            "LINE_CHANNEL_SECRET",
            "LINE_CHANNEL_ACCESS_TOKEN",
            "LINE_API_URL",
            "LINE_DATA_API_URL",
        ):
            env.pop(f"BMABOT_{name}")
        telegram.webhook_url = f"http://127.0.0.1:{port}/webhooks/telegram"
        telegram.webhook_secret = WEBHOOK_SECRET
        people = list(range(5550100, 5550120))
        greetings = 10
        try:
            await _kill_and_restart_under_telegram_load(telegram, start, env, people, greetings)
        finally:
            telegram.close()

    for person in people:
        greeted = [text for text in telegram.texts(person) if "ยินดีต้อนรับ" in text]
        assert len(greeted) <= greetings, person  # never twice; a reply in flight may be lost
        assert "ยังไม่พบคำขอ" in telegram.texts(person)[-1]  # and the person goes on
    with sqlite3.connect(tmp_path / "bmabot.db") as connection:
        statuses = {row[0] for row in connection.execute("SELECT status FROM inbox_events")}
        handled = connection.execute("SELECT count(*) FROM inbox_events").fetchone()[0]
    assert statuses == {"done"}
    assert handled == len(people) * (greetings + 1)  # every update handled, once


async def _kill_and_restart_under_telegram_load(
    telegram: TelegramEmulator,
    start: Start,
    env: dict[str, str],
    people: list[int],
    greetings: int,
) -> None:
    unanswered: dict[int, list[dict[str, object]]] = {p: [] for p in people}

    async def greet(person: int) -> None:
        updates = [telegram.make_text_update(person, "สวัสดี") for _ in range(greetings)]
        for number, update in enumerate(updates):
            try:
                status = await telegram.post_update(update)
            except (aiohttp.ClientError, OSError):
                status = 0
            if status != 200:
                unanswered[person] = updates[number:]
                return

    server = await start(env)
    load = asyncio.gather(*(greet(person) for person in people))
    async with asyncio.timeout(60):
        await telegram.wait_until(
            lambda: sum(len(telegram.messages(p)) for p in people) > len(people) * greetings // 3
        )
    server.kill()
    await server.wait()
    await load

    server = await start(env)
    for updates in unanswered.values():
        for update in updates:  # Telegram sends an update again until it is answered 200
            assert await telegram.post_update(update) == 200
    for person in people:  # one last question each: answered after all the rest
        assert (await telegram.send_text(person, "สถานะ"))[0] == 200
    async with asyncio.timeout(60):
        await telegram.wait_until(
            lambda: all(
                telegram.texts(p) and "ยังไม่พบคำขอ" in telegram.texts(p)[-1] for p in people
            )
        )
    server.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.wait(), timeout=60) == 0
