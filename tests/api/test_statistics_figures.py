"""Statistics through HTTP on SQLite and Postgres: every group_by and pairs of
them, percentiles, first responses, escalations, SLA breaches, and `as_of`.

Expected figures are recomputed here from the event store itself (each
dispute replayed as it was at the instant asked), with the standard library's
`statistics.quantiles(method="inclusive")` as the percentile oracle; the fact
tables the API reads are never consulted."""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api, build_services
from domain.application import DisputeApp
from domain.dispute import Dispute
from domain.errors import DisputeNotFound
from domain.values import Outcome, Reason, Remedy, Role, Status
from projections import figures
from service import audit as audit_reads
from service.settings import Settings
from support.audit import headers, services
from support.builders import AGENT, AUDITOR, BUYER, ORDER_AMOUNT, SELLER, T0, Clock, Scenario, usd
from support.stores import settings_for

NOW = T0 + timedelta(days=60)
"""The API's clock: after every event of the scenarios."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def opened(app: DisputeApp, at: datetime, reason: Reason, step: timedelta) -> Scenario:
    s = Scenario(app, Clock(at - step, step))
    s.last = app.open_dispute(
        s.clock.ctx(BUYER),
        order_id=s.order_id,
        seller_id=SELLER.id,
        reason=reason,
        remedy=Remedy.REFUND_ONLY,
        refund=usd(1500),
        order_amount=ORDER_AMOUNT,
        description="see photos",
    )
    s.dispute_id = s.last.dispute_id
    return s


def scenarios(app: DisputeApp) -> list[Scenario]:
    """Disputes over two months and several weeks, each step a known time apart."""
    hour = timedelta(hours=1)
    agreed_fast = opened(app, T0, Reason.DAMAGED, hour).seller_accepts()  # resolved after 1 h
    agreed_slow = opened(app, T0 + timedelta(days=1), Reason.DAMAGED, 3 * hour).seller_accepts()  # after 3 h
    ruled = opened(app, T0 + timedelta(days=2), Reason.DAMAGED, 2 * hour).seller_counters().buyer_escalates()
    ruled.clock.step = timedelta(days=9)  # ruled after the 7-day review SLA
    app.issue_ruling(ruled.id, ruled.clock.ctx(AGENT), Outcome.REFUND_PARTIAL, usd(900), True, "half")
    silent = opened(app, T0 + timedelta(days=8), Reason.NOT_RECEIVED, hour)  # the seller never answers
    withdrawn = opened(app, T0 + timedelta(days=33), Reason.NOT_RECEIVED, 30 * timedelta(minutes=1))
    withdrawn.seller_counters().buyer_withdraws()
    ruled_in_april = opened(app, T0 + timedelta(days=34), Reason.WRONG_ITEM, 5 * hour).seller_counters()
    ruled_in_april.buyer_escalates()
    app.issue_ruling(
        ruled_in_april.id, ruled_in_april.clock.ctx(AGENT), Outcome.REFUND_FULL, usd(2000), True, "wrong item"
    )
    return [agreed_fast, agreed_slow, ruled, silent, withdrawn, ruled_in_april]


@dataclass
class World:
    c: TestClient
    settings: Settings
    app: DisputeApp
    ids: list[Any]
    head: int

    def stats(self, **params: Any) -> dict[str, Any]:
        response = self.c.get(
            "/v1/stats/disputes",
            params=params,
            headers={**headers(self.settings, Role.ANALYST, "an-1"), "X-Min-Position": str(self.head)},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def as_of(self, at: datetime) -> list[Dispute]:
        """Each dispute as the event store says it was at `at` (those opened by then)."""
        found = []
        for i in self.ids:
            try:
                found.append(audit_reads.state_as_of(self.app, i, AUDITOR, at=at))
            except DisputeNotFound:  # not yet opened at `at`
                continue
        return found

    def first_seller_action(self, dispute_id: Any, at: datetime) -> datetime | None:
        for event in self.app.events.get(dispute_id):
            if event.timestamp > at:  # type: ignore[attr-defined]
                return None
            if event.actor_role == Role.SELLER.value:  # type: ignore[attr-defined]
                return event.timestamp  # type: ignore[attr-defined, no-any-return]
        return None


@pytest.fixture
def world(backend: str, tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[World]:
    settings = settings_for(backend, tmp_path, request, in_process_workers=True, scheduler_interval="P1D")
    assert settings.jwt_secret is not None
    svc = build_services(settings, settings.jwt_secret)
    svc.clock = lambda: T0  # the scheduler keeps this clock: no deadline of the scenarios falls due
    with TestClient(build_api(settings, svc)) as c:
        made = scenarios(svc.app)
        svc.clock = lambda: NOW  # the API's now
        yield World(c, settings, svc.app, [s.id for s in made], svc.app.recorder.max_notification_id() or 0)


def quantile(values: list[float], p: int) -> float | None:
    """The oracle: the standard library's inclusive quantiles (linear interpolation, R's type 7)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return stats.quantiles(values, n=100, method="inclusive")[p - 1]


def key_of(d: Dispute, name: str) -> str | None:
    r = d.resolution
    return {
        "reason": d.reason.value,
        "status": d.status.value,
        "seller": d.seller_id,
        "outcome": r.outcome.value if r else None,
        "how": r.how.value if r else None,
        "week": f"{d.opened_at.isocalendar()[0]}-W{d.opened_at.isocalendar()[1]:02d}",
        "month": d.opened_at.strftime("%Y-%m"),
    }[name]


def expected(w: World, names: list[str], at: datetime) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Dispute]] = defaultdict(list)
    for d in w.as_of(at):
        groups[",".join(key_of(d, n) or "none" for n in names)].append(d)
    out = {}
    for key, members in groups.items():
        resolved = [(d.closed_at - d.opened_at).total_seconds() for d in members if d.status is Status.RESOLVED]  # type: ignore[operator]
        answers = [w.first_seller_action(d.id, at) for d in members]
        first = [(a - d.opened_at).total_seconds() for a, d in zip(answers, members, strict=True) if a]
        refunds: dict[str, int] = defaultdict(int)
        for d in members:
            if d.resolution and d.resolution.refund:
                refunds[d.resolution.refund.currency] += d.resolution.refund.amount_minor
        by_status: dict[str, int] = defaultdict(int)
        for d in members:
            by_status[d.status.value] += 1
        out[key] = {
            "count": len(members),
            "by_status": dict(by_status),
            "refund_totals": [{"currency": c, "amount_minor": a} for c, a in sorted(refunds.items())],
            "p50_resolution_seconds": quantile(resolved, 50),
            "median_resolution_seconds": quantile(resolved, 50),
            "p90_resolution_seconds": quantile(resolved, 90),
            "p50_seller_first_response_seconds": quantile(first, 50),
            "escalated": sum(d.escalated for d in members),
            "escalation_rate": sum(d.escalated for d in members) / len(members),
        }
    return out


def found(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["key"]: {k: v for k, v in g.items() if k not in ("key", "keys", "sla_breaches")} for g in body["groups"]}


def approx(groups: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {n: pytest.approx(v) if isinstance(v, float) else v for n, v in g.items()} for k, g in groups.items()}


GROUPINGS = [*figures.KEYS, "reason,week", "month,outcome", "how,status", "seller,month"]


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_each_grouping_gives_the_figures_the_event_store_gives(world: World, group_by: str) -> None:
    body = world.stats(group_by=group_by)
    assert body["group_by"] == group_by and body["as_of"] is None
    assert found(body) == approx(expected(world, group_by.split(","), NOW))
    for g in body["groups"]:
        assert list(g["keys"]) == group_by.split(",")
        assert g["key"] == ",".join(v or "none" for v in g["keys"].values())


def test_time_buckets_are_iso_weeks_and_months_of_opening(world: World) -> None:
    by_month = {g["key"]: g["count"] for g in world.stats(group_by="month")["groups"]}
    assert by_month == {"2026-03": 4, "2026-04": 2}
    by_week = {g["key"]: g["count"] for g in world.stats(group_by="week")["groups"]}
    assert by_week == {"2026-W10": 3, "2026-W11": 1, "2026-W14": 2}


def test_percentiles_match_a_hand_computation(world: World) -> None:
    """damaged: resolved after 1 h, 3 h (agreements: opening step + acceptance step) and the ruling's
    2 h + 2 h + 9 days; linear interpolation between closest ranks."""
    damaged = next(g for g in world.stats(group_by="reason")["groups"] if g["key"] == "damaged")
    hour = 3600.0
    resolved = sorted([1 * hour, 3 * hour, 4 * hour + 9 * 24 * hour])
    assert damaged["p50_resolution_seconds"] == 3 * hour
    assert damaged["p90_resolution_seconds"] == pytest.approx(resolved[1] + 0.8 * (resolved[2] - resolved[1]))
    assert damaged["p50_seller_first_response_seconds"] == 2 * hour  # 1 h, 3 h, 2 h
    assert damaged["escalated"] == 1 and damaged["escalation_rate"] == pytest.approx(1 / 3)
    assert damaged["refund_totals"] == [{"currency": "USD", "amount_minor": 1500 + 1500 + 900}]


def test_as_of_gives_the_figures_as_they_stood_then(world: World) -> None:
    ruled = world.app.dispute(world.ids[2])
    escalated_at = ruled.opened_at + timedelta(hours=4)
    assert ruled.closed_at is not None
    instants = [
        T0 - timedelta(days=1),  # nothing opened yet
        T0 + timedelta(minutes=30),  # the first dispute open, unanswered
        escalated_at - timedelta(minutes=1),
        escalated_at + timedelta(minutes=1),
        escalated_at + timedelta(days=8),  # the review overdue, not yet ruled
        ruled.closed_at + timedelta(minutes=1),
        T0 + timedelta(days=33, minutes=45),
    ]
    for at in instants:
        for group_by in ("status", "reason,month", "outcome"):
            body = world.stats(group_by=group_by, as_of=at.isoformat())
            assert body["as_of"] is not None
            assert found(body) == approx(expected(world, group_by.split(","), at)), (at, group_by)
    assert world.stats(as_of=instants[0].isoformat())["groups"] == []
    before = world.stats(group_by="status", as_of=instants[2].isoformat())
    after = world.stats(group_by="status", as_of=instants[3].isoformat())
    assert "under_review" not in {g["key"] for g in before["groups"]}
    assert next(g for g in after["groups"] if g["key"] == "under_review")["count"] == 1


def test_sla_breaches_count_from_the_moment_the_review_is_overdue(world: World) -> None:
    ruled = world.app.dispute(world.ids[2])
    due = ruled.opened_at + timedelta(hours=4) + timedelta(days=7)

    def breaches(at: datetime) -> int:
        return sum(g["sla_breaches"] for g in world.stats(group_by="reason", as_of=at.isoformat())["groups"])

    assert breaches(due - timedelta(minutes=1)) == 0
    assert breaches(due + timedelta(minutes=1)) == 1  # still under review, past its target
    assert breaches(NOW) == 1  # ruled late: a breach for good


def test_since_and_until_bound_the_opening_time(world: World) -> None:
    april = world.stats(group_by="month", since="2026-04-01T00:00:00Z", until="2026-05-01T00:00:00Z")
    assert [g["key"] for g in april["groups"]] == ["2026-04"]


@pytest.mark.parametrize(
    "query",
    [
        "group_by=weekday",
        "group_by=reason,reason",
        "group_by=reason,week,month",
        "group_by=reason,",
        "as_of=2999-01-01",
    ],
)
def test_bad_statistics_queries_are_422(world: World, query: str) -> None:
    response = world.c.get(f"/v1/stats/disputes?{query}", headers=headers(world.settings, Role.ANALYST, "an-1"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_percentiles_agree_with_postgres_percentile_cont(world: World) -> None:
    """The documented definition is Postgres's own percentile_cont."""
    groups = {g["key"]: g for g in world.stats(group_by="reason")["groups"]}  # first: waits for the head
    seconds = "extract(epoch FROM closed_at - opened_at)"
    with services(world.c).views.reading() as cur:
        cur.run(
            f"SELECT reason, percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}) AS p50, "
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {seconds}) AS p90 "
            "FROM {dispute_facts} WHERE status = 'resolved' GROUP BY reason",
            dispute_facts="dispute_facts",
        )
        in_sql = {row["reason"]: (row["p50"], row["p90"]) for row in cur.all()}
    assert in_sql and set(in_sql) <= set(groups)
    for reason, (p50, p90) in in_sql.items():
        assert groups[reason]["p50_resolution_seconds"] == pytest.approx(float(p50))
        assert groups[reason]["p90_resolution_seconds"] == pytest.approx(float(p90))
