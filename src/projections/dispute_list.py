"""Dispute list and search: one row per dispute with its current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.dispute import Dispute
from domain.values import Actor
from domain.visibility import visible_parties
from projections import documents
from projections.db import Database, Row, as_json
from projections.evolving import EvolvingProjection


class DisputeList(EvolvingProjection):
    """One row per dispute: indexed columns to search by, and the dispute's
    state as a document (see projections.documents) to render full bodies.
    Every column is read off the evolved aggregate (see projections.evolving)."""

    name = "dispute_list"
    tables = ("dispute_summaries",)
    layout = 2  # 2: assigned_agent (claims) and its index

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {dispute_summaries} ("
            "dispute_id text PRIMARY KEY, order_id text NOT NULL, buyer_id text NOT NULL, seller_id text NOT NULL, "
            "reason text NOT NULL, requested_remedy text NOT NULL, requested_refund_minor :bigint:, "
            "order_amount_minor :bigint: NOT NULL, currency text NOT NULL, status text NOT NULL, "
            "party_to_act text, pending_offer_by text, pending_offer_remedy text, escalated :bool: NOT NULL, "
            "outcome text, resolved_how text, refund_minor :bigint:, seller_at_fault :bool:, "
            "deadlines :json: NOT NULL, next_deadline_at :time:, opened_at :time: NOT NULL, "
            "updated_at :time: NOT NULL, closed_at :time:, version :int: NOT NULL, last_position :bigint: NOT NULL, "
            "document :json:, assigned_agent text)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_opened} ON {dispute_summaries} (opened_at, dispute_id)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_seller} ON {dispute_summaries} (seller_id, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_buyer} ON {dispute_summaries} (buyer_id, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_status} ON {dispute_summaries} (status, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_reason} ON {dispute_summaries} (reason, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_agent} ON {dispute_summaries} (assigned_agent, opened_at)",
        ]

    def load(self, dispute_id: str) -> Dispute:
        self.run("SELECT document FROM {dispute_summaries} WHERE dispute_id = %s", [dispute_id])
        row = self.cursor.one()
        assert row is not None and row["document"] is not None, f"no document for dispute {dispute_id}"
        return documents.decode(dispute_id, as_json(row["document"]))

    def save(self, dispute_id: str, dispute: Dispute, position: int) -> None:
        self.upsert("dispute_summaries", **summary(dispute), last_position=position)


def summary(d: Dispute) -> dict[str, Any]:
    """A dispute's list row (but its last position): what the aggregate says, nothing re-derived."""
    opening, pending, resolution = d.offers[0], d.pending_offer, d.resolution
    refund = resolution.refund if resolution else None
    return {
        "dispute_id": str(d.id),
        "order_id": d.order_id,
        "buyer_id": d.buyer_id,
        "seller_id": d.seller_id,
        "reason": d.reason.value,
        "requested_remedy": d.requested_remedy.value,
        "requested_refund_minor": opening.refund.amount_minor if opening.refund else None,
        "order_amount_minor": d.order_amount.amount_minor,
        "currency": d.order_amount.currency,
        "status": d.status.value,
        "party_to_act": d.party_to_act.value if d.party_to_act else None,
        "pending_offer_by": pending.actor.role.value if pending else None,
        "pending_offer_remedy": pending.remedy.value if pending else None,
        "escalated": d.escalated,
        "outcome": resolution.outcome.value if resolution else None,
        "resolved_how": resolution.how.value if resolution else None,
        "refund_minor": refund.amount_minor if refund else None,
        "seller_at_fault": resolution.seller_at_fault if resolution else None,
        "deadlines": {k.value: v.isoformat() for k, v in sorted(d.deadlines.items())},
        "next_deadline_at": min(d.deadlines.values(), default=None),
        "opened_at": d.opened_at,
        "updated_at": d.modified_on,
        "closed_at": d.closed_at,
        "version": d.version,
        "document": documents.encode(d),
        "assigned_agent": d.assigned_agent,
    }


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    seller_id: str | None = None
    buyer_id: str | None = None
    reason: str | None = None
    party_to_act: str | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    assigned_agent: str | None = None
    unassigned: bool = False
    """Only disputes no agent has claimed."""


def search(db: Database, viewer: Actor, filters: Filters, after: tuple[datetime, str] | None, limit: int) -> list[Row]:
    """Newest first, by index. Buyers and sellers only ever see their own disputes."""
    where: list[str] = []
    params: list[Any] = []
    scoped = visible_parties(viewer)
    for column in ("status", "seller_id", "buyer_id", "reason", "party_to_act", "assigned_agent"):
        for value in {getattr(filters, column), scoped.get(column)} - {None}:
            where.append(f"{column} = %s")
            params.append(value)
    if filters.unassigned:
        where.append("assigned_agent IS NULL")
    if filters.opened_after:
        where.append("opened_at >= %s")
        params.append(filters.opened_after)
    if filters.opened_before:
        where.append("opened_at < %s")
        params.append(filters.opened_before)
    if after:
        where.append("(opened_at < %s OR (opened_at = %s AND dispute_id < %s))")
        params += [after[0], after[0], after[1]]
    clause = " AND ".join(where) or "TRUE"
    with db.reading() as cur:
        cur.run(
            f"SELECT * FROM {{dispute_summaries}} WHERE {clause} "  # noqa: S608 - clause is built from fixed text
            "ORDER BY opened_at DESC, dispute_id DESC LIMIT %s",
            [*params, limit],
            dispute_summaries="dispute_summaries",
        )
        return cur.all()


def document_of(row: Row) -> Dispute:
    """The dispute a search row holds, as of the row's version."""
    return documents.decode(row["dispute_id"], as_json(row["document"]))
