"""Evidence requests in the service layer, on every store: the upload use case
answers the request it names (or refuses before the file is kept, recording
the refusal under an Idempotency-Key), and disputes with requests fulfilled,
expired and open load the same from snapshots as from their events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bootstrap import build_services
from domain.application import DisputeApp
from domain.dispute import Dispute
from domain.errors import DomainError, EvidenceRequestNotFound, EvidenceRequestNotOpen
from domain.values import Context, Deadline, EvidenceKind, EvidenceRequestStatus, Role
from service.commands import CommandRequest, Outcome
from service.hub import Services
from service.settings import Settings
from support.builders import AGENT, BUYER, SELLER, SYSTEM, Scenario, state_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = build_services(settings, settings.jwt_secret)
    yield services
    services.close()


def kept_files(settings: Settings) -> list[Path]:
    return sorted(p for p in Path(settings.blob_dir).rglob("*") if p.is_file())


def refusal_status(error: DomainError) -> int:
    return 404 if isinstance(error, EvidenceRequestNotFound) else 409


def submit(svc: Services, s: Scenario, actor: object, request_id: str | None, key: str | None = None) -> Outcome:
    ctx: Context = s.clock.ctx(actor, key)  # type: ignore[arg-type]
    request = CommandRequest(ctx, None, f"fp-{request_id}", "evidence", 201, refusal_status)
    upload = svc.blobs.receive(1_000_000)
    upload.write(PNG + uuid.uuid4().bytes)
    upload.complete = True
    return svc.evidence.submit(svc.commands, request, s.id, upload, EvidenceKind.PHOTO, "as asked", request_id)


def ask(app: DisputeApp, s: Scenario, party: Role, due_in: timedelta) -> str:
    created = app.request_evidence(s.id, s.clock.ctx(AGENT), party, "photos", due_in).created_id
    assert created is not None
    return created


def test_an_upload_answers_the_request_it_names(svc: Services, settings: Settings) -> None:
    s = Scenario(svc.app).open().seller_counters().buyer_escalates()
    first, second = ask(svc.app, s, Role.SELLER, timedelta(days=1)), ask(svc.app, s, Role.SELLER, timedelta(days=1))

    outcome = submit(svc, s, SELLER, second)

    assert outcome.how == "fresh" and outcome.created_id is not None
    assert len(kept_files(settings)) == 1
    requests = {r.id: r for r in svc.app.dispute(s.id).evidence_requests}
    assert requests[first].status is EvidenceRequestStatus.OPEN
    assert requests[second].status is EvidenceRequestStatus.FULFILLED
    assert requests[second].fulfilled_by == outcome.created_id


def test_a_request_the_upload_cannot_answer_is_refused_before_the_file_is_kept(
    svc: Services, settings: Settings
) -> None:
    s = Scenario(svc.app).open().seller_counters().buyer_escalates()
    to_buyer = ask(svc.app, s, Role.BUYER, timedelta(days=1))
    version = svc.app.dispute(s.id).version

    with pytest.raises(EvidenceRequestNotOpen):
        submit(svc, s, SELLER, to_buyer)
    with pytest.raises(EvidenceRequestNotFound):
        submit(svc, s, SELLER, str(uuid.uuid4()))

    assert kept_files(settings) == []
    assert svc.app.dispute(s.id).version == version


def test_under_an_idempotency_key_the_refusal_is_recorded_and_answered_again(
    svc: Services, settings: Settings
) -> None:
    s = Scenario(svc.app).open().seller_counters().buyer_escalates()
    unknown = str(uuid.uuid4())
    first = submit(svc, s, SELLER, unknown, key="answer-1")
    again = submit(svc, s, SELLER, unknown, key="answer-1")
    assert first.refusal is not None and again.refusal is not None
    assert (first.how, first.refusal.code, first.refusal.status) == ("refused", "evidence_request_not_found", 404)
    assert (again.how, again.refusal) == ("refused", first.refusal)
    assert kept_files(settings) == []


def test_disputes_with_requests_answered_expired_and_open_load_the_same_from_snapshots(
    app: DisputeApp,
) -> None:
    s = Scenario(app).open().seller_counters().buyer_escalates()
    answered = ask(app, s, Role.BUYER, timedelta(days=1))
    expiring = ask(app, s, Role.SELLER, timedelta(hours=1))
    still_open = ask(app, s, Role.SELLER, timedelta(days=2))
    sha = "0" * 64
    app.submit_evidence(s.id, s.clock.ctx(BUYER), kind=EvidenceKind.PHOTO, description="x", sha256=sha,
                        size=10, media_type="image/png", blob_key=sha)  # fmt: skip
    s.clock.now = app.dispute(s.id).deadlines[Deadline.EVIDENCE_REQUEST_SELLER]
    app.expire_deadline(s.id, s.clock.ctx(SYSTEM), Deadline.EVIDENCE_REQUEST_SELLER)
    app.extend_deadline(s.id, s.clock.ctx(AGENT), f"evidence_request:{still_open}", timedelta(hours=2), "more time")

    if app.repository.cache is not None:
        app.repository.cache.get(s.id, evict=True)
    loaded = app.repository.get(s.id)
    replayed = None
    for event in app.events.get(s.id):
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Dispute)
    assert state_of(loaded) == state_of(replayed)
    assert {r.id: r.status.value for r in loaded.evidence_requests} == {
        answered: "fulfilled",
        expiring: "expired",
        still_open: "open",
    }
