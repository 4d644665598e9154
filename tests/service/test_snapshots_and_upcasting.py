"""Snapshots every N events, and class_version upcasting of events and snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import build_app
from domain import events
from domain.application import DisputeApp
from domain.dispute import Dispute
from service.recorded import verify_chain
from service.settings import Settings
from support.builders import AGENT, BUYER, SELLER, Scenario, state_of
from support.stores import settings_for


def _many_messages(app: DisputeApp, count: int) -> Scenario:
    s = Scenario(app).open()
    for i in range(count):
        app.post_message(s.id, s.clock.ctx([BUYER, SELLER, AGENT][i % 3]), f"message {i}")
    return s


def _replay(app: DisputeApp, s: Scenario, version: int | None = None) -> Dispute:
    dispute = None
    for event in app.events.get(s.id, lte=version):
        dispute = event.mutate(dispute)
    assert isinstance(dispute, Dispute)
    return dispute


def test_a_snapshot_is_taken_every_n_events(app: DisputeApp) -> None:
    s = _many_messages(app, 8)  # versions 1..9, interval 4
    assert app.snapshots is not None
    assert [snap.originator_version for snap in app.snapshots.get(s.id)] == [4, 8]


def test_loading_uses_the_latest_snapshot_and_reads_only_the_tail(
    app: DisputeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _many_messages(app, 8)
    if app.repository.cache is not None:  # load from the store, as a new process would
        app.repository.cache.get(s.id, evict=True)
    reads: list[Any] = []
    original = app.events.recorder.select_events

    def spy(originator_id: Any, **kwargs: Any) -> Any:
        reads.append(kwargs.get("gt"))
        return original(originator_id, **kwargs)

    monkeypatch.setattr(app.events.recorder, "select_events", spy)
    loaded = app.repository.get(s.id)
    assert reads == [8], "events after the version-8 snapshot only"
    assert state_of(loaded) == state_of(_replay(app, s))


def test_snapshots_never_change_historic_state(app: DisputeApp) -> None:
    s = _many_messages(app, 10)
    for version in range(1, 12):
        assert state_of(app.repository.get(s.id, version=version)) == state_of(_replay(app, s, version))


def test_without_snapshotting_none_are_taken(tmp_path: Any, request: pytest.FixtureRequest) -> None:
    app = build_app(settings_for("sqlite", tmp_path, request, snapshot_interval=0))
    s = _many_messages(app, 5)
    assert app.snapshots is None
    assert app.dispute(s.id).version == 6


def test_old_events_are_upcast_when_their_class_version_moves_on(
    app: DisputeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _many_messages(app, 2)

    def add_language(state: dict[str, Any]) -> None:
        state["language"] = "und"

    monkeypatch.setattr(events.MessagePosted, "class_version", 2, raising=False)
    monkeypatch.setattr(events.MessagePosted, "upcast_v1_v2", staticmethod(add_language), raising=False)
    messages = [e for e in app.events.get(s.id) if isinstance(e, events.MessagePosted)]
    assert [vars(m)["language"] for m in messages] == ["und", "und"]
    assert verify_chain(app, s.id).valid, "the chain covers the event as recorded, not as upcast"


def test_old_snapshots_are_upcast_when_the_aggregate_class_version_moves_on(
    app: DisputeApp, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _many_messages(app, 4)  # a snapshot at version 4, written at class_version 1

    def add_labels(state: dict[str, Any]) -> None:
        state["labels"] = ["migrated"]

    monkeypatch.setattr(Dispute, "class_version", 2, raising=False)
    monkeypatch.setattr(Dispute, "upcast_v1_v2", staticmethod(add_labels), raising=False)
    restarted = app if settings.backend == "memory" else build_app(settings)  # a new process reads the store
    if restarted is app:  # the in-memory store cannot restart; forget the cached dispute instead
        assert app.repository.cache is not None
        app.repository.cache.get(s.id, evict=True)
    loaded = restarted.repository.get(s.id)
    assert vars(loaded)["labels"] == ["migrated"]
    assert loaded.version == 5
