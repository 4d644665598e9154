"""The statistics' fact history (what `as_of` reads) and its percentile, on
SQLite and Postgres, fed real events through the application; the history is
caught up in several batches, as a live worker would."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_read_models import VIEW_BACKENDS, World

from domain.values import Outcome, Status
from projections import figures, statistics
from projections.db import as_time
from support.builders import AGENT, T0, scenario_in
from support.stores import settings_for


@pytest.fixture(params=VIEW_BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    w = World(settings_for(request.param, tmp_path, request))
    yield w
    w.close()


def history(world: World) -> list[dict[str, Any]]:
    with world.views.reading() as cur:
        cur.run("SELECT * FROM {h} ORDER BY dispute_id, version", h="dispute_fact_history")
        return cur.all()


def test_fact_versions_tile_time_and_the_last_is_the_current_facts(world: World) -> None:
    reviewed = scenario_in(world.app, Status.UNDER_REVIEW)
    world.catch_up()  # one batch ends with the dispute under review...
    reviewed.clock.now += timedelta(days=8)
    world.app.issue_ruling(reviewed.id, reviewed.clock.ctx(AGENT), Outcome.NO_REFUND, None, False, "late")
    scenario_in(world.app, Status.WITHDRAWN)
    world.catch_up()  # ...the next one resolves it
    rows = history(world)
    with world.views.reading() as cur:
        cur.run("SELECT * FROM {f}", f="dispute_facts")
        current = {r["dispute_id"]: statistics.facts_of_row(r) for r in cur.all()}
    by_dispute: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_dispute.setdefault(r["dispute_id"], []).append(r)
    assert set(by_dispute) == set(current)
    for dispute_id, versions in by_dispute.items():
        assert as_time(versions[0]["valid_from"]) == as_time(versions[0]["opened_at"])
        for earlier, later in itertools.pairwise(versions):
            assert as_time(earlier["valid_until"]) == as_time(later["valid_from"])
            assert statistics.facts_of_row(earlier) != statistics.facts_of_row(later), "a version changes a fact"
        assert versions[-1]["valid_until"] is None
        assert statistics.facts_of_row(versions[-1]) == current[dispute_id]
    statuses = [r["status"] for r in by_dispute[str(reviewed.id)]]
    assert statuses == ["awaiting_seller", "negotiating", "under_review", "resolved"]


def test_as_of_reads_the_version_true_at_the_instant(world: World) -> None:
    reviewed = scenario_in(world.app, Status.UNDER_REVIEW)
    escalated_at = reviewed.clock.now
    reviewed.clock.now += timedelta(days=1)
    world.app.issue_ruling(reviewed.id, reviewed.clock.ctx(AGENT), Outcome.NO_REFUND, None, False, "ok")
    world.catch_up()
    now = T0 + timedelta(days=30)

    def statuses(at: Any) -> dict[str, int]:
        return {g["key"]: g["count"] for g in statistics.dispute_statistics(world.views, "status", None, None, now, at)}

    assert statuses(T0) == {}
    assert statuses(escalated_at - timedelta(seconds=1)) == {"negotiating": 1}
    assert statuses(escalated_at) == {"under_review": 1}
    assert statuses(None) == statuses(now) == {"resolved": 1}


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [
        ([3600.0, 7200.0, 14400.0, 36000.0], 10800.0, 29520.0),  # ranks 1.5 and 2.7
        ([5.0], 5.0, 5.0),
        ([1.0, 2.0], 1.5, 1.9),
        ([10.0, 0.0, 30.0, 20.0, 40.0], 20.0, 36.0),  # unsorted input; rank 3.6
    ],
)
def test_percentiles_interpolate_between_the_closest_ranks(values: list[float], p50: float, p90: float) -> None:
    assert figures.percentile(values, 5) == pytest.approx(p50)
    assert figures.percentile(values, 9) == pytest.approx(p90)


def test_no_values_have_no_percentile() -> None:
    assert figures.percentile([], 5) is None


@pytest.mark.parametrize("group_by", ["", "weekday", "reason,reason", "reason,week,month", "Reason"])
def test_bad_groupings_are_refused(group_by: str) -> None:
    with pytest.raises(figures.BadGrouping):
        figures.grouping(group_by)
