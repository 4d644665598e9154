"""Request and response models of the public contract (shared/spec/api.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo

from api import examples as ex
from domain import validation
from domain.currencies import ISO_4217
from domain.errors import InvalidValue
from domain.policy import MAX_AMOUNT_MINOR, MAX_SHORT_TEXT
from domain.values import (
    Action,
    AppealDecision,
    Deadline,
    EvidenceKind,
    OfferStatus,
    Outcome,
    Reason,
    Remedy,
    ResolvedHow,
    ReturnCondition,
    Role,
    Status,
)


def domain_rule(check: Callable[[str, Any], None]) -> AfterValidator:
    """A field checked by the domain's own rule (`domain.validation`), so the API's
    422 names the field and says what the command itself would refuse."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        try:
            check(info.field_name or "value", value)
        except InvalidValue as e:
            raise ValueError(e.detail) from None
        return value

    return AfterValidator(validate)


# Postgres text and jsonb cannot hold NUL: refused here, it can never stall a read model.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_SHORT_TEXT, strip_whitespace=True, pattern=NO_NUL),
    Field(description="1 to 255 printable characters (no control or bidi-override characters)"),
    domain_rule(validation.identifier),
]
AMOUNT_DOC = f"integer minor units (cents), at most {MAX_AMOUNT_MINOR}"
Amount = Annotated[
    int,
    Field(strict=True, description=AMOUNT_DOC, json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_AMOUNT_MINOR}),
    domain_rule(validation.amount_minor),
]
AmountOrZero = Annotated[
    int,
    Field(strict=True, description=AMOUNT_DOC, json_schema_extra={"minimum": 0, "maximum": MAX_AMOUNT_MINOR}),
    domain_rule(partial(validation.amount_minor, allow_zero=True)),
]
Currency = Annotated[
    str,
    Field(strict=True, description="an ISO 4217 code", json_schema_extra={"enum": sorted(ISO_4217)}),
    domain_rule(validation.currency),
]
Required = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_NUL)]
PartyRole = Annotated[Role, Field(json_schema_extra={"enum": ["buyer", "seller"]})]
T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")  # be liberal in what we accept: unknown fields are ignored


class MoneyIn(Strict):
    amount_minor: Amount
    currency: Currency


class RulingMoneyIn(Strict):
    """A ruling's refund: zero is allowed (and means none) for no_refund and replacement."""

    amount_minor: AmountOrZero
    currency: Currency


class MoneyOut(BaseModel):
    amount_minor: int
    currency: str


class OpenDisputeIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OPEN_DISPUTE, ex.OPEN_ON_REGISTERED_ORDER))
    order_id: Name
    seller_id: Name | None = Field(
        default=None, description="the order's seller: may be omitted for a registered order (taken from it)"
    )
    reason: Reason
    remedy: Remedy
    refund: MoneyIn | None = None
    order_amount: MoneyIn | None = Field(
        default=None, description="the order's amount: may be omitted for a registered order (taken from it)"
    )
    description: Text = ""


class OfferIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.COUNTER_OFFER))
    remedy: Remedy
    refund: MoneyIn | None = None
    note: Text = ""


class DecisionNoteIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DECISION_NOTE))
    note: Text = ""


class ReasonIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REASON))
    reason: Text = ""


class RejectionIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REJECTION))
    reason: Required = Field(description="why the offer is rejected (the spec: reject with a reason)")


class MessageIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.MESSAGE_IN))
    body: Required
    to: PartyRole | None = Field(default=None, description="agents only: address one party")


class ReturnShipmentIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RETURN_SHIPMENT_IN))
    carrier: Name
    tracking_number: Name


class ReturnReceiptIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RETURN_RECEIPT_IN))
    condition: ReturnCondition
    note: Text = ""


class EvidenceRequestIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.EVIDENCE_REQUEST_IN))
    party: PartyRole
    note: Text = ""
    due_in: timedelta = Field(description="ISO 8601 duration, e.g. P3D or PT30S")


class DeadlineExtensionIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DEADLINE_EXTENSION_IN))
    deadline: Deadline
    extend_by: timedelta = Field(description="ISO 8601 duration")
    reason: Required


class RulingIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RULING_IN))
    outcome: Outcome
    refund: RulingMoneyIn | None = None
    seller_at_fault: bool
    rationale: Required


class AppealIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.APPEAL_IN))
    reason: Required = Field(description="why the ruling should be looked at again")


class AppealDecisionIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.APPEAL_DECISION_IN))
    decision: AppealDecision
    outcome: Outcome | None = Field(default=None, description="required when overturned; absent when upheld")
    refund: RulingMoneyIn | None = Field(default=None, description="as for a ruling; absent when upheld")
    seller_at_fault: bool | None = Field(default=None, description="required when overturned; absent when upheld")
    rationale: Required


class ClaimIn(Strict):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CLAIM_IN))
    force: bool = Field(default=False, description="take the dispute over from the agent who holds it")
    reason: Text = Field(default="", description="required with force; recorded in the event")


class ActorOut(BaseModel):
    id: str
    role: Role


class OfferOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OFFER))
    id: UUID
    actor: ActorOut
    remedy: Remedy
    refund: MoneyOut | None
    note: str
    status: OfferStatus
    proposed_at: datetime
    decided_at: datetime | None


class EvidenceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.EVIDENCE))
    id: UUID
    kind: EvidenceKind
    description: str
    sha256: str
    size: int
    media_type: str
    submitted_by: ActorOut
    submitted_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.MESSAGE))
    id: UUID
    actor: ActorOut
    body: str | None = Field(description="null where the caller may not read bodies (analysts)")
    visible_to: list[Role]
    posted_at: datetime


class EvidenceRequestOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.EVIDENCE_REQUEST))
    id: UUID
    party: Role
    note: str
    due_at: datetime
    requested_at: datetime


class OutcomeOut(BaseModel):
    how: ResolvedHow
    outcome: Outcome
    refund: MoneyOut | None
    seller_at_fault: bool | None
    rationale: str
    resolved_at: datetime
    final: bool = Field(description="false while a ruling may still be appealed")
    appealable_until: datetime | None = Field(description="the end of the appeal window of a ruling not yet final")


class AppealOut(BaseModel):
    appealed_by: ActorOut
    reason: str
    appealed_at: datetime
    decision: AppealDecision | None = Field(description="null until an agent decides the appeal")
    decided_by: str | None
    rationale: str
    decided_at: datetime | None


class ReturnShipmentOut(BaseModel):
    carrier: str
    tracking_number: str
    shipped_at: datetime


class DisputeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DISPUTE))
    id: UUID
    order_id: str
    buyer_id: str
    seller_id: str
    reason: Reason
    description: str
    status: Status
    party_to_act: Role | None
    requested_remedy: Remedy
    requested_refund: MoneyOut | None
    order_amount: MoneyOut
    pending_offer: OfferOut | None
    offers: list[OfferOut]
    evidence: list[EvidenceOut]
    messages: list[MessageOut]
    evidence_requests: list[EvidenceRequestOut]
    deadlines: dict[Deadline, datetime]
    outcome: OutcomeOut | None
    return_shipment: ReturnShipmentOut | None
    return_condition: ReturnCondition | None
    escalated: bool
    assigned_agent: str | None = Field(description="the agent who claimed the dispute (null for buyers and sellers)")
    appeal: AppealOut | None
    version: int
    allowed_actions: list[Action]
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples({"status": "ok"}))
    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.READINESS))
    status: str
    database: str
    head_position: int
    views: dict[str, dict[str, int | str | None]] = Field(
        default_factory=dict,
        description="per read model: position, lag, status (`running` or `faulted`), fault_position, fault_error",
    )
