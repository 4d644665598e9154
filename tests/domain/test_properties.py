"""Random command sequences by random actors never break an invariant."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.chain import GENESIS, next_chain_hash
from domain.dispute import Dispute
from domain.errors import DomainError
from domain.policy import Policy
from domain.values import (
    Context,
    Deadline,
    EvidenceKind,
    Money,
    OfferStatus,
    Outcome,
    Reason,
    Remedy,
    ReturnCondition,
    Role,
)
from support.builders import AGENT, AUDITOR, BUYER, ORDER_AMOUNT, OTHER_BUYER, SELLER, SYSTEM, T0, fake_file, state_of
from support.domain_app import in_memory_app

ANYONE = [BUYER, SELLER, AGENT, AUDITOR, SYSTEM, OTHER_BUYER]
money = st.builds(
    Money,
    st.integers(min_value=1, max_value=2000) | st.integers(min_value=-5, max_value=2600),
    st.sampled_from(["USD", "USD", "USD", "EUR"]),
)
maybe_money = st.none() | money
text = st.text(max_size=30)

Step = Callable[[Dispute, Context, Any], None]


def _offer_id(d: Dispute, pick: int) -> str:
    return d.pending_offer_id or d.offers[pick % len(d.offers)].id


STEPS: dict[str, tuple[st.SearchStrategy[Any], Step]] = {
    "propose": (
        st.sampled_from([Remedy.REFUND_ONLY, Remedy.PARTIAL_REFUND, Remedy.RETURN_AND_REFUND]).flatmap(
            lambda r: st.tuples(st.just(r), st.builds(Money, st.integers(1, 2000), st.just("USD")))
        )
        | st.tuples(st.just(Remedy.REPLACEMENT), st.none())
        | st.tuples(st.sampled_from(list(Remedy)), maybe_money),
        lambda d, c, a: d.propose_offer(c, a[0], a[1], "n"),
    ),
    "accept": (st.integers(0, 5), lambda d, c, a: d.accept_offer(c, _offer_id(d, a), "", POLICY)),
    "reject": (st.integers(0, 5), lambda d, c, a: d.reject_offer(c, _offer_id(d, a), "no")),
    "evidence": (
        st.integers(1, 30 * 1024 * 1024),
        lambda d, c, a: d.submit_evidence(
            c,
            kind=EvidenceKind.PHOTO,
            description="x",
            sha256=fake_file()[0],
            size=a,
            media_type="image/png",
            blob_key="k",
            policy=POLICY,
        ),
    ),
    "message": (text, lambda d, c, a: d.post_message(c, a or "hi")),
    "escalate": (text, lambda d, c, a: d.escalate(c, a, POLICY)),
    "withdraw": (text, lambda d, c, a: d.withdraw(c, a)),
    "ship": (text, lambda d, c, a: d.ship_return(c, "UPS", a or "1Z", POLICY)),
    "receipt": (
        st.sampled_from(list(ReturnCondition)),
        lambda d, c, a: d.confirm_return_receipt(c, a, "", POLICY),
    ),
    "request": (
        st.tuples(st.sampled_from([Role.BUYER, Role.SELLER]), st.integers(-1, 5)),
        lambda d, c, a: d.request_evidence(c, a[0], "please", timedelta(days=a[1])),
    ),
    "extend": (
        st.tuples(st.sampled_from(list(Deadline)), st.integers(-1, 3)),
        lambda d, c, a: d.extend_deadline(c, a[0], timedelta(days=a[1]), "because"),
    ),
    "ruling": (
        st.tuples(st.sampled_from(list(Outcome)), st.none() | money, st.booleans()),
        lambda d, c, a: d.issue_ruling(c, a[0], a[1], a[2], "decided"),
    ),
    "expire": (st.integers(0, 7), lambda d, c, a: d.expire_deadline(c, _deadline(d, a), POLICY)),
}

# Mostly the actor the spec expects for a step, sometimes anyone at all.
LIKELY = {
    "propose": [BUYER, SELLER],
    "accept": [BUYER, SELLER],
    "reject": [BUYER, SELLER],
    "evidence": [BUYER, SELLER, AGENT],
    "message": [BUYER, SELLER, AGENT],
    "escalate": [BUYER, SELLER],
    "withdraw": [BUYER],
    "ship": [BUYER],
    "receipt": [SELLER],
    "request": [AGENT],
    "extend": [AGENT],
    "ruling": [AGENT],
    "expire": [SYSTEM],
}


def _deadline(d: Dispute, pick: int) -> Deadline:
    open_deadlines = sorted(d.deadlines)
    return open_deadlines[pick % len(open_deadlines)] if open_deadlines else list(Deadline)[pick]


minutes = st.integers(0, 180) | st.integers(0, 12 * 24 * 60)
# Withdrawal ends a dispute at once, so it is drawn less often than the rest.
WEIGHTED_NAMES = [n for n in sorted(STEPS) for _ in range(1 if n == "withdraw" else 4)]
step = st.sampled_from(WEIGHTED_NAMES).flatmap(
    lambda name: st.tuples(
        st.just(name),
        st.sampled_from(LIKELY[name]) | st.sampled_from(ANYONE),
        STEPS[name][0],
        minutes,
    )
)

COUNTER = ("propose", SELLER, (Remedy.PARTIAL_REFUND, Money(800, "USD")), 10)
RETURN_AGREED = [("propose", SELLER, (Remedy.RETURN_AND_REFUND, Money(1500, "USD")), 10), ("accept", BUYER, 0, 10)]
# Scripted starts, so deep states (returns, review) are explored as often as the opening.
PREFIXES: dict[str, list[Any]] = {
    "awaiting_seller": [],
    "negotiating": [COUNTER],
    "awaiting_return": RETURN_AGREED,
    "return_in_transit": [*RETURN_AGREED, ("ship", BUYER, "1Z", 10)],
    "under_review": [COUNTER, ("escalate", BUYER, "stuck", 10)],
}

POLICY = Policy()


def check_invariants(d: Dispute) -> None:
    pending = [o for o in d.offers if o.status is OfferStatus.PENDING]
    assert len(pending) <= 1
    assert (pending[0].id if pending else None) == d.pending_offer_id
    for offer in d.offers:
        if offer.refund is not None:
            assert 0 < offer.refund.amount_minor <= ORDER_AMOUNT.amount_minor
            assert offer.refund.currency == ORDER_AMOUNT.currency
    if d.resolution and d.resolution.refund:
        assert d.resolution.refund.amount_minor <= ORDER_AMOUNT.amount_minor
    if d.status.is_terminal:
        assert d.deadlines == {} and d.party_to_act is None
    evidence_by_role: dict[Role, int] = {}
    for e in d.evidence:
        evidence_by_role[e.actor.role] = evidence_by_role.get(e.actor.role, 0) + e.size
    assert all(total <= POLICY.max_evidence_bytes_per_party for total in evidence_by_role.values())


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    remedy=st.sampled_from(list(Remedy)),
    start=st.sampled_from(sorted(PREFIXES)),
    steps=st.lists(step, max_size=40),
)
def test_random_command_sequences_keep_every_invariant(remedy: Remedy, start: str, steps: list[Any]) -> None:
    app = in_memory_app(snapshot_interval=3, policy=POLICY)
    now = T0
    live = Dispute.open(
        Context(BUYER, now, "r0"),
        order_id="order-prop",
        seller_id=SELLER.id,
        reason=Reason.WRONG_ITEM,
        remedy=remedy,
        refund=None if remedy is Remedy.REPLACEMENT else Money(1200, "USD"),
        order_amount=ORDER_AMOUNT,
        description="wrong colour",
        policy=POLICY,
    )
    app.save(live)
    for name, actor, args, minutes in PREFIXES[start]:
        now += timedelta(minutes=minutes)
        STEPS[name][1](live, Context(actor, now, "prefix"), args)
        app.save(live)
    for name, actor, args, minutes in steps:
        now += timedelta(minutes=minutes)
        was_terminal, version = live.status.is_terminal, live.version
        try:
            STEPS[name][1](live, Context(actor, now, f"r{live.version}"), args)
        except DomainError:
            assert live.pending_events == [], "a refused command records nothing"
            assert live.version == version
            continue
        assert not was_terminal, f"{name} by {actor} changed a {live.status} dispute"
        app.save(live)
        check_invariants(live)

    stored = app.recorder.select_events(live.id)
    assert [s.originator_version for s in stored] == list(range(1, live.version + 1))
    previous = GENESIS
    for record in stored:  # the hash chain, recomputed from what was stored
        fields = app.mapper.transcoder.decode(record.state)
        event_type = record.topic.rsplit(":", 1)[-1]
        previous = next_chain_hash(previous, live.id, record.originator_version, event_type, fields)
        assert previous == fields["chain_hash"], f"version {record.originator_version} breaks the chain"
    assert previous == live.chain_hash

    replayed = None
    for event in app.events.get(live.id):
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert state_of(replayed) == state_of(live), "replaying stored events gives the live state"
    from_snapshot = app.repository.get(live.id)
    assert state_of(from_snapshot) == state_of(replayed), "snapshot + tail equals full replay"
    app.close()


def test_invariant_check_catches_a_refund_above_the_order_amount() -> None:
    """The property test's checker is not vacuous."""
    d = Dispute.open(
        Context(BUYER, T0, "r"),
        order_id="o",
        seller_id=SELLER.id,
        reason=Reason.DAMAGED,
        remedy=Remedy.REFUND_ONLY,
        refund=Money(100, "USD"),
        order_amount=ORDER_AMOUNT,
        description="",
        policy=POLICY,
    )
    d.offers[0] = dataclasses.replace(d.offers[0], refund=Money(99999, "USD"))
    with pytest.raises(AssertionError):
        check_invariants(d)
