"""The `bmabot stats --chart` picture: applications per day above, time to decision below."""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from bot.catalog import Catalog
from core.clock import thai_day
from core.requests.statistics import ServiceStatistics
from webhooks.fonts import SARABUN_BOLD, SARABUN_REGULAR

# Thai labels from the catalog, drawn with the font the package carries (webhooks.fonts):
# matplotlib's own fonts have no Thai letters and would draw boxes.
MAX_DAY_LABELS = 15
HISTOGRAM_BINS = 20
TITLE_SIZE, LABEL_SIZE, TICK_SIZE = 15, 12, 10


def draw_chart(numbers: ServiceStatistics, path: Path, catalog: Catalog) -> None:
    """A PNG with two panels, drawn without pyplot: no global state, no display needed."""
    chart_figure(numbers, catalog).savefig(path, format="png", dpi=100)


def chart_figure(numbers: ServiceStatistics, catalog: Catalog) -> Figure:
    figure = Figure(figsize=(10, 7), layout="constrained")
    per_day, decisions = figure.subplots(2, 1)
    _draw_per_day(per_day, numbers, catalog)
    _draw_decisions(decisions, numbers, catalog)
    for axes in (per_day, decisions):
        for tick in (*axes.get_xticklabels(), *axes.get_yticklabels()):
            tick.set_fontproperties(thai(TICK_SIZE))
    return figure


def thai(size: float, *, bold: bool = False) -> FontProperties:
    return FontProperties(fname=str(SARABUN_BOLD if bold else SARABUN_REGULAR), size=size)


def _draw_per_day(axes: Axes, numbers: ServiceStatistics, catalog: Catalog) -> None:
    days = [day for day, _ in numbers.per_day]
    axes.bar(range(len(days)), [count for _, count in numbers.per_day], color="#2e7d32")
    step = max(1, -(-len(days) // MAX_DAY_LABELS))  # ceiling division
    axes.set_xticks(range(0, len(days), step), [f"{d.day}/{d.month}" for d in days[::step]])
    span = {"first": thai_day(days[0]), "last": thai_day(days[-1])}
    title = catalog.text("stats.chart.per_day", span)
    axes.set_title(title, fontproperties=thai(TITLE_SIZE, bold=True))
    axes.set_ylabel(catalog.text("stats.chart.requests"), fontproperties=thai(LABEL_SIZE))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _draw_decisions(axes: Axes, numbers: ServiceStatistics, catalog: Catalog) -> None:
    title = catalog.text("stats.chart.decision_time")
    axes.set_title(title, fontproperties=thai(TITLE_SIZE, bold=True))
    axes.set_xlabel(catalog.text("stats.chart.hours"), fontproperties=thai(LABEL_SIZE))
    axes.set_ylabel(catalog.text("stats.chart.requests"), fontproperties=thai(LABEL_SIZE))
    if not numbers.decision_hours:
        said = catalog.text("stats.chart.no_decision")
        axes.text(0.5, 0.5, said, ha="center", transform=axes.transAxes, fontproperties=thai(14))
        return
    longest = max(numbers.decision_hours)
    axes.hist(
        numbers.decision_hours,
        bins=HISTOGRAM_BINS,
        range=(0, max(longest * 1.05, 1)),
        color="#1565c0",
        edgecolor="white",
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    for key, hours, style in (
        ("stats.chart.median", numbers.median_hours, "-"),
        ("stats.chart.nine_in_ten", numbers.p90_hours, "--"),
    ):
        assert hours is not None
        label = catalog.text(key, {"hours": f"{hours:.1f}"})
        axes.axvline(hours, color="#c62828", linestyle=style, label=label)
    axes.legend(prop=thai(LABEL_SIZE))
