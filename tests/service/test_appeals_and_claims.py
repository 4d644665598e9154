"""Appeals and claims against every store, and the scheduler closing appeal
windows (exactly once) on a clock the test moves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.errors import ClaimedByAnotherAgent, InvalidTransition, NotClaimant, SameAgent
from domain.values import AppealDecision, Deadline, Outcome, ResolvedHow, Status
from projections.db import Database
from service.metrics import Metrics
from service.scheduler import Scheduler, build_scheduler
from service.settings import Settings
from support.builders import AGENT, BUYER, OTHER_AGENT, SELLER, T0, Clock, Scenario, scenario_in, usd


@dataclass
class Now:
    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def views(settings: Settings, app: DisputeApp) -> Iterator[Database]:
    db = build_views_db(settings)
    ensure_views(db, settings)
    yield db
    db.close()


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def scheduler(app: DisputeApp, views: Database, now: Now) -> Scheduler:
    return build_scheduler(app, views, now, Metrics(), name="appeal-scheduler")


def types_after_opening(app: DisputeApp, dispute_id: UUID) -> list[str]:
    return [type(e).__name__ for e in app.repository.event_store.get(dispute_id)][1:]


def ruled(app: DisputeApp, clock: Clock | None = None) -> Scenario:
    return scenario_in(app, Status.UNDER_REVIEW, clock).agent_rules(AGENT, Outcome.NO_REFUND)


def test_an_appeal_overturned_by_another_agent_is_stored_and_read_back(app: DisputeApp) -> None:
    s = ruled(app)
    app.appeal(s.id, s.clock.ctx(SELLER), "I never got to show the tracking")
    with pytest.raises(SameAgent):
        app.decide_appeal(s.id, s.clock.ctx(AGENT), AppealDecision.UPHELD, None, None, None, "stands")
    app.decide_appeal(
        s.id, s.clock.ctx(OTHER_AGENT), AppealDecision.OVERTURNED, Outcome.REFUND_FULL, usd(2000), True, "damaged"
    )
    d = app.dispute(s.id)
    assert types_after_opening(app, s.id)[-3:] == ["DisputeAppealed", "AppealDecided", "DisputeResolved"]
    assert d.status is Status.RESOLVED and d.resolution is not None
    assert (d.resolution.how, d.resolution.final, d.resolution.ruled_by) == (ResolvedHow.APPEAL, True, "")
    assert d.appeal is not None and d.appeal.appealed_by == SELLER and d.appeal.decision is AppealDecision.OVERTURNED


def test_claims_are_stored_and_survive_a_reload(app: DisputeApp, settings: Settings) -> None:
    s = scenario_in(app, Status.UNDER_REVIEW)
    app.claim(s.id, s.clock.ctx(AGENT), False, "")
    with pytest.raises(ClaimedByAnotherAgent):
        app.claim(s.id, s.clock.ctx(OTHER_AGENT), False, "")
    app.claim(s.id, s.clock.ctx(OTHER_AGENT), True, "agent-1 is away")
    with pytest.raises(NotClaimant):
        app.release(s.id, s.clock.ctx(AGENT), "")
    if settings.backend != "memory":
        reloaded = build_app(settings)  # another process reads what was stored
        try:
            assert reloaded.dispute(s.id).assigned_agent == OTHER_AGENT.id
        finally:
            reloaded.close()
    app.release(s.id, s.clock.ctx(OTHER_AGENT), "done")
    assert app.dispute(s.id).assigned_agent is None
    assert types_after_opening(app, s.id)[-3:] == ["DisputeClaimed", "DisputeClaimed", "DisputeReleased"]


def test_the_scheduler_closes_an_unused_appeal_window_once(app: DisputeApp, scheduler: Scheduler, now: Now) -> None:
    s = ruled(app)
    due = app.dispute(s.id).deadlines[Deadline.APPEAL_WINDOW]
    now.at = due - timedelta(microseconds=1)
    assert scheduler.tick() == {}
    now.at = due + timedelta(seconds=1)

    assert scheduler.tick() == {"fired": 1}
    assert scheduler.tick() == {}

    assert types_after_opening(app, s.id)[-2:] == ["DisputeResolved", "AppealWindowClosed"]
    closed = list(app.repository.event_store.get(s.id))[-1]
    assert (closed.actor_role, closed.due_at, closed.deadlines) == ("system", due, {})
    d = app.dispute(s.id)
    assert d.resolution is not None and d.resolution.final and d.resolution.appealable_until is None
    with pytest.raises(InvalidTransition):
        app.appeal(s.id, s.clock.ctx(BUYER), "too late")


def test_an_appeal_in_time_leaves_nothing_for_the_window_to_close(
    app: DisputeApp, scheduler: Scheduler, now: Now
) -> None:
    s = ruled(app).buyer_appeals()
    d = app.dispute(s.id)
    assert Deadline.APPEAL_WINDOW not in d.deadlines
    now.at = d.resolution.resolved_at + app.policy.appeal_window + timedelta(seconds=1)  # type: ignore[union-attr]
    scheduler.tick()  # the appeal review is due too by now: only a breach is recorded
    assert "AppealWindowClosed" not in types_after_opening(app, s.id)
    assert types_after_opening(app, s.id)[-1] == "AppealReviewSlaBreached"
    assert app.dispute(s.id).status is Status.UNDER_APPEAL


def test_two_schedulers_racing_close_each_appeal_window_once(
    app: DisputeApp, views: Database, settings: Settings, now: Now
) -> None:
    clock = Clock()
    disputes = [ruled(app, clock).id for _ in range(6)]
    now.at = clock.now + app.policy.appeal_window
    second_app = app if settings.backend == "memory" else build_app(settings)
    start = threading.Barrier(2)

    def run(scheduler: Scheduler) -> dict[str, int]:
        start.wait()
        return scheduler.tick()

    try:
        schedulers = [build_scheduler(a, views, now, Metrics(), name=f"s{i}") for i, a in enumerate((app, second_app))]
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(run, schedulers))
    finally:
        if second_app is not app:
            second_app.close()

    fired = sum(r.get("fired", 0) for r in results)
    for dispute_id in disputes:
        assert types_after_opening(app, dispute_id).count("AppealWindowClosed") == 1
    # each dispute's review SLA was cleared by its ruling: the windows are all that fired
    assert fired == len(disputes)
