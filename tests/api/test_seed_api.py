"""`disputes seed` as a user runs it, read back through the API on SQLite and
Postgres: every reason, remedy, outcome and terminal status, evidence of each
kind, escalations, rulings, withdrawals and expiries by the system actor, and
read models (the list, statistics per week, seller scores) spread over the
months simulated. The same --seed and --end give the same disputes."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bootstrap import build_api
from cli.main import cli
from domain import events as ev
from domain.values import EvidenceKind, Outcome, Reason, Remedy, ResolvedHow, Role, Status
from service.settings import Settings
from support.api import bearer
from support.stores import settings_for

END = "2026-06-30T12:00:00+00:00"
WEEK = timedelta(days=7)
AGENT = bearer(Role.AGENT, "agent-reader")
EXPIRIES = {cls.__name__ for cls in ev.DEADLINE_EVENTS.values()}
APPEALS_AND_CLAIMS = {"DisputeAppealed", "AppealDecided", "DisputeClaimed", "DisputeReleased"}


def seed(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """Run `disputes seed` with the test's store as its DISPUTES_* environment."""
    use_store(settings, monkeypatch)
    result = CliRunner().invoke(cli, ["seed", "--end", END, *args])
    assert result.exit_code == 0, result.output
    return result


def use_store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's store and the settings seeding depends on, as DISPUTES_* variables."""
    for name in [n for n in os.environ if n.startswith("DISPUTES_")]:
        monkeypatch.delenv(name)
    env = {
        "ENV": settings.env,
        "DATABASE_URL": settings.database_url,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "VAR_DIR": str(settings.var_dir),
        "BLOB_DIR": str(settings.blob_dir),
        "JWT_SECRET": settings.jwt_secret,
        "SNAPSHOT_INTERVAL": str(settings.snapshot_interval),
        "REQUIRE_KNOWN_ORDERS": str(settings.require_known_orders).lower(),
    }
    for name, value in env.items():
        monkeypatch.setenv(f"DISPUTES_{name}", value)


def every(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = client.get(
            url, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})}, headers=AGENT
        )
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_seeded_disputes_show_every_course_through_the_api(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(backend, tmp_path, request)
    said = seed(settings, monkeypatch, "--disputes", "160", "--months", "6", "--seed", "11").output
    assert "seeded 160 disputes (0 already there)" in said
    with TestClient(build_api(settings)) as client:
        disputes = every(client, "/v1/disputes")
        assert len(disputes) == 160
        assert {d["reason"] for d in disputes} == set(Reason)
        assert {d["requested_remedy"] for d in disputes} == set(Remedy)
        statuses = Counter(d["status"] for d in disputes)
        assert {Status.RESOLVED, Status.WITHDRAWN} <= set(statuses), statuses
        outcomes = [d["outcome"] for d in disputes if d["outcome"]]
        assert {o["how"] for o in outcomes} == set(ResolvedHow), "agreements, rulings, deadlines, appeals"
        assert {o["outcome"] for o in outcomes} == set(Outcome)
        assert any(o["how"] == "ruling" and o["rationale"] for o in outcomes)
        assert sum(d["escalated"] for d in disputes) >= 10
        assert any(d["return_shipment"] for d in disputes) and any(d["evidence_requests"] for d in disputes)
        assert sum(len(d["messages"]) for d in disputes) >= 50
        countered = [d for d in disputes if any(o["status"] == "rejected" for o in d["offers"])]
        assert len(countered) >= 10, "offers, counter-offers and rejections"

        evidence = {e["kind"]: (d["id"], e) for d in disputes for e in d["evidence"]}
        assert set(evidence) == set(EvidenceKind) - {EvidenceKind.VIDEO}
        for kind, (dispute_id, item) in evidence.items():
            content = client.get(f"/v1/disputes/{dispute_id}/evidence/{item['id']}/content", headers=AGENT)
            assert content.status_code == 200 and len(content.content) == item["size"]
            magic = b"\x89PNG" if kind in ("photo", "screenshot") else b"%PDF-"
            assert content.content.startswith(magic)
            assert hashlib.sha256(content.content).hexdigest() == item["sha256"]

        expiries: set[str] = set()
        staff: Counter[str] = Counter()
        for d in disputes:
            for entry in every(client, f"/v1/disputes/{d['id']}/timeline"):
                if entry["type"] in EXPIRIES:
                    assert entry["actor"]["role"] == "system"
                    expiries.add(entry["type"])
                if entry["type"] in APPEALS_AND_CLAIMS:
                    staff[entry["type"]] += 1
        assert expiries == EXPIRIES, "every kind of deadline expired by the system actor"
        assert set(staff) == APPEALS_AND_CLAIMS and staff["DisputeClaimed"] >= 10, staff
        appealed = [d for d in disputes if d["outcome"] and d["outcome"]["how"] == "appeal"]
        assert len(appealed) >= 2, "rulings upheld or overturned on appeal"

        # Spread over the months: the list, statistics per week, seller scores.
        end = datetime.fromisoformat(END)
        opened = Counter(datetime.fromisoformat(d["opened_at"]).strftime("%Y-%m") for d in disputes)
        assert len(opened) >= 6 and min(opened.values()) >= 5, opened
        weekly = []
        for week in range(26):
            since, until = end - (26 - week) * WEEK, end - (25 - week) * WEEK
            stats = client.get(
                "/v1/stats/disputes",
                params={"group_by": "status", "since": since.isoformat(), "until": until.isoformat()},
                headers=AGENT,
            )
            assert stats.status_code == 200, stats.text
            weekly.append(sum(g["count"] for g in stats.json()["groups"]))
        assert sum(weekly) >= 150 and sum(1 for n in weekly if n) >= 22, weekly
        assert sum(weekly[13:]) > sum(weekly[:13]), "the marketplace grows: more disputes lately"

        scores = {}
        for months_back in (0, 2, 4):
            as_of = (end - timedelta(days=30 * months_back)).isoformat()
            ranking = every(client, "/v1/sellers", as_of=as_of)
            scores[months_back] = {s["seller_id"]: s["score"] for s in ranking}
        assert all(len(s) >= 5 for s in scores.values()), scores
        assert scores[0] != scores[2] != scores[4], "seller scores move as the months go by"
        assert len({s["level"] for s in every(client, "/v1/sellers", as_of=END)}) >= 2


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_seeded_disputes_are_on_registered_orders_when_known_orders_are_required(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(backend, tmp_path, request, require_known_orders=True)
    said = seed(settings, monkeypatch, "--disputes", "30", "--seed", "3").output
    assert "seeded 30 disputes (0 already there) on 30 orders registered" in said
    with TestClient(build_api(settings)) as client:
        disputes = every(client, "/v1/disputes")
        assert len(disputes) == 30
        for d in disputes:
            order = client.get(f"/v1/orders/{d['order_id']}", headers=AGENT)
            assert order.status_code == 200, order.text
            terms = order.json()
            assert (terms["buyer_id"], terms["seller_id"]) == (d["buyer_id"], d["seller_id"])
            assert terms["amount"]["amount_minor"] == d["order_amount"]["amount_minor"]
            assert terms["placed_at"] < d["opened_at"] < terms["protection_ends_at"]
            mine = client.get(f"/v1/orders/{d['order_id']}", headers=bearer(Role.BUYER, d["buyer_id"]))
            assert mine.status_code == 200, "the buyer sees its own order"
        unknown = client.post(
            "/v1/disputes",
            json={
                "order_id": "never-registered",
                "seller_id": "seller-x",
                "reason": "damaged",
                "remedy": "refund_only",
                "refund": {"amount_minor": 100, "currency": "USD"},
                "order_amount": {"amount_minor": 100, "currency": "USD"},
            },
            headers=bearer(Role.BUYER, "buyer-x"),
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "order_unknown", unknown.text
    again = seed(settings, monkeypatch, "--disputes", "30", "--seed", "3").output
    assert "seeded 0 disputes (30 already there) on 0 orders registered" in again


def dispute_set(settings: Settings) -> list[tuple[Any, ...]]:
    with TestClient(build_api(settings)) as client:
        return sorted(
            (
                d["id"],
                d["status"],
                d["reason"],
                d["requested_remedy"],
                d["seller_id"],
                d["version"],
                d["opened_at"],
                tuple(e["sha256"] for e in d["evidence"]),
            )
            for d in every(client, "/v1/disputes")
        )


def test_the_same_seed_gives_the_same_disputes_and_a_second_run_adds_none(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = settings_for("sqlite", tmp_path / "first", request)
    second = settings_for("sqlite", tmp_path / "second", request)
    seed(first, monkeypatch, "--disputes", "40", "--seed", "5")
    seed(second, monkeypatch, "--disputes", "40", "--seed", "5")
    assert dispute_set(first) == dispute_set(second)
    assert len(dispute_set(first)) == 40

    again = seed(first, monkeypatch, "--disputes", "40", "--seed", "5").output
    assert "seeded 0 disputes (40 already there)" in again
    assert dispute_set(first) == dispute_set(second)

    seed(second, monkeypatch, "--disputes", "40", "--seed", "6")
    assert len(dispute_set(second)) == 80, "another seed opens other orders"


def test_an_end_in_the_future_is_refused_and_nothing_is_seeded(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("sqlite", tmp_path, request)
    use_store(settings, monkeypatch)
    refused = CliRunner().invoke(cli, ["seed", "--disputes", "5", "--end", "2999-01-01T00:00:00Z"])
    assert refused.exit_code == 2 and "cannot end in the future" in refused.output
    assert not (tmp_path / "disputes.sqlite").exists()
    seed(settings, monkeypatch, "--disputes", "5")
    assert len(dispute_set(settings)) == 5


def test_seeding_an_in_memory_store_is_refused(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(settings_for("memory", tmp_path, request), monkeypatch)
    refused = CliRunner().invoke(cli, ["seed", "--disputes", "5"])
    assert refused.exit_code == 2 and "memory://" in refused.output
