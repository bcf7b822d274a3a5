"""The poster drawn: one A4 page at 300 dpi with Pillow, saved as PNG and as a one-page PDF."""

from __future__ import annotations

from pathlib import Path

import segno
from fpdf import FPDF
from PIL import Image, ImageDraw

from webhooks.admin.page_layout import INK, Page
from webhooks.admin.poster import Channel, KindDocuments, PosterText

DPI = 300
A4_MM = (210, 297)
WIDTH, HEIGHT = 2480, 3508  # A4 at 300 dpi
MARGIN = 150  # 12.7 mm
QUIET_ZONE = 4  # modules of white around a QR code, as the standard asks
MUTED, BAND, PANEL, RULE = "#52606d", "#1b7f4b", "#eef4f0", "#cbd5cf"


def write_poster(text: PosterText, stem: Path) -> tuple[Path, Path]:
    """Write stem.pdf and stem.png (making their folder if needed)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    image = _fitted(text)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    image.save(png, format="PNG", dpi=(DPI, DPI), optimize=True)
    _save_pdf(image, text.title, pdf)
    return pdf, png


def _fitted(text: PosterText) -> Image.Image:
    """Drawn at the largest scale at which it fits (a drawing takes about 0.1 s)."""
    for percent in range(100, 59, -2):
        image = Image.new("RGB", (WIDTH, HEIGHT), "white")
        page = Page(ImageDraw.Draw(image), percent / 100)
        _draw_all(page, text)
        if page.y <= HEIGHT - MARGIN:
            return image
    raise ValueError("the poster's text does not fit one A4 page: shorten the catalog text")


def _draw_all(page: Page, text: PosterText) -> None:
    _draw_header(page, text)
    _draw_channels(page, text.channels)
    _draw_steps(page, text)
    _draw_documents(page, text)
    _draw_support(page, text.support)
    page.y += page.px(30)
    page.write(text.footer, 40, MARGIN, WIDTH - 2 * MARGIN, fill=MUTED)


def _draw_header(page: Page, text: PosterText) -> None:
    def lay_out(on: Page) -> None:
        on.y += on.px(110)
        on.write(text.title, 120, MARGIN, WIDTH - 2 * MARGIN, bold=True, fill="white")
        on.y += on.px(10)
        on.write(text.subtitle, 54, MARGIN, WIDTH - 2 * MARGIN, fill="white")
        on.y += on.px(70)

    _panel(page, (0, page.y, WIDTH, page.y + page.height(lay_out)), fill=BAND)
    lay_out(page)
    page.y += page.px(80)


def _panel(page: Page, box: tuple[float, float, float, float], fill: str, radius: int = 0) -> None:
    if page.draw is not None:
        page.draw.rounded_rectangle(box, radius=radius, fill=fill)


def _draw_channels(page: Page, channels: tuple[Channel, ...]) -> None:
    gap = 120
    width = (WIDTH - 2 * MARGIN - gap) / 2 if len(channels) > 1 else WIDTH * 0.5
    left = (WIDTH - width * len(channels) - gap * (len(channels) - 1)) / 2
    top, bottom = page.y, page.y
    for index, channel in enumerate(channels):
        page.y = top
        _draw_channel(page, channel, left + index * (width + gap), width)
        bottom = max(bottom, page.y)
    page.y = bottom + page.px(80)


def _draw_channel(page: Page, channel: Channel, left: float, width: float) -> None:
    top = page.y
    padding = page.px(40)
    page.y += padding
    heading = page.font(84, bold=True)
    page.pen.text(
        (left + width / 2, page.y), channel.heading, font=heading, fill=channel.colour, anchor="mt"
    )
    page.y += page.px(84 * 1.35)
    size = int(min(width - 2 * padding, page.px(620)))
    page.y += _draw_qr(page.pen, channel.link, (left + (width - size) / 2, page.y), size)
    page.y += page.px(10)
    for line, bold in ((channel.scan, True), (channel.handle, False)):
        font = page.font(54, bold=bold)
        page.pen.text((left + width / 2, page.y), line, font=font, fill=INK, anchor="mt")
        page.y += page.px(54 * 1.45)
    page.y += padding
    box = (left, top, left + width, page.y)
    page.pen.rounded_rectangle(box, radius=page.px(36), outline=channel.colour, width=8)


def _draw_qr(draw: ImageDraw.ImageDraw, link: str, corner: tuple[float, float], size: int) -> int:
    """The link's QR code in whole pixels a module (crisp in print); returns its height."""
    matrix = segno.make_qr(link, error="q").matrix
    modules = len(matrix) + 2 * QUIET_ZONE
    module = size // modules
    left = round(corner[0] + (size - module * modules) / 2) + QUIET_ZONE * module
    top = round(corner[1]) + QUIET_ZONE * module
    for row, bits in enumerate(matrix):
        for column, bit in enumerate(bits):
            if bit:
                x, y = left + column * module, top + row * module
                draw.rectangle((x, y, x + module - 1, y + module - 1), fill="black")
    return module * modules


def _draw_heading(page: Page, heading: str) -> None:
    page.write(heading, 70, MARGIN, WIDTH - 2 * MARGIN, bold=True, fill=BAND)
    page.y += page.px(10)


def _draw_steps(page: Page, text: PosterText) -> None:
    _draw_heading(page, text.steps_heading)
    indent, size = page.px(100), 48
    for number, step in enumerate(text.steps, start=1):
        radius = page.px(30)
        centre = (MARGIN + radius, page.y + page.px(size * 0.7))
        box = (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)
        page.pen.ellipse(box, fill=BAND)
        number_font = page.font(38, bold=True)
        page.pen.text(centre, str(number), font=number_font, fill="white", anchor="mm")
        page.write(step, size, MARGIN + indent, WIDTH - 2 * MARGIN - indent, fill=INK)
        page.y += page.px(8)
    page.y += page.px(50)


def _draw_documents(page: Page, text: PosterText) -> None:
    _draw_heading(page, text.documents_heading)
    name_width = (WIDTH - 2 * MARGIN) * 0.36
    right = MARGIN + name_width + page.px(40)
    for kind in text.kinds:
        page.pen.line((MARGIN, page.y, WIDTH - MARGIN, page.y), fill=RULE, width=3)
        page.y += page.px(16)
        top = page.y
        _draw_kind_name(page, kind, name_width)
        below_name, page.y = page.y, top
        documents = kind.documents or (text.no_documents,)
        for document in documents:
            page.write(f"• {document}", 46, right, WIDTH - MARGIN - right, fill=INK)
        page.y = max(page.y, below_name) + page.px(10)
    page.pen.line((MARGIN, page.y, WIDTH - MARGIN, page.y), fill=RULE, width=3)
    page.y += page.px(60)


def _draw_kind_name(page: Page, kind: KindDocuments, width: float) -> None:
    page.write(kind.name, 46, MARGIN, width, bold=True, fill=INK)
    if kind.who:
        page.write(kind.who, 36, MARGIN, width, fill=MUTED)


def _draw_support(page: Page, support: str) -> None:
    first, _, rest = support.partition("\n")
    padding = page.px(40)
    inner = WIDTH - 2 * MARGIN - 2 * padding

    def lay_out(on: Page) -> None:
        on.y += padding
        on.write(first, 48, MARGIN + padding, inner, bold=True, fill=INK)
        on.write(rest, 42, MARGIN + padding, inner, fill=INK)
        on.y += padding

    box = (MARGIN, page.y, WIDTH - MARGIN, page.y + page.height(lay_out))
    _panel(page, box, radius=page.px(30), fill=PANEL)
    lay_out(page)


def _save_pdf(image: Image.Image, title: str, path: Path) -> None:
    """One A4 page holding the image edge to edge, losslessly (the QR codes stay crisp)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margin(0)
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(title)
    pdf.set_creator("bmabot poster")
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=A4_MM[0], h=A4_MM[1])
    pdf.output(str(path))
