"""The `bmabot stats --chart` picture: applications per day above, time to decision below."""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from core.requests.statistics import ServiceStatistics

# English labels: the chart then needs no Thai font on the machine that draws it.
MAX_DAY_LABELS = 15
HISTOGRAM_BINS = 20


def draw_chart(numbers: ServiceStatistics, path: Path) -> None:
    """A PNG with two panels, drawn without pyplot: no global state, no display needed."""
    figure = Figure(figsize=(10, 7), layout="constrained")
    per_day, decisions = figure.subplots(2, 1)
    days = [day for day, _ in numbers.per_day]
    per_day.bar(range(len(days)), [count for _, count in numbers.per_day], color="#2e7d32")
    step = max(1, -(-len(days) // MAX_DAY_LABELS))  # ceiling division
    per_day.set_xticks(range(0, len(days), step), [f"{d:%d %b}" for d in days[::step]])
    per_day.set_title(f"Applications per day, {days[0]} to {days[-1]} (Bangkok)")
    per_day.set_ylabel("applications")
    per_day.yaxis.set_major_locator(MaxNLocator(integer=True))
    _draw_decisions(decisions, numbers)
    figure.savefig(path, format="png", dpi=100)


def _draw_decisions(axes: Axes, numbers: ServiceStatistics) -> None:
    axes.set_title("Time from submission to first decision")
    axes.set_xlabel("hours")
    axes.set_ylabel("decisions")
    if not numbers.decision_hours:
        axes.text(0.5, 0.5, "no decision in these days", ha="center", transform=axes.transAxes)
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
    for label, hours, style in (
        ("median", numbers.median_hours, "-"),
        ("p90", numbers.p90_hours, "--"),
    ):
        assert hours is not None
        axes.axvline(hours, color="#c62828", linestyle=style, label=f"{label} {hours:.1f} h")
    axes.legend()
