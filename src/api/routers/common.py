"""Shared pieces of the routers: typed ids, headers, and the OpenAPI entries
for the error codes each operation can answer with."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import Header, Path

from api import examples as ex
from api.problems import PROBLEM_JSON, RATE_LIMIT_FIELDS, RETRY_AFTER, TITLES, problem_body

COMMAND_HEADERS = {
    "ETag": {"description": 'the dispute\'s version after the command, e.g. "4"', "schema": {"type": "string"}},
    "X-Position": {"description": "global position of the command's last event", "schema": {"type": "integer"}},
    **RATE_LIMIT_FIELDS,
}
CREATED_HEADERS = {
    **COMMAND_HEADERS,
    "Location": {"description": "the dispute, or an evidence file's download URL", "schema": {"type": "string"}},
}
READ_HEADERS = {"ETag": COMMAND_HEADERS["ETag"], **RATE_LIMIT_FIELDS}

DisputeId = Annotated[UUID, Path(description="the dispute's id", examples=[ex.DISPUTE_ID])]
OfferId = Annotated[UUID, Path(description="an offer's id (`offers[].id`)", examples=[ex.COUNTER_ID])]
EvidenceId = Annotated[UUID, Path(description="an evidence file's id (`evidence[].id`)", examples=[ex.EVIDENCE_ID])]

IF_MATCH_DOC = 'Optional ETag of the version the command expects, e.g. "3"; 412 when stale'
IDEMPOTENCY_DOC = "Optional key (<= 255 chars): a repeat with the same body returns the original response"
IfMatch = Annotated[str | None, Header(description=IF_MATCH_DOC)]
IdempotencyKey = Annotated[str | None, Header(description=IDEMPOTENCY_DOC)]
MinPosition = Annotated[
    int | None,
    Header(
        ge=0,
        description="serve once the read source has processed this position (waits <= 2 s, then 503); "
        "a position never issued is 422 position_unknown",
    ),
]

# Every code the API answers with, its status, and an example detail.
CODES: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "a bearer token is required"),
    "role_not_allowed": (403, "a seller may not withdraw a dispute"),
    "not_party": (404, "no such dispute"),
    "dispute_not_found": (404, "no such dispute"),
    "offer_not_found": (404, "no such offer in this dispute"),
    "evidence_not_found": (404, "no such evidence in this dispute"),
    "evidence_request_not_found": (404, "no evidence request 5b0c3f9e-8d1e-5a57-9a4c-0f1e2d3c4b5a in this dispute"),
    "version_not_found": (404, "the dispute has no version 9"),
    "webhook_not_found": (404, "no webhook with this id is yours"),
    "leaf_not_found": (404, "the log has no leaf for position 9156"),
    "order_not_found": (404, "no order order-1001"),
    "order_unknown": (404, "order order-1001 is not registered"),
    "invalid_transition": (409, "the dispute is under_review; offers are closed"),
    "dispute_exists": (409, "order order-1001 already has a dispute"),
    "evidence_window_closed": (409, "the evidence window is closed"),
    "evidence_request_not_open": (409, "evidence request 5b0c3f9e-8d1e-5a57-9a4c-0f1e2d3c4b5a is fulfilled"),
    "deadline_not_open": (409, "the deadline return_receipt is not open"),
    "same_agent": (409, "the agent who issued the ruling may not decide its appeal"),
    "claimed_by_another_agent": (409, "agent agent-7 handles this dispute; claim with force and a reason"),
    "not_claimant": (409, "you do not handle this dispute"),
    "concurrent_modification": (409, "the dispute kept changing; retry"),
    "protection_expired": (409, "the buyer protection of order order-1001 ended at 2026-04-26T10:30:00+00:00"),
    "version_conflict": (412, "the dispute is at version 5, not 4"),
    "body_too_large": (413, "the request body is larger than 1048576 bytes"),
    "evidence_too_large": (413, "a file may be at most 10000000 bytes"),
    "evidence_quota_exceeded": (413, "the party's evidence quota for this dispute is used up"),
    "unsupported_media_type": (415, "the file is not JPEG, PNG, WEBP, GIF, MP4 or PDF"),
    "multipart_required": (415, "upload evidence as multipart/form-data"),
    "validation_error": (422, "the request is not valid"),
    "invalid_value": (422, "the seller cannot be the buyer"),
    "refund_exceeds_order": (422, "the refund exceeds the order amount"),
    "currency_mismatch": (422, "refund is in EUR, the order in USD"),
    "refund_required": (422, "a partial_refund offer needs a refund amount"),
    "outcome_required": (422, "an overturned ruling needs the new outcome and seller_at_fault"),
    "text_too_long": (422, "note is longer than 2000 characters"),
    "order_mismatch": (422, "seller_id is not the seller of order order-1001"),
    "invalid_if_match": (422, 'If-Match must be an ETag like "3"'),
    "invalid_idempotency_key": (422, "Idempotency-Key must be 1 to 255 printable characters"),
    "idempotency_mismatch": (422, "this Idempotency-Key was used with another request"),
    "invalid_cursor": (422, "the cursor is not one this API issued"),
    "unknown_parameter": (422, "unknown query parameter(s): stauts"),
    "upload_incomplete": (422, "the multipart body ended before its closing boundary"),
    "position_unknown": (422, "position 9156 has never been issued"),
    "tree_size_unknown": (422, "tree size 120 is above the latest checkpoint's (100)"),
    "leaf_not_in_tree": (422, "position 130 is leaf 129, not in the first 100 leaves"),
    "unsafe_url": (422, "webhook URLs may not point at loopback, private or link-local addresses"),
    "rate_limited": (429, "too many commands; retry after the time in Retry-After"),
    "headers_too_large": (431, "the request headers are larger than 16384 bytes"),
    "integrity_error": (500, "the stored file does not match its recorded sha256"),
    "not_caught_up": (503, "the event store has processed position 11, not yet 12; retry shortly"),
    "unavailable": (503, "the database is unavailable; retry shortly"),
}
HEADERS_FOR = {
    401: {"WWW-Authenticate": {"description": 'always `Bearer realm="disputes"`', "schema": {"type": "string"}}},
    429: {**RETRY_AFTER, **RATE_LIMIT_FIELDS},
    503: RETRY_AFTER,
}

SIZE_LIMITS = ("body_too_large", "headers_too_large")
"""What any request at all can meet (api.limits)."""
AUTHENTICATED = ("unauthorized", "validation_error", *SIZE_LIMITS, "rate_limited", "unavailable")
IN_A_DISPUTE = ("not_party", "dispute_not_found")
COMMAND = (
    *AUTHENTICATED,
    *IN_A_DISPUTE,
    "role_not_allowed",
    "invalid_transition",
    "concurrent_modification",
    "version_conflict",
    "invalid_value",
    "text_too_long",
    "invalid_if_match",
    "invalid_idempotency_key",
    "idempotency_mismatch",
)
MONEY = ("invalid_value", "refund_exceeds_order", "currency_mismatch", "refund_required")
READ = (*AUTHENTICATED, "not_caught_up", "position_unknown")
DISPUTE_READ = (*READ, *IN_A_DISPUTE)
LISTED = (*READ, "unknown_parameter")
"""A read through api.listing's gate: an unknown query parameter is refused."""
LIST = (*LISTED, "invalid_cursor")


def problem_docs(*codes: str) -> dict[int | str, dict[str, Any]]:
    """One problem+json response per status the codes give, naming its codes
    (in the description and `x-error-codes`) with an example of each."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in dict.fromkeys(codes):
        by_status[CODES[code][0]].append(code)
    docs: dict[int | str, dict[str, Any]] = {}
    for status, named in sorted(by_status.items()):
        examples = {code: {"value": problem_body(status, code, CODES[code][1])} for code in named}
        docs[status] = {
            "description": f"{TITLES[status]}: " + ", ".join(f"`{code}`" for code in named),
            "x-error-codes": named,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "examples": examples}},
            **({"headers": HEADERS_FOR[status]} if status in HEADERS_FOR else {}),
        }
    return docs


def command_docs(status: int, *codes: str) -> dict[int | str, dict[str, Any]]:
    """A command's success response (its headers) and its problems: those every
    command on a dispute can give, plus `codes`."""
    docs = problem_docs(*COMMAND, *codes)
    docs[status] = {"headers": CREATED_HEADERS if status == 201 else COMMAND_HEADERS}
    return docs


def read_docs(*codes: str, etag: bool = False) -> dict[int | str, dict[str, Any]]:
    docs = problem_docs(*codes)
    if etag:
        docs[200] = {"headers": READ_HEADERS}
    return docs
