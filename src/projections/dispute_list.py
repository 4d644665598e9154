"""Dispute list and search: one row per dispute with its current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from domain.dispute import Dispute
from domain.values import Actor, Remedy, ReturnCondition, Role, Status
from projections import documents
from projections.db import Database, Row, as_json
from projections.projection import Projection

OTHER = {"buyer": "seller", "seller": "buyer"}


class DisputeList(Projection):
    """One row per dispute: indexed columns to search by, and the dispute's
    state as a document (see projections.documents) to render full bodies."""

    name = "dispute_list"
    tables = ("dispute_summaries",)
    dispatcher = "summarise"

    def __init__(self, cursor: Any, generation: int, params: dict[str, Any]) -> None:
        super().__init__(cursor, generation, params)
        self.documents: dict[str, Dispute] = {}

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
            "document :json:)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_opened} ON {dispute_summaries} (opened_at, dispute_id)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_seller} ON {dispute_summaries} (seller_id, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_buyer} ON {dispute_summaries} (buyer_id, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_status} ON {dispute_summaries} (status, opened_at)",
            "CREATE INDEX IF NOT EXISTS {ix_summaries_reason} ON {dispute_summaries} (reason, opened_at)",
        ]

    def set(self, event: ev.DisputeEvent, **columns: Any) -> None:
        self.update_dispute("dispute_summaries", event.originator_id, **columns)

    def touch(self, event: ev.DisputeEvent, position: int) -> None:
        columns: dict[str, Any] = {
            "updated_at": event.timestamp,
            "version": event.originator_version,
            "last_position": position,
        }
        if isinstance(event, ev.DeadlinesChanged):
            columns["deadlines"] = {k: v.isoformat() for k, v in sorted(event.deadlines.items())}
            columns["next_deadline_at"] = min(event.deadlines.values(), default=None)
        self.set(event, **columns)

    def project(self, event: Any, position: int) -> None:
        self.summarise(event, position)
        if isinstance(event, ev.DisputeEvent):
            self.evolve_document(event)

    def evolve_document(self, event: ev.DisputeEvent) -> None:
        key = str(event.originator_id)
        current = None if isinstance(event, ev.DisputeOpened) else self.documents.get(key) or self.load(key)
        evolved = event.mutate(current)
        assert isinstance(evolved, Dispute)
        self.documents[key] = evolved

    def load(self, dispute_id: str) -> Dispute:
        self.run("SELECT document FROM {dispute_summaries} WHERE dispute_id = %s", [dispute_id])
        row = self.cursor.one()
        assert row is not None and row["document"] is not None, f"no document for dispute {dispute_id}"
        return documents.decode(dispute_id, as_json(row["document"]))

    def finish(self) -> None:
        for dispute_id, dispute in self.documents.items():
            self.update_dispute("dispute_summaries", dispute_id, document=documents.encode(dispute))

    @singledispatchmethod
    def summarise(self, event: Any, position: int) -> None:
        pass

    @summarise.register
    def _(self, event: ev.DisputeOpened, position: int) -> None:
        refund = event.refund or {}
        self.run(
            "INSERT INTO {dispute_summaries} (dispute_id, order_id, buyer_id, seller_id, reason, requested_remedy, "
            "requested_refund_minor, order_amount_minor, currency, status, party_to_act, pending_offer_by, "
            "pending_offer_remedy, escalated, deadlines, opened_at, updated_at, version, last_position) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                str(event.originator_id),
                event.order_id,
                event.buyer_id,
                event.seller_id,
                event.reason,
                event.remedy,
                refund.get("amount_minor"),
                event.order_amount["amount_minor"],
                event.order_amount["currency"],
                Status.AWAITING_SELLER.value,
                Role.SELLER.value,
                Role.BUYER.value,
                event.remedy,
                False,
                {},
                event.timestamp,
                event.timestamp,
                1,
                position,
            ],
        )
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.OfferProposed, position: int) -> None:
        self.set(
            event,
            status=Status.NEGOTIATING.value,
            party_to_act=OTHER[event.actor_role],
            pending_offer_by=event.actor_role,
            pending_offer_remedy=event.remedy,
        )
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.OfferAccepted, position: int) -> None:
        self.run(
            "UPDATE {dispute_summaries} SET status = 'awaiting_return', party_to_act = 'buyer' "
            "WHERE dispute_id = %s AND pending_offer_remedy = %s",
            [str(event.originator_id), Remedy.RETURN_AND_REFUND.value],
        )
        self.set(event, pending_offer_by=None, pending_offer_remedy=None)
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.OfferRejected, position: int) -> None:
        self.run(
            "UPDATE {dispute_summaries} SET status = 'negotiating', party_to_act = pending_offer_by, "
            "pending_offer_by = NULL, pending_offer_remedy = NULL WHERE dispute_id = %s",
            [str(event.originator_id)],
        )
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.DisputeEscalated, position: int) -> None:
        self.set(
            event,
            status=Status.UNDER_REVIEW.value,
            party_to_act=Role.AGENT.value,
            escalated=True,
            pending_offer_by=None,
            pending_offer_remedy=None,
        )
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.DisputeWithdrawn, position: int) -> None:
        self.set(
            event,
            status=Status.WITHDRAWN.value,
            party_to_act=None,
            closed_at=event.timestamp,
            pending_offer_by=None,
            pending_offer_remedy=None,
        )
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.ReturnShipped, position: int) -> None:
        self.set(event, status=Status.RETURN_IN_TRANSIT.value, party_to_act=Role.SELLER.value)
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.ReturnReceiptConfirmed, position: int) -> None:
        if event.condition != ReturnCondition.RECEIVED_OK.value:
            self.set(event, status=Status.UNDER_REVIEW.value, party_to_act=Role.AGENT.value)
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.DisputeResolved, position: int) -> None:
        refund = event.refund or {}
        self.set(
            event,
            status=Status.RESOLVED.value,
            party_to_act=None,
            closed_at=event.timestamp,
            outcome=event.outcome,
            resolved_how=event.how,
            refund_minor=refund.get("amount_minor"),
            seller_at_fault=event.seller_at_fault,
            pending_offer_by=None,
            pending_offer_remedy=None,
        )
        self.touch(event, position)

    @summarise.register
    def _(self, event: ev.DisputeEvent, position: int) -> None:
        self.touch(event, position)


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    seller_id: str | None = None
    buyer_id: str | None = None
    reason: str | None = None
    party_to_act: str | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None


def search(db: Database, viewer: Actor, filters: Filters, after: tuple[datetime, str] | None, limit: int) -> list[Row]:
    """Newest first, by index. Buyers and sellers only ever see their own disputes."""
    where: list[str] = []
    params: list[Any] = []
    scoped = {"buyer_id": viewer.id} if viewer.role is Role.BUYER else {}
    scoped |= {"seller_id": viewer.id} if viewer.role is Role.SELLER else {}
    for column in ("status", "seller_id", "buyer_id", "reason", "party_to_act"):
        for value in {getattr(filters, column), scoped.get(column)} - {None}:
            where.append(f"{column} = %s")
            params.append(value)
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
