"""Webhooks end to end in one process: the API with its in-process delivery
worker, and a real HTTP receiver on 127.0.0.1 that verifies every signature
with the `standardwebhooks` library."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, Caller, ok
from support.feed import ROLES, caller_of, callers, feed, two_disputes
from support.receiver import Receiver, delivered_once
from support.stores import settings_for

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def hook_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return settings_for(
        request.param, tmp_path, request, jwt_secret=SECRET, in_process_workers=True,
        webhook_retry_schedule="PT0.2S,PT0.3S,PT0.5S,PT1S,PT1S,PT2S",
    )  # fmt: skip


@pytest.fixture
def client(hook_settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(hook_settings)) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def subscribe(caller: Caller, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    body = {"url": url, "event_types": event_types or ["*"], "description": "test"}
    return ok(caller.post("/v1/webhooks", body), 201)


def verified(received: list[Any], secret: str) -> list[dict[str, Any]]:
    """Every request's payload, each signature checked with `standardwebhooks`."""
    items = [r.verified_with(secret) for r in received]
    for r, item in zip(received, items, strict=True):
        assert r.headers["webhook-id"] == item["id"]
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 60
    return items


def recorded(caller: Caller, hook_id: str, count: int) -> list[dict[str, Any]]:
    """The delivery attempts, once at least `count` are recorded (the receiver answers before the record)."""
    deadline = time.monotonic() + 10
    while True:
        attempts: list[dict[str, Any]] = ok(caller.get(f"/v1/webhooks/{hook_id}/deliveries?limit=200"), 200)["items"]
        if len(attempts) >= count or time.monotonic() > deadline:
            return attempts
        time.sleep(0.05)


def test_a_full_dispute_is_delivered_in_order_and_signed(client: TestClient, receiver: Receiver) -> None:
    c = callers(client)
    hook = subscribe(c["agent"], receiver.url())
    assert hook["status"] == "enabled" and hook["secret"].startswith("whsec_") and hook["after"] == 0
    assert "secret" not in ok(c["agent"].get(f"/v1/webhooks/{hook['id']}"), 200)
    two_disputes(c)
    expected = feed(c["agent"])
    receiver.wait_for(lambda: len(receiver.received) >= len(expected))
    assert verified(receiver.received, hook["secret"]) == expected
    attempts = recorded(c["agent"], hook["id"], len(expected))
    assert [(a["position"], a["attempt"], a["status_code"]) for a in attempts] == [
        (i["position"], 1, 200) for i in expected
    ]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_each_role_receives_exactly_what_it_reads_from_the_feed(
    client: TestClient, receiver: Receiver, role: Role
) -> None:
    c = callers(client)
    me = caller_of(role, c)
    hook = subscribe(me, receiver.url("/mine"))
    other = subscribe(c["buyer-2"], receiver.url("/buyer-2"))
    two_disputes(c)
    expected, theirs = feed(me), feed(c["buyer-2"])
    enough = {"/mine": len(expected), "/buyer-2": len(theirs)}
    receiver.wait_for(lambda: all(len(receiver.on(path)) >= n for path, n in enough.items()))
    time.sleep(0.3)  # anything extra would have arrived by now
    assert verified(receiver.on("/mine"), hook["secret"]) == expected
    assert verified(receiver.on("/buyer-2"), other["secret"]) == theirs
    assert {i["dispute_id"] for i in theirs}.isdisjoint({i["dispute_id"] for i in feed(c["buyer-1"])})


def test_a_receiver_down_then_up_gets_everything_in_order(client: TestClient, receiver: Receiver) -> None:
    c = callers(client)
    receiver.stop()
    hook = subscribe(c["agent"], receiver.url())
    two_disputes(c)
    failures = recorded(c["agent"], hook["id"], 3)
    assert len(failures) >= 3 and all(a["status_code"] is None and a["error"] for a in failures)
    assert {a["position"] for a in failures} == {feed(c["agent"])[0]["position"]}  # the next waits for the first
    assert [a["attempt"] for a in failures[:3]] == [1, 2, 3]
    assert all(a["next_attempt_at"] for a in failures)
    receiver.start()
    expected = feed(c["agent"])
    receiver.wait_for(lambda: len(receiver.received) >= len(expected))
    assert verified(receiver.received, hook["secret"]) == expected  # in order, no gap, no repeat


def test_an_always_failing_receiver_is_disabled_after_the_schedule(
    client: TestClient, receiver: Receiver, hook_settings: Settings
) -> None:
    c = callers(client)
    receiver.answer = lambda _: 500
    hook = subscribe(c["seller-1"], receiver.url())
    two_disputes(c)
    tries = len(hook_settings.retry_schedule) + 1
    receiver.wait_for(lambda: len(receiver.received) >= tries)
    time.sleep(0.5)
    found = ok(c["seller-1"].get(f"/v1/webhooks/{hook['id']}"), 200)
    assert found["status"] == "disabled" and "after 7 attempts" in found["disabled_reason"]
    attempts = recorded(c["seller-1"], hook["id"], tries)
    assert [a["attempt"] for a in attempts] == list(range(1, tries + 1))
    assert all(a["status_code"] == 500 for a in attempts) and attempts[-1]["next_attempt_at"] is None
    assert len(receiver.received) == tries
    # Re-enabling resumes exactly where it paused: from the event it gave up on.
    receiver.answer = lambda _: 200
    assert ok(c["seller-1"].client.patch(
        f"/v1/webhooks/{hook['id']}", json={"status": "enabled"}, headers=c["seller-1"].headers
    ), 200)["status"] == "enabled"  # fmt: skip
    expected = feed(c["seller-1"])
    receiver.wait_for(lambda: len(delivered_once(receiver.received)) >= len(expected))
    assert delivered_once(receiver.received) == expected


def test_replay_sends_again_from_a_position_in_order(client: TestClient, receiver: Receiver) -> None:
    c = callers(client)
    hook = subscribe(c["auditor"], receiver.url())
    two_disputes(c)
    expected = feed(c["auditor"])
    receiver.wait_for(lambda: len(receiver.received) >= len(expected))
    middle = expected[4]["position"]
    r = c["auditor"].post(f"/v1/webhooks/{hook['id']}/replay", {"after": middle})
    assert r.status_code == 202, r.text
    again = [i for i in expected if i["position"] > middle]
    receiver.wait_for(lambda: len(receiver.received) >= len(expected) + len(again))
    assert verified(receiver.received, hook["secret"]) == expected + again
    assert c["auditor"].post(f"/v1/webhooks/{hook['id']}/replay", {"after": 10**9}).status_code == 422


def test_a_rotated_secret_signs_alongside_the_old_one(client: TestClient, receiver: Receiver) -> None:
    c = callers(client)
    hook = subscribe(c["agent"], receiver.url())
    rotated = ok(c["agent"].post(f"/v1/webhooks/{hook['id']}/rotate-secret"), 200)
    assert rotated["secret"] != hook["secret"] and rotated["secret"].startswith("whsec_")
    two_disputes(c)
    expected = feed(c["agent"])
    receiver.wait_for(lambda: len(receiver.received) >= len(expected))
    assert all(len(r.headers["webhook-signature"].split(" ")) == 2 for r in receiver.received)
    assert verified(receiver.received, rotated["secret"]) == expected
    assert verified(receiver.received, hook["secret"]) == expected


def test_subscriptions_are_their_owners_only(client: TestClient, receiver: Receiver) -> None:
    c = callers(client)
    hook = subscribe(c["buyer-1"], receiver.url())
    path = f"/v1/webhooks/{hook['id']}"
    for stranger in (c["buyer-2"], c["agent"]):
        assert stranger.get(path).status_code == 404
        assert stranger.post(f"{path}/replay", {"after": 0}).status_code == 404
        assert stranger.client.delete(path, headers=stranger.headers).status_code == 404
    assert ok(c["buyer-2"].get("/v1/webhooks"), 200)["items"] == []
    mine = ok(c["buyer-1"].get("/v1/webhooks"), 200)
    assert [h["id"] for h in mine["items"]] == [hook["id"]] and mine["next_cursor"] is None
    assert c["analyst"].post("/v1/webhooks", {"url": receiver.url(), "event_types": ["*"]}).status_code == 403
    assert c["buyer-1"].post("/v1/webhooks", {"url": receiver.url(), "event_types": ["Nope"]}).status_code == 422
    paused = c["buyer-1"].client.patch(path, json={"status": "disabled"}, headers=c["buyer-1"].headers)
    assert ok(paused, 200)["status"] == "disabled" and paused.json()["disabled_reason"] is None
    assert c["buyer-1"].client.delete(path, headers=c["buyer-1"].headers).status_code == 204
    assert c["buyer-1"].get(path).status_code == 404


def test_metrics_count_deliveries_delay_backlog_and_disabled(client: TestClient, receiver: Receiver) -> None:
    c = callers(client)
    subscribe(c["agent"], receiver.url())
    two_disputes(c)
    receiver.wait_for(lambda: len(receiver.received) >= len(feed(c["agent"])))
    text = client.get("/metrics").text
    assert 'disputes_webhook_deliveries_total{outcome="delivered"}' in text
    assert "disputes_webhook_delivery_delay_seconds_bucket" in text
    assert "disputes_webhook_backlog{subscription=" in text
    assert "disputes_webhook_disabled_subscriptions 0.0" in text


WEBHOOK_CALLS = {
    "read": ("GET", "", None, 200),
    "change": ("PATCH", "", {"description": "renamed"}, 200),
    "rotate secret": ("POST", "/rotate-secret", None, 200),
    "replay": ("POST", "/replay", {"after": 0}, 202),
    "deliveries": ("GET", "/deliveries", None, 200),
    "delete": ("DELETE", "", None, 204),
}


@pytest.mark.parametrize("call", list(WEBHOOK_CALLS))
def test_only_the_creator_may_call_a_subscriptions_routes(client: TestClient, receiver: Receiver, call: str) -> None:
    """Per role: its own subscription -> success; another caller's (same role or
    not) -> 404 webhook_not_found; an analyst -> 403; a bad token -> 401."""
    method, suffix, body, success = WEBHOOK_CALLS[call]
    c = callers(client)
    owners = {role: caller_of(role, c) for role in ROLES}

    def send(caller: Caller | None, hook_id: str) -> int:
        headers = caller.headers if caller else {"Authorization": "Bearer nope"}
        return client.request(method, f"/v1/webhooks/{hook_id}{suffix}", json=body, headers=headers).status_code

    for role, owner in owners.items():
        strangers = [c["buyer-2"], c["seller-2"], *(o for r, o in owners.items() if r is not role)]
        hook = subscribe(owner, receiver.url())
        assert [send(s, hook["id"]) for s in strangers] == [404] * len(strangers), role
        assert send(c["analyst"], hook["id"]) == 403
        assert send(None, hook["id"]) == 401
        assert send(owner, hook["id"]) == success, role
