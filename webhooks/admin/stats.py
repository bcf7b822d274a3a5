"""`bmabot stats`: applications per day and time to a first decision, as text and a chart."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.catalog import Catalog
from core.clock import BANGKOK, thai_day
from core.requests.statistics import ServiceStatistics, service_statistics, window
from core.settings import Settings, require_secret_key
from webhooks.admin.arguments import add_command, day, positive_int
from webhooks.admin.text_table import table
from webhooks.compose import open_services

BAR_WIDTH = 40  # characters of the longest bar of the per-day table


def add_stats_parser(commands: Any) -> None:
    stats = add_command(
        commands,
        "stats",
        summary="applications per day and time to decision",
        description="""
            Requests filed per day (Bangkok days) and the time from submission to the first
            decision (median and 90th percentile), as a table; --chart also draws them in a
            PNG with Thai labels.
        """,
        examples=[
            "bmabot stats",
            "bmabot stats --days 7",
            "bmabot stats --days 90 --until 2026-12-31 --chart stats.png",
            "bmabot stats --until 2569-12-31",
        ],
    )
    stats.add_argument("--days", type=positive_int, default=30, help="how many days (30)")
    stats.add_argument(
        "--until",
        type=day,
        metavar="DATE",
        help="the last day in Bangkok, YYYY-MM-DD, the year CE or BE (2569-12-31); default today",
    )
    stats.add_argument(
        "--chart", type=Path, metavar="FILE", help="also draw the numbers in this PNG file"
    )


async def stats_command(settings: Settings, args: argparse.Namespace) -> int:
    key = require_secret_key(settings)
    async with open_services(settings, secret_key=key) as services, services.sessions() as session:
        last_day = args.until or services.clock.now().astimezone(BANGKOK).date()
        numbers = await service_statistics(session, *window(last_day, args.days))
    print("\n".join(stats_lines(numbers)))
    if args.chart is not None:
        from webhooks.admin.stats_chart import draw_chart  # matplotlib is slow to import

        try:
            draw_chart(numbers, args.chart, Catalog.load())
        except OSError as error:
            print(f"cannot write {args.chart}: {error.strerror or error}")
            return 1
        print(f"chart: {args.chart}")
    return 0


def stats_lines(numbers: ServiceStatistics) -> list[str]:
    first, last = numbers.per_day[0][0], numbers.per_day[-1][0]
    most = max((count for _, count in numbers.per_day), default=0) or 1
    rows = [
        [f"{thai_day(day)} {day:%a}", str(count), "#" * round(count * BAR_WIDTH / most)]
        for day, count in numbers.per_day
    ]
    decisions = len(numbers.decision_hours)
    lines = [
        f"applications per day, {thai_day(first)} to {thai_day(last)} (Bangkok)",
        *table(rows),
    ]
    lines.append(f"total {numbers.submitted}, {numbers.submitted / len(rows):.1f} a day")
    if not decisions:
        return [*lines, "time to first decision: no decision in these days"]
    return [
        *lines,
        f"time to first decision ({decisions} decision(s)): "
        f"median {numbers.median_hours:.1f} h, p90 {numbers.p90_hours:.1f} h",
    ]
