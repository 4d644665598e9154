"""Dispute timeline: one row per event, with a human summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain import events as ev
from domain.values import PARTIES, Role
from domain.visibility import may_read_message
from projections.common import event_type, money_text, payload
from projections.db import Database, as_json, as_time
from projections.projection import Projection

REMEDY_TEXT = {
    "refund_only": "a refund of {refund}",
    "partial_refund": "a partial refund of {refund}",
    "return_and_refund": "a return and a refund of {refund}",
    "replacement": "a replacement",
}
DEADLINE_TEXT = {
    "SellerResponseDeadlineMissed": "The seller did not respond in time",
    "NegotiationDeadlineMissed": "The negotiation window ended without agreement",
    "ReturnShippingDeadlineMissed": "The buyer did not ship the return in time",
    "ReturnReceiptDeadlineMissed": "The seller did not confirm receipt of the return in time",
    "EvidenceWindowClosed": "The evidence window closed",
    "EvidenceRequestExpired": "An evidence request expired",
    "ReviewSlaBreached": "The review took longer than its target",
    "AppealWindowClosed": "The appeal window closed: the ruling is final",
    "AppealReviewSlaBreached": "The appeal review took longer than its target",
}
STAFF_ONLY = "agent"
"""`party_only` of entries no party sees (which agent handles a dispute)."""


def who(event: ev.DisputeEvent) -> str:
    return event.actor_role.capitalize() if event.actor_role != Role.SYSTEM else "The platform"


def remedy_text(remedy: str, refund: dict[str, Any] | None) -> str:
    return REMEDY_TEXT[remedy].format(refund=money_text(refund))


def summary(event: ev.DisputeEvent) -> str:
    d = payload(event)
    name = event_type(event)
    if isinstance(event, ev.DisputeOpened):
        return f"Buyer opened a dispute ({d['reason']}) asking for {remedy_text(d['remedy'], d['refund'])}"
    if isinstance(event, ev.OfferProposed):
        return f"{who(event)} proposed {remedy_text(d['remedy'], d['refund'])}"
    if isinstance(event, ev.OfferAccepted):
        return f"{who(event)} accepted the offer"
    if isinstance(event, ev.OfferRejected):
        return f"{who(event)} rejected the offer" + (f": {d['reason']}" if d["reason"] else "")
    if isinstance(event, ev.EvidenceSubmitted):
        return f"{who(event)} submitted {d['kind']} evidence ({d['media_type']}, {d['size']} bytes)"
    if isinstance(event, ev.MessagePosted):
        return f"{who(event)} posted a message"
    if isinstance(event, ev.DisputeEscalated):
        return f"{who(event)} escalated the dispute to the platform"
    if isinstance(event, ev.DisputeWithdrawn):
        return "Buyer withdrew the dispute"
    if isinstance(event, ev.ReturnShipped):
        return f"Buyer shipped the return with {d['carrier']} ({d['tracking_number']})"
    if isinstance(event, ev.ReturnReceiptConfirmed):
        return f"Seller confirmed the return: {d['condition'].replace('_', ' ')}"
    if isinstance(event, ev.EvidenceRequested):
        return f"Agent requested evidence from the {d['party']} by {d['due_at']}"
    if isinstance(event, ev.DeadlineExtended):
        return f"Agent extended the {d['deadline'].replace('_', ' ')} deadline to {d['due_at']}"
    if isinstance(event, ev.DisputeResolved):
        refund = f" with {money_text(d['refund'])}" if d["refund"] else ""
        appealable = f" (open to appeal until {d['appealable_until']})" if d.get("appealable_until") else ""
        return f"Resolved by {d['how']}: {d['outcome'].replace('_', ' ')}{refund}{appealable}"
    if isinstance(event, ev.DisputeAppealed):
        return f"{who(event)} appealed the ruling"
    if isinstance(event, ev.AppealDecided):
        return f"Agent {d['decision']} the ruling on appeal"
    if isinstance(event, ev.DisputeClaimed):
        taken = f", taking it over from {d['previous_agent']}: {d['reason']}" if d["forced"] else ""
        return f"Agent {event.actor_id} claimed the dispute{taken}"
    if isinstance(event, ev.DisputeReleased):
        return f"Agent {event.actor_id} released the dispute"
    return DEADLINE_TEXT.get(name, name)


def party_only(event: ev.DisputeEvent) -> str | None:
    """The one party who may see this entry (messages after review), `agent` for
    entries no party sees (claims and releases), or None for both parties."""
    if isinstance(event, (ev.DisputeClaimed, ev.DisputeReleased)):
        return STAFF_ONLY
    if isinstance(event, ev.MessagePosted):
        readers = [p for p in PARTIES if may_read_message(p, event.visible_to)]
        return readers[0].value if len(readers) == 1 else None
    return None


def shown_to(event: ev.DisputeEvent, viewer: Role) -> bool:
    """Whether `viewer` sees this entry: the rule `entries` applies in SQL, for one event."""
    only = party_only(event)
    return only is None or may_read_message(viewer, (Role(only),))


entry_data = payload
"""The `data` of a timeline entry (and of the event feed's item for the same event)."""


class Timeline(Projection):
    name = "timeline"
    tables = ("timeline_entries",)

    @classmethod
    def ddl(cls) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {timeline_entries} ("
            "position :bigint: PRIMARY KEY, dispute_id text NOT NULL, version :int: NOT NULL, type text NOT NULL, "
            "actor_id text NOT NULL, actor_role text NOT NULL, occurred_at :time: NOT NULL, summary text NOT NULL, "
            "data :json: NOT NULL, party_only text)",
            "CREATE UNIQUE INDEX IF NOT EXISTS {ix_timeline_dispute} ON {timeline_entries} (dispute_id, version)",
        ]

    @singledispatchmethod
    def project(self, event: Any, position: int) -> None:
        pass

    @project.register
    def _(self, event: ev.DisputeEvent, position: int) -> None:
        self.run(
            "INSERT INTO {timeline_entries} (position, dispute_id, version, type, actor_id, actor_role, "
            "occurred_at, summary, data, party_only) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                position,
                str(event.originator_id),
                event.originator_version,
                event_type(event),
                event.actor_id,
                event.actor_role,
                event.timestamp,
                summary(event),
                entry_data(event),
                party_only(event),
            ],
        )


@dataclass(frozen=True)
class TimelineEntry:
    position: int
    version: int
    type: str
    actor_id: str
    actor_role: str
    occurred_at: datetime
    summary: str
    data: dict[str, Any]


def entries(db: Database, dispute_id: UUID, viewer_role: Role, after: int = 0, limit: int = 50) -> list[TimelineEntry]:
    """A dispute's timeline in order; parties do not see the other party's private messages."""
    where, params = "dispute_id = %s AND position > %s", [str(dispute_id), after]
    if viewer_role in PARTIES:  # the other party's private entries and staff-only ones are hidden
        where += " AND (party_only IS NULL OR party_only = %s)"
        params.append(viewer_role.value)
    with db.reading() as cur:
        cur.run(
            f"SELECT * FROM {{timeline_entries}} WHERE {where} ORDER BY position LIMIT %s",  # noqa: S608 - fixed text
            [*params, limit],
            timeline_entries="timeline_entries",
        )
        rows = cur.all()
    return [
        TimelineEntry(
            position=int(r["position"]),
            version=int(r["version"]),
            type=r["type"],
            actor_id=r["actor_id"],
            actor_role=r["actor_role"],
            occurred_at=as_time(r["occurred_at"]),  # type: ignore[arg-type]
            summary=r["summary"],
            data=as_json(r["data"]),
        )
        for r in rows
    ]
