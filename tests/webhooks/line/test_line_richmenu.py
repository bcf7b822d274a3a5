"""The rich menu: a Thai-labelled image within LINE's limits, four postback areas, installed."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from importlib import resources

import pytest
from aiohttp.test_utils import TestServer
from fontTools.ttLib import TTFont
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    RichMenuRequest,
)
from PIL import Image

from bot.catalog import Catalog, CatalogError
from tests.emulators.line import LineEmulator, check_rich_menu
from webhooks.line.richmenu import (
    FONT,
    HEIGHT,
    ITEMS,
    WIDTH,
    font_bytes,
    install_rich_menu,
    rich_menu_image,
    rich_menu_request,
)

TOKEN = "test-access-token"
LABELS = {
    "richmenu.apply": "ขอบัญชี",
    "richmenu.status": "สถานะคำขอ",
    "richmenu.support": "ติดต่อเจ้าหน้าที่",
    "richmenu.terms": "เงื่อนไขการใช้",
}
CATALOG = Catalog({**LABELS, "richmenu.chat_bar": "เมนู"})


@pytest.fixture(scope="module")
def png() -> bytes:
    return rich_menu_image(CATALOG)


@pytest.fixture
def line() -> LineEmulator:
    return LineEmulator(channel_secret="test-channel-secret", access_token=TOKEN)


@pytest.fixture
async def apis(
    line: LineEmulator,
) -> AsyncIterator[tuple[AsyncMessagingApi, AsyncMessagingApiBlob]]:
    async with TestServer(line.app, host="127.0.0.1") as server:
        host = str(server.make_url("")).rstrip("/")
        # Two clients as in production (api and data hosts), both pointed at the emulator.
        async with (
            AsyncApiClient(Configuration(access_token=TOKEN, host=host)) as api,
            AsyncApiClient(Configuration(access_token=TOKEN, host=host)) as data,
        ):
            yield AsyncMessagingApi(api), AsyncMessagingApiBlob(data)


def test_image_is_a_compact_png_under_one_megabyte(png: bytes) -> None:
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (2500, 843))
    assert len(png) <= 1024 * 1024


def test_each_quarter_has_its_label_drawn_in_dark_ink(png: bytes) -> None:
    with Image.open(io.BytesIO(png)) as image:
        grey = image.convert("L")
    quarter = WIDTH // 4
    label_band = [grey.crop((n * quarter, 560, (n + 1) * quarter, HEIGHT)) for n in range(4)]
    dark = [sum(band.histogram()[:80]) for band in label_band]
    assert all(count > 2000 for count in dark), dark


def test_missing_label_in_the_catalog_is_an_error() -> None:
    with pytest.raises(CatalogError, match=r"richmenu\.terms"):
        rich_menu_image(Catalog({**LABELS, "richmenu.terms": ""}))


def test_every_letter_of_the_catalog_labels_is_in_the_bundled_font() -> None:
    # The package's own font, not the machine's: no Thai font needs to be installed.
    catalog = Catalog.load()
    labels = [catalog.text(item.label_key) for item in ITEMS]
    letters = {letter for label in labels for letter in label if not letter.isspace()}
    cmap = TTFont(io.BytesIO(font_bytes())).getBestCmap()
    assert sorted(letter for letter in letters if ord(letter) not in cmap) == []
    assert any("\u0e00" <= letter <= "\u0e7f" for letter in letters)  # Thai letters indeed


def test_the_bundled_font_travels_with_its_licence() -> None:
    assert FONT.name == "Sarabun-Bold.ttf"
    licence = (resources.files("webhooks.fonts") / "OFL.txt").read_text(encoding="utf-8")
    assert "The Sarabun Project Authors" in licence
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence


def test_request_has_four_equal_areas_with_menu_postbacks() -> None:
    request = rich_menu_request(CATALOG)
    bounds = [(a.bounds.x, a.bounds.y, a.bounds.width, a.bounds.height) for a in request.areas]
    assert bounds == [
        (0, 0, 625, 843),
        (625, 0, 625, 843),
        (1250, 0, 625, 843),
        (1875, 0, 625, 843),
    ]
    actions = [(a.action.data, a.action.display_text) for a in request.areas]
    assert actions == [
        ("menu:apply", "ขอบัญชี"),
        ("menu:status", "สถานะคำขอ"),
        ("menu:support", "ติดต่อเจ้าหน้าที่"),
        ("menu:terms", "เงื่อนไขการใช้"),
    ]


def test_request_is_compact_selected_and_named() -> None:
    payload = rich_menu_request(CATALOG).to_dict()
    assert payload["size"] == {"width": 2500, "height": 843}
    assert (payload["selected"], payload["name"], payload["chatBarText"]) == (
        True,
        "bmabot",
        "เมนู",
    )


def test_request_passes_the_sdk_models_and_line_limits() -> None:
    payload = rich_menu_request(CATALOG).to_dict()
    assert RichMenuRequest.from_dict(payload).to_dict() == payload
    assert check_rich_menu(payload) == []


def test_chat_bar_text_over_14_chars_is_refused() -> None:
    with pytest.raises(ValueError, match=r"richmenu\.chat_bar"):
        rich_menu_request(Catalog({**LABELS, "richmenu.chat_bar": "เมนูบริการของกรุงเทพมหานคร"}))


async def test_install_creates_uploads_and_makes_default(
    line: LineEmulator, apis: tuple[AsyncMessagingApi, AsyncMessagingApiBlob], png: bytes
) -> None:
    rich_menu_id = await install_rich_menu(*apis, CATALOG)
    line.assert_no_violations()
    assert line.default_rich_menu == rich_menu_id
    assert line.rich_menu_images[rich_menu_id] == png
    areas = line.rich_menus[rich_menu_id]["areas"]
    assert [area["action"]["data"] for area in areas] == [
        "menu:apply",
        "menu:status",
        "menu:support",
        "menu:terms",
    ]


async def test_failed_upload_leaves_no_menu_behind(
    line: LineEmulator, apis: tuple[AsyncMessagingApi, AsyncMessagingApiBlob]
) -> None:
    line.fail_next("/v2/bot/richmenu/{richMenuId}/content", status=500)
    with pytest.raises(ApiException):
        await install_rich_menu(*apis, CATALOG)
    assert line.rich_menus == {}
    assert line.default_rich_menu is None
