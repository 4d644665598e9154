"""Dispute statistics: one fact row per dispute, aggregated at query time
(counts and refund totals by reason, status or seller; median time to
resolution; SLA breaches = time under review longer than its target)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from domain.values import Deadline, ReturnCondition
from projections.db import Database, as_time
from projections.projection import Projection

GROUPS = {"reason": "reason", "status": "status", "seller": "seller_id"}


class Statistics(Projection):
    name = "statistics"
    tables = ("dispute_facts",)

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {dispute_facts} ("
            "dispute_id text PRIMARY KEY, seller_id text NOT NULL, reason text NOT NULL, status text NOT NULL, "
            "currency text NOT NULL, opened_at :time: NOT NULL, closed_at :time:, outcome text, resolved_how text, "
            "refund_minor :bigint:, review_started_at :time:, review_due_at :time:, sla_breached :bool: NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {ix_facts_opened} ON {dispute_facts} (opened_at)",
        ]

    def set(self, event: ev.DisputeEvent, **columns: Any) -> None:
        self.update_dispute("dispute_facts", event.originator_id, **columns)

    def review_starts(self, event: ev.DeadlinesChanged) -> None:
        self.set(
            event,
            status="under_review",
            review_started_at=event.timestamp,
            review_due_at=event.deadlines.get(Deadline.REVIEW_SLA.value),
        )

    def closes(self, event: ev.DisputeEvent, status: str) -> None:
        """Closing after the review's due time is a breach, even if no scheduler recorded it."""
        self.run(
            "UPDATE {dispute_facts} SET status = %s, closed_at = %s, "
            "sla_breached = CASE WHEN review_due_at IS NOT NULL AND review_due_at < %s THEN %s ELSE sla_breached END "
            "WHERE dispute_id = %s",
            [status, event.timestamp, event.timestamp, True, str(event.originator_id)],
        )

    @singledispatchmethod
    def project(self, event: Any, position: int) -> None:
        pass

    @project.register
    def _(self, event: ev.DisputeOpened, position: int) -> None:
        self.run(
            "INSERT INTO {dispute_facts} (dispute_id, seller_id, reason, status, currency, opened_at, sla_breached) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                str(event.originator_id),
                event.seller_id,
                event.reason,
                "awaiting_seller",
                event.order_amount["currency"],
                event.timestamp,
                False,
            ],
        )

    @project.register
    def _(self, event: ev.OfferProposed, position: int) -> None:
        self.set(event, status="negotiating")

    @project.register
    def _(self, event: ev.OfferRejected, position: int) -> None:
        self.set(event, status="negotiating")

    @project.register
    def _(self, event: ev.OfferAccepted, position: int) -> None:
        if "return_shipping" in event.deadlines:
            self.set(event, status="awaiting_return")

    @project.register
    def _(self, event: ev.ReturnShipped, position: int) -> None:
        self.set(event, status="return_in_transit")

    @project.register
    def _(self, event: ev.DisputeEscalated, position: int) -> None:
        self.review_starts(event)

    @project.register
    def _(self, event: ev.ReturnReceiptConfirmed, position: int) -> None:
        if event.condition != ReturnCondition.RECEIVED_OK.value:
            self.review_starts(event)

    @project.register
    def _(self, event: ev.DeadlineExtended, position: int) -> None:
        if event.deadline == Deadline.REVIEW_SLA.value:
            self.set(event, review_due_at=event.due_at)

    @project.register
    def _(self, event: ev.ReviewSlaBreached, position: int) -> None:
        self.set(event, sla_breached=True)

    @project.register
    def _(self, event: ev.DisputeWithdrawn, position: int) -> None:
        self.closes(event, "withdrawn")

    @project.register
    def _(self, event: ev.DisputeResolved, position: int) -> None:
        self.closes(event, "resolved")
        refund = event.refund or {}
        self.set(event, outcome=event.outcome, resolved_how=event.how, refund_minor=refund.get("amount_minor"))


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
        if bool(r["sla_breached"]) or (r["status"] == "under_review" and due is not None and due < now):
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
