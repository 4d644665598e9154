"""Random command sequences by random actors never break an invariant."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.chain import GENESIS, next_chain_hash
from domain.dispute import Dispute
from domain.errors import DomainError
from domain.values import (
    Context,
    Deadline,
    Money,
    OfferStatus,
    Reason,
    Remedy,
    ResolvedHow,
    Role,
    Status,
)
from support.builders import BUYER, ORDER_AMOUNT, SELLER, T0, state_of
from support.command_mixes import POLICY, PREFIXES, STEPS, opened, step
from support.domain_app import in_memory_app


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
        assert d.party_to_act is None
        # The one deadline a closed dispute keeps: the appeal window of a ruling not yet final.
        resolution = d.resolution
        if resolution is not None and not resolution.final:
            assert resolution.how is ResolvedHow.RULING and d.appeal is None
            assert d.deadlines == {Deadline.APPEAL_WINDOW: resolution.appealable_until}
        else:
            assert d.deadlines == {}
    if d.status is Status.UNDER_APPEAL:
        assert d.appeal is not None and d.appeal.decision is None and d.party_to_act is Role.AGENT
        assert d.resolution is not None and d.resolution.how is ResolvedHow.RULING and not d.resolution.final
        assert d.appeal.ruled_by == d.resolution.ruled_by != ""
    if d.appeal is not None and d.appeal.decision is not None:
        assert d.status is Status.RESOLVED and d.resolution is not None
        assert d.resolution.how is ResolvedHow.APPEAL and d.resolution.final
        assert d.appeal.decided_by != d.appeal.ruled_by, "an appeal is decided by another agent"
    if d.status not in (Status.UNDER_REVIEW, Status.UNDER_APPEAL):
        assert d.assigned_agent is None, "only a dispute with an agent is claimed"
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
    live = opened(remedy, "order-prop", POLICY, now)
    app.save(live)
    for name, actor, args, minutes in PREFIXES[start]:
        now += timedelta(minutes=minutes)
        STEPS[name][1](live, Context(actor, now, "prefix"), args)
        app.save(live)
    for name, actor, args, minutes in steps:
        now += timedelta(minutes=minutes)
        was_terminal, version, before_deadlines = live.status.is_terminal, live.version, dict(live.deadlines)
        try:
            STEPS[name][1](live, Context(actor, now, f"r{live.version}"), args)
        except DomainError:
            assert live.pending_events == [], "a refused command records nothing"
            assert live.version == version
            continue
        reopened = name == "appeal" or (name == "expire" and Deadline.APPEAL_WINDOW in before_deadlines)
        assert not was_terminal or reopened, f"{name} by {actor} changed a {live.status} dispute"
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
