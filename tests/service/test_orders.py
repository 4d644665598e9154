"""Orders through the service layer on every store: putting (with the position
of the event that recorded the current terms), the orders' hash chains
beside the disputes', and importing JSON lines."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.application import DisputeApp
from domain.order import OrderTerms, order_aggregate_id
from domain.order_book import OrderBook
from domain.values import Actor, Context, Role
from service.orders import Orders, ParsedLine, now_context
from service.recorded import AGGREGATE_TOPICS, dispute_ids, verify_chain
from support.builders import BUYER, SELLER, T0, Scenario, usd

PLATFORM = Actor("marketplace", Role.PLATFORM)
TERMS = OrderTerms(BUYER.id, SELLER.id, usd(2000), T0 - timedelta(days=9), None, T0 + timedelta(days=60))


def ctx(minutes: int = 0) -> Context:
    return Context(PLATFORM, T0 + timedelta(minutes=minutes), request_id=f"req-{minutes}")


@pytest.fixture
def orders(app: DisputeApp) -> Orders:
    return Orders(OrderBook(app))


def test_a_repeat_answers_with_the_position_of_the_event_that_recorded_the_terms(
    app: DisputeApp, orders: Orders
) -> None:
    first = orders.put(ctx(), "o-1", TERMS)
    Scenario(app).open()  # something else is recorded in between
    again = orders.put(ctx(1), "o-1", TERMS)
    assert first.changed and not again.changed
    assert again.position == first.position == 1 and again.order.version == 1
    changed = orders.put(ctx(2), "o-1", replace(TERMS, delivered_at=T0))
    assert changed.changed and changed.position == app.recorder.max_notification_id() == 3
    assert orders.put(ctx(3), "o-1", replace(TERMS, delivered_at=T0)).position == 3


def test_orders_and_disputes_each_keep_a_valid_chain(app: DisputeApp, orders: Orders) -> None:
    orders.put(ctx(), "o-1", TERMS)
    orders.put(ctx(1), "o-1", replace(TERMS, amount=usd(2100)))
    Scenario(app).open().seller_counters()
    ids = list(dispute_ids(app))
    assert order_aggregate_id("o-1") in ids and len(ids) == 2
    reports = {i: verify_chain(app, i, creates=AGGREGATE_TOPICS) for i in ids}
    assert all(r.valid for r in reports.values()), reports
    assert reports[order_aggregate_id("o-1")].events == 2
    as_a_dispute = verify_chain(app, order_aggregate_id("o-1"))
    assert not as_a_dispute.valid and as_a_dispute.problem == "version 1 does not create a Dispute"


def test_an_order_event_is_read_back_exactly_as_decided(app: DisputeApp, orders: Orders) -> None:
    placed = datetime(2026, 1, 31, 23, 59, 59, 123456, tzinfo=UTC)
    terms = replace(TERMS, placed_at=placed, delivered_at=placed + timedelta(hours=30))
    orders.put(ctx(), "o-utf8-ü", terms)
    app.repository.cache = None  # type: ignore[assignment]  # read the store, not the cache
    assert orders.get("o-utf8-ü", PLATFORM).current == terms


def parse(line: str) -> ParsedLine:
    document = json.loads(line)
    if "buyer_id" not in document:
        raise ValueError("buyer_id: Field required")
    return document["order_id"], replace(TERMS, buyer_id=document["buyer_id"])


def test_an_import_reports_bad_lines_by_number_and_keeps_the_good_ones(app: DisputeApp, orders: Orders) -> None:
    lines = [
        json.dumps({"order_id": "o-1", "buyer_id": "b-1"}),
        json.dumps({"order_id": "o-2"}),
        "",
        json.dumps({"order_id": "o-3", "buyer_id": SELLER.id}),  # the seller cannot be the buyer
        json.dumps({"order_id": "o-4", "buyer_id": "b-4"}),
    ]
    ticks: list[None] = []
    clock = iter(T0 + timedelta(seconds=n) for n in range(100))
    ctx_for = now_context(PLATFORM, lambda: next(clock), "imp")
    results = list(orders.import_lines(lines, parse, ctx_for, lambda: ticks.append(None)))
    assert [(r.number, r.changed, r.problem) for r in results] == [
        (1, True, None),
        (2, None, "buyer_id: Field required"),
        (4, None, "invalid_value: the seller cannot be the buyer"),
        (5, True, None),
    ]
    assert len(ticks) == len(lines)
    assert orders.get("o-4", PLATFORM).buyer_id == "b-4"
    again = list(orders.import_lines(lines[:1], parse, now_context(PLATFORM, lambda: T0, "imp")))
    assert [(r.changed, r.problem) for r in again] == [(False, None)]
    history = list(app.events.get(order_aggregate_id("o-1")))
    assert history[0].request_id == "imp:1"  # type: ignore[attr-defined]
