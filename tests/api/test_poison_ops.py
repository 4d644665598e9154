"""What an operator sees of a read model stopped at an event it cannot apply:
`/readyz`, `/metrics`, `disputes projections status`, and what `retry` and
`skip` do (the skip recorded in the database and logged)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bootstrap import build_api
from cli.main import cli
from domain.values import Status
from projections import base, faults
from projections.catalog import PROJECTIONS
from projections.runner import Follower
from projections.timeline import Timeline
from service.settings import Settings
from support.builders import scenario_in
from support.live_server import server_env
from support.poison import heal, poisoned_timeline
from support.stores import settings_for

POISON = 3


def metric(text: str, name: str, view: str) -> float:
    match = re.search(rf'^{name}{{view="{view}"}} (\S+)$', text, flags=re.M)
    assert match, f"{name} for {view} not in /metrics"
    return float(match.group(1))


def cli_env(settings: Settings) -> dict[str, str]:
    return {k: v for k, v in server_env(settings).items() if k.startswith("DISPUTES_")}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_faulted_read_model_shows_on_readyz_metrics_and_status_until_skipped(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(backend, tmp_path, request, in_process_workers=False)
    with TestClient(build_api(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        scenario_in(services.app, Status.UNDER_REVIEW)
        head = services.app.recorder.max_notification_id()
        poisoned = poisoned_timeline(POISON)
        for projection in (poisoned, *(p for p in PROJECTIONS.values() if p is not Timeline)):
            Follower(services.app, services.views, projection).catch_up()

        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "faulted"
        timeline = ready.json()["views"]["timeline"]
        assert (timeline["status"], timeline["position"], timeline["fault_position"]) == ("faulted", 2, POISON)
        assert timeline["fault_error"].startswith("ValueError: cannot apply")
        assert ready.json()["views"]["deadlines"]["status"] == "running", "the others go on"
        scraped = client.get("/metrics").text
        assert metric(scraped, "disputes_projection_faulted", "timeline") == 1.0
        assert metric(scraped, "disputes_projection_fault_position", "timeline") == float(POISON)
        assert metric(scraped, "disputes_projection_faulted", "deadlines") == 0.0

        runner, env = CliRunner(), cli_env(settings)
        status = runner.invoke(cli, ["projections", "status"], env=env)
        assert status.exit_code == 0, status.output
        rows = {line.split()[0]: line.split() for line in status.output.splitlines()[1:]}
        assert rows["timeline"][2:4] == ["faulted", "2"]
        assert f"faulted: timeline g1 at position {POISON}: ValueError: cannot apply" in status.output

        retried = runner.invoke(cli, ["projections", "retry", "timeline"], env=env)
        assert retried.exit_code == 0 and f"retrying the event at position {POISON}" in retried.output
        Follower(services.app, services.views, poisoned).catch_up()
        assert client.get("/readyz").json()["views"]["timeline"]["fault_position"] == POISON, "failed again"

        wrong = runner.invoke(cli, ["projections", "skip", "timeline", "--position", str(POISON + 1)], env=env)
        assert wrong.exit_code == 1 and f"stopped at position {POISON}, not {POISON + 1}" in wrong.output
        with caplog.at_level(logging.WARNING, logger="disputes.projections"):
            skipped = runner.invoke(
                cli, ["projections", "skip", "timeline", "--position", str(POISON), "--reason", "OPS-7"], env=env
            )
        assert skipped.exit_code == 0, skipped.output
        assert f"timeline g1: skipped the event at position {POISON} (OPS-7)" in caplog.text
        assert [(r["position"], r["reason"]) for r in faults.skipped(services.views, "timeline")] == [(POISON, "OPS-7")]
        heal(poisoned)
        Follower(services.app, services.views, poisoned).catch_up()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["views"]["timeline"]["position"] == head
        assert base.active(services.views, "timeline").fault is None  # type: ignore[union-attr]
        assert metric(client.get("/metrics").text, "disputes_projection_faulted", "timeline") == 0.0
        not_faulted = runner.invoke(cli, ["projections", "retry", "timeline"], env=env)
        assert not_faulted.exit_code == 1
