"""Poison events: a read model that cannot apply an event stops at it, shows
the fault, applies nothing twice and nothing after it; the others go on;
an operator retries it or skips that one event (recorded)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.values import Status
from projections import base, faults
from projections.catalog import PROJECTIONS
from projections.db import Database
from projections.runner import Follower, PollingWaiter
from projections.timeline import Timeline
from support.builders import scenario_in
from support.poison import heal, poisoned_timeline
from support.stores import settings_for

POISON = 5


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[DisputeApp, Database]]:
    settings = settings_for(request.param, tmp_path, request)
    app, views = build_app(settings), build_views_db(settings)
    ensure_views(views, settings)
    for status in (Status.RESOLVED, Status.UNDER_REVIEW, Status.NEGOTIATING):
        scenario_in(app, status)
    yield app, views
    app.close()
    views.close()


def timeline_positions(views: Database, generation: int) -> list[int]:
    with views.reading() as cur:
        cur.run("SELECT position FROM {t} ORDER BY position", t=base.physical("timeline_entries", generation))
        return [int(r["position"]) for r in cur.all()]


def head(app: DisputeApp) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_read_model_stops_at_the_event_it_cannot_apply_and_the_others_go_on(
    world: tuple[DisputeApp, Database],
) -> None:
    app, views = world
    poisoned = poisoned_timeline(POISON)
    Follower(app, views, poisoned).catch_up()
    for projection in PROJECTIONS.values():
        if projection is not Timeline:
            Follower(app, views, projection).catch_up()

    timeline = base.active(views, "timeline")
    assert timeline is not None and timeline.fault is not None
    assert (timeline.position, timeline.fault.position) == (POISON - 1, POISON)
    assert timeline.fault.error.startswith("ValueError: cannot apply")
    assert timeline_positions(views, timeline.number) == list(range(1, POISON)), "everything before it, once"
    others = {name: base.active(views, name) for name in PROJECTIONS if name != "timeline"}
    assert {name: g.position for name, g in others.items() if g} == {name: head(app) for name in others}
    assert poisoned.attempts == 2, "once in its batch, once alone"

    assert Follower(app, views, poisoned).step() == 0, "stopped: nothing is tried again"
    assert poisoned.attempts == 2


def test_a_stopped_worker_does_not_retry_the_event_every_second(world: tuple[DisputeApp, Database]) -> None:
    app, views = world
    poisoned = poisoned_timeline(POISON)
    stop = threading.Event()
    worker = threading.Thread(target=Follower(app, views, poisoned).run_forever, args=(stop, PollingWaiter(stop, 0.05)))
    worker.start()
    time.sleep(2.0)
    stop.set()
    worker.join(timeout=10)
    assert poisoned.attempts == 2, "tried in its batch and alone, then stopped until an operator acts"


def test_retry_applies_the_event_once_it_can_be_and_the_view_equals_a_clean_build(
    world: tuple[DisputeApp, Database],
) -> None:
    app, views = world
    poisoned = poisoned_timeline(POISON)
    Follower(app, views, poisoned).catch_up()
    with pytest.raises(faults.NotFaulted):
        faults.retry(views, "deadlines", 1)
    faults.retry(views, "timeline", 1)
    Follower(app, views, poisoned).catch_up()
    assert base.active(views, "timeline").fault is not None, "still failing: stopped again"  # type: ignore[union-attr]

    heal(poisoned)
    faults.retry(views, "timeline", 1)
    Follower(app, views, poisoned).catch_up()
    timeline = base.active(views, "timeline")
    assert timeline is not None and timeline.fault is None and timeline.position == head(app)
    clean = base.create_generation(views, Timeline, {}, activate=False)
    Follower(app, views, Timeline, generation_number=clean).catch_up()
    assert timeline_positions(views, timeline.number) == timeline_positions(views, clean)
    assert len(timeline_positions(views, clean)) == head(app)


def test_skip_moves_past_that_one_event_only_and_is_recorded(world: tuple[DisputeApp, Database]) -> None:
    app, views = world
    poisoned = poisoned_timeline(POISON)
    Follower(app, views, poisoned).catch_up()
    with pytest.raises(faults.NotFaulted, match=f"stopped at position {POISON}, not {POISON + 1}"):
        faults.skip(views, "timeline", 1, POISON + 1, "wrong one")
    faults.skip(views, "timeline", 1, POISON, "ticket OPS-1")
    Follower(app, views, poisoned).catch_up()
    timeline = base.active(views, "timeline")
    assert timeline is not None and timeline.fault is None and timeline.position == head(app)
    assert timeline_positions(views, 1) == [p for p in range(1, head(app) + 1) if p != POISON]
    [record] = faults.skipped(views, "timeline")
    assert (record["generation"], record["position"], record["reason"]) == (1, POISON, "ticket OPS-1")
    assert str(record["error"]).startswith("ValueError: cannot apply")
    with pytest.raises(faults.NotFaulted):
        faults.skip(views, "timeline", 1, POISON, "again")


class LostConnection(Timeline):
    dispatcher = "handles"
    handles = Timeline.__dict__["project"]

    def project(self, event: object, position: int) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")


def test_a_database_failure_is_retried_never_recorded_as_a_fault(world: tuple[DisputeApp, Database]) -> None:
    app, views = world
    with pytest.raises(psycopg.OperationalError):
        Follower(app, views, LostConnection).step()
    timeline = base.active(views, "timeline")
    assert timeline is not None and (timeline.position, timeline.fault) == (0, None)
