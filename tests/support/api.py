"""HTTP helpers shared by the API contract tests (authorization matrix,
idempotency, fuzzing): tokens, callers and disputes driven into a status."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt

from api.auth import mint
from domain.values import Role

SECRET = "test-secret-0123456789abcdef0123456789"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 8
BIDI_SUB = "buyer\u202e1"  # a right-to-left override: shows as "buyer1", is another id


class Client(Protocol):
    """What a Starlette TestClient, an httpx.Client and schemathesis's ASGI session share."""

    def get(self, url: str, **kw: Any) -> Any: ...

    def post(self, url: str, **kw: Any) -> Any: ...


def bearer(role: Role, sub: str, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(secret, role, sub)}"}


def _claims(role: str = "buyer", sub: str = "buyer-1", expires_in: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": sub, "role": role, "iat": now, "exp": now + expires_in}


def unsigned_token() -> str:
    """A token with `alg: none` and no signature (must never be accepted)."""

    def part(document: dict[str, Any]) -> str:
        raw = json.dumps(document, default=lambda t: int(t.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(_claims())}."


def bad_authorizations(secret: str = SECRET) -> dict[str, dict[str, str]]:
    """Every way a caller can fail to authenticate, by name: all are 401."""
    claims = _claims()
    return {
        "no token": {},
        "not bearer": {"Authorization": "Basic YnV5ZXItMTpwYXNzd29yZA=="},
        "empty bearer": {"Authorization": "Bearer "},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "wrong signature": {"Authorization": f"Bearer {jwt.encode(claims, 'another-secret-' * 3, 'HS256')}"},
        "alg none": {"Authorization": f"Bearer {unsigned_token()}"},
        "expired": {"Authorization": f"Bearer {mint(secret, Role.BUYER, 'buyer-1', timedelta(minutes=-5))}"},
        "unknown role": {"Authorization": f"Bearer {jwt.encode(_claims(role='system'), secret, 'HS256')}"},
        "no exp": {"Authorization": f"Bearer {jwt.encode({'sub': 'buyer-1', 'role': 'buyer'}, secret, 'HS256')}"},
        "empty sub": {"Authorization": f"Bearer {jwt.encode(_claims(sub=''), secret, 'HS256')}"},
        "blank sub": {"Authorization": f"Bearer {jwt.encode(_claims(sub='   '), secret, 'HS256')}"},
        "bidi sub": {"Authorization": f"Bearer {jwt.encode(_claims(sub=BIDI_SUB), secret, 'HS256')}"},
        "role list": {"Authorization": f"Bearer {jwt.encode({**claims, 'role': ['buyer']}, secret, 'HS256')}"},
        "role object": {"Authorization": f"Bearer {jwt.encode({**claims, 'role': {'buyer': 1}}, secret, 'HS256')}"},
    }


def usd(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD"}


def opening(seller_id: str, order_id: str | None = None, remedy: str = "refund_only") -> dict[str, Any]:
    return {
        "order_id": order_id or f"order-{uuid.uuid4().hex[:12]}",
        "seller_id": seller_id,
        "reason": "damaged",
        "remedy": remedy,
        "refund": None if remedy == "replacement" else usd(1500),
        "order_amount": usd(2000),
        "description": "arrived broken",
    }


def evidence_files(content: bytes = PNG, kind: str = "photo") -> dict[str, Any]:
    return {
        "files": {"file": ("photo.png", content, "application/octet-stream")},
        "data": {"kind": kind, "description": "the box"},
    }


class Caller:
    """One authenticated caller of the API."""

    def __init__(self, client: Client, role: Role, sub: str, secret: str = SECRET) -> None:
        self.client, self.role, self.id = client, role, sub
        self.headers = bearer(role, sub, secret)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(path, json=body, headers={**self.headers, **_header_names(headers)})

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(path, headers={**self.headers, **_header_names(headers)})

    def upload(self, path: str, content: bytes = PNG, **headers: str) -> Any:
        return self.client.post(path, **evidence_files(content), headers={**self.headers, **_header_names(headers)})


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    """Python keyword names to header names: idempotency_key -> Idempotency-Key."""
    return {"-".join(p.capitalize() for p in name.split("_")): v for name, v in headers.items()}


def ok(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


class Parties:
    """A buyer, a seller and an agent who drive disputes into a status over HTTP."""

    def __init__(self, buyer: Caller, seller: Caller, agent: Caller) -> None:
        self.buyer, self.seller, self.agent = buyer, seller, agent

    @classmethod
    def on(cls, client: Any) -> Parties:
        """buyer-1, seller-1 and an agent, calling through `client`."""
        return cls(Caller(client, Role.BUYER, "buyer-1"), Caller(client, Role.SELLER, "seller-1"),
                   Caller(client, Role.AGENT, "a"))  # fmt: skip

    def open(self, remedy: str = "refund_only") -> dict[str, Any]:
        return ok(self.buyer.post("/v1/disputes", opening(self.seller.id, remedy=remedy)), 201)

    def in_status(self, status: str) -> dict[str, Any]:
        """A fresh dispute brought into `status` by the shortest legal path (`ruled`:
        resolved by a ruling still open to appeal; another agent than ours ruled)."""
        if status in ("awaiting_return", "return_in_transit"):
            d = self.open("return_and_refund")
            d = self.act(self.seller, d, f"offers/{d['pending_offer']['id']}/accept", {"note": "send it back"})
            if status == "return_in_transit":
                d = self.act(self.buyer, d, "return-shipment", {"carrier": "UPS", "tracking_number": "1Z999"})
            return d
        d = self.open()
        if status == "awaiting_seller":
            return d
        offer = ok(self.seller.post(f"/v1/disputes/{d['id']}/offers", usd_offer(800)), 201)
        assert offer["status"] == "pending"
        if status == "negotiating":
            return self.read(d["id"])
        if status == "under_review":
            return self.act(self.buyer, d, "escalate", {"reason": "no agreement"})
        if status in ("ruled", "under_appeal"):
            d = self.act(self.buyer, d, "escalate", {"reason": "no agreement"})
            ruling_agent = Caller(self.agent.client, Role.AGENT, f"{self.agent.id}-who-ruled")
            ruling = {"outcome": "no_refund", "seller_at_fault": False, "rationale": "no damage shown"}
            d = self.act(ruling_agent, d, "ruling", ruling)
            if status == "under_appeal":
                d = self.act(self.buyer, d, "appeal", {"reason": "the photos show the damage"})
            return d
        if status == "resolved":
            d = self.read(d["id"])
            return self.act(self.buyer, d, f"offers/{d['pending_offer']['id']}/accept", {"note": "fine"})
        if status == "withdrawn":
            return self.act(self.buyer, d, "withdraw", {"reason": "sorted"})
        raise AssertionError(f"no path to {status}")

    def act(self, caller: Caller, dispute: dict[str, Any], command: str, body: Any) -> dict[str, Any]:
        return ok(caller.post(f"/v1/disputes/{dispute['id']}/{command}", body), 200)

    def read(self, dispute_id: str) -> dict[str, Any]:
        return ok(self.agent.get(f"/v1/disputes/{dispute_id}"), 200)


def usd_offer(amount_minor: int, note: str = "half?") -> dict[str, Any]:
    return {"remedy": "partial_refund", "refund": usd(amount_minor), "note": note}


def head(client: Any) -> int:
    """The event store's last position behind an in-process test client (0 when empty)."""
    return int(client.app.state.services.app.recorder.max_notification_id() or 0)
