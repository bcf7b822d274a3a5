"""Text on a page at print resolution: the packaged Thai fonts, lines that wrap as Thai
does, and a cursor that moves down the page (or only measures)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from PIL import ImageDraw, ImageFont, features

INK = "#1f2933"
# The package's own fonts (Sarabun 1.000 by Cadson Demak, SIL Open Font License 1.1, in
# webhooks/fonts with OFL.txt): a page looks the same on every machine.
FONTS = resources.files("webhooks.fonts")
NUMBER_GAP = re.compile(r"(?<=[0-9]) (?=[0-9])")  # 0 2203 2751 stays on one line
NO_BREAK = "\u00a0"


def thai_shaping() -> bool:
    """Whether Pillow lays out text with raqm (HarfBuzz): Thai marks then sit right."""
    return bool(features.check("raqm"))


@cache
def font_of(weight: str, size: int) -> ImageFont.FreeTypeFont:
    data = (FONTS / f"Sarabun-{weight}.ttf").read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


@dataclass(slots=True)
class Page:
    """The image being drawn, a scale for every size on it, and how far down it is filled.

    Without an image (draw None) text is only laid out: that measures a block's height.
    """

    draw: ImageDraw.ImageDraw | None
    scale: float
    y: float = 0

    @property
    def pen(self) -> ImageDraw.ImageDraw:
        assert self.draw is not None, "a page only laid out has nothing to draw on"
        return self.draw

    def px(self, size: float) -> int:
        return round(size * self.scale)

    def font(self, size: float, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        return font_of("Bold" if bold else "Regular", self.px(size))

    def write(
        self,
        text: str,
        size: float,
        left: float,
        width: float,
        *,
        bold: bool = False,
        fill: str = INK,
    ) -> None:
        """Text wrapped to a width, from self.y down; self.y ends below its last line."""
        font = self.font(size, bold=bold)
        for line in wrap(text, font, width):
            if self.draw is not None:
                self.draw.text((left, self.y), line.replace(NO_BREAK, " "), font=font, fill=fill)
            self.y += self.px(size * 1.45)

    def height(self, lay_out: Callable[[Page], None]) -> float:
        """How far down a block of text would reach, drawing nothing."""
        dry = Page(None, self.scale, self.y)
        lay_out(dry)
        return dry.y - self.y


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Lines no wider than width: broken at spaces, or between Thai words where one won't fit."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in NUMBER_GAP.sub(NO_BREAK, paragraph).split(" "):
            joined = f"{line} {word}" if line else word
            if font.getlength(joined) <= width:
                line = joined
                continue
            if line:
                lines.append(line)
            line = word
            while font.getlength(line) > width:
                head, line = _split_words(line, font, width)
                lines.append(head)
        if line or not paragraph.strip():
            lines.append(line)
    return lines


def _split_words(text: str, font: ImageFont.FreeTypeFont, width: float) -> tuple[str, str]:
    # Thai writes no spaces between words: pythainlp finds where they end (no download).
    from pythainlp.tokenize import word_tokenize

    head = ""
    words = word_tokenize(text, engine="newmm")
    for index, word in enumerate(words):
        if head and font.getlength(head + word) > width:
            return head, "".join(words[index:])
        head += word
    return head, ""  # one word wider than the page: it stays whole
