"""Contract checks: the app as an outside acceptance check builds it in-process."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bootstrap import build_api
from support.contract import BUYER, settings_for, usd


def test_app_answers_without_entering_the_lifespan(tmp_path: Path) -> None:
    """A host that never runs the lifespan (`TestClient(app)` without `with`)
    still gets a working API: the services start on the first request."""
    client = TestClient(build_api(settings_for(tmp_path)), raise_server_exceptions=False)
    body = {
        "order_id": "order-harness",
        "seller_id": "seller-1",
        "reason": "damaged",
        "remedy": "replacement",
        "order_amount": usd(2000),
    }
    r = client.post("/v1/disputes", json=body, headers=BUYER)
    assert r.status_code == 201, r.text
