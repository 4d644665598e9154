"""The Order aggregate: a purchase as the marketplace reports it.

Orders are kept apart from disputes (their own aggregate, events and hash
chain, in the same event store and log). The marketplace's integration
account (role `platform`) registers an order and changes its terms by
putting them again: the same terms again decide nothing (idempotent), other
terms decide one `OrderUpdated`. A dispute opened on a registered order takes
its seller and amount from it (`opening_terms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain import order_events as oe
from domain import validation
from domain.chain import GENESIS, next_chain_hash
from domain.errors import (
    DomainError,
    InvalidTransition,
    InvalidValue,
    NotParty,
    RoleNotAllowed,
)
from domain.values import PARTIES, Actor, Context, Money, Role
from domain.visibility import READERS, Read

ORDER_RECORD_NAMESPACE = uuid5(NAMESPACE_URL, "urn:disputes:order-record")
NOT_YOURS = "no order with this id is visible to you"
TERMS = ("buyer_id", "seller_id", "amount", "placed_at", "delivered_at", "protection_ends_at")


def order_aggregate_id(order_id: str) -> UUID:
    """The id of an order's aggregate, derived from the marketplace's order id
    (another namespace than the dispute's id, `domain.dispute.dispute_id_for`)."""
    return uuid5(ORDER_RECORD_NAMESPACE, order_id)


# -------------------------------------------------------------------- errors
class OrderNotFound(DomainError):
    code = "order_not_found"


class OrderUnknown(DomainError):
    """A dispute is opened on an order the marketplace never registered, and
    DISPUTES_REQUIRE_KNOWN_ORDERS is on."""

    code = "order_unknown"


class OrderMismatch(InvalidValue):
    """A dispute names a seller or an amount other than its registered order's."""

    code = "order_mismatch"


class ProtectionExpired(InvalidTransition):
    """The order's buyer protection ended before the dispute was opened."""

    code = "protection_expired"


# --------------------------------------------------------------------- terms
@dataclass(frozen=True)
class OrderTerms:
    buyer_id: str
    seller_id: str
    amount: Money
    placed_at: datetime
    delivered_at: datetime | None
    protection_ends_at: datetime

    def validate(self) -> None:
        validation.identifier("buyer_id", self.buyer_id)
        validation.identifier("seller_id", self.seller_id)
        if self.buyer_id == self.seller_id:
            raise InvalidValue("the seller cannot be the buyer")
        validation.valid_money("amount", self.amount)
        for name in ("placed_at", "delivered_at", "protection_ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidValue(f"{name} must carry a time zone")
        if self.delivered_at is not None and self.delivered_at < self.placed_at:
            raise InvalidValue("delivered_at is before placed_at")
        if self.protection_ends_at <= self.placed_at:
            raise InvalidValue("protection_ends_at must be after placed_at")

    def as_fields(self) -> dict[str, Any]:
        return {
            "buyer_id": self.buyer_id,
            "seller_id": self.seller_id,
            "amount": self.amount.as_dict(),
            "placed_at": self.placed_at,
            "delivered_at": self.delivered_at,
            "protection_ends_at": self.protection_ends_at,
        }


# ----------------------------------------------------------------- aggregate
class Order(Aggregate):
    def __init__(self) -> None:
        self.order_id = ""
        self.terms: OrderTerms | None = None
        self.registered_at: datetime | None = None
        self.updated_at: datetime | None = None
        self.chain_hash = GENESIS

    @property
    def buyer_id(self) -> str:
        return self.current.buyer_id

    @property
    def seller_id(self) -> str:
        return self.current.seller_id

    @property
    def current(self) -> OrderTerms:
        assert self.terms is not None, "an order has terms from its first event"
        return self.terms

    # ---------------------------------------------------------------- commands
    @classmethod
    def register(cls, ctx: Context, order_id: str, terms: OrderTerms) -> Order:
        ensure_may_record(ctx.actor)
        validation.identifier("order_id", order_id)
        terms.validate()
        aggregate_id = order_aggregate_id(order_id)
        fields = {**ctx.event_fields(), "order_id": order_id, **terms.as_fields()}
        chain_hash = next_chain_hash(GENESIS, aggregate_id, 1, "OrderRegistered", fields)
        return cls._create(oe.OrderRegistered, id=aggregate_id, chain_hash=chain_hash, **fields)

    def update(self, ctx: Context, terms: OrderTerms) -> bool:
        """Record new terms; the same terms again record nothing (False)."""
        ensure_may_record(ctx.actor)
        terms.validate()
        changed = [name for name in TERMS if getattr(terms, name) != getattr(self.current, name)]
        if not changed:
            return False
        fields = {**ctx.event_fields(), "order_id": self.order_id, **terms.as_fields(), "changed": changed}
        chain_hash = next_chain_hash(self.chain_hash, self.id, self.version + 1, "OrderUpdated", fields)
        self.trigger_event(oe.OrderUpdated, chain_hash=chain_hash, **fields)
        return True

    # ---------------------------------------------------------------- mutator
    def on_terms_recorded(self, e: oe.OrderEvent) -> None:
        self.order_id = e.order_id
        self.terms = OrderTerms(
            e.buyer_id,
            e.seller_id,
            Money(int(e.amount["amount_minor"]), str(e.amount["currency"])),
            e.placed_at,
            e.delivered_at,
            e.protection_ends_at,
        )
        if self.registered_at is None:
            self.registered_at = e.timestamp
        self.updated_at = e.timestamp
        self.chain_hash = e.chain_hash


# ---------------------------------------------------------------- visibility
def ensure_may_record(actor: Actor) -> None:
    if actor.role is not Role.PLATFORM:
        raise RoleNotAllowed(f"a {actor.role.value} may not register orders; the marketplace's platform account does")


def may_see_order(actor: Actor, order: oe.OrderEvent | Order) -> bool:
    """The platform, agents and auditors see every order; a buyer or a seller
    only its own (by the parties the order names, or named in that event)."""
    if actor.role is Role.BUYER:
        return actor.id == order.buyer_id
    if actor.role is Role.SELLER:
        return actor.id == order.seller_id
    return actor.role in READERS[Read.ORDER]


def missing_order(actor: Actor, order_id: str) -> DomainError:
    """A party learns the same of a missing order as of someone else's."""
    return NotParty(NOT_YOURS) if actor.role in PARTIES else OrderNotFound(f"no order {order_id}")


# ------------------------------------------------------------------- opening
def opening_terms(
    order: Order | None,
    buyer: Actor,
    order_id: str,
    seller_id: str | None,
    order_amount: Money | None,
    at: datetime,
    *,
    require_known: bool,
) -> tuple[str, Money]:
    """The seller and amount a dispute on `order_id` is opened with, checked
    against the registered order (if any). The caller's role is checked by
    `validation.opening` before, so only buyers get here."""
    if order is None:
        if require_known:
            raise OrderUnknown(f"order {order_id} is not registered")
        if seller_id is None or order_amount is None:
            named = (("seller_id", seller_id), ("order_amount", order_amount))
            missing = " and ".join(name for name, value in named if value is None)
            raise InvalidValue(f"{missing} required: order {order_id} is not registered")
        return seller_id, order_amount
    if order.buyer_id != buyer.id:
        raise NotParty(NOT_YOURS)
    terms = order.current
    if seller_id is not None and seller_id != terms.seller_id:
        raise OrderMismatch(f"seller_id is not the seller of order {order_id}")
    if order_amount is not None and order_amount != terms.amount:
        raise OrderMismatch(f"order_amount is not the amount of order {order_id}")
    if at > terms.protection_ends_at:
        ended = terms.protection_ends_at.isoformat()
        raise ProtectionExpired(f"the buyer protection of order {order_id} ended at {ended}")
    return terms.seller_id, terms.amount
