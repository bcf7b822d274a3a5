"""Counters for GET /metrics, in the Prometheus text format."""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        self._counts[(name, tuple(sorted(labels.items())))] += amount

    def render(self, gauges: dict[str, int]) -> str:
        lines = []
        for (name, labels), value in sorted(self._counts.items()):
            lines.append(f"{name}{_labels(labels)} {value}")
        lines.extend(f"{name} {value}" for name, value in sorted(gauges.items()))
        return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{value}"' for key, value in labels)
    return "{" + inner + "}"
