"""The rich menu: a Thai-labelled image within LINE's limits, six postback areas, installed, and
each area leading to its service."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

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
from core.clock import ManualClock
from tests.emulators.line import LineEmulator, check_rich_menu
from tests.webhooks.line_world import LineWorld, line_world
from webhooks.appkeys import SETTINGS
from webhooks.line.richmenu import (
    FONT,
    HEIGHT,
    ITEMS,
    WIDTH,
    area_bounds,
    font_bytes,
    install_rich_menu,
    rich_menu_image,
    rich_menu_request,
)
from webhooks.line.setup import install_rich_menu_command

TOKEN = "test-access-token"
LABELS = {
    "richmenu.apply": "ขอบัญชี",
    "richmenu.handover": "เปลี่ยนผู้รับผิดชอบ",
    "richmenu.rights": "ขอสิทธิ์ e-GP/Portal",
    "richmenu.status": "สถานะคำขอ",
    "richmenu.support": "ติดต่อเจ้าหน้าที่",
    "richmenu.terms": "เงื่อนไขการใช้",
}
THIRD = [(0, 833), (833, 834), (1667, 833)]  # x and width of the three columns
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


def test_image_is_a_full_size_png_under_one_megabyte(png: bytes) -> None:
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (2500, 1686))
    assert len(png) <= 1024 * 1024


def test_each_of_the_six_areas_has_its_label_drawn_in_dark_ink(png: bytes) -> None:
    with Image.open(io.BytesIO(png)) as image:
        grey = image.convert("L")
    label_bands = [
        grey.crop((x, y + 560, x + width, y + 843)) for x, width in THIRD for y in (0, 843)
    ]
    dark = [sum(band.histogram()[:80]) for band in label_bands]
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


def test_request_has_six_areas_tiling_the_menu_three_a_row() -> None:
    request = rich_menu_request(CATALOG)
    bounds = [(a.bounds.x, a.bounds.y, a.bounds.width, a.bounds.height) for a in request.areas]
    assert bounds == [(x, y, width, 843) for y in (0, 843) for x, width in THIRD]
    covered = sum(width * height for _, _, width, height in bounds)
    assert covered == WIDTH * HEIGHT  # no gap, no overlap: every tap lands in one area


def test_every_area_is_a_postback_the_bot_routes() -> None:
    actions = [(a.action.data, a.action.display_text) for a in rich_menu_request(CATALOG).areas]
    assert actions == [
        ("menu:apply", "ขอบัญชี"),
        ("menu:handover", "เปลี่ยนผู้รับผิดชอบ"),
        ("menu:rights", "ขอสิทธิ์ e-GP/Portal"),
        ("menu:status", "สถานะคำขอ"),
        ("menu:support", "ติดต่อเจ้าหน้าที่"),
        ("menu:terms", "เงื่อนไขการใช้"),
    ]


def test_request_is_full_size_selected_and_named() -> None:
    payload = rich_menu_request(CATALOG).to_dict()
    assert payload["size"] == {"width": 2500, "height": 1686}
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
        "menu:handover",
        "menu:rights",
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


# What a person types for each service: a tap on its area must answer the same.
TYPED = {
    "richmenu.apply": "สมัคร",
    "richmenu.handover": "เปลี่ยนผู้รับผิดชอบ",
    "richmenu.rights": "ขอสิทธิ์",
    "richmenu.status": "สถานะ",
    "richmenu.support": "ติดต่อเจ้าหน้าที่",
}


@pytest.fixture
async def world(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[LineWorld]:
    async with line_world(database_url, tmp_path / "data", clock) as running:
        assert await install_rich_menu_command(running.app[SETTINGS]) == 0  # bmabot line richmenu
        yield running


async def test_a_tap_on_each_area_opens_its_service(world: LineWorld) -> None:
    for index, item in enumerate(ITEMS):
        x, y, width, height = area_bounds(index)
        tapper, typist = world.user(f"U{index:032x}"), world.user(f"U{index + 100:032x}")

        status, _ = await world.emulator.tap_rich_menu(
            tapper.user_id, x + width // 2, y + height // 2
        )
        assert status == 200
        tapped = [message["text"] for message in await tapper.answers()]

        if item.label_key == "richmenu.terms":
            assert tapped[0] == Catalog.load().text("apply.terms")
        else:
            typed = [message["text"] for message in await typist.say(TYPED[item.label_key])]
            assert tapped == typed, item.label_key
        assert tapped, item.label_key
