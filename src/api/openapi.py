"""The OpenAPI document, finished for generated clients and stateful fuzzers:
the problem schema, an example beside every JSON body, each operation's error
codes in one `x-error-codes` map, headers as the strings they are, optional
bodies that are objects when sent, and links from what a command creates to
the operations that use it (a dispute's id, an offer's, an evidence file's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.examples import BY_MODEL
from api.problems import PROBLEM_JSON, Problem

JSON = "application/json"
Operation = dict[str, Any]


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    for name, documents in BY_MODEL.items():
        if name in schemas:
            schemas[name]["examples"] = documents
    for _, _, operation in operations(schema):
        show_examples(operation, schemas)
        collect_error_codes(operation)
        header_schemas(operation)
        object_for_optional_body(operation)
    add_links(schema)
    return schema


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, Operation]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def show_examples(operation: Operation, schemas: dict[str, Any]) -> None:
    """Copy each JSON body's model example beside it, where clients and
    documentation viewers look for one."""
    bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
    for body in bodies:
        media = body.get("content", {}).get(JSON)
        if media is None or "example" in media or "examples" in media:
            continue
        schema = media.get("schema", {})
        refs = [schema.get("$ref", "")] + [s.get("$ref", "") for s in schema.get("anyOf", [])]  # optional bodies
        found = next((schemas[r.rsplit("/", 1)[-1]].get("examples") for r in refs if r), None)
        if found:
            media["example"] = found[0]


KEY = "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"  # printable ASCII, no space at either end
HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "x-min-position": {"type": "string", "pattern": "^[0-9]{1,19}$"},
    "if-match": {"type": "string", "pattern": '^[*]$|^(W/)?"?[0-9]{1,18}"?$'},
    "idempotency-key": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY},
}
"""Headers as what they are on the wire: strings, an integer one (X-Min-Position)
as decimal digits, so a generated client sends a string; the ETag and key
forms the API reads are described (it still answers an odd one with its own
code: invalid_if_match, invalid_idempotency_key)."""


def header_schemas(operation: Operation) -> None:
    for parameter in operation.get("parameters", []):
        documented = HEADER_SCHEMAS.get(parameter["name"].lower())
        if parameter["in"] == "header" and documented:
            parameter["schema"] = {**documented, "title": parameter["schema"].get("title", parameter["name"])}


def object_for_optional_body(operation: Operation) -> None:
    """An optional body (accept, escalate, withdraw) is documented as the object
    it is when sent; omitting it is what `required: false` says."""
    body = operation.get("requestBody")
    if body is None or body.get("required"):
        return
    media = body["content"][JSON]
    options = [s for s in media["schema"].get("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        media["schema"] = options[0]


def collect_error_codes(operation: Operation) -> None:
    """`x-error-codes`: status -> the problem codes this operation can answer with."""
    codes = {
        status: response["x-error-codes"]
        for status, response in operation["responses"].items()
        if PROBLEM_JSON in response.get("content", {}) and "x-error-codes" in response
    }
    if codes:
        operation["x-error-codes"] = codes


def add_links(schema: dict[str, Any]) -> None:
    by_id = {op["operationId"]: (path, op) for path, _, op in operations(schema)}
    in_a_dispute = [
        op_id
        for op_id, (path, _) in by_id.items()
        if path.startswith("/v1/disputes/{dispute_id}") and path.count("{") == 1
    ]
    offer_ops = [op_id for op_id, (path, _) in by_id.items() if "{offer_id}" in path]
    evidence_ops = [op_id for op_id, (path, _) in by_id.items() if "{evidence_id}" in path]
    for source, (_, op) in by_id.items():
        created = op["responses"].get("201") or op["responses"].get("200") or {}
        returned = created.get("content", {}).get(JSON, {}).get("schema", {}).get("$ref", "")
        links: dict[str, Any] = {}
        if returned.endswith("/DisputeOut") and "requestBody" in op:
            # A command that answers with the dispute: its id leads to every operation on it.
            links |= {target: link(target, dispute_id="$response.body#/id") for target in in_a_dispute}
        if source == "open_dispute":
            # ...and the buyer's opening request is the pending offer.
            links |= {
                target: link(target, dispute_id="$response.body#/id", offer_id="$response.body#/pending_offer/id")
                for target in offer_ops
            }
        if source == "propose_offer":
            links |= {
                target: link(target, dispute_id="$request.path.dispute_id", offer_id="$response.body#/id")
                for target in offer_ops
            }
        if source == "submit_evidence":
            links |= {
                target: link(target, dispute_id="$request.path.dispute_id", evidence_id="$response.body#/id")
                for target in evidence_ops
            }
        if links:
            created["links"] = links


def link(target: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": target, "parameters": parameters}
