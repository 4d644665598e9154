"""The spec's scenarios end to end, through HTTP only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.auth import mint
from bootstrap import build_api
from domain.values import Role
from support.stores import settings_for

SECRET = "test-secret-0123456789abcdef0123456789"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 8


class Caller:
    def __init__(self, client: TestClient, role: Role, sub: str) -> None:
        self.client, self.sub = client, sub
        self.headers = {"Authorization": f"Bearer {mint(SECRET, role, sub)}"}

    def post(self, path: str, json: Any = None, **headers: str) -> httpx.Response:
        return self.client.post(path, json=json, headers={**self.headers, **headers})

    def get(self, path: str, **headers: str) -> httpx.Response:
        return self.client.get(path, headers={**self.headers, **headers})

    def upload(self, path: str, content: bytes, name: str, kind: str = "photo") -> httpx.Response:
        files = {"file": (name, content, "application/octet-stream")}
        return self.client.post(path, files=files, data={"kind": kind, "description": "see"}, headers=self.headers)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    settings = settings_for(
        request.param,
        tmp_path,
        request,
        in_process_workers=True,
        seller_response_window=timedelta(seconds=2),
        scheduler_interval=timedelta(milliseconds=200),
    )
    with TestClient(build_api(settings)) as test_client:
        yield test_client


def usd(amount: int) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "USD"}


def open_dispute(buyer: Caller, order_id: str, reason: str, remedy: str, refund: int | None) -> dict[str, Any]:
    body = {
        "order_id": order_id,
        "seller_id": "seller-1",
        "reason": reason,
        "remedy": remedy,
        "refund": usd(refund) if refund else None,
        "order_amount": usd(5000),
        "description": "as described in the listing it was not",
    }
    response = buyer.post("/v1/disputes", body)
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == '"1"'
    assert int(response.headers["X-Position"]) >= 1
    return dict(response.json())


def wait_for(read: Any, predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def actors(client: TestClient) -> tuple[Caller, Caller, Caller]:
    return (
        Caller(client, Role.BUYER, "buyer-1"),
        Caller(client, Role.SELLER, "seller-1"),
        Caller(client, Role.AGENT, "agent-1"),
    )


def test_not_received_with_a_silent_seller_is_resolved_for_the_buyer_by_deadline(client: TestClient) -> None:
    buyer, seller, agent = actors(client)
    dispute = open_dispute(buyer, "order-silent", "not_received", "refund_only", 5000)
    assert dispute["deadlines"].keys() >= {"seller_response", "negotiation", "evidence"}
    path = f"/v1/disputes/{dispute['id']}"
    final = wait_for(lambda: buyer.get(path).json(), lambda d: d["status"] == "resolved")
    assert final["status"] == "resolved", "the scheduler resolved it after the 2-second window"
    assert final["outcome"]["how"] == "deadline"
    assert final["outcome"]["outcome"] == "refund_full"
    assert final["outcome"]["refund"] == usd(5000)
    assert final["outcome"]["seller_at_fault"] is True
    assert final["allowed_actions"] == []
    assert final["offers"][0]["status"] == "accepted", "the buyer's request was executed"
    history_types = [e["type"] for e in agent.get(f"{path}/timeline", **{"X-Min-Position": "3"}).json()["items"]]
    assert history_types == ["DisputeOpened", "SellerResponseDeadlineMissed", "DisputeResolved"]
    score = wait_for(lambda: seller.get("/v1/sellers/seller-1/score").json(), lambda s: s["score"] == 6)
    assert score["breakdown"] == {
        "opened": {"count": 1, "points": 1},
        "response_deadline_missed": {"count": 1, "points": 5},
    }


def test_quality_issue_negotiated_escalated_and_ruled_with_a_partial_refund(client: TestClient) -> None:
    buyer, seller, agent = actors(client)
    dispute = open_dispute(buyer, "order-quality", "quality_issue", "refund_only", 4000)
    path = f"/v1/disputes/{dispute['id']}"
    counter = seller.post(f"{path}/offers", {"remedy": "partial_refund", "refund": usd(1000), "note": "20%?"})
    assert counter.status_code == 201, counter.text
    offer = counter.json()
    assert (offer["status"], offer["actor"]) == ("pending", {"id": "seller-1", "role": "seller"})
    state = buyer.get(path).json()
    assert state["status"] == "negotiating" and state["party_to_act"] == "buyer"
    assert state["offers"][0]["status"] == "superseded"
    assert set(state["allowed_actions"]) >= {"accept_offer", "reject_offer", "propose_offer", "escalate"}
    rejected = buyer.post(f"{path}/offers/{offer['id']}/reject", {"reason": "too little"})
    assert rejected.status_code == 200 and rejected.json()["party_to_act"] == "seller"
    late_accept = buyer.post(f"{path}/offers/{offer['id']}/accept", {"note": "changed my mind"})
    assert late_accept.status_code == 409 and late_accept.json()["code"] == "invalid_transition"
    photo = buyer.upload(f"{path}/evidence", PNG, "scratch.png")
    assert photo.status_code == 201, photo.text
    assert photo.json()["media_type"] == "image/png" and photo.json()["size"] == len(PNG)
    escalated = buyer.post(f"{path}/escalate", {"reason": "seller will not budge"})
    assert escalated.status_code == 200 and escalated.json()["status"] == "under_review"
    assert escalated.json()["deadlines"].keys() >= {"review_sla"}
    again = seller.post(f"{path}/escalate", {"reason": "me too"})
    assert again.status_code == 409
    assert seller.post(f"{path}/messages", {"body": "the agent only"}).status_code == 201
    assert [m["body"] for m in buyer.get(path).json()["messages"]] == []
    request = agent.post(f"{path}/evidence-requests", {"party": "seller", "note": "packing photos", "due_in": "P2D"})
    assert request.status_code == 201, request.text
    assert seller.upload(f"{path}/evidence", PDF, "invoice.pdf", "receipt").status_code == 201
    ruling = agent.post(
        f"{path}/ruling",
        {"outcome": "refund_partial", "refund": usd(2500), "seller_at_fault": True, "rationale": "visible damage"},
    )
    assert ruling.status_code == 200, ruling.text
    outcome = ruling.json()["outcome"]
    assert (outcome["how"], outcome["outcome"], outcome["refund"]) == ("ruling", "refund_partial", usd(2500))
    download = agent.get(f"{path}/evidence/{photo.json()['id']}/content")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-media-type"] == "image/png"
    score = wait_for(lambda: agent.get("/v1/sellers/seller-1/score").json(), lambda s: s["score"] == 9)
    assert score["breakdown"]["ruling_refund_partial_at_fault"] == {"count": 1, "points": 6}


def test_return_and_refund_with_shipment_and_receipt(client: TestClient) -> None:
    buyer, seller, _ = actors(client)
    dispute = open_dispute(buyer, "order-return", "wrong_item", "return_and_refund", 5000)
    path = f"/v1/disputes/{dispute['id']}"
    accepted = seller.post(f"{path}/offers/{dispute['pending_offer']['id']}/accept", {"note": "send it back"})
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["party_to_act"]) == ("awaiting_return", "buyer")
    assert "return_shipping" in accepted.json()["deadlines"]
    shipped = buyer.post(f"{path}/return-shipment", {"carrier": "DHL", "tracking_number": "JD0142"})
    assert shipped.status_code == 200 and shipped.json()["status"] == "return_in_transit"
    assert shipped.json()["return_shipment"]["tracking_number"] == "JD0142"
    received = seller.post(f"{path}/return-receipt", {"condition": "received_ok", "note": "all good"})
    assert received.status_code == 200, received.text
    final = received.json()
    assert final["status"] == "resolved"
    assert final["outcome"] == {
        "how": "agreement",
        "outcome": "refund_full",
        "refund": usd(5000),
        "seller_at_fault": None,
        "rationale": "all good",
        "resolved_at": final["outcome"]["resolved_at"],
        "final": True,
        "appealable_until": None,
    }
    listed = wait_for(lambda: buyer.get("/v1/disputes?status=resolved").json()["items"], lambda items: len(items) == 1)
    assert [d["id"] for d in listed] == [dispute["id"]]


def test_a_withdrawn_dispute_cannot_be_reopened(client: TestClient) -> None:
    buyer, seller, _ = actors(client)
    dispute = open_dispute(buyer, "order-withdrawn", "damaged", "replacement", None)
    path = f"/v1/disputes/{dispute['id']}"
    assert seller.post(f"{path}/withdraw", {"reason": "not mine to withdraw"}).status_code == 403
    withdrawn = buyer.post(f"{path}/withdraw", {"reason": "it arrived after all"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    reopened = buyer.post(
        "/v1/disputes",
        {
            "order_id": "order-withdrawn",
            "seller_id": "seller-1",
            "reason": "damaged",
            "remedy": "replacement",
            "order_amount": usd(5000),
        },
    )
    assert reopened.status_code == 409 and reopened.json()["code"] == "dispute_exists"
    assert reopened.headers["content-type"] == "application/problem+json"
    assert buyer.post(f"{path}/escalate", {"reason": "reopen"}).status_code == 409
    assert buyer.get(path).json()["version"] == 2


def test_evidence_is_checked_from_the_bytes_not_the_name(client: TestClient) -> None:
    buyer, _, _ = actors(client)
    dispute = open_dispute(buyer, "order-evidence", "damaged", "refund_only", 100)
    path = f"/v1/disputes/{dispute['id']}/evidence"
    text_as_png = buyer.upload(path, b"just some text, honest", "photo.png")
    assert text_as_png.status_code == 415 and text_as_png.json()["code"] == "unsupported_media_type"
    huge = buyer.upload(path, b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024), "big.png")
    assert huge.status_code == 413 and huge.json()["code"] == "evidence_too_large"
    no_kind = buyer.client.post(path, files={"file": ("a.png", PNG)}, headers=buyer.headers)
    assert no_kind.status_code == 422
    assert buyer.get(f"/v1/disputes/{dispute['id']}").json()["evidence"] == [], "refusals recorded nothing"
