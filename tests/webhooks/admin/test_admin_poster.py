"""`bmabot poster`: an A4 page whose QR codes open the bot, read back by a real decoder."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image

from bot.catalog import Catalog
from bot.flows import menu
from bot.flows.apply_form import FORMS
from bot.flows.incoming import Incoming, Kind
from bot.flows.kinds import KINDS
from core.settings import load_settings
from tests.handlers.test_a_new_request_kind import QUOTA, QUOTA_TEXTS
from tests.webhooks.admin_world import bmabot
from webhooks.admin.page_layout import FONTS
from webhooks.admin.poster import TELEGRAM_APPLY_PAYLOAD, poster_text
from webhooks.telegram.updates import START_PAYLOADS

LINE_LINK = "https://line.me/R/ti/p/%40123abcde"
TELEGRAM_LINK = "https://t.me/bma_account_bot?start=apply"
A4_POINTS = (595, 842)
A4_PIXELS_AT_300_DPI = (2480, 3508)
CATALOG = Catalog.load()


@pytest.fixture
def workplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No developer's .env, no app configured until a test says so."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BMABOT_LINE_BOT_BASIC_ID", raising=False)
    monkeypatch.delenv("BMABOT_TELEGRAM_BOT_USERNAME", raising=False)
    return tmp_path


@pytest.fixture
def both_apps(workplace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BMABOT_LINE_BOT_BASIC_ID", "@123abcde")
    monkeypatch.setenv("BMABOT_TELEGRAM_BOT_USERNAME", "bma_account_bot")
    return workplace


def qr_texts(image: Image.Image) -> set[str]:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return {barcode.text for barcode in found}


def pdf_page(path: Path) -> tuple[tuple[int, int], Image.Image]:
    """The only page's size in points, and the page rendered at 300 dpi."""
    document = pypdfium2.PdfDocument(path)
    try:
        assert len(document) == 1
        page = document[0]
        width, height = page.get_size()
        rendered = page.render(scale=300 / 72).to_pil()
        page.close()
    finally:
        document.close()
    return (round(width), round(height)), rendered


async def test_the_png_qr_codes_read_back_as_the_configured_links(
    both_apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("poster", "--out", "print") == 0

    with Image.open(both_apps / "print" / "bmabot-poster.png") as png:
        assert png.size == A4_PIXELS_AT_300_DPI
        assert round(png.info["dpi"][0]) == 300
        assert qr_texts(png) == {LINE_LINK, TELEGRAM_LINK}
    out = capsys.readouterr().out
    assert f"QR LINE: {LINE_LINK}" in out
    assert f"QR Telegram: {TELEGRAM_LINK}" in out


async def test_the_pdf_is_one_a4_page_whose_qr_codes_read_back(both_apps: Path) -> None:
    assert await bmabot("poster", "--out", "print") == 0

    size, rendered = pdf_page(both_apps / "print" / "bmabot-poster.pdf")
    assert size == A4_POINTS
    assert qr_texts(rendered) == {LINE_LINK, TELEGRAM_LINK}


async def test_only_the_configured_app_gets_a_qr_code(
    workplace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BMABOT_TELEGRAM_BOT_USERNAME", "@bma_account_bot")

    assert await bmabot("poster") == 0  # into the current folder

    with Image.open(workplace / "bmabot-poster.png") as png:
        assert qr_texts(png) == {TELEGRAM_LINK}
    _, rendered = pdf_page(workplace / "bmabot-poster.pdf")
    assert qr_texts(rendered) == {TELEGRAM_LINK}
    assert "QR LINE" not in capsys.readouterr().out


async def test_without_either_app_it_names_the_settings_and_writes_nothing(
    workplace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await bmabot("poster") == 2

    said = capsys.readouterr().err
    assert "BMABOT_LINE_BOT_BASIC_ID" in said
    assert "BMABOT_TELEGRAM_BOT_USERNAME" in said
    assert os.listdir(workplace) == []


async def test_a_folder_it_cannot_write_in_is_said_plainly(
    both_apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (both_apps / "taken").write_text("a file, not a folder")

    assert await bmabot("poster", "--out", "taken") == 1
    assert "cannot write the poster in taken" in capsys.readouterr().err


def test_each_kind_lists_the_documents_its_own_form_asks_for() -> None:
    text = poster_text(load_settings(), CATALOG)

    rows = {row.name: row.documents for row in text.kinds}
    id_card = CATALOG.text("poster.document.doc_id_card")
    certificate = CATALOG.text("poster.document.doc_work_certificate")
    assert rows[CATALOG.text("apply.kind.staff")] == (id_card,)
    assert rows[CATALOG.text("apply.kind.contract")] == (id_card, certificate)
    assert rows[CATALOG.text("menu.rights")] == ()  # "no documents" is printed instead
    assert len(rows) == len(FORMS) + len(list(KINDS))


def test_a_newly_registered_request_kind_appears_on_the_poster_with_its_documents() -> None:
    catalog = Catalog({**CATALOG.messages, **QUOTA_TEXTS})
    with KINDS.registered(dataclasses.replace(QUOTA, documents=("doc_memo",))):
        last = poster_text(load_settings(), catalog).kinds[-1]

    assert last.name == catalog.text(QUOTA.menu.label)
    assert last.documents == (catalog.text("poster.document.doc_memo"),)


def test_the_code_step_is_shown_only_when_mobile_numbers_are_verified() -> None:
    code_step = CATALOG.text("poster.step.mobile_code", {"digits": "6"})

    assert code_step in poster_text(load_settings(verify_mobile=True), CATALOG).steps
    assert code_step not in poster_text(load_settings(verify_mobile=False), CATALOG).steps


def test_the_sms_step_names_the_configured_sender() -> None:
    steps = poster_text(load_settings(sms_sender="BMA mail"), CATALOG).steps

    assert any("“BMA mail”" in step for step in steps)


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
def test_every_letter_of_the_poster_is_in_the_packaged_font(weight: str) -> None:
    text = poster_text(
        load_settings(line_bot_basic_id="@123abcde", telegram_bot_username="bma_account_bot"),
        CATALOG,
    )
    words = [text.title, text.subtitle, *text.steps, text.support, text.footer]
    words += [part for kind in text.kinds for part in (kind.name, kind.who or "", *kind.documents)]
    words += [part for app in text.channels for part in (app.heading, app.scan, app.handle)]
    letters = {letter for word in words for letter in word if not letter.isspace()}
    cmap = TTFont(FONTS / f"Sarabun-{weight}.ttf").getBestCmap()
    assert sorted(letter for letter in letters if ord(letter) not in cmap) == []


def test_the_telegram_link_starts_the_application_form() -> None:
    assert TELEGRAM_APPLY_PAYLOAD in START_PAYLOADS
    started = Incoming("telegram", "1", "1", Kind.TEXT, text=f"/start {TELEGRAM_APPLY_PAYLOAD}")
    assert menu.wants_apply(started)


def test_help_describes_the_command_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    from webhooks.cli import main

    with pytest.raises(SystemExit):
        main(["poster", "--help"])

    said = capsys.readouterr().out
    assert "A4" in said
    assert "2480 x 3508" in said
    assert "examples:\n  BMABOT_LINE_BOT_BASIC_ID=@123abcde bmabot poster\n" in said
