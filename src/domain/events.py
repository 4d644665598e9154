"""Events of the Dispute aggregate, named in the past tense.

Every event records who did it (actor_id, actor_role), when (timestamp, the
occurred_at of the command), the request id, the idempotency key (if any) and
the per-dispute chain_hash. Event fields are JSON-native values (str, int,
bool, None, lists, dicts) or timezone-aware datetimes, so that the canonical
form used by the hash chain is easy to recompute anywhere (docs/audit.md).

Events that change the set of open deadlines carry `deadlines`: the complete
map of open deadlines after the event (read by the deadlines read model).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from domain.values import (
    Actor,
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

if TYPE_CHECKING:
    from domain.dispute import Dispute

MoneyData = dict[str, Any]


class DisputeEvent(Aggregate.Event):
    actor_id: str
    actor_role: str
    request_id: str
    idempotency_key: str | None
    chain_hash: str

    @property
    def actor(self) -> Actor:
        return Actor(self.actor_id, Role(self.actor_role))

    def apply(self, aggregate: Any) -> None:
        dispute: Dispute = aggregate
        dispute.chain_hash = self.chain_hash
        self.evolve(dispute)

    def evolve(self, dispute: Dispute) -> None:
        """How this event changes the dispute (besides the chain head)."""


class DeadlinesChanged(DisputeEvent):
    deadlines: dict[str, datetime]

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.deadlines = {Deadline(k): v for k, v in self.deadlines.items()}


class DisputeOpened(DeadlinesChanged, Aggregate.Created):
    order_id: str
    buyer_id: str
    seller_id: str
    reason: str
    remedy: str
    refund: MoneyData | None
    order_amount: MoneyData
    description: str
    offer_id: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.order_id = self.order_id
        dispute.buyer_id = self.buyer_id
        dispute.seller_id = self.seller_id
        dispute.reason = Reason(self.reason)
        dispute.requested_remedy = Remedy(self.remedy)
        dispute.order_amount = Money(**self.order_amount)
        dispute.description = self.description
        dispute.opened_at = self.timestamp
        dispute.status = Status.AWAITING_SELLER
        dispute.party_to_act = Role.SELLER
        dispute.add_offer(
            Offer(
                id=self.offer_id,
                actor=self.actor,
                remedy=Remedy(self.remedy),
                refund=Money.from_dict(self.refund),
                note=self.description,
                status=OfferStatus.PENDING,
                proposed_at=self.timestamp,
            )
        )


class OfferProposed(DeadlinesChanged):
    offer_id: str
    remedy: str
    refund: MoneyData | None
    note: str

    def evolve(self, dispute: Dispute) -> None:
        if dispute.pending_offer_id is not None:
            dispute.decide_offer(dispute.pending_offer_id, OfferStatus.SUPERSEDED, self.timestamp)
        dispute.add_offer(
            Offer(
                id=self.offer_id,
                actor=self.actor,
                remedy=Remedy(self.remedy),
                refund=Money.from_dict(self.refund),
                note=self.note,
                status=OfferStatus.PENDING,
                proposed_at=self.timestamp,
            )
        )
        dispute.status = Status.NEGOTIATING
        dispute.party_to_act = dispute.other_party(self.actor.role)
        dispute.seller_responded = True


class OfferAccepted(DeadlinesChanged):
    offer_id: str
    note: str

    def evolve(self, dispute: Dispute) -> None:
        offer = dispute.decide_offer(self.offer_id, OfferStatus.ACCEPTED, self.timestamp)
        dispute.agreed_offer_id = self.offer_id
        dispute.seller_responded = True
        if offer.remedy is Remedy.RETURN_AND_REFUND:
            dispute.status = Status.AWAITING_RETURN
            dispute.party_to_act = Role.BUYER


class OfferRejected(DeadlinesChanged):
    offer_id: str
    reason: str

    def evolve(self, dispute: Dispute) -> None:
        offer = dispute.decide_offer(self.offer_id, OfferStatus.REJECTED, self.timestamp)
        dispute.status = Status.NEGOTIATING
        dispute.party_to_act = offer.actor.role
        dispute.seller_responded = True


class EvidenceSubmitted(DisputeEvent):
    evidence_id: str
    kind: str
    description: str
    sha256: str
    size: int
    media_type: str
    blob_key: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.evidence.append(
            Evidence(
                id=self.evidence_id,
                actor=self.actor,
                kind=EvidenceKind(self.kind),
                description=self.description,
                sha256=self.sha256,
                size=self.size,
                media_type=self.media_type,
                blob_key=self.blob_key,
                submitted_at=self.timestamp,
            )
        )


class MessagePosted(DisputeEvent):
    message_id: str
    body: str
    visible_to: list[str]

    def evolve(self, dispute: Dispute) -> None:
        dispute.messages.append(
            Message(
                id=self.message_id,
                actor=self.actor,
                body=self.body,
                visible_to=tuple(Role(r) for r in self.visible_to),
                posted_at=self.timestamp,
            )
        )


class DisputeEscalated(DeadlinesChanged):
    reason: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.cancel_pending_offer(self.timestamp)
        dispute.escalated = True
        dispute.enter_review()


class DisputeWithdrawn(DeadlinesChanged):
    reason: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.cancel_pending_offer(self.timestamp)
        dispute.status = Status.WITHDRAWN
        dispute.party_to_act = None
        dispute.closed_at = self.timestamp


class ReturnShipped(DeadlinesChanged):
    carrier: str
    tracking_number: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.return_shipment = ReturnShipment(self.carrier, self.tracking_number, self.timestamp)
        dispute.status = Status.RETURN_IN_TRANSIT
        dispute.party_to_act = Role.SELLER


class ReturnReceiptConfirmed(DeadlinesChanged):
    condition: str
    note: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.return_condition = ReturnCondition(self.condition)
        if dispute.return_condition is not ReturnCondition.RECEIVED_OK:
            dispute.enter_review()


class EvidenceRequested(DeadlinesChanged):
    evidence_request_id: str
    party: str
    note: str
    due_at: datetime

    def evolve(self, dispute: Dispute) -> None:
        dispute.evidence_requests.append(
            EvidenceRequest(
                id=self.evidence_request_id,
                party=Role(self.party),
                note=self.note,
                due_at=self.due_at,
                requested_at=self.timestamp,
            )
        )


class DeadlineExtended(DeadlinesChanged):
    deadline: str
    previous_due_at: datetime
    due_at: datetime
    reason: str


class DisputeResolved(DeadlinesChanged):
    how: str
    outcome: str
    refund: MoneyData | None
    seller_at_fault: bool | None
    rationale: str

    def evolve(self, dispute: Dispute) -> None:
        dispute.cancel_pending_offer(self.timestamp)
        dispute.resolution = Resolution(
            how=ResolvedHow(self.how),
            outcome=Outcome(self.outcome),
            refund=Money.from_dict(self.refund),
            seller_at_fault=self.seller_at_fault,
            rationale=self.rationale,
            resolved_at=self.timestamp,
        )
        dispute.status = Status.RESOLVED
        dispute.party_to_act = None
        dispute.closed_at = self.timestamp


class DeadlinePassed(DeadlinesChanged):
    """A deadline expired; the system actor records it (subclasses name which)."""

    deadline: str
    due_at: datetime


class SellerResponseDeadlineMissed(DeadlinePassed):
    def evolve(self, dispute: Dispute) -> None:
        """The buyer's request is executed: the pending opening offer counts as accepted."""
        if dispute.pending_offer_id is not None:
            dispute.decide_offer(dispute.pending_offer_id, OfferStatus.ACCEPTED, self.timestamp)


class NegotiationDeadlineMissed(DeadlinePassed):
    pass


class ReturnShippingDeadlineMissed(DeadlinePassed):
    pass


class ReturnReceiptDeadlineMissed(DeadlinePassed):
    pass


class EvidenceWindowClosed(DeadlinePassed):
    pass


class EvidenceRequestExpired(DeadlinePassed):
    pass


class ReviewSlaBreached(DeadlinePassed):
    pass


DEADLINE_EVENTS: dict[Deadline, type[DeadlinePassed]] = {
    Deadline.SELLER_RESPONSE: SellerResponseDeadlineMissed,
    Deadline.NEGOTIATION: NegotiationDeadlineMissed,
    Deadline.RETURN_SHIPPING: ReturnShippingDeadlineMissed,
    Deadline.RETURN_RECEIPT: ReturnReceiptDeadlineMissed,
    Deadline.EVIDENCE: EvidenceWindowClosed,
    Deadline.EVIDENCE_REQUEST_BUYER: EvidenceRequestExpired,
    Deadline.EVIDENCE_REQUEST_SELLER: EvidenceRequestExpired,
    Deadline.REVIEW_SLA: ReviewSlaBreached,
}
