"""Tampering with the stored events directly in the database is detected by
`verify` (API and CLI), which names the first bad version; untouched disputes
stay valid."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from bootstrap import build_app
from domain.values import Role
from service.settings import Settings
from support.audit import (
    client,
    delete_event,
    headers,
    long_dispute,
    overwrite_state,
    run_cli,
    stored_state,
)
from support.builders import Scenario
from support.stores import settings_for

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Store:
    settings: Settings
    tampered: UUID
    untouched: UUID

    def history(self, dispute_id: UUID) -> list[dict[str, Any]]:
        with client(self.settings) as c:
            response = c.get(f"/v1/disputes/{dispute_id}/history", headers=headers(self.settings))
        assert response.status_code == 200
        return response.json()["items"]  # type: ignore[no-any-return]

    def verify(self, dispute_id: UUID) -> dict[str, Any]:
        with client(self.settings) as c:
            response = c.get(f"/v1/disputes/{dispute_id}/verify", headers=headers(self.settings))
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    settings = settings_for(request.param, tmp_path, request)
    app = build_app(settings)
    tampered = long_dispute(app).id
    untouched = Scenario(app).open().seller_counters().id
    app.close()
    yield Store(settings, tampered, untouched)


def edit_message(s: Store) -> None:
    state = stored_state(s.settings, s.tampered, 2)
    assert b"it came in pieces" in state
    overwrite_state(s.settings, s.tampered, 2, state.replace(b"it came in pieces", b"it came just fine"))


def garble_bytes(s: Store) -> None:
    state = stored_state(s.settings, s.tampered, 2)
    overwrite_state(s.settings, s.tampered, 2, state[:10] + bytes([state[10] ^ 0xFF]) + state[11:])


def add_a_float(s: Store) -> None:
    state = stored_state(s.settings, s.tampered, 2)
    overwrite_state(s.settings, s.tampered, 2, state.replace(b'"body":', b'"weight":1.5,"body":'))


def delete_it(s: Store) -> None:
    delete_event(s.settings, s.tampered, 2)


@pytest.mark.parametrize(
    ("tamper", "events_left"),
    [(edit_message, 14), (garble_bytes, 14), (add_a_float, 14), (delete_it, 13)],
    ids=["edit", "garble", "float", "delete"],
)
def test_verify_names_the_first_tampered_version_and_untouched_disputes_stay_valid(
    store: Store, tamper: Callable[[Store], None], events_left: int
) -> None:
    assert store.verify(store.tampered)["valid"] is True
    tamper(store)
    report = store.verify(store.tampered)
    assert (report["valid"], report["events"], report["first_invalid_version"]) == (False, events_left, 2)
    assert "version 2" in report["problem"]
    still_listed = [v for v in range(1, 15) if v != 2 or events_left == 14]
    assert [e["version"] for e in store.history(store.tampered)] == still_listed, "a tampered history stays readable"
    assert store.verify(store.untouched) == {
        "valid": True,
        "events": 2,
        "first_invalid_version": None,
        "problem": None,
        "head": report_head(store),
    }


def report_head(store: Store) -> str:
    app = build_app(store.settings)
    try:
        return str(app.dispute(store.untouched).chain_hash)
    finally:
        app.close()


@pytest.mark.parametrize("tamper", [edit_message, delete_it], ids=["edit", "delete"])
def test_the_cli_names_the_first_tampered_version_and_exits_non_zero(
    store: Store, tamper: Callable[[Store], None]
) -> None:
    assert run_cli(store.settings, "verify", "--all").exit_code == 0
    tamper(store)
    one = run_cli(store.settings, "verify", str(store.tampered))
    assert one.exit_code == 1
    assert f"{store.tampered} INVALID first_invalid_version 2" in one.stdout
    every = run_cli(store.settings, "verify", "--all")
    assert every.exit_code == 1
    assert f"{store.tampered} INVALID first_invalid_version 2" in every.stdout
    assert f"{store.untouched} valid 2 events" in every.stdout
    assert run_cli(store.settings, "verify", str(store.untouched)).exit_code == 0


def test_cutting_off_the_latest_events_is_caught_by_the_latest_snapshot(store: Store) -> None:
    for version in (14, 13, 12):  # a snapshot was taken at version 12 (every 4 events)
        delete_event(store.settings, store.tampered, version)
    report = store.verify(store.tampered)
    assert (report["valid"], report["events"], report["first_invalid_version"]) == (False, 11, 12)
    assert "snapshot" in report["problem"]


def test_a_tampered_history_can_still_be_read_and_shows_the_unreadable_record(store: Store) -> None:
    garble_bytes(store)
    with client(store.settings) as c:
        response = c.get(f"/v1/disputes/{store.tampered}/history", headers=headers(store.settings, Role.AGENT))
    assert response.status_code == 200
    entries = response.json()["items"]
    assert [e["version"] for e in entries] == list(range(1, 15))
    assert entries[1]["readable"] is False
    assert entries[1]["data"] is None
    assert all(e["readable"] for e in entries if e["version"] != 2)


def test_replaying_a_dispute_with_a_missing_event_stops_there(store: Store) -> None:
    delete_it(store)
    result = run_cli(store.settings, "replay", str(store.tampered))
    assert result.exit_code == 1
    assert "cannot replay past version 1" in result.stderr
    assert run_cli(store.settings, "replay", str(store.untouched)).exit_code == 0


def test_reading_a_dispute_whose_history_was_cut_is_a_logged_integrity_error(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    delete_event(store.settings, store.tampered, 13)  # after the version-12 snapshot: the tail has a gap
    with client(store.settings) as c:
        for path in (f"/v1/disputes/{store.tampered}", f"/v1/disputes/{store.tampered}/state?version=14"):
            response = c.get(path, headers=headers(store.settings, Role.AGENT, "agent-1"))
            assert response.status_code == 500, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "integrity_error"
        assert c.get(f"/v1/disputes/{store.untouched}", headers=headers(store.settings)).status_code == 200
    assert any("cannot be replayed" in r.getMessage() for r in caplog.records)
    assert store.verify(store.tampered)["first_invalid_version"] == 13
