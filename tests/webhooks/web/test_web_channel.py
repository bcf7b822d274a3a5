"""The demo's web channel: the real dialogue, review and jobs, seen through the simulator API."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from core.clock import ManualClock
from core.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.handlers.chat import sample_photo
from tests.handlers.transcripts import STAFF_ANSWERS
from tests.webhooks.web_world import WebWorld, web_world
from webhooks.app import create_app


async def apply_as_staff(world: WebWorld, user: str) -> None:
    applicant = world.applicant(user)
    await applicant.post(kind="follow")
    for answer in STAFF_ANSWERS:
        await applicant.answer(answer)
    await applicant.photo(sample_photo())
    await applicant.answer("ถูกต้อง ส่งคำขอ")


async def test_staff_applies_and_is_approved_through_the_web_channel(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        await apply_as_staff(world, "somchai")
        assert any("A69-00001" in text for text in await world.applicant("somchai").bot_texts())
        reviewer = world.reviewer()
        card = next(s for s in await reviewer.said() if "A69-00001" in (s.get("title") or ""))
        assert any((s["image_url"] or "").startswith("/media/") for s in await reviewer.said())
        await reviewer.answer("✅ อนุมัติ")
        ledger = await world.ledger()
        settled = [s for s in await reviewer.said() if s.get("replaces") == card["id"]]
    assert [sms["to"] for sms in ledger["sms"]] == ["+66812345678"]
    assert "somchai.j" in ledger["sms"][0]["message"]
    accounts = [(a["uid"], a["name"], a["reference"]) for a in ledger["accounts"]]
    assert accounts == [("somchai.j", "นายสมชาย ใจดี", "A69-00001")]
    assert "1103700123458" not in str(ledger)
    assert settled
    assert not settled[0]["buttons"]


async def test_the_sms_pane_gives_its_times_as_the_cards_do_in_bangkok_time(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        await apply_as_staff(world, "somchai")  # at 03:00 UTC: 10:00 in Bangkok
        reviewer = world.reviewer()
        card = next(s for s in await reviewer.said() if "A69-00001" in (s.get("title") or ""))
        await reviewer.answer("✅ อนุมัติ")
        ledger = await world.ledger()
    assert "25/11/2569 10:00 น." in card["text"]
    assert [sms["at"] for sms in ledger["sms"]] == ["25/11/2569 10:00 น."]


async def test_the_group_names_the_demo_reviewer_as_a_platform_would(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        await apply_as_staff(world, "somchai")
        reviewer = world.reviewer()
        await reviewer.answer("✅ อนุมัติ")
        group = " ".join(str(s.get("text") or "") for s in await reviewer.said())
    assert "ผู้ตรวจ สมศรี รักงาน อนุมัติคำขอ A69-00001" in group
    assert "reviewer" not in group  # the page's user id is for the audit trail only


async def test_find_answers_the_card_with_its_photos_on_the_web(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        await apply_as_staff(world, "somchai")
        reviewer = world.reviewer()
        posted = len(await reviewer.said())
        await reviewer.post(kind="text", text="/find A69-00001")
        found = [s for s in (await reviewer.said())[posted:] if s["sender"] == "bot"]
    card, picture = found
    assert card["title"] == "คำขอใหม่ A69-00001"
    assert [data for _, data in card["buttons"]] == ["rv:a:1", "rv:r:1", "rv:t:1"]
    assert picture["text"] == "A69-00001: สำเนาบัตรประชาชน"
    assert picture["image_url"].startswith("/media/")


async def test_after_submitting_the_menu_is_a_tap_away_and_a_stale_send_says_it_is_filed(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        await apply_as_staff(world, "somchai")
        applicant = world.applicant("somchai")
        submitted = (await applicant.said())[-1]
        summary = next(s for s in await applicant.said() if s.get("key") == "apply.summary_title")
        await applicant.post(kind="button", data="apply:submit", origin=summary["id"])
        stale = [s for s in await applicant.said() if s["sender"] == "bot"][-2:]
        await applicant.answer("เมนูหลัก")
        home = (await applicant.said())[-1]
    assert [label for label, _ in submitted["buttons"]] == ["สถานะคำขอ", "เมนูหลัก"]
    assert "ไม่ต้องกดซ้ำ" in stale[0]["text"]
    assert "A69-00001 — รอตรวจสอบ" in stale[1]["text"]
    assert [label for label, _ in stale[1]["buttons"]] == ["เมนูหลัก"]
    assert home["key"] == "menu.greeting"


async def test_two_applicants_never_see_each_others_messages(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        first, second = world.applicant("tab-1"), world.applicant("tab-2")
        await first.post(kind="follow")
        await second.post(kind="follow")
        await first.answer("สมัคร")
        await second.post(kind="text", text="secret-of-tab-2")
        first_said, second_said = await first.said(), await second.said()
    assert {s.get("user") for s in first_said if s["sender"] == "person"} == {"tab-1"}
    assert {s.get("user") for s in second_said if s["sender"] == "person"} == {"tab-2"}
    assert "secret-of-tab-2" not in str(first_said)
    assert not {s["id"] for s in first_said} & {s["id"] for s in second_said}


async def test_support_gives_the_page_call_buttons_it_shows_as_tel_links(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        person = world.applicant("caller")
        await person.post(kind="follow")
        await person.post(kind="text", text="ติดต่อ")
        support = (await person.said())[-1]
    assert support["key"] == "support.contacts"
    assert support["buttons"][:2] == [
        ["โทร ฝ่ายฐานข้อมูล", "tel:022032751"],
        ["โทร ฝ่ายโปรแกรมระบบ", "tel:022032754"],
    ]


async def test_a_person_cannot_write_into_someone_elses_chat(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        response = await world.client.post(
            "/web/chats/tab-2/said", json={"user": "tab-1", "kind": "text", "text": "hi"}
        )
    assert response.status == 403


async def test_a_page_that_opens_later_gets_the_chat_so_far_as_events(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        await world.applicant("late").post(kind="follow")
        response = await world.client.get("/web/chats/late/events")
        first = await response.content.readuntil(b"\n\n")
        response.close()
    assert first.startswith(b"data: ")
    assert b"menu.greeting" in first


async def test_the_page_and_its_thai_words_are_served(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with web_world(database_url, tmp_path / "demo", clock) as world:
        page = await world.client.get("/")
        html = await page.text()
        words = await (await world.client.get("/web/words")).json()
        sample = await world.client.get("/static/sample-id-card.png")
    assert page.status == 200
    assert "app.js" in html
    assert words["reviewers"] == "กลุ่มผู้ตรวจสอบคำขอ"
    assert sample.status == 200
    assert sample.content_type == "image/png"


async def test_serve_has_no_simulator(database_url: str, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url, data_dir=tmp_path / "data", secret_key=TEST_SECRET_KEY
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        statuses = [
            (await client.get(path)).status
            for path in ("/", "/web/words", "/web/ledger", "/static/app.js")
        ]
        healthy = (await client.get("/healthz")).status
    assert statuses == [404, 404, 404, 404]
    assert healthy == 200
