"""Prometheus metrics, one registry per service instance (so tests can build many)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


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
