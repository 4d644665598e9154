"""The deadline scheduler: the system actor that expires due deadlines.

Every interval it brings the deadlines read model up to date, takes the due
rows (longest overdue first) and issues `expire_deadline` for each with the
current time and the version the row was read at. The aggregate decides (a
deadline no longer open or not yet due is refused) and the event store's
optimistic concurrency makes each expiry happen once, however many schedulers
run: see docs/scheduler.md.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import prometheus_client

from domain.application import DisputeApp
from domain.deadline_names import deadline_label
from domain.errors import DeadlineNotDue, DeadlineNotOpen, VersionConflict
from domain.values import Actor, Context, Role
from projections import deadlines
from projections.db import Database
from projections.deadlines import Deadlines, OpenDeadline
from projections.runner import Follower
from service.metrics import Metrics

log = logging.getLogger("disputes.scheduler")
SYSTEM = Actor("scheduler", Role.SYSTEM)
ATTEMPTS = 3
DEFAULT_BATCH = 200
DEFAULT_CONCURRENCY = 8
FIRED = "fired"


def default_name() -> str:
    return f"scheduler@{socket.gethostname()}:{os.getpid()}"


class SchedulerMetrics:
    DELAY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)

    def __init__(self, metrics: Metrics, overdue: Callable[[], int]) -> None:
        registry = metrics.registry
        counter, histogram = prometheus_client.Counter, prometheus_client.Histogram
        self.due = counter("disputes_deadlines_due", "Due deadlines picked up", ["deadline"], registry=registry)
        self.fired = counter("disputes_deadlines_fired", "Deadlines expired", ["deadline"], registry=registry)
        self.skipped = counter(
            "disputes_deadlines_skipped",
            "Due deadlines not expired: cleared, moved, not due, or contended",
            ["deadline", "reason"],
            registry=registry,
        )
        self.failed = counter("disputes_deadlines_failed", "Expiries that raised", ["deadline"], registry=registry)
        self.delay = histogram(
            "disputes_deadline_firing_delay_seconds",
            "From a deadline's due time to its expiry",
            ["deadline"],
            buckets=self.DELAY_BUCKETS,
            registry=registry,
        )
        metrics.gauge("disputes_deadlines_overdue", "Open deadlines past due", lambda: {(): float(overdue())})


@dataclass
class Scheduler:
    app: DisputeApp
    views: Database
    clock: Callable[[], datetime]
    metrics: SchedulerMetrics
    name: str = field(default_factory=default_name)
    batch_size: int = DEFAULT_BATCH
    concurrency: int = DEFAULT_CONCURRENCY
    follower: Follower = field(init=False)

    def __post_init__(self) -> None:
        self.follower = Follower(self.app, self.views, Deadlines)

    def tick(self) -> dict[str, int]:
        """Expire what is due now; how many rows ended each way (fired, or a skip reason)."""
        outcomes: Counter[str] = Counter()
        while True:
            self.follower.catch_up()
            rows = deadlines.due(self.views, self.clock(), self.batch_size)
            fired_before = outcomes[FIRED]
            outcomes.update(self._fire_batch(rows))
            # A full batch means more may be due; go on only while it makes progress.
            if len(rows) < self.batch_size or outcomes[FIRED] == fired_before:
                return dict(outcomes)

    def _fire_batch(self, rows: list[OpenDeadline]) -> Counter[str]:
        """Disputes in parallel, so that their expiries share commits (group commit);
        each dispute's deadlines in due order, so the earliest decides the outcome."""
        by_dispute: dict[UUID, list[OpenDeadline]] = {}
        for row in rows:
            by_dispute.setdefault(row.dispute_id, []).append(row)
        if self.concurrency == 1 or len(by_dispute) <= 1:
            return self._fire_in_order(rows)
        with ThreadPoolExecutor(min(self.concurrency, len(by_dispute)), thread_name_prefix=self.name) as pool:
            return sum(pool.map(self._fire_in_order, by_dispute.values()), Counter())

    def _fire_in_order(self, rows: list[OpenDeadline]) -> Counter[str]:
        return Counter(self.fire(row) for row in rows)

    def fire(self, row: OpenDeadline) -> str:
        """Expire one due deadline, expecting the dispute to be as the row saw it."""
        label = deadline_label(row.deadline)
        self.metrics.due.labels(label).inc()
        expected = row.version
        for _ in range(ATTEMPTS):
            ctx = Context(SYSTEM, self.clock(), request_id=f"{self.name}/{uuid.uuid4().hex[:12]}")
            try:
                self.app.expire_deadline(row.dispute_id, ctx, row.deadline, expected_version=expected)
            except DeadlineNotOpen:
                return self._skip(row, "cleared")
            except DeadlineNotDue:
                return self._skip(row, "not_due")
            except VersionConflict:
                stale, expected = self._recheck(row)
                if stale:
                    return self._skip(row, stale)
                continue
            except Exception:
                self.metrics.failed.labels(label).inc()
                log.exception("%s: expiring %s of %s failed", self.name, row.deadline, row.dispute_id)
                return "failed"
            self.metrics.fired.labels(label).inc()
            self.metrics.delay.labels(label).observe((ctx.at - row.due_at).total_seconds())
            return FIRED
        return self._skip(row, "contended")

    def _recheck(self, row: OpenDeadline) -> tuple[str | None, int]:
        """After a version conflict: why the row no longer applies, if it does not,
        and the version to expect now."""
        current = self.app.dispute(row.dispute_id)
        if row.deadline not in current.deadlines:
            return "cleared", current.version
        if current.deadlines[row.deadline] != row.due_at:
            return "moved", current.version
        return None, current.version  # only deadline-neutral events came in between

    def _skip(self, row: OpenDeadline, reason: str) -> str:
        self.metrics.skipped.labels(deadline_label(row.deadline), reason).inc()
        log.debug("%s: skipped %s of %s (%s)", self.name, row.deadline, row.dispute_id, reason)
        return reason

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        """Tick every `interval` seconds (measured start to start) until `stop` is set."""
        log.info("%s: checking due deadlines every %.3fs", self.name, interval)
        while not stop.is_set():
            started = time.monotonic()
            try:
                outcomes = self.tick()
            except Exception:
                log.exception("%s: tick failed; trying again after the interval", self.name)
            else:
                if outcomes:
                    log.info("%s: %s", self.name, outcomes)
            stop.wait(max(0.0, interval - (time.monotonic() - started)))


def build_scheduler(
    app: DisputeApp,
    views: Database,
    clock: Callable[[], datetime],
    metrics: Metrics,
    *,
    name: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Scheduler:
    scheduler_metrics = SchedulerMetrics(metrics, lambda: deadlines.overdue_count(views, clock()))
    return Scheduler(app, views, clock, scheduler_metrics, name or default_name(), batch_size, concurrency)
