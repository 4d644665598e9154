"""Request limits (issue 11, item 4): 413 for bodies over the limit (declared or
counted while streamed), the evidence limit exact to the byte, 431 for header
blocks over the limit. All problem+json, nothing appended. Slow clients and
real streaming over a socket are tests/e2e/test_limits_live.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bootstrap import build_api
from service.settings import Settings
from support.api import PNG, Parties, head, opening

FILE_LIMIT = 4096


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    small = settings.model_copy(update={"max_body_bytes": 2048, "max_evidence_bytes": FILE_LIMIT})
    with TestClient(build_api(small)) as c:
        yield c


@pytest.fixture
def parties(client: TestClient) -> Parties:
    return Parties.on(client)



def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_json_body_over_the_limit_is_413_body_too_large(client: TestClient, parties: Parties) -> None:
    body = opening(parties.seller.id) | {"description": "x" * 3000}
    problem(parties.buyer.post("/v1/disputes", body), 413, "body_too_large")
    assert head(client) == 0
    ok = parties.buyer.post("/v1/disputes", opening(parties.seller.id) | {"description": "x" * 1500})
    assert ok.status_code == 201, ok.text


def test_a_streamed_body_without_content_length_is_counted(client: TestClient, parties: Parties) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"order_id": "o-1", "description": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    response = client.post(
        "/v1/disputes", content=chunks(), headers={**parties.buyer.headers, "Content-Type": "application/json"}
    )
    problem(response, 413, "body_too_large")
    assert head(client) == 0


def upload(parties: Parties, dispute_id: str, size: int) -> Any:
    return parties.buyer.upload(f"/v1/disputes/{dispute_id}/evidence", PNG + b"\x00" * (size - len(PNG)))


def test_an_evidence_file_of_exactly_the_limit_is_accepted_and_one_byte_more_is_413(
    client: TestClient, parties: Parties
) -> None:
    d = parties.open()
    accepted = upload(parties, d["id"], FILE_LIMIT)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["size"] == FILE_LIMIT
    before = head(client)
    problem(upload(parties, d["id"], FILE_LIMIT + 1), 413, "evidence_too_large")
    problem(upload(parties, d["id"], FILE_LIMIT + 70_000), 413, "evidence_too_large")  # past the multipart overhead
    assert head(client) == before


def test_headers_over_the_limit_are_431(client: TestClient, parties: Parties) -> None:
    cookie = {"Cookie": "c=" + "x" * (8 * 1024 * 1024)}
    problem(client.get("/healthz", headers=cookie), 431, "headers_too_large")
    problem(parties.buyer.post("/v1/disputes", opening(parties.seller.id), **cookie), 431, "headers_too_large")
    assert head(client) == 0
    assert client.get("/healthz", headers={"Cookie": "c=" + "x" * 8000}).status_code == 200


def test_every_operation_documents_413_and_431_and_every_authenticated_one_429(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = {"413", "431"} | ({"429"} if "security" in operation else set())
            missing += [f"{method.upper()} {path} {s}" for s in sorted(expected - set(operation["responses"]))]
            if "429" in operation["responses"]:
                headers = operation["responses"]["429"]["headers"]
                assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(headers), path
    assert missing == []
    assert document["paths"]["/healthz"]["get"]["responses"].keys() >= {"413", "431"}
