"""Idempotency across a crash: the server runs as a real process that dies
between a command's commit and its response (DISPUTES_FAULT_INJECTION); the
client's retry with the same Idempotency-Key gets the original result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bootstrap import build_app
from domain.values import Role
from service.settings import Settings
from support.api import PNG, Caller, ok, opening, usd_offer
from support.live_server import LiveServer
from support.stores import settings_for

# ------------------------------------------------- a crash between commit and response
DURABLE = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DURABLE)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(settings_for(request.param, tmp_path, request), tmp_path)
    yield live
    live.stop()


def stored_events(settings: Settings) -> int:
    app = build_app(settings)
    try:
        return len(app.recorder.select_notifications(start=1, limit=1_000_000))
    finally:
        app.close()


def crash_on(server: LiveServer, send: Any) -> None:
    """Send one command to a server that dies once it has committed it."""
    server.start(fault_injection="crash_after_commit")
    with pytest.raises(httpx.TransportError):
        send()
    assert server.exit_code() == 137, server.log()
    assert "fault injection: exiting after request" in server.log()


@pytest.mark.slow
def test_a_retry_after_a_crash_between_commit_and_response_gets_the_original_result(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=10)
    buyer, seller = Caller(http, Role.BUYER, "buyer-1"), Caller(http, Role.SELLER, "seller-1")
    agent = Caller(http, Role.AGENT, "agent-1")
    body = opening("seller-1")

    crash_on(server, lambda: buyer.post("/v1/disputes", body, idempotency_key="open-1"))
    assert stored_events(server.settings) == 1, "the command committed before the crash"
    server.start()
    retry = buyer.post("/v1/disputes", body, idempotency_key="open-1")
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    opened = retry.json()
    assert (opened["version"], opened["status"], opened["order_id"]) == (1, "awaiting_seller", body["order_id"])
    assert (retry.headers["ETag"], retry.headers["Location"]) == ('"1"', f"/v1/disputes/{opened['id']}")
    assert stored_events(server.settings) == 1
    server.stop()

    offers = f"/v1/disputes/{opened['id']}/offers"
    crash_on(server, lambda: seller.post(offers, usd_offer(900), idempotency_key="counter-1"))
    server.start()
    retry = seller.post(offers, usd_offer(900), idempotency_key="counter-1")
    assert retry.status_code == 201 and retry.headers["ETag"] == '"2"'
    assert (retry.json()["status"], retry.json()["refund"]["amount_minor"]) == ("pending", 900)
    assert retry.content == seller.post(offers, usd_offer(900), idempotency_key="counter-1").content
    assert stored_events(server.settings) == 2
    assert [o["status"] for o in ok(agent.get(f"/v1/disputes/{opened['id']}"), 200)["offers"]] == [
        "superseded",
        "pending",
    ]


@pytest.mark.slow
def test_a_retried_upload_after_a_crash_records_the_evidence_once(server: LiveServer) -> None:
    http = httpx.Client(base_url=server.url, timeout=10)
    buyer, agent = Caller(http, Role.BUYER, "buyer-1"), Caller(http, Role.AGENT, "agent-1")
    server.start()
    opened = ok(buyer.post("/v1/disputes", opening("seller-1")), 201)
    server.stop()

    evidence = f"/v1/disputes/{opened['id']}/evidence"
    crash_on(server, lambda: buyer.upload(evidence, PNG, idempotency_key="photo-1"))
    server.start()
    retry = buyer.upload(evidence, PNG, idempotency_key="photo-1")
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert (retry.json()["media_type"], retry.json()["size"]) == ("image/png", len(PNG))
    assert stored_events(server.settings) == 2
    assert [e["id"] for e in ok(agent.get(f"/v1/disputes/{opened['id']}"), 200)["evidence"]] == [retry.json()["id"]]
    assert agent.get(retry.headers["Location"]).content == PNG


def test_fault_injection_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="refused outside dev and test"):
        Settings(env="production", jwt_secret="x" * 40, fault_injection="crash_after_commit")
