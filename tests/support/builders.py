"""Actors, clocks and scenario builders shared by the tests."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.application import CommandResult, DisputeApp
from domain.values import Actor, Context, Money, Outcome, Reason, Remedy, Role, Status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BUYER = Actor("buyer-1", Role.BUYER)
SELLER = Actor("seller-1", Role.SELLER)
AGENT = Actor("agent-1", Role.AGENT)
OTHER_AGENT = Actor("agent-2", Role.AGENT)
AUDITOR = Actor("auditor-1", Role.AUDITOR)
ANALYST = Actor("analyst-1", Role.ANALYST)
SYSTEM = Actor("scheduler", Role.SYSTEM)
OTHER_BUYER = Actor("buyer-2", Role.BUYER)
OTHER_SELLER = Actor("seller-2", Role.SELLER)
ORDER_AMOUNT = Money(2000, "USD")


def usd(amount_minor: int) -> Money:
    return Money(amount_minor, "USD")


@dataclass
class Clock:
    now: datetime = T0
    step: timedelta = timedelta(minutes=10)

    def ctx(self, actor: Actor, key: str | None = None) -> Context:
        self.now += self.step
        return Context(actor, self.now, request_id=f"req-{uuid.uuid4().hex[:8]}", idempotency_key=key)


@dataclass
class Scenario:
    """Drives one dispute through the application, remembering its id."""

    app: DisputeApp
    clock: Clock = field(default_factory=Clock)
    dispute_id: UUID | None = None
    order_id: str = field(default_factory=lambda: f"order-{uuid.uuid4().hex[:12]}")
    last: CommandResult | None = None

    @property
    def id(self) -> UUID:
        assert self.dispute_id is not None
        return self.dispute_id

    def open(self, remedy: Remedy = Remedy.REFUND_ONLY, refund: Money | None = None) -> Scenario:
        if refund is None and remedy is not Remedy.REPLACEMENT:
            refund = usd(1500)
        self.last = self.app.open_dispute(
            self.clock.ctx(BUYER),
            order_id=self.order_id,
            seller_id=SELLER.id,
            reason=Reason.DAMAGED,
            remedy=remedy,
            refund=refund,
            order_amount=ORDER_AMOUNT,
            description="arrived broken",
        )
        self.dispute_id = self.last.dispute_id
        return self

    def pending_offer_id(self) -> str:
        offer = self.app.dispute(self.id).pending_offer
        assert offer is not None
        return offer.id

    def seller_counters(self, amount: int = 800) -> Scenario:
        self.last = self.app.propose_offer(self.id, self.clock.ctx(SELLER), Remedy.PARTIAL_REFUND, usd(amount), "half?")
        return self

    def seller_accepts(self) -> Scenario:
        self.last = self.app.accept_offer(self.id, self.clock.ctx(SELLER), self.pending_offer_id(), "ok")
        return self

    def buyer_escalates(self) -> Scenario:
        self.last = self.app.escalate(self.id, self.clock.ctx(BUYER), "no agreement")
        return self

    def buyer_ships_return(self) -> Scenario:
        self.last = self.app.ship_return(self.id, self.clock.ctx(BUYER), "UPS", "1Z999")
        return self

    def agent_rules(self, agent: Actor = AGENT, outcome: Outcome = Outcome.NO_REFUND) -> Scenario:
        refund = usd(500) if outcome is Outcome.REFUND_PARTIAL else None
        self.last = self.app.issue_ruling(self.id, self.clock.ctx(agent), outcome, refund, False, "no damage shown")
        return self

    def buyer_appeals(self) -> Scenario:
        self.last = self.app.appeal(self.id, self.clock.ctx(BUYER), "the photos show the damage")
        return self

    def buyer_withdraws(self) -> Scenario:
        self.last = self.app.withdraw(self.id, self.clock.ctx(BUYER), "sorted it out")
        return self


def scenario_in(app: DisputeApp, status: Status, clock: Clock | None = None) -> Scenario:
    """A fresh dispute brought into `status` by the shortest legal path."""
    s = Scenario(app, clock or Clock())
    if status is Status.AWAITING_SELLER:
        return s.open()
    if status is Status.NEGOTIATING:
        return s.open().seller_counters()
    if status is Status.AWAITING_RETURN:
        return s.open(Remedy.RETURN_AND_REFUND).seller_accepts()
    if status is Status.RETURN_IN_TRANSIT:
        return s.open(Remedy.RETURN_AND_REFUND).seller_accepts().buyer_ships_return()
    if status is Status.UNDER_REVIEW:
        return s.open().seller_counters().buyer_escalates()
    if status is Status.UNDER_APPEAL:
        return s.open().seller_counters().buyer_escalates().agent_rules(OTHER_AGENT).buyer_appeals()
    if status is Status.RESOLVED:
        return s.open().seller_accepts()
    if status is Status.WITHDRAWN:
        return s.open().buyer_withdraws()
    raise AssertionError(status)


def fake_file(content: bytes = b"\x89PNG\r\n\x1a\n evidence") -> tuple[str, int]:
    return hashlib.sha256(content).hexdigest(), len(content)


def state_of(dispute: object) -> str:
    """Type-strict picture of an aggregate (repr tells enum members from strings)."""
    return repr(sorted((k, v) for k, v in vars(dispute).items() if k != "_pending_events"))
