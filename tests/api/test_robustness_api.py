"""Valid but extreme requests are refused with a 4xx, never a 500; refused
uploads hold to the same idempotency contract as every other command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from service.settings import Settings
from support.api import PNG, SECRET, Parties, ok


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'disputes.sqlite'}",
        var_dir=tmp_path / "var",
        blob_dir=tmp_path / "blobs",
        jwt_secret=SECRET,
        in_process_workers=False,
    )
    with TestClient(build_api(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)


def test_a_long_but_valid_evidence_request_duration_is_a_4xx_not_a_500(parties: Parties) -> None:
    d = parties.in_status("under_review")
    response = parties.agent.post(
        f"/v1/disputes/{d['id']}/evidence-requests", {"party": "buyer", "note": "x", "due_in": "P3000000D"}
    )
    assert response.status_code < 500, response.text


def test_a_long_but_valid_deadline_extension_is_a_4xx_not_a_500(parties: Parties) -> None:
    d = parties.in_status("under_review")
    response = parties.agent.post(
        f"/v1/disputes/{d['id']}/deadline-extensions",
        {"deadline": "review_sla", "extend_by": "P3000000D", "reason": "courier strike"},
    )
    assert response.status_code < 500, response.text


def test_a_refused_upload_replays_its_refusal_even_once_it_would_succeed(client: TestClient, parties: Parties) -> None:
    """Same contract as a refused JSON command (test_api_idempotency): the key
    records the refusal, so a retry with the same key and file gets it again."""
    d = parties.in_status("under_review")
    services = client.app.state.services  # type: ignore[attr-defined]
    later = services.clock() + timedelta(days=8)  # past the P7D evidence window
    services.clock = lambda: later
    path = f"/v1/disputes/{d['id']}/evidence"
    refused = parties.buyer.upload(path, PNG, idempotency_key="ev-1")
    assert refused.status_code == 409 and refused.json()["code"] == "evidence_window_closed"
    ok(parties.agent.post(f"/v1/disputes/{d['id']}/evidence-requests", {"party": "buyer", "due_in": "P2D"}), 201)
    again = parties.buyer.upload(path, PNG, idempotency_key="ev-1")
    assert (again.status_code, again.json().get("code")) == (409, "evidence_window_closed"), again.text
