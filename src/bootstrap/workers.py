"""In-process workers: projection followers and the deadline scheduler, each
on its own thread, and the gauges that report on them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.application import DisputeApp
from projections import transparency
from projections.catalog import PROJECTIONS
from projections.db import Database, PostgresDatabase
from projections.fanout import Fanout
from projections.runner import ListenWaiter, PollingWaiter, SignalWaiter, Waiter
from projections.transparency import TransparencyLog
from service.feed import CommitSignal, EventFeed
from service.hub import Services
from service.metrics import Metrics
from service.scheduler import build_scheduler
from service.settings import Settings
from service.webhooks.delivery import DeliveryMetrics, DeliveryWorker
from store.group_commit import GroupCommitter
from store.webhooks import SqlWebhookStore


def new_waiter(settings: Settings, app: DisputeApp, stop: threading.Event, *, in_process: bool) -> Waiter:
    """How an idle follower learns of new events: Postgres LISTEN/NOTIFY; on
    SQLite, a signal from the application in the same process, else polling."""
    if settings.backend == "postgres":
        channel = getattr(app.recorder, "channel_name", "disputes_events")
        return ListenWaiter(settings.postgres_params(), channel)
    if not in_process:
        return PollingWaiter(stop)
    waiter = SignalWaiter(stop)
    app.listeners.append(waiter.notify)
    return waiter


def build_delivery(
    settings: Settings, views: Database, feed: EventFeed, metrics: Metrics, clock: Callable[[], datetime]
) -> tuple[DeliveryWorker, Callable[[], None]]:
    """The webhook delivery worker, and what closes its database. On Postgres it
    has a pool of its own: each delivering thread holds a connection (and its
    subscription's row lock) for as long as the receiver takes to answer."""
    own: Database | None = None
    if settings.backend == "postgres":
        params = settings.postgres_params()
        own = PostgresDatabase(params, params["schema"], pool_size=settings.webhook_workers + 1)
    store = SqlWebhookStore(own or views)
    worker = DeliveryWorker(store, feed, settings, clock, DeliveryMetrics(metrics, store, feed))
    return worker, (own.close if own else lambda: None)


def relay_commits(settings: Settings, app: DisputeApp, commits: CommitSignal, stop: threading.Event) -> None:
    """Wake `commits` on every commit of any process (Postgres LISTEN/NOTIFY), until `stop`."""
    waiter = new_waiter(settings, app, stop, in_process=False)
    try:
        while not stop.is_set():
            waiter.wait(1.0)
            commits.notify()
    finally:
        waiter.close()


@dataclass
class Worker:
    """A background loop on its own thread, stopped through a shared event."""

    name: str
    target: Callable[[threading.Event], None]
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self.target, args=(self.stop,), name=self.name, daemon=True)
        self.thread.start()

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


@dataclass
class Crew:
    """The workers one process runs beside its entry point, and their shutdown."""

    services: Services
    workers: list[Worker] = field(default_factory=list)

    def start(self) -> None:
        """Start in-process workers (projection followers, scheduler) when configured."""
        svc = self.services
        if svc.settings.backend == "postgres":  # long polls and streams wake on other processes' commits
            self._start(Worker("commit-listener", self._relay_commits))
        if not svc.settings.in_process_workers:
            return
        self.workers.append(Worker("projections", self._follow(list(PROJECTIONS.values()))))
        scheduler = build_scheduler(svc.app, svc.views, svc.clock, svc.metrics)
        interval = svc.settings.scheduler_interval.total_seconds()
        self.workers.append(Worker("scheduler", lambda stop: scheduler.run_forever(stop, interval)))
        self.workers.append(Worker("webhooks", self._deliver))
        if svc.checkpoints is not None:
            checkpoints, every = svc.checkpoints, svc.settings.checkpoint_interval.total_seconds()
            self.workers.append(Worker("checkpoints", lambda stop: checkpoints.run_forever(stop, every)))
        for worker in self.workers:
            if worker.thread is None:
                worker.start()

    def _start(self, worker: Worker) -> None:
        self.workers.append(worker)
        worker.start()

    def _relay_commits(self, stop: threading.Event) -> None:
        relay_commits(self.services.settings, self.services.app, self.services.commits, stop)

    def _deliver(self, stop: threading.Event) -> None:
        svc = self.services
        worker, close = build_delivery(svc.settings, svc.views, svc.feed, svc.metrics, svc.clock)
        try:
            worker.run_forever(stop, svc.commits, svc.settings.webhook_workers)
        finally:
            close()

    def _follow(self, projections: list[Any]) -> Callable[[threading.Event], None]:
        svc = self.services

        def loop(stop: threading.Event) -> None:
            waiter = new_waiter(svc.settings, svc.app, stop, in_process=True)
            try:
                Fanout(svc.app, svc.views, projections).run_forever(stop, waiter, idle_wait=0.5)
            finally:
                waiter.close()

        return loop

    def close(self) -> None:
        app = self.services.app
        for worker in self.workers:
            worker.stop.set()
        for wake in app.listeners:  # idle in-process followers wait on this signal
            wake()
        for worker in self.workers:
            worker.halt()
        if isinstance(app.committer, GroupCommitter):
            app.committer.close()
        app.close()
        self.services.views.close()


def register_gauges(services: Services) -> None:
    def positions() -> dict[str, dict[str, int | str | None]]:
        return services.view_positions(services.app.recorder.max_notification_id() or 0)

    def number(value: int | str | None) -> float:
        return float(value) if isinstance(value, int) else 0.0

    services.metrics.gauge(
        "disputes_projection_position",
        "Position each read model has processed",
        lambda: {(name,): number(v["position"]) for name, v in positions().items()},
        ("view",),
    )
    services.metrics.gauge(
        "disputes_projection_lag",
        "Events each read model trails the event store by",
        lambda: {(name,): number(v["lag"]) for name, v in positions().items()},
        ("view",),
    )
    services.metrics.gauge(
        "disputes_projection_faulted",
        "1 while a read model is stopped at an event it cannot apply, else 0",
        lambda: {(name,): 1.0 if v["status"] == "faulted" else 0.0 for name, v in positions().items()},
        ("view",),
    )
    services.metrics.gauge(
        "disputes_projection_fault_position",
        "Position of the event a faulted read model is stopped at (0 when running)",
        lambda: {(name,): number(v["fault_position"]) for name, v in positions().items()},
        ("view",),
    )
    register_log_gauges(services)
    services.metrics.gauge(
        "disputes_event_store_head",
        "Position of the last recorded event",
        lambda: {(): float(services.app.recorder.max_notification_id() or 0)},
    )


def register_log_gauges(services: Services) -> None:
    """The transparency log: how far the tree trails the store, how old the latest checkpoint is."""

    def behind() -> dict[tuple[str, ...], float]:
        head = services.app.recorder.max_notification_id() or 0
        position = services.view_position(TransparencyLog.name) or 0
        return {(): float(max(head - position, 0))}

    def age() -> dict[tuple[str, ...], float]:
        store = services.checkpoint_store
        latest = store.latest() if store is not None else None
        if latest is None:
            return {}
        return {(): max((services.clock() - latest.issued_at).total_seconds(), 0.0)}

    def sizes() -> dict[tuple[str, ...], float]:
        store = services.checkpoint_store
        latest = store.latest() if store is not None else None
        return {("tree",): float(transparency.size(services.views)),
                ("checkpoint",): float(latest.tree_size if latest else 0)}  # fmt: skip

    services.metrics.gauge(
        "disputes_log_tree_behind",
        "Positions of the event store not yet in the transparency log's tree (0 when it is caught up)",
        behind,
    )
    services.metrics.gauge(
        "disputes_log_checkpoint_age_seconds", "Seconds since the latest signed checkpoint was issued", age
    )
    services.metrics.gauge(
        "disputes_log_tree_size", "Leaves in the transparency log's tree, and in its latest checkpoint", sizes, ("of",)
    )
