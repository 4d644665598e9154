"""Request and response models of the orders (`PUT /v1/orders/{order_id}`,
`GET /v1/orders/{order_id}`), and the same request read from a JSON line by
`disputes orders import`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api import examples as ex
from api.instants import in_range
from api.schemas import MoneyIn, MoneyOut, Name, Strict
from domain.order import Order, OrderTerms
from domain.values import Money

PLACED_AT = "2026-02-20T14:03:00Z"
DELIVERED_AT = "2026-02-26T10:30:00Z"
PROTECTION_ENDS_AT = "2026-04-26T10:30:00Z"
ORDER_IN = {
    "buyer_id": "buyer-1",
    "seller_id": "seller-1",
    "amount": ex.USD_20,
    "placed_at": PLACED_AT,
    "delivered_at": DELIVERED_AT,
    "protection_ends_at": PROTECTION_ENDS_AT,
}
ORDER_OUT = {
    "order_id": "order-1001",
    **ORDER_IN,
    "version": 2,
    "registered_at": "2026-02-20T14:03:02Z",
    "updated_at": "2026-02-26T10:31:00Z",
}
ORDER_LINE = {"order_id": "order-1001", **ORDER_IN}


def instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time must carry its offset, e.g. 2026-02-20T14:03:00Z")
    if not in_range(value):
        raise ValueError("a time must lie between 1970-01-01 and 9999-01-01 (UTC)")
    return value


Instant = Annotated[datetime, AfterValidator(instant), Field(description="RFC 3339 with an offset")]


class OrderIn(Strict):
    """An order's terms as the marketplace states them: all of them, every time."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ORDER_IN))
    buyer_id: Name
    seller_id: Name
    amount: MoneyIn
    placed_at: Instant
    delivered_at: Instant | None = Field(description="null until delivered")
    protection_ends_at: Instant = Field(description="the last instant a dispute may be opened on the order")

    def terms(self) -> OrderTerms:
        amount = Money(self.amount.amount_minor, self.amount.currency)
        return OrderTerms(
            self.buyer_id, self.seller_id, amount, self.placed_at, self.delivered_at, self.protection_ends_at
        )


class OrderLine(OrderIn):
    """One line of a `disputes orders import` file: the order's id and its terms."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ORDER_LINE))
    order_id: Name


class OrderOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ORDER_OUT))
    order_id: str
    buyer_id: str
    seller_id: str
    amount: MoneyOut
    placed_at: datetime
    delivered_at: datetime | None
    protection_ends_at: datetime
    version: int = Field(description="how many events the order has (also its ETag)")
    registered_at: datetime
    updated_at: datetime


def order_out(order: Order) -> OrderOut:
    terms = order.current
    assert order.registered_at is not None and order.updated_at is not None
    return OrderOut(
        order_id=order.order_id,
        buyer_id=terms.buyer_id,
        seller_id=terms.seller_id,
        amount=MoneyOut(amount_minor=terms.amount.amount_minor, currency=terms.amount.currency),
        placed_at=terms.placed_at,
        delivered_at=terms.delivered_at,
        protection_ends_at=terms.protection_ends_at,
        version=order.version,
        registered_at=order.registered_at,
        updated_at=order.updated_at,
    )
