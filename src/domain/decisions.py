"""How the aggregate's commands record what they decide: every event is
emitted with the next link of the hash chain, and the outcomes several
commands share (resolving, escalating) are emitted here once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from domain import events as ev
from domain.chain import next_chain_hash
from domain.policy import Policy
from domain.state import DisputeState
from domain.values import Context, Deadline, Money, Offer, Outcome, Remedy, ResolvedHow


def child_id(dispute_id: UUID, kind: str, version: int) -> str:
    """The id of the offer, evidence, message or evidence request that the
    dispute's event `version` created: derived, so a replayed command finds it."""
    return str(uuid5(dispute_id, f"{kind}:{version}"))


class DisputeDecisions(DisputeState):
    def _emit(self, event_class: type[ev.DisputeEvent], ctx: Context, **data: Any) -> None:
        fields = {**ctx.event_fields(), **data}
        chain_hash = next_chain_hash(self.chain_hash, self.id, self.version + 1, event_class.__name__, fields)
        self.trigger_event(event_class, chain_hash=chain_hash, **fields)

    def _new_id(self, kind: str) -> str:
        return child_id(self.id, kind, self.version + 1)

    def _deadlines(
        self, drop: list[Deadline] | None = None, add: dict[Deadline, datetime] | None = None
    ) -> dict[str, datetime]:
        kept = {k: v for k, v in self.deadlines.items() if k not in (drop or [])}
        kept.update(add or {})
        return {k.value: v for k, v in kept.items()}

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
        appeal_window: timedelta | None = None,
    ) -> None:
        """Resolve the dispute; a ruling (`appeal_window` given) stays open to appeal
        until the window's deadline, every other outcome is final at once."""
        appealable_until = ctx.at + appeal_window if appeal_window is not None else None
        self._emit(
            ev.DisputeResolved,
            ctx,
            how=how.value,
            outcome=outcome.value,
            refund=refund.as_dict() if refund else None,
            seller_at_fault=seller_at_fault,
            rationale=rationale,
            final=appealable_until is None,
            appealable_until=appealable_until,
            deadlines={Deadline.APPEAL_WINDOW.value: appealable_until} if appealable_until else {},
        )

    def _escalate(self, ctx: Context, reason: str, policy: Policy) -> None:
        review = {Deadline.REVIEW_SLA: ctx.at + policy.review_sla}
        drop = [
            Deadline.SELLER_RESPONSE,
            Deadline.NEGOTIATION,
            Deadline.RETURN_SHIPPING,
            Deadline.RETURN_RECEIPT,
        ]
        self._emit(ev.DisputeEscalated, ctx, reason=reason, deadlines=self._deadlines(drop=drop, add=review))
