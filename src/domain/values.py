"""Value objects and vocabularies of the dispute domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    AGENT = "agent"
    AUDITOR = "auditor"
    ANALYST = "analyst"
    PLATFORM = "platform"
    SYSTEM = "system"


class Status(StrEnum):
    AWAITING_SELLER = "awaiting_seller"
    NEGOTIATING = "negotiating"
    AWAITING_RETURN = "awaiting_return"
    RETURN_IN_TRANSIT = "return_in_transit"
    UNDER_REVIEW = "under_review"
    UNDER_APPEAL = "under_appeal"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"

    @property
    def is_terminal(self) -> bool:
        return self in (Status.RESOLVED, Status.WITHDRAWN)


class Reason(StrEnum):
    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    QUALITY_ISSUE = "quality_issue"
    WRONG_ITEM = "wrong_item"
    DAMAGED = "damaged"
    MISSING_PARTS = "missing_parts"
    RETURNED_TO_SENDER = "returned_to_sender"
    CUSTOMS_HELD = "customs_held"
    FAKE_TRACKING = "fake_tracking"


class Remedy(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_AND_REFUND = "return_and_refund"
    REPLACEMENT = "replacement"
    PARTIAL_REFUND = "partial_refund"

    @property
    def needs_refund(self) -> bool:
        return self is not Remedy.REPLACEMENT


class Outcome(StrEnum):
    REFUND_FULL = "refund_full"
    REFUND_PARTIAL = "refund_partial"
    NO_REFUND = "no_refund"
    REPLACEMENT = "replacement"


class ResolvedHow(StrEnum):
    AGREEMENT = "agreement"
    RULING = "ruling"
    DEADLINE = "deadline"
    APPEAL = "appeal"


class AppealDecision(StrEnum):
    UPHELD = "upheld"
    OVERTURNED = "overturned"


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    SCREENSHOT = "screenshot"
    TRACKING = "tracking"
    COMMUNICATION = "communication"
    ORDER_CONFIRMATION = "order_confirmation"
    RECEIPT = "receipt"
    OTHER = "other"


class ReturnCondition(StrEnum):
    RECEIVED_OK = "received_ok"
    RECEIVED_DAMAGED = "received_damaged"
    NOT_RECEIVED = "not_received"
    WRONG_ITEM_RETURNED = "wrong_item_returned"


class Deadline(StrEnum):
    SELLER_RESPONSE = "seller_response"
    NEGOTIATION = "negotiation"
    RETURN_SHIPPING = "return_shipping"
    RETURN_RECEIPT = "return_receipt"
    EVIDENCE = "evidence"
    EVIDENCE_REQUEST_BUYER = "evidence_request_buyer"
    EVIDENCE_REQUEST_SELLER = "evidence_request_seller"
    REVIEW_SLA = "review_sla"
    APPEAL_WINDOW = "appeal_window"
    APPEAL_REVIEW = "appeal_review"


class Action(StrEnum):
    """What a caller may do now (the `allowed_actions` vocabulary)."""

    PROPOSE_OFFER = "propose_offer"
    ACCEPT_OFFER = "accept_offer"
    REJECT_OFFER = "reject_offer"
    SUBMIT_EVIDENCE = "submit_evidence"
    POST_MESSAGE = "post_message"
    ESCALATE = "escalate"
    WITHDRAW = "withdraw"
    SHIP_RETURN = "ship_return"
    CONFIRM_RETURN_RECEIPT = "confirm_return_receipt"
    REQUEST_EVIDENCE = "request_evidence"
    EXTEND_DEADLINE = "extend_deadline"
    ISSUE_RULING = "issue_ruling"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide_appeal"
    CLAIM = "claim"
    RELEASE = "release"


PARTIES = (Role.BUYER, Role.SELLER)


@dataclass(frozen=True)
class Actor:
    id: str
    role: Role


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def as_dict(self) -> dict[str, int | str]:
        return {"amount_minor": self.amount_minor, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict[str, int | str] | None) -> Money | None:
        if data is None:
            return None
        return cls(int(data["amount_minor"]), str(data["currency"]))


@dataclass(frozen=True)
class Offer:
    id: str
    actor: Actor
    remedy: Remedy
    refund: Money | None
    note: str
    status: OfferStatus
    proposed_at: datetime
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Evidence:
    id: str
    actor: Actor
    kind: EvidenceKind
    description: str
    sha256: str
    size: int
    media_type: str
    blob_key: str
    submitted_at: datetime


@dataclass(frozen=True)
class Message:
    id: str
    actor: Actor
    body: str
    visible_to: tuple[Role, ...]
    posted_at: datetime


@dataclass(frozen=True)
class EvidenceRequest:
    id: str
    party: Role
    note: str
    due_at: datetime
    requested_at: datetime


@dataclass(frozen=True)
class Resolution:
    how: ResolvedHow
    outcome: Outcome
    refund: Money | None
    seller_at_fault: bool | None
    rationale: str
    resolved_at: datetime
    final: bool = True
    """False while a ruling may still be appealed (until `appealable_until`)."""
    appealable_until: datetime | None = None
    ruled_by: str = ""
    """The agent of a ruling open to appeal (who may not decide the appeal); empty
    for every other outcome, as for those recorded before appeals existed."""


@dataclass(frozen=True)
class Appeal:
    """A party's appeal of a ruling, and once decided, the decision."""

    appealed_by: Actor
    reason: str
    appealed_at: datetime
    ruled_by: str
    """The agent whose ruling is appealed: another agent decides the appeal."""
    decision: AppealDecision | None = None
    decided_by: str | None = None
    rationale: str = ""
    decided_at: datetime | None = None


@dataclass(frozen=True)
class ReturnShipment:
    carrier: str
    tracking_number: str
    shipped_at: datetime


@dataclass(frozen=True)
class Context:
    """Who issues a command, when, and under which request."""

    actor: Actor
    at: datetime
    request_id: str = ""
    idempotency_key: str | None = None

    def event_fields(self) -> dict[str, object]:
        return {
            "timestamp": self.at,
            "actor_id": self.actor.id,
            "actor_role": self.actor.role.value,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
        }
