"""A small HTTP driver for end-to-end deadline tests: the real app, its
in-process scheduler and second-long windows, driven through the public API."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from api.auth import mint
from bootstrap import Services
from domain.events import DeadlinePassed, DisputeEvent
from domain.values import Actor
from support.builders import AGENT, BUYER, SELLER

SECOND = timedelta(seconds=1)
WINDOW = timedelta(seconds=2)
"""The windows under test: long enough that LEAD leaves time to open the dispute first."""
TICK = timedelta(milliseconds=100)
LEAD = timedelta(seconds=1)
"""How long before a deadline 'just before' is: many times a command's latency,
also when a loaded machine makes a command take several hundred milliseconds."""
SETTLE = timedelta(milliseconds=600)
"""How long past a due time a scheduler ticking every TICK has surely acted."""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def money(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class DeadlineApi:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.services: Services = client.app.state.services  # type: ignore[attr-defined]
        secret = self.services.jwt_secret
        self.tokens = {a: mint(secret, a.role, a.id) for a in (BUYER, SELLER, AGENT)}

    def call(self, actor: Actor, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        response = self.client.post(path, json=body or {}, headers=self._auth(actor))
        assert response.status_code == expect, response.text
        return response.json()

    def open(self, remedy: str = "refund_only", refund: int | None = 2000) -> dict[str, Any]:
        body = {
            "order_id": f"order-{uuid.uuid4().hex[:12]}",
            "seller_id": SELLER.id,
            "reason": "damaged",
            "remedy": remedy,
            "refund": money(refund) if refund else None,
            "order_amount": money(2000),
            "description": "arrived broken",
        }
        return self.call(BUYER, "/v1/disputes", body, expect=201)  # type: ignore[no-any-return]

    def act(self, actor: Actor, dispute: dict[str, Any], action: str, body: dict[str, Any] | None = None) -> Any:
        return self.call(actor, f"/v1/disputes/{dispute['id']}/{action}", body)

    def accept_pending(self, actor: Actor, dispute: dict[str, Any]) -> dict[str, Any]:
        offer_id = self.get(dispute)["pending_offer"]["id"]
        return self.act(actor, dispute, f"offers/{offer_id}/accept")  # type: ignore[no-any-return]

    def submit_evidence(self, actor: Actor, dispute: dict[str, Any]) -> Any:
        return self.client.post(
            f"/v1/disputes/{dispute['id']}/evidence",
            files={"file": ("photo.png", PNG, "image/png")},
            data={"kind": "photo", "description": "the damage"},
            headers=self._auth(actor),
        )

    def get(self, dispute: dict[str, Any]) -> dict[str, Any]:
        response = self.client.get(f"/v1/disputes/{dispute['id']}", headers=self._auth(AGENT))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def due(self, dispute: dict[str, Any], deadline: str) -> datetime:
        return at(self.get(dispute)["deadlines"][deadline])

    def events(self, dispute: dict[str, Any]) -> list[DisputeEvent]:
        """The dispute's events, from the event store itself."""
        return list(self.services.app.repository.event_store.get(UUID(dispute["id"])))

    def types(self, dispute: dict[str, Any]) -> list[str]:
        return [type(e).__name__ for e in self.events(dispute)]

    def wait_for_event(self, dispute: dict[str, Any], event_type: str, timeout: float = 6.0) -> DisputeEvent:
        stop = time.monotonic() + timeout
        while time.monotonic() < stop:
            found = [e for e in self.events(dispute) if type(e).__name__ == event_type]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} within {timeout}s; events: {self.types(dispute)}")

    def _auth(self, actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"}


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def assert_expired_by_the_system_on_time(event: DisputeEvent) -> None:
    assert isinstance(event, DeadlinePassed)
    assert (event.actor_role, event.actor_id) == ("system", "scheduler")
    assert event.timestamp >= event.due_at, "never before its due time"
    assert event.timestamp - event.due_at < timedelta(seconds=5)
