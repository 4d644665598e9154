"""Appeals and claims in the read models, on SQLite and Postgres: timeline
entries, penalty scores around an overturn (as_of before and after), the
list's assignment column and filters, statistics under appeal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.values import AppealDecision, Deadline, Outcome, Role, Status
from projections import base, dispute_list, penalties, statistics, timeline
from projections.catalog import PROJECTIONS
from projections.db import Database
from projections.runner import Follower
from service.settings import Settings
from support.builders import AGENT, OTHER_AGENT, SELLER, SYSTEM, Scenario, scenario_in, usd
from support.stores import settings_for

WINDOW = timedelta(days=90)


class World:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app: DisputeApp = build_app(settings)
        self.views: Database = build_views_db(settings)
        ensure_views(self.views, settings)

    def catch_up(self) -> None:
        for projection in PROJECTIONS.values():
            Follower(self.app, self.views, projection).catch_up()

    def close(self) -> None:
        self.app.close()
        self.views.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    w = World(settings_for(request.param, tmp_path, request))
    yield w
    w.close()


def score(world: World, when: datetime) -> int:
    return penalties.score(world.views, SELLER.id, when, WINDOW).score


def appealed(world: World, outcome: Outcome, at_fault: bool) -> Scenario:
    s = scenario_in(world.app, Status.UNDER_REVIEW)
    refund = usd(2000) if outcome is Outcome.REFUND_FULL else None
    world.app.issue_ruling(s.id, s.clock.ctx(AGENT), outcome, refund, at_fault, "first look")
    return s.buyer_appeals()


def decide(world: World, s: Scenario, outcome: Outcome | None, at_fault: bool | None) -> datetime:
    """Decide the appeal (overturned when `outcome` is given); the instant it happened."""
    decision = AppealDecision.OVERTURNED if outcome else AppealDecision.UPHELD
    refund = usd(2000) if outcome is Outcome.REFUND_FULL else None
    result = world.app.decide_appeal(s.id, s.clock.ctx(OTHER_AGENT), decision, outcome, refund, at_fault, "again")
    return result.dispute.modified_on


# ------------------------------------------------------------------ penalties
def test_an_overturn_to_seller_fault_adds_the_new_ruling_and_restores_the_forgiven_points(world: World) -> None:
    s = appealed(world, Outcome.NO_REFUND, False)
    overturned_at = decide(world, s, Outcome.REFUND_FULL, True)
    world.catch_up()
    assert score(world, overturned_at - timedelta(microseconds=1)) == 0, "the first ruling forgave the seller"
    after = penalties.score(world.views, SELLER.id, overturned_at, WINDOW)
    assert after.breakdown == {
        "opened": {"count": 1, "points": 1},
        "escalated": {"count": 1, "points": 2},
        "ruling_refund_full_at_fault": {"count": 1, "points": 10},
    }


def test_an_overturn_to_no_fault_removes_the_rulings_points_from_that_moment(world: World) -> None:
    s = appealed(world, Outcome.REFUND_FULL, True)
    overturned_at = decide(world, s, Outcome.NO_REFUND, False)
    world.catch_up()
    assert score(world, overturned_at - timedelta(microseconds=1)) == 13, "as_of before the overturn: old points"
    assert score(world, overturned_at) == 0


def test_an_upheld_ruling_keeps_its_points(world: World) -> None:
    s = appealed(world, Outcome.REFUND_FULL, True)
    upheld_at = decide(world, s, None, None)
    world.catch_up()
    assert score(world, upheld_at - timedelta(microseconds=1)) == 13
    assert penalties.score(world.views, SELLER.id, upheld_at, WINDOW).breakdown["ruling_refund_full_at_fault"] == {
        "count": 1,
        "points": 10,
    }
    assert score(world, upheld_at + timedelta(days=1)) == 13


# ------------------------------------------------------------------- timeline
def test_the_timeline_tells_the_appeal_and_hides_claims_from_the_parties(world: World) -> None:
    s = appealed(world, Outcome.NO_REFUND, False)
    world.app.claim(s.id, s.clock.ctx(OTHER_AGENT), False, "")
    decide(world, s, Outcome.REFUND_FULL, True)
    window = scenario_in(world.app, Status.UNDER_REVIEW).agent_rules()
    window.clock.now += world.app.policy.appeal_window
    world.app.expire_deadline(window.id, window.clock.ctx(SYSTEM), Deadline.APPEAL_WINDOW)
    world.catch_up()

    entries = timeline.entries(world.views, s.id, Role.AGENT)
    summaries = {e.type: e.summary for e in entries}
    assert summaries["DisputeAppealed"] == "Buyer appealed the ruling"
    assert summaries["DisputeClaimed"] == "Agent agent-2 claimed the dispute"
    assert summaries["AppealDecided"] == "Agent overturned the ruling on appeal"
    resolutions = [e for e in entries if e.type == "DisputeResolved"]
    assert resolutions[0].summary.startswith("Resolved by ruling: no refund (open to appeal until ")
    assert resolutions[1].summary == "Resolved by appeal: refund full with 20.00 USD"
    assert resolutions[1].data["final"] is True and resolutions[0].data["final"] is False
    for party in (Role.BUYER, Role.SELLER):
        seen = [e.type for e in timeline.entries(world.views, s.id, party)]
        assert "DisputeAppealed" in seen and "AppealDecided" in seen and "DisputeClaimed" not in seen
    closed = timeline.entries(world.views, window.id, Role.BUYER)[-1]
    assert (closed.type, closed.summary) == ("AppealWindowClosed", "The appeal window closed: the ruling is final")


# --------------------------------------------------------------- dispute list
def test_the_list_row_holds_the_assigned_agent_and_filters_on_it(world: World) -> None:
    mine = scenario_in(world.app, Status.UNDER_REVIEW)
    nobodys = scenario_in(world.app, Status.UNDER_REVIEW)
    under_appeal = scenario_in(world.app, Status.UNDER_APPEAL)
    world.app.claim(mine.id, mine.clock.ctx(AGENT), False, "")
    world.app.claim(under_appeal.id, under_appeal.clock.ctx(AGENT), False, "")
    world.catch_up()

    def ids(filters: dispute_list.Filters) -> set[str]:
        return {r["dispute_id"] for r in dispute_list.search(world.views, AGENT, filters, None, 500)}

    assert ids(dispute_list.Filters(assigned_agent=AGENT.id)) == {str(mine.id), str(under_appeal.id)}
    assert ids(dispute_list.Filters(unassigned=True)) == {str(nobodys.id)}
    assert ids(dispute_list.Filters(status=("under_appeal",), assigned_agent=AGENT.id)) == {str(under_appeal.id)}
    row = next(r for r in dispute_list.search(world.views, AGENT, dispute_list.Filters(), None, 500)
               if r["dispute_id"] == str(under_appeal.id))  # fmt: skip
    assert (row["status"], row["party_to_act"], row["assigned_agent"]) == ("under_appeal", "agent", AGENT.id)
    world.app.issue_ruling(mine.id, mine.clock.ctx(AGENT), Outcome.NO_REFUND, None, False, "done")
    world.catch_up()
    assert ids(dispute_list.Filters(assigned_agent=AGENT.id)) == {str(under_appeal.id)}, "a ruling ends the claim"


def test_a_list_built_before_claims_existed_is_rebuilt_with_them(world: World) -> None:
    s = scenario_in(world.app, Status.UNDER_REVIEW)
    world.app.claim(s.id, s.clock.ctx(AGENT), False, "")
    world.catch_up()
    old = base.active(world.views, "dispute_list")
    assert old is not None
    with world.views.transaction() as cur:  # as the layout-1 projection left it
        cur.run(
            "UPDATE {registry} SET params = %s WHERE projection = 'dispute_list' AND generation = %s",
            [{base.LAYOUT: 1}, old.number],
            registry=base.REGISTRY,
        )
    ensure_views(world.views, world.settings)
    world.catch_up()
    new = base.active(world.views, "dispute_list")
    assert new is not None and new.number == old.number + 1
    rows = dispute_list.search(world.views, AGENT, dispute_list.Filters(assigned_agent=AGENT.id), None, 10)
    assert [r["dispute_id"] for r in rows] == [str(s.id)]


# ----------------------------------------------------------------- statistics
def test_statistics_count_disputes_under_appeal_and_late_appeal_reviews(world: World) -> None:
    s = scenario_in(world.app, Status.UNDER_APPEAL)
    world.catch_up()
    appealed_at = world.app.dispute(s.id).modified_on
    on_time = statistics.dispute_statistics(world.views, "status", None, None, appealed_at + timedelta(days=1))
    assert {g["key"]: g["count"] for g in on_time} == {"under_appeal": 1}
    assert on_time[0]["sla_breaches"] == 0
    late = statistics.dispute_statistics(world.views, "status", None, None, appealed_at + timedelta(days=8))
    assert late[0]["sla_breaches"] == 1, "an appeal review past its target is a breach"
    world.app.decide_appeal(s.id, s.clock.ctx(AGENT), AppealDecision.UPHELD, None, None, None, "stands")
    world.catch_up()
    [resolved] = statistics.dispute_statistics(world.views, "status", None, None, appealed_at + timedelta(days=8))
    assert (resolved["key"], resolved["sla_breaches"]) == ("resolved", 0)
    assert resolved["median_resolution_seconds"] is not None
