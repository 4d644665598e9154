"""Liveness, readiness with projection lag, Prometheus metrics, and the token command."""

from __future__ import annotations

import re
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bootstrap import build_api
from cli.main import cli
from projections.catalog import PROJECTIONS
from projections.runner import Follower
from service.settings import Settings
from support.builders import Scenario
from support.stores import settings_for

SECRET = "test-secret-0123456789abcdef0123456789"
RUNNING = {"status": "running", "fault_position": None, "fault_error": None}


def metric(text: str, name: str, view: str) -> float:
    match = re.search(rf'^{name}{{view="{view}"}} (\S+)$', text, flags=re.M)
    assert match, f"{name} for {view} not in /metrics"
    return float(match.group(1))


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_readiness_and_metrics_report_each_views_position_and_lag(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(backend, tmp_path, request, in_process_workers=False, max_ready_lag=2)
    with TestClient(build_api(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        services = client.app.state.services  # type: ignore[attr-defined]
        for _ in range(2):
            Scenario(services.app).open().seller_counters()  # 4 events, no worker running
        behind = client.get("/readyz")
        assert behind.status_code == 503, "views 4 events behind, more than the allowed 2"
        body = behind.json()
        assert (body["status"], body["database"], body["head_position"]) == ("catching_up", "ok", 4)
        assert body["views"]["timeline"] == RUNNING | {"position": 0, "lag": 4}
        scraped = client.get("/metrics").text
        assert metric(scraped, "disputes_projection_lag", "timeline") == 4.0
        assert metric(scraped, "disputes_projection_position", "dispute_list") == 0.0
        for projection in PROJECTIONS.values():
            Follower(services.app, services.views, projection).catch_up()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert set(ready.json()["views"]) == set(PROJECTIONS)
        assert all(v == RUNNING | {"position": 4, "lag": 0} for v in ready.json()["views"].values())
        scraped = client.get("/metrics").text
        assert metric(scraped, "disputes_projection_lag", "timeline") == 0.0
        assert 'disputes_http_requests_total{method="GET",route="/readyz",status="503"} 1.0' in scraped


def test_the_token_command_mints_a_token_the_api_accepts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DISPUTES_JWT_SECRET", SECRET)
    result = CliRunner().invoke(cli, ["token", "--role", "seller", "--sub", "seller-7", "--ttl", "120"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("seller-7", "seller", 120)
    settings = Settings(database_url="memory://", env="test", jwt_secret=SECRET, var_dir=tmp_path)
    with TestClient(build_api(settings)) as client:
        response = client.get("/v1/sellers/seller-7/score", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
    refused = CliRunner().invoke(cli, ["token", "--role", "system", "--sub", "x"])
    assert refused.exit_code != 0, "system tokens are not for API callers"
