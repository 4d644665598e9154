"""What every entry point (the API, the CLI, the workers, the tests) is handed
by the bootstrap: the application, the read models, the ports, the clock and
the use cases built on them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.application import DisputeApp
from domain.order_book import OrderBook
from projections import base
from projections.catalog import PROJECTIONS
from projections.db import Database
from service.commands import CommandService
from service.evidence import EvidenceUploads
from service.feed import CommitSignal, EventFeed
from service.metrics import Metrics
from service.orders import Orders
from service.ports import BlobStore, IdempotencyStore
from service.rate_limits import RateLimits
from service.settings import Settings
from service.webhooks.model import WebhookStore
from service.webhooks.subscriptions import Webhooks


def utc_now() -> datetime:
    return datetime.now(UTC)


def nothing() -> None:
    return None


@dataclass
class Services:
    settings: Settings
    app: DisputeApp
    blobs: BlobStore
    views: Database
    idempotency: IdempotencyStore
    jwt_secret: str
    clock: Callable[[], datetime] = utc_now
    metrics: Metrics = field(default_factory=Metrics)
    start: Callable[[], None] = nothing
    """Starts the in-process workers the bootstrap planned (projections, scheduler)."""
    close: Callable[[], None] = nothing
    """Stops them and closes every connection."""
    webhook_store: WebhookStore | None = None
    commits: CommitSignal = field(default_factory=CommitSignal)
    """Woken after each commit (this process's saves; on Postgres, everyone's)."""
    commands: CommandService = field(init=False)
    evidence: EvidenceUploads = field(init=False)
    feed: EventFeed = field(init=False)
    webhooks: Webhooks | None = field(init=False)
    rate_limits: RateLimits = field(init=False)
    orders: Orders = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.settings)
        self.commands = CommandService(self.app, self.idempotency)
        self.evidence = EvidenceUploads(self.app, self.blobs, self.clock)
        self.feed = EventFeed(self.app)
        self.orders = Orders(OrderBook(self.app, require_known=self.settings.require_known_orders))
        store = self.webhook_store
        self.webhooks = Webhooks(store, self.feed, self.settings, self.clock) if store is not None else None
        self.app.listeners.append(self.commits.notify)

    def view_positions(self, head: int) -> dict[str, dict[str, int | str | None]]:
        """Each read model's tracked position, its lag behind `head`, and whether it
        is stopped at an event it cannot apply (`faulted`, with that event's position
        and the error)."""
        positions: dict[str, dict[str, int | str | None]] = {}
        for name in PROJECTIONS:
            generation = base.active(self.views, name)
            position = generation.position if generation else None
            fault = generation.fault if generation else None
            positions[name] = {
                "position": position,
                "lag": None if position is None else max(head - position, 0),
                "status": "faulted" if fault else "running",
                "fault_position": fault.position if fault else None,
                "fault_error": fault.error if fault else None,
            }
        return positions

    def view_position(self, name: str) -> int | None:
        generation = base.active(self.views, name)
        return generation.position if generation else None
