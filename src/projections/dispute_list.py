"""Dispute list and search: one row per dispute with its current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.dispute import Dispute
from domain.values import Actor
from domain.visibility import visible_parties
from projections import documents
from projections.db import Database, Row, as_json, as_time
from projections.evolving import EvolvingProjection


class DisputeList(EvolvingProjection):
    """One row per dispute: indexed columns to search by, and the dispute's
    state as a document (see projections.documents) to render full bodies.
    Every column is read off the evolved aggregate (see projections.evolving)."""

    name = "dispute_list"
    tables = ("dispute_summaries",)
    layout = 3  # 2: assigned_agent (claims) and its index; 3: indexes for the order_id, updated, escalated,
    # outcome and deadline filters and orders

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
            "CREATE INDEX IF NOT EXISTS {ix_summaries_order} ON {dispute_summaries} (order_id)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_updated} ON {dispute_summaries} (updated_at, dispute_id)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_deadline} ON {dispute_summaries} (next_deadline_at, dispute_id)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_outcome} ON {dispute_summaries} (outcome, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_escalated} ON {dispute_summaries} (escalated, opened_at)",
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
        "deadlines": {str(k): v.isoformat() for k, v in sorted(d.deadlines.items())},
        "next_deadline_at": min(d.deadlines.values(), default=None),
        "opened_at": d.opened_at,
        "updated_at": d.modified_on,
        "closed_at": d.closed_at,
        "version": d.version,
        "document": documents.encode(d),
        "assigned_agent": d.assigned_agent,
    }


EQUALS = ("status", "seller_id", "buyer_id", "reason", "party_to_act", "order_id", "outcome")
"""Filters on a column's value: a row matches any of the values given (OR)."""
RANGES = (
    ("opened_after", "opened_at >= %s"),
    ("opened_before", "opened_at < %s"),
    ("updated_after", "updated_at >= %s"),
    ("updated_before", "updated_at < %s"),
    ("deadline_before", "next_deadline_at < %s"),  # the earliest open deadline: some deadline is due before
)
ORDERS = {"opened_at": "opened_at", "updated_at": "updated_at", "deadline": "next_deadline_at"}
"""`order_by` keys and their columns. Only `deadline` can be NULL (no open deadline): such rows
sort after every deadline ascending, before every deadline descending (NULL as the latest time)."""


@dataclass(frozen=True)
class Filters:
    status: tuple[str, ...] = ()
    seller_id: tuple[str, ...] = ()
    buyer_id: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    party_to_act: tuple[str, ...] = ()
    order_id: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    escalated: bool | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    deadline_before: datetime | None = None
    assigned_agent: str | None = None
    unassigned: bool = False
    """Only disputes no agent has claimed."""


@dataclass(frozen=True)
class Order:
    """Sort by `key` (one of ORDERS), then by dispute id, both ascending or both descending."""

    key: str = "opened_at"
    descending: bool = True

    @property
    def column(self) -> str:
        return ORDERS[self.key]

    def sql(self) -> str:
        way = "DESC NULLS FIRST" if self.descending else "ASC NULLS LAST"
        return f"{self.column} {way}, dispute_id {'DESC' if self.descending else 'ASC'}"

    def after(self, key: datetime | None, dispute_id: str) -> tuple[str, list[Any]]:
        """Rows strictly after (key, dispute_id) in this order (keyset pagination)."""
        col, op = self.column, "<" if self.descending else ">"
        if key is None:  # among the rows without a deadline
            if self.descending:
                return f"(({col} IS NULL AND dispute_id < %s) OR {col} IS NOT NULL)", [dispute_id]
            return f"({col} IS NULL AND dispute_id > %s)", [dispute_id]
        nulls_follow = " OR next_deadline_at IS NULL" if col == "next_deadline_at" and not self.descending else ""
        return f"({col} {op} %s{nulls_follow} OR ({col} = %s AND dispute_id {op} %s))", [key, key, dispute_id]


def query(
    viewer: Actor, filters: Filters, order: Order, after: tuple[datetime | None, str] | None, limit: int
) -> tuple[str, list[Any]]:
    """The search's SQL and parameters. Buyers and sellers only ever see their own disputes."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in visible_parties(viewer).items():
        where.append(f"{column} = %s")
        params.append(value)
    for column in EQUALS:
        values = sorted(set(getattr(filters, column)))
        if values:
            where.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
            params += values
    if filters.escalated is not None:
        where.append("escalated = %s")
        params.append(filters.escalated)
    for name, condition in RANGES:
        if (value := getattr(filters, name)) is not None:
            where.append(condition)
            params.append(value)
    if filters.assigned_agent is not None:
        where.append("assigned_agent = %s")
        params.append(filters.assigned_agent)
    if filters.unassigned:
        where.append("assigned_agent IS NULL")
    if after:
        condition, values = order.after(*after)
        where.append(condition)
        params += values
    clause = " AND ".join(where) or "TRUE"
    sql = f"SELECT * FROM {{dispute_summaries}} WHERE {clause} ORDER BY {order.sql()} LIMIT %s"  # noqa: S608 - fixed text
    return sql, [*params, limit]


def search(
    db: Database,
    viewer: Actor,
    filters: Filters,
    after: tuple[datetime | None, str] | None,
    limit: int,
    order: Order = Order(),
) -> list[Row]:
    """A page of rows in `order`, by index (see `query`)."""
    sql, params = query(viewer, filters, order, after, limit)
    with db.reading() as cur:
        cur.run(sql, params, dispute_summaries="dispute_summaries")
        return cur.all()


def sort_key(row: Row, order: Order) -> datetime | None:
    """The row's value of the order's column, for the next page's cursor."""
    return as_time(row[order.column])


def document_of(row: Row) -> Dispute:
    """The dispute a search row holds, as of the row's version."""
    return documents.decode(row["dispute_id"], as_json(row["document"]))
