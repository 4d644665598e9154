"""Disputes for the console's browser tests, made through the public HTTP API of a
live server (tokens from its dev-only route), so the console shows real states."""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script>'
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png(width: int = 24, height: int = 16) -> bytes:
    """A real (decodable) PNG: a blue rectangle."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x24\x58\xa6" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Api:
    """The live server, as one caller after another."""

    url: str
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, role: str, sub: str) -> str:
        if (role, sub) not in self.tokens:
            minted = httpx.post(f"{self.url}/v1/dev/tokens", json={"role": role, "sub": sub}, timeout=10)
            assert minted.status_code == 200, minted.text
            self.tokens[role, sub] = minted.json()["token"]
        return self.tokens[role, sub]

    def call(self, role: str, sub: str, method: str, path: str, **kw: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(role, sub)}"}
        answer = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kw)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else {}

    def open(self, buyer: str, seller: str, order: str, reason: str = "damaged") -> dict[str, Any]:
        body = {
            "order_id": order,
            "seller_id": seller,
            "reason": reason,
            "remedy": "refund_only",
            "refund": {"amount_minor": 1500, "currency": "USD"},
            "order_amount": {"amount_minor": 2000, "currency": "USD"},
            "description": "arrived broken",
        }
        return self.call("buyer", buyer, "POST", "/v1/disputes", json=body)

    def wait_until_ready(self, timeout: float = 20) -> None:
        """Until every read model has caught up (the console's lists read them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                return
            time.sleep(0.1)
        raise AssertionError("the read models did not catch up")


@dataclass
class Seeded:
    agreed: str  # resolved by agreement
    reviewed: str  # escalated, with evidence, a hostile message and an evidence request


def seed(api: Api) -> Seeded:
    agreed = api.open("buyer-1", "seller-1", "order-agreed")["id"]
    offer = api.call(
        "seller",
        "seller-1",
        "POST",
        f"/v1/disputes/{agreed}/offers",
        json={"remedy": "partial_refund", "refund": {"amount_minor": 1000, "currency": "USD"}, "note": "half"},
    )
    api.call("buyer", "buyer-1", "POST", f"/v1/disputes/{agreed}/offers/{offer['id']}/accept", json={})
    reviewed = api.open("buyer-1", "seller-2", "order-reviewed", reason="not_as_described")["id"]
    base = f"/v1/disputes/{reviewed}"
    api.call("buyer", "buyer-1", "POST", f"{base}/messages", json={"body": HOSTILE})
    for name, data, kind in (("photo.png", png(), "photo"), ("receipt.pdf", PDF, "receipt")):
        api.call("buyer", "buyer-1", "POST", f"{base}/evidence", files={"file": (name, data)}, data={"kind": kind})
    counter = {"remedy": "replacement", "note": "we can send another"}
    api.call("seller", "seller-2", "POST", f"{base}/offers", json=counter)
    api.call("buyer", "buyer-1", "POST", f"{base}/escalate", json={"reason": "I want my money back"})
    api.call("agent", "agent-1", "POST", f"{base}/evidence-requests", json={"party": "seller", "due_in": "P3D"})
    api.wait_until_ready()
    return Seeded(agreed, reviewed)
