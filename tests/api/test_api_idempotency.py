"""Idempotency-Key over HTTP, on every store: a repeat returns the original
status and body and appends nothing; a different request under the same key
is 422; concurrent repeats execute once; refusals replay; keys are per caller.
The crash tests are in tests/e2e/test_crash_after_commit.py."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import Services, build_api
from domain.values import Role
from service.settings import Settings
from support.api import PDF, PNG, Caller, Parties, ok, opening, usd_offer


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings)) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties(
        Caller(client, Role.BUYER, "buyer-1"),
        Caller(client, Role.SELLER, "seller-1"),
        Caller(client, Role.AGENT, "a-1"),
    )


def events(client: TestClient) -> int:
    """How many events the store holds (not its head position: Postgres skips
    the positions of rolled-back inserts)."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return len(services.app.recorder.select_notifications(start=1, limit=1_000_000))


def same_response(first: Any, again: Any) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    for header in ("ETag", "X-Position", "Location", "content-type"):
        assert again.headers.get(header) == first.headers.get(header), header


# ------------------------------------------------------------- plain repeats
def test_a_repeated_opening_returns_the_original_201_and_appends_nothing(client: TestClient, parties: Parties) -> None:
    body = opening("seller-1")
    first = parties.buyer.post("/v1/disputes", body, idempotency_key="open-1")
    assert first.status_code == 201
    head = events(client)
    again = parties.buyer.post("/v1/disputes", body, idempotency_key="open-1")
    same_response(first, again)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert events(client) == head


def test_a_repeat_answers_as_of_the_original_even_after_the_dispute_moved_on(
    client: TestClient, parties: Parties
) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/offers"
    first = parties.seller.post(path, usd_offer(900), idempotency_key="offer-1")
    assert first.status_code == 201
    accepted = parties.act(parties.buyer, d, f"offers/{first.json()['id']}/accept", {"note": "deal"})
    assert accepted["status"] == "resolved"
    head = events(client)
    again = parties.seller.post(path, usd_offer(900), idempotency_key="offer-1")
    same_response(first, again)
    assert again.json()["status"] == "pending"
    assert events(client) == head


def test_a_repeated_command_that_resolves_returns_the_same_dispute_body(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/offers/{d['pending_offer']['id']}/accept"
    first = parties.seller.post(path, {"note": "ok"}, idempotency_key="accept-1")
    assert first.status_code == 200 and first.json()["status"] == "resolved"
    head = events(client)
    again = parties.seller.post(path, {"note": "ok"}, idempotency_key="accept-1")
    same_response(first, again)
    assert events(client) == head
    assert again.json()["outcome"]["how"] == "agreement"


# ------------------------------------------------------------------ mismatches
def test_the_same_key_with_a_different_body_is_422_and_appends_nothing(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/messages"
    ok(parties.buyer.post(path, {"body": "first"}, idempotency_key="msg-1"), 201)
    head = events(client)
    other_body = parties.buyer.post(path, {"body": "second"}, idempotency_key="msg-1")
    other_path = parties.buyer.post(f"/v1/disputes/{d['id']}/withdraw", {"reason": ""}, idempotency_key="msg-1")
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "idempotency_mismatch"
    assert events(client) == head
    assert [m["body"] for m in parties.read(d["id"])["messages"]] == ["first"]


def test_an_overlong_key_is_refused_and_changes_nothing(client: TestClient, parties: Parties) -> None:
    head = events(client)
    response = parties.buyer.post("/v1/disputes", opening("seller-1"), idempotency_key="k" * 256)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert events(client) == head
    ok(parties.buyer.post("/v1/disputes", opening("seller-1"), idempotency_key="k" * 255), 201)


# ------------------------------------------------------------------ concurrency
def test_concurrent_requests_with_one_key_execute_once(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/messages"
    head = events(client)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: parties.buyer.post(path, {"body": "once"}, idempotency_key="race"), range(8))
        )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert events(client) == head + 1
    assert [m["body"] for m in parties.read(d["id"])["messages"]] == ["once"]


def test_concurrent_openings_with_one_key_open_once_and_all_answer_201(client: TestClient, parties: Parties) -> None:
    body = opening("seller-1")
    head = events(client)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: parties.buyer.post("/v1/disputes", body, idempotency_key="o"), range(8)))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert events(client) == head + 1


def test_concurrent_commands_naming_one_version_and_one_key_execute_once(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/messages"
    head = events(client)

    def send(_: int) -> Any:
        return parties.buyer.post(path, {"body": "once"}, idempotency_key="v1", if_match='"1"')

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert events(client) == head + 1


# ------------------------------------------------------------------ refusals
def test_a_refused_command_replays_its_refusal_even_once_it_would_succeed(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/escalate"
    refused = parties.buyer.post(path, {"reason": "now"}, idempotency_key="esc-1")
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    ok(parties.seller.post(f"/v1/disputes/{d['id']}/offers", usd_offer(700)), 201)
    head = events(client)
    again = parties.buyer.post(path, {"reason": "now"}, idempotency_key="esc-1")
    same_response(refused, again)
    assert events(client) == head
    assert parties.read(d["id"])["status"] == "negotiating"
    ok(parties.buyer.post(path, {"reason": "now"}, idempotency_key="esc-2"), 200)


def test_a_stale_if_match_is_not_recorded_so_a_retry_with_the_same_key_can_succeed(
    client: TestClient, parties: Parties
) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/messages"
    stale = parties.buyer.post(path, {"body": "hi"}, idempotency_key="m", if_match='"7"')
    assert stale.status_code == 412 and stale.json()["code"] == "version_conflict"
    fresh = parties.buyer.post(path, {"body": "hi"}, idempotency_key="m", if_match='"1"')
    assert fresh.status_code == 201
    assert fresh.headers["ETag"] == '"2"'


# ------------------------------------------------------------------ scope
def test_keys_are_per_caller(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/messages"
    head = events(client)
    from_buyer = ok(parties.buyer.post(path, {"body": "hello"}, idempotency_key="shared"), 201)
    from_seller = ok(parties.seller.post(path, {"body": "hello"}, idempotency_key="shared"), 201)
    assert (from_buyer["actor"]["role"], from_seller["actor"]["role"]) == ("buyer", "seller")
    assert from_buyer["id"] != from_seller["id"]
    assert events(client) == head + 2
    other_buyer = Caller(client, Role.BUYER, "buyer-2")
    theirs = ok(other_buyer.post("/v1/disputes", opening("seller-2"), idempotency_key="shared"), 201)
    assert theirs["buyer_id"] == "buyer-2"


def test_a_replay_never_shows_one_caller_another_callers_outcome(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    intruder = Caller(client, Role.BUYER, "buyer-2")
    path = f"/v1/disputes/{d['id']}/messages"
    ok(parties.buyer.post(path, {"body": "private"}, idempotency_key="k"), 201)
    response = intruder.post(path, {"body": "private"}, idempotency_key="k")
    assert response.status_code == 404 and response.json()["code"] == "not_party"


# ------------------------------------------------------------------ evidence
def test_a_repeated_upload_returns_the_original_evidence_and_appends_nothing(
    client: TestClient, parties: Parties
) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/evidence"
    first = parties.buyer.upload(path, PNG, idempotency_key="ev-1")
    assert first.status_code == 201
    head = events(client)
    again = parties.buyer.upload(path, PNG, idempotency_key="ev-1")
    same_response(first, again)
    different = parties.buyer.upload(path, PDF, idempotency_key="ev-1")
    assert different.status_code == 422 and different.json()["code"] == "idempotency_mismatch"
    assert events(client) == head
    assert len(parties.read(d["id"])["evidence"]) == 1


def test_a_repeated_upload_replays_after_the_dispute_closed(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    path = f"/v1/disputes/{d['id']}/evidence"
    first = parties.buyer.upload(path, PNG, idempotency_key="ev-1")
    assert first.status_code == 201
    parties.act(parties.buyer, d, "withdraw", {"reason": "sorted"})
    head = events(client)
    again = parties.buyer.upload(path, PNG, idempotency_key="ev-1")
    same_response(first, again)
    assert events(client) == head
    refused = parties.buyer.upload(path, PNG, idempotency_key="ev-2")
    assert refused.status_code == 409
