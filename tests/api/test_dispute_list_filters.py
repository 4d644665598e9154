"""The dispute list never lies: every filter filters (a repeated one means OR),
every order pages correctly in both directions, and on Postgres every filter
and order can be served by an index. Expected results are computed from the
aggregates themselves, never written down by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.dispute import Dispute
from domain.values import Outcome, Remedy, Role
from projections import dispute_list
from service.settings import Settings
from support.audit import client, headers, services
from support.builders import AGENT, BUYER, T0, Clock, Scenario, usd
from support.stores import settings_for


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class World:
    c: TestClient
    settings: Settings
    disputes: list[Dispute]
    head: int

    def get(self, params: list[tuple[str, str]], role: Role = Role.AGENT, sub: str = "agent-1") -> Any:
        return self.c.get(
            "/v1/disputes",
            params=params,
            headers={**headers(self.settings, role, sub), "X-Min-Position": str(self.head)},
        )

    def ids(self, params: list[tuple[str, str]], **kw: Any) -> list[str]:
        """Every page, followed to the end (two items a page: pagination is always exercised)."""
        found: list[str] = []
        cursor = None
        while True:
            response = self.get([*params, ("limit", "2"), *([("cursor", cursor)] if cursor else [])], **kw)
            assert response.status_code == 200, response.text
            body = response.json()
            found += [item["id"] for item in body["items"]]
            if (cursor := body["next_cursor"]) is None:
                return found

    def where(self, test: Callable[[Dispute], bool]) -> set[str]:
        chosen = {str(d.id) for d in self.disputes if test(d)}
        assert chosen and len(chosen) < len(self.disputes), "a filter test must separate the disputes"
        return chosen


def scenarios(app: Any) -> list[Scenario]:
    """Seven disputes an hour apart, in every kind of state."""

    def fresh(hour: int) -> Scenario:
        return Scenario(app, Clock(T0 + timedelta(hours=hour)))

    ruled = fresh(2).open().seller_counters().buyer_escalates()
    app.issue_ruling(ruled.id, ruled.clock.ctx(AGENT), Outcome.REFUND_PARTIAL, usd(900), True, "both partly")
    found = [
        fresh(0).open(),
        fresh(1).open().seller_counters(),
        ruled,
        fresh(3).open().seller_counters().buyer_escalates(),
        fresh(4).open().seller_accepts(),
        fresh(5).open().buyer_withdraws(),
        fresh(6).open(Remedy.RETURN_AND_REFUND).seller_accepts(),
    ]
    # The oldest dispute changes last: updated_at order differs from opened_at order.
    late = found[1]
    late.clock.now = T0 + timedelta(hours=9)
    app.post_message(late.id, late.clock.ctx(BUYER), "any news?")
    return found


@pytest.fixture
def world(backend: str, tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[World]:
    settings = settings_for(backend, tmp_path, request, in_process_workers=True)
    with client(settings) as c:
        app = services(c).app
        made = scenarios(app)
        disputes = [app.dispute(s.id) for s in made]
        yield World(c, settings, disputes, app.recorder.max_notification_id() or 0)


def next_deadline(d: Dispute) -> datetime | None:
    return min(d.deadlines.values(), default=None)


MIDDLE = T0 + timedelta(hours=3, minutes=30)


def filter_cases(w: World) -> list[tuple[list[tuple[str, str]], set[str]]]:
    d = w.disputes
    deadlines = sorted(t for x in d if (t := next_deadline(x)) is not None)
    cutoff = deadlines[len(deadlines) // 2]
    return [
        ([("order_id", d[3].order_id)], w.where(lambda x: x.order_id == d[3].order_id)),
        ([("status", "negotiating")], w.where(lambda x: x.status.value == "negotiating")),
        ([("escalated", "true")], w.where(lambda x: x.escalated)),
        ([("escalated", "false")], w.where(lambda x: not x.escalated)),
        ([("outcome", "refund_partial")], w.where(lambda x: bool(x.resolution) and x.resolution.outcome.value == "refund_partial")),  # type: ignore[union-attr]  # noqa: E501
        ([("updated_after", MIDDLE.isoformat())], w.where(lambda x: x.modified_on >= MIDDLE)),  # type: ignore[operator]
        ([("updated_before", MIDDLE.isoformat())], w.where(lambda x: x.modified_on < MIDDLE)),  # type: ignore[operator]
        ([("deadline_before", cutoff.isoformat())], w.where(lambda x: (next_deadline(x) or cutoff) < cutoff)),
        ([("opened_after", MIDDLE.isoformat())], w.where(lambda x: x.opened_at >= MIDDLE)),
        ([("party_to_act", "agent")], w.where(lambda x: x.party_to_act is Role.AGENT)),
    ]


def test_every_filter_returns_exactly_the_disputes_it_names(world: World) -> None:
    for params, expected in filter_cases(world):
        assert set(world.ids(params)) == expected, params


def test_a_repeated_filter_means_or_and_filters_combine_with_and(world: World) -> None:
    d = world.disputes
    either = world.where(lambda x: x.status.value in ("negotiating", "withdrawn"))
    assert set(world.ids([("status", "negotiating"), ("status", "withdrawn")])) == either
    orders = world.where(lambda x: x.order_id in (d[0].order_id, d[5].order_id))
    assert set(world.ids([("order_id", d[0].order_id), ("order_id", d[5].order_id)])) == orders
    both = world.where(lambda x: x.status.value == "under_review" and x.escalated)
    assert set(world.ids([("status", "under_review"), ("escalated", "true")])) == both
    assert world.ids([("order_id", d[0].order_id), ("status", "withdrawn")]) == []


def expected_order(w: World, order_by: str) -> list[str]:
    key = order_by.lstrip("-")
    descending = order_by.startswith("-")
    latest = datetime.max.replace(tzinfo=T0.tzinfo)

    def value(x: Dispute) -> datetime:
        found = {"opened_at": x.opened_at, "updated_at": x.modified_on, "deadline": next_deadline(x)}[key]
        return found or latest  # no open deadline: after every deadline

    ranked = sorted(w.disputes, key=lambda x: (value(x), str(x.id)), reverse=descending)
    return [str(x.id) for x in ranked]


@pytest.mark.parametrize("order_by", ["opened_at", "-opened_at", "updated_at", "-updated_at", "deadline", "-deadline"])
def test_every_order_pages_through_every_dispute_once_in_order(world: World, order_by: str) -> None:
    expected = expected_order(world, order_by)
    assert world.ids([("order_by", order_by)]) == expected
    reverse = order_by[1:] if order_by.startswith("-") else f"-{order_by}"
    assert world.ids([("order_by", reverse)]) == expected[::-1]


def test_the_default_order_is_newest_opened_first(world: World) -> None:
    assert world.ids([]) == expected_order(world, "-opened_at")


def test_orders_and_filters_page_together(world: World) -> None:
    kept = world.where(lambda x: not x.escalated)
    expected = [i for i in expected_order(world, "-updated_at") if i in kept]
    assert world.ids([("escalated", "false"), ("order_by", "-updated_at")]) == expected


def test_a_cursor_of_another_order_is_refused(world: World) -> None:
    first = world.get([("order_by", "updated_at"), ("limit", "2")]).json()
    again = world.get([("order_by", "-deadline"), ("cursor", first["next_cursor"])])
    assert again.status_code == 422
    assert again.json()["code"] == "invalid_cursor"


def test_parties_see_only_their_own_disputes_whatever_the_filters(world: World) -> None:
    other = world.get([("buyer_id", "buyer-1"), ("buyer_id", "buyer-2")], Role.BUYER, "buyer-2")
    assert other.status_code == 200 and other.json()["items"] == []
    mine = world.ids([("status", "negotiating"), ("status", "resolved")], role=BUYER.role, sub=BUYER.id)
    assert set(mine) == world.where(lambda x: x.status.value in ("negotiating", "resolved"))


@pytest.mark.parametrize(
    "params",
    [
        [("escalated", "maybe")],
        [("outcome", "win")],
        [("order_by", "score")],
        [("updated_after", "yesterday")],
        [("deadline_before", "0001-01-01T00:00:00Z")],
        [("escalated", "true"), ("escalated", "false")],
    ],
)
def test_bad_filter_values_are_422_validation_error(world: World, params: list[tuple[str, str]]) -> None:
    response = world.get(params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


# ------------------------------------------------------------------- indexes
INDEXED = [
    dispute_list.Filters(order_id=("o-1",)),
    dispute_list.Filters(status=("negotiating", "withdrawn")),
    dispute_list.Filters(outcome=("refund_full",)),
    dispute_list.Filters(escalated=True),
    dispute_list.Filters(updated_after=T0),
    dispute_list.Filters(updated_before=T0),
    dispute_list.Filters(deadline_before=T0),
    dispute_list.Filters(opened_after=T0),
    dispute_list.Filters(reason=("damaged",)),
    dispute_list.Filters(seller_id=("seller-1",)),
]
ORDERS = [dispute_list.Order(key, descending) for key in dispute_list.ORDERS for descending in (False, True)]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_every_filter_and_order_can_use_an_index_on_postgres(world: World) -> None:
    db = services(world.c).views
    cases = [(f, dispute_list.Order()) for f in INDEXED] + [(dispute_list.Filters(), o) for o in ORDERS]
    for filters, order in cases:
        for after in (None, (T0, "z")):
            sql, params = dispute_list.query(AGENT, filters, order, after, 50)
            with db.reading() as cur:
                cur.run("SET LOCAL enable_seqscan = off")
                cur.run("EXPLAIN " + sql, params, dispute_summaries="dispute_summaries")
                plan = "\n".join(row["QUERY PLAN"] for row in cur.all())
            assert "Seq Scan" not in plan and "Index" in plan, f"{filters} {order} {after}:\n{plan}"
