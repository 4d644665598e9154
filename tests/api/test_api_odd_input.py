"""Odd input found by fuzzing and probing the API: each is a clear 4xx
problem that changes nothing, never a 500 or a stalled read model."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, Caller, Parties, head, ok, opening

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings.model_copy(update={"in_process_workers": True}))) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)


def cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def documented(client: TestClient, method: str, path: str, status: int) -> bool:
    operation = client.get("/openapi.json").json()["paths"][path][method]
    return str(status) in operation["responses"]



def wait_for_views(client: TestClient, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        views: dict[str, Any] = client.get("/readyz").json()["views"]
        if not any(v["lag"] for v in views.values()):
            return views
        assert time.monotonic() < deadline, f"read models stalled: {views}"
        time.sleep(0.05)


# ------------------------------------------------------------------ cursors
FORGED = [{}, [1], {"position": "x"}, {"position": 2**70}, {"position": -1}, {"opened_at": "nope", "id": "x"}]
FORGED += [{"opened_at": "2026-01-01T00:00:00", "id": "x"}, {"opened_at": "0001-01-01T00:00:00+14:00", "id": "x"}]
FORGED += [{"score": "x", "seller_id": "s"}, {"score": 2**70, "seller_id": "s"}, {"score": 1, "seller_id": "a\x00b"}]


def test_a_forged_cursor_is_422_invalid_cursor_on_every_list(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    for path in ("/v1/disputes", f"/v1/disputes/{d['id']}/timeline", "/v1/sellers"):
        for key in FORGED:
            problem(parties.agent.get(f"{path}?cursor={cursor(key)}"), 422, "invalid_cursor")
        problem(parties.agent.get(f"{path}?cursor=%%%"), 422, "invalid_cursor")
    assert documented(client, "get", "/v1/disputes", 422)


def test_an_issued_cursor_still_pages_on(client: TestClient, parties: Parties) -> None:
    ids = {parties.open()["id"] for _ in range(3)}
    seen: set[str] = set()
    page = ok(parties.agent.get("/v1/disputes?limit=2", x_min_position=str(head(client))), 200)
    seen |= {i["id"] for i in page["items"]}
    page = ok(parties.agent.get(f"/v1/disputes?limit=2&cursor={page['next_cursor']}"), 200)
    seen |= {i["id"] for i in page["items"]}
    assert seen == ids and page["next_cursor"] is None


# ------------------------------------------------------------------ instants
@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_instants_outside_1970_to_9999_are_422(client: TestClient, parties: Parties, instant: str) -> None:
    quoted = instant.replace("+", "%2B")
    for query in (
        f"/v1/sellers/seller-1/score?as_of={quoted}",
        f"/v1/sellers?as_of={quoted}",
        f"/v1/stats/disputes?since={quoted}",
        f"/v1/stats/disputes?until={quoted}",
        f"/v1/disputes?opened_after={quoted}",
        f"/v1/disputes?opened_before={quoted}",
    ):
        problem(parties.agent.get(query), 422, "validation_error")


def test_instants_without_a_zone_are_read_as_utc(parties: Parties) -> None:
    opened = parties.buyer.post("/v1/disputes", opening(parties.seller.id))
    assert opened.status_code == 201, opened.text
    for query in ("since=2026-01-01T00:00:00", "since=2026-01-01", "until=2999-01-01"):
        response = parties.agent.get(f"/v1/stats/disputes?{query}", x_min_position=opened.headers["X-Position"])
        assert response.status_code == 200, response.text
        assert response.json()["groups"], f"{query} covers the dispute opened now"
    later = parties.agent.get("/v1/stats/disputes?since=2999-01-01")
    assert later.status_code == 200 and later.json()["groups"] == []


# ------------------------------------------------------------------ NUL characters
def test_nul_characters_are_refused_everywhere_and_never_stall_a_read_model(
    client: TestClient, parties: Parties
) -> None:
    d = parties.open()
    before = head(client)
    messages = f"/v1/disputes/{d['id']}/messages"
    problem(parties.buyer.post(messages, {"body": "a\x00b"}), 422, "validation_error")
    problem(parties.buyer.post("/v1/disputes", opening("seller\x00-1")), 422, "validation_error")
    problem(parties.buyer.post(messages, {"body": "hi"}, idempotency_key="k\x00"), 422, "invalid_idempotency_key")
    problem(parties.agent.get("/v1/disputes?seller_id=a%00b"), 422, "validation_error")
    problem(parties.seller.get("/v1/sellers/seller%00-1/score"), 422, "validation_error")
    upload = parties.buyer.client.post(
        f"/v1/disputes/{d['id']}/evidence",
        files={"file": ("p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png")},
        data={"kind": "photo", "description": "a\x00b"},
        headers=parties.buyer.headers,
    )
    problem(upload, 422, "validation_error")
    nul_sub = jwt.encode({"sub": "buyer\x00-1", "role": "buyer", "exp": int(time.time()) + 60}, SECRET, "HS256")
    problem(
        client.post(messages, json={"body": "hi"}, headers={"Authorization": f"Bearer {nul_sub}"}), 401, "unauthorized"
    )
    assert head(client) == before
    ok(parties.buyer.post(messages, {"body": "still fine"}), 201)
    assert all(v["position"] == head(client) for v in wait_for_views(client).values())


# ------------------------------------------------------------------ headers
def test_a_malformed_if_match_is_a_documented_422(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    problem(parties.buyer.post(f"/v1/disputes/{d['id']}/withdraw", {}, if_match="yesterday"), 422, "invalid_if_match")
    assert documented(client, "post", "/v1/disputes/{dispute_id}/withdraw", 422)
    assert parties.read(d["id"])["status"] == "awaiting_seller"


def test_an_unissued_min_position_is_a_documented_422_at_once(
    client: TestClient, parties: Parties, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 (item 8): a position the store never issued is 422 `position_unknown`
    at once, not a 503 after 2 s (the 503 is tests/api/test_min_position.py)."""
    monkeypatch.setattr("api.readiness.MAX_WAIT_SECONDS", 30.0)  # a read that waited would take 30 s
    d = parties.open()
    beyond = str(head(client) + 1000)
    for path, template in (
        (f"/v1/disputes/{d['id']}", "/v1/disputes/{dispute_id}"),
        ("/v1/disputes", "/v1/disputes"),
        (f"/v1/disputes/{d['id']}/timeline", "/v1/disputes/{dispute_id}/timeline"),
    ):
        started = time.monotonic()
        problem(parties.agent.get(path, x_min_position=beyond), 422, "position_unknown")
        assert time.monotonic() - started < 10
        assert documented(client, "get", template, 422)


# ------------------------------------------------------------------------------------------------
# The auditor's endpoints refuse the same odd input before it reaches the stores.
def test_audit_cursors_beyond_int64_are_422(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    auditor = Caller(client, Role.AUDITOR, "au-1")
    for path in (f"/v1/disputes/{d['id']}/history", "/v1/audit"):
        key = {"version": 2**70, "position": 2**70}
        problem(auditor.get(f"{path}?cursor={cursor(key)}"), 422, "invalid_cursor")


def test_a_state_version_beyond_int64_is_a_422(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    auditor = Caller(client, Role.AUDITOR, "au-1")
    problem(auditor.get(f"/v1/disputes/{d['id']}/state?version={2**63}"), 422, "validation_error")


def test_audit_instants_that_do_not_convert_to_utc_are_422(client: TestClient, parties: Parties) -> None:
    auditor = Caller(client, Role.AUDITOR, "au-1")
    for query in ("since=0001-01-01T00:00:00%2B14:00", "until=9999-12-31T23:59:59-14:00"):
        problem(auditor.get(f"/v1/audit?{query}"), 422, "validation_error")
