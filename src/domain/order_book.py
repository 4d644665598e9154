"""The order commands and reads, on the same application (event store and
log) as disputes, and the one command that joins the two: opening a dispute
on an order, which reads the order from the event store (never from a read
model that may lag) before the dispute decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain import validation
from domain.application import CommandResult, DisputeApp
from domain.errors import ConcurrentModification, RoleNotAllowed
from domain.order import Order, OrderTerms, may_see_order, missing_order, opening_terms
from domain.order import order_aggregate_id as aggregate_id
from domain.values import Actor, Context, Money, Reason, Remedy, Role
from domain.visibility import Read, ensure_may_read

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class OrderResult:
    """What putting an order did: the order as it now stands, whether this call
    recorded an event, and (when it did) the global position of that event."""

    order: Order
    changed: bool
    position: int | None


class OrderBook:
    def __init__(self, app: DisputeApp, *, require_known: bool = False) -> None:
        self.app = app
        self.require_known = require_known

    # ---------------------------------------------------------------- reads
    def order(self, order_id: str) -> Order | None:
        try:
            found: object = self.app.repository.get(aggregate_id(order_id))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Order) else None

    def order_for(self, order_id: str, actor: Actor) -> Order:
        """The order if the caller may see it; parties learn the same of a
        missing order as of someone else's."""
        ensure_may_read(actor, Read.ORDER)
        found = self.order(order_id)
        if found is None or not may_see_order(actor, found):
            raise missing_order(actor, order_id)
        return found

    # ------------------------------------------------------------- commands
    def put(self, ctx: Context, order_id: str, terms: OrderTerms) -> OrderResult:
        """Register the order, or record its new terms; the same terms again record nothing."""
        for _ in range(MAX_ATTEMPTS):
            order = self.order(order_id)
            if order is None:
                order = Order.register(ctx, order_id, terms)
            elif not order.update(ctx, terms):
                return OrderResult(order, False, None)
            try:
                recordings = self.app.save(order)
            except RecordConflictError:
                continue  # another writer recorded this order first: decide again on its terms
            return OrderResult(order, True, recordings[-1].notification.id)
        raise ConcurrentModification("the order kept changing; try again")

    def open_dispute(
        self,
        ctx: Context,
        *,
        order_id: str,
        seller_id: str | None,
        reason: Reason,
        remedy: Remedy,
        refund: Money | None,
        order_amount: Money | None,
        description: str,
        save_kwargs: Mapping[str, Any] | None = None,
    ) -> CommandResult:
        """Open a dispute, with the seller and amount of the registered order
        (`domain.order.opening_terms` says which rule refuses what)."""
        # Only a buyer learns anything of an order (and only its own buyer its terms).
        if ctx.actor.role is not Role.BUYER:
            raise RoleNotAllowed("only a buyer opens a dispute")
        validation.identifier("order_id", order_id)
        seller, amount = opening_terms(
            self.order(order_id), ctx.actor, order_id, seller_id, order_amount, ctx.at, require_known=self.require_known
        )
        return self.app.open_dispute(
            ctx,
            order_id=order_id,
            seller_id=seller,
            reason=reason,
            remedy=remedy,
            refund=refund,
            order_amount=amount,
            description=description,
            save_kwargs=save_kwargs,
        )
