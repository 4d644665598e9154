"""docker-compose.yml cannot run here (no Docker engine); parse it and check its wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cli.main import cli
from service.settings import Settings

ROOT = Path(__file__).parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_declares_postgres_api_projection_worker_scheduler_and_webhooks() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "api", "projections", "scheduler", "webhooks"}
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    for name in ("api", "projections", "scheduler", "webhooks"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_each_service_runs_a_real_cli_command() -> None:
    services = compose()["services"]
    commands = {name: services[name]["command"] for name in ("api", "projections", "scheduler", "webhooks")}
    assert commands["api"][:2] == ["disputes", "serve"]
    assert commands["projections"][:3] == ["disputes", "projections", "run"]
    assert commands["scheduler"][:3] == ["disputes", "scheduler", "run"]
    assert commands["webhooks"][:3] == ["disputes", "webhooks", "run"]
    groups = {c.name for c in cli.registered_groups}
    assert {"projections", "scheduler", "webhooks"} <= groups


def test_services_share_the_same_settings_variables_and_all_are_known() -> None:
    services = compose()["services"]
    known = {f"DISPUTES_{name.upper()}" for name in Settings.model_fields}
    envs = [services[name]["environment"] for name in ("api", "projections", "scheduler", "webhooks")]
    assert envs[0] == envs[1] == envs[2] == envs[3]
    assert set(envs[0]) <= known, f"unknown variables: {set(envs[0]) - known}"
    assert {"DISPUTES_DATABASE_URL", "DISPUTES_JWT_SECRET", "DISPUTES_BLOB_DIR"} <= set(envs[0])
    url = envs[0]["DISPUTES_DATABASE_URL"]
    database = services["postgres"]["environment"]
    assert url == (
        f"postgresql://{database['POSTGRES_USER']}:{database['POSTGRES_PASSWORD']}@postgres:5432/"
        f"{database['POSTGRES_DB']}"
    )
    assert Settings(database_url=url).backend == "postgres"
