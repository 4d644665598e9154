"""Write the stored-data fixture: events and snapshots as TODAY's code stores them.

    .venv/bin/python scripts/make_stored_fixture.py

Writes tests/fixtures/stored-v1.sqlite (a plain SQLite event store: no cipher,
the default settings `scripts/run` uses, snapshots every 3 versions) holding a
dozen disputes that together record every event class of domain/events.py,
some commands carrying idempotency keys; and tests/fixtures/stored-v1.golden.json:
each dispute's rendered body for buyer, seller, agent, auditor and analyst at a
fixed `now`, its version and its chain head. tests/service/test_stored_fixture.py
loads the fixture and checks it against the golden file, so events stored
before a refactoring keep loading after it.

Regenerate only on purpose: the point of the fixture is that it was written by
older code. Every time is fixed, every id is derived (uuid5), so a rerun writes
the same events; only the idempotency records' created_at differs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from api import presenters
from bootstrap import build_app
from domain import events
from domain.application import CommandResult, DisputeApp
from domain.values import (
    Actor,
    Context,
    Deadline,
    EvidenceKind,
    Money,
    Outcome,
    Reason,
    Remedy,
    ReturnCondition,
    Role,
)
from service.ports import IdempotencyClaim
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DATABASE = FIXTURES / "stored-v1.sqlite"
GOLDEN = FIXTURES / "stored-v1.golden.json"

SNAPSHOT_INTERVAL = 3
BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = BASE + timedelta(days=40)
"""The `now` every golden body is rendered at (it decides allowed_actions)."""

SELLER = Actor("seller-7", Role.SELLER)
AGENT = Actor("agent-3", Role.AGENT)
AUDITOR = Actor("auditor-1", Role.AUDITOR)
ANALYST = Actor("analyst-1", Role.ANALYST)
SYSTEM = Actor("scheduler", Role.SYSTEM)
ORDER_AMOUNT = Money(2000, "USD")
VIEWER_ROLES = ("buyer", "seller", "agent", "auditor", "analyst")


def usd(amount_minor: int) -> Money:
    return Money(amount_minor, "USD")


def fake_sha256(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


@dataclass
class Story:
    """One dispute driven through the application at explicit, fixed times."""

    app: DisputeApp
    number: int
    buyer: Actor
    at: datetime
    dispute_id: UUID | None = None
    steps: int = 0
    keys: list[str] = field(default_factory=list)

    @property
    def order_id(self) -> str:
        return f"order-v1-{self.number:02d}"

    @property
    def id(self) -> UUID:
        assert self.dispute_id is not None
        return self.dispute_id

    def later(self, delta: timedelta) -> Story:
        self.at += delta
        return self

    def ctx(self, actor: Actor, key: bool) -> Context:
        self.steps += 1
        self.at += timedelta(minutes=7)
        idempotency_key = f"key-{self.number:02d}-{self.steps:02d}" if key else None
        return Context(
            actor, self.at, request_id=f"req-{self.number:02d}-{self.steps:02d}", idempotency_key=idempotency_key
        )

    def run(
        self, actor: Actor, command: Callable[..., CommandResult], *args: Any, key: bool = False, **kwargs: Any
    ) -> Story:
        ctx = self.ctx(actor, key)
        if ctx.idempotency_key is not None:
            document = {"command": command.__name__, "dispute": str(self.dispute_id), "step": self.steps}
            fingerprint = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
            claim = IdempotencyClaim(actor.id, ctx.idempotency_key, fingerprint, {"status": 200, "kind": "dispute"})
            kwargs["save_kwargs"] = {"idempotency": claim}
            self.keys.append(ctx.idempotency_key)
        if self.dispute_id is None:
            result = command(ctx, *args, **kwargs)
            self.dispute_id = result.dispute_id
        else:
            command(self.id, ctx, *args, **kwargs)
        return self

    # ------------------------------------------------------------- commands
    def open(
        self, remedy: Remedy = Remedy.REFUND_ONLY, refund: Money | None = None, reason: Reason = Reason.DAMAGED
    ) -> Story:
        if refund is None and remedy is not Remedy.REPLACEMENT:
            refund = usd(1500)
        return self.run(
            self.buyer,
            self.app.open_dispute,
            order_id=self.order_id,
            seller_id=SELLER.id,
            reason=reason,
            remedy=remedy,
            refund=refund,
            order_amount=ORDER_AMOUNT,
            description=f"dispute {self.number}: the item is not what was ordered",
            key=True,
        )

    def pending_offer_id(self) -> str:
        offer = self.app.dispute(self.id).pending_offer
        assert offer is not None, "an offer is pending"
        return offer.id

    def propose(self, actor: Actor, remedy: Remedy, refund: Money | None, note: str, key: bool = False) -> Story:
        return self.run(actor, self.app.propose_offer, remedy, refund, note, key=key)

    def accept(self, actor: Actor, note: str = "agreed") -> Story:
        return self.run(actor, self.app.accept_offer, self.pending_offer_id(), note, key=True)

    def reject(self, actor: Actor, reason: str) -> Story:
        return self.run(actor, self.app.reject_offer, self.pending_offer_id(), reason)

    def evidence(self, actor: Actor, kind: EvidenceKind, description: str, media_type: str = "image/png") -> Story:
        label = f"evidence-{self.number}-{self.steps + 1}"
        return self.run(
            actor,
            self.app.submit_evidence,
            kind=kind,
            description=description,
            sha256=fake_sha256(label),
            size=1024 + self.steps,
            media_type=media_type,
            blob_key=f"sha256/{fake_sha256(label)}",
        )

    def message(self, actor: Actor, body: str, to: Role | None = None) -> Story:
        return self.run(actor, self.app.post_message, body, to)

    def escalate(self, actor: Actor, reason: str) -> Story:
        return self.run(actor, self.app.escalate, reason, key=True)

    def withdraw(self, reason: str) -> Story:
        return self.run(self.buyer, self.app.withdraw, reason)

    def ship(self, carrier: str, tracking: str) -> Story:
        return self.run(self.buyer, self.app.ship_return, carrier, tracking)

    def receive(self, condition: ReturnCondition, note: str) -> Story:
        return self.run(SELLER, self.app.confirm_return_receipt, condition, note)

    def request_evidence(self, party: Role, note: str, due_in: timedelta) -> Story:
        return self.run(AGENT, self.app.request_evidence, party, note, due_in)

    def extend(self, deadline: Deadline, by: timedelta, reason: str) -> Story:
        return self.run(AGENT, self.app.extend_deadline, deadline, by, reason)

    def rule(self, outcome: Outcome, refund: Money | None, at_fault: bool, rationale: str) -> Story:
        return self.run(AGENT, self.app.issue_ruling, outcome, refund, at_fault, rationale, key=True)

    def expire(self, deadline: Deadline) -> Story:
        """The scheduler's command, a minute after the deadline fell due."""
        due = self.app.dispute(self.id).deadlines[deadline]
        self.at = max(self.at, due + timedelta(minutes=1) - timedelta(minutes=7))
        return self.run(SYSTEM, self.app.expire_deadline, deadline)


def write_disputes(app: DisputeApp) -> list[Story]:
    stories: list[Story] = []

    def story(buyer: str) -> Story:
        s = Story(app, len(stories) + 1, Actor(buyer, Role.BUYER), BASE + timedelta(hours=len(stories)))
        stories.append(s)
        return s

    day = timedelta(days=1)

    # 1. Counter-offer accepted by the buyer: resolved by agreement (partial refund).
    s1 = story("buyer-01")
    (
        s1.open()
        .evidence(s1.buyer, EvidenceKind.PHOTO, "cracked screen")
        .propose(SELLER, Remedy.PARTIAL_REFUND, usd(800), "we can refund part of it", key=True)
        .message(s1.buyer, "800 is too little, but fine")
        .accept(s1.buyer, "fine")
    )
    # 2. Rejected, countered, escalated, evidence requested from the seller,
    #    review deadline extended, private messages after escalation, ruled.
    s2 = story("buyer-02")
    b2 = s2.buyer
    (
        s2.open(Remedy.REFUND_ONLY, usd(2000), Reason.NOT_AS_DESCRIBED)
        .reject(SELLER, "the item matches the listing")
        .propose(b2, Remedy.PARTIAL_REFUND, usd(1200), "then refund 1200")
        .evidence(SELLER, EvidenceKind.SCREENSHOT, "listing as published", "application/pdf")
        .escalate(SELLER, "the buyer will not move")
        .message(AGENT, "please send the packing photos", Role.SELLER)
        .message(b2, "I have photos of the box too")
        .request_evidence(Role.SELLER, "packing photos", 2 * day)
        .evidence(SELLER, EvidenceKind.PHOTO, "packing photos")
        .extend(Deadline.REVIEW_SLA, 3 * day, "waiting on the courier")
        .rule(Outcome.REFUND_PARTIAL, usd(1000), True, "the listing omitted the defect")
    )
    # 3. Withdrawn by the buyer while awaiting the seller.
    story("buyer-03").open(Remedy.REPLACEMENT, None, Reason.WRONG_ITEM).withdraw("the right item arrived")
    # 4. Return and refund, received in good order: resolved by agreement.
    s4 = story("buyer-04")
    (
        s4.open(Remedy.RETURN_AND_REFUND, usd(2000))
        .accept(SELLER, "send it back")
        .later(day)
        .ship("UPS", "1Z0004")
        .later(2 * day)
        .receive(ReturnCondition.RECEIVED_OK, "all good")
    )
    # 5. Returned damaged: review, ruled full refund.
    (
        story("buyer-05")
        .open(Remedy.RETURN_AND_REFUND, usd(2000))
        .accept(SELLER)
        .ship("DHL", "JD0005")
        .receive(ReturnCondition.RECEIVED_DAMAGED, "the case is smashed")
        .rule(Outcome.REFUND_FULL, usd(2000), True, "packed badly by the seller")
    )
    # 6. Return never arrived (seller says): review, ruled no refund.
    (
        story("buyer-06")
        .open(Remedy.RETURN_AND_REFUND, usd(1500), Reason.QUALITY_ISSUE)
        .accept(SELLER)
        .ship("USPS", "9400-0006")
        .receive(ReturnCondition.NOT_RECEIVED, "nothing arrived")
        .rule(Outcome.NO_REFUND, None, False, "tracking shows no delivery")
    )
    # 7. Wrong item returned: review, the review SLA is breached, left under review.
    (
        story("buyer-07")
        .open(Remedy.RETURN_AND_REFUND, usd(2000), Reason.MISSING_PARTS)
        .accept(SELLER)
        .ship("FedEx", "FX0007")
        .receive(ReturnCondition.WRONG_ITEM_RETURNED, "a different phone came back")
        .message(AGENT, "looking into it")
        .expire(Deadline.REVIEW_SLA)
    )
    # 8. The seller never answers: the opening request is executed (replacement).
    story("buyer-08").open(Remedy.REPLACEMENT, None, Reason.NOT_RECEIVED).expire(Deadline.SELLER_RESPONSE)
    # 9. Countered, evidence window closes, negotiation window ends: escalated by
    #    the system; the buyer's evidence request expires; left under review.
    s9 = story("buyer-09")
    (
        s9.open(Remedy.PARTIAL_REFUND, usd(900), Reason.QUALITY_ISSUE)
        .propose(SELLER, Remedy.PARTIAL_REFUND, usd(300), "300 at most")
        .expire(Deadline.EVIDENCE)
        .expire(Deadline.NEGOTIATION)
        .message(s9.buyer, "still waiting for a fair offer")
        .request_evidence(Role.BUYER, "photos of the fault", day)
        .expire(Deadline.EVIDENCE_REQUEST_BUYER)
    )
    # 10. The buyer never ships the return: resolved without refund.
    story("buyer-10").open(Remedy.RETURN_AND_REFUND, usd(2000)).accept(SELLER).expire(Deadline.RETURN_SHIPPING)
    # 11. The seller never confirms receipt: the agreed refund is executed.
    (
        story("buyer-11")
        .open(Remedy.RETURN_AND_REFUND, usd(1800), Reason.NOT_AS_DESCRIBED)
        .accept(SELLER)
        .ship("UPS", "1Z0011")
        .expire(Deadline.RETURN_RECEIPT)
    )
    # 12. Still awaiting the seller at NOW, its windows open: evidence and a message.
    s12 = story("buyer-12")
    s12.at = NOW - timedelta(days=2)
    (
        s12.open(Remedy.PARTIAL_REFUND, usd(700), Reason.MISSING_PARTS)
        .evidence(s12.buyer, EvidenceKind.RECEIPT, "the receipt", "image/jpeg")
        .message(s12.buyer, "the charger is missing")
    )
    # 13. Escalated from return in transit by the buyer; a seller evidence request
    #     expires; the agent rules a replacement.
    s13 = story("buyer-13")
    (
        s13.open(Remedy.RETURN_AND_REFUND, usd(2000), Reason.DAMAGED)
        .accept(SELLER)
        .ship("DHL", "JD0013")
        .escalate(s13.buyer, "the seller is not answering")
        .request_evidence(Role.SELLER, "proof of the original packaging", 2 * day)
        .expire(Deadline.EVIDENCE_REQUEST_SELLER)
        .message(AGENT, "ruling soon", Role.BUYER)
        .rule(Outcome.REPLACEMENT, None, True, "a replacement is fairest")
    )
    return stories


def viewer(role: str, buyer_id: str, seller_id: str) -> Actor:
    if role == "buyer":
        return Actor(buyer_id, Role.BUYER)
    if role == "seller":
        return Actor(seller_id, Role.SELLER)
    return {"agent": AGENT, "auditor": AUDITOR, "analyst": ANALYST}[role]


def golden_entry(app: DisputeApp, dispute_id: UUID) -> dict[str, Any]:
    dispute = app.dispute(dispute_id)
    bodies = {
        role: presenters.dispute(dispute, viewer(role, dispute.buyer_id, dispute.seller_id), NOW).model_dump(
            mode="json"
        )
        for role in VIEWER_ROLES
    }
    return {"version": dispute.version, "chain_hash": dispute.chain_hash, "bodies": bodies}


def table_count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


def stored_event_types(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        topics = [row[0] for row in db.execute("SELECT DISTINCT topic FROM stored_events")]
    return sorted(topic.rsplit(":", 1)[-1] for topic in topics)


def concrete_event_types() -> list[str]:
    """Every event class a dispute can record (the bases are never stored themselves)."""
    bases = {events.DisputeEvent, events.DeadlinesChanged, events.DeadlinePassed}
    return sorted(
        cls.__name__
        for cls in vars(events).values()
        if isinstance(cls, type) and issubclass(cls, events.DisputeEvent) and cls not in bases
    )


def idempotency_records(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT scope, key, dispute_id, version FROM idempotency_keys ORDER BY key").fetchall()
    return [{"scope": r[0], "key": r[1], "dispute_id": r[2], "version": r[3]} for r in rows]


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "stored-v1.sqlite"
        settings = Settings(
            env="dev",
            database_url=f"sqlite:///{path}",
            var_dir=Path(scratch) / "var",
            blob_dir=Path(scratch) / "blobs",
            snapshot_interval=SNAPSHOT_INTERVAL,
            in_process_workers=False,
        )
        assert settings.cipher_key is None, "the fixture is a plain SQLite file"
        app = build_app(settings)
        try:
            stories = write_disputes(app)
            disputes = {str(s.id): golden_entry(app, s.id) for s in stories}
        finally:
            app.close()
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
        with sqlite3.connect(path, isolation_level=None) as db:
            db.execute("VACUUM")
        covered = stored_event_types(path)
        missing = sorted(set(concrete_event_types()) - set(covered))
        assert not missing, f"the fixture records no {missing}"
        golden = {
            "about": "written by scripts/make_stored_fixture.py; checked by tests/service/test_stored_fixture.py",
            "now": NOW.isoformat(),
            "snapshot_interval": SNAPSHOT_INTERVAL,
            "disputes_count": len(disputes),
            "events_count": table_count(path, "stored_events"),
            "snapshots_count": table_count(path, "stored_snapshots"),
            "idempotency_count": table_count(path, "idempotency_keys"),
            "event_types": covered,
            "idempotency": idempotency_records(path),
            "disputes": disputes,
        }
        DATABASE.write_bytes(path.read_bytes())
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {DATABASE.relative_to(ROOT)} ({DATABASE.stat().st_size} bytes) and {GOLDEN.relative_to(ROOT)}")
    print(
        f"{golden['disputes_count']} disputes, {golden['events_count']} events, "
        f"{golden['snapshots_count']} snapshots, {golden['idempotency_count']} idempotency records"
    )


if __name__ == "__main__":
    main()
