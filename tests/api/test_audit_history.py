"""A dispute's raw history (every stored event with its metadata, position and
chain hash), who may read it, and the offline replay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.dispute import dispute_id_for
from domain.values import Role
from service.settings import Settings
from support.audit import as_actor, client, headers, long_dispute, run_cli, services
from support.builders import BUYER, OTHER_BUYER, SELLER, Scenario
from support.stores import settings_for

METADATA_KEYS = {"timestamp", "actor_id", "actor_role", "request_id", "idempotency_key", "chain_hash"}


def test_history_lists_every_event_with_its_metadata_position_and_chain_hash(settings: Settings) -> None:
    with client(settings) as c:
        app = services(c).app
        recorded: list[dict[str, Any]] = []

        def remember(s: Scenario) -> None:
            dispute = app.dispute(s.id)
            position = app.recorder.max_notification_id()
            recorded.append({"position": position, "chain_hash": dispute.chain_hash, "at": s.clock.now})

        s = long_dispute(app, remember)
        response = c.get(f"/v1/disputes/{s.id}/history", headers=headers(settings))
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    entries = body["items"]
    assert [e["version"] for e in entries] == list(range(1, 15))
    assert [e["position"] for e in entries] == [r["position"] for r in recorded]
    assert [e["chain_hash"] for e in entries] == [r["chain_hash"] for r in recorded]
    assert [e["occurred_at"] for e in entries] == [r["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ") for r in recorded]
    assert entries[0]["type"] == "DisputeOpened"
    assert entries[0]["actor"] == {"id": BUYER.id, "role": "buyer"}
    assert entries[2]["idempotency_key"] == "ev-1"
    assert entries[13]["type"] == "DisputeResolved"
    assert entries[13]["actor"]["role"] == "agent"
    assert all(e["request_id"].startswith("req-") and e["readable"] for e in entries)
    assert not any(METADATA_KEYS & set(e["data"]) for e in entries)
    assert entries[1]["data"]["body"] == "it came in pieces"


def test_history_pages_follow_the_cursor_to_the_end(tmp_path: Any, request: pytest.FixtureRequest) -> None:
    settings = settings_for("sqlite", tmp_path, request)
    with client(settings) as c:
        s = long_dispute(services(c).app)
        versions, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 5} | ({"cursor": cursor} if cursor else {})
            page = c.get(f"/v1/disputes/{s.id}/history", params=params, headers=headers(settings)).json()
            versions.append([e["version"] for e in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad = c.get(f"/v1/disputes/{s.id}/history", params={"cursor": "not-ours"}, headers=headers(settings))
    assert versions == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14]]
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")


def test_only_agents_and_auditors_read_history_and_only_auditors_verify(
    tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    settings = settings_for("sqlite", tmp_path, request)
    with client(settings) as c:
        s = Scenario(services(c).app).open()
        history, verify = f"/v1/disputes/{s.id}/history", f"/v1/disputes/{s.id}/verify"
        assert c.get(history, headers=headers(settings, Role.AGENT)).status_code == 200
        assert c.get(history, headers=headers(settings)).status_code == 200
        assert c.get(verify, headers=headers(settings)).status_code == 200
        for who, status in ((BUYER, 403), (SELLER, 403), (OTHER_BUYER, 404)):
            assert c.get(history, headers=as_actor(settings, who)).status_code == status, who
            assert c.get(verify, headers=as_actor(settings, who)).status_code == status, who
        assert c.get(history, headers=headers(settings, Role.ANALYST)).status_code == 403
        denied = c.get(verify, headers=headers(settings, Role.AGENT))
        assert (denied.status_code, denied.json()["code"]) == (403, "role_not_allowed")
        assert c.get(history).status_code == 401
        unknown = dispute_id_for("no-such-order")
        for url in (f"/v1/disputes/{unknown}/history", f"/v1/disputes/{unknown}/verify"):
            missing = c.get(url, headers=headers(settings))
            assert (missing.status_code, missing.json()["code"]) == (404, "dispute_not_found")


def test_replay_prints_each_event_and_the_state_after_it(tmp_path: Any, request: pytest.FixtureRequest) -> None:
    settings = settings_for("sqlite", tmp_path, request)
    with client(settings) as c:
        app = services(c).app
        statuses: list[str] = []
        s = long_dispute(app, lambda s: statuses.append(app.dispute(s.id).status.value))
    replayed = run_cli(settings, "replay", "--json", str(s.id))
    assert replayed.exit_code == 0, replayed.output
    lines = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert [line["event"]["version"] for line in lines] == list(range(1, 15))
    assert [line["state"]["version"] for line in lines] == list(range(1, 15))
    assert [line["state"]["status"] for line in lines] == statuses
    assert lines[-1]["state"]["outcome"]["outcome"] == "refund_partial"
    text = run_cli(settings, "replay", str(s.id))
    assert text.exit_code == 0
    assert text.stdout.startswith("v1 DisputeOpened at ")
    assert text.stdout.count("\n  state {") == 14
    assert run_cli(settings, "replay", str(dispute_id_for("nope"))).exit_code == 2
