"""The negotiation commands: proposing, accepting and rejecting offers."""

from __future__ import annotations

from domain import events as ev
from domain import guards, validation
from domain.decisions import DisputeDecisions
from domain.errors import OfferNotPending
from domain.policy import Policy
from domain.values import Action, Context, Deadline, Money, Offer, Remedy, ResolvedHow
from domain.visibility import ensure_can_see


class DisputeNegotiation(DisputeDecisions):
    def propose_offer(self, ctx: Context, remedy: Remedy, refund: Money | None, note: str) -> str:
        guards.check(self, Action.PROPOSE_OFFER, ctx.actor, ctx.at)
        validation.offer_terms(remedy, refund, self.order_amount)
        validation.text("note", note)
        offer_id = self._new_id("offer")
        self._emit(
            ev.OfferProposed,
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
            self._emit(ev.OfferAccepted, ctx, offer_id=offer_id, note=note, deadlines=deadlines)
            return
        self._emit(
            ev.OfferAccepted,
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
            ev.OfferRejected,
            ctx,
            offer_id=offer_id,
            reason=reason,
            deadlines=self._deadlines(drop=[Deadline.SELLER_RESPONSE]),
        )

    def _offer_to_decide(self, action: Action, ctx: Context, offer_id: str) -> Offer:
        ensure_can_see(self, ctx.actor)
        offer = self.offer(offer_id)
        guards.check(self, action, ctx.actor, ctx.at)
        if offer.id != self.pending_offer_id:
            raise OfferNotPending(f"offer {offer_id} is {offer.status.value}, not pending")
        return offer
