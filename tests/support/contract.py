"""Helpers for the contract checks: the app built in-process the way an outside
acceptance check would build it, tokens minted with api.auth.mint."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.auth import mint
from domain.values import Role
from service.settings import Settings
from support.stores import UNLIMITED

SECRET = "x" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp}/d.sqlite",
        "env": "test",
        "jwt_secret": SECRET,
        **UNLIMITED,
        "var_dir": str(tmp),
        "blob_dir": f"{tmp}/b",
        "in_process_workers": True,
    }
    values.update(overrides)
    return Settings(**values)


def auth(role: str, sub: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SECRET, Role(role), sub)}", **extra}


def usd(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD"}


BUYER = auth("buyer", "buyer-1")
SELLER = auth("seller", "seller-1")
AGENT = auth("agent", "agent-1")
AUDITOR = auth("auditor", "auditor-1")
ANALYST = auth("analyst", "analyst-1")


def open_dispute(client: TestClient, seller: str = "seller-1", remedy: str = "refund_only") -> dict[str, Any]:
    body = {
        "order_id": str(uuid.uuid4()),
        "seller_id": seller,
        "reason": "damaged",
        "remedy": remedy,
        "refund": None if remedy == "replacement" else usd(1500),
        "order_amount": usd(2000),
        "description": "arrived broken",
    }
    r = client.post("/v1/disputes", json=body, headers=BUYER)
    assert r.status_code == 201, r.text
    return r.json()


def under_review(client: TestClient, seller: str = "seller-1") -> dict[str, Any]:
    d = open_dispute(client, seller)
    r = client.post(
        f"/v1/disputes/{d['id']}/offers",
        json={"remedy": "partial_refund", "refund": usd(800), "note": "half"},
        headers=auth("seller", seller),
    )
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/disputes/{d['id']}/escalate", json={"reason": "no deal"}, headers=BUYER)
    assert r.status_code == 200, r.text
    return r.json()
