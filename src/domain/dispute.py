"""The Dispute aggregate: state, and the commands that decide new events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as BaseSnapshot

from domain import events, guards, validation
from domain.chain import GENESIS, next_chain_hash
from domain.errors import DeadlineNotDue, DeadlineNotOpen, OfferNotFound, OfferNotPending, RoleNotAllowed
from domain.policy import Policy
from domain.values import (
    Action,
    Actor,
    Context,
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
from domain.visibility import ensure_can_see, message_audience

ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:disputes:order")


def dispute_id_for(order_id: str) -> UUID:
    """One dispute per order, ever: the id is derived from the order id."""
    return uuid5(ORDER_NAMESPACE, order_id)


class Dispute(Aggregate):
    class Snapshot(BaseSnapshot):
        """Snapshots store enum members as their string values; restore them."""

        def mutate(self, _: None) -> Dispute:
            dispute = super().mutate(None)
            assert isinstance(dispute, Dispute)
            dispute.restore_types()
            return dispute

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
        self.chain_hash = GENESIS

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        ctx: Context,
        *,
        order_id: str,
        seller_id: str,
        reason: Reason,
        remedy: Remedy,
        refund: Money | None,
        order_amount: Money,
        description: str,
        policy: Policy,
    ) -> Dispute:
        validation.opening(ctx.actor, order_id, seller_id, remedy, refund, order_amount, description)
        dispute_id = dispute_id_for(order_id)
        at = ctx.at
        fields: dict[str, Any] = {
            **ctx.event_fields(),
            "deadlines": {
                Deadline.SELLER_RESPONSE.value: at + policy.seller_response_window,
                Deadline.NEGOTIATION.value: at + policy.negotiation_window,
                Deadline.EVIDENCE.value: at + policy.evidence_window,
            },
            "order_id": order_id,
            "buyer_id": ctx.actor.id,
            "seller_id": seller_id,
            "reason": reason.value,
            "remedy": remedy.value,
            "refund": refund.as_dict() if refund else None,
            "order_amount": order_amount.as_dict(),
            "description": description,
            "offer_id": str(uuid5(dispute_id, "offer:1")),
        }
        chain_hash = next_chain_hash(GENESIS, dispute_id, 1, "DisputeOpened", fields)
        return cls._create(events.DisputeOpened, id=dispute_id, chain_hash=chain_hash, **fields)

    # ------------------------------------------------------------ negotiation
    def propose_offer(self, ctx: Context, remedy: Remedy, refund: Money | None, note: str) -> str:
        guards.check(self, Action.PROPOSE_OFFER, ctx.actor, ctx.at)
        validation.offer_terms(remedy, refund, self.order_amount)
        validation.text("note", note)
        offer_id = self._new_id("offer")
        self._emit(
            events.OfferProposed,
            ctx,
            offer_id=offer_id,
            remedy=remedy.value,
            refund=refund.as_dict() if refund else None,
            note=note,
            deadlines=self._deadlines(drop=[Deadline.SELLER_RESPONSE]),
        )
        return offer_id

    def accept_offer(self, ctx: Context, offer_id: str, note: str, policy: Policy) -> None:
        offer = self._offer_to_decide(Action.ACCEPT_OFFER, ctx, offer_id)
        validation.text("note", note)
        negotiation = [Deadline.SELLER_RESPONSE, Deadline.NEGOTIATION]
        if offer.remedy is Remedy.RETURN_AND_REFUND:
            deadlines = self._deadlines(
                drop=negotiation,
                add={Deadline.RETURN_SHIPPING: ctx.at + policy.return_shipping_window},
            )
            self._emit(events.OfferAccepted, ctx, offer_id=offer_id, note=note, deadlines=deadlines)
            return
        self._emit(
            events.OfferAccepted,
            ctx,
            offer_id=offer_id,
            note=note,
            deadlines=self._deadlines(drop=negotiation),
        )
        self._resolve(ctx, ResolvedHow.AGREEMENT, *self._settlement(offer), None, note)

    def reject_offer(self, ctx: Context, offer_id: str, reason: str) -> None:
        self._offer_to_decide(Action.REJECT_OFFER, ctx, offer_id)
        validation.required_text("reason", reason)
        self._emit(
            events.OfferRejected,
            ctx,
            offer_id=offer_id,
            reason=reason,
            deadlines=self._deadlines(drop=[Deadline.SELLER_RESPONSE]),
        )

    # ------------------------------------------------------ evidence, messages
    def submit_evidence(
        self,
        ctx: Context,
        *,
        kind: EvidenceKind,
        description: str,
        sha256: str,
        size: int,
        media_type: str,
        blob_key: str,
        policy: Policy,
    ) -> str:
        guards.check(self, Action.SUBMIT_EVIDENCE, ctx.actor, ctx.at)
        validation.text("description", description)
        validation.evidence_file(sha256, size, media_type)
        used = sum(e.size for e in self.evidence if e.actor.role is ctx.actor.role)
        validation.evidence_quota(used, size, policy.max_evidence_bytes_per_party)
        evidence_id = self._new_id("evidence")
        self._emit(
            events.EvidenceSubmitted,
            ctx,
            evidence_id=evidence_id,
            kind=kind.value,
            description=description,
            sha256=sha256,
            size=size,
            media_type=media_type,
            blob_key=blob_key,
        )
        return evidence_id

    def post_message(self, ctx: Context, body: str, to: Role | None = None) -> str:
        guards.check(self, Action.POST_MESSAGE, ctx.actor, ctx.at)
        validation.required_text("body", body)
        message_id = self._new_id("message")
        visible_to = message_audience(ctx.actor.role, to, private=self.reviewed)
        self._emit(
            events.MessagePosted,
            ctx,
            message_id=message_id,
            body=body,
            visible_to=[r.value for r in visible_to],
        )
        return message_id

    # ------------------------------------------------- escalation, withdrawal
    def escalate(self, ctx: Context, reason: str, policy: Policy) -> None:
        guards.check(self, Action.ESCALATE, ctx.actor, ctx.at)
        validation.text("reason", reason)
        self._escalate(ctx, reason, policy)

    def withdraw(self, ctx: Context, reason: str) -> None:
        guards.check(self, Action.WITHDRAW, ctx.actor, ctx.at)
        validation.text("reason", reason)
        self._emit(events.DisputeWithdrawn, ctx, reason=reason, deadlines={})

    # ----------------------------------------------------------------- return
    def ship_return(self, ctx: Context, carrier: str, tracking_number: str, policy: Policy) -> None:
        guards.check(self, Action.SHIP_RETURN, ctx.actor, ctx.at)
        validation.required_text("carrier", carrier, short=True)
        validation.required_text("tracking_number", tracking_number, short=True)
        self._emit(
            events.ReturnShipped,
            ctx,
            carrier=carrier,
            tracking_number=tracking_number,
            deadlines=self._deadlines(
                drop=[Deadline.RETURN_SHIPPING],
                add={Deadline.RETURN_RECEIPT: ctx.at + policy.return_receipt_window},
            ),
        )

    def confirm_return_receipt(self, ctx: Context, condition: ReturnCondition, note: str, policy: Policy) -> None:
        guards.check(self, Action.CONFIRM_RETURN_RECEIPT, ctx.actor, ctx.at)
        validation.text("note", note)
        received_ok = condition is ReturnCondition.RECEIVED_OK
        add = {} if received_ok else {Deadline.REVIEW_SLA: ctx.at + policy.review_sla}
        self._emit(
            events.ReturnReceiptConfirmed,
            ctx,
            condition=condition.value,
            note=note,
            deadlines=self._deadlines(drop=[Deadline.RETURN_RECEIPT], add=add),
        )
        if received_ok:
            self._resolve(ctx, ResolvedHow.AGREEMENT, *self._settlement(self.agreed_offer), None, note)

    # ------------------------------------------------------------------ agent
    def request_evidence(self, ctx: Context, party: Role, note: str, due_in: timedelta) -> str:
        guards.check(self, Action.REQUEST_EVIDENCE, ctx.actor, ctx.at)
        validation.party(party)
        validation.text("note", note)
        validation.positive_duration("due_in", due_in)
        name = Deadline(f"evidence_request_{party.value}")
        due_at = validation.due_after(ctx.at, due_in, "due_in")
        if name in self.deadlines:
            due_at = max(due_at, self.deadlines[name])
        request_id = self._new_id("evidence_request")
        self._emit(
            events.EvidenceRequested,
            ctx,
            evidence_request_id=request_id,
            party=party.value,
            note=note,
            due_at=due_at,
            deadlines=self._deadlines(add={name: due_at}),
        )
        return request_id

    def extend_deadline(self, ctx: Context, deadline: Deadline, extend_by: timedelta, reason: str) -> None:
        guards.check(self, Action.EXTEND_DEADLINE, ctx.actor, ctx.at)
        validation.required_text("reason", reason)
        validation.positive_duration("extend_by", extend_by)
        if deadline not in self.deadlines:
            raise DeadlineNotOpen(f"the {deadline.value} deadline is not open")
        previous = self.deadlines[deadline]
        due_at = validation.due_after(previous, extend_by, "extend_by")
        self._emit(
            events.DeadlineExtended,
            ctx,
            deadline=deadline.value,
            previous_due_at=previous,
            due_at=due_at,
            reason=reason,
            deadlines=self._deadlines(add={deadline: due_at}),
        )

    def issue_ruling(
        self,
        ctx: Context,
        outcome: Outcome,
        refund: Money | None,
        seller_at_fault: bool,
        rationale: str,
    ) -> None:
        guards.check(self, Action.ISSUE_RULING, ctx.actor, ctx.at)
        validation.required_text("rationale", rationale)
        refund = validation.ruling_refund(outcome, refund, self.order_amount)
        self._resolve(ctx, ResolvedHow.RULING, outcome, refund, seller_at_fault, rationale)

    # ----------------------------------------------------------------- system
    def expire_deadline(self, ctx: Context, deadline: Deadline, policy: Policy) -> None:
        """The system actor's command: record that `deadline` passed, and act on it."""
        ensure_can_see(self, ctx.actor)
        if ctx.actor.role is not Role.SYSTEM:
            raise RoleNotAllowed("only the system actor expires deadlines")
        if deadline not in self.deadlines:
            raise DeadlineNotOpen(f"the {deadline.value} deadline is not open")
        due_at = self.deadlines[deadline]
        if ctx.at < due_at:
            raise DeadlineNotDue(f"the {deadline.value} deadline is due at {due_at.isoformat()}")
        self._emit(
            events.DEADLINE_EVENTS[deadline],
            ctx,
            deadline=deadline.value,
            due_at=due_at,
            deadlines=self._deadlines(drop=[deadline]),
        )
        self._act_on_expiry(ctx, deadline, policy)

    def _act_on_expiry(self, ctx: Context, deadline: Deadline, policy: Policy) -> None:
        if deadline is Deadline.SELLER_RESPONSE:
            opening_request = self.offers[0]
            self._resolve(ctx, ResolvedHow.DEADLINE, *self._settlement(opening_request), True, "")
        elif deadline is Deadline.NEGOTIATION:
            self._escalate(ctx, "negotiation window ended without agreement", policy)
        elif deadline is Deadline.RETURN_SHIPPING:
            self._resolve(ctx, ResolvedHow.DEADLINE, Outcome.NO_REFUND, None, False, "")
        elif deadline is Deadline.RETURN_RECEIPT:
            self._resolve(ctx, ResolvedHow.DEADLINE, *self._settlement(self.agreed_offer), True, "")

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

    def allowed_actions(self, actor: Actor, at: datetime) -> list[Action]:
        return guards.allowed_actions(self, actor, at)

    def other_party(self, role: Role) -> Role:
        return Role.SELLER if role is Role.BUYER else Role.BUYER

    # --------------------------------------------- state changes (from events)
    def restore_types(self) -> None:
        self.status = Status(self.status)
        self.party_to_act = Role(self.party_to_act) if self.party_to_act else None
        self.reason = Reason(self.reason)
        self.requested_remedy = Remedy(self.requested_remedy)
        self.deadlines = {Deadline(k): v for k, v in self.deadlines.items()}
        if self.return_condition is not None:
            self.return_condition = ReturnCondition(self.return_condition)

    def add_offer(self, offer: Offer) -> None:
        self.offers.append(offer)
        self.pending_offer_id = offer.id

    def decide_offer(self, offer_id: str, status: OfferStatus, at: datetime) -> Offer:
        index = next(i for i, o in enumerate(self.offers) if o.id == offer_id)
        offer = self.offers[index]
        decided = Offer(**{**vars(offer), "status": status, "decided_at": at})
        self.offers[index] = decided
        if self.pending_offer_id == offer_id:
            self.pending_offer_id = None
        return decided

    def cancel_pending_offer(self, at: datetime) -> None:
        if self.pending_offer_id is not None:
            self.decide_offer(self.pending_offer_id, OfferStatus.CANCELLED, at)

    def enter_review(self) -> None:
        self.status = Status.UNDER_REVIEW
        self.party_to_act = Role.AGENT
        self.reviewed = True

    # ---------------------------------------------------------------- helpers
    def _emit(self, event_class: type[events.DisputeEvent], ctx: Context, **data: Any) -> None:
        fields = {**ctx.event_fields(), **data}
        chain_hash = next_chain_hash(self.chain_hash, self.id, self.version + 1, event_class.__name__, fields)
        self.trigger_event(event_class, chain_hash=chain_hash, **fields)

    def _new_id(self, kind: str) -> str:
        return str(uuid5(self.id, f"{kind}:{self.version + 1}"))

    def _deadlines(
        self, drop: list[Deadline] | None = None, add: dict[Deadline, datetime] | None = None
    ) -> dict[str, datetime]:
        kept = {k: v for k, v in self.deadlines.items() if k not in (drop or [])}
        kept.update(add or {})
        return {k.value: v for k, v in kept.items()}

    def _offer_to_decide(self, action: Action, ctx: Context, offer_id: str) -> Offer:
        ensure_can_see(self, ctx.actor)
        offer = self.offer(offer_id)
        guards.check(self, action, ctx.actor, ctx.at)
        if offer.id != self.pending_offer_id:
            raise OfferNotPending(f"offer {offer_id} is {offer.status.value}, not pending")
        return offer

    def _settlement(self, offer: Offer) -> tuple[Outcome, Money | None]:
        if offer.remedy is Remedy.REPLACEMENT:
            return Outcome.REPLACEMENT, None
        assert offer.refund is not None, "refund offers always carry a refund"
        if offer.refund.amount_minor >= self.order_amount.amount_minor:
            return Outcome.REFUND_FULL, offer.refund
        return Outcome.REFUND_PARTIAL, offer.refund

    def _resolve(
        self,
        ctx: Context,
        how: ResolvedHow,
        outcome: Outcome,
        refund: Money | None,
        seller_at_fault: bool | None,
        rationale: str,
    ) -> None:
        self._emit(
            events.DisputeResolved,
            ctx,
            how=how.value,
            outcome=outcome.value,
            refund=refund.as_dict() if refund else None,
            seller_at_fault=seller_at_fault,
            rationale=rationale,
            deadlines={},
        )

    def _escalate(self, ctx: Context, reason: str, policy: Policy) -> None:
        review = {Deadline.REVIEW_SLA: ctx.at + policy.review_sla}
        drop = [
            Deadline.SELLER_RESPONSE,
            Deadline.NEGOTIATION,
            Deadline.RETURN_SHIPPING,
            Deadline.RETURN_RECEIPT,
        ]
        self._emit(events.DisputeEscalated, ctx, reason=reason, deadlines=self._deadlines(drop=drop, add=review))
