"""The stats chart: Thai labels from the catalog, drawn with the font the package carries."""

from __future__ import annotations

import re
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text

from bot.catalog import Catalog
from core.requests.statistics import ServiceStatistics
from webhooks.admin.stats_chart import chart_figure
from webhooks.fonts import SARABUN_BOLD, SARABUN_REGULAR

CATALOG = Catalog.load()
BUSY = ServiceStatistics(
    per_day=((date(2026, 11, 24), 0), (date(2026, 11, 25), 2), (date(2026, 11, 26), 1)),
    decision_hours=(2.0, 6.0),
)
QUIET = ServiceStatistics(per_day=((date(2026, 11, 24), 0),), decision_hours=())
THAI = re.compile(r"[\u0e00-\u0e7f]")


def drawn(figure: Figure) -> list[Text]:
    """The texts the chart shows, once drawn (ticks are laid out at drawing)."""
    FigureCanvasAgg(figure).draw()
    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def ink(text: str, font: FontProperties) -> int:
    """Dark pixels of one line of text drawn alone on white, as the chart draws it."""
    figure = Figure(figsize=(10, 1), dpi=100)
    figure.text(0.01, 0.5, text, fontproperties=font)
    canvas = FigureCanvasAgg(figure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the default font's missing Thai glyphs
        canvas.draw()
    grey = np.asarray(canvas.buffer_rgba())[..., :3].mean(axis=2)
    return int((grey < 128).sum())


def test_the_labels_are_the_catalogs_thai_words() -> None:
    shown = {text.get_text() for text in drawn(chart_figure(BUSY, CATALOG))}

    assert {
        CATALOG.text("stats.chart.per_day", {"first": "24/11/2569", "last": "26/11/2569"}),
        CATALOG.text("stats.chart.requests"),
        CATALOG.text("stats.chart.decision_time"),
        CATALOG.text("stats.chart.hours"),
        CATALOG.text("stats.chart.median", {"hours": "4.0"}),
        CATALOG.text("stats.chart.nine_in_ten", {"hours": "6.0"}),
    } <= shown
    assert [text for text in shown if re.search("[A-Za-z]", text)] == []  # no English left
    assert "25/11" in shown  # days as day/month


def test_quiet_days_say_so_in_thai() -> None:
    shown = {text.get_text() for text in drawn(chart_figure(QUIET, CATALOG))}
    assert CATALOG.text("stats.chart.no_decision") in shown


@pytest.mark.parametrize("numbers", [BUSY, QUIET], ids=["busy", "quiet"])
def test_every_label_is_drawn_with_the_bundled_font(numbers: ServiceStatistics) -> None:
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        texts = drawn(chart_figure(numbers, CATALOG))

    assert [str(warning.message) for warning in said] == []  # no "Glyph … missing from font"
    bundled = {Path(str(SARABUN_BOLD)), Path(str(SARABUN_REGULAR))}
    for text in texts:
        font = Path(text.get_fontproperties().get_file())
        assert font in bundled, text
        cmap = TTFont(font).getBestCmap()
        assert [letter for letter in text.get_text() if ord(letter) not in cmap] == [], text
    titles = {Path(t.get_fontproperties().get_file()) for t in texts if t.get_fontsize() == 15}
    assert titles == {Path(str(SARABUN_BOLD))}
    assert any(THAI.search(text.get_text()) for text in texts)


def test_the_thai_title_renders_as_letters_not_boxes() -> None:
    figure = chart_figure(BUSY, CATALOG)
    title = figure.axes[1].title
    font = title.get_fontproperties()
    chart_ink = _ink_in_chart(figure, title)

    as_the_font_draws_it = ink(title.get_text(), font)
    in_boxes = ink(title.get_text(), FontProperties(family="DejaVu Sans", size=font.get_size()))

    assert THAI.search(title.get_text())
    assert abs(chart_ink - as_the_font_draws_it) <= 0.03 * as_the_font_draws_it
    assert abs(chart_ink - in_boxes) > 0.5 * as_the_font_draws_it  # what tofu would look like


def _ink_in_chart(figure: Figure, text: Text) -> int:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    box = text.get_window_extent(canvas.get_renderer())
    grey = np.asarray(canvas.buffer_rgba())[..., :3].mean(axis=2)
    top = grey.shape[0] - int(np.ceil(box.y1)) - 1  # window extents count from the bottom
    bottom = grey.shape[0] - int(np.floor(box.y0)) + 1
    area = grey[max(top, 0) : bottom, max(int(box.x0) - 1, 0) : int(np.ceil(box.x1)) + 1]
    return int((area < 128).sum())
