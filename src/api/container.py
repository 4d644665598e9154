"""The composition root: builds the application, blob store, read models,
runners and scheduler from one Settings object."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, OperationalError

from api.metrics import Metrics
from api.scheduler import build_scheduler
from api.settings import Settings
from domain.application import DisputeApp
from projections import base
from projections.catalog import PROJECTIONS
from projections.db import Database, PostgresDatabase, SQLiteDatabase
from projections.runner import Follower, ListenWaiter, PollingWaiter, SignalWaiter, Waiter
from store.application_seam import StoreApp
from store.blobs import BlobStore, LocalBlobStore
from store.group_commit import GroupCommitter
from store.idempotency import IdempotencyStore
from store.postgres import ensure_schema

log = logging.getLogger("disputes.container")


def build_app(settings: Settings) -> DisputeApp:
    if settings.backend == "postgres":
        ensure_schema(settings.postgres_params())
    elif settings.backend == "sqlite":
        Path(settings.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    return StoreApp(env=settings.eventsourcing_env(), policy=settings.policy())


def build_views_db(settings: Settings) -> Database:
    """Read models live beside the events (same SQLite file, same Postgres schema),
    so analysts find everything in one place."""
    if settings.backend == "postgres":
        params = settings.postgres_params()
        return PostgresDatabase(params, params["schema"], pool_size=settings.postgres_pool_size)
    if settings.backend == "sqlite":
        return SQLiteDatabase(settings.sqlite_path)
    # The in-memory event store starts empty in every process: so must its views.
    Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
    return SQLiteDatabase(str(Path(settings.var_dir) / f"views-{uuid.uuid4().hex}.sqlite"), ephemeral=True)


def ensure_views(db: Database, settings: Settings) -> None:
    base.ensure_registry(db)
    for projection in PROJECTIONS.values():
        base.ensure_projection(db, projection, projection.params_from(settings))


# Raced table creation on Postgres; on a fresh SQLite file, switching to WAL or
# creating tables while another process does can report "database is locked".
STARTUP_RACES = (psycopg.IntegrityError, IntegrityError, sqlite3.IntegrityError, OperationalError)
STARTUP_ATTEMPTS = 5


def connect(settings: Settings) -> tuple[DisputeApp, Database]:
    """The event store and the read models, their tables created if missing.

    Processes started together on a fresh Postgres database race to create
    the same tables and types (CREATE ... IF NOT EXISTS is not atomic there);
    creating them is idempotent, so the loser waits a moment and tries again."""
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            return _open(settings)
        except STARTUP_RACES as race:
            if attempt == STARTUP_ATTEMPTS:
                raise
            log.warning("creating tables raced another process (%s); trying again", race)
            time.sleep(random.uniform(0.1, 0.5))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable: the last attempt returns or raises")


def _open(settings: Settings) -> tuple[DisputeApp, Database]:
    events = build_app(settings)
    views = build_views_db(settings)
    try:
        ensure_views(views, settings)
    except BaseException:
        events.close()
        views.close()
        raise
    return events, views


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


def utc_now() -> datetime:
    return datetime.now(UTC)


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
class Services:
    settings: Settings
    app: DisputeApp
    blobs: BlobStore
    views: Database
    jwt_secret: str
    clock: Callable[[], datetime] = utc_now
    metrics: Metrics = field(default_factory=Metrics)
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.metrics.gauge(
            "disputes_projection_position",
            "Position each read model has processed",
            lambda: {(name,): float(v["position"] or 0) for name, v in self._positions().items()},
            ("view",),
        )
        self.metrics.gauge(
            "disputes_projection_lag",
            "Events each read model trails the event store by",
            lambda: {(name,): float(v["lag"] or 0) for name, v in self._positions().items()},
            ("view",),
        )
        self.metrics.gauge(
            "disputes_event_store_head",
            "Position of the last recorded event",
            lambda: {(): float(self.app.recorder.max_notification_id() or 0)},
        )

    @property
    def idempotency(self) -> IdempotencyStore:
        recorder = self.app.recorder
        assert isinstance(recorder, IdempotencyStore), "the configured recorder keeps idempotency records"
        return recorder

    def _positions(self) -> dict[str, dict[str, int | None]]:
        return self.view_positions(self.app.recorder.max_notification_id() or 0)

    def view_positions(self, head: int) -> dict[str, dict[str, int | None]]:
        """Each read model's tracked position and its lag behind `head`."""
        positions: dict[str, dict[str, int | None]] = {}
        for name in PROJECTIONS:
            generation = base.active(self.views, name)
            position = generation.position if generation else None
            positions[name] = {"position": position, "lag": None if position is None else max(head - position, 0)}
        return positions

    def view_position(self, name: str) -> int | None:
        generation = base.active(self.views, name)
        return generation.position if generation else None

    def start(self) -> None:
        """Start in-process workers (projection followers, scheduler) when configured."""
        if not self.settings.in_process_workers:
            return
        for projection in PROJECTIONS.values():
            self.workers.append(Worker(f"projection-{projection.name}", self._follow(projection)))
        scheduler = build_scheduler(self.app, self.views, self.clock, self.metrics)
        interval = self.settings.scheduler_interval.total_seconds()
        self.workers.append(Worker("scheduler", lambda stop: scheduler.run_forever(stop, interval)))
        for worker in self.workers:
            worker.start()

    def _follow(self, projection: Any) -> Callable[[threading.Event], None]:
        def loop(stop: threading.Event) -> None:
            waiter = new_waiter(self.settings, self.app, stop, in_process=True)
            try:
                Follower(self.app, self.views, projection).run_forever(stop, waiter, idle_wait=0.5)
            finally:
                waiter.close()

        return loop

    def close(self) -> None:
        for worker in self.workers:
            worker.stop.set()
        for wake in self.app.listeners:  # idle in-process followers wait on this signal
            wake()
        for worker in self.workers:
            worker.halt()
        if isinstance(self.app.committer, GroupCommitter):
            self.app.committer.close()
        self.app.close()
        self.views.close()


def build_services(settings: Settings, jwt_secret: str) -> Services:
    app, views = connect(settings)
    if settings.group_commit:
        app.committer = GroupCommitter(app)
    return Services(
        settings=settings,
        app=app,
        blobs=LocalBlobStore(settings.blob_dir),
        views=views,
        jwt_secret=jwt_secret,
    )
