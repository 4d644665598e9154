"""Prometheus metrics, one registry per service instance (so tests can build many)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from domain.events import DisputeOpened, DisputeResolved, DisputeWithdrawn


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "disputes_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "disputes_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        # process_* (CPU, memory, file descriptors), python_gc_*, python_info: the
        # default registry's collectors, registered on ours too.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.opened = Counter("disputes_opened_total", "Disputes opened", registry=self.registry)
        self.resolved = Counter(
            "disputes_resolved_total", "Disputes closed, by how they were resolved", ["how"], registry=self.registry
        )
        self.refunds = Counter(
            "disputes_refunds_total",
            "Resolutions that refund the buyer, by currency",
            ["currency"],
            registry=self.registry,
        )
        self.refunded = Counter(
            "disputes_refunded_minor_units_total",
            "Amount refunded by resolutions, in the currency's minor units",
            ["currency"],
            registry=self.registry,
        )

    def observe_events(self, events: Iterable[object]) -> None:
        """Count the business facts in events just committed (every process that saves)."""
        for event in events:
            if isinstance(event, DisputeOpened):
                self.opened.inc()
            elif isinstance(event, DisputeResolved):
                self.resolved.labels(event.how).inc()
                if event.refund:
                    currency = str(event.refund["currency"])
                    self.refunds.labels(currency).inc()
                    self.refunded.labels(currency).inc(int(event.refund["amount_minor"]))
            elif isinstance(event, DisputeWithdrawn):
                self.resolved.labels("withdrawn").inc()

    def gauge(
        self,
        name: str,
        documentation: str,
        read: Callable[[], dict[tuple[str, ...], float]],
        labels: tuple[str, ...] = (),
    ) -> None:
        """A gauge whose samples are read at scrape time."""
        self.registry.register(_ScrapeGauge(name, documentation, labels, read))


class _ScrapeGauge(Collector):
    def __init__(
        self, name: str, documentation: str, labels: tuple[str, ...], read: Callable[[], dict[tuple[str, ...], float]]
    ) -> None:
        self.name, self.documentation, self.labels, self.read = name, documentation, labels, read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))
        for label_values, value in self.read().items():
            family.add_metric(list(label_values), value)
        yield family
