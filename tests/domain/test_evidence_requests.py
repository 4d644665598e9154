"""Evidence requests, one by one: each its own id, due time, deadline and status;
an upload fulfils the oldest open one (or the one it names); each expires with
its own event; each party's deadline is the earliest of its open requests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain import events as ev
from domain.application import DisputeApp
from domain.deadline_names import request_deadline
from domain.decisions import child_id
from domain.errors import (
    DeadlineNotDue,
    DeadlineNotOpen,
    EvidenceNotAccepted,
    EvidenceRequestNotFound,
    EvidenceRequestNotOpen,
)
from domain.values import Deadline, EvidenceKind, EvidenceRequestStatus, Outcome, Role, Status
from support.builders import AGENT, BUYER, SELLER, SYSTEM, Scenario, fake_file, scenario_in, usd
from support.domain_app import in_memory_app

SELLER_DEADLINE = Deadline.EVIDENCE_REQUEST_SELLER
OPEN, FULFILLED, EXPIRED, CANCELLED = (
    EvidenceRequestStatus.OPEN,
    EvidenceRequestStatus.FULFILLED,
    EvidenceRequestStatus.EXPIRED,
    EvidenceRequestStatus.CANCELLED,
)


@pytest.fixture
def app() -> DisputeApp:
    return in_memory_app()


@pytest.fixture
def review(app: DisputeApp) -> Scenario:
    """Under review, the parties' own evidence window closed: only requests let them upload."""
    s = scenario_in(app, Status.UNDER_REVIEW)
    window = app.dispute(s.id).deadlines[Deadline.EVIDENCE]
    s.clock.now = window + timedelta(minutes=1)
    app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.EVIDENCE)
    return s


def ask(app: DisputeApp, s: Scenario, party: Role, due_in: timedelta, note: str = "photos") -> str:
    result = app.request_evidence(s.id, s.clock.ctx(AGENT), party, note, due_in)
    assert result.created_id is not None
    return result.created_id


def upload(app: DisputeApp, s: Scenario, actor: object = SELLER, request_id: str | None = None) -> str:
    sha, size = fake_file()
    result = app.submit_evidence(
        s.id,
        s.clock.ctx(actor),  # type: ignore[arg-type]
        kind=EvidenceKind.PHOTO,
        description="as asked",
        sha256=sha,
        size=size,
        media_type="image/png",
        blob_key=sha,
        request_id=request_id,
    )
    assert result.created_id is not None
    return result.created_id


def types_since(app: DisputeApp, s: Scenario, version: int) -> list[str]:
    return [type(e).__name__ for e in app.events.get(s.id, gt=version)]


def statuses(app: DisputeApp, s: Scenario) -> dict[str, EvidenceRequestStatus]:
    return {r.id: r.status for r in app.dispute(s.id).evidence_requests}


def test_two_requests_keep_their_own_due_times_and_the_party_deadline_is_the_earliest(
    app: DisputeApp, review: Scenario
) -> None:
    later = ask(app, review, Role.SELLER, timedelta(days=3))
    sooner = ask(app, review, Role.SELLER, timedelta(days=1))
    d = app.dispute(review.id)
    due = {r.id: r.due_at for r in d.evidence_requests}
    assert later != sooner and due[later] - due[sooner] > timedelta(days=1, hours=23)
    assert d.deadlines[request_deadline(later)] == due[later]
    assert d.deadlines[request_deadline(sooner)] == due[sooner]
    assert d.deadlines[SELLER_DEADLINE] == due[sooner]
    assert Deadline.EVIDENCE_REQUEST_BUYER not in d.deadlines
    assert statuses(app, review) == {later: OPEN, sooner: OPEN}


def test_a_request_id_is_derived_from_the_dispute_and_its_version(app: DisputeApp, review: Scenario) -> None:
    version = app.dispute(review.id).version
    request_id = ask(app, review, Role.BUYER, timedelta(days=1))
    assert request_id == child_id(review.id, "evidence_request", version + 1)


def test_an_upload_fulfils_the_oldest_open_request_addressed_to_the_uploader(app: DisputeApp, review: Scenario) -> None:
    oldest = ask(app, review, Role.SELLER, timedelta(days=3))
    newer = ask(app, review, Role.SELLER, timedelta(days=1))
    to_buyer = ask(app, review, Role.BUYER, timedelta(days=1))
    version = app.dispute(review.id).version

    evidence_id = upload(app, review)

    assert types_since(app, review, version) == ["EvidenceSubmitted", "EvidenceRequestFulfilled"]
    fulfilled = list(app.events.get(review.id))[-1]
    assert isinstance(fulfilled, ev.EvidenceRequestFulfilled)
    assert (fulfilled.evidence_request_id, fulfilled.evidence_id, fulfilled.party) == (oldest, evidence_id, "seller")
    d = app.dispute(review.id)
    assert statuses(app, review) == {oldest: FULFILLED, newer: OPEN, to_buyer: OPEN}
    [answered] = [r for r in d.evidence_requests if r.id == oldest]
    assert (answered.fulfilled_by, answered.fulfilled_at) == (evidence_id, fulfilled.timestamp)
    assert request_deadline(oldest) not in d.deadlines
    assert d.deadlines[SELLER_DEADLINE] == d.deadlines[request_deadline(newer)]


def test_an_upload_names_the_request_it_answers(app: DisputeApp, review: Scenario) -> None:
    first = ask(app, review, Role.SELLER, timedelta(days=1))
    second = ask(app, review, Role.SELLER, timedelta(days=2))
    evidence_id = upload(app, review, request_id=second)
    assert statuses(app, review) == {first: OPEN, second: FULFILLED}
    assert next(r for r in app.dispute(review.id).evidence_requests if r.id == second).fulfilled_by == evidence_id


def test_the_last_open_request_answered_closes_the_party_deadline_and_the_window(
    app: DisputeApp, review: Scenario
) -> None:
    ask(app, review, Role.SELLER, timedelta(days=1))
    upload(app, review)
    d = app.dispute(review.id)
    assert SELLER_DEADLINE not in d.deadlines and not [k for k in d.deadlines if k.startswith("evidence_request")]
    with pytest.raises(EvidenceNotAccepted):
        upload(app, review)


@pytest.mark.parametrize(
    ("who", "named", "error"),
    [
        (SELLER, "unknown", EvidenceRequestNotFound),
        (SELLER, "to_buyer", EvidenceRequestNotOpen),
        (SELLER, "answered", EvidenceRequestNotOpen),
        (AGENT, "open", EvidenceRequestNotOpen),
    ],
)
def test_an_upload_naming_a_request_it_cannot_answer_is_refused_and_records_nothing(
    app: DisputeApp, review: Scenario, who: object, named: str, error: type[Exception]
) -> None:
    ids = {
        "answered": ask(app, review, Role.SELLER, timedelta(days=1)),
        "open": ask(app, review, Role.SELLER, timedelta(days=2)),
        "to_buyer": ask(app, review, Role.BUYER, timedelta(days=1)),
        "unknown": "00000000-0000-5000-8000-000000000000",
    }
    upload(app, review, request_id=ids["answered"])
    before = app.dispute(review.id)
    with pytest.raises(error):
        upload(app, review, who, request_id=ids[named])
    after = app.dispute(review.id)
    assert (after.version, len(after.evidence)) == (before.version, len(before.evidence))


def test_a_request_past_its_due_time_is_not_answered_even_before_its_expiry_is_recorded(
    app: DisputeApp, review: Scenario
) -> None:
    request_id = ask(app, review, Role.SELLER, timedelta(hours=1))
    review.clock.now += timedelta(hours=1)
    with pytest.raises(EvidenceRequestNotOpen):
        upload(app, review, request_id=request_id)
    with pytest.raises(EvidenceNotAccepted):
        upload(app, review)


def test_an_agents_upload_fulfils_nothing(app: DisputeApp, review: Scenario) -> None:
    request_id = ask(app, review, Role.SELLER, timedelta(days=1))
    version = app.dispute(review.id).version
    upload(app, review, AGENT)
    assert types_since(app, review, version) == ["EvidenceSubmitted"]
    assert statuses(app, review) == {request_id: OPEN}


def due_of(app: DisputeApp, s: Scenario, name: str) -> datetime:
    return app.dispute(s.id).deadlines[name]


def test_one_request_expires_with_its_own_event_while_the_other_stays_open(
    app: DisputeApp, review: Scenario
) -> None:
    sooner = ask(app, review, Role.SELLER, timedelta(hours=1))
    later = ask(app, review, Role.SELLER, timedelta(hours=5))
    due = due_of(app, review, request_deadline(sooner))
    version = app.dispute(review.id).version
    review.clock.now = due - 2 * review.clock.step  # ctx() steps the clock once: just before the due time
    with pytest.raises(DeadlineNotDue):
        app.expire_deadline(review.id, review.clock.ctx(SYSTEM), request_deadline(sooner))
    review.clock.now = due - review.clock.step  # exactly at it

    app.expire_deadline(review.id, review.clock.ctx(SYSTEM), request_deadline(sooner))

    assert types_since(app, review, version) == ["EvidenceRequestLapsed", "EvidenceRequestExpired"]
    lapsed, expired = list(app.events.get(review.id, gt=version))
    assert isinstance(lapsed, ev.EvidenceRequestLapsed) and isinstance(expired, ev.EvidenceRequestExpired)
    assert (lapsed.deadline, lapsed.evidence_request_id, lapsed.due_at) == (request_deadline(sooner), sooner, due)
    assert (expired.deadline, expired.due_at) == (SELLER_DEADLINE, due)
    d = app.dispute(review.id)
    assert statuses(app, review) == {sooner: EXPIRED, later: OPEN}
    assert next(r for r in d.evidence_requests if r.id == sooner).expired_at == lapsed.timestamp
    assert request_deadline(sooner) not in d.deadlines
    assert d.deadlines[SELLER_DEADLINE] == d.deadlines[request_deadline(later)]
    with pytest.raises(DeadlineNotOpen):  # the scheduler's other row for the same time finds nothing left
        app.expire_deadline(review.id, review.clock.ctx(SYSTEM), request_deadline(sooner))
    with pytest.raises(DeadlineNotDue):  # the party's deadline moved on to the later request
        app.expire_deadline(review.id, review.clock.ctx(SYSTEM), SELLER_DEADLINE)
    upload(app, review)
    assert statuses(app, review) == {sooner: EXPIRED, later: FULFILLED}


def test_expiring_the_party_deadline_expires_its_due_requests_each_with_its_own_event(
    app: DisputeApp, review: Scenario
) -> None:
    first = ask(app, review, Role.BUYER, timedelta(hours=1))
    second = ask(app, review, Role.BUYER, timedelta(hours=2))
    version = app.dispute(review.id).version
    review.clock.now += timedelta(hours=3)

    app.expire_deadline(review.id, review.clock.ctx(SYSTEM), Deadline.EVIDENCE_REQUEST_BUYER)

    assert types_since(app, review, version) == [
        "EvidenceRequestLapsed",
        "EvidenceRequestLapsed",
        "EvidenceRequestExpired",
    ]
    lapsed = [e for e in app.events.get(review.id, gt=version) if isinstance(e, ev.EvidenceRequestLapsed)]
    assert [e.evidence_request_id for e in lapsed] == [first, second]
    assert statuses(app, review) == {first: EXPIRED, second: EXPIRED}
    assert not [k for k in app.dispute(review.id).deadlines if k.startswith("evidence_request")]


def test_extending_a_requests_own_deadline_moves_that_request_and_its_party_deadline(
    app: DisputeApp, review: Scenario
) -> None:
    sooner = ask(app, review, Role.SELLER, timedelta(hours=1))
    later = ask(app, review, Role.SELLER, timedelta(hours=5))
    before = app.dispute(review.id)
    old_sooner, old_later = before.deadlines[request_deadline(sooner)], before.deadlines[request_deadline(later)]

    app.extend_deadline(review.id, review.clock.ctx(AGENT), request_deadline(sooner), timedelta(hours=6), "strike")

    d = app.dispute(review.id)
    extended = list(app.events.get(review.id))[-1]
    assert isinstance(extended, ev.DeadlineExtended)
    assert (extended.deadline, extended.previous_due_at) == (request_deadline(sooner), old_sooner)
    assert d.deadlines[request_deadline(sooner)] == old_sooner + timedelta(hours=6)
    assert next(r for r in d.evidence_requests if r.id == sooner).due_at == old_sooner + timedelta(hours=6)
    assert d.deadlines[request_deadline(later)] == old_later
    assert d.deadlines[SELLER_DEADLINE] == old_later, "the earliest open request is now the other one"


def test_extending_the_party_deadline_moves_every_open_request_of_that_party(
    app: DisputeApp, review: Scenario
) -> None:
    first = ask(app, review, Role.SELLER, timedelta(hours=1))
    second = ask(app, review, Role.SELLER, timedelta(hours=5))
    to_buyer = ask(app, review, Role.BUYER, timedelta(hours=1))
    before = app.dispute(review.id).deadlines

    app.extend_deadline(review.id, review.clock.ctx(AGENT), SELLER_DEADLINE, timedelta(days=1), "holiday")

    after = app.dispute(review.id).deadlines
    for request_id in (first, second):
        assert after[request_deadline(request_id)] == before[request_deadline(request_id)] + timedelta(days=1)
    assert after[SELLER_DEADLINE] == before[SELLER_DEADLINE] + timedelta(days=1)
    assert after[request_deadline(to_buyer)] == before[request_deadline(to_buyer)]
    assert after[Deadline.EVIDENCE_REQUEST_BUYER] == before[Deadline.EVIDENCE_REQUEST_BUYER]


def test_an_extension_reopens_a_request_whose_due_time_passed(app: DisputeApp, review: Scenario) -> None:
    request_id = ask(app, review, Role.SELLER, timedelta(hours=1))
    review.clock.now += timedelta(hours=2)
    app.extend_deadline(review.id, review.clock.ctx(AGENT), request_deadline(request_id), timedelta(days=1), "late")
    upload(app, review)
    assert statuses(app, review) == {request_id: FULFILLED}


def test_extending_a_closed_requests_deadline_is_refused(app: DisputeApp, review: Scenario) -> None:
    request_id = ask(app, review, Role.SELLER, timedelta(hours=1))
    upload(app, review)
    with pytest.raises(DeadlineNotOpen):
        app.extend_deadline(review.id, review.clock.ctx(AGENT), request_deadline(request_id), timedelta(hours=1), "x")


def test_a_ruling_cancels_the_requests_still_open(app: DisputeApp, review: Scenario) -> None:
    answered = ask(app, review, Role.SELLER, timedelta(days=1))
    pending = ask(app, review, Role.BUYER, timedelta(days=1))
    upload(app, review)
    ruling = app.issue_ruling(review.id, review.clock.ctx(AGENT), Outcome.REFUND_FULL, usd(2000), True, "clear")
    d = ruling.dispute
    assert statuses(app, review) == {answered: FULFILLED, pending: CANCELLED}
    assert next(r for r in d.evidence_requests if r.id == pending).cancelled_at == d.closed_at
    assert set(d.deadlines) == {Deadline.APPEAL_WINDOW}  # a ruling's one deadline: no request's is left


def test_a_second_request_no_longer_keeps_the_first_ones_due_time(app: DisputeApp, review: Scenario) -> None:
    ask(app, review, Role.BUYER, timedelta(days=5))
    short = ask(app, review, Role.BUYER, timedelta(hours=1))
    d = app.dispute(review.id)
    assert d.deadlines[Deadline.EVIDENCE_REQUEST_BUYER] == d.deadlines[request_deadline(short)]
    assert next(r for r in d.evidence_requests if r.id == short).due_at == d.deadlines[request_deadline(short)]


def test_a_buyer_request_is_answered_by_the_buyer_only(app: DisputeApp, review: Scenario) -> None:
    request_id = ask(app, review, Role.BUYER, timedelta(days=1))
    with pytest.raises(EvidenceNotAccepted):
        upload(app, review, SELLER)
    upload(app, review, BUYER)
    assert statuses(app, review) == {request_id: FULFILLED}
