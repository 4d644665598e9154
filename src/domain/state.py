"""The Dispute aggregate's state: its fields, the queries on them, and the
mutators that events apply (one per event, named after it: OfferProposed
calls `on_offer_proposed`). Mutators only change state; every decision is
taken by the commands (`domain.dispute` and its mixins) before an event exists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from eventsourcing.domain import Aggregate

from domain import events as ev
from domain.chain import GENESIS
from domain.errors import OfferNotFound
from domain.values import (
    Appeal,
    AppealDecision,
    Deadline,
    Evidence,
    EvidenceKind,
    EvidenceRequest,
    Message,
    Money,
    Offer,
    OfferStatus,
    Outcome,
    Reason,
    Remedy,
    Resolution,
    ResolvedHow,
    ReturnCondition,
    ReturnShipment,
    Role,
    Status,
)


class DisputeState(Aggregate):
    def __init__(self) -> None:
        self.order_id = ""
        self.buyer_id = ""
        self.seller_id = ""
        self.reason = Reason.NOT_RECEIVED
        self.requested_remedy = Remedy.REFUND_ONLY
        self.order_amount = Money(0, "XXX")
        self.description = ""
        self.opened_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.status = Status.AWAITING_SELLER
        self.party_to_act: Role | None = None
        self.offers: list[Offer] = []
        self.pending_offer_id: str | None = None
        self.agreed_offer_id: str | None = None
        self.seller_responded = False
        self.evidence: list[Evidence] = []
        self.messages: list[Message] = []
        self.evidence_requests: list[EvidenceRequest] = []
        self.deadlines: dict[Deadline, datetime] = {}
        self.escalated = False
        self.reviewed = False
        self.return_shipment: ReturnShipment | None = None
        self.return_condition: ReturnCondition | None = None
        self.resolution: Resolution | None = None
        self.appeal: Appeal | None = None
        self.assigned_agent: str | None = None
        self.chain_hash = GENESIS

    # ---------------------------------------------------------------- queries
    @property
    def pending_offer(self) -> Offer | None:
        return self.offer(self.pending_offer_id) if self.pending_offer_id else None

    @property
    def agreed_offer(self) -> Offer:
        assert self.agreed_offer_id is not None, "no offer was agreed"
        return self.offer(self.agreed_offer_id)

    def offer(self, offer_id: str) -> Offer:
        for offer in self.offers:
            if offer.id == offer_id:
                return offer
        raise OfferNotFound(f"no offer {offer_id} in this dispute")

    def other_party(self, role: Role) -> Role:
        return Role.SELLER if role is Role.BUYER else Role.BUYER

    def restore_types(self) -> None:
        """Snapshots store enum members as their string values; restore them."""
        self.status = Status(self.status)
        self.party_to_act = Role(self.party_to_act) if self.party_to_act else None
        self.reason = Reason(self.reason)
        self.requested_remedy = Remedy(self.requested_remedy)
        self.deadlines = {Deadline(k): v for k, v in self.deadlines.items()}
        if self.return_condition is not None:
            self.return_condition = ReturnCondition(self.return_condition)
        # Snapshots (and read-model documents) taken before appeals and claims existed.
        self.__dict__.setdefault("appeal", None)
        self.__dict__.setdefault("assigned_agent", None)

    # ------------------------------------------------- mutators (every event)
    def on_chain_extended(self, e: ev.DisputeEvent) -> None:
        self.chain_hash = e.chain_hash

    def on_deadlines_changed(self, e: ev.DeadlinesChanged) -> None:
        self.deadlines = {Deadline(k): v for k, v in e.deadlines.items()}

    # ----------------------------------------------- mutators (named events)
    def on_dispute_opened(self, e: ev.DisputeOpened) -> None:
        self.order_id = e.order_id
        self.buyer_id = e.buyer_id
        self.seller_id = e.seller_id
        self.reason = Reason(e.reason)
        self.requested_remedy = Remedy(e.remedy)
        self.order_amount = Money(**e.order_amount)
        self.description = e.description
        self.opened_at = e.timestamp
        self.status = Status.AWAITING_SELLER
        self.party_to_act = Role.SELLER
        self._add_offer(e, e.offer_id, e.remedy, e.refund, e.description)

    def on_offer_proposed(self, e: ev.OfferProposed) -> None:
        if self.pending_offer_id is not None:
            self._decide_offer(self.pending_offer_id, OfferStatus.SUPERSEDED, e.timestamp)
        self._add_offer(e, e.offer_id, e.remedy, e.refund, e.note)
        self.status = Status.NEGOTIATING
        self.party_to_act = self.other_party(e.actor.role)
        self.seller_responded = True

    def on_offer_accepted(self, e: ev.OfferAccepted) -> None:
        offer = self._decide_offer(e.offer_id, OfferStatus.ACCEPTED, e.timestamp)
        self.agreed_offer_id = e.offer_id
        self.seller_responded = True
        if offer.remedy is Remedy.RETURN_AND_REFUND:
            self.status = Status.AWAITING_RETURN
            self.party_to_act = Role.BUYER

    def on_offer_rejected(self, e: ev.OfferRejected) -> None:
        offer = self._decide_offer(e.offer_id, OfferStatus.REJECTED, e.timestamp)
        self.status = Status.NEGOTIATING
        self.party_to_act = offer.actor.role
        self.seller_responded = True

    def on_evidence_submitted(self, e: ev.EvidenceSubmitted) -> None:
        self.evidence.append(
            Evidence(
                id=e.evidence_id,
                actor=e.actor,
                kind=EvidenceKind(e.kind),
                description=e.description,
                sha256=e.sha256,
                size=e.size,
                media_type=e.media_type,
                blob_key=e.blob_key,
                submitted_at=e.timestamp,
            )
        )

    def on_message_posted(self, e: ev.MessagePosted) -> None:
        visible_to = tuple(Role(r) for r in e.visible_to)
        self.messages.append(Message(e.message_id, e.actor, e.body, visible_to, e.timestamp))

    def on_dispute_escalated(self, e: ev.DisputeEscalated) -> None:
        self._cancel_pending_offer(e.timestamp)
        self.escalated = True
        self._enter_review()

    def on_dispute_withdrawn(self, e: ev.DisputeWithdrawn) -> None:
        self._cancel_pending_offer(e.timestamp)
        self.status = Status.WITHDRAWN
        self.party_to_act = None
        self.closed_at = e.timestamp
        self.assigned_agent = None

    def on_return_shipped(self, e: ev.ReturnShipped) -> None:
        self.return_shipment = ReturnShipment(e.carrier, e.tracking_number, e.timestamp)
        self.status = Status.RETURN_IN_TRANSIT
        self.party_to_act = Role.SELLER

    def on_return_receipt_confirmed(self, e: ev.ReturnReceiptConfirmed) -> None:
        self.return_condition = ReturnCondition(e.condition)
        if self.return_condition is not ReturnCondition.RECEIVED_OK:
            self._enter_review()

    def on_evidence_requested(self, e: ev.EvidenceRequested) -> None:
        request = EvidenceRequest(e.evidence_request_id, Role(e.party), e.note, e.due_at, e.timestamp)
        self.evidence_requests.append(request)

    def on_dispute_resolved(self, e: ev.DisputeResolved) -> None:
        self._cancel_pending_offer(e.timestamp)
        self.resolution = Resolution(
            how=ResolvedHow(e.how),
            outcome=Outcome(e.outcome),
            refund=Money.from_dict(e.refund),
            seller_at_fault=e.seller_at_fault,
            rationale=e.rationale,
            resolved_at=e.timestamp,
            final=e.final,
            appealable_until=e.appealable_until,
            ruled_by=e.actor_id if not e.final else "",
        )
        self.status = Status.RESOLVED
        self.party_to_act = None
        self.closed_at = e.timestamp
        self.assigned_agent = None

    def on_dispute_appealed(self, e: ev.DisputeAppealed) -> None:
        assert self.resolution is not None, "only a resolved dispute is appealed"
        self.appeal = Appeal(e.actor, e.reason, e.timestamp, ruled_by=self.resolution.ruled_by)
        self.resolution = replace(self.resolution, appealable_until=None)
        self.status = Status.UNDER_APPEAL
        self.party_to_act = Role.AGENT
        self.closed_at = None

    def on_appeal_decided(self, e: ev.AppealDecided) -> None:
        assert self.appeal is not None, "only an appealed dispute has an appeal decided"
        self.appeal = replace(
            self.appeal,
            decision=AppealDecision(e.decision),
            decided_by=e.actor_id,
            rationale=e.rationale,
            decided_at=e.timestamp,
        )

    def on_appeal_window_closed(self, e: ev.AppealWindowClosed) -> None:
        assert self.resolution is not None, "the appeal window follows a ruling"
        self.resolution = replace(self.resolution, final=True, appealable_until=None)

    def on_dispute_claimed(self, e: ev.DisputeClaimed) -> None:
        self.assigned_agent = e.actor_id

    def on_dispute_released(self, e: ev.DisputeReleased) -> None:
        self.assigned_agent = None

    def on_seller_response_deadline_missed(self, e: ev.SellerResponseDeadlineMissed) -> None:
        """The buyer's request is executed: the pending opening offer counts as accepted."""
        if self.pending_offer_id is not None:
            self._decide_offer(self.pending_offer_id, OfferStatus.ACCEPTED, e.timestamp)

    # ------------------------------------------------------ mutator helpers
    def _add_offer(
        self, e: ev.DisputeEvent, offer_id: str, remedy: str, refund: ev.MoneyData | None, note: str
    ) -> None:
        offer = Offer(
            id=offer_id,
            actor=e.actor,
            remedy=Remedy(remedy),
            refund=Money.from_dict(refund),
            note=note,
            status=OfferStatus.PENDING,
            proposed_at=e.timestamp,
        )
        self.offers.append(offer)
        self.pending_offer_id = offer.id

    def _decide_offer(self, offer_id: str, status: OfferStatus, at: datetime) -> Offer:
        index = next(i for i, o in enumerate(self.offers) if o.id == offer_id)
        decided = Offer(**{**vars(self.offers[index]), "status": status, "decided_at": at})
        self.offers[index] = decided
        if self.pending_offer_id == offer_id:
            self.pending_offer_id = None
        return decided

    def _cancel_pending_offer(self, at: datetime) -> None:
        if self.pending_offer_id is not None:
            self._decide_offer(self.pending_offer_id, OfferStatus.CANCELLED, at)

    def _enter_review(self) -> None:
        self.status = Status.UNDER_REVIEW
        self.party_to_act = Role.AGENT
        self.reviewed = True
