"""Webhook URL safety through the API, and again at delivery time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api, build_services
from bootstrap.workers import build_delivery
from domain.values import Actor, Role
from service.notes import Signer
from support.api import SECRET, Caller, ok, opening
from support.receiver import Receiver
from support.stores import settings_for

AGENT = Actor("agent-1", Role.AGENT)


@pytest.fixture
def strict(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Caller]:
    settings = settings_for("sqlite", tmp_path, request, jwt_secret=SECRET, webhook_allow_private=False)
    with TestClient(build_api(settings)) as client:
        yield Caller(client, Role.AGENT, "agent-1")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://10.0.0.8/hook", "http://[::1]/hook"]
)
def test_private_targets_are_refused_with_422_unless_allowed(strict: Caller, url: str) -> None:
    refused = strict.post("/v1/webhooks", {"url": url, "event_types": ["*"]})
    assert refused.status_code == 422 and refused.json()["code"] == "unsafe_url", refused.text
    hook = ok(strict.post("/v1/webhooks", {"url": "http://8.8.8.8/hook", "event_types": ["*"]}), 201)
    moved = strict.client.patch(f"/v1/webhooks/{hook['id']}", json={"url": url}, headers=strict.headers)
    assert moved.status_code == 422 and moved.json()["code"] == "unsafe_url"


def test_production_accepts_https_only(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    key = Signer.generate("disputes.local/log").text  # production requires a checkpoint signing key
    settings = settings_for("sqlite", tmp_path, request, jwt_secret=SECRET, env="production", log_signing_key=key)
    with TestClient(build_api(settings)) as client:
        agent = Caller(client, Role.AGENT, "agent-1")
        plain = agent.post("/v1/webhooks", {"url": "http://8.8.8.8/hook", "event_types": ["*"]})
        assert plain.status_code == 422 and plain.json()["code"] == "unsafe_url"
        assert agent.post("/v1/webhooks", {"url": "https://8.8.8.8/hook", "event_types": ["*"]}).status_code == 201


def test_a_delivery_is_checked_again_before_it_is_sent(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A subscription made while private targets were allowed (or a name that
    resolves elsewhere by now) is refused at delivery, as a failed attempt."""
    lenient = settings_for("sqlite", tmp_path, request, jwt_secret=SECRET)
    receiver = Receiver().start()
    services = build_services(lenient)
    try:
        hook = services.webhooks.create(AGENT, receiver.url(), ["*"], "") if services.webhooks else None
        assert hook is not None
        buyer = Caller(TestClient(build_api(lenient, services)), Role.BUYER, "buyer-1")
        ok(buyer.post("/v1/disputes", opening("seller-1")), 201)
        strict = lenient.model_copy(update={"webhook_allow_private": False})
        worker, close = build_delivery(strict, services.views, services.feed, services.metrics, services.clock)
        try:
            assert worker.step()
        finally:
            close()
        attempts = services.webhook_store.attempts(hook.id, 0, 10) if services.webhook_store else []
        assert [(a.attempt, a.status_code) for a in attempts] == [(1, None)]
        assert attempts[0].error and attempts[0].error.startswith("refused:")
        assert receiver.received == []
    finally:
        receiver.stop()
        services.close()
