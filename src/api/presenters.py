"""Turn domain objects into response models, as the caller may see them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from api.schemas import (
    ActorOut,
    AppealOut,
    DisputeOut,
    EvidenceOut,
    EvidenceRequestOut,
    MessageOut,
    MoneyOut,
    OfferOut,
    OutcomeOut,
    ReturnShipmentOut,
)
from domain.dispute import Dispute
from domain.values import PARTIES, Actor, Appeal, Evidence, EvidenceRequest, Message, Money, Offer
from domain.visibility import may_read_message, reads_message_bodies


def money(value: Money | None) -> MoneyOut | None:
    return MoneyOut(amount_minor=value.amount_minor, currency=value.currency) if value else None


def actor(value: Actor) -> ActorOut:
    return ActorOut(id=value.id, role=value.role)


def offer(value: Offer) -> OfferOut:
    return OfferOut(
        id=UUID(value.id),
        actor=actor(value.actor),
        remedy=value.remedy,
        refund=money(value.refund),
        note=value.note,
        status=value.status,
        proposed_at=value.proposed_at,
        decided_at=value.decided_at,
    )


def evidence(value: Evidence) -> EvidenceOut:
    return EvidenceOut(
        id=UUID(value.id),
        kind=value.kind,
        description=value.description,
        sha256=value.sha256,
        size=value.size,
        media_type=value.media_type,
        submitted_by=actor(value.actor),
        submitted_at=value.submitted_at,
    )


def evidence_request(value: EvidenceRequest) -> EvidenceRequestOut:
    return EvidenceRequestOut(
        id=UUID(value.id), party=value.party, note=value.note, due_at=value.due_at, requested_at=value.requested_at
    )


def readable_messages(dispute: Dispute, viewer: Actor) -> list[MessageOut]:
    """Parties read the messages addressed to their role; agents and auditors
    read all; analysts and the platform see that messages exist, never their bodies."""
    shown = []
    for m in dispute.messages:
        if may_read_message(viewer.role, m.visible_to):
            shown.append(message(m, with_body=reads_message_bodies(viewer.role)))
    return shown


def message(value: Message, *, with_body: bool = True) -> MessageOut:
    return MessageOut(
        id=UUID(value.id),
        actor=actor(value.actor),
        body=value.body if with_body else None,
        visible_to=list(value.visible_to),
        posted_at=value.posted_at,
    )


def appeal(value: Appeal) -> AppealOut:
    return AppealOut(
        appealed_by=actor(value.appealed_by),
        reason=value.reason,
        appealed_at=value.appealed_at,
        decision=value.decision,
        decided_by=value.decided_by,
        rationale=value.rationale,
        decided_at=value.decided_at,
    )


def dispute(value: Dispute, viewer: Actor, now: datetime) -> DisputeOut:
    resolution = value.resolution
    shipment = value.return_shipment
    assert value.opened_at is not None
    return DisputeOut(
        id=value.id,
        order_id=value.order_id,
        buyer_id=value.buyer_id,
        seller_id=value.seller_id,
        reason=value.reason,
        description=value.description,
        status=value.status,
        party_to_act=value.party_to_act,
        requested_remedy=value.requested_remedy,
        requested_refund=money(value.offers[0].refund),
        order_amount=MoneyOut(amount_minor=value.order_amount.amount_minor, currency=value.order_amount.currency),
        pending_offer=offer(value.pending_offer) if value.pending_offer else None,
        offers=[offer(o) for o in value.offers],
        evidence=[evidence(e) for e in value.evidence],
        messages=readable_messages(value, viewer),
        evidence_requests=[evidence_request(r) for r in value.evidence_requests],
        deadlines=dict(sorted(value.deadlines.items(), key=lambda kv: kv[1])),
        outcome=OutcomeOut(
            how=resolution.how,
            outcome=resolution.outcome,
            refund=money(resolution.refund),
            seller_at_fault=resolution.seller_at_fault,
            rationale=resolution.rationale,
            resolved_at=resolution.resolved_at,
            final=resolution.final,
            appealable_until=resolution.appealable_until,
        )
        if resolution
        else None,
        return_shipment=ReturnShipmentOut(
            carrier=shipment.carrier, tracking_number=shipment.tracking_number, shipped_at=shipment.shipped_at
        )
        if shipment
        else None,
        return_condition=value.return_condition,
        escalated=value.escalated,
        assigned_agent=value.assigned_agent if viewer.role not in PARTIES else None,
        appeal=appeal(value.appeal) if value.appeal else None,
        version=value.version,
        allowed_actions=value.allowed_actions(viewer, now),
        opened_at=value.opened_at,
        updated_at=value.modified_on,
        closed_at=value.closed_at,
    )
