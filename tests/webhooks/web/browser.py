"""The simulator in headless Debian Chromium (Playwright), and axe-core to check what it shows.

axe-core comes from npm, never from the internet during a test: `npm install --prefix
.cache/axe axe-core@4` once (CI's .ci/run does, and sets BMABOT_REQUIRE_AXE so that a missing
copy fails there instead of skipping), or BMABOT_AXE_JS=/path/to/axe.min.js.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import TEST_SECRET_KEY
from tests.handlers.transcripts import STAFF_ANSWERS
from webhooks.demo import create_demo_app, demo_settings

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
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
WAIT = 20_000  # milliseconds: the bot answers within a second; a loaded CI machine is slower
DESKTOP = {"width": 1280, "height": 1100}
AXE_JS = Path(
    os.environ.get("BMABOT_AXE_JS") or ROOT / ".cache/axe/node_modules/axe-core/axe.min.js"
)
NOT_ALLOWED = ("serious", "critical")  # axe's impacts that fail the page
OpenPage = Callable[..., Awaitable[Any]]


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
async def open_page(demo_url: str) -> AsyncIterator[OpenPage]:
    """open_page(width=390, height=800): the simulator in a new tab of one headless browser."""
    playwright_api = pytest.importorskip("playwright.async_api")
    # Leaving the block stops Playwright's driver, and with it a browser that would not close.
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, timeout=WAIT
        )
        context = await browser.new_context()  # one browser's storage, shared by its tabs

        async def opened(width: int = DESKTOP["width"], height: int = DESKTOP["height"]) -> Any:
            page = await context.new_page()
            await page.set_viewport_size({"width": width, "height": height})
            await page.goto(demo_url, timeout=WAIT)
            await page.locator(".phone:not([hidden]) .said.bot").first.wait_for(timeout=WAIT)
            return page

        try:
            yield opened
        finally:
            await asyncio.wait_for(browser.close(), timeout=WAIT / 1000)


@pytest.fixture
async def page(open_page: OpenPage) -> Any:
    return await open_page()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if AXE_JS.is_file():
        return AXE_JS.read_text(encoding="utf-8")
    reason = "needs axe-core from npm: npm install --prefix .cache/axe axe-core@4"
    if os.environ.get("BMABOT_REQUIRE_AXE"):
        pytest.fail(f"{reason} (BMABOT_REQUIRE_AXE is set)")
    pytest.skip(reason)


async def serious_violations(page: Any, axe_source: str) -> list[str]:
    """What axe-core finds serious or critical on the page as it is now, one line each."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source)
    violations = await page.evaluate("axe.run(document).then((result) => result.violations)")
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in NOT_ALLOWED
    ]


async def overflow(page: Any) -> dict[str, int]:
    """The document's width beside the window's: wider means a sideways scroll bar."""
    return await page.evaluate(  # type: ignore[no-any-return]
        "({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )


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


async def apply_and_approve(page: Any, shots: Path | None = None) -> None:
    """A staff application with the sample ID card, approved: every pane has something."""

    async def shot(name: str) -> None:
        if shots is not None:
            await page.screenshot(path=shots / name)

    phone = page.locator(".phone:not([hidden])")
    await shot("1-opened.png")
    for text in STAFF_ANSWERS:
        await answer(phone, text)
    await shot("2-form-filled.png")
    replies = await phone.locator(".said.bot").count()
    await phone.locator(".sample").click()
    await phone.locator(".said.bot").nth(replies).wait_for(timeout=WAIT)
    await phone.locator(".said.person img").wait_for(timeout=WAIT)
    await shot("3-photo-sent.png")
    await answer(phone, "ถูกต้อง ส่งคำขอ")
    card = page.locator("#review .said.card", has_text="A69-00001")
    await card.get_by_role("button", name="✅ อนุมัติ").click(timeout=WAIT)
    await page.locator("#review img").first.wait_for(timeout=WAIT)
    await page.locator("#sms-list li", has_text="somchai.j").wait_for(timeout=WAIT)
    await page.locator("#accounts tr", has_text="A69-00001").wait_for(timeout=WAIT)
    await phone.locator(".said.bot", has_text="พร้อมใช้งานแล้ว").wait_for(timeout=WAIT)
    await shot("4-approved.png")
