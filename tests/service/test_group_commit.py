"""Group commit: concurrent commands share transactions without changing any outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from domain.application import DisputeApp
from domain.errors import InvalidTransition
from domain.values import OfferStatus, Remedy
from service.ports import IdempotencyClaim, IdempotencyKeyTaken
from service.recorded import verify_chain
from store.group_commit import GroupCommitter
from support.builders import BUYER, SELLER, Scenario


@pytest.fixture
def committer(app: DisputeApp) -> Iterator[GroupCommitter]:
    app.committer = GroupCommitter(app)
    yield app.committer
    app.committer.close()


def together(tasks: list[Callable[[], object]]) -> list[object]:
    """Run the tasks at once on threads; their results or the exceptions they raised."""
    barrier = threading.Barrier(len(tasks))
    results: list[object] = [None] * len(tasks)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = tasks[i]()
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_commands_on_different_disputes_share_transactions(
    app: DisputeApp, committer: GroupCommitter
) -> None:
    scenarios = [Scenario(app).open() for _ in range(24)]
    batches_before = committer.batches
    results = together(
        [lambda s=s: app.post_message(s.id, s.clock.ctx(SELLER), "hello") for s in scenarios]  # type: ignore[misc]
    )
    assert all(not isinstance(r, Exception) for r in results), results
    positions = sorted(r.position for r in results)  # type: ignore[union-attr]
    assert len(set(positions)) == 24
    assert committer.batches - batches_before < 24, "some commands shared a transaction"
    for s in scenarios:
        dispute = app.dispute(s.id)
        assert (dispute.version, len(dispute.messages)) == (2, 1)
        assert verify_chain(app, s.id).valid


def race_accept_reject_and_messages(app: DisputeApp, s: Scenario) -> list[object]:
    offer_id = s.pending_offer_id()
    return together(
        [
            lambda: app.accept_offer(s.id, s.clock.ctx(SELLER), offer_id, "yes"),
            lambda: app.reject_offer(s.id, s.clock.ctx(SELLER), offer_id, "no"),
            *[lambda: app.post_message(s.id, s.clock.ctx(BUYER), "meanwhile") for _ in range(4)],
        ]
    )


def test_conflicting_commands_in_one_batch_still_have_exactly_one_winner(
    app: DisputeApp, committer: GroupCommitter
) -> None:
    for _ in range(5):
        s = Scenario(app).open(Remedy.RETURN_AND_REFUND)  # accepting leaves it open for messages
        offer_id = s.pending_offer_id()
        results = race_accept_reject_and_messages(app, s)
        decisions = results[:2]
        assert sum(isinstance(r, InvalidTransition) for r in decisions) == 1, decisions
        assert all(not isinstance(r, Exception) for r in results[2:]), results
        dispute = app.dispute(s.id)
        assert dispute.offer(offer_id).status in (OfferStatus.ACCEPTED, OfferStatus.REJECTED)
        assert len(dispute.messages) == 4
        assert verify_chain(app, s.id).valid


def test_a_taken_idempotency_key_fails_only_its_own_command(app: DisputeApp, committer: GroupCommitter) -> None:
    scenarios = [Scenario(app).open() for _ in range(6)]

    def post(s: Scenario, key: str) -> object:
        claim = IdempotencyClaim(BUYER.id, key, "fp", {"status": 201})
        return app.post_message(s.id, s.clock.ctx(BUYER, key), "hi", save_kwargs={"idempotency": claim})

    results = together([lambda s=s, i=i: post(s, "same" if i < 2 else f"k{i}") for i, s in enumerate(scenarios)])  # type: ignore[misc]
    assert sum(isinstance(r, IdempotencyKeyTaken) for r in results) == 1, results
    assert sum(not isinstance(r, Exception) for r in results) == 5
    record = app.recorder.select_idempotency(BUYER.id, "same")  # type: ignore[attr-defined]
    winner = next(r for r in results[:2] if not isinstance(r, Exception))
    assert (record.dispute_id, record.version, record.position) == (
        str(winner.dispute_id),
        winner.version,
        winner.position,  # type: ignore[attr-defined]
    )
    for i in range(2, 6):
        claim = app.recorder.select_idempotency(BUYER.id, f"k{i}")  # type: ignore[attr-defined]
        assert claim is not None and claim.dispute_id == str(scenarios[i].id) and claim.version == 2
