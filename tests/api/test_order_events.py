"""Order events in the feed, the stream and webhooks: `dispute_id: null` and
their `order_id`, for the platform, agents, auditors and the order's own
buyer and seller (by the parties the event names); never for anyone else."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from support.api import SECRET, Caller, ok, usd
from support.receiver import Receiver
from support.stores import settings_for

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ITEM_KEYS = {"id", "position", "dispute_id", "order_id", "type", "version", "actor", "occurred_at", "data"}


def terms(buyer: str, seller: str, delivered_at: str | None = None) -> dict[str, Any]:
    return {
        "buyer_id": buyer,
        "seller_id": seller,
        "amount": usd(2000),
        "placed_at": "2026-01-10T08:00:00Z",
        "delivered_at": delivered_at,
        "protection_ends_at": "2999-01-01T00:00:00Z",
    }


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    settings = settings_for(
        request.param, tmp_path, request, jwt_secret=SECRET, in_process_workers=True,
        stream_heartbeat="PT0.2S", stream_max_duration="PT1S", webhook_retry_schedule="PT0.2S,PT0.3S",
    )  # fmt: skip
    with TestClient(build_api(settings)) as test_client:
        yield test_client


def callers(client: TestClient) -> dict[str, Caller]:
    subs = {"platform": Role.PLATFORM, "agent": Role.AGENT, "auditor": Role.AUDITOR, "analyst": Role.ANALYST,
            "buyer-1": Role.BUYER, "seller-1": Role.SELLER, "buyer-2": Role.BUYER, "seller-2": Role.SELLER,
            "buyer-3": Role.BUYER}  # fmt: skip
    return {sub: Caller(client, role, sub) for sub, role in subs.items()}


def world(c: dict[str, Caller]) -> None:
    """o-a (buyer-1 from seller-1) registered, delivered, disputed with a message;
    o-b (buyer-2 from seller-2) registered; then o-a passed to buyer-3."""
    platform = c["platform"]

    def put(order_id: str, body: dict[str, Any]) -> None:
        ok(platform.client.put(f"/v1/orders/{order_id}", json=body, headers=platform.headers), 200)

    put("o-a", terms("buyer-1", "seller-1"))
    put("o-a", terms("buyer-1", "seller-1", "2026-01-12T09:00:00Z"))
    dispute = ok(c["buyer-1"].post("/v1/disputes", {"order_id": "o-a", "reason": "damaged",
                                                    "remedy": "replacement"}), 201)  # fmt: skip
    ok(c["buyer-1"].post(f"/v1/disputes/{dispute['id']}/messages", {"body": "it is broken"}), 201)
    put("o-b", terms("buyer-2", "seller-2"))
    put("o-a", terms("buyer-3", "seller-1", "2026-01-12T09:00:00Z"))


def feed(caller: Caller, query: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body = ok(caller.get(f"/v1/events?limit=3{query}{cursor}"), 200)
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        cursor = f"&cursor={body['next_cursor']}"


def summary(items: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(type, order_id, is an order event) of each item."""
    return [(i["type"], i["order_id"], i["dispute_id"] is None) for i in items]


ORDER_A = [("OrderRegistered", "o-a", True), ("OrderUpdated", "o-a", True)]
DISPUTE_A = [("DisputeOpened", "o-a", False), ("MessagePosted", "o-a", False)]
ORDER_B = [("OrderRegistered", "o-b", True)]
PASSED_ON = [("OrderUpdated", "o-a", True)]
EXPECTED = {
    "platform": ORDER_A + DISPUTE_A + ORDER_B + PASSED_ON,
    "agent": ORDER_A + DISPUTE_A + ORDER_B + PASSED_ON,
    "auditor": ORDER_A + DISPUTE_A + ORDER_B + PASSED_ON,
    "buyer-1": ORDER_A + DISPUTE_A,
    "seller-1": ORDER_A + DISPUTE_A + PASSED_ON,
    "buyer-2": ORDER_B,
    "seller-2": ORDER_B,
    "buyer-3": PASSED_ON,
}


def test_each_caller_reads_the_order_events_it_may_see(client: TestClient) -> None:
    c = callers(client)
    world(c)
    for name, expected in EXPECTED.items():
        items = feed(c[name])
        assert summary(items) == expected, name
        assert all(set(i) == ITEM_KEYS for i in items)
    registered = feed(c["agent"])[0]
    assert registered["actor"] == {"id": "platform", "role": "platform"}
    assert registered["version"] == 1 and registered["data"]["buyer_id"] == "buyer-1"
    assert registered["data"]["amount"] == usd(2000) and registered["data"]["delivered_at"] is None
    updated = feed(c["agent"])[1]
    assert updated["data"]["changed"] == ["delivered_at"]
    assert updated["data"]["delivered_at"] == "2026-01-12T09:00:00.000000Z"  # times as every event's data writes them


def test_the_platform_sees_that_messages_exist_never_their_bodies(client: TestClient) -> None:
    c = callers(client)
    world(c)
    messages = [i for i in feed(c["platform"]) if i["type"] == "MessagePosted"]
    assert [m["data"]["body"] for m in messages] == [None]
    assert [m["data"]["body"] for m in feed(c["agent"]) if m["type"] == "MessagePosted"] == ["it is broken"]


def test_filters_apply_to_order_events(client: TestClient) -> None:
    c = callers(client)
    world(c)
    orders_only = feed(c["platform"], "&type=OrderRegistered&type=OrderUpdated")
    assert summary(orders_only) == ORDER_A + ORDER_B + PASSED_ON
    dispute_id = next(i["dispute_id"] for i in feed(c["platform"]) if i["dispute_id"])
    assert summary(feed(c["platform"], f"&dispute_id={dispute_id}")) == DISPUTE_A


def stream(caller: Caller) -> list[dict[str, Any]]:
    response = caller.get("/v1/events/stream")
    assert response.status_code == 200, response.text
    items = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if fields:
            assert fields["event"] == json.loads(fields["data"])["type"]
            items.append(json.loads(fields["data"]))
    return items


@pytest.mark.parametrize("name", ["platform", "buyer-2", "seller-1"])
def test_the_stream_carries_the_same_order_events(client: TestClient, name: str) -> None:
    c = callers(client)
    world(c)
    assert stream(c[name]) == feed(c[name])


def test_webhooks_deliver_order_events_to_whoever_reads_them(client: TestClient) -> None:
    c = callers(client)
    receiver = Receiver().start()
    try:
        hooks = {
            name: ok(c[name].post("/v1/webhooks", {"url": receiver.url(f"/{name}"), "event_types": ["*"]}), 201)
            for name in ("platform", "buyer-2", "buyer-3")
        }
        only_orders = {"url": receiver.url("/orders"), "event_types": ["OrderRegistered"]}
        hooks["orders"] = ok(c["platform"].post("/v1/webhooks", only_orders), 201)
        world(c)
        expected = {name: feed(c[name]) for name in ("platform", "buyer-2", "buyer-3")}
        expected["orders"] = feed(c["platform"], "&type=OrderRegistered")
        receiver.wait_for(lambda: all(len(receiver.on(f"/{n}")) >= len(items) for n, items in expected.items()))
        time.sleep(0.3)  # anything extra would have arrived by now
        for name, items in expected.items():
            assert [r.verified_with(hooks[name]["secret"]) for r in receiver.on(f"/{name}")] == items, name
        assert summary(expected["buyer-2"]) == ORDER_B and summary(expected["orders"]) == ORDER_A[:1] + ORDER_B
    finally:
        receiver.stop()


def test_analysts_still_may_not_read_the_feed_stream_or_webhooks(client: TestClient) -> None:
    analyst = callers(client)["analyst"]
    for response in (
        analyst.get("/v1/events"),
        analyst.get("/v1/events/stream"),
        analyst.get("/v1/webhooks"),
        analyst.post("/v1/webhooks", {"url": "http://127.0.0.1:9/x", "event_types": ["*"]}),
    ):
        assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"
