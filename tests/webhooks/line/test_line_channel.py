"""bmabot on LINE, end to end: signed webhooks in, the real SDK out to the LINE emulator."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.handlers.conversation import Services
from core.clock import ManualClock
from core.directory.port import MemoryDirectory
from core.rules.organisation import Organisation
from core.storage.crypto import Vault
from core.storage.db import make_engine, make_sessions
from core.storage.documents import DocumentStore
from core.storage.models import Application, AuditEvent, Document, InboxEvent
from tests.conftest import TEST_SECRET_KEY
from tests.handlers.chat import sample_photo
from tests.handlers.conftest import MEDIA_LINKS
from tests.handlers.transcripts import STAFF_FORM
from tests.webhooks.line_world import LineUser, LineWorld, line_world
from webhooks.app import healthz
from webhooks.appkeys import SERVICES

APPLY_AS_STAFF = [("say", "สมัคร"), *STAFF_FORM, ("photo", "")]


@pytest.fixture
async def world(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[LineWorld]:
    async with line_world(database_url, tmp_path / "data", clock) as running:
        yield running


@pytest.fixture
def sessions_of(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessions(engine)


async def apply(user: LineUser) -> None:
    for action, value in APPLY_AS_STAFF:
        if action == "say":
            await user.say(value)
        elif action == "tap":
            await user.tap(value)
        else:
            await user.photo(sample_photo())


async def test_after_submitting_the_menu_is_a_tap_away_and_a_stale_send_says_it_is_filed(
    world: LineWorld,
) -> None:
    somchai = world.user("U" + "5" * 32)
    await apply(somchai)
    send = somchai.button("ถูกต้อง ส่งคำขอ")
    await somchai.tap("ถูกต้อง ส่งคำขอ")
    assert [action["label"] for action in somchai.actions()] == ["สถานะคำขอ", "เมนูหลัก"]

    status, _ = await world.emulator.postback(somchai.user_id, send)  # the summary's old button
    assert status == 200
    said = await somchai.answers()

    assert "ไม่ต้องกดซ้ำ" in somchai.texts[0]
    assert "A69-00001 — รอตรวจสอบ" in str(said[-1]["contents"])
    assert [action["label"] for action in somchai.actions()] == ["เมนูหลัก"]
    await somchai.tap("เมนูหลัก")
    assert "ยินดีต้อนรับ" in somchai.last_text


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_full_staff_application_over_line(
    world: LineWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    somchai = world.user("U" + "1" * 32)
    await apply(somchai)
    assert world.emulator.received(somchai.user_id)[-1]["message"]["type"] == "flex"

    await somchai.tap("ถูกต้อง ส่งคำขอ")

    assert "A69-00001" in somchai.last_text
    async with sessions_of() as session:
        application = (await session.scalars(select(Application))).one()
    assert (application.kind, application.form["mobile"]) == ("staff", "+66812345678")
    assert await count(sessions_of, Document) == 1


async def test_replies_use_the_reply_token(world: LineWorld) -> None:
    user = world.user("U" + "2" * 32)
    await user.say("สวัสดี")
    assert [entry["via"] for entry in world.emulator.received(user.user_id)] == ["reply"]


async def test_an_expired_reply_token_falls_back_to_push_once(world: LineWorld) -> None:
    user = world.user("U" + "3" * 32)
    await world.emulator.send_text(user.user_id, "สวัสดี")
    world.clock.advance(seconds=70)  # the turn is handled after the token's minute
    world.emulator.expire_reply_tokens()
    await world.dispatcher.drain()
    assert [entry["via"] for entry in world.emulator.received(user.user_id)] == ["push"]


async def test_a_used_reply_token_falls_back_to_push(world: LineWorld) -> None:
    user = world.user("U" + "4" * 32)
    await world.emulator.send_text(user.user_id, "สวัสดี")
    world.emulator.expire_reply_tokens()  # LINE no longer takes it though our clock says fresh
    await world.dispatcher.drain()
    received = world.emulator.received(user.user_id)
    assert [entry["via"] for entry in received] == ["push"]


async def test_a_redelivered_event_is_answered_once(
    world: LineWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    user = world.user("U" + "5" * 32)
    status, event = await world.emulator.send_text(user.user_id, "สมัคร")
    again, _ = await world.emulator.redeliver(event)
    await world.dispatcher.drain()

    assert (status, again) == (200, 200)
    assert len(world.emulator.received(user.user_id)) == 2  # terms + PDPA notice, once
    assert await count(sessions_of, InboxEvent) == 1
    async with sessions_of() as session:
        started = await session.scalar(
            select(func.count()).where(AuditEvent.action == "application.started")
        )
    assert started == 1


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"X-Line-Signature": "bm90IGEgc2lnbmF0dXJl"}, None, 401),
        ({}, None, 401),
        ({"X-Line-Signature": "!!!"}, None, 401),
        ("sign", b"{not json", 400),
        ("sign", b'{"destination": "U1"}', 400),
        ("sign", b"[]", 400),
    ],
)
async def test_bad_requests_get_4xx_and_store_nothing(
    world: LineWorld,
    sessions_of: async_sessionmaker[AsyncSession],
    headers: object,
    body: bytes | None,
    status: int,
) -> None:
    event = world.emulator.make_text_event("U" + "6" * 32, "สมัคร")
    raw = body if body is not None else json.dumps({"events": [event]}).encode()
    signature = "auto" if headers == "sign" else (headers or {}).get("X-Line-Signature")  # type: ignore[union-attr]

    got = await world.emulator.post_events([], signature=signature, raw=raw)

    assert got == status
    assert await count(sessions_of, InboxEvent) == 0


async def test_a_bad_signature_is_one_line_in_the_security_log(
    world: LineWorld, caplog: pytest.LogCaptureFixture
) -> None:
    event = world.emulator.make_text_event("U" + "6" * 32, "สมัคร")
    raw = json.dumps({"events": [event]}).encode()
    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        got = await world.emulator.post_events([], signature="bm90IGEgc2lnbmF0dXJl", raw=raw)
    assert got == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "bmabot.security"]
    assert lines == ["security event=signature_refused channel=line remote=127.0.0.1"]


async def test_a_five_megabyte_body_is_refused_without_a_crash(world: LineWorld) -> None:
    body = io.BytesIO(b'{"events": []' + b" " * (5 * 1024 * 1024) + b"}")
    async with (
        aiohttp.ClientSession() as session,
        session.post(str(world.emulator.webhook_url), data=body) as response,
    ):
        assert response.status == 413
    healthy = await world.emulator.post_events([])
    assert healthy == 200


async def test_the_verify_button_gets_200(world: LineWorld) -> None:
    assert await world.emulator.post_events([]) == 200


async def test_unknown_event_types_are_taken_and_ignored(
    world: LineWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    event = world.emulator.make_text_event("U" + "7" * 32, "x")
    event["type"] = "beacon"
    assert await world.emulator.post_events([event]) == 200
    await world.dispatcher.drain()
    assert world.emulator.received("U" + "7" * 32) == []
    async with sessions_of() as session:
        statuses = list(await session.scalars(select(InboxEvent.status)))
    assert statuses == ["done"]


async def test_follow_greets_with_the_main_choices(world: LineWorld) -> None:
    user = world.user("U" + "8" * 32)
    await world.emulator.follow(user.user_id)
    replies = await user.answers()
    assert "ยินดีต้อนรับ" in replies[0]["text"]
    assert [a["data"] for a in user.actions()] == [
        "menu:apply",
        "menu:handover",
        "menu:rights",
        "menu:support",
    ]


async def test_a_pdf_or_a_sticker_where_a_photo_is_asked_gets_a_thai_answer(
    world: LineWorld,
) -> None:
    user = world.user("U" + "9" * 32)
    for action, value in APPLY_AS_STAFF[:-1]:
        await (user.say(value) if action == "say" else user.tap(value))
    await world.emulator.send_file(user.user_id, "card.pdf", b"%PDF-1.4")
    await user.answers()
    assert "รูปถ่าย" in user.last_text
    await world.emulator.send_sticker(user.user_id)
    await user.answers()
    assert "รูปภาพ" in user.last_text


async def test_fifty_people_at_once_each_get_their_own_answers(
    database_url: str, engine: AsyncEngine, tmp_path: Path, clock: ManualClock
) -> None:
    async with line_world(database_url, tmp_path / "data", clock, dispatch=True) as world:
        users = [world.user(f"U{n:032d}") for n in range(50)]
        await asyncio.gather(*(world.emulator.send_text(u.user_id, "สมัคร") for u in users))
        await asyncio.gather(*(world.emulator.send_text(u.user_id, "ค่ะ") for u in users))
        await world.dispatcher.drain()
        for user in users:
            texts = world.emulator.texts(user.user_id)
            assert len(texts) == 3, texts  # terms, PDPA notice, then the kind question
            assert "ประเภทใดคะ" in texts[-1]


async def test_five_quick_messages_of_one_person_are_handled_in_order(world: LineWorld) -> None:
    user = world.user("U" + "a" * 32)
    for text in ["สมัคร", "ค่ะ", "ย้อนกลับ", "ใช่", "ยกเลิก"]:
        await world.emulator.send_text(user.user_id, text)
    await world.dispatcher.drain()

    texts = world.emulator.texts(user.user_id)
    assert "ประเภทใดคะ" in texts[2]  # accepted the terms
    assert "การคุ้มครองข้อมูลส่วนบุคคล" in texts[4]  # back to the terms and PDPA notice
    assert "ประเภทใดคะ" in texts[5]  # accepted again
    assert "ต้องการยกเลิกคำขอนี้ใช่ไหมคะ" in texts[-1]


async def test_line_429_is_retried_and_delivered_once(world: LineWorld) -> None:
    user = world.user("U" + "b" * 32)
    world.emulator.fail_next("/v2/bot/message/reply", status=429, body={"message": "slow down"})
    await world.emulator.send_text(user.user_id, "สวัสดี")
    await world.dispatcher.drain()
    assert world.emulator.received(user.user_id) == []

    world.clock.advance(minutes=5)
    await world.dispatcher.drain()
    assert [entry["via"] for entry in world.emulator.received(user.user_id)] == ["push"]


async def test_a_4xx_is_not_retried(world: LineWorld, caplog: pytest.LogCaptureFixture) -> None:
    user = world.user("U" + "c" * 32)
    world.emulator.expire_reply_tokens()
    world.emulator.fail_next("/v2/bot/message/push", status=403, body={"message": "blocked"})
    await world.emulator.send_text(user.user_id, "สวัสดี")
    world.emulator.expire_reply_tokens()
    await world.dispatcher.drain()
    world.clock.advance(hours=1)
    await world.dispatcher.drain()

    assert world.emulator.received(user.user_id) == []
    assert "blocked" in caplog.text


async def test_health_and_metrics(world: LineWorld) -> None:
    await world.emulator.send_text("U" + "d" * 32, "สวัสดี")
    await world.dispatcher.drain()
    async with aiohttp.ClientSession(world.url) as client:
        async with client.get("/healthz") as health:
            assert health.status == 200
            assert await health.json() == {
                "status": "ok",
                "database": "up",
                "directory": "up",
                "inbox_pending": 0,
                "inbox_oldest_seconds": 0.0,
                "outbox_unsent": 0,
                "jobs_failed": 0,
            }
        async with client.get("/metrics") as metrics:
            text = await metrics.text()

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("bmabot_inbox_pending", ())] == 0
    assert samples[("bmabot_inbox_events_total", (("channel", "line"),))] == 1
    accepted = (("channel", "line"), ("outcome", "accepted"))
    assert samples[("bmabot_webhook_requests_total", accepted)] == 1
    assert (
        samples[("bmabot_events_handled_total", (("channel", "line"), ("outcome", "done")))] == 1
    )
    assert samples[("bmabot_deliveries_total", (("channel", "line"), ("outcome", "sent")))] == 1
    assert samples[("bmabot_webhook_ack_seconds_count", (("channel", "line"),))] == 1
    assert samples[("bmabot_turn_seconds_count", (("channel", "line"),))] == 1
    assert samples[("bmabot_jobs", (("kind", "morning.round"), ("state", "pending")))] == 1


async def test_metrics_add_up_and_made_up_webhook_paths_add_no_series(world: LineWorld) -> None:
    for text in ("สวัสดี", "สวัสดีค่ะ"):
        await world.emulator.send_text("U" + "d" * 32, text)
    await world.dispatcher.drain()
    async with aiohttp.ClientSession(world.url) as client:
        for made_up in ("nobody", "line2", "x" * 40):
            async with client.post(f"/webhooks/{made_up}", data=b"{}") as answer:
                assert answer.status in (404, 405)
        async with client.get("/metrics") as metrics:
            text = await metrics.text()

    families = {family.name: family for family in text_string_to_metric_families(text)}
    ack_channels = {
        sample.labels["channel"] for sample in families["bmabot_webhook_ack_seconds"].samples
    }
    assert ack_channels == {"line"}
    counts = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for name in ("bmabot_webhook_ack_seconds", "bmabot_events_handled", "bmabot_deliveries")
        for sample in families[name].samples
    }
    assert counts[("bmabot_webhook_ack_seconds_count", (("channel", "line"),))] == 2
    assert counts[("bmabot_events_handled_total", (("channel", "line"), ("outcome", "done")))] == 2
    assert counts[("bmabot_deliveries_total", (("channel", "line"), ("outcome", "sent")))] == 2


async def test_health_is_degraded_while_events_wait_too_long(world: LineWorld) -> None:
    await world.emulator.send_text("U" + "d" * 32, "สวัสดี")
    world.clock.advance(seconds=31)  # stored, and nobody handled it for half a minute

    async with aiohttp.ClientSession(world.url) as client, client.get("/healthz") as health:
        assert health.status == 200  # still taking events: a balancer must not drop it
        answer = await health.json()
    assert (answer["status"], answer["problems"]) == ("degraded", ["inbox_backlog"])
    assert (answer["inbox_pending"], answer["inbox_oldest_seconds"]) == (1, 31.0)


async def test_a_slow_turn_shows_the_loading_animation(world: LineWorld) -> None:
    world.dispatcher.loading_after = 0  # a production delay of a second, here none
    user = world.user("U" + "e" * 32)
    for action, value in APPLY_AS_STAFF[:-1]:
        await (user.say(value) if action == "say" else user.tap(value))
    world.emulator.loading.clear()

    await user.photo(sample_photo())

    assert [chat for chat, _ in world.emulator.loading] == [user.user_id]


async def test_unfollow_is_recorded_and_not_answered(
    world: LineWorld, sessions_of: async_sessionmaker[AsyncSession]
) -> None:
    user = world.user("U" + "f" * 32)
    await world.emulator.unfollow(user.user_id)
    await world.dispatcher.drain()
    assert world.emulator.received(user.user_id) == []
    async with sessions_of() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert actions == ["conversation.unfollowed"]


async def test_health_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/nothing")
    app = web.Application()
    app[SERVICES] = _services_on(engine, tmp_path)
    app.router.add_get("/healthz", healthz)
    try:
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/healthz")
            assert response.status == 503
    finally:
        await engine.dispose()


def _services_on(engine: AsyncEngine, tmp_path: Path) -> Services:
    vault = Vault(TEST_SECRET_KEY)
    return Services(
        make_sessions(engine),
        vault,
        DocumentStore(tmp_path, vault),
        ManualClock(),
        apply_dialogue(Organisation.load(), verify_mobile=False),
        Catalog.load(),
        Organisation.load(),
        MEDIA_LINKS,
        MemoryDirectory(),
        verify_mobile=False,
    )
