"""Dispute statistics: facts about each dispute, kept with the times they
became true, aggregated at query time (projections.figures).

`dispute_facts` holds each dispute's facts now; `dispute_fact_history` holds
every version of them with the interval it was true in (`valid_from`, the
time of the event that made it so, to `valid_until`, that of the next one),
so figures "as of" an instant are computed from what was recorded by then,
never guessed. SLA breaches count the review, or the appeal's review, that
outlasted its target.

A dispute's status, closing, escalation and outcome are read off its evolved
aggregate (see projections.evolving); the review's start, target and breach
and the seller's first response are facts about its history, noted as each
event moves the aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import events as ev
from domain.dispute import Dispute
from domain.values import Deadline, Role, Status
from projections import documents, figures
from projections.db import Cursor, Database, as_json, as_time
from projections.evolving import EvolvingProjection, Step

FACTS = (
    "seller_id :text: NOT NULL, reason :text: NOT NULL, status :text: NOT NULL, currency :text: NOT NULL, "
    "opened_at :time: NOT NULL, closed_at :time:, outcome :text:, resolved_how :text:, refund_minor :bigint:, "
    "review_started_at :time:, review_due_at :time:, sla_breached :bool: NOT NULL, escalated :bool: NOT NULL, "
    "seller_first_response_at :time:, resolution_seconds :float:, first_response_seconds :float:, "
    "opened_week :text: NOT NULL, opened_month :text: NOT NULL"
)
"""The fact columns, the same in both tables."""


@dataclass
class Review:
    started_at: datetime | None = None
    due_at: datetime | None = None
    """The review's SLA target, as last moved by extensions."""
    breached: bool = False
    seller_first_response_at: datetime | None = None
    """The first event the seller caused (an offer, an answer, a message, evidence...)."""


class Statistics(EvolvingProjection):
    name = "statistics"
    tables = ("dispute_facts", "dispute_fact_history")
    # 2: facts come from the evolved dispute, kept in dispute_fact_documents
    # 3: escalated, seller_first_response_at, and every version of the facts in dispute_fact_history (as_of)
    layout = 3
    private_tables = ("dispute_fact_documents",)

    def __init__(self, cursor: Cursor, generation: int, params: dict[str, Any]) -> None:
        super().__init__(cursor, generation, params)
        self.reviews: dict[str, Review] = {}
        self.versions: dict[str, list[tuple[int, datetime, dict[str, Any]]]] = {}
        self.last: dict[str, dict[str, Any] | None] = {}

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {dispute_facts} (dispute_id text PRIMARY KEY, " + FACTS + ")",
            "CREATE INDEX IF NOT EXISTS {ix_facts_opened} ON {dispute_facts} (opened_at)",
            "CREATE TABLE IF NOT EXISTS {dispute_fact_history} (dispute_id text NOT NULL, version :int: NOT NULL, "
            "valid_from :time: NOT NULL, valid_until :time:, " + FACTS + ", PRIMARY KEY (dispute_id, version))",
            "CREATE INDEX IF NOT EXISTS {ix_fact_history_current} ON {dispute_fact_history} (valid_until, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_fact_history_from} ON {dispute_fact_history} (valid_from)",
            "CREATE TABLE IF NOT EXISTS {dispute_fact_documents} ("
            "dispute_id text PRIMARY KEY, document :json: NOT NULL)",
        ]

    def load(self, dispute_id: str) -> Dispute:
        self.run(
            "SELECT d.document, f.* FROM {dispute_fact_documents} d "
            "JOIN {dispute_facts} f ON f.dispute_id = d.dispute_id WHERE d.dispute_id = %s",
            [dispute_id],
        )
        row = self.cursor.one()
        assert row is not None, f"no document for dispute {dispute_id}"
        self.reviews[dispute_id] = Review(
            as_time(row["review_started_at"]),
            as_time(row["review_due_at"]),
            bool(row["sla_breached"]),
            as_time(row["seller_first_response_at"]),
        )
        self.last[dispute_id] = facts_of_row(row)
        return documents.decode(dispute_id, as_json(row["document"]))

    def observe(self, step: Step) -> None:
        key, at = str(step.dispute.id), step.event.timestamp
        review = self.reviews.setdefault(key, Review())
        if step.entered(Status.UNDER_REVIEW):
            review.started_at = at
        deadlines = step.dispute.deadlines
        review.due_at = deadlines.get(Deadline.REVIEW_SLA) or deadlines.get(Deadline.APPEAL_REVIEW) or review.due_at
        if isinstance(step.event, (ev.ReviewSlaBreached, ev.AppealReviewSlaBreached)):
            review.breached = True
        if step.closed and review.due_at is not None and review.due_at < at:
            review.breached = True  # closing after the target is a breach, even if no scheduler recorded it
        if review.seller_first_response_at is None and step.event.actor_role == Role.SELLER.value:
            review.seller_first_response_at = at
        now = self.facts(key, step.dispute)
        if now != self.last.get(key):  # a version of the facts begins at this event
            self.versions.setdefault(key, []).append((step.dispute.version, at, now))
            self.last[key] = now

    def facts(self, dispute_id: str, dispute: Dispute) -> dict[str, Any]:
        review, resolution, opened = self.reviews[dispute_id], dispute.resolution, dispute.opened_at
        refund = resolution.refund if resolution else None
        assert opened is not None, "an opened dispute"
        return {
            "seller_id": dispute.seller_id,
            "reason": dispute.reason.value,
            "status": dispute.status.value,
            "currency": dispute.order_amount.currency,
            "opened_at": dispute.opened_at,
            "closed_at": dispute.closed_at,
            "outcome": resolution.outcome.value if resolution else None,
            "resolved_how": resolution.how.value if resolution else None,
            "refund_minor": refund.amount_minor if refund else None,
            "review_started_at": review.started_at,
            "review_due_at": review.due_at,
            "sla_breached": review.breached,
            "escalated": dispute.escalated,
            "seller_first_response_at": review.seller_first_response_at,
            # Derived once here, so queries neither parse times nor depend on the dialect's date functions:
            "resolution_seconds": seconds(opened, dispute.closed_at) if dispute.status is Status.RESOLVED else None,
            "first_response_seconds": seconds(opened, review.seller_first_response_at),
            "opened_week": figures.week_of(opened),
            "opened_month": figures.month_of(opened),
        }

    def save(self, dispute_id: str, dispute: Dispute, position: int) -> None:
        self.upsert("dispute_facts", dispute_id=dispute_id, **self.facts(dispute_id, dispute))
        for version, valid_from, facts in self.versions.pop(dispute_id, []):
            self.run(
                "UPDATE {dispute_fact_history} SET valid_until = %s WHERE dispute_id = %s AND valid_until IS NULL",
                [valid_from, dispute_id],
            )
            columns = {"dispute_id": dispute_id, "version": version, "valid_from": valid_from, **facts}
            self.run(
                f"INSERT INTO {{dispute_fact_history}} ({', '.join(columns)}) "  # noqa: S608 - fixed names
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                list(columns.values()),
            )
        self.upsert("dispute_fact_documents", dispute_id=dispute_id, document=documents.encode(dispute))


def facts_of_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row's facts, typed as `Statistics.facts` makes them (to compare)."""
    times = ("opened_at", "closed_at", "review_started_at", "review_due_at", "seller_first_response_at")
    found = {name: row[name] for name in FACT_NAMES}
    found.update({name: as_time(row[name]) for name in times})
    found.update(sla_breached=bool(row["sla_breached"]), escalated=bool(row["escalated"]))
    return found


def seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


FACT_NAMES = tuple(column.split()[0] for column in FACTS.split(", "))


def dispute_statistics(
    db: Database,
    group_by: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    as_of: datetime | None = None,
) -> list[dict[str, Any]]:
    """The figures per group (projections.figures) over the disputes opened in
    [since, until), as they stood at `as_of` (default: now, from the current facts)."""
    names = figures.grouping(group_by)
    where: list[str] = []
    params: list[Any] = []
    if as_of is None:
        where.append("valid_until IS NULL")
    else:
        where.append("valid_from <= %s AND (valid_until IS NULL OR valid_until > %s)")
        params += [as_of, as_of]
    if since:
        where.append("opened_at >= %s")
        params.append(since)
    if until:
        where.append("opened_at < %s")
        params.append(until)
    with db.reading() as cur:
        return figures.compute(cur, names, " AND ".join(where), params, as_of or now)
