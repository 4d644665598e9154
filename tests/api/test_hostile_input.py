"""Hostile input an outside probe found (issue 11): tokens with odd claims,
money that is not money, ids nobody could type. Each is a clear 4xx problem
with a stable code that names the field, and nothing is appended; on SQLite
and Postgres."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.policy import MAX_AMOUNT_MINOR
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, Caller, Parties, head, ok, opening, usd, usd_offer

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)



def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def refused_field(response: Any) -> list[Any]:
    """The `loc` of the one field a 422 validation problem names."""
    body = problem(response, 422, "validation_error")
    locs = [e["loc"] for e in body["errors"]]
    assert len(locs) == 1, locs
    return list(locs[0])


def token(claims: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode({'exp': int(time.time()) + 60, **claims}, SECRET, 'HS256')}"}


# ------------------------------------------------------------------ 1. token claims
@pytest.mark.parametrize("role", [["buyer"], ["agent", "buyer"], {"role": "buyer"}, {}, 1, None])
def test_a_signed_token_whose_role_is_not_a_string_is_401(client: TestClient, role: Any) -> None:
    headers = token({"sub": "buyer-1", "role": role})
    before = head(client)
    problem(client.get("/v1/disputes", headers=headers), 401, "unauthorized")
    problem(client.post("/v1/disputes", json=opening("seller-1"), headers=headers), 401, "unauthorized")
    assert head(client) == before


@pytest.mark.parametrize("sub", [" ", "    ", "\u0007\u202e", "buyer\u202e1", "\u2066buyer", "b" * 256])
def test_a_signed_token_whose_sub_is_blank_unprintable_or_too_long_is_401(client: TestClient, sub: str) -> None:
    headers = token({"sub": sub, "role": "buyer"})
    before = head(client)
    problem(client.post("/v1/disputes", json=opening("seller-1"), headers=headers), 401, "unauthorized")
    assert head(client) == before


# ------------------------------------------------------------------ 2. money
NOT_INTEGERS = ["1500", True, 1500.0, "1e3", [1500], None]


@pytest.mark.parametrize("amount", NOT_INTEGERS, ids=repr)
def test_amount_minor_must_be_a_json_integer(client: TestClient, parties: Parties, amount: Any) -> None:
    before = head(client)
    body = {**opening(parties.seller.id), "order_amount": {"amount_minor": amount, "currency": "USD"}}
    assert refused_field(parties.buyer.post("/v1/disputes", body)) == ["body", "order_amount", "amount_minor"]
    body = {**opening(parties.seller.id), "refund": {"amount_minor": amount, "currency": "USD"}}
    assert refused_field(parties.buyer.post("/v1/disputes", body)) == ["body", "refund", "amount_minor"]
    assert head(client) == before


def test_offer_and_ruling_refunds_must_be_json_integers(client: TestClient, parties: Parties) -> None:
    d = parties.in_status("under_review")
    before = head(client)
    offer = {"remedy": "partial_refund", "refund": {"amount_minor": "800", "currency": "USD"}}
    assert refused_field(parties.buyer.post(f"/v1/disputes/{d['id']}/offers", offer)) == [
        "body", "refund", "amount_minor"
    ]  # fmt: skip
    ruling = {"outcome": "refund_partial", "refund": {"amount_minor": True, "currency": "USD"},
              "seller_at_fault": True, "rationale": "r"}  # fmt: skip
    assert refused_field(parties.agent.post(f"/v1/disputes/{d['id']}/ruling", ruling)) == [
        "body", "refund", "amount_minor"
    ]  # fmt: skip
    assert head(client) == before


@pytest.mark.parametrize("currency", ["ZZZ", "ABC", "XXX", "usd", "US", "USDX", 840])
def test_a_currency_outside_iso_4217_is_422(client: TestClient, parties: Parties, currency: Any) -> None:
    before = head(client)
    body = {**opening(parties.seller.id), "order_amount": {"amount_minor": 2000, "currency": currency}}
    assert refused_field(parties.buyer.post("/v1/disputes", body)) == ["body", "order_amount", "currency"]
    d = parties.in_status("negotiating")
    before = head(client)
    offer = {"remedy": "partial_refund", "refund": {"amount_minor": 800, "currency": currency}}
    assert refused_field(parties.buyer.post(f"/v1/disputes/{d['id']}/offers", offer)) == [
        "body", "refund", "currency"
    ]  # fmt: skip
    assert head(client) == before


@pytest.mark.parametrize("currency", ["EUR", "JPY", "CHF", "BRL"])
def test_iso_4217_currencies_other_than_usd_are_accepted(parties: Parties, currency: str) -> None:
    money = {"amount_minor": 2000, "currency": currency}
    body = {**opening(parties.seller.id), "order_amount": money, "refund": {**money, "amount_minor": 1500}}
    assert ok(parties.buyer.post("/v1/disputes", body), 201)["order_amount"] == money


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT_MINOR + 1, 2**63, 10**30])
def test_an_amount_not_positive_or_over_the_maximum_is_422(client: TestClient, parties: Parties, amount: int) -> None:
    before = head(client)
    body = {**opening(parties.seller.id), "order_amount": usd(amount)}
    assert refused_field(parties.buyer.post("/v1/disputes", body)) == ["body", "order_amount", "amount_minor"]
    d = parties.in_status("negotiating")
    before = head(client)
    offer = parties.buyer.post(f"/v1/disputes/{d['id']}/offers", usd_offer(amount))
    assert refused_field(offer) == ["body", "refund", "amount_minor"]
    assert head(client) == before


def test_the_maximum_amount_is_accepted(parties: Parties) -> None:
    body = {**opening(parties.seller.id), "order_amount": usd(MAX_AMOUNT_MINOR), "refund": usd(MAX_AMOUNT_MINOR)}
    assert ok(parties.buyer.post("/v1/disputes", body), 201)["order_amount"] == usd(MAX_AMOUNT_MINOR)


def test_zero_is_a_refund_only_where_a_ruling_refunds_nothing(client: TestClient, parties: Parties) -> None:
    d = parties.in_status("under_review")
    before = head(client)
    partial = {"outcome": "refund_partial", "refund": usd(0), "seller_at_fault": True, "rationale": "r"}
    refused = problem(parties.agent.post(f"/v1/disputes/{d['id']}/ruling", partial), 422, "invalid_value")
    assert refused["detail"] == "refund.amount_minor must be positive"
    fake = {"outcome": "no_refund", "refund": {"amount_minor": 0, "currency": "ZZZ"}, "seller_at_fault": False,
            "rationale": "r"}  # fmt: skip
    assert refused_field(parties.agent.post(f"/v1/disputes/{d['id']}/ruling", fake)) == ["body", "refund", "currency"]
    assert head(client) == before
    none = {"outcome": "no_refund", "refund": usd(0), "seller_at_fault": False, "rationale": "r"}
    assert ok(parties.agent.post(f"/v1/disputes/{d['id']}/ruling", none), 200)["outcome"]["refund"] is None


# ------------------------------------------------------------------ 3. ids
HOSTILE_IDS = ["\u0007\u202e", "seller\u202e1", "a\u200fb", "\u2066seller", "seller\x1b[2J", "sel\u0085ler", "\ufeffs"]


@pytest.mark.parametrize("value", HOSTILE_IDS, ids=ascii)
@pytest.mark.parametrize("field", ["seller_id", "order_id"])
def test_ids_with_control_or_bidi_characters_are_422(
    client: TestClient, parties: Parties, field: str, value: str
) -> None:
    before = head(client)
    body = {**opening(parties.seller.id), field: value}
    assert refused_field(parties.buyer.post("/v1/disputes", body)) == ["body", field]
    assert head(client) == before


@pytest.mark.parametrize("field", ["carrier", "tracking_number"])
def test_return_shipment_ids_with_bidi_characters_are_422(client: TestClient, parties: Parties, field: str) -> None:
    d = parties.in_status("awaiting_return")
    before = head(client)
    shipment = {"carrier": "UPS", "tracking_number": "1Z999", field: "1Z\u202e999"}
    assert refused_field(parties.buyer.post(f"/v1/disputes/{d['id']}/return-shipment", shipment)) == ["body", field]
    assert head(client) == before


def test_ids_of_255_characters_are_accepted_and_of_256_refused(client: TestClient, parties: Parties) -> None:
    before = head(client)
    for field in ("seller_id", "order_id"):
        body = {**opening(parties.seller.id), field: "x" * 256}
        assert refused_field(parties.buyer.post("/v1/disputes", body)) == ["body", field]
    assert head(client) == before
    longest_seller, buyer = "s" * 255, Caller(client, Role.BUYER, "b" * 255)
    opened = ok(buyer.post("/v1/disputes", opening(longest_seller, order_id="o" * 255)), 201)
    assert (opened["seller_id"], opened["order_id"], opened["buyer_id"]) == (longest_seller, "o" * 255, "b" * 255)
    seller = Caller(client, Role.SELLER, longest_seller)
    assert ok(seller.get(f"/v1/disputes/{opened['id']}"), 200)["seller_id"] == longest_seller


def test_printable_ids_in_any_script_are_accepted(client: TestClient) -> None:
    buyer = Caller(client, Role.BUYER, "käufer-1")
    opened = ok(buyer.post("/v1/disputes", opening("販売者-1", order_id="commande-é-1")), 201)
    assert (opened["buyer_id"], opened["seller_id"]) == ("käufer-1", "販売者-1")
