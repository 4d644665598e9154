"""Every list and statistic refuses a query parameter it does not know
(422 unknown_parameter, naming it), after deciding who is calling (401),
whether it may read this (403) and whether it may see the dispute or webhook
(404). The routes are taken from the app itself: a new list route that does
not pass through api.listing's gate fails here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bootstrap import build_api
from domain.values import Role
from support.api import SECRET, Caller, Parties, bearer
from support.stores import settings_for

PAGING = {"limit", "cursor", "as_of", "group_by", "after"}
"""A read that takes one of these is a list (it pages) or a statistic."""
OPERATIONS = create_app(lambda: None).openapi()["paths"]  # type: ignore[arg-type, return-value]
LISTS = sorted(
    path
    for path, operations in OPERATIONS.items()
    if {p["name"] for p in operations.get("get", {}).get("parameters", []) if p["in"] == "query"} & PAGING
)


@dataclass(frozen=True)
class Who:
    """Who may read a list, a role that may not (403), and a caller who may not see its subject (404)."""

    allowed: tuple[Role, str]
    forbidden: tuple[Role, str] | None
    hidden: tuple[Role, str] | None = None


WHO = {
    "/v1/disputes": Who((Role.ANALYST, "an-1"), None),
    "/v1/disputes/{dispute_id}/timeline": Who((Role.BUYER, "buyer-1"), (Role.ANALYST, "an-1"), (Role.BUYER, "b-9")),
    "/v1/orders/{order_id}/history": Who((Role.AUDITOR, "au-1"), (Role.BUYER, "buyer-1")),
    "/v1/disputes/{dispute_id}/history": Who((Role.AUDITOR, "au-1"), (Role.BUYER, "buyer-1"), (Role.BUYER, "b-9")),
    "/v1/sellers": Who((Role.ANALYST, "an-1"), (Role.SELLER, "seller-1")),
    "/v1/sellers/{seller_id}/score": Who((Role.SELLER, "seller-1"), (Role.SELLER, "seller-2")),
    "/v1/stats/disputes": Who((Role.ANALYST, "an-1"), (Role.BUYER, "buyer-1")),
    "/v1/audit": Who((Role.AUDITOR, "au-1"), (Role.AGENT, "a")),
    "/v1/audit/export": Who((Role.AUDITOR, "au-1"), (Role.ANALYST, "an-1")),
    "/v1/audit/log/checkpoints": Who((Role.AUDITOR, "au-1"), (Role.ANALYST, "an-1")),
    "/v1/events": Who((Role.AGENT, "a"), (Role.ANALYST, "an-1")),
    "/v1/events/stream": Who((Role.AGENT, "a"), (Role.ANALYST, "an-1")),
    "/v1/webhooks": Who((Role.AGENT, "a"), (Role.ANALYST, "an-1")),
    "/v1/webhooks/{webhook_id}/deliveries": Who((Role.AGENT, "a"), (Role.ANALYST, "an-1"), (Role.AGENT, "a-2")),
}


def test_the_lists_are_found_and_each_has_its_callers() -> None:
    assert {"/v1/disputes", "/v1/stats/disputes", "/v1/audit", "/v1/events", "/v1/webhooks"} <= set(LISTS)
    assert set(LISTS) <= set(WHO), "a new list route: say who may read it in WHO"


@pytest.mark.parametrize("path", LISTS)
def test_every_list_route_documents_unknown_parameter(path: str) -> None:
    assert "unknown_parameter" in OPERATIONS[path]["get"]["responses"]["422"]["x-error-codes"]


@dataclass
class World:
    c: TestClient
    paths: dict[str, str]

    def get(self, path: str, query: str, who: tuple[Role, str] | None) -> Any:
        auth = bearer(who[0], who[1]) if who else {}
        return self.c.get(self.paths[path] + query, headers=auth)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    settings = settings_for(
        "sqlite", tmp_path_factory.mktemp("lists"), request, jwt_secret=SECRET, stream_max_duration="PT1S"
    )
    with TestClient(build_api(settings)) as c:
        dispute = Parties.on(c).open()
        hook = Caller(c, Role.AGENT, "a").post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]})
        assert hook.status_code == 201, hook.text
        order = {"buyer_id": "buyer-1", "seller_id": "seller-1", "amount": {"amount_minor": 2000, "currency": "USD"},
                 "placed_at": "2026-01-01T00:00:00Z", "delivered_at": None,
                 "protection_ends_at": "2099-01-01T00:00:00Z"}  # fmt: skip
        put = c.put("/v1/orders/o-lists-1", json=order, headers=bearer(Role.PLATFORM, "shop"))
        assert put.status_code in (200, 201), put.text
        values = {"dispute_id": dispute["id"], "seller_id": "seller-1", "webhook_id": hook.json()["id"],
                  "order_id": "o-lists-1"}  # fmt: skip
        yield World(c, {p: p.format(**values) for p in LISTS})


def is_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_parameter_is_422_naming_it(world: World, path: str) -> None:
    who = WHO[path]
    assert world.get(path, "", who.allowed).status_code == 200, "the caller may read the list itself"
    body = is_problem(world.get(path, "?zz=1&stauts=open", who.allowed), 422, "unknown_parameter")
    assert body["parameters"] == ["stauts", "zz"]
    assert "stauts" in body["detail"] and "zz" in body["detail"]
    is_problem(world.get(path, "?LIMIT=5", who.allowed), 422, "unknown_parameter")  # names are exact


@pytest.mark.parametrize("path", LISTS)
def test_401_403_and_404_come_before_unknown_parameter(world: World, path: str) -> None:
    who = WHO[path]
    is_problem(world.get(path, "?bogus=1", None), 401, "unauthorized")
    if who.forbidden:
        is_problem(world.get(path, "?bogus=1", who.forbidden), 403, "role_not_allowed")
    if who.hidden:
        response = world.get(path, "?bogus=1", who.hidden)
        assert response.status_code == 404, response.text
        assert response.json()["code"] in ("not_party", "dispute_not_found", "webhook_not_found")


def test_a_missing_dispute_is_404_before_unknown_parameter_for_every_role(world: World) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for path, who in (("timeline", (Role.AGENT, "a")), ("history", (Role.AUDITOR, "au-1"))):
        response = world.c.get(f"/v1/disputes/{missing}/{path}?bogus=1", headers=bearer(*who))
        assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", ["/v1/disputes", "/v1/events", "/v1/audit"])
def test_a_single_valued_parameter_given_twice_is_refused(world: World, path: str) -> None:
    body = is_problem(world.get(path, "?limit=5&limit=6", WHO[path].allowed), 422, "validation_error")
    assert "limit" in body["detail"]
