"""Deadline expiry: the system actor's command that records a due deadline and
acts on it (a missed seller response settles on the buyer's request, a missed
negotiation window escalates, missed return deadlines resolve)."""

from __future__ import annotations

from domain import events as ev
from domain.deadline_names import PARTY_DEADLINES, requested_id
from domain.errors import DeadlineNotDue, DeadlineNotOpen, RoleNotAllowed
from domain.evidence_requests import DisputeEvidenceRequests
from domain.policy import Policy
from domain.values import Context, Deadline, Outcome, ResolvedHow, Role
from domain.visibility import ensure_can_see


class DisputeExpiry(DisputeEvidenceRequests):
    def expire_deadline(self, ctx: Context, deadline: str, policy: Policy) -> None:
        """The system actor's command: record that `deadline` passed, and act on it."""
        ensure_can_see(self, ctx.actor)
        if ctx.actor.role is not Role.SYSTEM:
            raise RoleNotAllowed("only the system actor expires deadlines")
        if deadline not in self.deadlines:
            raise DeadlineNotOpen(f"the {deadline} deadline is not open")
        due_at = self.deadlines[deadline]
        if ctx.at < due_at:
            raise DeadlineNotDue(f"the {deadline} deadline is due at {due_at.isoformat()}")
        if requested_id(deadline) is not None or deadline in PARTY_DEADLINES:
            self._expire_requests(ctx, deadline)
            return
        fixed = Deadline(deadline)
        self._emit(
            ev.DEADLINE_EVENTS[fixed],
            ctx,
            deadline=fixed.value,
            due_at=due_at,
            deadlines=self._deadlines(drop=[fixed]),
        )
        self._act_on_expiry(ctx, fixed, policy)

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
