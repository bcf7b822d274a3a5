"""LINE's rich menu under the chat: the three requests above, status, support and terms below,
drawn and installed."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass

from linebot.v3.messaging import (
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

from bot.catalog import Catalog
from bot.flows import handover, menu, rights
from webhooks.fonts import SARABUN_BOLD, sarabun_bold
from webhooks.line.messages import truncate_label

logger = logging.getLogger(__name__)

# LINE's full size, three areas a row: six services, each label large enough to read.
WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
ROW_HEIGHT = HEIGHT // ROWS
MAX_IMAGE_BYTES = 1024 * 1024
MAX_CHAT_BAR_TEXT = 14
SCALE = 2  # drawn twice as large, then scaled down: Pillow's shapes are not anti-aliased
BACKGROUND, INK, RULE = "#f5f8f6", "#1f2933", "#d3ddd7"

# The labels are drawn with the font the package ships, never with the machine's: the menu
# looks the same everywhere and a slim server image needs no Thai font (webhooks.fonts).
FONT = SARABUN_BOLD

Point = tuple[float, float]
Icon = Callable[[ImageDraw.ImageDraw, Point, float, str], None]


def _draw_apply(draw: ImageDraw.ImageDraw, centre: Point, r: float, accent: str) -> None:
    x, y = centre[0] - 0.15 * r, centre[1]
    draw.ellipse((x - 0.22 * r, y - 0.55 * r, x + 0.22 * r, y - 0.11 * r), fill="white")
    draw.chord((x - 0.42 * r, y, x + 0.42 * r, y + 0.84 * r), 180, 360, fill="white")
    px, py, arm, half = centre[0] + 0.42 * r, y - 0.05 * r, 0.2 * r, 0.05 * r
    draw.rectangle((px - arm, py - half, px + arm, py + half), fill="white")
    draw.rectangle((px - half, py - arm, px + half, py + arm), fill="white")


def _draw_status(draw: ImageDraw.ImageDraw, centre: Point, r: float, accent: str) -> None:
    x, y = centre
    width = round(0.09 * r)
    draw.ellipse(
        (x - 0.55 * r, y - 0.55 * r, x + 0.55 * r, y + 0.55 * r), outline="white", width=width
    )
    draw.line((x, y, x, y - 0.38 * r), fill="white", width=width)
    draw.line((x, y, x + 0.28 * r, y), fill="white", width=width)
    draw.ellipse((x - 0.08 * r, y - 0.08 * r, x + 0.08 * r, y + 0.08 * r), fill="white")


def _draw_support(draw: ImageDraw.ImageDraw, centre: Point, r: float, accent: str) -> None:
    x, y = centre
    bubble = (x - 0.58 * r, y - 0.42 * r, x + 0.58 * r, y + 0.3 * r)
    draw.rounded_rectangle(bubble, radius=0.16 * r, fill="white")
    tail = [(x - 0.34 * r, y + 0.2 * r), (x - 0.06 * r, y + 0.2 * r), (x - 0.42 * r, y + 0.58 * r)]
    draw.polygon(tail, fill="white")
    for dx in (-0.27, 0.0, 0.27):
        dot_x, dot_y = x + dx * r, y - 0.06 * r
        draw.ellipse(
            (dot_x - 0.08 * r, dot_y - 0.08 * r, dot_x + 0.08 * r, dot_y + 0.08 * r), fill=accent
        )


def _draw_terms(draw: ImageDraw.ImageDraw, centre: Point, r: float, accent: str) -> None:
    x, y = centre
    draw.rounded_rectangle(
        (x - 0.4 * r, y - 0.55 * r, x + 0.4 * r, y + 0.55 * r), 0.07 * r, "white"
    )
    for row, length in enumerate((0.5, 0.5, 0.5, 0.3)):
        start, line_y = x - 0.25 * r, y - 0.3 * r + row * 0.2 * r
        draw.line((start, line_y, start + length * r, line_y), fill=accent, width=round(0.07 * r))


def _draw_handover(draw: ImageDraw.ImageDraw, centre: Point, r: float, accent: str) -> None:
    """Two people and an arrow from one to the other: the responsible person changes."""
    for dx in (-0.3, 0.3):
        x, y = centre[0] + dx * r, centre[1] - 0.05 * r
        draw.ellipse((x - 0.15 * r, y - 0.42 * r, x + 0.15 * r, y - 0.12 * r), fill="white")
        draw.chord((x - 0.28 * r, y - 0.05 * r, x + 0.28 * r, y + 0.55 * r), 180, 360, "white")
    y, width = centre[1] + 0.42 * r, round(0.07 * r)
    draw.line((centre[0] - 0.3 * r, y, centre[0] + 0.22 * r, y), fill="white", width=width)
    head = [(centre[0] + 0.36 * r, y), (centre[0] + 0.18 * r, y - 0.1 * r)]
    draw.polygon([*head, (centre[0] + 0.18 * r, y + 0.1 * r)], fill="white")


def _draw_rights(draw: ImageDraw.ImageDraw, centre: Point, r: float, accent: str) -> None:
    """A key: the right to use a system."""
    x, y = centre[0] - 0.25 * r, centre[1]
    draw.ellipse((x - 0.28 * r, y - 0.28 * r, x + 0.28 * r, y + 0.28 * r), fill="white")
    draw.ellipse((x - 0.11 * r, y - 0.11 * r, x + 0.11 * r, y + 0.11 * r), fill=accent)
    draw.rectangle((x + 0.2 * r, y - 0.06 * r, x + 0.75 * r, y + 0.06 * r), fill="white")
    for tooth in (0.5, 0.66):
        draw.rectangle((x + tooth * r, y, x + (tooth + 0.09) * r, y + 0.22 * r), fill="white")


@dataclass(frozen=True, slots=True)
class MenuItem:
    label_key: str
    data: str
    colour: str
    icon: Icon


# The data are those the bot already routes (bot.flows.menu and the request kinds): a tap
# is the same as the main menu's button. Top row the requests, bottom row the rest.
ITEMS = (
    MenuItem("richmenu.apply", menu.APPLY.data, "#1b7f4b", _draw_apply),
    MenuItem("richmenu.handover", handover.KIND.menu.data, "#0f766e", _draw_handover),
    MenuItem("richmenu.rights", rights.KIND.menu.data, "#7c3aed", _draw_rights),
    MenuItem("richmenu.status", menu.STATUS.data, "#1f5fa8", _draw_status),
    MenuItem("richmenu.support", menu.SUPPORT.data, "#b45309", _draw_support),
    MenuItem("richmenu.terms", menu.TERMS_BUTTON, "#4b5563", _draw_terms),
)


def area_bounds(index: int) -> tuple[int, int, int, int]:
    """x, y, width, height of the index-th area: columns as equal as whole pixels allow."""
    column, row = index % COLUMNS, index // COLUMNS
    left, right = round(column * WIDTH / COLUMNS), round((column + 1) * WIDTH / COLUMNS)
    return left, row * ROW_HEIGHT, right - left, ROW_HEIGHT


font_bytes = sarabun_bold  # the bundled Thai font, read once


def rich_menu_image(catalog: Catalog) -> bytes:
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    labels = [catalog.text(item.label_key) for item in ITEMS]
    # One size for all the labels, the largest at which the longest still fits its area.
    narrowest = min(area_bounds(index)[2] for index in range(len(ITEMS)))
    label_font = _fitting_font(font_bytes(), labels, (narrowest - 80) * SCALE)
    for index, (item, label) in enumerate(zip(ITEMS, labels, strict=True)):
        _draw_area(draw, index, item, label, label_font)
    smooth = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    return _png(smooth)


def _draw_area(
    draw: ImageDraw.ImageDraw, index: int, item: MenuItem, label: str, font: ImageFont.FreeTypeFont
) -> None:
    x, y, width, height = (SCALE * value for value in area_bounds(index))
    if x:  # a rule between columns
        draw.line((x, y + 90 * SCALE, x, y + height - 90 * SCALE), fill=RULE, width=3 * SCALE)
    if y:  # and between rows
        draw.line((x + 90 * SCALE, y, x + width - 90 * SCALE, y), fill=RULE, width=3 * SCALE)
    middle = x + width / 2
    centre, radius = (middle, y + 320 * SCALE), 190 * SCALE
    box = (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)
    draw.ellipse(box, fill=item.colour)
    item.icon(draw, centre, radius, item.colour)
    draw.text((middle, y + 680 * SCALE), label, fill=INK, font=font, anchor="mm")


def _fitting_font(font: bytes, texts: list[str], width: float) -> ImageFont.FreeTypeFont:
    for size in range(100 * SCALE, 40 * SCALE, -4 * SCALE):
        sized = ImageFont.truetype(io.BytesIO(font), size)
        if max(sized.getlength(text) for text in texts) <= width:
            return sized
    return sized  # the smallest size: a catalog text this long needs a shorter word


def _png(image: Image.Image) -> bytes:
    # A 64-colour palette keeps anti-aliased edges and stays far below LINE's 1 MB.
    buffer = io.BytesIO()
    image.quantize(colors=64).save(buffer, format="PNG", optimize=True)
    data = buffer.getvalue()
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"rich menu image is {len(data)} bytes; LINE takes at most 1 MB")
    return data


def rich_menu_request(catalog: Catalog) -> RichMenuRequest:
    chat_bar_text = catalog.text("richmenu.chat_bar")
    if not 0 < len(chat_bar_text) <= MAX_CHAT_BAR_TEXT:
        raise ValueError(f"richmenu.chat_bar must be 1-{MAX_CHAT_BAR_TEXT} chars")
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name="bmabot",
        chat_bar_text=chat_bar_text,
        areas=[_area(index, item, catalog) for index, item in enumerate(ITEMS)],
    )


def _area(index: int, item: MenuItem, catalog: Catalog) -> RichMenuArea:
    label = catalog.text(item.label_key)
    x, y, width, height = area_bounds(index)
    bounds = RichMenuBounds(x=x, y=y, width=width, height=height)
    action = PostbackAction(label=truncate_label(label), data=item.data, display_text=label)
    return RichMenuArea(bounds=bounds, action=action)


async def install_rich_menu(
    api: AsyncMessagingApi, blob: AsyncMessagingApiBlob, catalog: Catalog
) -> str:
    request = rich_menu_request(catalog)
    # Drawing first: a label that cannot be drawn fails before anything exists on LINE's side.
    image = await asyncio.to_thread(rich_menu_image, catalog)
    rich_menu_id: str = (await api.create_rich_menu(request)).rich_menu_id
    try:
        await blob.set_rich_menu_image(
            rich_menu_id, body=image, _headers={"Content-Type": "image/png"}
        )
        await api.set_default_rich_menu(rich_menu_id)
    except Exception:
        # A menu without its image can never be shown: do not leave it behind.
        await api.delete_rich_menu(rich_menu_id)
        raise
    logger.info("rich menu %s installed as the default", rich_menu_id)
    return rich_menu_id
