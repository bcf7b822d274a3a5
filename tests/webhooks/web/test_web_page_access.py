"""The simulator page on a phone and to a screen reader: it fits 360 px, names what it shows
in Thai, reads new messages aloud, and axe-core finds nothing serious or critical in it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.catalog import Catalog
from tests.webhooks.web.browser import (
    DESKTOP,
    WAIT,
    OpenPage,
    answer,
    apply_and_approve,
    axe_source,
    demo_url,
    needs_chromium,
    open_page,
    overflow,
    page,
    serious_violations,
)

__all__ = ["axe_source", "demo_url", "open_page", "page"]
pytestmark = needs_chromium
WORDS = Catalog.load()
THAI = re.compile(r"[\u0e01-\u0e5b]")
LONG_WORD = "https://webportal.bangkok.go.th/" + "x" * 150  # nothing to break it at
# Each send button's box beside the box of the pane it is in, as the browser laid them out.
SEND_BUTTONS = """() => [...document.querySelectorAll("button[type=submit]")]
  .filter((button) => button.offsetParent !== null)
  .map((button) => {
    const box = button.getBoundingClientRect();
    const pane = button.closest(".phone, .group").getBoundingClientRect();
    return {left: box.left, right: box.right, pane_left: pane.left, pane_right: pane.right,
            text_fits: button.scrollWidth <= button.clientWidth};
  })"""


@pytest.mark.parametrize("width", [360, 390])
async def test_on_a_phone_nothing_overflows_and_the_reviewers_sit_below_the_phone(
    open_page: OpenPage, width: int
) -> None:
    page = await open_page(width=width, height=800)
    phone = page.locator(".phone:not([hidden])")
    await answer(phone, LONG_WORD)

    sizes = await overflow(page)
    assert sizes["scroll"] <= sizes["client"], f"{sizes['scroll'] - sizes['client']} px too wide"
    phone_box = await phone.bounding_box()
    review_box = await page.locator("#review").bounding_box()
    assert review_box["y"] >= phone_box["y"] + phone_box["height"]
    sends = await page.evaluate(SEND_BUTTONS)
    assert len(sends) == 2  # the applicant's and the reviewers'
    for send in sends:
        assert send["pane_left"] <= send["left"]
        assert send["right"] <= send["pane_right"]
        assert send["right"] <= width
        assert send["text_fits"]


async def test_on_a_computer_the_reviewers_sit_beside_the_phone(page: Any) -> None:
    phone_box = await page.locator(".phone:not([hidden])").bounding_box()
    review_box = await page.locator("#review").bounding_box()
    assert review_box["x"] >= phone_box["x"] + phone_box["width"]
    assert review_box["y"] < phone_box["y"] + phone_box["height"]


async def test_the_message_boxes_and_the_photo_button_have_thai_names(page: Any) -> None:
    applicant = page.get_by_role("textbox", name=WORDS.text("demo.applicant_message"))
    reviewers = page.get_by_role("textbox", name=WORDS.text("demo.review_message"))
    photo = page.get_by_label(WORDS.text("demo.photo"))
    assert [await applicant.count(), await reviewers.count(), await photo.count()] == [1, 1, 1]
    assert all(
        THAI.search(WORDS.text(key))
        for key in ("demo.applicant_message", "demo.review_message", "demo.photo")
    )


async def test_both_chats_are_logs_a_screen_reader_reads_as_they_grow(page: Any) -> None:
    applicant = page.get_by_role("log", name=f"{WORDS.text('demo.applicant')} 1")
    reviewers = page.get_by_role("log", name=WORDS.text("demo.reviewers"))
    for log in (applicant, reviewers):
        assert await log.count() == 1
        assert await log.get_attribute("aria-live") == "polite"


async def test_a_photo_is_described_in_thai(page: Any) -> None:
    phone = page.locator(".phone:not([hidden])")
    await phone.locator(".sample").click()
    sent = phone.locator(".said.person img")
    await sent.wait_for(timeout=WAIT)
    assert await sent.get_attribute("alt") == WORDS.text("demo.photo_sent")
    assert THAI.search(WORDS.text("demo.photo_sent"))
    assert THAI.search(WORDS.text("demo.photo_document"))  # a card's document, for reviewers


async def test_the_page_has_an_icon(page: Any) -> None:
    icon = await page.evaluate("document.querySelector('link[rel=icon]').href")
    response = await page.request.get(icon)
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize("width", [390, DESKTOP["width"]])
async def test_axe_finds_nothing_serious_on_the_opened_page(
    open_page: OpenPage, axe_source: str, width: int
) -> None:
    page = await open_page(width=width, height=800)
    assert await serious_violations(page, axe_source) == []


async def test_a_whole_application_on_a_phone_fits_and_axe_finds_nothing_serious(
    open_page: OpenPage, axe_source: str
) -> None:
    page = await open_page(width=390, height=844)
    await apply_and_approve(page)  # a card with buttons, photos, an SMS and an account

    sizes = await overflow(page)
    assert sizes["scroll"] <= sizes["client"], f"{sizes['scroll'] - sizes['client']} px too wide"
    assert await serious_violations(page, axe_source) == []
    await page.set_viewport_size(DESKTOP)
    assert await serious_violations(page, axe_source) == []
