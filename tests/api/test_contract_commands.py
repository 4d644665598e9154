"""Contract checks: command bodies against shared/spec/api.md and domain.md."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.contract import AGENT, BUYER, under_review, usd


def test_no_refund_ruling_accepts_a_zero_refund(contract_client: TestClient) -> None:
    """api.md: the ruling body is `outcome, refund (money), seller_at_fault,
    rationale`; a `no_refund` ruling may carry a zero refund, which means none."""
    d = under_review(contract_client)
    r = contract_client.post(
        f"/v1/disputes/{d['id']}/ruling",
        json={"outcome": "no_refund", "refund": usd(0), "seller_at_fault": False, "rationale": "item as described"},
        headers=AGENT,
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"]["outcome"] == "no_refund"


def test_a_body_that_is_not_json_is_a_422_validation_error(contract_client: TestClient) -> None:
    """api.md: "Validation errors 422" — a body that does not even parse is one."""
    r = contract_client.post(
        "/v1/disputes", content=b'{"order_id": "o-1", ', headers={**BUYER, "Content-Type": "application/json"}
    )
    assert (r.status_code, r.headers["content-type"]) == (422, "application/problem+json"), r.text
    assert r.json()["code"] == "validation_error"
    assert contract_client.get("/v1/disputes", headers=BUYER).json()["items"] == []
