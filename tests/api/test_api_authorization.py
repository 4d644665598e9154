"""Who may call what: every endpoint x role x (own / other party's dispute).

Each cell's status is written out from the contract (shared/spec/api.md and
domain.md), not derived from the code: 401 for any bad token; 404 for a
dispute the caller may not see (buyers and sellers of other disputes); 403 for
an action the caller's role may never take on a dispute it can see; success,
or 409 where the dispute's status (or whose move it is) forbids the action.

"own" is a dispute between buyer-1 and seller-1, the callers' ids; "other" is
one between buyer-2 and seller-2. Agents, auditors and analysts see every
dispute, so their two columns agree. Refused calls must change nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from support.api import PNG, Caller, Parties, bad_authorizations, evidence_files, ok, opening, usd, usd_offer
from support.stores import settings_for

ROLES = ("buyer", "seller", "agent", "auditor", "analyst", "platform")
Row = dict[str, tuple[int, int]]


def row(buyer: tuple[int, int], seller: tuple[int, int], agent: int, auditor: int, analyst: int, platform: int) -> Row:
    """Expected (own, other) statuses per role; staff and the platform see every dispute alike."""
    return {
        "buyer": buyer,
        "seller": seller,
        "agent": (agent, agent),
        "auditor": (auditor, auditor),
        "analyst": (analyst, analyst),
        "platform": (platform, platform),
    }


Body = Callable[[dict[str, Any], str], Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    route: str
    status: str  # the dispute status each cell starts from
    expect: Row
    body: Body | None = None
    query: str = ""
    upload: bool = False

    def path(self, d: dict[str, Any]) -> str:
        offer = d["pending_offer"]["id"] if d["pending_offer"] else "no-offer"
        evidence = d["evidence"][0]["id"] if d["evidence"] else "no-evidence"
        where = self.route.format(dispute_id=d["id"], offer_id=offer, evidence_id=evidence, seller_id=d["seller_id"])
        return where + self.query

    def mutates(self, status: int) -> bool:
        return self.method == "POST" and status < 300

    def __str__(self) -> str:
        return self.name


def const(body: Any) -> Body:
    return lambda _d, _whose: body


def open_body(d: dict[str, Any], whose: str) -> Any:
    """Own: a new order with seller-1. Other: the order buyer-2 already disputes."""
    return opening("seller-1") if whose == "own" else opening(d["seller_id"], order_id=d["order_id"])


D = "/v1/disputes/{dispute_id}"
ENDPOINTS = [
    # ------------------------------------------------------------- reads
    Endpoint("read dispute", "GET", D, "awaiting_seller", row((200, 404), (200, 404), 200, 200, 200, 200)),
    Endpoint(
        "list disputes", "GET", "/v1/disputes", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 200, 200)
    ),
    Endpoint("timeline", "GET", D + "/timeline", "awaiting_seller", row((200, 404), (200, 404), 200, 200, 403, 403)),
    Endpoint(
        "seller score",
        "GET",
        "/v1/sellers/{seller_id}/score",
        "awaiting_seller",
        row((403, 403), (200, 403), 200, 200, 200, 403),
    ),
    Endpoint(
        "seller ranking", "GET", "/v1/sellers", "awaiting_seller", row((403, 403), (403, 403), 200, 200, 200, 403)
    ),
    Endpoint(
        "statistics", "GET", "/v1/stats/disputes", "awaiting_seller", row((403, 403), (403, 403), 200, 200, 200, 403)
    ),
    Endpoint(
        "download evidence",
        "GET",
        D + "/evidence/{evidence_id}/content",
        "with_evidence",
        row((200, 404), (200, 404), 200, 200, 403, 403),
    ),
    # ---------------------------------------------------------- commands
    Endpoint(
        "open dispute",
        "POST",
        "/v1/disputes",
        "awaiting_seller",
        row((201, 409), (403, 403), 403, 403, 403, 403),
        open_body,
    ),
    Endpoint(
        "propose offer",
        "POST",
        D + "/offers",
        "awaiting_seller",
        row((409, 404), (201, 404), 403, 403, 403, 403),
        const(usd_offer(900)),
    ),
    Endpoint(
        "accept offer",
        "POST",
        D + "/offers/{offer_id}/accept",
        "awaiting_seller",
        row((409, 404), (200, 404), 403, 403, 403, 403),
        const({"note": "fine"}),
    ),
    Endpoint(
        "reject offer",
        "POST",
        D + "/offers/{offer_id}/reject",
        "awaiting_seller",
        row((409, 404), (200, 404), 403, 403, 403, 403),
        const({"reason": "too much"}),
    ),
    Endpoint(
        "upload evidence",
        "POST",
        D + "/evidence",
        "awaiting_seller",
        row((201, 404), (201, 404), 201, 403, 403, 403),
        upload=True,
    ),
    Endpoint(
        "post message",
        "POST",
        D + "/messages",
        "awaiting_seller",
        row((201, 404), (201, 404), 201, 403, 403, 403),
        const({"body": "hello"}),
    ),
    Endpoint(
        "escalate",
        "POST",
        D + "/escalate",
        "negotiating",
        row((200, 404), (200, 404), 403, 403, 403, 403),
        const({"reason": "stuck"}),
    ),
    Endpoint(
        "withdraw",
        "POST",
        D + "/withdraw",
        "awaiting_seller",
        row((200, 404), (403, 404), 403, 403, 403, 403),
        const({"reason": "sorted"}),
    ),
    Endpoint(
        "ship return",
        "POST",
        D + "/return-shipment",
        "awaiting_return",
        row((200, 404), (403, 404), 403, 403, 403, 403),
        const({"carrier": "UPS", "tracking_number": "1Z999"}),
    ),
    Endpoint(
        "confirm return receipt",
        "POST",
        D + "/return-receipt",
        "return_in_transit",
        row((403, 404), (200, 404), 403, 403, 403, 403),
        const({"condition": "received_ok", "note": "fine"}),
    ),
    Endpoint(
        "request evidence",
        "POST",
        D + "/evidence-requests",
        "under_review",
        row((403, 404), (403, 404), 201, 403, 403, 403),
        const({"party": "buyer", "note": "receipt please", "due_in": "P2D"}),
    ),
    Endpoint(
        "extend deadline",
        "POST",
        D + "/deadline-extensions",
        "awaiting_seller",
        row((403, 404), (403, 404), 200, 403, 403, 403),
        const({"deadline": "seller_response", "extend_by": "P1D", "reason": "holiday"}),
    ),
    Endpoint(
        "issue ruling",
        "POST",
        D + "/ruling",
        "under_review",
        row((403, 404), (403, 404), 200, 403, 403, 403),
        const({"outcome": "refund_partial", "refund": usd(500), "seller_at_fault": True, "rationale": "photos"}),
    ),
    Endpoint(
        "appeal a ruling",
        "POST",
        D + "/appeal",
        "ruled",
        row((200, 404), (200, 404), 403, 403, 403, 403),
        const({"reason": "look again"}),
    ),
    Endpoint(
        "decide an appeal",
        "POST",
        D + "/appeal-decision",
        "under_appeal",
        row((403, 404), (403, 404), 200, 403, 403, 403),
        const({"decision": "upheld", "rationale": "the ruling stands"}),
    ),
    Endpoint("claim", "POST", D + "/claim", "under_review", row((403, 404), (403, 404), 200, 403, 403, 403), const({})),
    # ------------------------------- the status forbids it (409), unless the role never may (403)
    Endpoint(
        "appeal an agreement",
        "POST",
        D + "/appeal",
        "resolved",
        row((409, 404), (409, 404), 403, 403, 403, 403),
        const({"reason": "changed my mind"}),
    ),
    Endpoint(
        "release a dispute nobody holds",
        "POST",
        D + "/release",
        "under_review",
        row((403, 404), (403, 404), 409, 403, 403, 403),
        const({"reason": "done"}),
    ),
    Endpoint(
        "escalate before the seller responded",
        "POST",
        D + "/escalate",
        "awaiting_seller",
        row((409, 404), (409, 404), 403, 403, 403, 403),
        const({"reason": "now"}),
    ),
    Endpoint(
        "ship a return nobody agreed",
        "POST",
        D + "/return-shipment",
        "awaiting_seller",
        row((409, 404), (403, 404), 403, 403, 403, 403),
        const({"carrier": "UPS", "tracking_number": "1Z999"}),
    ),
    Endpoint(
        "rule before escalation",
        "POST",
        D + "/ruling",
        "awaiting_seller",
        row((403, 404), (403, 404), 409, 403, 403, 403),
        const({"outcome": "no_refund", "seller_at_fault": False, "rationale": "too early"}),
    ),
    Endpoint(
        "message a withdrawn dispute",
        "POST",
        D + "/messages",
        "withdrawn",
        row((409, 404), (409, 404), 409, 403, 403, 403),
        const({"body": "still there?"}),
    ),
    Endpoint(
        "accept a superseded offer",
        "POST",
        D + "/offers/{offer_id}/accept",
        "negotiating_first_offer",
        row((409, 404), (409, 404), 403, 403, 403, 403),
        const({"note": "fine"}),
    ),
]

# ------------------------------------------------------------------------------------------------
# The event feed, the stream and webhook subscriptions: nothing here is per dispute, so both
# columns agree. Routes of one subscription ({webhook_id}) are owned by their creator: their
# matrix (role x own / someone else's subscription) is in tests/api/test_webhooks.py.
HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
EVENT_ENDPOINTS = [
    Endpoint("event feed", "GET", "/v1/events", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 403, 200)),
    Endpoint(
        "event stream", "GET", "/v1/events/stream", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 403, 200)
    ),
    Endpoint(
        "list webhooks", "GET", "/v1/webhooks", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 403, 200)
    ),
    Endpoint(
        "create webhook",
        "POST",
        "/v1/webhooks",
        "awaiting_seller",
        row((201, 201), (201, 201), 201, 201, 403, 201),
        const(HOOK),
    ),
]
ORDER_ROUTES = {
    ("PUT", "/v1/orders/{order_id}"),
    ("GET", "/v1/orders/{order_id}"),
    ("GET", "/v1/orders/{order_id}/history"),
    ("GET", "/v1/orders/{order_id}/verify"),
}
"""Orders are not disputes: their matrix (role x own / someone else's order) is in tests/api/test_orders.py."""
WEBHOOK_ROUTES = {
    ("GET", "/v1/webhooks/{webhook_id}"),
    ("PATCH", "/v1/webhooks/{webhook_id}"),
    ("DELETE", "/v1/webhooks/{webhook_id}"),
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"),
    ("POST", "/v1/webhooks/{webhook_id}/replay"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"),
}

PUBLIC = [
    Endpoint("liveness", "GET", "/healthz", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 200, 200)),
    Endpoint("readiness", "GET", "/readyz", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 200, 200)),
    Endpoint("metrics", "GET", "/metrics", "awaiting_seller", row((200, 200), (200, 200), 200, 200, 200, 200)),
]

# ------------------------------------------------------------------------------------------------
# The auditor's endpoints (src/api/routers/audit.py). Kept apart: written alongside this test,
# so each cell skips itself while the router is not mounted.
AUDIT_ENDPOINTS = [
    Endpoint("raw history", "GET", D + "/history", "awaiting_seller", row((403, 404), (403, 404), 200, 200, 403, 403)),
    Endpoint(
        "state as of a version",
        "GET",
        D + "/state",
        "awaiting_seller",
        row((403, 404), (403, 404), 200, 200, 403, 403),
        query="?version=1",
    ),
    Endpoint("verify chain", "GET", D + "/verify", "awaiting_seller", row((403, 404), (403, 404), 403, 200, 403, 403)),
    Endpoint("audit log", "GET", "/v1/audit", "awaiting_seller", row((403, 403), (403, 403), 403, 200, 403, 403)),
    Endpoint(
        "audit export",
        "GET",
        "/v1/audit/export",
        "awaiting_seller",
        row((403, 403), (403, 403), 403, 200, 403, 403),
        query="?format=jsonl",
    ),
]
ALL = ENDPOINTS + AUDIT_ENDPOINTS + EVENT_ENDPOINTS


class World:
    """One API for the module; disputes are built once per (status, owner) and
    rebuilt only for cells that change them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.callers = {
            "own": {r: Caller(client, Role(r), f"{r}-1") for r in ROLES},
            "other": {r: Caller(client, Role(r), f"{r}-2") for r in ROLES},
        }
        self._shared: dict[tuple[str, str], dict[str, Any]] = {}

    def parties(self, whose: str) -> Parties:
        c = self.callers[whose]
        return Parties(c["buyer"], c["seller"], c["agent"])

    def fresh(self, status: str, whose: str) -> dict[str, Any]:
        parties = self.parties(whose)
        if status == "with_evidence":
            d = parties.open()
            ok(parties.buyer.upload(f"/v1/disputes/{d['id']}/evidence"), 201)
            return parties.read(d["id"])
        if status == "negotiating_first_offer":
            d = parties.open()
            first = d["pending_offer"]
            ok(parties.seller.post(f"/v1/disputes/{d['id']}/offers", usd_offer(700)), 201)
            return {**parties.read(d["id"]), "pending_offer": first}
        return parties.in_status(status)

    def shared(self, status: str, whose: str) -> dict[str, Any]:
        if (status, whose) not in self._shared:
            self._shared[status, whose] = self.fresh(status, whose)
        return self._shared[status, whose]

    def forget(self, status: str, whose: str) -> None:
        self._shared.pop((status, whose), None)

    def version(self, d: dict[str, Any]) -> int:
        return int(ok(self.callers["own"]["agent"].get(f"/v1/disputes/{d['id']}"), 200)["version"])

    def call(self, endpoint: Endpoint, caller: Caller | None, d: dict[str, Any], whose: str, **headers: str) -> Any:
        auth = caller.headers if caller else {}
        path, sent = endpoint.path(d), {**auth, **headers}
        if endpoint.method == "GET":
            return self.client.get(path, headers=sent)
        if endpoint.upload:
            return self.client.post(path, **evidence_files(PNG), headers=sent)
        body = endpoint.body(d, whose) if endpoint.body else None
        return self.client.post(path, json=body, headers=sent)

    def cell(self, endpoint: Endpoint, role: str, whose: str) -> int:
        expected = endpoint.expect[role][0 if whose == "own" else 1]
        caller = self.callers["own"][role]
        if endpoint.mutates(expected):
            response = self.call(endpoint, caller, self.fresh(endpoint.status, whose), whose)
            return int(response.status_code)
        d = self.shared(endpoint.status, whose)
        before = self.version(d)
        response = self.call(endpoint, caller, d, whose)
        if self.version(d) != before:
            self.forget(endpoint.status, whose)
            return -response.status_code  # changed a dispute it was expected to leave alone
        assert_problem_code(response)
        return int(response.status_code)


PROBLEM_CODES = {401: {"unauthorized"}, 403: {"role_not_allowed"}, 404: {"not_party"}}
PROBLEM_CODES[409] = {"invalid_transition", "dispute_exists", "not_claimant"}


def assert_problem_code(response: Any) -> None:
    if response.status_code < 400:
        return
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["code"] in PROBLEM_CODES[response.status_code], problem


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    settings = settings_for(
        "memory", Path(tmp_path_factory.mktemp("authz")), request, in_process_workers=True, stream_max_duration="PT0.2S"
    )
    with TestClient(build_api(settings)) as client:
        w = World(client)
        wait_until_ready(client)
        yield w


def wait_until_ready(client: TestClient) -> None:
    for _ in range(200):
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError("the read models never caught up")


def mounted(world: World) -> set[tuple[str, str]]:
    """Every (method, path) the API serves, as its OpenAPI document lists them."""
    paths = world.client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def skip_unless_mounted(world: World, endpoint: Endpoint) -> None:
    """Only the audit section may be missing (its router is written separately)."""
    if endpoint in AUDIT_ENDPOINTS and (endpoint.method, endpoint.route) not in mounted(world):
        pytest.skip(f"{endpoint.method} {endpoint.route} is not mounted yet")


# ------------------------------------------------------------------ the matrix
@pytest.mark.parametrize("endpoint", ALL, ids=str)
def test_each_role_gets_the_status_the_contract_gives_it(world: World, endpoint: Endpoint) -> None:
    skip_unless_mounted(world, endpoint)
    actual = {role: (world.cell(endpoint, role, "own"), world.cell(endpoint, role, "other")) for role in ROLES}
    assert actual == endpoint.expect


@pytest.mark.parametrize("endpoint", ALL, ids=str)
def test_every_bad_token_is_401_and_changes_nothing(world: World, endpoint: Endpoint) -> None:
    skip_unless_mounted(world, endpoint)
    d = world.shared(endpoint.status, "own")
    before = world.version(d)
    actual = {}
    for name, headers in bad_authorizations().items():
        response = world.call(endpoint, None, d, "own", **headers)
        assert_problem_code(response)
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        actual[name] = response.status_code
    assert actual == dict.fromkeys(bad_authorizations(), 401)
    assert world.version(d) == before


@pytest.mark.parametrize("endpoint", PUBLIC, ids=str)
def test_operations_endpoints_answer_anyone(world: World, endpoint: Endpoint) -> None:
    d = world.shared(endpoint.status, "own")
    statuses = {role: world.call(endpoint, world.callers["own"][role], d, "own").status_code for role in ROLES}
    statuses.update(
        {name: world.call(endpoint, None, d, "own", **h).status_code for name, h in bad_authorizations().items()}
    )
    assert set(statuses.values()) == {200}


def test_the_matrix_covers_every_route(world: World) -> None:
    covered = {(e.method, e.route) for e in ALL + PUBLIC} | WEBHOOK_ROUTES | ORDER_ROUTES
    assert mounted(world) - covered == set()


# ------------------------------------------------------------ what a cell implies
def test_a_missing_dispute_looks_like_someone_elses_to_buyers_and_sellers(world: World) -> None:
    missing = "/v1/disputes/00000000-0000-4000-8000-000000000000"
    codes = {role: world.callers["own"][role].get(missing).json()["code"] for role in ROLES}
    assert codes == {
        "buyer": "not_party",
        "seller": "not_party",
        "agent": "dispute_not_found",
        "auditor": "dispute_not_found",
        "analyst": "dispute_not_found",
        "platform": "dispute_not_found",
    }
    foreign = world.shared("awaiting_seller", "other")
    buyer = world.callers["own"]["buyer"]
    assert buyer.get(f"/v1/disputes/{foreign['id']}").json() == buyer.get(missing).json()


def test_lists_show_buyers_and_sellers_only_their_own_disputes(world: World) -> None:
    own, other = world.shared("awaiting_seller", "own"), world.shared("awaiting_seller", "other")
    seen = {}
    for role in ROLES:
        response = world.callers["own"][role].get("/v1/disputes?limit=200", x_min_position=str(head(world)))
        ids = {item["id"] for item in ok(response, 200)["items"]}
        seen[role] = (own["id"] in ids, other["id"] in ids)
    assert seen == {
        "buyer": (True, False),
        "seller": (True, False),
        "agent": (True, True),
        "auditor": (True, True),
        "analyst": (True, True),
        "platform": (True, True),
    }


def test_analysts_see_that_messages_exist_but_not_their_bodies(world: World) -> None:
    d = world.fresh("awaiting_seller", "own")
    ok(world.callers["own"]["buyer"].post(f"/v1/disputes/{d['id']}/messages", {"body": "it is broken"}), 201)
    read = ok(world.callers["own"]["analyst"].get(f"/v1/disputes/{d['id']}"), 200)
    assert [m["body"] for m in read["messages"]] == [None]
    assert read["allowed_actions"] == []


def head(world: World) -> int:
    services = world.client.app.state.services  # type: ignore[attr-defined]
    return int(services.app.recorder.max_notification_id() or 0)
