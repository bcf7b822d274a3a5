"""GET /metrics: counters, latency histograms and backlog gauges, through prometheus-client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase

# Seconds: LINE counts a webhook answered after 2 s as timed out.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
TURN_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._counters = {
            "bmabot_webhook_requests_total": Counter(
                "bmabot_webhook_requests",
                "Webhook requests by channel and outcome",
                ["channel", "outcome"],
                registry=registry,
            ),
            "bmabot_inbox_events_total": Counter(
                "bmabot_inbox_events",
                "Events stored in the inbox (redeliveries not counted)",
                ["channel"],
                registry=registry,
            ),
        }
        self.events = Counter(
            "bmabot_events_handled",
            "Inbox events handled, by channel and outcome (done, failed, quarantined)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.deliveries = Counter(
            "bmabot_deliveries",
            "Reply batches sent to a channel, by outcome (sent, retry, failed)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "bmabot_webhook_ack_seconds",
            "Time from a webhook's arrival to its answer",
            ["channel"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.turn_seconds = Histogram(
            "bmabot_turn_seconds",
            "Time one turn takes inside its round (flow, effects)",
            ["channel"],
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self._gauges: dict[str, Gauge] = {}
        self.jobs = Gauge(
            "bmabot_jobs", "Jobs by kind and state", ["kind", "state"], registry=registry
        )
        self._children: dict[tuple[object, ...], Any] = {}

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        self.child(self._counters[name], **labels).inc(amount)

    def child(self, metric: MetricWrapperBase, **labels: str) -> Any:
        """metric.labels(**labels), kept: prometheus-client checks the values and takes a
        lock on every call, a few per cent of the event loop on the hot path (issue 13)."""
        key = (id(metric), *labels.items())
        if (found := self._children.get(key)) is None:
            found = self._children[key] = metric.labels(**labels)
        return found

    # The dispatcher's observer -----------------------------------------------------------

    def handled(self, channel: str, outcome: str, seconds: float) -> None:
        self.child(self.events, channel=channel, outcome=outcome).inc()
        if outcome != "quarantined":
            self.child(self.turn_seconds, channel=channel).observe(seconds)

    def delivered(self, channel: str, outcome: str) -> None:
        self.child(self.deliveries, channel=channel, outcome=outcome).inc()

    # Read at each scrape -----------------------------------------------------------------

    def render(
        self, gauges: Mapping[str, float], jobs: Mapping[tuple[str, str], int] | None = None
    ) -> bytes:
        for name, value in gauges.items():
            self._gauge(name).set(value)
        self.jobs.clear()
        for (kind, state), count in (jobs or {}).items():
            self.jobs.labels(kind=kind, state=state).set(count)
        return generate_latest(self.registry)

    def _gauge(self, name: str) -> Gauge:
        if name not in self._gauges:
            self._gauges[name] = Gauge(name, GAUGE_HELP.get(name, name), registry=self.registry)
        return self._gauges[name]


GAUGE_HELP = {
    "bmabot_inbox_pending": "Events stored and not yet handled",
    "bmabot_inbox_oldest_seconds": "Age of the oldest event not yet handled",
    "bmabot_outbox_unsent": "Reply batches not yet delivered",
}
