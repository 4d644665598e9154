"""Events of the Dispute aggregate, named in the past tense.

Every event records who did it (actor_id, actor_role), when (timestamp, the
occurred_at of the command), the request id, the idempotency key (if any) and
the per-dispute chain_hash. Event fields are JSON-native values (str, int,
bool, None, lists, dicts) or timezone-aware datetimes, so that the canonical
form used by the hash chain is easy to recompute anywhere (docs/audit.md).

Events that change the set of open deadlines carry `deadlines`: the complete
map of open deadlines after the event (read by the deadlines read model).

Events decide nothing and know nothing of the aggregate's internals: applying
one calls the aggregate's mutator named after it (`on_offer_proposed` for
OfferProposed...), defined with the aggregate's state in `domain.state`. The
class names and module are stored as topics (`domain.events:OfferProposed`):
never rename or move them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.values import Actor, Deadline, Role

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
        aggregate.on_chain_extended(self)


class DeadlinesChanged(DisputeEvent):
    deadlines: dict[str, datetime]

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_deadlines_changed(self)


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

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_opened(self)


class OfferProposed(DeadlinesChanged):
    offer_id: str
    remedy: str
    refund: MoneyData | None
    note: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_offer_proposed(self)


class OfferAccepted(DeadlinesChanged):
    offer_id: str
    note: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_offer_accepted(self)


class OfferRejected(DeadlinesChanged):
    offer_id: str
    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_offer_rejected(self)


class EvidenceSubmitted(DisputeEvent):
    evidence_id: str
    kind: str
    description: str
    sha256: str
    size: int
    media_type: str
    blob_key: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_evidence_submitted(self)


class MessagePosted(DisputeEvent):
    message_id: str
    body: str
    visible_to: list[str]

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_message_posted(self)


class DisputeEscalated(DeadlinesChanged):
    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_escalated(self)


class DisputeWithdrawn(DeadlinesChanged):
    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_withdrawn(self)


class ReturnShipped(DeadlinesChanged):
    carrier: str
    tracking_number: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_return_shipped(self)


class ReturnReceiptConfirmed(DeadlinesChanged):
    condition: str
    note: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_return_receipt_confirmed(self)


class EvidenceRequested(DeadlinesChanged):
    evidence_request_id: str
    party: str
    note: str
    due_at: datetime

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_evidence_requested(self)


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
    # Recorded since appeals exist; events written before hold neither (final, never appealable).
    final: bool = True
    appealable_until: datetime | None = None

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_resolved(self)


class DisputeAppealed(DeadlinesChanged):
    """A party appeals a ruling within the appeal window."""

    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_appealed(self)


class AppealDecided(DeadlinesChanged):
    """An agent (not the one who ruled) upholds or overturns the appealed ruling;
    the DisputeResolved that follows records the final outcome."""

    decision: str
    outcome: str | None
    refund: MoneyData | None
    seller_at_fault: bool | None
    rationale: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_appeal_decided(self)


class DisputeClaimed(DisputeEvent):
    """An agent takes the dispute on (`previous_agent` held it, if anyone; `forced` took it over)."""

    previous_agent: str | None
    forced: bool
    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_claimed(self)


class DisputeReleased(DisputeEvent):
    """The agent who held the dispute gives it back to the queue."""

    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_dispute_released(self)


class DeadlinePassed(DeadlinesChanged):
    """A deadline expired; the system actor records it (subclasses name which)."""

    deadline: str
    due_at: datetime


class SellerResponseDeadlineMissed(DeadlinePassed):
    """The buyer's request is executed: the pending opening offer counts as accepted."""

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_seller_response_deadline_missed(self)


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


class AppealWindowClosed(DeadlinePassed):
    """Nobody appealed the ruling in time: its outcome is final."""

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.on_appeal_window_closed(self)


class AppealReviewSlaBreached(DeadlinePassed):
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
    Deadline.APPEAL_WINDOW: AppealWindowClosed,
    Deadline.APPEAL_REVIEW: AppealReviewSlaBreached,
}
