"""Events of the Order aggregate (domain.order), named in the past tense.

An order is what the marketplace tells us about a purchase: who bought from
whom, for how much, and until when the buyer is protected. Each event records
the order's complete terms as they stand after it (so any one event says who
the order's parties were, which is what the feed decides visibility by), who
recorded it, when, and the per-order chain_hash (the same chain as a
dispute's, domain.chain). The class names and module are stored as topics
(`domain.order_events:OrderRegistered`): never rename or move them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.values import Actor, Role


class OrderEvent(Aggregate.Event):
    actor_id: str
    actor_role: str
    request_id: str
    idempotency_key: str | None
    chain_hash: str
    order_id: str
    buyer_id: str
    seller_id: str
    amount: dict[str, Any]
    placed_at: datetime
    delivered_at: datetime | None
    protection_ends_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.actor_id, Role(self.actor_role))

    def apply(self, aggregate: Any) -> None:
        aggregate.on_terms_recorded(self)


class OrderRegistered(OrderEvent, Aggregate.Created):
    """The marketplace told us of the order for the first time."""


class OrderUpdated(OrderEvent):
    """The marketplace changed the order's terms; `changed` names the fields that differ."""

    changed: list[str]
