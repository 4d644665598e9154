"""Helpers for the event feed, stream and webhook tests: a small world of two
disputes (one escalated, with a private message after escalation), and what
each role should read of it."""

from __future__ import annotations

from typing import Any

from domain.values import Role
from support.api import Caller, ok, opening, usd_offer

ROLES = (Role.BUYER, Role.SELLER, Role.AGENT, Role.AUDITOR)


def callers(client: Any) -> dict[str, Caller]:
    return {
        "buyer-1": Caller(client, Role.BUYER, "buyer-1"),
        "seller-1": Caller(client, Role.SELLER, "seller-1"),
        "buyer-2": Caller(client, Role.BUYER, "buyer-2"),
        "seller-2": Caller(client, Role.SELLER, "seller-2"),
        "agent": Caller(client, Role.AGENT, "agent-1"),
        "auditor": Caller(client, Role.AUDITOR, "auditor-1"),
        "analyst": Caller(client, Role.ANALYST, "analyst-1"),
    }


def caller_of(role: Role, c: dict[str, Caller]) -> Caller:
    return {Role.BUYER: c["buyer-1"], Role.SELLER: c["seller-1"], Role.AGENT: c["agent"], Role.AUDITOR: c["auditor"]}[
        role
    ]


def two_disputes(c: dict[str, Caller]) -> tuple[dict[str, Any], dict[str, Any]]:
    """buyer-1 v seller-1, escalated, then a message from each party (each private
    to its author and the agent); and buyer-2 v seller-2, negotiating. Returns the
    last command response's body for each (with its X-Position under 'position')."""
    first = ok(c["buyer-1"].post("/v1/disputes", opening("seller-1", order_id="order-a")), 201)
    path = f"/v1/disputes/{first['id']}"
    ok(c["seller-1"].post(f"{path}/offers", usd_offer(800)), 201)
    ok(c["buyer-1"].post(f"{path}/escalate", {"reason": "no agreement"}), 200)
    ok(c["seller-1"].post(f"{path}/messages", {"body": "seller to agent"}), 201)
    ok(c["buyer-1"].post(f"{path}/messages", {"body": "buyer to agent"}), 201)
    second = ok(c["buyer-2"].post("/v1/disputes", opening("seller-2", order_id="order-b")), 201)
    response = c["seller-2"].post(f"/v1/disputes/{second['id']}/offers", usd_offer(500))
    assert response.status_code == 201, response.text
    return first, {**second, "position": int(response.headers["X-Position"])}


def timeline(caller: Caller, dispute_id: str, min_position: int) -> list[dict[str, Any]]:
    """Every timeline entry of a dispute the caller may read, once the read model reached min_position."""
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = caller.get(f"/v1/disputes/{dispute_id}/timeline?limit=200{cursor}", x_min_position=str(min_position))
        body = ok(r, 200)
        entries += body["items"]
        if body["next_cursor"] is None:
            return entries
        cursor = f"&cursor={body['next_cursor']}"


def feed(caller: Caller, query: str = "") -> list[dict[str, Any]]:
    """Every item of the caller's feed, page after page."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body = ok(caller.get(f"/v1/events?limit=3{query}{cursor}"), 200)
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        cursor = f"&cursor={body['next_cursor']}"


def as_timeline(item: dict[str, Any]) -> tuple[int, int, str, dict[str, Any], dict[str, Any]]:
    return item["position"], item["version"], item["type"], item["actor"], item["data"]
