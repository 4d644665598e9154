"""What the console stands on: GET /v1/ops/status (agents, auditors) on every
database, the dev-only token route (present in dev, absent in test and
production), and /console served with a strict Content-Security-Policy and
nothing but local assets."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routers.console import ASSETS, STATIC
from bootstrap import build_api
from domain.values import Role
from projections.catalog import PROJECTIONS
from projections.runner import Follower
from service.notes import Signer
from support.api import bearer
from support.builders import Scenario
from support.stores import settings_for

AGENT, AUDITOR = bearer(Role.AGENT, "agent-1"), bearer(Role.AUDITOR, "auditor-1")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_ops_status_reports_view_lag_scheduler_delay_and_webhook_backlog(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(backend, tmp_path, request)
    with TestClient(build_api(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        first = Scenario(services.app).open().seller_counters()  # 2 events, no worker running
        behind = client.get("/v1/ops/status", headers=AGENT)
        assert behind.status_code == 200, behind.text
        body = behind.json()
        assert body["head_position"] == 2
        assert body["views"]["timeline"] == {
            "position": 0,
            "lag": 2,
            "status": "running",
            "fault_position": None,
            "fault_error": None,
        }
        assert body["webhooks"] == {"subscriptions": 0, "behind": 0, "backlog": 0, "disabled": 0}
        hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}, headers=AGENT)
        assert hook.status_code == 201, hook.text
        second = Scenario(services.app).open()  # one more event the subscription has not had
        for projection in PROJECTIONS.values():
            Follower(services.app, services.views, projection).catch_up()
        due = min(
            datetime.fromisoformat(t)
            for scenario in (first, second)
            for t in client.get(f"/v1/disputes/{scenario.id}", headers=AGENT).json()["deadlines"].values()
        )
        services.clock = lambda: due - timedelta(seconds=1)
        early = client.get("/v1/ops/status", headers=AUDITOR).json()
        assert early["head_position"] == 3 and all(v["lag"] == 0 for v in early["views"].values())
        assert early["scheduler"] == {"overdue": 0, "delay_seconds": 0.0, "next_due_at": iso(due)}
        assert early["webhooks"] == {"subscriptions": 1, "behind": 1, "backlog": 1, "disabled": 0}
        assert early["checkpoint"] is None, "no checkpoint issued yet"
        signed = services.checkpoints.issue()
        assert signed is not None and signed.tree_size == 3
        Scenario(services.app).open()  # taken into the tree after the checkpoint
        Follower(services.app, services.views, PROJECTIONS["transparency_log"]).catch_up()
        services.clock = lambda: signed.issued_at + timedelta(seconds=42)
        wired = client.get("/v1/ops/status", headers=AUDITOR).json()
        assert wired["checkpoint"] == {
            "tree_size": 3,
            "root_hash": base64.b64encode(signed.root_hash).decode(),
            "issued_at": iso(signed.issued_at),
            "age_seconds": 42.0,
            "tree_size_now": 4,
            "unsigned_leaves": 1,
        }
        assert wired["head_position"] == 4
        services.checkpoints.issue()
        assert client.get("/v1/ops/status", headers=AGENT).json()["checkpoint"]["unsigned_leaves"] == 0
        services.clock = lambda: due + timedelta(seconds=90)
        late = client.get("/v1/ops/status", headers=AGENT).json()
        assert late["scheduler"]["overdue"] >= 1 and late["scheduler"]["delay_seconds"] == 90.0


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("role", [Role.BUYER, Role.SELLER, Role.ANALYST, Role.PLATFORM])
def test_ops_status_is_for_agents_and_auditors_only(tmp_path: Path, request: pytest.FixtureRequest, role: Role) -> None:
    with TestClient(build_api(settings_for("sqlite", tmp_path, request))) as client:
        refused = client.get("/v1/ops/status", headers=bearer(role, "someone"))
        assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
        assert client.get("/v1/ops/status").status_code == 401


def test_in_dev_the_token_route_mints_tokens_the_api_accepts(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with TestClient(build_api(settings_for("sqlite", tmp_path, request, env="dev"))) as client:
        minted = client.post("/v1/dev/tokens", json={"role": "seller", "sub": "seller-7"})
        assert minted.status_code == 200, minted.text
        assert (minted.json()["role"], minted.json()["sub"]) == ("seller", "seller-7")
        token = {"Authorization": f"Bearer {minted.json()['token']}"}
        assert client.get("/v1/sellers/seller-7/score", headers=token).status_code == 200
        assert client.get("/v1/sellers/seller-8/score", headers=token).status_code == 403  # it is seller-7
        assert "/v1/dev/tokens" in client.get("/openapi.json").json()["paths"]
        for bad in ({"role": "system", "sub": "s"}, {"role": "agent", "sub": " "}, {"role": "agent"}, {}):
            refused = client.post("/v1/dev/tokens", json=bad)
            assert refused.status_code == 422 and refused.json()["code"] == "validation_error", bad


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_dev_there_is_no_token_route(tmp_path: Path, request: pytest.FixtureRequest, env: str) -> None:
    key = Signer.generate("disputes.local/log").text  # production requires a checkpoint signing key
    settings = settings_for("sqlite", tmp_path, request, env=env, log_signing_key=key)
    with TestClient(build_api(settings)) as client:
        absent = client.post("/v1/dev/tokens", json={"role": "agent", "sub": "agent-1"})
        assert absent.status_code == 404 and absent.json()["code"] == "not_found"
        assert "/v1/dev/tokens" not in client.get("/openapi.json").json()["paths"]


SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
# Ways text could become markup or code: the console uses textContent and DOM nodes only.
MARKUP_SINKS = re.compile(r"\.(?:inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\b")
IMPORT = re.compile(r"""from\s+["']([^"']+)["']""")


def test_the_console_is_served_with_a_strict_csp_and_only_local_assets(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with TestClient(build_api(settings_for("sqlite", tmp_path, request))) as client:
        page = client.get("/console")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe" not in csp, "no inline script or style, no eval"
        scripts = SCRIPT.findall(page.text)
        assert scripts and all("src=" in attributes for attributes in scripts), "no inline script"
        assert "style=" not in page.text and "<style" not in page.text
        for reference in (r for r in REFERENCE.findall(page.text) if not r.startswith("#")):
            assert reference.startswith("/console/assets/"), reference
            asset = client.get(reference)
            assert asset.status_code == 200 and asset.headers["content-security-policy"] == csp
        for name in ASSETS:
            text = (STATIC / name).read_text()
            elsewhere = re.sub(r'["]http://www.w3.org/2000/svg["]', "", text)  # SVG's namespace name, never fetched
            assert "http://" not in elsewhere and "https://" not in elsewhere, f"{name} names another host"
            if name.endswith(".js"):
                assert not MARKUP_SINKS.search(text), f"{name} writes markup: {MARKUP_SINKS.search(text)}"
                for module in IMPORT.findall(text):
                    assert module.startswith("./") and module[2:] in ASSETS, f"{name} imports {module}"
        for missing in ("/console/assets/nope.js", "/console/assets/..%2F..%2Fauth.py", "/console/assets/index.html"):
            refused = client.get(missing)
            assert refused.status_code == 404 and refused.json()["code"] == "not_found", missing
