"""The composition root: the only code that builds the store's implementations.

Every entry point (the HTTP API, each CLI command, the workers, the scripts
and the tests) builds what it needs here, from one `Settings` object.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, InternalError, OperationalError
from fastapi import FastAPI

from api.auth import resolve_secret
from api.main import create_app
from bootstrap.workers import Crew, new_waiter, register_gauges
from domain.application import DisputeApp
from projections import analytics, base
from projections.catalog import PROJECTIONS
from projections.db import Database, PostgresDatabase, SQLiteDatabase
from service.checkpoints import Checkpointer, checkpoint_status, resolve_signer
from service.hub import Services
from service.metrics import Metrics
from service.ports import IdempotencyStore
from service.settings import Settings
from store.application_seam import StoreApp
from store.blobs import LocalBlobStore
from store.checkpoints import SqlCheckpointStore
from store.group_commit import GroupCommitter
from store.postgres import ensure_schema
from store.webhooks import SqlWebhookStore

__all__ = [
    "STORE_UNREACHABLE",
    "Services",
    "Settings",
    "build_api",
    "build_app",
    "build_checkpointer",
    "build_services",
    "build_views_db",
    "connect",
    "ensure_views",
    "new_waiter",
    "observe_business_events",
]
log = logging.getLogger("disputes.bootstrap")


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
    analytics.ensure(db, settings.analytics_schema_name(), settings.penalty_window)


# Raced table creation on Postgres; on a fresh SQLite file, switching to WAL or
# creating tables while another process does can report "database is locked"
# at once, without waiting for the busy timeout (from the event store, wrapped
# by eventsourcing, or from the read models' own sqlite3 connection).
STARTUP_RACES = (psycopg.IntegrityError, IntegrityError, sqlite3.IntegrityError, OperationalError)
STARTUP_ATTEMPTS = 8
# What a database that cannot be reached (or opened) raises, whichever the backend.
STORE_UNREACHABLE: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    OperationalError,
    InterfaceError,
    sqlite3.OperationalError,
    sqlite3.DatabaseError,
    OSError,
)


def is_startup_race(error: BaseException) -> bool:
    if isinstance(error, STARTUP_RACES):
        return True
    if isinstance(error, (InternalError, psycopg.InternalError)):
        # Postgres: processes running the same CREATE ... IF NOT EXISTS at once
        return "tuple concurrently updated" in str(error)
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def connect(settings: Settings) -> tuple[DisputeApp, Database]:
    """The event store and the read models, their tables created if missing.

    Processes started together on a fresh Postgres database race to create
    the same tables and types (CREATE ... IF NOT EXISTS is not atomic there);
    creating them is idempotent, so the loser waits a moment and tries again."""
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            return _open(settings)
        except (*STARTUP_RACES, sqlite3.OperationalError, InternalError, psycopg.InternalError) as race:
            if attempt == STARTUP_ATTEMPTS or not is_startup_race(race):
                raise
            log.warning("creating tables raced another process (%s); trying again", race)
            time.sleep(random.uniform(0.1, 0.5))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable: the last attempt returns or raises")


def _open(settings: Settings) -> tuple[DisputeApp, Database]:
    events = build_app(settings)
    views = build_views_db(settings)
    try:
        ensure_views(views, settings)
        SqlWebhookStore(views).ensure_tables()
        SqlCheckpointStore(views).ensure_tables()
    except BaseException:
        events.close()
        views.close()
        raise
    return events, views


def build_services(settings: Settings, jwt_secret: str | None = None) -> Services:
    """Everything an entry point needs, connected; `start()` then runs the
    in-process workers the settings ask for, and `close()` stops it all."""
    app, views = connect(settings)
    if settings.group_commit:
        app.committer = GroupCommitter(app)
    recorder = app.recorder
    assert isinstance(recorder, IdempotencyStore), "the configured recorder keeps idempotency records"
    services = Services(
        settings=settings,
        app=app,
        blobs=LocalBlobStore(settings.blob_dir),
        views=views,
        idempotency=recorder,
        webhook_store=SqlWebhookStore(views),
        checkpoint_store=SqlCheckpointStore(views),
        signer=resolve_signer(settings),
        jwt_secret=jwt_secret if jwt_secret is not None else resolve_secret(settings),
    )
    store = services.checkpoint_store
    assert store is not None
    services.latest_checkpoint = lambda: checkpoint_status(store, services.views, services.now())
    register_gauges(services)
    observe_business_events(app, services.metrics)
    crew = Crew(services)
    services.start, services.close = crew.start, crew.close
    return services


def build_checkpointer(settings: Settings, views: Database) -> Checkpointer:
    """What issues checkpoints outside the API process (`disputes audit checkpoint`, the projection worker)."""
    store = SqlCheckpointStore(views)
    store.ensure_tables()
    return Checkpointer(views, store, resolve_signer(settings), settings.log_origin, lambda: datetime.now(UTC),
                        settings.checkpoint_dir)  # fmt: skip


def observe_business_events(app: DisputeApp, metrics: Metrics) -> None:
    """Count opened, resolved and refunded disputes as this process commits them."""
    if isinstance(app, StoreApp):
        app.observers.append(metrics.observe_events)


def build_api(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The HTTP API; its services are built (and their workers started) with the
    app's lifespan, or on the first request of a host that never runs it."""
    settings = settings or (services.settings if services else Settings())
    # The console's sign-in picker mints tokens only with the development secret.
    dev_tokens = settings.env == "dev" and not settings.jwt_jwks_url
    return create_app(lambda: services or build_services(settings), settings.cors_origin_list, dev_tokens)
