"""The Order aggregate: registering, changing terms, its own hash chain, and
the rules a registered order sets for opening a dispute on it (in memory)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.application import DisputeApp
from domain.chain import GENESIS, next_chain_hash
from domain.dispute import dispute_id_for
from domain.errors import DisputeExists, DisputeNotFound, InvalidValue, NotParty, RoleNotAllowed
from domain.order import (
    Order,
    OrderMismatch,
    OrderNotFound,
    OrderTerms,
    OrderUnknown,
    ProtectionExpired,
    order_aggregate_id,
)
from domain.order_book import OrderBook
from domain.order_events import OrderRegistered, OrderUpdated
from domain.values import Actor, Context, Money, Reason, Remedy, Role
from support.builders import AGENT, ANALYST, AUDITOR, BUYER, OTHER_BUYER, OTHER_SELLER, SELLER, T0, usd
from support.domain_app import in_memory_app

PLATFORM = Actor("marketplace", Role.PLATFORM)
TERMS = OrderTerms(
    buyer_id=BUYER.id,
    seller_id=SELLER.id,
    amount=usd(2000),
    placed_at=T0 - timedelta(days=10),
    delivered_at=T0 - timedelta(days=3),
    protection_ends_at=T0 + timedelta(days=30),
)


def at(actor: Actor, days: float = 0) -> Context:
    return Context(actor, T0 + timedelta(days=days), request_id="req-1")


@pytest.fixture
def app() -> DisputeApp:
    return in_memory_app()


@pytest.fixture
def book(app: DisputeApp) -> OrderBook:
    return OrderBook(app)


def stored_events(app: DisputeApp, order_id: str) -> list[object]:
    return list(app.events.get(order_aggregate_id(order_id)))


# ------------------------------------------------------------------ putting
def test_the_first_put_registers_the_order_with_its_terms(book: OrderBook) -> None:
    result = book.put(at(PLATFORM), "o-1", TERMS)
    assert result.changed and result.position == 1
    order = book.order("o-1")
    assert order is not None and order.version == 1 and order.current == TERMS
    assert order.order_id == "o-1" and order.registered_at == T0 == order.updated_at
    assert order.id == order_aggregate_id("o-1") != dispute_id_for("o-1")


def test_the_same_terms_again_record_nothing(app: DisputeApp, book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    again = book.put(at(PLATFORM, 1), "o-1", TERMS)
    assert not again.changed and again.position is None and again.order.version == 1
    assert app.recorder.max_notification_id() == 1


def test_other_terms_record_one_update_naming_what_changed(app: DisputeApp, book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    later = replace(TERMS, delivered_at=T0 - timedelta(days=1), amount=usd(2500))
    result = book.put(at(PLATFORM, 1), "o-1", later)
    assert result.changed and result.order.version == 2 and result.order.current == later
    events = stored_events(app, "o-1")
    assert [type(e) for e in events] == [OrderRegistered, OrderUpdated]
    updated = events[1]
    assert isinstance(updated, OrderUpdated)
    assert updated.changed == ["amount", "delivered_at"]
    assert updated.amount == {"amount_minor": 2500, "currency": "USD"}
    assert result.order.registered_at == T0 and result.order.updated_at == T0 + timedelta(days=1)


@pytest.mark.parametrize("actor", [BUYER, SELLER, AGENT, AUDITOR, ANALYST], ids=lambda a: a.role.value)
def test_only_the_platform_puts_orders(book: OrderBook, actor: Actor) -> None:
    with pytest.raises(RoleNotAllowed):
        book.put(at(actor), "o-1", TERMS)
    book.put(at(PLATFORM), "o-1", TERMS)
    with pytest.raises(RoleNotAllowed):
        book.put(at(actor), "o-1", replace(TERMS, amount=usd(1)))


@pytest.mark.parametrize(
    "bad",
    [
        replace(TERMS, seller_id=BUYER.id),
        replace(TERMS, buyer_id=" "),
        replace(TERMS, amount=Money(0, "USD")),
        replace(TERMS, amount=Money(100, "XXX")),
        replace(TERMS, delivered_at=TERMS.placed_at - timedelta(seconds=1)),
        replace(TERMS, protection_ends_at=TERMS.placed_at),
        replace(TERMS, placed_at=TERMS.placed_at.replace(tzinfo=None)),
    ],
    ids=[
        "seller is buyer",
        "blank buyer",
        "zero amount",
        "no currency",
        "delivered before placed",
        "protection ends at placing",
        "naive time",
    ],
)
def test_bad_terms_are_refused_and_record_nothing(app: DisputeApp, book: OrderBook, bad: OrderTerms) -> None:
    with pytest.raises(InvalidValue):
        book.put(at(PLATFORM), "o-1", bad)
    book.put(at(PLATFORM), "o-2", TERMS)
    with pytest.raises(InvalidValue):
        book.put(at(PLATFORM), "o-2", bad)
    assert app.recorder.max_notification_id() == 1


# -------------------------------------------------------------------- chain
def test_each_order_event_extends_the_orders_own_chain(app: DisputeApp, book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    book.put(at(PLATFORM, 1), "o-1", replace(TERMS, delivered_at=None))
    previous = GENESIS
    for event in stored_events(app, "o-1"):
        fields = dict(vars(event))
        expected = next_chain_hash(previous, order_aggregate_id("o-1"), fields["originator_version"],
                                   type(event).__name__, fields)  # fmt: skip
        assert fields["chain_hash"] == expected
        previous = expected
    order = book.order("o-1")
    assert order is not None and order.chain_hash == previous


def test_an_order_is_not_a_dispute_and_a_dispute_not_an_order(app: DisputeApp, book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    with pytest.raises(DisputeNotFound):
        app.dispute(order_aggregate_id("o-1"))
    with pytest.raises(NotParty):
        app.dispute_for(order_aggregate_id("o-1"), BUYER)
    book.open_dispute(at(BUYER), order_id="o-2", seller_id=SELLER.id, reason=Reason.DAMAGED,
                      remedy=Remedy.REPLACEMENT, refund=None, order_amount=usd(10), description="")  # fmt: skip
    assert book.order("o-2") is None


# ------------------------------------------------------------------ reading
@pytest.mark.parametrize("reader", [PLATFORM, AGENT, AUDITOR, BUYER, SELLER], ids=lambda a: a.role.value)
def test_the_platform_staff_and_the_orders_own_parties_read_it(book: OrderBook, reader: Actor) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    assert book.order_for("o-1", reader).current == TERMS


def test_other_parties_learn_nothing_of_an_order(book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    for stranger in (OTHER_BUYER, OTHER_SELLER):
        with pytest.raises(NotParty) as theirs:
            book.order_for("o-1", stranger)
        with pytest.raises(NotParty) as missing:
            book.order_for("o-404", stranger)
        assert theirs.value.detail == missing.value.detail
    with pytest.raises(OrderNotFound):
        book.order_for("o-404", AGENT)
    with pytest.raises(RoleNotAllowed):
        book.order_for("o-1", ANALYST)


# ------------------------------------------------------------------ opening
def open_on(book: OrderBook, actor: Actor = BUYER, days: float = 1, **terms: object) -> object:
    values: dict[str, object] = {"order_id": "o-1", "seller_id": None, "order_amount": None, "refund": usd(1500)}
    values.update(terms)
    return book.open_dispute(at(actor, days), reason=Reason.DAMAGED, remedy=Remedy.REFUND_ONLY,
                             description="broken", **values)  # type: ignore[arg-type]  # fmt: skip


def test_a_dispute_on_a_registered_order_takes_its_seller_and_amount(book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    result = open_on(book)
    dispute = result.dispute  # type: ignore[attr-defined]
    assert dispute.seller_id == SELLER.id and dispute.order_amount == usd(2000) and dispute.buyer_id == BUYER.id


def test_the_seller_and_amount_sent_must_be_the_orders(book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    with pytest.raises(OrderMismatch):
        open_on(book, seller_id=OTHER_SELLER.id)
    with pytest.raises(OrderMismatch):
        open_on(book, order_amount=usd(1999))
    with pytest.raises(OrderMismatch):
        open_on(book, order_amount=Money(2000, "EUR"))
    open_on(book, seller_id=SELLER.id, order_amount=usd(2000))


def test_only_the_orders_buyer_opens_a_dispute_on_it(book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    with pytest.raises(NotParty) as refused:
        open_on(book, OTHER_BUYER, seller_id=OTHER_SELLER.id, order_amount=usd(1))
    assert "o-1" not in refused.value.detail and SELLER.id not in refused.value.detail
    for not_a_buyer in (SELLER, AGENT, PLATFORM):
        with pytest.raises(RoleNotAllowed):
            open_on(book, not_a_buyer)
    open_on(book)


def test_a_squatter_is_refused_before_learning_that_a_dispute_exists(book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    open_on(book)
    with pytest.raises(NotParty):
        open_on(book, OTHER_BUYER)
    with pytest.raises(DisputeExists):
        open_on(book)


def test_opening_after_the_protection_ended_is_refused(book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    with pytest.raises(ProtectionExpired):
        open_on(book, days=30.001)
    open_on(book, days=30)  # the last instant still counts


def test_unregistered_orders_need_a_seller_and_an_amount(book: OrderBook) -> None:
    with pytest.raises(InvalidValue, match="seller_id and order_amount required"):
        open_on(book)
    with pytest.raises(InvalidValue, match="order_amount required"):
        open_on(book, seller_id=SELLER.id)
    open_on(book, seller_id=SELLER.id, order_amount=usd(2000))


def test_requiring_known_orders_refuses_unregistered_ones(app: DisputeApp) -> None:
    strict = OrderBook(app, require_known=True)
    with pytest.raises(OrderUnknown):
        open_on(strict, seller_id=SELLER.id, order_amount=usd(2000))
    strict.put(at(PLATFORM), "o-1", TERMS)
    open_on(strict)


def test_an_order_holds_its_terms_between_loads(app: DisputeApp, book: OrderBook) -> None:
    book.put(at(PLATFORM), "o-1", TERMS)
    reloaded = app.repository.get(order_aggregate_id("o-1"))
    assert isinstance(reloaded, Order) and reloaded.current == TERMS
