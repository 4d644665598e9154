"""Metrics label every route by its template, count the business (opened,
resolved by how, refunds per currency) and include the process and Python
collectors; every answer carries a request id, and every log line of a
request carries it, with the route, the actor and the dispute."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.deps import CallerDep
from bootstrap import build_api
from domain.values import Role
from service.logs import configure_logging
from service.settings import Settings
from support.api import SECRET, Parties, bearer


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url="memory://", env="test", jwt_secret=SECRET, var_dir=tmp_path)
    app = build_api(settings)

    @app.get("/v1/disputes/{dispute_id}/explode", include_in_schema=False)
    def explode(dispute_id: str, actor: CallerDep) -> None:
        logging.getLogger("disputes.test").info("about to fail")
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("json", "INFO", "test")
    capsys.readouterr()

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]

    yield lines
    root.handlers, root.level = handlers, level


def scrape(client: TestClient) -> str:
    return str(client.get("/metrics").text)


def test_every_route_is_labelled_by_its_template_docs_included(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css", "/healthz"):
        assert client.get(path).status_code == 200, path
    client.get("/no/such/path")
    scraped = scrape(client)
    for route in ("/docs", "/redoc", "/openapi.json", "/docs/assets/{name}", "/healthz"):
        assert f'disputes_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0' in scraped, route
    unmatched = re.findall(r'disputes_http_requests_total\{method="GET",route="unmatched",status="(\d+)"\}', scraped)
    assert unmatched == ["404"], "only the path no route matches is unmatched"


def test_process_and_python_collectors_are_registered(client: TestClient) -> None:
    scraped = scrape(client)
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info", "python_gc_"):
        assert name in scraped, name


def test_business_counters_count_opened_resolved_by_how_and_refunds_per_currency(client: TestClient) -> None:
    parties = Parties.on(client)
    negotiating = parties.in_status("negotiating")
    resolved = parties.act(parties.buyer, negotiating, f"offers/{negotiating['pending_offer']['id']}/accept", {})
    assert resolved["status"] == "resolved"
    parties.in_status("withdrawn")
    scraped = scrape(client)
    assert "disputes_opened_total 2.0" in scraped
    assert 'disputes_resolved_total{how="agreement"} 1.0' in scraped
    assert 'disputes_resolved_total{how="withdrawn"} 1.0' in scraped
    assert 'disputes_refunds_total{currency="USD"} 1.0' in scraped
    assert 'disputes_refunded_minor_units_total{currency="USD"} 800.0' in scraped


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("req-42", True), ("x" * 128, True), ("x" * 129, False), ("tab\there", False), ("", False)],
    ids=["short", "128", "129", "unprintable", "empty"],
)
def test_a_request_id_is_kept_when_printable_and_short_else_replaced(client: TestClient, sent: str, kept: bool) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": sent})
    returned = answer.headers["X-Request-ID"]
    assert (returned == sent) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", returned)


def test_every_answer_carries_its_request_id_errors_included(client: TestClient) -> None:
    dispute = str(uuid4())
    answers = [
        client.get("/healthz"),
        client.get("/no/such/path"),
        client.get("/v1/disputes"),  # 401
        client.post("/v1/disputes", content=b"{", headers={**bearer_buyer(), "Content-Type": "application/json"}),
        client.get(f"/v1/disputes/{dispute}/explode", headers=bearer_buyer()),  # 500
    ]
    assert [a.status_code for a in answers] == [200, 404, 401, 422, 500]
    ids = [a.headers.get("X-Request-ID") for a in answers]
    assert all(ids) and len(set(ids)) == len(ids)


def bearer_buyer() -> dict[str, str]:
    return bearer(Role.BUYER, "buyer-1")


def test_the_lines_of_a_failing_request_carry_its_id_route_actor_and_dispute(
    client: TestClient, json_logs: Any
) -> None:
    dispute = str(uuid4())
    answer = client.get(f"/v1/disputes/{dispute}/explode", headers={**bearer_buyer(), "X-Request-ID": "trace-me"})
    assert answer.status_code == 500 and answer.headers["X-Request-ID"] == "trace-me"
    mine = [line for line in json_logs() if line.get("request_id") == "trace-me"]
    events = [line["event"] for line in mine]
    assert "about to fail" in events and any("unhandled error" in e for e in events), mine
    for line in mine:
        assert line["route"] == "/v1/disputes/{dispute_id}/explode"
        assert (line["actor"], line["dispute_id"]) == ("buyer-1", dispute)
        assert {"time", "level", "logger"} <= set(line)
    failure = next(line for line in mine if "unhandled error" in line["event"])
    assert failure["level"] == "error" and "RuntimeError: boom" in failure["exception"]
