"""Dispute statistics: one fact row per dispute, aggregated at query time
(counts and refund totals by reason, status or seller; median time to
resolution; SLA breaches = time under review, or under appeal, longer than
its target).

A dispute's status, closing and outcome are read off its evolved aggregate
(see projections.evolving); the review's start, target and breach are facts
about its history, noted as each event moves the aggregate."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import events as ev
from domain.dispute import Dispute
from domain.values import Deadline, Status
from projections import documents
from projections.db import Cursor, Database, as_json, as_time
from projections.evolving import EvolvingProjection, Step

GROUPS = {"reason": "reason", "status": "status", "seller": "seller_id"}


@dataclass
class Review:
    started_at: datetime | None = None
    due_at: datetime | None = None
    """The review's SLA target, as last moved by extensions."""
    breached: bool = False


class Statistics(EvolvingProjection):
    name = "statistics"
    tables = ("dispute_facts",)
    layout = 2  # 2: facts come from the evolved dispute, kept in dispute_fact_documents
    private_tables = ("dispute_fact_documents",)

    def __init__(self, cursor: Cursor, generation: int, params: dict[str, Any]) -> None:
        super().__init__(cursor, generation, params)
        self.reviews: dict[str, Review] = {}

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {dispute_facts} ("
            "dispute_id text PRIMARY KEY, seller_id text NOT NULL, reason text NOT NULL, status text NOT NULL, "
            "currency text NOT NULL, opened_at :time: NOT NULL, closed_at :time:, outcome text, resolved_how text, "
            "refund_minor :bigint:, review_started_at :time:, review_due_at :time:, sla_breached :bool: NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {ix_facts_opened} ON {dispute_facts} (opened_at)",
            "CREATE TABLE IF NOT EXISTS {dispute_fact_documents} ("
            "dispute_id text PRIMARY KEY, document :json: NOT NULL)",
        ]

    def load(self, dispute_id: str) -> Dispute:
        self.run(
            "SELECT d.document, f.review_started_at, f.review_due_at, f.sla_breached "
            "FROM {dispute_fact_documents} d JOIN {dispute_facts} f ON f.dispute_id = d.dispute_id "
            "WHERE d.dispute_id = %s",
            [dispute_id],
        )
        row = self.cursor.one()
        assert row is not None, f"no document for dispute {dispute_id}"
        self.reviews[dispute_id] = Review(
            as_time(row["review_started_at"]), as_time(row["review_due_at"]), bool(row["sla_breached"])
        )
        return documents.decode(dispute_id, as_json(row["document"]))

    def observe(self, step: Step) -> None:
        review = self.reviews.setdefault(str(step.dispute.id), Review())
        if step.entered(Status.UNDER_REVIEW):
            review.started_at = step.event.timestamp
        deadlines = step.dispute.deadlines
        review.due_at = deadlines.get(Deadline.REVIEW_SLA) or deadlines.get(Deadline.APPEAL_REVIEW) or review.due_at
        if isinstance(step.event, (ev.ReviewSlaBreached, ev.AppealReviewSlaBreached)):
            review.breached = True
        if step.closed and review.due_at is not None and review.due_at < step.event.timestamp:
            review.breached = True  # closing after the target is a breach, even if no scheduler recorded it

    def save(self, dispute_id: str, dispute: Dispute, position: int) -> None:
        review, resolution = self.reviews[dispute_id], dispute.resolution
        refund = resolution.refund if resolution else None
        self.upsert(
            "dispute_facts",
            dispute_id=dispute_id,
            seller_id=dispute.seller_id,
            reason=dispute.reason.value,
            status=dispute.status.value,
            currency=dispute.order_amount.currency,
            opened_at=dispute.opened_at,
            closed_at=dispute.closed_at,
            outcome=resolution.outcome.value if resolution else None,
            resolved_how=resolution.how.value if resolution else None,
            refund_minor=refund.amount_minor if refund else None,
            review_started_at=review.started_at,
            review_due_at=review.due_at,
            sla_breached=review.breached,
        )
        self.upsert("dispute_fact_documents", dispute_id=dispute_id, document=documents.encode(dispute))


def dispute_statistics(
    db: Database, group_by: str, since: datetime | None, until: datetime | None, now: datetime
) -> list[dict[str, Any]]:
    """Per group: counts by status, refund totals per currency, median seconds to
    resolution (resolved disputes), SLA breaches (incl. reviews overdue now)."""
    column = GROUPS[group_by]
    where, params = ["TRUE"], []
    if since:
        where.append("opened_at >= %s")
        params.append(since)
    if until:
        where.append("opened_at < %s")
        params.append(until)
    with db.reading() as cur:
        cur.run(
            f"SELECT {column} AS key, status, currency, opened_at, closed_at, refund_minor, sla_breached, "  # noqa: S608
            f"review_due_at FROM {{dispute_facts}} WHERE {' AND '.join(where)}",
            params,
            dispute_facts="dispute_facts",
        )
        rows = cur.all()
    return summarise(rows, now)


def summarise(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "count": 0,
            "by_status": defaultdict(int),
            "refunds": defaultdict(int),
            "durations": [],
            "sla_breaches": 0,
        }
    )
    for r in rows:
        g = groups[r["key"]]
        g["count"] += 1
        g["by_status"][r["status"]] += 1
        if r["refund_minor"]:
            g["refunds"][r["currency"]] += int(r["refund_minor"])
        if r["status"] == "resolved" and r["closed_at"] is not None:
            g["durations"].append((as_time(r["closed_at"]) - as_time(r["opened_at"])).total_seconds())  # type: ignore[operator]
        due = as_time(r["review_due_at"])
        with_an_agent = r["status"] in ("under_review", "under_appeal")
        if bool(r["sla_breached"]) or (with_an_agent and due is not None and due < now):
            g["sla_breaches"] += 1
    return [
        {
            "key": key,
            "count": g["count"],
            "by_status": dict(sorted(g["by_status"].items())),
            "refund_totals": [{"currency": c, "amount_minor": a} for c, a in sorted(g["refunds"].items())],
            "median_resolution_seconds": statistics.median(g["durations"]) if g["durations"] else None,
            "sla_breaches": g["sla_breaches"],
        }
        for key, g in sorted(groups.items())
    ]
