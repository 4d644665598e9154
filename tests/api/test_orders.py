"""PUT and GET /v1/orders/{order_id}, the platform role, and opening a
dispute on a registered order, over HTTP on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.dispute import dispute_id_for
from domain.values import Role
from support.api import SECRET, Caller, ok, opening, usd
from support.stores import settings_for

ORDER = {
    "buyer_id": "buyer-1",
    "seller_id": "seller-1",
    "amount": usd(2000),
    "placed_at": "2026-01-10T08:00:00Z",
    "delivered_at": None,
    "protection_ends_at": "2999-01-01T00:00:00Z",
}
EXPIRED = {**ORDER, "protection_ends_at": "2026-02-01T00:00:00Z"}


@pytest.fixture
def client(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with TestClient(build_api(settings_for(backend, tmp_path, request, jwt_secret=SECRET))) as test_client:
        yield test_client


@pytest.fixture
def strict(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings = settings_for(backend, tmp_path, request, jwt_secret=SECRET, require_known_orders=True)
    with TestClient(build_api(settings)) as test_client:
        yield test_client


def who(client: TestClient) -> dict[str, Caller]:
    return {
        name: Caller(client, role, sub)
        for name, role, sub in [
            ("platform", Role.PLATFORM, "marketplace"),
            ("buyer", Role.BUYER, "buyer-1"),
            ("seller", Role.SELLER, "seller-1"),
            ("other buyer", Role.BUYER, "buyer-2"),
            ("other seller", Role.SELLER, "seller-2"),
            ("agent", Role.AGENT, "agent-1"),
            ("auditor", Role.AUDITOR, "auditor-1"),
            ("analyst", Role.ANALYST, "analyst-1"),
        ]
    }


def put(caller: Caller, order_id: str, body: dict[str, Any]) -> Any:
    return caller.client.put(f"/v1/orders/{order_id}", json=body, headers=caller.headers)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def on_order(order_id: str, **fields: Any) -> dict[str, Any]:
    body = {"order_id": order_id, "reason": "damaged", "remedy": "refund_only", "refund": usd(1500)}
    return {**body, **fields}


# ------------------------------------------------------------------ put, get
def test_put_registers_and_the_same_terms_again_answer_exactly_the_same(client: TestClient) -> None:
    c = who(client)
    first = put(c["platform"], "o-1", ORDER)
    body = ok(first, 200)
    assert body == {**ORDER, "order_id": "o-1", "version": 1,
                    "registered_at": body["registered_at"], "updated_at": body["registered_at"]}  # fmt: skip
    again = put(c["platform"], "o-1", ORDER)
    assert ok(again, 200) == body
    assert (again.headers["ETag"], again.headers["X-Position"]) == (first.headers["ETag"], first.headers["X-Position"])
    assert ok(c["agent"].get("/v1/orders/o-1/history"), 200)["items"][0]["type"] == "OrderRegistered"
    assert len(ok(c["agent"].get("/v1/orders/o-1/history"), 200)["items"]) == 1


def test_other_terms_append_an_update(client: TestClient) -> None:
    c = who(client)
    first = put(c["platform"], "o-1", ORDER)
    delivered = {**ORDER, "delivered_at": "2026-01-14T12:00:00Z"}
    changed = put(c["platform"], "o-1", delivered)
    body = ok(changed, 200)
    assert body["version"] == 2 and body["delivered_at"] == "2026-01-14T12:00:00Z"
    assert changed.headers["ETag"] == '"2"' and int(changed.headers["X-Position"]) > int(first.headers["X-Position"])
    history = ok(c["auditor"].get("/v1/orders/o-1/history"), 200)["items"]
    assert [e["type"] for e in history] == ["OrderRegistered", "OrderUpdated"]
    assert history[1]["data"]["changed"] == ["delivered_at"] and history[1]["actor"]["role"] == "platform"
    verdict = ok(c["auditor"].get("/v1/orders/o-1/verify"), 200)
    assert verdict["valid"] and verdict["events"] == 2 and verdict["head"] == history[1]["chain_hash"]


@pytest.mark.parametrize("name", ["buyer", "seller", "agent", "auditor", "analyst"])
def test_only_the_platform_puts_orders(client: TestClient, name: str) -> None:
    c = who(client)
    problem(put(c[name], "o-1", ORDER), 403, "role_not_allowed")
    problem(c["agent"].get("/v1/orders/o-1"), 404, "order_not_found")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"seller_id": "buyer-1"}, "invalid_value"),
        ({"protection_ends_at": "2026-01-01T00:00:00Z"}, "invalid_value"),
        ({"delivered_at": "2026-01-01T00:00:00Z"}, "invalid_value"),
        ({"amount": usd(0)}, "validation_error"),
        ({"placed_at": "2026-01-10T08:00:00"}, "validation_error"),
        ({"protection_ends_at": None}, "validation_error"),
        ({"buyer_id": ""}, "validation_error"),
    ],
    ids=[
        "seller is buyer",
        "protection before placing",
        "delivered before placing",
        "zero amount",
        "no offset",
        "no protection end",
        "empty buyer",
    ],
)
def test_bad_terms_are_422_and_change_nothing(client: TestClient, change: dict[str, Any], code: str) -> None:
    c = who(client)
    problem(put(c["platform"], "o-1", {**ORDER, **change}), 422, code)
    problem(c["agent"].get("/v1/orders/o-1"), 404, "order_not_found")
    ok(put(c["platform"], "o-1", ORDER), 200)
    problem(put(c["platform"], "o-1", {**ORDER, **change}), 422, code)
    assert ok(c["agent"].get("/v1/orders/o-1"), 200)["version"] == 1


def test_a_missing_field_is_422_naming_it(client: TestClient) -> None:
    c = who(client)
    no_amount = {k: v for k, v in ORDER.items() if k != "amount"}
    body = problem(put(c["platform"], "o-1", no_amount), 422, "validation_error")
    assert "amount" in str(body)


@pytest.mark.parametrize("name", ["platform", "agent", "auditor", "buyer", "seller"])
def test_the_platform_staff_and_the_orders_parties_read_it(client: TestClient, name: str) -> None:
    c = who(client)
    written = ok(put(c["platform"], "o-1", ORDER), 200)
    response = c[name].get("/v1/orders/o-1")
    assert ok(response, 200) == written and response.headers["ETag"] == '"1"'


def test_anyone_else_learns_nothing(client: TestClient) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", ORDER), 200)
    for name in ("other buyer", "other seller"):
        theirs = problem(c[name].get("/v1/orders/o-1"), 404, "not_party")
        missing = problem(c[name].get("/v1/orders/o-404"), 404, "not_party")
        assert theirs == missing
    problem(c["analyst"].get("/v1/orders/o-1"), 403, "role_not_allowed")
    problem(c["agent"].get("/v1/orders/o-404"), 404, "order_not_found")
    problem(c["buyer"].get("/v1/orders/o-1/history"), 403, "role_not_allowed")
    problem(c["agent"].get("/v1/orders/o-1/verify"), 403, "role_not_allowed")
    problem(c["auditor"].get("/v1/orders/o-404/verify"), 404, "order_not_found")


# ------------------------------------------------------------------ opening
def test_a_dispute_on_a_registered_order_takes_its_seller_and_amount(client: TestClient) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", ORDER), 200)
    dispute = ok(c["buyer"].post("/v1/disputes", on_order("o-1")), 201)
    assert dispute["seller_id"] == "seller-1" and dispute["order_amount"] == usd(2000)
    assert ok(c["seller"].get(f"/v1/disputes/{dispute['id']}"), 200)["order_id"] == "o-1"


def test_the_same_seller_and_amount_may_be_sent(client: TestClient) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", ORDER), 200)
    ok(c["buyer"].post("/v1/disputes", on_order("o-1", seller_id="seller-1", order_amount=usd(2000))), 201)


@pytest.mark.parametrize(
    "sent",
    [{"seller_id": "seller-2"}, {"order_amount": usd(2001)}, {"order_amount": {**usd(2000), "currency": "EUR"}}],
    ids=["seller", "amount", "currency"],
)
def test_another_seller_or_amount_is_order_mismatch(client: TestClient, sent: dict[str, Any]) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", ORDER), 200)
    problem(c["buyer"].post("/v1/disputes", on_order("o-1", **sent)), 422, "order_mismatch")
    problem(c["buyer"].get(f"/v1/disputes/{dispute_id_for('o-1')}"), 404, "not_party")


def test_only_the_orders_buyer_may_open_revealing_nothing(client: TestClient) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", ORDER), 200)
    squatter = c["other buyer"].post("/v1/disputes", on_order("o-1", seller_id="seller-2", order_amount=usd(5)))
    body = problem(squatter, 404, "not_party")
    assert "seller-1" not in body["detail"] and "2000" not in body["detail"]
    problem(c["platform"].post("/v1/disputes", on_order("o-1")), 403, "role_not_allowed")
    problem(c["seller"].post("/v1/disputes", on_order("o-1")), 403, "role_not_allowed")
    ok(c["buyer"].post("/v1/disputes", on_order("o-1")), 201)
    problem(c["other buyer"].post("/v1/disputes", on_order("o-1")), 404, "not_party")
    problem(c["buyer"].post("/v1/disputes", on_order("o-1")), 409, "dispute_exists")


def test_opening_after_the_protection_ended_is_protection_expired(client: TestClient) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", EXPIRED), 200)
    problem(c["buyer"].post("/v1/disputes", on_order("o-1")), 409, "protection_expired")
    problem(c["other buyer"].post("/v1/disputes", on_order("o-1")), 404, "not_party")
    ok(put(c["platform"], "o-1", ORDER), 200)  # the marketplace extends the protection
    ok(c["buyer"].post("/v1/disputes", on_order("o-1")), 201)


def test_unregistered_orders_open_as_before_but_need_a_seller_and_amount(client: TestClient) -> None:
    c = who(client)
    ok(c["buyer"].post("/v1/disputes", opening("seller-1")), 201)
    body = problem(c["buyer"].post("/v1/disputes", on_order("o-9")), 422, "invalid_value")
    assert "seller_id and order_amount" in body["detail"]


def test_requiring_known_orders_refuses_the_unregistered(strict: TestClient) -> None:
    c = who(strict)
    problem(c["buyer"].post("/v1/disputes", opening("seller-1", order_id="o-9")), 404, "order_unknown")
    problem(c["agent"].get(f"/v1/disputes/{dispute_id_for('o-9')}"), 404, "dispute_not_found")
    ok(put(c["platform"], "o-9", ORDER), 200)
    ok(c["buyer"].post("/v1/disputes", opening("seller-1", order_id="o-9")), 201)


# ---------------------------------------------------------- the platform role
def test_the_platform_reads_disputes_like_an_analyst_and_commands_nothing(client: TestClient) -> None:
    c = who(client)
    dispute = ok(c["buyer"].post("/v1/disputes", opening("seller-1")), 201)
    path = f"/v1/disputes/{dispute['id']}"
    ok(c["buyer"].post(f"{path}/messages", {"body": "hello"}), 201)
    seen = ok(c["platform"].get(path), 200)
    assert [m["body"] for m in seen["messages"]] == [None]
    assert seen["allowed_actions"] == []
    assert ok(c["platform"].get("/v1/disputes"), 200)["items"] is not None
    for command, body in [
        ("messages", {"body": "hi"}),
        ("offers", {"remedy": "replacement", "refund": None, "note": ""}),
        ("escalate", {"reason": "x"}),
        ("withdraw", {"reason": "x"}),
    ]:
        problem(c["platform"].post(f"{path}/{command}", body), 403, "role_not_allowed")
    for read in ("timeline", "history", "verify"):
        problem(c["platform"].get(f"{path}/{read}"), 403, "role_not_allowed")
    evidence = c["platform"].upload(f"{path}/evidence")
    problem(evidence, 403, "role_not_allowed")
    problem(c["platform"].get("/v1/stats/disputes"), 403, "role_not_allowed")
    problem(c["platform"].get("/v1/sellers"), 403, "role_not_allowed")
    problem(c["platform"].get("/v1/audit"), 403, "role_not_allowed")


# ---------------------------------------------------------------- the matrix
CALLERS = ("platform", "buyer", "seller", "other buyer", "other seller", "agent", "auditor", "analyst")
MATRIX = {
    "PUT /v1/orders/o-1": (200, 403, 403, 403, 403, 403, 403, 403),
    "GET /v1/orders/o-1": (200, 200, 200, 404, 404, 200, 200, 403),
    "GET /v1/orders/o-1/history": (403, 403, 403, 403, 403, 200, 200, 403),
    "GET /v1/orders/o-1/verify": (403, 403, 403, 403, 403, 403, 200, 403),
}


@pytest.mark.parametrize("route", MATRIX)
def test_each_caller_gets_the_status_the_contract_gives_it(client: TestClient, route: str) -> None:
    c = who(client)
    ok(put(c["platform"], "o-1", ORDER), 200)
    method, path = route.split(" ")
    actual = {}
    for name in CALLERS:
        if method == "PUT":
            response = put(c[name], "o-1", {**ORDER, "delivered_at": "2026-01-12T00:00:00Z"})
        else:
            response = c[name].get(path)
        actual[name] = response.status_code
    assert actual == dict(zip(CALLERS, MATRIX[route], strict=True))
    assert ok(c["agent"].get("/v1/orders/o-1"), 200)["version"] == (2 if method == "PUT" else 1)
