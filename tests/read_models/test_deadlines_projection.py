"""The deadlines read model against every store: rows follow each dispute's open deadlines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bootstrap import build_views_db, ensure_views
from domain.application import DisputeApp
from domain.values import Deadline, Status
from projections import base, deadlines
from projections.db import Database
from projections.deadlines import Deadlines
from projections.runner import Follower
from service.settings import Settings
from support.builders import AGENT, BUYER, Clock, Scenario, scenario_in


@pytest.fixture
def views(settings: Settings, app: DisputeApp) -> Iterator[Database]:
    db = build_views_db(settings)
    ensure_views(db, settings)
    yield db
    db.close()


def caught_up(app: DisputeApp, views: Database) -> Database:
    Follower(app, views, Deadlines).catch_up()
    return views


def test_opening_records_the_opening_deadlines_at_version_1(app: DisputeApp, views: Database) -> None:
    s = Scenario(app).open()
    rows = deadlines.of_dispute(caught_up(app, views), s.id)
    dispute = app.dispute(s.id)
    assert {name: row.due_at for name, row in rows.items()} == dispute.deadlines
    assert set(rows) == {Deadline.SELLER_RESPONSE, Deadline.NEGOTIATION, Deadline.EVIDENCE}
    assert {row.version for row in rows.values()} == {1}


def test_a_counter_offer_clears_the_seller_response_deadline(app: DisputeApp, views: Database) -> None:
    s = Scenario(app).open().seller_counters()
    rows = deadlines.of_dispute(caught_up(app, views), s.id)
    assert set(rows) == {Deadline.NEGOTIATION, Deadline.EVIDENCE}
    assert {row.version for row in rows.values()} == {2}


def test_an_agent_extension_moves_the_due_time(app: DisputeApp, views: Database) -> None:
    s = Scenario(app).open()
    before = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE]
    app.extend_deadline(s.id, s.clock.ctx(AGENT), Deadline.SELLER_RESPONSE, timedelta(days=2), "seller on holiday")
    row = deadlines.of_dispute(caught_up(app, views), s.id)[Deadline.SELLER_RESPONSE]
    assert row.due_at == before + timedelta(days=2)
    assert row.version == 2


def test_events_that_leave_deadlines_alone_leave_the_rows_alone(app: DisputeApp, views: Database) -> None:
    s = Scenario(app).open()
    app.post_message(s.id, s.clock.ctx(BUYER), "any news?")
    rows = deadlines.of_dispute(caught_up(app, views), s.id)
    assert app.dispute(s.id).version == 2
    assert {row.version for row in rows.values()} == {1}


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.WITHDRAWN])
def test_a_closed_dispute_has_no_open_deadlines(app: DisputeApp, views: Database, status: Status) -> None:
    s = scenario_in(app, status)
    assert deadlines.of_dispute(caught_up(app, views), s.id) == {}


def test_escalation_swaps_the_negotiation_deadlines_for_the_review_sla(app: DisputeApp, views: Database) -> None:
    s = scenario_in(app, Status.UNDER_REVIEW)
    rows = deadlines.of_dispute(caught_up(app, views), s.id)
    assert set(rows) == {Deadline.EVIDENCE, Deadline.REVIEW_SLA}
    assert rows[Deadline.REVIEW_SLA].due_at == s.clock.now + app.policy.review_sla


def test_due_lists_what_is_due_longest_overdue_first(app: DisputeApp, views: Database) -> None:
    clock = Clock()
    first, second = Scenario(app, clock).open(), Scenario(app, clock).open()
    caught_up(app, views)
    first_due = app.dispute(first.id).deadlines[Deadline.SELLER_RESPONSE]
    second_due = app.dispute(second.id).deadlines[Deadline.SELLER_RESPONSE]
    assert first_due < second_due

    assert deadlines.due(views, first_due - timedelta(microseconds=1)) == []
    assert [(d.dispute_id, d.deadline) for d in deadlines.due(views, second_due)] == [
        (first.id, Deadline.SELLER_RESPONSE),
        (second.id, Deadline.SELLER_RESPONSE),
    ]
    assert len(deadlines.due(views, second_due, limit=1)) == 1
    assert deadlines.overdue_count(views, first_due) == 1


def test_a_rebuild_gives_the_same_rows(app: DisputeApp, views: Database, settings: Settings) -> None:
    s = Scenario(app).open().seller_counters()
    app.extend_deadline(s.id, s.clock.ctx(AGENT), Deadline.NEGOTIATION, timedelta(hours=5), "holiday")
    before = deadlines.of_dispute(caught_up(app, views), s.id)
    number = base.create_generation(views, Deadlines, Deadlines.default_params(), activate=False)
    Follower(app, views, Deadlines, generation_number=number).catch_up()
    base.switch(views, Deadlines, number)
    assert base.active(views, Deadlines.name).number == number  # type: ignore[union-attr]
    assert deadlines.of_dispute(views, s.id) == before
