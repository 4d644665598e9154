"""Contract checks: read endpoints against shared/spec/api.md (headers, list shapes)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from support.contract import ANALYST, AUDITOR, BUYER, PNG, open_dispute, under_review


def test_evidence_download_honours_x_min_position(contract_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """api.md: every read accepts `X-Min-Position: N`; issue 11 (item 8) changed the
    contract for a position the store never issued: 422 `position_unknown` at
    once (it was a 503 after waiting 2 s). The evidence download honours it too."""
    d = open_dispute(contract_client)
    r = contract_client.post(
        f"/v1/disputes/{d['id']}/evidence",
        files={"file": ("a.png", PNG, "image/png")},
        data={"kind": "photo", "description": "box"},
        headers=BUYER,
    )
    assert r.status_code == 201, r.text
    path = f"/v1/disputes/{d['id']}/evidence/{r.json()['id']}/content"
    unissued = str(int(r.headers["X-Position"]) + 10_000)
    monkeypatch.setattr("api.readiness.MAX_WAIT_SECONDS", 30.0)  # a read that waited would take 30 s
    started = time.monotonic()
    got = contract_client.get(path, headers={**BUYER, "X-Min-Position": unissued})
    assert time.monotonic() - started < 10
    assert got.status_code == 422, f"{got.status_code}: X-Min-Position was ignored"
    assert got.json()["code"] == "position_unknown"
    served = contract_client.get(path, headers={**BUYER, "X-Min-Position": r.headers["X-Position"]})
    assert served.status_code == 200


def test_state_as_of_response_has_etag(contract_client: TestClient) -> None:
    """api.md: "every dispute response has `ETag: "<version>"`", the state read included."""
    d = under_review(contract_client)
    r = contract_client.get(f"/v1/disputes/{d['id']}/state", params={"version": 2}, headers=AUDITOR)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.headers.get("etag") == '"2"'


def test_dispute_list_items_are_disputes(contract_client: TestClient) -> None:
    """api.md: `GET /v1/disputes?...` returns a "list of disputes", and "A dispute
    body has at least: ... pending_offer, offers[], evidence[], messages[], ...,
    allowed_actions[] ...". List items are full dispute bodies."""
    d = open_dispute(contract_client)
    r = contract_client.get("/v1/disputes", headers={**BUYER, "X-Min-Position": str(d["version"])})
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    required = {
        "id", "order_id", "buyer_id", "seller_id", "reason", "status", "party_to_act",
        "requested_remedy", "pending_offer", "offers", "evidence", "messages", "deadlines",
        "outcome", "version", "allowed_actions", "opened_at", "updated_at",
    }  # fmt: skip
    assert required - set(item) == set()


def test_seller_list_items_are_seller_scores(contract_client: TestClient) -> None:
    """api.md: `GET /v1/sellers?order_by=score` returns a "list of seller scores";
    a seller score is `{seller_id, score, level, window, as_of, breakdown{...}}`."""
    d = open_dispute(contract_client)
    r = contract_client.get("/v1/sellers", params={"order_by": "score"}, headers={**ANALYST, "X-Min-Position": "1"})
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["seller_id"] == d["seller_id"]
    assert {"seller_id", "score", "level", "window", "as_of", "breakdown"} - set(item) == set()
