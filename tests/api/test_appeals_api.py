"""Appeals and agents' claims over HTTP, on SQLite and Postgres: the routes, their
problem codes, If-Match and Idempotency-Key, the list filters, and the
scheduler closing an unused appeal window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from domain.values import Role
from support.api import Caller, Parties, ok, usd
from support.stores import settings_for

RULING = {"outcome": "no_refund", "seller_at_fault": False, "rationale": "no damage shown"}
OVERTURN = {
    "decision": "overturned",
    "outcome": "refund_full",
    "refund": usd(2000),
    "seller_at_fault": True,
    "rationale": "the second photo shows the crack",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    settings = settings_for(
        request.param,
        tmp_path,
        request,
        in_process_workers=True,
        appeal_window=timedelta(seconds=3),
        scheduler_interval=timedelta(milliseconds=200),
    )
    with TestClient(build_api(settings)) as test_client:
        yield test_client


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)


@pytest.fixture
def other_agent(client: TestClient) -> Caller:
    return Caller(client, Role.AGENT, "b")


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def ruled(parties: Parties) -> dict[str, Any]:
    d = parties.in_status("under_review")
    return parties.act(parties.agent, d, "ruling", RULING)


def test_a_ruling_carries_its_appeal_window_and_either_party_may_appeal(parties: Parties) -> None:
    d = ruled(parties)
    outcome = d["outcome"]
    assert outcome["how"] == "ruling" and outcome["final"] is False
    assert outcome["appealable_until"] == d["deadlines"]["appeal_window"]
    for party in (parties.buyer, parties.seller):
        seen = ok(party.get(f"/v1/disputes/{d['id']}"), 200)
        assert "appeal" in seen["allowed_actions"]
    appealed = parties.act(parties.seller, d, "appeal", {"reason": "the tracking shows delivery"})
    assert (appealed["status"], appealed["party_to_act"]) == ("under_appeal", "agent")
    assert list(appealed["deadlines"]) == ["appeal_review"]
    assert appealed["appeal"]["appealed_by"] == {"id": "seller-1", "role": "seller"}
    assert appealed["appeal"]["decision"] is None
    assert appealed["closed_at"] is None


def test_the_appeal_is_decided_by_another_agent_and_the_outcome_is_final(
    parties: Parties, other_agent: Caller
) -> None:
    d = parties.act(parties.buyer, ruled(parties), "appeal", {"reason": "look at the photos"})
    url = f"/v1/disputes/{d['id']}/appeal-decision"
    assert "decide_appeal" not in parties.read(d["id"])["allowed_actions"]
    problem(parties.agent.post(url, {"decision": "upheld", "rationale": "stands"}), 409, "same_agent")
    problem(other_agent.post(url, {"decision": "overturned", "rationale": "x"}), 422, "outcome_required")
    problem(other_agent.post(url, {**OVERTURN, "decision": "upheld"}), 422, "invalid_value")
    partial = {**OVERTURN, "outcome": "refund_partial", "refund": usd(9999)}
    problem(other_agent.post(url, partial), 422, "refund_exceeds_order")
    problem(parties.buyer.post(url, OVERTURN), 403, "role_not_allowed")
    assert parties.read(d["id"])["version"] == d["version"], "refusals change nothing"

    resolved = ok(other_agent.post(url, OVERTURN), 200)
    assert resolved["status"] == "resolved"
    assert resolved["outcome"]["how"] == "appeal" and resolved["outcome"]["final"] is True
    assert (resolved["outcome"]["outcome"], resolved["outcome"]["refund"]) == ("refund_full", usd(2000))
    assert resolved["appeal"]["decision"] == "overturned" and resolved["appeal"]["decided_by"] == "b"
    problem(parties.seller.post(f"/v1/disputes/{d['id']}/appeal", {"reason": "again"}), 409, "invalid_transition")


def test_an_upheld_ruling_keeps_its_outcome(parties: Parties, other_agent: Caller) -> None:
    d = parties.act(parties.buyer, ruled(parties), "appeal", {"reason": "look at the photos"})
    resolved = parties.act(other_agent, d, "appeal-decision", {"decision": "upheld", "rationale": "it stands"})
    assert resolved["outcome"]["how"] == "appeal" and resolved["outcome"]["outcome"] == "no_refund"
    assert resolved["outcome"]["final"] is True and resolved["deadlines"] == {}


def test_only_rulings_are_appealed_and_an_appeal_needs_a_reason(parties: Parties) -> None:
    agreed = parties.open()
    agreed = parties.act(parties.seller, agreed, f"offers/{agreed['pending_offer']['id']}/accept", {"note": "ok"})
    assert agreed["outcome"]["final"] is True and agreed["outcome"]["appealable_until"] is None
    problem(parties.buyer.post(f"/v1/disputes/{agreed['id']}/appeal", {"reason": "hm"}), 409, "invalid_transition")
    d = ruled(parties)
    problem(parties.buyer.post(f"/v1/disputes/{d['id']}/appeal", {}), 422, "validation_error")
    problem(parties.agent.post(f"/v1/disputes/{d['id']}/appeal", {"reason": "x"}), 403, "role_not_allowed")


def test_under_appeal_parties_write_and_upload_but_offers_escalation_and_withdrawal_are_refused(
    parties: Parties,
) -> None:
    d = parties.act(parties.buyer, ruled(parties), "appeal", {"reason": "look at the photos"})
    base = f"/v1/disputes/{d['id']}"
    ok(parties.buyer.post(f"{base}/messages", {"body": "see the new photo"}), 201)
    ok(parties.agent.post(f"{base}/messages", {"body": "looking at it"}), 201)
    ok(parties.seller.upload(f"{base}/evidence"), 201)
    ok(parties.buyer.upload(f"{base}/evidence"), 201)
    offer = {"remedy": "partial_refund", "refund": usd(500), "note": ""}
    problem(parties.seller.post(f"{base}/offers", offer), 409, "invalid_transition")
    problem(parties.buyer.post(f"{base}/escalate", {"reason": "x"}), 409, "invalid_transition")
    problem(parties.buyer.post(f"{base}/withdraw", {"reason": "x"}), 409, "invalid_transition")
    assert parties.read(d["id"])["status"] == "under_appeal"


def test_appeal_commands_honour_if_match_and_idempotency_keys(parties: Parties, other_agent: Caller) -> None:
    d = ruled(parties)
    url = f"/v1/disputes/{d['id']}/appeal"
    problem(parties.buyer.post(url, {"reason": "x"}, if_match=f'"{d["version"] - 1}"'), 412, "version_conflict")
    first = parties.buyer.post(url, {"reason": "x"}, if_match=f'"{d["version"]}"', idempotency_key="appeal-1")
    assert first.status_code == 200, first.text
    again = parties.buyer.post(url, {"reason": "x"}, if_match=f'"{d["version"]}"', idempotency_key="appeal-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["version"] == first.json()["version"] == parties.read(d["id"])["version"]
    claim = f"/v1/disputes/{d['id']}/claim"
    claimed = other_agent.post(claim, None, idempotency_key="claim-1")
    assert claimed.status_code == 200 and claimed.json()["assigned_agent"] == "b"
    assert other_agent.post(claim, None, idempotency_key="claim-1").headers["Idempotent-Replayed"] == "true"


def test_agents_claim_take_over_with_a_reason_and_release(parties: Parties, other_agent: Caller) -> None:
    d = parties.in_status("under_review")
    base = f"/v1/disputes/{d['id']}"
    claimed = ok(parties.agent.post(f"{base}/claim"), 200)
    assert claimed["assigned_agent"] == "a" and "release" in claimed["allowed_actions"]
    assert ok(parties.buyer.get(base), 200)["assigned_agent"] is None, "parties never see who handles it"
    problem(other_agent.post(f"{base}/claim", {}), 409, "claimed_by_another_agent")
    problem(other_agent.post(f"{base}/claim", {"force": True}), 422, "invalid_value")
    problem(other_agent.post(f"{base}/release"), 409, "not_claimant")
    problem(parties.buyer.post(f"{base}/claim"), 403, "role_not_allowed")
    taken = ok(other_agent.post(f"{base}/claim", {"force": True, "reason": "a is on leave"}), 200)
    assert taken["assigned_agent"] == "b"
    released_response = other_agent.post(f"{base}/release", {"reason": "end of shift"})
    released = ok(released_response, 200)
    assert released["assigned_agent"] is None and "claim" in released["allowed_actions"]
    position = released_response.headers["X-Position"]

    def timeline(caller: Caller) -> list[dict[str, Any]]:
        return list(ok(caller.get(f"{base}/timeline", x_min_position=position), 200)["items"])

    staff = [e for e in timeline(parties.agent) if e["type"] in ("DisputeClaimed", "DisputeReleased")]
    assert [(e["type"], e["actor"]["id"]) for e in staff] == [
        ("DisputeClaimed", "a"),
        ("DisputeClaimed", "b"),
        ("DisputeReleased", "b"),
    ]
    assert staff[1]["data"] == {"previous_agent": "a", "forced": True, "reason": "a is on leave"}
    assert "took" not in staff[0]["summary"] and "taking it over from a" in staff[1]["summary"]
    for party in (parties.buyer, parties.seller):
        assert not {e["type"] for e in timeline(party)} & {"DisputeClaimed", "DisputeReleased"}
    open_dispute = parties.open()
    problem(parties.agent.post(f"/v1/disputes/{open_dispute['id']}/claim"), 409, "invalid_transition")


def test_the_list_filters_on_the_assigned_agent_and_on_unassigned(
    client: TestClient, parties: Parties, other_agent: Caller
) -> None:
    mine, theirs, nobodys = (parties.in_status("under_review") for _ in range(3))
    ok(parties.agent.post(f"/v1/disputes/{mine['id']}/claim"), 200)
    last = other_agent.post(f"/v1/disputes/{theirs['id']}/claim")
    position = last.headers["X-Position"]

    def listed(query: str, caller: Caller = parties.agent) -> list[str]:
        page = ok(caller.get(f"/v1/disputes?limit=200&{query}", x_min_position=position), 200)
        return [item["id"] for item in page["items"]]

    assert listed("assigned_agent=a") == [mine["id"]]
    assert listed("assigned_agent=b") == [theirs["id"]]
    unassigned = listed("unassigned=true&status=under_review")
    assert nobodys["id"] in unassigned and mine["id"] not in unassigned and theirs["id"] not in unassigned
    assert {mine["id"], theirs["id"], nobodys["id"]} <= set(listed("unassigned=false"))
    problem(parties.buyer.get("/v1/disputes?assigned_agent=a"), 403, "role_not_allowed")
    problem(parties.agent.get("/v1/disputes?assigned_agent=a&unassigned=true"), 422, "invalid_value")


def test_the_scheduler_makes_an_unappealed_ruling_final_once(parties: Parties) -> None:
    d = ruled(parties)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = parties.read(d["id"])
        if current["outcome"]["final"]:
            break
        time.sleep(0.2)
    assert current["outcome"]["final"] is True and current["outcome"]["appealable_until"] is None
    assert current["deadlines"] == {} and current["allowed_actions"] == []
    problem(parties.buyer.post(f"/v1/disputes/{d['id']}/appeal", {"reason": "late"}), 409, "invalid_transition")
    time.sleep(0.6)  # a few more scheduler ticks: nothing more happens
    history = ok(parties.agent.get(f"/v1/disputes/{d['id']}/history?limit=200"), 200)
    types = [e["type"] for e in history["items"]]
    assert types.count("AppealWindowClosed") == 1 and types[-1] == "AppealWindowClosed"


def test_the_event_feed_shows_claims_to_staff_only(parties: Parties) -> None:
    d = parties.in_status("under_review")
    ok(parties.agent.post(f"/v1/disputes/{d['id']}/claim"), 200)
    appealed = parties.act(parties.seller, parties.act(parties.agent, d, "ruling", RULING), "appeal", {"reason": "x"})
    assert appealed["status"] == "under_appeal"

    def types(caller: Caller) -> list[str]:
        page = ok(caller.get(f"/v1/events?dispute_id={d['id']}&limit=200"), 200)
        return [item["type"] for item in page["items"]]

    assert types(parties.agent)[-3:] == ["DisputeClaimed", "DisputeResolved", "DisputeAppealed"]
    for party in (parties.buyer, parties.seller):
        seen = types(party)
        assert "DisputeClaimed" not in seen and seen[-2:] == ["DisputeResolved", "DisputeAppealed"]
