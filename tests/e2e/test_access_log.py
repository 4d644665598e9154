"""The server as a real process logs JSON lines, its access log included:
each request's line has its id, route, status, actor and dispute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.auth import mint
from domain.values import Role
from support.api import opening
from support.live_server import LiveServer
from support.stores import settings_for

pytestmark = [pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    live = LiveServer(settings_for("sqlite", tmp_path, request), tmp_path)
    live.start()
    yield live
    live.stop()


def access_lines(server: LiveServer) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "uvicorn.access"]


def test_access_log_lines_carry_request_id_route_status_actor_and_dispute(server: LiveServer) -> None:
    secret = server.settings.jwt_secret
    assert secret is not None
    buyer = {"Authorization": f"Bearer {mint(secret, Role.BUYER, 'buyer-9')}"}
    opened = httpx.post(
        f"{server.url}/v1/disputes", json=opening("seller-1"), headers={**buyer, "X-Request-ID": "open-1"}
    )
    assert opened.status_code == 201 and opened.headers["X-Request-ID"] == "open-1"
    missing = str(uuid4())
    httpx.get(f"{server.url}/v1/disputes/{missing}", headers={**buyer, "X-Request-ID": "read-1"})
    httpx.get(f"{server.url}/docs", headers={"X-Request-ID": "docs-1"})
    server.stop()  # flush

    by_id = {line["request_id"]: line for line in access_lines(server)}
    assert by_id["open-1"]["route"] == "/v1/disputes" and by_id["open-1"]["status"] == 201
    assert (by_id["open-1"]["actor"], by_id["open-1"]["dispute_id"]) == ("buyer-9", opened.json()["id"])
    read = by_id["read-1"]
    assert (read["route"], read["status"], read["dispute_id"]) == ("/v1/disputes/{dispute_id}", 404, missing)
    assert (read["method"], read["path"], read["event"]) == ("GET", f"/v1/disputes/{missing}", "request")
    assert by_id["docs-1"]["route"] == "/docs"
    for line in by_id.values():
        assert {"time", "level", "logger", "process"} <= set(line)
