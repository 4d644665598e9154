"""The composition root: builds the application, blob store, read models,
runners and scheduler from one Settings object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from api.metrics import Metrics
from api.settings import Settings
from domain.application import DisputeApp
from store.blobs import BlobStore, LocalBlobStore
from store.idempotency import IdempotencyStore
from store.postgres import ensure_schema


def build_app(settings: Settings) -> DisputeApp:
    if settings.backend == "postgres":
        ensure_schema(settings.postgres_params())
    elif settings.backend == "sqlite":
        Path(settings.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    return DisputeApp(env=settings.eventsourcing_env(), policy=settings.policy())


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    app: DisputeApp
    blobs: BlobStore
    jwt_secret: str
    clock: Callable[[], datetime] = utc_now
    metrics: Metrics = field(default_factory=Metrics)
    background: list[object] = field(default_factory=list)

    @property
    def idempotency(self) -> IdempotencyStore:
        recorder = self.app.recorder
        assert isinstance(recorder, IdempotencyStore), "the configured recorder keeps idempotency records"
        return recorder

    def view_positions(self, head: int) -> dict[str, dict[str, int | None]]:
        """Each read model's tracked position and its lag behind `head`."""
        return {}

    def start(self) -> None:
        """Start in-process workers (projections, scheduler) when configured."""

    def close(self) -> None:
        self.app.close()


def build_services(settings: Settings, jwt_secret: str) -> Services:
    return Services(
        settings=settings,
        app=build_app(settings),
        blobs=LocalBlobStore(settings.blob_dir),
        jwt_secret=jwt_secret,
    )
