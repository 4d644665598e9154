"""X-Min-Position at the edges (issue 11, item 8): a position the store never
issued is 422 `position_unknown` at once; one already processed (0 included,
also on an empty store) is served at once; 503 `not_caught_up` only when the
position exists and the read model is behind."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from service.settings import Settings
from support.api import Parties, head

QUICK = 10.0  # seconds: a read that waited would take the whole (raised) wait below


@pytest.fixture(autouse=True)
def long_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads that must not wait would show it: a wait would now last 30 s."""
    monkeypatch.setattr("api.readiness.MAX_WAIT_SECONDS", 30.0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """No workers: the read models stay where they are, the event store moves."""
    with TestClient(build_api(settings)) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)



def timed_get(parties: Parties, path: str, position: int) -> tuple[int, dict[str, str], dict[str, object], float]:
    started = time.monotonic()
    r = parties.agent.get(path, x_min_position=str(position))
    return r.status_code, dict(r.headers), r.json(), time.monotonic() - started


def test_a_position_never_issued_is_422_position_unknown_at_once(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    beyond = head(client) + 1
    for path in (f"/v1/disputes/{d['id']}", "/v1/disputes", f"/v1/disputes/{d['id']}/timeline", "/v1/stats/disputes"):
        status, _, body, took = timed_get(parties, path, beyond)
        assert (status, body["code"]) == (422, "position_unknown"), (path, body)
        assert took < QUICK, path


def test_position_zero_on_an_empty_store_is_served_at_once(client: TestClient, parties: Parties) -> None:
    assert head(client) == 0
    status, _, body, took = timed_get(parties, "/v1/disputes", 0)
    assert (status, body["items"], took < QUICK) == (200, [], True)
    status, _, body, took = timed_get(parties, f"/v1/disputes/{uuid.uuid4()}", 0)
    assert (status, body["code"], took < QUICK) == (404, "dispute_not_found", True)


def test_event_store_reads_serve_every_issued_position_at_once(client: TestClient, parties: Parties) -> None:
    d = parties.open()
    status, _, body, took = timed_get(parties, f"/v1/disputes/{d['id']}", head(client))
    assert (status, body["id"], took < QUICK) == (200, d["id"], True)


def test_an_issued_position_a_read_model_has_not_reached_is_503_not_caught_up(
    client: TestClient, parties: Parties, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.readiness.MAX_WAIT_SECONDS", 0.2)
    parties.open()
    status, headers, body, _ = timed_get(parties, "/v1/disputes", head(client))
    assert (status, body["code"], headers["retry-after"]) == (503, "not_caught_up", "1")
