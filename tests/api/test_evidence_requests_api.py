"""Evidence requests through HTTP, on SQLite and Postgres: each request's id and
status in the dispute body and its own deadline, uploads that answer them
(the oldest, or the one a `request_id` form field names), refusals that keep
nothing (no event, no blob), and extensions by every deadline name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from service.settings import Settings
from support.api import PNG, Caller, Parties, evidence_files, ok
from support.stores import settings_for

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
UNKNOWN = "00000000-0000-5000-8000-000000000000"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for(backend, tmp_path, request, in_process_workers=True)  # the timeline follows


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_api(settings)) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)


def kept_files(settings: Settings) -> list[Path]:
    return sorted(p for p in Path(settings.blob_dir).rglob("*") if p.is_file())


def ask(parties: Parties, dispute: dict[str, Any], party: str, due_in: str) -> dict[str, Any]:
    body = {"party": party, "note": f"{party}, photos please", "due_in": due_in}
    return ok(parties.agent.post(f"/v1/disputes/{dispute['id']}/evidence-requests", body), 201)


def upload(caller: Caller, dispute: dict[str, Any], content: bytes = PNG, **form: str) -> Any:
    files = evidence_files(content)
    files["data"].update(form)
    return caller.client.post(f"/v1/disputes/{dispute['id']}/evidence", **files, headers=caller.headers)


def requests_by_id(parties: Parties, dispute: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in parties.read(dispute["id"])["evidence_requests"]}


def test_each_request_is_listed_with_its_own_deadline_and_the_party_deadline_is_the_earliest(
    parties: Parties,
) -> None:
    dispute = parties.in_status("under_review")
    later = ask(parties, dispute, "seller", "P3D")
    sooner = ask(parties, dispute, "seller", "P1D")
    assert later["status"] == sooner["status"] == "open"
    assert (later["fulfilled_by"], later["expired_at"], later["cancelled_at"]) == (None, None, None)

    body = parties.read(dispute["id"])
    assert [r["id"] for r in body["evidence_requests"]] == [later["id"], sooner["id"]]
    deadlines = body["deadlines"]
    assert deadlines[f"evidence_request:{later['id']}"] == later["due_at"]
    assert deadlines[f"evidence_request:{sooner['id']}"] == sooner["due_at"]
    assert deadlines["evidence_request_seller"] == sooner["due_at"] != later["due_at"]
    for caller in (parties.buyer, parties.seller):  # as every agent action: both parties see the requests
        assert len(ok(caller.get(f"/v1/disputes/{dispute['id']}"), 200)["evidence_requests"]) == 2


def test_an_upload_answers_the_oldest_open_request_or_the_one_it_names(parties: Parties) -> None:
    dispute = parties.in_status("under_review")
    first = ask(parties, dispute, "seller", "P2D")
    second = ask(parties, dispute, "seller", "P2D")
    third = ask(parties, dispute, "seller", "P2D")

    named = ok(upload(parties.seller, dispute, request_id=third["id"]), 201)
    last = upload(parties.seller, dispute)
    oldest = ok(last, 201)

    requests = requests_by_id(parties, dispute)
    assert [requests[r["id"]]["status"] for r in (first, second, third)] == ["fulfilled", "open", "fulfilled"]
    assert requests[first["id"]]["fulfilled_by"] == oldest["id"]
    assert requests[third["id"]]["fulfilled_by"] == named["id"]
    assert requests[third["id"]]["fulfilled_at"] == named["submitted_at"]
    deadlines = parties.read(dispute["id"])["deadlines"]
    assert f"evidence_request:{first['id']}" not in deadlines and f"evidence_request:{third['id']}" not in deadlines
    assert deadlines["evidence_request_seller"] == second["due_at"]

    after_last = {"X-Min-Position": last.headers["X-Position"]}
    timeline = ok(parties.agent.get(f"/v1/disputes/{dispute['id']}/timeline", **after_last), 200)
    entries = [e for e in timeline["items"] if e["type"] == "EvidenceRequestFulfilled"]
    assert [(e["data"]["evidence_request_id"], e["data"]["evidence_id"]) for e in entries] == [
        (third["id"], named["id"]),
        (first["id"], oldest["id"]),
    ]
    assert all("answered the evidence request" in e["summary"] for e in entries)


@pytest.mark.parametrize(
    ("named", "status", "code"),
    [
        ("unknown", 404, "evidence_request_not_found"),
        ("to_buyer", 409, "evidence_request_not_open"),
        ("answered", 409, "evidence_request_not_open"),
        ("not-a-uuid", 422, "validation_error"),
    ],
)
def test_an_upload_naming_a_request_it_cannot_answer_keeps_nothing(
    parties: Parties, settings: Settings, named: str, status: int, code: str
) -> None:
    dispute = parties.in_status("under_review")
    ids = {
        "answered": ask(parties, dispute, "seller", "P1D")["id"],
        "to_buyer": ask(parties, dispute, "buyer", "P1D")["id"],
        "unknown": UNKNOWN,
        "not-a-uuid": "not-a-uuid",
    }
    ok(upload(parties.seller, dispute, request_id=ids["answered"]), 201)
    before, files = parties.read(dispute["id"]), kept_files(settings)

    response = upload(parties.seller, dispute, PNG + b"never kept", request_id=ids[named])

    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.headers["content-type"] == "application/problem+json"
    after = parties.read(dispute["id"])
    assert (after["version"], len(after["evidence"])) == (before["version"], len(before["evidence"]))
    assert kept_files(settings) == files, "the refused file is not kept"


def test_a_refused_request_id_under_an_idempotency_key_is_answered_again_the_same(
    parties: Parties, settings: Settings
) -> None:
    dispute = parties.in_status("under_review")
    files = kept_files(settings)
    headers = {**parties.seller.headers, "Idempotency-Key": "answer-1"}
    form = evidence_files(PNG + b"also never kept")
    form["data"]["request_id"] = UNKNOWN
    answers = [
        parties.seller.client.post(f"/v1/disputes/{dispute['id']}/evidence", **form, headers=headers) for _ in range(2)
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "evidence_request_not_found")] * 2
    assert kept_files(settings) == files


def test_every_evidence_request_deadline_name_can_be_extended(parties: Parties) -> None:
    dispute = parties.in_status("under_review")
    request = ask(parties, dispute, "seller", "PT1H")
    other = ask(parties, dispute, "seller", "PT2H")
    path = f"/v1/disputes/{dispute['id']}/deadline-extensions"

    own = f"evidence_request:{request['id']}"
    moved = ok(parties.agent.post(path, {"deadline": own, "extend_by": "PT3H", "reason": "courier"}), 200)
    assert moved["deadlines"][own] > moved["deadlines"][f"evidence_request:{other['id']}"]
    assert moved["deadlines"]["evidence_request_seller"] == other["due_at"]
    mine = next(r for r in moved["evidence_requests"] if r["id"] == request["id"])
    assert mine["due_at"] == moved["deadlines"][own]

    party = {"deadline": "evidence_request_seller", "extend_by": "P1D", "reason": "holiday"}
    both = ok(parties.agent.post(path, party), 200)
    assert both["deadlines"]["evidence_request_seller"] == both["deadlines"][f"evidence_request:{other['id']}"]
    assert both["deadlines"]["evidence_request_seller"] > moved["deadlines"][own]

    closed = f"evidence_request:{UNKNOWN}"
    refused = parties.agent.post(path, {"deadline": closed, "extend_by": "PT1H", "reason": "x"})
    assert (refused.status_code, refused.json()["code"]) == (409, "deadline_not_open")
    malformed = parties.agent.post(path, {"deadline": "evidence_request:42", "extend_by": "PT1H", "reason": "x"})
    assert (malformed.status_code, malformed.json()["code"]) == (422, "validation_error")


def test_a_ruling_cancels_the_open_requests(parties: Parties) -> None:
    dispute = parties.in_status("under_review")
    request = ask(parties, dispute, "buyer", "P1D")
    ruling = {"outcome": "no_refund", "seller_at_fault": False, "rationale": "no photos"}
    resolved = parties.act(parties.agent, dispute, "ruling", ruling)
    [cancelled] = resolved["evidence_requests"]
    assert (cancelled["id"], cancelled["status"], cancelled["cancelled_at"]) == (
        request["id"],
        "cancelled",
        resolved["closed_at"],
    )


def test_the_openapi_document_describes_the_form_field_the_fields_and_the_codes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    upload_op = document["paths"]["/v1/disputes/{dispute_id}/evidence"]["post"]
    form = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["request_id"]["format"] == "uuid"
    codes = {code for response in upload_op["responses"].values() for code in response.get("x-error-codes", [])}
    assert {"evidence_request_not_found", "evidence_request_not_open"} <= codes
    schemas = document["components"]["schemas"]
    request_out = schemas["EvidenceRequestOut"]["properties"]
    assert {"status", "fulfilled_by", "fulfilled_at", "expired_at", "cancelled_at"} <= set(request_out)
    assert "EvidenceRequestStatus" in schemas or "enum" in str(request_out["status"])
    assert "evidence_request:" in str(schemas["DeadlineExtensionIn"]["properties"]["deadline"])
