"""GET /v1/events: the notification log as each role may read it, paged and long-polled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api, build_app
from domain.values import Actor, Context, Money, Reason, Remedy, Role
from service.settings import Settings
from support.api import SECRET, ok, opening
from support.feed import ROLES, as_timeline, caller_of, callers, feed, timeline, two_disputes
from support.stores import settings_for


@pytest.fixture
def feed_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for(backend, tmp_path, request, in_process_workers=True, jwt_secret=SECRET)


@pytest.fixture
def client(feed_settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(feed_settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_each_role_reads_exactly_its_timelines_in_position_order(client: TestClient, role: Role) -> None:
    c = callers(client)
    first, second = two_disputes(c)
    me = caller_of(role, c)
    items = feed(me)
    positions = [i["position"] for i in items]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    expected = []
    for dispute in (first, second):
        if role in (Role.AGENT, Role.AUDITOR) or dispute is first:
            expected += timeline(me, dispute["id"], second["position"])
    assert [as_timeline(i) for i in items] == sorted(as_timeline(e) for e in expected)
    seen = {i["dispute_id"] for i in items}
    assert seen == ({first["id"]} if role in (Role.BUYER, Role.SELLER) else {first["id"], second["id"]})
    messages = [i["data"]["body"] for i in items if i["type"] == "MessagePosted"]
    assert messages == {
        Role.BUYER: ["buyer to agent"],
        Role.SELLER: ["seller to agent"],
        Role.AGENT: ["seller to agent", "buyer to agent"],
        Role.AUDITOR: ["seller to agent", "buyer to agent"],
    }[role]
    item = items[0]
    assert set(item) == {"id", "position", "dispute_id", "order_id", "type", "version", "actor", "occurred_at", "data"}
    assert item["order_id"] == "order-a"
    assert item["type"] == "DisputeOpened" and item["actor"] == {"id": "buyer-1", "role": "buyer"}


def test_analysts_may_not_read_the_feed_or_the_stream(client: TestClient) -> None:
    analyst = callers(client)["analyst"]
    assert analyst.get("/v1/events").status_code == 403
    assert analyst.get("/v1/events/stream").status_code == 403


def test_the_feed_filters_by_position_dispute_and_types(client: TestClient) -> None:
    c = callers(client)
    first, second = two_disputes(c)
    agent = c["agent"]
    everything = feed(agent)
    middle = everything[3]["position"]
    assert feed(agent, f"&after={middle}") == [i for i in everything if i["position"] > middle]
    assert feed(agent, f"&dispute_id={second['id']}") == [i for i in everything if i["dispute_id"] == second["id"]]
    chosen = feed(agent, "&type=OfferProposed&type=DisputeEscalated")
    assert chosen == [i for i in everything if i["type"] in ("OfferProposed", "DisputeEscalated")]
    assert len(chosen) == 3
    assert feed(c["buyer-2"], f"&dispute_id={first['id']}") == []  # absent, not refused
    assert agent.get("/v1/events?type=NoSuchEvent").status_code == 422
    assert agent.get("/v1/events?cursor=not-a-cursor").status_code == 422


def test_an_empty_wait_ends_with_an_empty_page(client: TestClient) -> None:
    agent = callers(client)["agent"]
    started = time.monotonic()
    body = ok(agent.get("/v1/events?wait=PT0.3S"), 200)
    assert body == {"items": [], "next_cursor": None}
    assert time.monotonic() - started >= 0.3
    assert agent.get("/v1/events?wait=PT31S").status_code == 422
    assert agent.get("/v1/events?wait=soon").status_code == 422


def test_a_long_poll_wakes_within_100ms_of_a_commit(client: TestClient, feed_settings: Settings) -> None:
    """On Postgres the commit comes from another application (as another process
    would): only LISTEN/NOTIFY can wake the poll. Elsewhere, through the API."""
    c = callers(client)
    ok(c["buyer-1"].post("/v1/disputes", opening("seller-1", order_id="order-0")), 201)
    head = feed(c["agent"])[-1]["position"]
    answered: dict[str, float] = {}

    def poll() -> None:
        body = ok(c["agent"].get(f"/v1/events?after={head}&wait=PT10S"), 200)
        answered["at"] = time.monotonic()
        answered["items"] = len(body["items"])

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    if feed_settings.backend == "postgres":
        other = build_app(feed_settings)
        try:
            ctx = Context(Actor("buyer-9", Role.BUYER), datetime.now(UTC))
            amount = Money(1000, "USD")
            other.open_dispute(
                ctx, order_id="order-9", seller_id="seller-9", reason=Reason.NOT_RECEIVED,
                remedy=Remedy.REFUND_ONLY, refund=amount, order_amount=amount, description="never came",
            )  # fmt: skip
            committed = time.monotonic()
        finally:
            other.close()
    else:
        ok(c["buyer-1"].post("/v1/disputes", opening("seller-1", order_id="order-1")), 201)
        committed = time.monotonic()
    poller.join(timeout=15)
    assert answered["items"] == 1
    assert answered["at"] - committed < 0.1, f"woke {answered['at'] - committed:.3f}s after the commit"
