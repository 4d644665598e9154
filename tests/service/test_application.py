"""The application service against every store (memory, SQLite, Postgres)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from domain.application import DisputeApp
from domain.dispute import dispute_id_for
from domain.errors import DisputeExists, DisputeNotFound, InvalidTransition, NotParty, VersionConflict
from domain.values import Context, Deadline, OfferStatus, Reason, Remedy, Status
from service.ports import IdempotencyClaim, IdempotencyKeyTaken
from service.recorded import verify_chain
from support.builders import BUYER, OTHER_BUYER, SELLER, SYSTEM, T0, Scenario, scenario_in, usd


def test_opening_returns_id_version_and_position(app: DisputeApp) -> None:
    s = Scenario(app).open()
    assert s.last is not None
    assert s.last.dispute_id == dispute_id_for(s.order_id)
    assert s.last.version == 1
    assert s.last.position == app.recorder.max_notification_id()
    dispute = app.dispute(s.id)
    assert dispute.status is Status.AWAITING_SELLER
    assert dispute.offers[0].status is OfferStatus.PENDING
    assert dispute.pending_offer_id == dispute.offers[0].id
    assert set(dispute.deadlines) == {Deadline.SELLER_RESPONSE, Deadline.NEGOTIATION, Deadline.EVIDENCE}
    assert dispute.deadlines[Deadline.SELLER_RESPONSE] == s.clock.now + app.policy.seller_response_window


def test_positions_grow_with_every_command(app: DisputeApp) -> None:
    s = Scenario(app).open()
    first = s.last
    s.seller_counters()
    assert s.last is not None and first is not None
    assert s.last.position > first.position
    assert s.last.version == 2


def test_a_second_dispute_on_the_same_order_is_refused(app: DisputeApp) -> None:
    s = Scenario(app).open()
    with pytest.raises(DisputeExists):
        Scenario(app, order_id=s.order_id).open()
    assert app.dispute(s.id).version == 1


def test_a_withdrawn_dispute_cannot_be_reopened(app: DisputeApp) -> None:
    s = scenario_in(app, Status.WITHDRAWN)
    with pytest.raises(DisputeExists):
        Scenario(app, order_id=s.order_id).open()
    with pytest.raises(InvalidTransition):
        app.escalate(s.id, s.clock.ctx(BUYER), "reopen please")


def test_unknown_disputes_are_not_found(app: DisputeApp) -> None:
    with pytest.raises(DisputeNotFound):
        app.dispute(dispute_id_for("no-such-order"))


def test_a_stale_expected_version_is_a_version_conflict(app: DisputeApp) -> None:
    s = Scenario(app).open()
    with pytest.raises(VersionConflict):
        app.post_message(s.id, s.clock.ctx(BUYER), "hello", expected_version=7)
    result = app.post_message(s.id, s.clock.ctx(BUYER), "hello", expected_version=1)
    assert result.version == 2


def test_other_buyers_cannot_read_a_dispute(app: DisputeApp) -> None:
    s = Scenario(app).open()
    with pytest.raises(NotParty):
        app.dispute_for(s.id, OTHER_BUYER)
    assert app.dispute_for(s.id, SELLER).order_id == s.order_id


def test_concurrent_conflicting_commands_never_both_succeed(app: DisputeApp) -> None:
    """The seller accepts and rejects the same offer at once: exactly one wins."""
    s = Scenario(app).open()
    offer_id = s.pending_offer_id()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(kind: str) -> None:
        barrier.wait()
        try:
            if kind == "accept":
                app.accept_offer(s.id, s.clock.ctx(SELLER), offer_id, "ok")
            else:
                app.reject_offer(s.id, s.clock.ctx(SELLER), offer_id, "no")
            outcomes.append(kind)
        except InvalidTransition:
            outcomes.append("refused")

    threads = [threading.Thread(target=act, args=(k,)) for k in ("accept", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) in (["accept", "refused"], ["refused", "reject"])
    offer = app.dispute(s.id).offer(offer_id)
    assert offer.status in (OfferStatus.ACCEPTED, OfferStatus.REJECTED)
    assert verify_chain(app, s.id).valid


def test_many_writers_on_one_dispute_all_land_in_order(app: DisputeApp) -> None:
    """Without If-Match, a command that loses a race is retried on fresh state."""
    s = Scenario(app).open()
    errors: list[Exception] = []

    def post(i: int) -> None:
        try:
            app.post_message(s.id, s.clock.ctx(BUYER if i % 2 else SELLER), f"message {i}")
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    dispute = app.dispute(s.id)
    assert dispute.version == 7
    assert len(dispute.messages) == 6
    assert verify_chain(app, s.id).valid


def test_an_idempotency_claim_is_stored_with_the_events_it_guards(app: DisputeApp) -> None:
    s = Scenario(app).open()
    claim = IdempotencyClaim("buyer-1", "key-1", "fp", {"status": 201})
    result = app.post_message(s.id, s.clock.ctx(BUYER, "key-1"), "once", save_kwargs={"idempotency": claim})
    record = app.recorder.select_idempotency("buyer-1", "key-1")  # type: ignore[attr-defined]
    assert record is not None
    assert (record.version, record.position, record.dispute_id) == (2, result.position, str(s.id))
    with pytest.raises(IdempotencyKeyTaken):
        app.post_message(s.id, s.clock.ctx(BUYER, "key-1"), "twice", save_kwargs={"idempotency": claim})
    assert app.dispute(s.id).version == 2, "the losing request appended nothing"


def test_deadlines_follow_the_lifecycle(app: DisputeApp) -> None:
    s = Scenario(app).open(Remedy.RETURN_AND_REFUND).seller_accepts()
    dispute = app.dispute(s.id)
    assert dispute.status is Status.AWAITING_RETURN
    assert set(dispute.deadlines) == {Deadline.RETURN_SHIPPING, Deadline.EVIDENCE}
    s.buyer_ships_return()
    assert set(app.dispute(s.id).deadlines) == {Deadline.RETURN_RECEIPT, Deadline.EVIDENCE}
    s.clock.now += timedelta(days=30)
    app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.RETURN_RECEIPT)
    dispute = app.dispute(s.id)
    assert dispute.status is Status.RESOLVED
    assert dispute.resolution is not None
    assert dispute.resolution.seller_at_fault is True
    assert dispute.resolution.refund == usd(1500)
    assert dispute.deadlines == {}


def test_reason_and_remedy_are_recorded(app: DisputeApp) -> None:
    result = app.open_dispute(
        Context(BUYER, T0, "r"),
        order_id="order-replacement",
        seller_id=SELLER.id,
        reason=Reason.MISSING_PARTS,
        remedy=Remedy.REPLACEMENT,
        refund=None,
        order_amount=usd(999),
        description="no screws",
    )
    dispute = app.dispute(result.dispute_id)
    assert (dispute.reason, dispute.requested_remedy, dispute.offers[0].refund) == (
        Reason.MISSING_PARTS,
        Remedy.REPLACEMENT,
        None,
    )
