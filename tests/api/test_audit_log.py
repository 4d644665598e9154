"""The audit log across disputes: filters, pages, the streamed export (API and CLI)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.values import Role
from service.settings import Settings
from support.audit import client, headers, long_dispute, run_cli, services
from support.builders import AGENT, T0, Scenario
from support.stores import settings_for


@dataclass
class Log:
    c: TestClient
    settings: Settings
    long: Scenario
    short: Scenario
    head: int

    def get(self, url: str, **params: Any) -> Any:
        response = self.c.get(url, params=params, headers={**headers(self.settings), "X-Min-Position": str(self.head)})
        assert response.status_code == 200, response.text
        return response

    def items(self, **params: Any) -> list[dict[str, Any]]:
        found, cursor = [], None
        while True:
            page = self.get("/v1/audit", **params, **({"cursor": cursor} if cursor else {})).json()
            found += page["items"]
            if (cursor := page["next_cursor"]) is None:
                return found


def two_disputes(settings: Settings) -> Iterator[Log]:
    with client(settings) as c:
        app = services(c).app
        long = long_dispute(app)
        short = Scenario(app).open().seller_counters()
        yield Log(c, settings, long, short, app.recorder.max_notification_id() or 0)


@pytest.fixture
def log(settings: Settings) -> Iterator[Log]:
    yield from two_disputes(settings.model_copy(update={"in_process_workers": True}))


@pytest.fixture
def sqlite_log(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[Log]:
    yield from two_disputes(settings_for("sqlite", tmp_path, request, in_process_workers=True))


def history(log: Log, scenario: Scenario) -> list[dict[str, Any]]:
    return log.get(f"/v1/disputes/{scenario.id}/history").json()["items"]  # type: ignore[no-any-return]


def test_the_log_has_one_entry_per_event_across_disputes_matching_their_histories(log: Log) -> None:
    entries = log.items(limit=7)
    assert [e["position"] for e in entries] == list(range(1, log.head + 1))
    for scenario in (log.long, log.short):
        mine = [e for e in entries if e["dispute_id"] == str(scenario.id)]
        assert [(e["position"], e["version"], e["type"], e["actor"], e["occurred_at"]) for e in mine] == [
            (h["position"], h["version"], h["type"], h["actor"], h["occurred_at"]) for h in history(log, scenario)
        ]
        assert [(e["request_id"], e["idempotency_key"], e["chain_hash"]) for e in mine] == [
            (h["request_id"], h["idempotency_key"], h["chain_hash"]) for h in history(log, scenario)
        ]
        assert [e["payload"] for e in mine] == [h["data"] for h in history(log, scenario)]


def test_the_log_filters_by_dispute_actor_type_and_time(sqlite_log: Log) -> None:
    log = sqlite_log
    everything = log.items()
    assert log.items(dispute_id=str(log.short.id)) == [e for e in everything if e["dispute_id"] == str(log.short.id)]
    by_agent = log.items(actor_id=AGENT.id)
    assert {e["actor"]["role"] for e in by_agent} == {"agent"}
    assert len(by_agent) == 4
    offers = log.items(type="OfferProposed")
    assert len(offers) == 3
    assert {e["type"] for e in offers} == {"OfferProposed"}
    since, until = T0 + timedelta(minutes=30), T0 + timedelta(minutes=60)
    window = log.items(since=since.isoformat(), until=until.isoformat())
    assert {e["occurred_at"] for e in window} == {"2026-03-02T09:30:00.000000Z", "2026-03-02T09:40:00.000000Z",
                                                  "2026-03-02T09:50:00.000000Z"}  # fmt: skip
    both = log.items(dispute_id=str(log.long.id), type="OfferProposed", since=since.isoformat())
    assert [e["version"] for e in both] == [4, 6]


def test_bad_filters_and_other_roles_are_refused(sqlite_log: Log) -> None:
    log = sqlite_log
    auditor = headers(log.settings)
    for params in ({"since": "2026-03-02T10:00:00Z", "until": "2026-03-02T09:00:00Z"}, {"since": "yesterday"},
                   {"limit": 0}, {"limit": 201}):  # fmt: skip
        assert log.c.get("/v1/audit", params=params, headers=auditor).status_code == 422, params
    a_date_is_midnight_utc = log.c.get("/v1/audit", params={"since": "2026-03-02"}, headers=auditor)
    assert a_date_is_midnight_utc.status_code == 200 and a_date_is_midnight_utc.json()["items"]
    default = log.c.get("/v1/audit/export", headers=auditor)
    assert default.status_code == 200 and default.headers["content-type"].startswith("application/x-ndjson")
    assert log.c.get("/v1/audit/export", params={"format": "xml"}, headers=auditor).status_code == 422
    for role in (Role.AGENT, Role.ANALYST, Role.BUYER):
        for url in ("/v1/audit", "/v1/audit/export?format=csv"):
            denied = log.c.get(url, headers=headers(log.settings, role, "x"))
            assert (denied.status_code, denied.headers["content-type"]) == (403, "application/problem+json")


def test_exports_stream_the_same_entries_as_jsonl_and_csv(log: Log) -> None:
    listed = log.items(dispute_id=str(log.long.id))
    jsonl = log.get("/v1/audit/export", format="jsonl", dispute_id=str(log.long.id))
    assert jsonl.headers["content-type"] == "application/x-ndjson"
    assert jsonl.headers["content-disposition"] == 'attachment; filename="audit-log.jsonl"'
    assert [json.loads(line) for line in jsonl.text.splitlines()] == listed
    exported = log.get("/v1/audit/export", format="csv", dispute_id=str(log.long.id))
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["position"]) for r in rows] == [e["position"] for e in listed]
    assert [json.loads(r["payload"]) for r in rows] == [e["payload"] for e in listed]
    assert [(r["actor_id"], r["actor_role"], r["idempotency_key"] or None) for r in rows] == [
        (e["actor"]["id"], e["actor"]["role"], e["idempotency_key"]) for e in listed
    ]
    empty = log.get("/v1/audit/export", format="csv", actor_id="nobody")
    assert empty.text.splitlines() == [",".join(rows[0].keys())]


def test_the_cli_exports_what_the_api_exports(sqlite_log: Log, tmp_path: Any) -> None:
    log = sqlite_log
    api = log.get("/v1/audit/export", format="jsonl", type="MessagePosted").text
    cli = run_cli(log.settings, "export", "--format", "jsonl", "--type", "MessagePosted")
    assert (cli.exit_code, cli.stdout) == (0, api)
    target = tmp_path / "audit.csv"
    written = run_cli(
        log.settings, "export", "--format", "csv", "--since", "2026-03-02T09:30:00", "--output", str(target)
    )
    assert written.exit_code == 0
    api_csv = log.get("/v1/audit/export", format="csv", since="2026-03-02T09:30:00Z").text
    assert target.read_text() == api_csv


def test_the_cli_export_warns_when_the_log_is_behind_and_can_catch_up(tmp_path: Any, request: Any) -> None:
    settings = settings_for("sqlite", tmp_path, request)
    with client(settings) as c:
        Scenario(services(c).app).open().seller_counters()
    behind = run_cli(settings, "export", "--format", "jsonl")
    assert (behind.exit_code, behind.stdout) == (0, "")
    assert "trails the event store by 2 events" in behind.stderr
    caught_up = run_cli(settings, "export", "--format", "jsonl", "--catch-up")
    assert len(caught_up.stdout.splitlines()) == 2
    assert "trails" not in caught_up.stderr


def test_openapi_documents_the_audit_endpoints_and_their_problems(sqlite_log: Log) -> None:
    paths = sqlite_log.c.get("/openapi.json").json()["paths"]
    export = paths["/v1/audit/export"]["get"]["responses"]
    assert {"application/x-ndjson", "text/csv"} <= set(export["200"]["content"])
    for path in ("/v1/audit", "/v1/audit/export", "/v1/disputes/{dispute_id}/history",
                 "/v1/disputes/{dispute_id}/state", "/v1/disputes/{dispute_id}/verify"):  # fmt: skip
        responses = paths[path]["get"]["responses"]
        on_a_dispute = ("404",) if "{dispute_id}" in path else ()  # the log itself has nothing to miss
        for status in ("401", "403", *on_a_dispute, "422", "503"):
            assert "application/problem+json" in responses[status]["content"], (path, status)
