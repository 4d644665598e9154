"""State as of any version or instant, rebuilt from the event store, equals
the live state captured right after each command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.application import DisputeApp
from domain.dispute import dispute_id_for
from domain.errors import DisputeNotFound
from domain.values import Role
from service import audit as audit_reads
from service.recorded import verify_chain
from support.audit import as_actor, client, headers, long_dispute, services
from support.builders import AUDITOR, BUYER, OTHER_BUYER, T0, Scenario, state_of
from support.stores import settings_for


def test_state_at_every_version_and_instant_equals_the_live_state_after_each_command(app: DisputeApp) -> None:
    live: list[tuple[Any, str]] = []
    s = long_dispute(app, lambda s: live.append((s.clock.now, state_of(app.dispute(s.id)))))
    assert len(live) == app.dispute(s.id).version == 14
    for version, (occurred_at, captured) in enumerate(live, start=1):
        assert state_of(audit_reads.state_as_of(app, s.id, AUDITOR, version=version)) == captured
        assert state_of(audit_reads.state_as_of(app, s.id, AUDITOR, at=occurred_at)) == captured
        between = occurred_at + s.clock.step / 2
        assert state_of(audit_reads.state_as_of(app, s.id, AUDITOR, at=between)) == captured
    assert verify_chain(app, s.id).valid


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_state_endpoint_returns_what_the_dispute_endpoint_showed_after_each_command(
    backend: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(backend, tmp_path, request)
    auditor = headers(settings)
    with client(settings) as c:
        svc = services(c)
        shown: list[tuple[str, dict[str, Any]]] = []

        def read_live(s: Scenario) -> None:
            svc.clock = lambda: s.clock.now
            response = c.get(f"/v1/disputes/{s.id}", headers=auditor)
            assert response.status_code == 200
            shown.append((s.clock.now.isoformat(), response.json()))

        s = long_dispute(svc.app, read_live)
        for version, (occurred_at, body) in enumerate(shown, start=1):
            by_version = c.get(f"/v1/disputes/{s.id}/state", params={"version": version}, headers=auditor)
            assert by_version.status_code == 200
            assert by_version.json() == body
            by_time = c.get(f"/v1/disputes/{s.id}/state", params={"at": occurred_at}, headers=auditor)
            assert by_time.json() == body
        agent = c.get(f"/v1/disputes/{s.id}/state", params={"version": 3}, headers=headers(settings, Role.AGENT))
        assert agent.status_code == 200
        assert agent.json()["evidence"] == shown[2][1]["evidence"]


@pytest.fixture
def sqlite_client(tmp_path: Any, request: pytest.FixtureRequest) -> Any:
    settings = settings_for("sqlite", tmp_path, request)
    with client(settings) as c:
        yield c, settings


def test_the_state_query_needs_exactly_one_of_version_and_a_time(sqlite_client: Any) -> None:
    c, settings = sqlite_client
    s = Scenario(services(c).app).open()
    url, auditor = f"/v1/disputes/{s.id}/state", headers(settings)
    for params in ({}, {"version": 1, "at": T0.isoformat()}, {"version": 0}, {"at": "soon"}):
        response = c.get(url, params=params, headers=auditor)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    opened = s.clock.now.replace(tzinfo=None).isoformat()  # no offset: read as UTC
    assert c.get(url, params={"at": opened}, headers=auditor).json()["version"] == 1


def test_versions_that_do_not_exist_and_times_before_opening_are_not_found(sqlite_client: Any) -> None:
    c, settings = sqlite_client
    s = Scenario(services(c).app).open().seller_counters()
    url, auditor = f"/v1/disputes/{s.id}/state", headers(settings)
    assert c.get(url, params={"version": 3}, headers=auditor).json()["code"] == "version_not_found"
    before = c.get(url, params={"at": (T0 - timedelta(days=1)).isoformat()}, headers=auditor)
    assert (before.status_code, before.json()["code"]) == (404, "version_not_found")
    missing = c.get(f"/v1/disputes/{dispute_id_for('nope')}/state", params={"version": 1}, headers=auditor)
    assert (missing.status_code, missing.json()["code"]) == (404, "dispute_not_found")


def test_parties_and_analysts_may_not_read_past_states(sqlite_client: Any) -> None:
    c, settings = sqlite_client
    s = Scenario(services(c).app).open()
    url = f"/v1/disputes/{s.id}/state?version=1"
    assert c.get(url, headers=as_actor(settings, BUYER)).status_code == 403
    assert c.get(url, headers=as_actor(settings, OTHER_BUYER)).status_code == 404, "no hint that it exists"
    assert c.get(url, headers=headers(settings, Role.ANALYST)).status_code == 403
    assert c.get(url).status_code == 401


def test_an_unknown_dispute_has_no_past_state(app: DisputeApp) -> None:
    with pytest.raises(DisputeNotFound):
        audit_reads.state_as_of(app, dispute_id_for("nope"), AUDITOR, at=T0)
