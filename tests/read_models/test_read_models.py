"""Each read model, fed real events through the application, on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.values import Deadline, Outcome, Reason, Remedy, ReturnCondition, Role, Status
from projections import base, dispute_list, penalties, statistics, timeline
from projections.catalog import PROJECTIONS
from projections.db import Database, as_json
from projections.runner import Follower
from service.settings import Settings
from support.builders import AGENT, BUYER, OTHER_BUYER, SELLER, SYSTEM, T0, Scenario, scenario_in, usd
from support.stores import settings_for

VIEW_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
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


@pytest.fixture(params=VIEW_BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    w = World(settings_for(request.param, tmp_path, request))
    yield w
    w.close()


def summary_row(world: World, s: Scenario) -> dict[str, object]:
    rows = dispute_list.search(world.views, AGENT, dispute_list.Filters(), None, 500)
    return next(r for r in rows if r["dispute_id"] == str(s.id))


# ------------------------------------------------------------------ timeline
def test_the_timeline_has_one_row_per_event_with_a_human_summary(world: World) -> None:
    s = scenario_in(world.app, Status.NEGOTIATING)
    world.catch_up()
    entries = timeline.entries(world.views, s.id, Role.AGENT)
    assert [(e.version, e.type) for e in entries] == [(1, "DisputeOpened"), (2, "OfferProposed")]
    assert entries[1].summary == "Seller proposed a partial refund of 8.00 USD"
    assert entries[1].data["refund"] == {"amount_minor": 800, "currency": "USD"}
    assert entries[1].actor_role == "seller"
    assert entries[0].position < entries[1].position


def test_parties_do_not_see_each_others_private_messages_in_the_timeline(world: World) -> None:
    s = scenario_in(world.app, Status.UNDER_REVIEW)
    world.app.post_message(s.id, s.clock.ctx(SELLER), "only for the agent")
    world.catch_up()
    assert "MessagePosted" in [e.type for e in timeline.entries(world.views, s.id, Role.SELLER)]
    assert "MessagePosted" not in [e.type for e in timeline.entries(world.views, s.id, Role.BUYER)]
    assert "MessagePosted" in [e.type for e in timeline.entries(world.views, s.id, Role.AUDITOR)]


# -------------------------------------------------------------- dispute list
def test_the_list_row_follows_status_and_party_to_act(world: World) -> None:
    s = Scenario(world.app).open(Remedy.RETURN_AND_REFUND)
    world.catch_up()
    assert (summary_row(world, s)["status"], summary_row(world, s)["party_to_act"]) == ("awaiting_seller", "seller")
    s.seller_accepts()
    world.catch_up()
    assert (summary_row(world, s)["status"], summary_row(world, s)["party_to_act"]) == ("awaiting_return", "buyer")
    s.buyer_ships_return()
    world.app.confirm_return_receipt(s.id, s.clock.ctx(SELLER), ReturnCondition.RECEIVED_DAMAGED, "broken")
    world.catch_up()
    row = summary_row(world, s)
    assert (row["status"], row["party_to_act"], row["version"]) == ("under_review", "agent", 4)


def test_a_rejection_hands_the_move_back_to_the_proposer(world: World) -> None:
    s = Scenario(world.app).open()
    world.app.reject_offer(s.id, s.clock.ctx(SELLER), s.pending_offer_id(), "no")
    world.catch_up()
    row = summary_row(world, s)
    assert (row["status"], row["party_to_act"]) == ("negotiating", "buyer")


def test_the_list_records_the_outcome_and_deadlines(world: World) -> None:
    s = scenario_in(world.app, Status.RESOLVED)
    open_one = scenario_in(world.app, Status.AWAITING_SELLER)
    world.catch_up()
    resolved = summary_row(world, s)
    assert (resolved["outcome"], resolved["resolved_how"], resolved["refund_minor"]) == (
        "refund_partial",
        "agreement",
        1500,
    )
    assert resolved["next_deadline_at"] is None
    pending = summary_row(world, open_one)
    assert pending["next_deadline_at"] is not None
    assert set(as_json(pending["deadlines"])) == {"seller_response", "negotiation", "evidence"}


def test_search_filters_by_index_and_scopes_parties(world: World) -> None:
    mine = scenario_in(world.app, Status.NEGOTIATING)
    other = Scenario(world.app)
    world.app.open_dispute(
        other.clock.ctx(OTHER_BUYER),
        order_id=other.order_id,
        seller_id="seller-9",
        reason=Reason.FAKE_TRACKING,
        remedy=Remedy.REFUND_ONLY,
        refund=usd(100),
        order_amount=usd(2000),
        description="",
    )
    world.catch_up()
    as_buyer = dispute_list.search(world.views, BUYER, dispute_list.Filters(), None, 50)
    assert {r["dispute_id"] for r in as_buyer} == {str(mine.id)}
    by_seller = dispute_list.search(world.views, AGENT, dispute_list.Filters(seller_id=("seller-9",)), None, 50)
    assert [r["reason"] for r in by_seller] == ["fake_tracking"]
    by_status = dispute_list.search(world.views, AGENT, dispute_list.Filters(status=("negotiating",)), None, 50)
    assert [r["dispute_id"] for r in by_status] == [str(mine.id)]
    none_before = dispute_list.search(world.views, AGENT, dispute_list.Filters(opened_before=T0), None, 50)
    assert none_before == []


# ----------------------------------------------------------------- penalties
def penalty_score(world: World, seller: str, when: object) -> penalties.Score:
    return penalties.score(world.views, seller, when, WINDOW)  # type: ignore[arg-type]


def test_every_row_of_the_penalty_table(world: World) -> None:
    missed = Scenario(world.app).open()
    missed.clock.now += timedelta(days=6)
    world.app.expire_deadline(missed.id, missed.clock.ctx(SYSTEM), Deadline.SELLER_RESPONSE)
    full = scenario_in(world.app, Status.UNDER_REVIEW)
    world.app.issue_ruling(full.id, full.clock.ctx(AGENT), Outcome.REFUND_FULL, None, True, "clear fault")
    partial = scenario_in(world.app, Status.UNDER_REVIEW)
    world.app.issue_ruling(partial.id, partial.clock.ctx(AGENT), Outcome.REFUND_PARTIAL, usd(600), True, "half")
    world.catch_up()
    score = penalty_score(world, SELLER.id, T0 + timedelta(days=10))
    assert score.breakdown == {
        "opened": {"count": 3, "points": 3},
        "response_deadline_missed": {"count": 1, "points": 5},
        "escalated": {"count": 2, "points": 4},
        "ruling_refund_full_at_fault": {"count": 1, "points": 10},
        "ruling_refund_partial_at_fault": {"count": 1, "points": 6},
    }
    assert (score.score, score.level) == (28, "warning")


def test_withdrawal_removes_the_opening_and_escalation_points_from_then_on(world: World) -> None:
    s = scenario_in(world.app, Status.UNDER_REVIEW)
    before_withdrawal = s.clock.now
    s.buyer_withdraws()
    world.catch_up()
    assert penalty_score(world, SELLER.id, before_withdrawal).score == 3
    assert penalty_score(world, SELLER.id, s.clock.now).score == 0


def test_a_ruling_without_seller_fault_removes_points_but_a_no_fault_refund_adds_none(world: World) -> None:
    s = scenario_in(world.app, Status.UNDER_REVIEW)
    world.app.issue_ruling(s.id, s.clock.ctx(AGENT), Outcome.REFUND_FULL, None, False, "carrier lost it")
    world.catch_up()
    assert penalty_score(world, SELLER.id, s.clock.now).score == 0


def test_a_missed_return_shipment_clears_the_sellers_points(world: World) -> None:
    s = scenario_in(world.app, Status.AWAITING_RETURN)
    s.clock.now += timedelta(days=11)
    world.app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.RETURN_SHIPPING)
    world.catch_up()
    assert penalty_score(world, SELLER.id, s.clock.now).score == 0


def test_the_score_is_a_rolling_window_ending_at_as_of(world: World) -> None:
    scenario_in(world.app, Status.AWAITING_SELLER)
    world.catch_up()
    assert penalty_score(world, SELLER.id, T0 - timedelta(seconds=1)).score == 0
    assert penalty_score(world, SELLER.id, T0 + timedelta(days=89)).score == 1
    assert penalty_score(world, SELLER.id, T0 + timedelta(days=91)).score == 0


def test_levels_and_ranking(world: World) -> None:
    assert [penalties.level(n) for n in (0, 9, 10, 29, 30)] == ["good", "good", "warning", "warning", "restricted"]
    for _ in range(3):
        scenario_in(world.app, Status.AWAITING_SELLER)
    world.catch_up()
    ranked = penalties.ranking(world.views, T0 + timedelta(days=1), WINDOW, None, 10)
    assert [(r.seller_id, r.score, r.level) for r in ranked] == [(SELLER.id, 3, "good")]
    assert ranked[0].breakdown == {"opened": {"count": 3, "points": 3}}


# ---------------------------------------------------------------- statistics
def test_statistics_count_refunds_median_and_sla_breaches(world: World) -> None:
    scenario_in(world.app, Status.RESOLVED)  # opened at T0+10m, resolved at T0+20m
    slow = scenario_in(world.app, Status.UNDER_REVIEW)
    slow.clock.now += timedelta(days=8)
    world.app.issue_ruling(slow.id, slow.clock.ctx(AGENT), Outcome.NO_REFUND, None, False, "late ruling")
    scenario_in(world.app, Status.UNDER_REVIEW)
    world.catch_up()
    groups = statistics.dispute_statistics(world.views, "status", None, None, T0 + timedelta(days=30))
    by_key = {g["key"]: g for g in groups}
    assert by_key["resolved"]["count"] == 2
    assert by_key["resolved"]["refund_totals"] == [{"currency": "USD", "amount_minor": 1500}]
    assert by_key["resolved"]["sla_breaches"] == 1, "the slow review closed after its 7-day target"
    assert by_key["under_review"]["sla_breaches"] == 1, "an open review past its target counts too"
    quick_seconds = 10 * 60
    slow_seconds = (8 * 24 * 60 + 30) * 60  # opened T0+10m, ruled T0+8d+40m
    assert by_key["resolved"]["median_resolution_seconds"] == (quick_seconds + slow_seconds) / 2


# ------------------------------------------------------------- upgrades
def test_a_generation_built_with_an_older_table_layout_is_rebuilt_at_the_next_start(world: World) -> None:
    scenario_in(world.app, Status.RESOLVED)
    world.catch_up()
    before = statistics.dispute_statistics(world.views, "status", None, None, T0 + timedelta(days=400))
    old = base.active(world.views, "statistics")
    assert old is not None and old.params[base.LAYOUT] == statistics.Statistics.layout
    with world.views.transaction() as cur:  # as an older version of the projection left it
        cur.run(
            "UPDATE {registry} SET params = %s WHERE projection = 'statistics' AND generation = %s",
            [{}, old.number],
            registry=base.REGISTRY,
        )

    ensure_views(world.views, world.settings)
    world.catch_up()

    new = base.active(world.views, "statistics")
    assert new is not None and new.number == old.number + 1
    assert new.params[base.LAYOUT] == statistics.Statistics.layout
    assert [g.number for g in base.generations(world.views, "statistics")] == [new.number]
    assert statistics.dispute_statistics(world.views, "status", None, None, T0 + timedelta(days=400)) == before
