"""The scheduler against every store, on a clock the test moves: what fires, what is skipped."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from bootstrap import build_app, build_views_db, ensure_views
from domain.application import DisputeApp
from domain.deadline_names import request_deadline
from domain.values import Deadline, EvidenceKind, Outcome, ResolvedHow, Role, Status
from projections import deadlines
from projections.db import Database
from projections.deadlines import OpenDeadline
from service.metrics import Metrics
from service.scheduler import Scheduler, build_scheduler
from service.settings import Settings
from support.builders import AGENT, BUYER, SYSTEM, T0, Clock, Scenario, fake_file, usd
from support.stores import settings_for


@dataclass
class Now:
    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def views(settings: Settings, app: DisputeApp) -> Iterator[Database]:
    db = build_views_db(settings)
    ensure_views(db, settings)
    yield db
    db.close()


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def scheduler(app: DisputeApp, views: Database, now: Now, metrics: Metrics) -> Scheduler:
    return build_scheduler(app, views, now, metrics, name="test-scheduler")


def types_after_opening(app: DisputeApp, dispute_id: UUID) -> list[str]:
    return [type(e).__name__ for e in app.repository.event_store.get(dispute_id)][1:]


def due_rows(scheduler: Scheduler, at: datetime) -> list[OpenDeadline]:
    scheduler.follower.catch_up()
    return deadlines.due(scheduler.views, at)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_missed_seller_response_resolves_the_dispute_as_the_buyer_asked(
    app: DisputeApp, scheduler: Scheduler, now: Now
) -> None:
    s = Scenario(app).open()
    due = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE]
    now.at = due + timedelta(seconds=3)

    assert scheduler.tick() == {"fired": 1}

    assert types_after_opening(app, s.id) == ["SellerResponseDeadlineMissed", "DisputeResolved"]
    missed, resolved = list(app.repository.event_store.get(s.id))[1:]
    assert (missed.actor_role, missed.actor_id, missed.due_at, missed.timestamp) == ("system", "scheduler", due, now.at)
    assert missed.request_id.startswith("test-scheduler/")
    assert resolved.actor_role == Role.SYSTEM
    dispute = app.dispute(s.id)
    assert dispute.status is Status.RESOLVED
    assert dispute.resolution is not None
    assert dispute.resolution.how is ResolvedHow.DEADLINE
    assert (dispute.resolution.outcome, dispute.resolution.refund) == (Outcome.REFUND_PARTIAL, usd(1500))
    assert dispute.resolution.seller_at_fault is True


def test_nothing_expires_before_it_is_due(app: DisputeApp, scheduler: Scheduler, now: Now) -> None:
    s = Scenario(app).open()
    now.at = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE] - timedelta(microseconds=1)
    assert scheduler.tick() == {}
    assert app.dispute(s.id).version == 1


def test_an_expired_deadline_is_not_picked_up_again(app: DisputeApp, scheduler: Scheduler, now: Now) -> None:
    s = Scenario(app).open()
    now.at = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE] + timedelta(seconds=1)
    assert scheduler.tick() == {"fired": 1}
    assert scheduler.tick() == {}
    assert app.dispute(s.id).version == 3


def test_a_party_acting_first_wins_over_a_stale_read_model(app: DisputeApp, scheduler: Scheduler, now: Now) -> None:
    s = Scenario(app).open()
    now.at = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE]
    [row] = due_rows(scheduler, now.at)
    s.seller_counters()

    assert scheduler.fire(row) == "cleared"
    assert types_after_opening(app, s.id) == ["OfferProposed"]
    assert app.dispute(s.id).status is Status.NEGOTIATING


def test_an_extension_after_the_read_model_was_read_moves_the_expiry(
    app: DisputeApp, scheduler: Scheduler, now: Now
) -> None:
    s = Scenario(app).open()
    old_due = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE]
    now.at = old_due + timedelta(seconds=1)
    [row] = due_rows(scheduler, now.at)
    app.extend_deadline(s.id, s.clock.ctx(AGENT), Deadline.SELLER_RESPONSE, timedelta(hours=1), "courier strike")

    assert scheduler.fire(row) == "moved"
    assert scheduler.tick() == {}
    now.at = old_due + timedelta(hours=1)
    assert scheduler.tick() == {"fired": 1}
    missed = list(app.repository.event_store.get(s.id))[2]
    assert (type(missed).__name__, missed.due_at) == ("SellerResponseDeadlineMissed", old_due + timedelta(hours=1))


def test_events_that_leave_deadlines_alone_do_not_stop_an_expiry(
    app: DisputeApp, scheduler: Scheduler, now: Now
) -> None:
    s = Scenario(app).open()
    app.post_message(s.id, s.clock.ctx(BUYER), "hello?")
    now.at = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE]
    [row] = due_rows(scheduler, now.at)
    assert row.version == 1

    assert scheduler.fire(row) == "fired"
    assert types_after_opening(app, s.id) == ["MessagePosted", "SellerResponseDeadlineMissed", "DisputeResolved"]


def test_deadlines_due_together_fire_in_due_order_and_the_first_outcome_clears_the_rest(
    app: DisputeApp, scheduler: Scheduler, now: Now
) -> None:
    clock = Clock()
    disputes = [Scenario(app, clock).open().id for _ in range(3)]  # expired in parallel, each in order
    now.at = T0 + timedelta(days=30)
    assert [d.deadline for d in due_rows(scheduler, now.at) if d.dispute_id == disputes[0]] == [
        Deadline.SELLER_RESPONSE,
        Deadline.EVIDENCE,
        Deadline.NEGOTIATION,
    ]

    assert scheduler.tick() == {"fired": 3, "cleared": 6}
    for dispute_id in disputes:
        assert types_after_opening(app, dispute_id) == ["SellerResponseDeadlineMissed", "DisputeResolved"]


def test_two_schedulers_racing_expire_each_deadline_once(
    app: DisputeApp, views: Database, settings: Settings, now: Now
) -> None:
    clock = Clock()
    disputes = [Scenario(app, clock).open().id for _ in range(12)]
    now.at = clock.now + app.policy.seller_response_window
    second_app = app if settings.backend == "memory" else build_app(settings)  # as a second process would
    start = threading.Barrier(2)

    def run(scheduler: Scheduler) -> dict[str, int]:
        start.wait()
        return scheduler.tick()

    try:
        schedulers = [build_scheduler(a, views, now, Metrics(), name=f"s{i}") for i, a in enumerate((app, second_app))]
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(run, schedulers))
    finally:
        if second_app is not app:
            second_app.close()

    assert sum(r.get("fired", 0) for r in results) == 12
    for dispute_id in disputes:
        assert types_after_opening(app, dispute_id) == ["SellerResponseDeadlineMissed", "DisputeResolved"]


def test_metrics_count_due_fired_skipped_and_the_delay(
    app: DisputeApp, scheduler: Scheduler, now: Now, metrics: Metrics
) -> None:
    clock = Clock()
    ignored, countered = Scenario(app, clock).open(), Scenario(app, clock).open()
    ignored_due = app.dispute(ignored.id).deadlines[Deadline.SELLER_RESPONSE]
    now.at = app.dispute(countered.id).deadlines[Deadline.SELLER_RESPONSE] + timedelta(seconds=2)
    stale = next(r for r in due_rows(scheduler, now.at) if r.dispute_id == countered.id)
    countered.seller_counters()
    assert sample(metrics, "disputes_deadlines_overdue") == 2

    assert scheduler.fire(stale) == "cleared"
    assert scheduler.tick() == {"fired": 1}

    label = {"deadline": "seller_response"}
    assert sample(metrics, "disputes_deadlines_due_total", **label) == 2
    assert sample(metrics, "disputes_deadlines_fired_total", **label) == 1
    assert sample(metrics, "disputes_deadlines_skipped_total", **label, reason="cleared") == 1
    assert sample(metrics, "disputes_deadline_firing_delay_seconds_count", **label) == 1
    assert sample(metrics, "disputes_deadline_firing_delay_seconds_sum", **label) == pytest.approx(
        (now.at - ignored_due).total_seconds()
    )
    scheduler.follower.catch_up()  # the gauge reads the read model
    assert sample(metrics, "disputes_deadlines_overdue") == 0


def test_an_expiry_that_fails_is_logged_and_counted(
    scheduler: Scheduler, metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    missing = OpenDeadline(uuid.uuid4(), Deadline.EVIDENCE, T0, 1)
    with caplog.at_level(logging.ERROR, logger="disputes.scheduler"):
        assert scheduler.fire(missing) == "failed"
    assert sample(metrics, "disputes_deadlines_failed_total", deadline="evidence") == 1
    assert f"expiring evidence of {missing.dispute_id} failed" in caplog.text


def test_the_loop_ticks_until_stopped(app: DisputeApp, scheduler: Scheduler, now: Now) -> None:
    s = Scenario(app).open()
    now.at = app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE]
    stop = threading.Event()
    loop = threading.Thread(target=scheduler.run_forever, args=(stop, 0.02))
    loop.start()
    try:
        for _ in range(500):
            if app.dispute(s.id).status is Status.RESOLVED:
                break
            stop.wait(0.01)
    finally:
        stop.set()
        loop.join(timeout=5)
    assert not loop.is_alive()
    assert types_after_opening(app, s.id) == ["SellerResponseDeadlineMissed", "DisputeResolved"]


def test_durations_are_iso_8601_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env: dict[str, Any] = {
        "DISPUTES_SELLER_RESPONSE_WINDOW": ("PT2S", timedelta(seconds=2)),
        "DISPUTES_NEGOTIATION_WINDOW": ("PT1M30S", timedelta(minutes=1, seconds=30)),
        "DISPUTES_RETURN_SHIPPING_WINDOW": ("P1DT2H", timedelta(days=1, hours=2)),
        "DISPUTES_RETURN_RECEIPT_WINDOW": ("PT0.5S", timedelta(milliseconds=500)),
        "DISPUTES_EVIDENCE_WINDOW": ("P7D", timedelta(days=7)),
        "DISPUTES_SCHEDULER_INTERVAL": ("PT0.25S", timedelta(milliseconds=250)),
    }
    for name, (text, _) in env.items():
        monkeypatch.setenv(name, text)
    settings = settings_for("memory", tmp_path, request)
    parsed = {name: getattr(settings, name.removeprefix("DISPUTES_").lower()) for name in env}
    assert parsed == {name: value for name, (_, value) in env.items()}

    app = build_app(settings)
    s = Scenario(app).open()
    assert app.dispute(s.id).deadlines[Deadline.SELLER_RESPONSE] == s.clock.now + timedelta(seconds=2)
    app.close()


def escalated_without_an_evidence_window(app: DisputeApp, now: Now) -> Scenario:
    """Under review, with the parties' own evidence window expired (so only requests remain)
    and the review SLA far away."""
    s = Scenario(app).open().seller_counters().buyer_escalates()
    app.extend_deadline(s.id, s.clock.ctx(AGENT), Deadline.REVIEW_SLA, timedelta(days=30), "long review")
    s.clock.now = app.dispute(s.id).deadlines[Deadline.EVIDENCE]
    app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.EVIDENCE)
    now.at = s.clock.now
    return s


def test_each_evidence_request_expires_once_with_its_own_event_and_the_party_deadline_follows(
    app: DisputeApp, scheduler: Scheduler, now: Now, metrics: Metrics
) -> None:
    s = escalated_without_an_evidence_window(app, now)
    sooner = app.request_evidence(s.id, s.clock.ctx(AGENT), Role.SELLER, "photos", timedelta(hours=1)).created_id
    later = app.request_evidence(s.id, s.clock.ctx(AGENT), Role.SELLER, "receipt", timedelta(hours=3)).created_id
    assert sooner is not None and later is not None
    d = app.dispute(s.id)
    first_due, second_due = d.deadlines[request_deadline(sooner)], d.deadlines[request_deadline(later)]
    version = d.version
    assert {r.deadline for r in due_rows(scheduler, second_due)} >= {
        request_deadline(sooner),
        request_deadline(later),
        Deadline.EVIDENCE_REQUEST_SELLER,
    }

    now.at = first_due + timedelta(seconds=1)
    first = scheduler.tick()
    assert first["fired"] == 1 and sum(first.values()) == 2, first  # the party's row finds it moved on
    d = app.dispute(s.id)
    assert {r.id: r.status.value for r in d.evidence_requests} == {sooner: "expired", later: "open"}
    assert d.deadlines[Deadline.EVIDENCE_REQUEST_SELLER] == second_due

    now.at = second_due + timedelta(seconds=1)
    second = scheduler.tick()
    assert second["fired"] == 1 and sum(second.values()) == 2, second
    assert scheduler.tick() == {}
    assert types_after_opening(app, s.id)[version - 1 :] == [
        "EvidenceRequestLapsed",
        "EvidenceRequestExpired",
        "EvidenceRequestLapsed",
        "EvidenceRequestExpired",
    ]
    lapsed = [e for e in app.repository.event_store.get(s.id) if type(e).__name__ == "EvidenceRequestLapsed"]
    assert [(e.evidence_request_id, e.actor_role, e.due_at) for e in lapsed] == [
        (sooner, "system", first_due),
        (later, "system", second_due),
    ]
    assert not [k for k in app.dispute(s.id).deadlines if k.startswith("evidence_request")]
    # One metrics label for every request's own deadline, never one per request id.
    assert sample(metrics, "disputes_deadlines_fired_total", deadline="evidence_request") == 2
    assert sample(metrics, "disputes_deadlines_fired_total", deadline="evidence_request_seller") == 0


def test_an_answered_request_is_never_expired(app: DisputeApp, scheduler: Scheduler, now: Now) -> None:
    s = escalated_without_an_evidence_window(app, now)
    request_id = app.request_evidence(s.id, s.clock.ctx(AGENT), Role.BUYER, "photos", timedelta(hours=1)).created_id
    assert request_id is not None
    due = app.dispute(s.id).deadlines[request_deadline(request_id)]
    rows = due_rows(scheduler, due)
    sha, size = fake_file()
    app.submit_evidence(s.id, s.clock.ctx(BUYER), kind=EvidenceKind.PHOTO, description="here", sha256=sha,
                        size=size, media_type="image/png", blob_key=sha)  # fmt: skip
    now.at = due + timedelta(seconds=1)
    assert {scheduler.fire(r) for r in rows if r.deadline.startswith("evidence_request")} == {"cleared"}
    assert scheduler.tick() == {}
    assert [r.status.value for r in app.dispute(s.id).evidence_requests] == ["fulfilled"]
