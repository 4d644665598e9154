"""The read models say what the aggregate says, after every command.

The dispute state machine lives in the domain's events (`evolve`). The list
row, the statistics facts and the open deadlines must agree with the evolved
aggregate after each step of any command sequence, whatever the batches the
followers happen to read, so a rule re-written in a projection (and drifting
from the domain) fails here."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootstrap import build_app, build_views_db, ensure_views
from domain import events as ev
from domain.application import DisputeApp
from domain.dispute import Dispute
from domain.errors import DomainError
from domain.values import AppealDecision, Context, Deadline, Money, Outcome, Remedy, ReturnCondition, Status
from projections import deadlines, dispute_list
from projections.db import Database, as_json, as_time
from projections.deadlines import Deadlines
from projections.dispute_list import DisputeList
from projections.runner import Follower
from projections.statistics import Statistics
from service.settings import Settings
from support.builders import AGENT, BUYER, OTHER_AGENT, SELLER, SYSTEM, T0
from support.command_mixes import COUNTER, LIKELY, PREFIXES, STEPS, WEIGHTED_NAMES, opened, step

FOLLOWED = (DisputeList, Statistics, Deadlines)
RETURN_AGREED = PREFIXES["awaiting_return"]
# Scripted walks that end in every status, each by the way the domain gets there.
WALKS: dict[str, list[Any]] = {
    **PREFIXES,
    "resolved by agreement": [COUNTER, ("accept", BUYER, 0, 10)],
    "seller rejects the opening request": [("reject", SELLER, 0, 10)],
    "buyer rejects a counter-offer": [COUNTER, ("reject", BUYER, 0, 10)],
    "resolved after a return": [*PREFIXES["return_in_transit"], ("receipt", SELLER, ReturnCondition.RECEIVED_OK, 10)],
    "ruled late after a damaged return": [
        *PREFIXES["return_in_transit"],
        ("receipt", SELLER, ReturnCondition.RECEIVED_DAMAGED, 10),
        ("ruling", AGENT, (Outcome.REFUND_FULL, None, True), 60 * 24 * 8),
    ],
    # `expire` picks among the open deadlines in name order.
    "resolved when the seller misses the response": [("expire", SYSTEM, 2, 60 * 24 * 30)],
    "escalated when negotiation runs out": [COUNTER, ("expire", SYSTEM, 1, 60 * 24 * 30)],
    "withdrawn late under review": [*PREFIXES["under_review"], ("withdraw", BUYER, "done", 60 * 24 * 9)],
    "review breach recorded": [*PREFIXES["under_review"], ("expire", SYSTEM, 1, 60 * 24 * 30)],
    "claimed, taken over and released": [
        *PREFIXES["under_review"],
        ("claim", AGENT, (False, ""), 10),
        ("claim", OTHER_AGENT, (True, "agent-1 is away"), 10),
        ("release", OTHER_AGENT, "", 10),
    ],
    "appeal window closed": [*PREFIXES["ruled"], ("expire", SYSTEM, 0, 60 * 24 * 11)],
    "overturned on appeal": [
        *PREFIXES["under_appeal"],
        ("claim", AGENT, (False, ""), 10),
        ("decide_appeal", OTHER_AGENT, (AppealDecision.OVERTURNED, Outcome.REFUND_FULL, Money(2000, "USD"), True), 10),
    ],
    "appeal reviewed late": [
        *PREFIXES["under_appeal"],
        ("expire", SYSTEM, 0, 60 * 24 * 8),
        ("decide_appeal", OTHER_AGENT, (AppealDecision.UPHELD, None, None, None), 10),
    ],
}


# Mostly the expected actor, soon or just past a deadline, so most steps succeed.
likely_step = st.sampled_from(WEIGHTED_NAMES).flatmap(
    lambda name: st.tuples(
        st.just(name),
        st.sampled_from(LIKELY[name]),
        STEPS[name][0],
        st.integers(0, 120) | st.sampled_from([6 * 24 * 60, 8 * 24 * 60, 16 * 24 * 60]),
    )
)


class Views:
    def __init__(self, directory: str, batch_size: int) -> None:
        self.settings = Settings(
            database_url="memory://", env="test", snapshot_interval=3, var_dir=Path(directory), in_process_workers=False
        )
        self.app: DisputeApp = build_app(self.settings)
        self.db: Database = build_views_db(self.settings)
        ensure_views(self.db, self.settings)
        self.followers = [Follower(self.app, self.db, p, batch_size=batch_size) for p in FOLLOWED]
        self.review = Review()

    def catch_up(self) -> None:
        for follower in self.followers:
            follower.catch_up()

    def close(self) -> None:
        self.app.close()
        self.db.close()


class Review:
    """The statistics' review facts, as the data dictionary defines them."""

    def __init__(self) -> None:
        self.started_at: datetime | None = None
        self.due_at: datetime | None = None
        self.breached = False

    def follow(self, before: Status, closed_before: bool, d: Dispute, new_events: list[Any], now: datetime) -> None:
        if d.status is Status.UNDER_REVIEW and before is not Status.UNDER_REVIEW:
            self.started_at = now
        self.due_at = d.deadlines.get(Deadline.REVIEW_SLA) or d.deadlines.get(Deadline.APPEAL_REVIEW) or self.due_at
        if any(isinstance(e, (ev.ReviewSlaBreached, ev.AppealReviewSlaBreached)) for e in new_events):
            self.breached = True
        if d.closed_at is not None and not closed_before and self.due_at is not None and self.due_at < d.closed_at:
            self.breached = True


def picture(dispute: Dispute) -> str:
    """Like builders.state_of, but blind to the order of dict keys (documents are stored with sorted keys)."""
    state = {k: sorted(v.items()) if isinstance(v, dict) else v for k, v in vars(dispute).items()}
    return repr(sorted((k, v) for k, v in state.items() if k != "_pending_events"))


def times(value: dict[str, Any]) -> dict[str, datetime | None]:
    return {k: as_time(v) for k, v in value.items()}


def check_agreement(views: Views, d: Dispute) -> None:
    views.catch_up()
    dispute_id = str(d.id)
    with views.db.reading() as cur:
        cur.run("SELECT * FROM {v} WHERE dispute_id = %s", [dispute_id], v="dispute_summaries")
        row = cur.one()
        cur.run("SELECT * FROM {v} WHERE dispute_id = %s", [dispute_id], v="dispute_facts")
        facts = cur.one()
    assert row is not None and facts is not None
    pending, resolution = d.pending_offer, d.resolution
    refund = resolution.refund.amount_minor if resolution and resolution.refund else None
    expected = {
        "status": d.status.value,
        "party_to_act": d.party_to_act.value if d.party_to_act else None,
        "pending_offer_by": pending.actor.role.value if pending else None,
        "pending_offer_remedy": pending.remedy.value if pending else None,
        "escalated": d.escalated,
        "outcome": resolution.outcome.value if resolution else None,
        "resolved_how": resolution.how.value if resolution else None,
        "refund_minor": refund,
        "seller_at_fault": resolution.seller_at_fault if resolution else None,
        "deadlines": {k.value: v for k, v in d.deadlines.items()},
        "next_deadline_at": min(d.deadlines.values(), default=None),
        "closed_at": d.closed_at,
        "updated_at": d.modified_on,
        "version": d.version,
        "assigned_agent": d.assigned_agent,
    }
    found = {k: row[k] for k in expected}
    found["escalated"] = bool(found["escalated"])
    found["seller_at_fault"] = None if found["seller_at_fault"] is None else bool(found["seller_at_fault"])
    found["deadlines"] = times(as_json(found["deadlines"]))
    found.update(times({k: found[k] for k in ("next_deadline_at", "closed_at", "updated_at")}))
    assert found == expected, "the list row says what the aggregate says"
    assert picture(dispute_list.document_of(row)) == picture(d), "the list's document is the aggregate"

    expected_facts = {
        "status": d.status.value,
        "closed_at": d.closed_at,
        "outcome": expected["outcome"],
        "resolved_how": expected["resolved_how"],
        "refund_minor": refund,
        "review_started_at": views.review.started_at,
        "review_due_at": views.review.due_at,
        "sla_breached": views.review.breached,
    }
    found_facts = {k: facts[k] for k in expected_facts}
    found_facts.update(times({k: facts[k] for k in ("closed_at", "review_started_at", "review_due_at")}))
    found_facts["sla_breached"] = bool(found_facts["sla_breached"])
    assert found_facts == expected_facts, "the statistics facts say what the aggregate says"

    open_deadlines = deadlines.of_dispute(views.db, d.id)
    assert {k: v.due_at for k, v in open_deadlines.items()} == d.deadlines


def run(views: Views, remedy: Remedy, steps: list[Any]) -> set[Status]:
    """Drive one dispute through `steps`, checking the read models after each; the statuses seen."""
    now = T0
    live = opened(remedy, "order-drift", views.settings.policy(), now)
    views.app.save(live)
    check_agreement(views, live)
    seen = {live.status}
    for name, actor, args, minutes in steps:
        now += timedelta(minutes=minutes)
        before, closed_before = live.status, live.closed_at is not None
        try:
            STEPS[name][1](live, Context(actor, now, f"r{live.version}"), args)
        except DomainError:
            continue
        new_events = list(live.pending_events)
        views.app.save(live)
        views.review.follow(before, closed_before, live, new_events, now)
        check_agreement(views, live)
        seen.add(live.status)
    return seen


def test_scripted_walks_reach_every_status_and_the_read_models_agree_at_each_step() -> None:
    seen: set[Status] = set()
    for name, walk in WALKS.items():
        remedy = Remedy.RETURN_AND_REFUND if "return" in name else Remedy.REFUND_ONLY
        for batch_size in (1, 500):
            with tempfile.TemporaryDirectory() as directory:
                views = Views(directory, batch_size)
                try:
                    seen |= run(views, remedy, walk)
                finally:
                    views.close()
    assert seen == set(Status)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    remedy=st.sampled_from(list(Remedy)),
    start=st.sampled_from(sorted(PREFIXES)),
    steps=st.lists(likely_step | step, max_size=20),
    batch_size=st.integers(1, 4) | st.just(500),
)
def test_random_command_sequences_keep_the_read_models_in_step_with_the_aggregate(
    remedy: Remedy, start: str, steps: list[Any], batch_size: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        views = Views(directory, batch_size)
        try:
            run(views, remedy, [*PREFIXES[start], *steps])
        finally:
            views.close()
