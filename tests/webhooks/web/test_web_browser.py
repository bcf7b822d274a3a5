"""The simulator in headless Chromium: apply, approve, then the SMS and the account show."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import TEST_SECRET_KEY
from tests.handlers.transcripts import STAFF_ANSWERS
from webhooks.demo import create_demo_app, demo_settings

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
README_PICTURE = Path(__file__).resolve().parents[3] / "docs" / "simulator.png"
WAIT = 20_000  # milliseconds: the bot answers within a second; a loaded CI machine is slower


@pytest.fixture
async def demo_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    settings = demo_settings(tmp_path / "demo").model_copy(update={"database_url": database_url})
    server = TestServer(create_demo_app(settings, secret_key=TEST_SECRET_KEY), host="127.0.0.1")
    try:
        await server.start_server()
        yield str(server.make_url("/"))
    finally:
        await server.close()


@pytest.fixture
async def page(demo_url: str) -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    # Leaving the block stops Playwright's driver, and with it a browser that would not close.
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, timeout=WAIT
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1100})
            await page.goto(demo_url, timeout=WAIT)
            yield page
        finally:
            await asyncio.wait_for(browser.close(), timeout=WAIT / 1000)


async def answer(phone: Any, text: str) -> None:
    """Click the chip with this label if the bot offers one, else type; wait for the reply."""
    replies = await phone.locator(".said.bot").count()
    chip = phone.get_by_role("button", name=text, exact=True)
    if await chip.count():
        await chip.last.click()
    else:
        await phone.locator(".composer input").fill(text)
        await phone.locator(".composer input").press("Enter")
    await phone.locator(".said.bot").nth(replies).wait_for(timeout=WAIT)


async def test_a_person_applies_and_a_reviewer_approves_in_the_browser(
    page: Any, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    phone = page.locator(".phone:not([hidden])")
    await phone.locator(".said.bot").first.wait_for(timeout=WAIT)
    await page.screenshot(path=shots / "1-opened.png")
    for text in STAFF_ANSWERS:
        await answer(phone, text)
    await page.screenshot(path=shots / "2-form-filled.png")
    replies = await phone.locator(".said.bot").count()
    await phone.locator(".sample").click()
    await phone.locator(".said.bot").nth(replies).wait_for(timeout=WAIT)
    await phone.locator(".said.person img").wait_for(timeout=WAIT)
    await page.screenshot(path=shots / "3-photo-sent.png")
    await answer(phone, "ถูกต้อง ส่งคำขอ")
    card = page.locator("#review .said.card", has_text="A69-00001")
    await card.get_by_role("button", name="✅ อนุมัติ").click(timeout=WAIT)
    await page.locator("#review img").first.wait_for(timeout=WAIT)
    await page.locator("#sms-list li", has_text="somchai.j").wait_for(timeout=WAIT)
    await page.locator("#accounts tr", has_text="A69-00001").wait_for(timeout=WAIT)
    await phone.locator(".said.bot", has_text="พร้อมใช้งานแล้ว").wait_for(timeout=WAIT)
    await page.screenshot(path=shots / "4-approved.png")
    README_PICTURE.parent.mkdir(exist_ok=True)
    if os.environ.get("BMABOT_UPDATE_SCREENSHOT"):  # keeps a test run from dirtying the tree
        shutil.copyfile(shots / "4-approved.png", README_PICTURE)


async def test_support_has_links_that_call_each_section(page: Any) -> None:
    phone = page.locator(".phone:not([hidden])")
    await phone.locator(".said.bot").first.wait_for(timeout=WAIT)
    await answer(phone, "ติดต่อ")
    call = phone.locator("a.call", has_text="ฝ่ายฐานข้อมูล")
    assert await call.get_attribute("href") == "tel:022032751"


async def test_two_applicant_tabs_keep_their_own_chats(page: Any, tmp_path: Path) -> None:
    first = page.locator(".phone:not([hidden])")
    await answer(first, "สมัคร")
    await page.locator("#new-applicant").click()
    second = page.locator(".phone:not([hidden])")
    await second.locator(".said.bot").first.wait_for(timeout=WAIT)
    await answer(second, "secret-of-tab-2")
    await page.screenshot(path=tmp_path / "two-tabs.png")
    await page.locator(".tabs button[data-user]").first.click()
    assert "secret-of-tab-2" not in await first.inner_text()
    assert await page.locator(".phone").count() == 2
