"""The Dispute aggregate: the commands that decide new events.

The class is split along its seams into mixins, and stays here because its
topic `domain.dispute:Dispute` is stored in snapshots:

- `domain.state`: its fields, queries, and the mutators events apply;
- `domain.decisions`: emitting hash-chained events, resolving, escalating;
- `domain.negotiation`: proposing, accepting and rejecting offers;
- `domain.expiry`: the system actor's deadline expiry;
- `domain.appeals`: appealing a ruling, deciding the appeal, agents' claims;
- here: opening, evidence, messages, escalation, withdrawal, returns, and the
  agent's commands.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Snapshot as BaseSnapshot

from domain import events as ev
from domain import guards, validation
from domain.appeals import DisputeAppeals
from domain.chain import GENESIS, next_chain_hash
from domain.errors import DeadlineNotOpen
from domain.expiry import DisputeExpiry
from domain.negotiation import DisputeNegotiation
from domain.policy import Policy
from domain.values import (
    Action,
    Actor,
    Context,
    Deadline,
    EvidenceKind,
    Money,
    Outcome,
    Reason,
    Remedy,
    ResolvedHow,
    ReturnCondition,
    Role,
)
from domain.visibility import message_audience

ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:disputes:order")


def dispute_id_for(order_id: str) -> UUID:
    """One dispute per order, ever: the id is derived from the order id."""
    return uuid5(ORDER_NAMESPACE, order_id)


class Dispute(DisputeNegotiation, DisputeExpiry, DisputeAppeals):
    class Snapshot(BaseSnapshot):
        """Snapshots store enum members as their string values; restore them."""

        def mutate(self, _: None) -> Dispute:
            dispute = super().mutate(None)
            assert isinstance(dispute, Dispute)
            dispute.restore_types()
            return dispute

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
        return cls._create(ev.DisputeOpened, id=dispute_id, chain_hash=chain_hash, **fields)

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
            ev.EvidenceSubmitted,
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

    def post_message(self, ctx: Context, body: str, to: Role | None = None, policy: Policy | None = None) -> str:
        guards.check(self, Action.POST_MESSAGE, ctx.actor, ctx.at)
        guards.ensure_message_room(self, (policy or Policy()).max_messages_per_dispute)
        validation.required_text("body", body)
        message_id = self._new_id("message")
        visible_to = message_audience(ctx.actor.role, to, private=self.reviewed)
        self._emit(
            ev.MessagePosted,
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
        self._emit(ev.DisputeWithdrawn, ctx, reason=reason, deadlines={})

    # ----------------------------------------------------------------- return
    def ship_return(self, ctx: Context, carrier: str, tracking_number: str, policy: Policy) -> None:
        guards.check(self, Action.SHIP_RETURN, ctx.actor, ctx.at)
        validation.identifier("carrier", carrier)
        validation.identifier("tracking_number", tracking_number)
        self._emit(
            ev.ReturnShipped,
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
            ev.ReturnReceiptConfirmed,
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
            ev.EvidenceRequested,
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
            ev.DeadlineExtended,
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
        policy: Policy | None = None,
    ) -> None:
        guards.check(self, Action.ISSUE_RULING, ctx.actor, ctx.at)
        validation.required_text("rationale", rationale)
        refund = validation.ruling_refund(outcome, refund, self.order_amount)
        window = (policy or Policy()).appeal_window
        self._resolve(ctx, ResolvedHow.RULING, outcome, refund, seller_at_fault, rationale, window)

    # ---------------------------------------------------------------- queries
    def allowed_actions(self, actor: Actor, at: datetime) -> list[Action]:
        return guards.allowed_actions(self, actor, at)
