"""The domain refuses hostile values itself (issue 11), whatever entry point
builds the command: the API's schemas only run the same checks earlier."""

from __future__ import annotations

from typing import Any

import pytest

from domain.application import DisputeApp
from domain.errors import InvalidValue
from domain.policy import MAX_AMOUNT_MINOR
from domain.values import Actor, Money, Outcome, Reason, Remedy, Role
from support.builders import AGENT, BUYER, Clock, Scenario
from support.domain_app import in_memory_app


@pytest.fixture
def app() -> DisputeApp:
    return in_memory_app()


def open_with(app: DisputeApp, buyer: Actor = BUYER, **changes: Any) -> None:
    fields: dict[str, Any] = {
        "order_id": "order-1", "seller_id": "seller-1", "reason": Reason.DAMAGED, "remedy": Remedy.REFUND_ONLY,
        "refund": Money(1500, "USD"), "order_amount": Money(2000, "USD"), "description": "",
    }  # fmt: skip
    app.open_dispute(Clock().ctx(buyer), **{**fields, **changes})


@pytest.mark.parametrize(
    "money",
    [Money("2000", "USD"), Money(True, "USD"), Money(2000.0, "USD"), Money(0, "USD"), Money(-5, "USD"),  # type: ignore[arg-type]
     Money(MAX_AMOUNT_MINOR + 1, "USD"), Money(2000, "ZZZ"), Money(2000, "usd"), Money(2000, "XTS")],
    ids=repr,
)  # fmt: skip
def test_an_order_amount_that_is_not_money_is_refused(app: DisputeApp, money: Money) -> None:
    with pytest.raises(InvalidValue):
        open_with(app, order_amount=money, refund=None, remedy=Remedy.REPLACEMENT)


@pytest.mark.parametrize("field", ["order_id", "seller_id"])
@pytest.mark.parametrize("value", ["\u0007\u202e", "a\u202eb", "   ", "x" * 256])
def test_ids_that_are_blank_unprintable_or_too_long_are_refused(app: DisputeApp, field: str, value: str) -> None:
    with pytest.raises(InvalidValue):
        open_with(app, **{field: value})


def test_a_buyer_id_with_a_bidi_override_cannot_open_a_dispute(app: DisputeApp) -> None:
    with pytest.raises(InvalidValue):
        open_with(app, buyer=Actor("buyer\u202e1", Role.BUYER))


def test_a_ruling_refund_in_no_currency_is_refused_even_when_zero(app: DisputeApp) -> None:
    s = Scenario(app).open().seller_counters().buyer_escalates()
    with pytest.raises(InvalidValue):
        app.issue_ruling(s.id, s.clock.ctx(AGENT), outcome=Outcome.NO_REFUND, refund=Money(0, "ZZZ"),
                         seller_at_fault=False, rationale="r")  # fmt: skip
