"""`disputes seed`: open N disputes spread over M months and live each one
through a script, saving its whole history through the application.

Deterministic: the same `seed` and `end` give the same disputes, events and
files. Order ids carry the seed (`demo-<seed>-<n>`), and since a dispute's id
is derived from its order, running again with the same seed skips the
disputes already there instead of failing.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from domain.application import DisputeApp
from domain.dispute import Dispute, dispute_id_for
from domain.errors import DomainError
from domain.order import OrderTerms, opening_terms
from domain.order_book import OrderBook
from domain.values import Actor, Context, EvidenceKind, Money, Reason, Remedy, Role
from service.demo import files
from service.demo.life import Life, Over, StoredFile
from service.demo.population import Cast, opening_time, order_amount, reason
from service.demo.scripts import NOT_ARRIVED, Script, scripts_for
from service.media import sniff_media_type
from service.ports import BlobStore

log = logging.getLogger("disputes.seed")
MONTH = timedelta(days=30)
SAVE_BATCH = 25
"""Disputes saved per transaction: each dispute's history is always saved whole."""
PLATFORM = Actor("demo-marketplace", Role.PLATFORM)
"""The marketplace's account that registers the demo orders."""
PROTECTION = timedelta(days=90)
"""How long after it is placed an order is covered by buyer protection."""
PICTURES = 40
"""Distinct pictures per kind: pictures are reused, documents name their order."""
DESCRIPTIONS = {
    Reason.NOT_RECEIVED: "Ordered weeks ago, tracking has not moved and nothing arrived.",
    Reason.NOT_AS_DESCRIBED: "The item is not what the listing showed: different material and size.",
    Reason.QUALITY_ISSUE: "Stopped working after two days of normal use.",
    Reason.WRONG_ITEM: "I received a different model from the one I ordered.",
    Reason.DAMAGED: "Arrived broken, the box was crushed.",
    Reason.MISSING_PARTS: "The charger and two screws are missing from the box.",
    Reason.RETURNED_TO_SENDER: "The parcel went back to the seller without a delivery attempt.",
    Reason.CUSTOMS_HELD: "Held at customs for three weeks; the seller's paperwork was incomplete.",
    Reason.FAKE_TRACKING: "The tracking number belongs to a parcel delivered in another city.",
}


class SeedConflict(Exception):
    """Another writer saved one of the disputes of a batch first."""


@dataclass
class SeedReport:
    requested: int
    created: int = 0
    skipped: int = 0
    """Disputes of this seed already in the store (a second run)."""
    events: int = 0
    files: int = 0
    """Evidence files made and kept (the same bytes are kept once)."""
    orders: int = 0
    """Orders registered (or their terms recorded anew) in the order book."""
    refused: list[str] = field(default_factory=list)
    """Script steps the domain refused (a script that breaks a rule): none expected."""
    scripts: Counter[str] = field(default_factory=Counter)
    steps: Counter[str] = field(default_factory=Counter)
    """Commands taken by each role besides the openings (`system`: deadline expiries)."""
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


@dataclass
class Seeder:
    app: DisputeApp
    blobs: BlobStore
    seed: int = 1
    months: float = 6
    end: datetime | None = None
    orders: OrderBook | None = None
    """Where the demo orders are registered before their disputes are opened
    (`Services.orders.book`, which knows DISPUTES_REQUIRE_KNOWN_ORDERS)."""
    _stored: dict[bytes, StoredFile] = field(default_factory=dict)
    book: OrderBook = field(init=False)

    def __post_init__(self) -> None:
        self.book = self.orders or OrderBook(self.app)

    def run(self, count: int, progress: Callable[[int], None] = lambda _: None) -> SeedReport:
        """Seed `count` disputes opened over `months` before `end`; `progress`
        is told how many are done after each."""
        started = time.perf_counter()
        end = self.end or datetime.now(UTC)
        rng = random.Random(self.seed)  # noqa: S311 - demo data, reproducible on purpose
        cast = Cast.draw(rng, count)
        report = SeedReport(requested=count)
        plans = []
        for n in range(count):
            # Draw every dispute's plan before living any, so the plan of dispute n
            # never depends on what happened in the ones before it.
            opened = opening_time(rng, end - self.months * MONTH, end)
            plans.append((opened, n, rng.getrandbits(64)))
        lived: list[Aggregate] = []
        for done, (opened, n, own_seed) in enumerate(sorted(plans), start=1):
            lived += self._one(report, cast, n, opened, end, random.Random(own_seed))  # noqa: S311
            if sum(isinstance(a, Dispute) for a in lived) == SAVE_BATCH or done == count:
                self._save(lived)
                lived = []
                progress(done)
        report.seconds = time.perf_counter() - started
        log.info(
            "seeded %d disputes (%d already there), %d events, %d files in %.1fs",
            report.created,
            report.skipped,
            report.events,
            report.files,
            report.seconds,
        )
        return report

    def _save(self, disputes: list[Aggregate]) -> None:
        """Each dispute's whole history, with its order, in one transaction (several disputes share it)."""
        if not disputes:
            return
        try:
            self.app.save(*disputes)
        except RecordConflictError:
            raise SeedConflict(
                f"another process opened some of these orders meanwhile (seeding with --seed {self.seed} too?); "
                "nothing of this batch was saved: run the same command again to add what is missing"
            ) from None

    def _known(self, order_id: str) -> bool:
        return dispute_id_for(order_id) in self.app.repository

    def _one(
        self, report: SeedReport, cast: Cast, n: int, opened: datetime, end: datetime, rng: random.Random
    ) -> list[Aggregate]:
        """The order (when this registers it or changes its terms) and the dispute lived on it."""
        order_id = f"demo-{self.seed}-{n:06d}"
        if self._known(order_id):
            report.skipped += 1
            return []
        seller = cast.seller(rng)
        playing, weights = scripts_for(seller.behaviour)
        script = rng.choices(playing, weights=weights)[0]
        buyer = Actor(cast.buyer(rng, seller), Role.BUYER)
        order, dispute = self._open(script, order_id, seller.id, buyer, opened, rng)
        report.orders += order is not None
        actors = {
            Role.BUYER: buyer,
            Role.SELLER: Actor(seller.id, Role.SELLER),
            Role.AGENT: Actor(rng.choice(cast.agents), Role.AGENT),
        }
        store_file = partial(self._store_file, report)
        life = Life(
            dispute, self.app.policy, opened, end, rng, actors, store_file, f"seed-{self.seed}-{n}", agents=cast.agents
        )
        try:
            script.play(life)
        except Over:
            pass
        except DomainError as refused:
            # A script asked for a step the rules forbid: keep what was lived so far.
            report.refused.append(f"{script.name} on {order_id}: {refused.code}: {refused.detail}")
            log.warning("seed script %s refused on %s: %s", script.name, order_id, refused.detail)
        life.settle()
        report.steps.update(life.steps)
        report.events += len(dispute.pending_events)
        report.created += 1
        report.scripts[script.name] += 1
        report.statuses[dispute.status.value] += 1
        return [dispute] if order is None else [order, dispute]

    def _open(
        self, script: Script, order_id: str, seller_id: str, buyer: Actor, at: datetime, rng: random.Random
    ) -> tuple[Aggregate | None, Dispute]:
        """The order registered in the order book (None when it stands there
        already with these terms) and the dispute opened on it, as
        `OrderBook.open_dispute` opens one: with the registered order's terms."""
        remedy = rng.choice(script.remedies)
        why = reason(rng, script.reasons)
        amount = order_amount(rng)
        refund: Money | None = None
        if remedy is Remedy.PARTIAL_REFUND:
            refund = Money(max(1, int(amount.amount_minor * rng.uniform(0.3, 0.7))), amount.currency)
        elif remedy is not Remedy.REPLACEMENT:
            refund = amount
        placed = at - timedelta(days=rng.uniform(3, 30))
        delivered = None if why in NOT_ARRIVED else placed + timedelta(days=rng.uniform(1, 3))
        terms = OrderTerms(buyer.id, seller_id, amount, placed, delivered, placed + PROTECTION)
        registering = Context(PLATFORM, placed, request_id=f"seed-{self.seed}-{order_id}-order")
        order, changed = self.book.decide(registering, order_id, terms)
        seller_id, amount = opening_terms(
            order, buyer, order_id, seller_id, amount, at, require_known=self.book.require_known
        )
        dispute = Dispute.open(
            Context(buyer, at, request_id=f"seed-{self.seed}-{order_id}"),
            order_id=order_id,
            seller_id=seller_id,
            reason=why,
            remedy=remedy,
            refund=refund,
            order_amount=amount,
            description=DESCRIPTIONS[why],
            policy=self.app.policy,
        )
        return (order if changed else None), dispute

    # ---------------------------------------------------------------- files
    def _store_file(self, report: SeedReport, role: Role, kind: EvidenceKind, life: Life) -> StoredFile:
        content = self._draw(role, kind, life)
        known = self._stored.get(content)
        if known is not None:
            return known
        pending = self.blobs.receive(len(content))
        pending.write(content)
        pending.complete = True
        media_type = sniff_media_type(pending.head)
        assert media_type is not None, f"the {kind.value} file made for the demo is of no accepted type"
        stored = StoredFile(pending.sha256, pending.size, media_type, self.blobs.commit(pending))
        self._stored[content] = stored
        report.files += 1
        return stored

    @staticmethod
    def _draw(role: Role, kind: EvidenceKind, life: Life) -> bytes:
        d, rng = life.dispute, life.rng
        if kind in (EvidenceKind.PHOTO, EvidenceKind.SCREENSHOT):
            damaged = kind is EvidenceKind.PHOTO and d.reason is Reason.DAMAGED and role is Role.BUYER
            return picture(kind, damaged, rng.randrange(PICTURES))
        amount = f"{d.order_amount.currency} {d.order_amount.amount_minor} (minor units)"
        lines = {
            EvidenceKind.TRACKING: [f"Shipment for order {d.order_id}", "Status: delivered", "Signed for at door"],
            EvidenceKind.RECEIPT: [f"Order {d.order_id}", f"Amount: {amount}", "Packed and checked before dispatch"],
            EvidenceKind.ORDER_CONFIRMATION: [f"Order {d.order_id} confirmed", f"Seller: {d.seller_id}", amount],
            EvidenceKind.COMMUNICATION: [f"{d.buyer_id} to {d.seller_id}", "Is the item exactly as pictured?", "Yes."],
            EvidenceKind.OTHER: [f"Carrier investigation for order {d.order_id}", "Outcome: delivered intact"],
        }.get(kind, [kind.value])
        title = f"{kind.value.replace('_', ' ').title()} - {life.at:%Y-%m-%d}"
        return files.pdf(title, lines)


@cache
def picture(kind: EvidenceKind, damaged: bool, variant: int) -> bytes:
    """One of PICTURES photos (or screenshots) of each sort, drawn once."""
    rng = random.Random(f"{kind.value}-{damaged}-{variant}")  # noqa: S311
    return files.photo(rng, damaged) if kind is EvidenceKind.PHOTO else files.screenshot(rng)
