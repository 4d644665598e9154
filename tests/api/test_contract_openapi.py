"""Contract checks: /openapi.json against shared/spec/api.md ("must describe all of it,
including error responses, so that a generated client and a schema-driven fuzzer
work from it")."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_evidence_download_documents_x_min_position_and_503(contract_client: TestClient) -> None:
    """Every read, the evidence download included, documents X-Min-Position and its 503."""
    op = contract_client.get("/openapi.json").json()["paths"][
        "/v1/disputes/{dispute_id}/evidence/{evidence_id}/content"
    ]["get"]
    names = {p["name"].lower() for p in op.get("parameters", [])}
    assert "x-min-position" in names
    assert "503" in op["responses"]


def test_state_documents_etag(contract_client: TestClient) -> None:
    """Every dispute response has an ETag, the state-as-of read included."""
    op = contract_client.get("/openapi.json").json()["paths"]["/v1/disputes/{dispute_id}/state"]["get"]
    assert "ETag" in op["responses"]["200"].get("headers", {})


def test_503_responses_document_retry_after(contract_client: TestClient) -> None:
    """The contract's 503 carries `Retry-After`, and every documented 503 says so."""
    paths = contract_client.get("/openapi.json").json()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, ops in paths.items()
        for method, op in ops.items()
        if "503" in op["responses"]
        and path != "/readyz"
        and "Retry-After" not in op["responses"]["503"].get("headers", {})
    ]
    assert missing == []
