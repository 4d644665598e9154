"""Appeals and agents' claims: a party appeals a ruling within the appeal
window, another agent upholds or overturns it, and agents claim and release
the disputes they handle while under review or under appeal."""

from __future__ import annotations

from domain import events as ev
from domain import guards, validation
from domain.decisions import DisputeDecisions
from domain.errors import ClaimedByAnotherAgent, InvalidValue, OutcomeRequired
from domain.policy import Policy
from domain.values import Action, AppealDecision, Context, Deadline, Money, Outcome, ResolvedHow


class DisputeAppeals(DisputeDecisions):
    # ---------------------------------------------------------------- appeals
    def appeal_ruling(self, ctx: Context, reason: str, policy: Policy) -> None:
        guards.check(self, Action.APPEAL, ctx.actor, ctx.at)
        validation.required_text("reason", reason)
        review = {Deadline.APPEAL_REVIEW: ctx.at + policy.review_sla}
        self._emit(
            ev.DisputeAppealed,
            ctx,
            reason=reason,
            deadlines=self._deadlines(drop=[Deadline.APPEAL_WINDOW], add=review),
        )

    def decide_appeal(
        self,
        ctx: Context,
        decision: AppealDecision,
        outcome: Outcome | None,
        refund: Money | None,
        seller_at_fault: bool | None,
        rationale: str,
    ) -> None:
        guards.check(self, Action.DECIDE_APPEAL, ctx.actor, ctx.at)
        validation.required_text("rationale", rationale)
        ruling = self.resolution
        assert ruling is not None, "an appealed dispute holds the appealed ruling"
        if decision is AppealDecision.OVERTURNED:
            if outcome is None or seller_at_fault is None:
                raise OutcomeRequired("an overturned ruling needs the new outcome and seller_at_fault")
            refund = validation.ruling_refund(outcome, refund, self.order_amount)
        elif outcome is not None or refund is not None or seller_at_fault is not None:
            raise InvalidValue("an upheld ruling keeps its outcome: send no outcome, refund or seller_at_fault")
        self._emit(
            ev.AppealDecided,
            ctx,
            decision=decision.value,
            outcome=outcome.value if outcome else None,
            refund=refund.as_dict() if refund else None,
            seller_at_fault=seller_at_fault,
            rationale=rationale,
            deadlines=self._deadlines(drop=[Deadline.APPEAL_REVIEW]),
        )
        if decision is AppealDecision.UPHELD:
            outcome, refund, seller_at_fault = ruling.outcome, ruling.refund, ruling.seller_at_fault
        assert outcome is not None
        self._resolve(ctx, ResolvedHow.APPEAL, outcome, refund, seller_at_fault, rationale)

    # ----------------------------------------------------------------- claims
    def claim(self, ctx: Context, force: bool, reason: str) -> None:
        guards.check(self, Action.CLAIM, ctx.actor, ctx.at)
        validation.text("reason", reason)
        holder = self.assigned_agent
        taken_over = holder is not None and holder != ctx.actor.id
        if taken_over and not force:
            raise ClaimedByAnotherAgent(f"agent {holder} handles this dispute; claim with force and a reason")
        if taken_over:
            validation.required_text("reason", reason)
        self._emit(ev.DisputeClaimed, ctx, previous_agent=holder, forced=taken_over, reason=reason)

    def release(self, ctx: Context, reason: str) -> None:
        guards.check(self, Action.RELEASE, ctx.actor, ctx.at)
        validation.text("reason", reason)
        self._emit(ev.DisputeReleased, ctx, reason=reason)
