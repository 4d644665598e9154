"""One dispute lived through in simulated time, through the aggregate's own commands.

Every step is the command `DisputeApp` would run for a request (the same
guards, validation and hash chain), taken by the buyer, the seller, an agent
or the system actor at a simulated instant. Time only moves forward through
`wait`, and whatever deadline falls due meanwhile is expired there, at its
due time (plus the scheduler's usual delay), by the system actor: exactly the
command the deadline scheduler issues. The seeder saves the whole history in
one transaction, so a scheduler running beside it never sees a half-lived
dispute.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain import guards
from domain.dispute import Dispute
from domain.policy import Policy
from domain.values import (
    Actor,
    AppealDecision,
    Context,
    Deadline,
    EvidenceKind,
    Money,
    Outcome,
    Remedy,
    ReturnCondition,
    Role,
    Status,
)
from service.scheduler import SYSTEM

CLAIMS = 0.8
"""How often an agent claims a dispute from the queue before working on it
(the others act on it unclaimed)."""
SCHEDULER_DELAY = (0.05, 1.5)
"""Seconds after its due time that the system actor expires a deadline (the
scheduler's tick interval)."""


class Over(Exception):
    """The dispute closed, or the simulation reached its end: the script stops here."""


@dataclass(frozen=True)
class StoredFile:
    """An evidence file kept in the blob store."""

    sha256: str
    size: int
    media_type: str
    blob_key: str


FileMaker = Callable[[Role, EvidenceKind, "Life"], StoredFile]


@dataclass
class Life:
    dispute: Dispute
    policy: Policy
    at: datetime
    """The simulated time of the last step."""
    end: datetime
    """Where the simulation stops (now, by default): nothing happens after it."""
    rng: random.Random
    actors: dict[Role, Actor]
    store_file: FileMaker
    request_prefix: str
    steps: Counter[str] = field(default_factory=Counter)
    """Steps taken by each role (`system` for expiries)."""
    agents: tuple[str, ...] = ()
    """Every agent: another than the one who ruled decides an appeal."""

    # ---------------------------------------------------------------- time
    def wait(self, delay: timedelta) -> None:
        """Let `delay` pass; the system actor expires what falls due meanwhile.
        Raises Over when the dispute closes meanwhile or the end is reached."""
        target = self.at + delay
        self._expire_until(min(target, self.end))
        if self.dispute.status.is_terminal and Deadline.APPEAL_WINDOW not in self.dispute.deadlines:
            raise Over("closed")  # and no longer open to appeal
        if target >= self.end:
            self.at = self.end
            raise Over("the end of the simulation")
        self.at = target

    def wait_hours(self, low: float, high: float) -> None:
        self.wait(timedelta(hours=self.rng.uniform(low, high)))

    def wait_within(self, deadline: Deadline, low: float, high: float) -> None:
        """Wait between `low` and `high` of the time left before `deadline` (a
        share below 1 acts in time, above 1 lets it pass)."""
        due = self.dispute.deadlines.get(deadline)
        left = (due - self.at) if due is not None else timedelta(days=2)
        self.wait(max(left, timedelta(minutes=10)) * self.rng.uniform(low, high))

    def wait_past(self, deadline: Deadline) -> None:
        """Let `deadline` pass (the system actor expires it), and a little more."""
        due = self.dispute.deadlines.get(deadline)
        assert due is not None, f"{deadline.value} is not open"
        self.wait(due - self.at + timedelta(minutes=self.rng.uniform(5, 600)))

    def run_out(self) -> None:
        """Nobody acts any more: expire every deadline up to the end."""
        while True:
            self.wait(timedelta(days=30))

    def settle(self) -> None:
        """Once the script is over: expire what falls due up to the end (a closed
        dispute may still hold deadlines, such as a ruling's appeal window), so
        no scheduler finds a deadline of the simulated past still open."""
        self._expire_until(self.end)

    def _expire_until(self, until: datetime) -> None:
        while True:
            due = [(at, name) for name, at in self.dispute.deadlines.items() if at <= until]
            if not due:
                return
            due_at, name = min(due)
            when = min(until, due_at + timedelta(seconds=self.rng.uniform(*SCHEDULER_DELAY)))
            self.at = max(when, self.at)
            self.dispute.expire_deadline(self._ctx(SYSTEM), name, self.policy)
            self.steps[SYSTEM.role.value] += 1

    def _ctx(self, actor: Actor, at: datetime | None = None) -> Context:
        when = at or self.at
        return Context(actor, when, request_id=f"{self.request_prefix}-{self.dispute.version + 1}")

    def _as(self, role: Role) -> Context:
        if role is Role.AGENT:
            self._take_up()
        self.wait(timedelta(seconds=self.rng.uniform(1, 30)))  # typing takes a moment
        self.steps[role.value] += 1
        return self._ctx(self.actors[role])

    def _take_up(self) -> None:
        """An agent about to work on a dispute in the queue mostly claims it first."""
        agent = self.actors[Role.AGENT]
        waiting = self.dispute.status in guards.WITH_AN_AGENT and self.dispute.assigned_agent != agent.id
        if waiting and self.rng.random() < CLAIMS:
            self.wait(timedelta(seconds=self.rng.uniform(1, 30)))
            self.steps[Role.AGENT.value] += 1
            self.dispute.claim(self._ctx(agent), False, "")

    # ------------------------------------------------------------- parties
    @property
    def order(self) -> Money:
        return self.dispute.order_amount

    def share(self, low: float, high: float) -> Money:
        """A refund of between `low` and `high` of the order amount (below it)."""
        amount = int(self.order.amount_minor * self.rng.uniform(low, high))
        return Money(max(1, min(amount, self.order.amount_minor - 1)), self.order.currency)

    def offer(self, role: Role, remedy: Remedy, refund: Money | None, note: str) -> None:
        self.dispute.propose_offer(self._as(role), remedy, refund, note)

    def accept(self, role: Role, note: str = "") -> None:
        offer_id = self.dispute.pending_offer_id
        assert offer_id is not None, "no offer is pending"
        self.dispute.accept_offer(self._as(role), offer_id, note, self.policy)

    def reject(self, role: Role, reason: str) -> None:
        offer_id = self.dispute.pending_offer_id
        assert offer_id is not None, "no offer is pending"
        self.dispute.reject_offer(self._as(role), offer_id, reason)

    def say(self, role: Role, body: str, to: Role | None = None) -> None:
        self.dispute.post_message(self._as(role), body, to, self.policy)

    def evidence(self, role: Role, kind: EvidenceKind, description: str) -> None:
        """Submit a file, if the party may still (its evidence window or an open request)."""
        under_appeal = self.dispute.status is Status.UNDER_APPEAL
        if role is not Role.AGENT and not under_appeal and not guards.evidence_window_open(self.dispute, role, self.at):
            return
        stored = self.store_file(role, kind, self)
        self.dispute.submit_evidence(
            self._as(role),
            kind=kind,
            description=description,
            sha256=stored.sha256,
            size=stored.size,
            media_type=stored.media_type,
            blob_key=stored.blob_key,
            policy=self.policy,
        )

    def escalate(self, role: Role, reason: str) -> None:
        self.dispute.escalate(self._as(role), reason, self.policy)

    def withdraw(self, reason: str) -> None:
        self.dispute.withdraw(self._as(Role.BUYER), reason)

    def ship_return(self) -> None:
        carrier = self.rng.choice(("UPS", "DHL", "FedEx", "USPS", "Royal Mail", "La Poste"))
        tracking = f"{carrier[:2].upper()}{self.rng.randrange(10**9, 10**10)}"
        self.dispute.ship_return(self._as(Role.BUYER), carrier, tracking, self.policy)

    def confirm_receipt(self, condition: ReturnCondition, note: str) -> None:
        self.dispute.confirm_return_receipt(self._as(Role.SELLER), condition, note, self.policy)

    # --------------------------------------------------------------- agent
    def request_evidence(self, party: Role, note: str, days: float) -> None:
        self.dispute.request_evidence(self._as(Role.AGENT), party, note, timedelta(days=days))

    def extend(self, deadline: Deadline, days: float, reason: str) -> None:
        self.dispute.extend_deadline(self._as(Role.AGENT), deadline, timedelta(days=days), reason)

    def rule(self, outcome: Outcome, refund: Money | None, seller_at_fault: bool, rationale: str) -> None:
        if outcome is Outcome.REFUND_FULL:
            refund = self.order
        self.dispute.issue_ruling(self._as(Role.AGENT), outcome, refund, seller_at_fault, rationale, self.policy)

    def release(self, reason: str) -> None:
        """The agent hands the dispute back to the queue; the next agent takes it up."""
        ctx = self._as(Role.AGENT)
        if self.dispute.assigned_agent != ctx.actor.id:  # one releases only what one claimed
            self.dispute.claim(ctx, False, "")
            ctx = self._as(Role.AGENT)
        self.dispute.release(ctx, reason)
        self._hand_over()

    # ------------------------------------------------------------- appeals
    def appeal(self, role: Role, reason: str) -> None:
        self.dispute.appeal_ruling(self._as(role), reason, self.policy)
        self._hand_over()  # the agent who ruled may not decide the appeal

    def decide_appeal(
        self,
        decision: AppealDecision,
        outcome: Outcome | None = None,
        refund: Money | None = None,
        seller_at_fault: bool | None = None,
        rationale: str = "",
    ) -> None:
        if outcome is Outcome.REFUND_FULL:
            refund = self.order
        ctx = self._as(Role.AGENT)
        self.dispute.decide_appeal(ctx, decision, outcome, refund, seller_at_fault, rationale)

    def _hand_over(self) -> None:
        """Another agent than the present one acts from now on."""
        present = self.actors[Role.AGENT].id
        others = [a for a in self.agents if a != present]
        assert others, "an appeal needs a second agent"
        self.actors[Role.AGENT] = Actor(self.rng.choice(others), Role.AGENT)
